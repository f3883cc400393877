"""Benchmark: how fast the web app shows its first map, and answers a search, in Chromium.

Run: ``python bench/bench_app.py [--screenshots DIR]`` (or ``python bench/run.py app``).
Needs Debian's Chromium at ``/usr/bin/chromium`` (``apt-get install chromium``).

What it does: starts ``streamlit run streamlit_app.py --server.headless true`` on a
free localhost port with an empty store (so the embedded demo data is shown) and
no map tiles (nothing is fetched from the internet), waits for
``/_stcore/health``, then drives headless Chromium with Playwright:

- ``app_first_render_s``: on a freshly started server (its first session pays
  for the imports), from opening the page to the search form being usable
  (the map is drawn only when she asks for it); target ≤ 3 s (PERFORMANCE.md).
- ``app_warm_render_s``: the same for a second visitor of the running server.
- ``app_search_render_s``: from pressing "Rechercher" (Saint-Denis 93, childcare)
  to the first result card.
- ``app_map_on_demand_s``: from "Voir la carte" to the first numbered marker.

Each is the median over ``--runs`` fresh servers (default 3): the machine is
shared and noisy.
- ``map_payload_bytes``: HTML size of the map for the largest result set the UI
  offers (50 results + the search point), built in-process; target ≤ 1.5 MB.
- ``app_rss_mb``: resident memory of the server after the search.

``--screenshots DIR`` also saves desktop (1280x900) and phone (390x844) PNGs.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'


def free_port() -> int:
    """A free TCP port on localhost."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(port: int, data_dir: Path) -> subprocess.Popen[bytes]:
    """Start the app with an empty store and no tiles; output goes to a log file."""
    env = {
        **os.environ,
        "MAPAPP_DATA_DIR": str(data_dir),
        "MAPAPP_TILES": "none",
        "MAPAPP_CACHE_DIR": os.environ.get("MAPAPP_CACHE_DIR", "/tmp/mcache"),
    }
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "streamlit_app.py"),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
    ]
    log = open(data_dir / "server.log", "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_health(base: str, timeout: float = 60.0) -> None:
    """Block until ``/_stcore/health`` answers ``ok``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"the app did not answer on {base} within {timeout} s")


def rss_mb(pid: int) -> float:
    """Resident memory of a process in MB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def largest_map_bytes() -> int:
    """HTML size of the map for the largest result set the UI offers."""
    from mapapp.geo.communes import load_geography
    from mapapp.render.search_map import MapPoint, map_html_bytes, results_map
    from mapapp.search import SearchIndex, SearchQuery
    from mapapp.settings import Settings
    from mapapp.ui.search_page import LIMIT_CHOICES

    s = Settings.from_env()
    geo = load_geography(s.cache_dir)
    from mapapp.catalog import load_public_actors

    index = SearchIndex(load_public_actors(s, communes=geo.communes).actors)
    res = index.nearest(SearchQuery(lat=48.93, lon=2.36, limit=max(LIMIT_CHOICES)))
    points = [
        MapPoint(r.latitude, r.longitude, f"{i + 1}. {r.nom}", i + 1)
        for i, r in enumerate(res.itertuples())
    ]
    m = results_map(
        points,
        tiles=s.tiles or "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        attribution=s.tiles_attribution,
        search_point=MapPoint(48.93, 2.36, "Saint-Denis (93)"),
        leaflet_base="../x/leaflet",
    )
    return map_html_bytes(m)


def _first_map(page: Page, base: str) -> float:
    """From opening the page to its search form (the map is drawn only when she asks, issue 13)."""
    t0 = time.perf_counter()
    page.goto(base)
    page.get_by_role("textbox", name="Commune ou code postal").wait_for(timeout=30_000)
    page.get_by_role("button", name="Rechercher").wait_for(timeout=30_000)
    return time.perf_counter() - t0


def drive(base: str, shots: Path | None) -> dict[str, float]:
    """Open the app in Chromium, time the first map and one search."""
    from playwright.sync_api import sync_playwright

    out: dict[str, float] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        out["app_first_render_s"] = _first_map(page, base)
        # Let the first session finish warming the index, as a person typing would.
        page.wait_for_timeout(3000)
        out["app_warm_render_s"] = _first_map(browser.new_page(), base)
        frame = page.frame_locator(MAP_IFRAME)
        if shots:
            page.screenshot(path=str(shots / "desktop-start.png"), full_page=True)

        page.get_by_role("textbox", name="Commune ou code postal").fill("Saint-Denis 93")
        page.get_by_role("button", name="Garde d'enfants").click()
        t1 = time.perf_counter()
        page.get_by_role("button", name="Rechercher").click()
        page.get_by_text("1. Crèche", exact=False).first.wait_for(timeout=30_000)
        out["app_search_render_s"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        page.get_by_text("Voir la carte", exact=True).click()
        frame.locator(".mapapp-pin").first.wait_for(timeout=90_000)
        out["app_map_on_demand_s"] = time.perf_counter() - t2
        if shots:
            page.wait_for_timeout(500)
            page.screenshot(path=str(shots / "desktop-results.png"), full_page=True)
            phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
            phone.goto(base)
            phone.get_by_role("textbox", name="Commune ou code postal").wait_for(timeout=30_000)
            phone.wait_for_timeout(800)
            phone.screenshot(path=str(shots / "phone-start.png"))
            phone.get_by_role("textbox", name="Commune ou code postal").fill("93200")
            phone.get_by_role("button", name="Violences, séparation").click()
            phone.get_by_role("button", name="Rechercher").click()
            phone.get_by_text("1. ", exact=False).first.wait_for(timeout=30_000)
            phone.wait_for_timeout(800)
            phone.screenshot(path=str(shots / "phone-results.png"), full_page=True)
        browser.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshots", type=Path, help="folder for PNG screenshots")
    parser.add_argument("--runs", type=int, default=3, help="fresh servers to measure")
    args = parser.parse_args(argv)
    if args.screenshots:
        args.screenshots.mkdir(parents=True, exist_ok=True)
    print(f"map_payload_bytes: {largest_map_bytes()}", flush=True)
    results: dict[str, list[float]] = {}
    for run in range(args.runs):
        shots = args.screenshots if run == 0 else None
        for name, value in _one_server(shots).items():
            results.setdefault(name, []).append(value)
    for name, values in results.items():
        print(f"{name}: {statistics.median(values):.2f}", flush=True)
    return 0


def _one_server(shots: Path | None) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="mapapp-bench-") as tmp:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        t0 = time.perf_counter()
        proc = start_server(port, Path(tmp))
        try:
            wait_health(base)
            out = {"app_server_health_s": time.perf_counter() - t0}
            out.update(drive(base, shots))
            out["app_rss_mb"] = rss_mb(proc.pid)
            return out
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    sys.exit(main())
