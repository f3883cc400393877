"""The light page (/m) in Chromium at 375 px: budget, Slow 3G, quick exit, a11y, injection, leaks.

Two servers, started the documented way (``uvicorn --factory
mapapp.web.light:standalone_app --no-access-log``) on this helper's ports:

* ``demo``: an empty store, so the embedded demonstration data (realistic
  names, addresses, hours) is shown: budgets, timings, accessibility,
  screenshots;
* ``hostile``: one record per hostile payload (:mod:`hostile`), each at its
  own commune (so that a search from that commune lists it first), plus the
  confidential shelter (:data:`harness.SECRET`) at Grenoble: injection and
  leak scans.

The figures (bytes, requests, seconds) are added to the suite's notes
(``SAFETY-NOTE: light ...``) and printed at the end of the run.  Set
``MAPAPP_LIGHT_SHOTS`` to a folder to keep the screenshots.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from mapapp.schema import actors_frame
from mapapp.store import ParquetStore

from . import appdriver as drv
from . import hostile
from .harness import FIGURES, SECRET, SECRET_NEEDLES, Recorder, count_hosts, hostile_records

pytestmark = pytest.mark.browser

PORTS = range(8620, 8640)
WIDTH, HEIGHT = 375, 740
#: DevTools' "Slow 3G" preset (front_end/core/sdk/NetworkManager.ts).
SLOW_3G = {
    "offline": False,
    "latency": 400 * 5,
    "downloadThroughput": 500 * 1024 / 8 * 0.8,
    "uploadThroughput": 500 * 1024 / 8 * 0.8,
}
FIRST_SCREEN_BUDGET = 30 * 1024
RESULTS_BUDGET = 60 * 1024
READABLE_S = 3.0
NEEDS = ("Violences, séparation", "Logement, hébergement", "Garde d'enfants")
NEEDS_EN = ("Violence, separation", "Housing", "Childcare")
#: What she types in the no-trace check (oddly written: finding it proves a copy).
TYPED = "sAiNt-MaRtIn-d hErEs"
UNKNOWN = "Zorglubville-Qx7"
LOG_NEEDLES = (TYPED, UNKNOWN, "Martin-d'Hères", "38421")


# -- servers -------------------------------------------------------------------


@dataclass
class LightServer:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path
    data_dir: Path

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def _port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS}")


def _cache_dir() -> Path:
    return Path(os.environ.get("MAPAPP_CACHE_DIR") or Path.home() / ".cache" / "mapapp")


def start_light(work: Path, data_dir: Path) -> LightServer:
    """Start the light page as documented (access log off) and wait for a warm index."""
    work.mkdir(parents=True, exist_ok=True)
    port = _port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAPAPP_")}
    env.update(
        {
            "HOME": str(work / "home"),
            "MAPAPP_DATA_DIR": str(data_dir),
            "MAPAPP_CACHE_DIR": str(_cache_dir()),
            "MAPAPP_TILES": "none",
            "PYTHONUNBUFFERED": "1",
        }
    )
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "mapapp.web.light:standalone_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
    ]
    log = work / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = LightServer(f"http://127.0.0.1:{port}", proc, log, data_dir)
    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"uvicorn exited:\n{server.log_text()}")
        try:
            # A search from an empty commune box: builds nothing of hers, and
            # waits until the page answers.
            with urllib.request.urlopen(f"{server.url}/m", timeout=2) as resp:
                if resp.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    else:
        server.stop()
        raise RuntimeError(f"the light page did not answer:\n{server.log_text()}")
    # Wait for the background warm-up (index built): a search answers fast.
    body = b"place=Voiron&need=emploi"
    for _ in range(120):
        t0 = time.time()
        req = urllib.request.Request(f"{server.url}/m", data=body, method="POST")
        with urllib.request.urlopen(req, timeout=60) as resp:
            resp.read()
        if time.time() - t0 < 1.0:
            break
    return server


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LightServer]:
    work = tmp_path_factory.mktemp("light-demo")
    server = start_light(work, work / "data")
    yield server
    server.stop()


#: Communes that receive one hostile record each (far enough apart that a
#: search from one lists its own record first).
_HOSTILE_COMMUNES = 120


def _hostile_store(data_dir: Path) -> list[tuple[int, str]]:
    """One hostile record per payload at its own commune; returns (payload, INSEE code)."""
    from mapapp.geo.communes import load_geography

    communes = load_geography(_cache_dir()).communes
    big = communes[(communes["kind"] == "COM") & ~communes["plm_city"]]
    big = big.sort_values("population", ascending=False)
    chosen: list[str] = []
    for code, row in big.iterrows():
        if all(
            abs(row["lat"] - communes.at[c, "lat"]) + abs(row["lon"] - communes.at[c, "lon"]) > 0.3
            for c in chosen
        ):
            chosen.append(str(code))
        if len(chosen) == _HOSTILE_COMMUNES:
            break
    records = hostile_records()
    assert len(records) <= len(chosen)
    placed: list[tuple[int, str]] = []
    for i, (rec, code) in enumerate(zip(records, chosen, strict=False)):
        rec["code_insee"] = code
        rec["latitude"] = float(communes.at[code, "lat"]) + 0.001
        rec["longitude"] = float(communes.at[code, "lon"]) + 0.001
        placed.append((i, code))
    ParquetStore(data_dir).write_actors(actors_frame([*records, SECRET]))
    return placed


@pytest.fixture(scope="module")
def hostile_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LightServer, list[tuple[int, str]]]]:
    work = tmp_path_factory.mktemp("light-hostile")
    placed = _hostile_store(work / "data")
    server = start_light(work, work / "data")
    yield server, placed
    server.stop()


# -- pages ---------------------------------------------------------------------


@dataclass
class Net:
    """Bytes on the wire per request, from the DevTools protocol."""

    cdp: Any
    sizes: dict[str, float] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    def attach(self) -> None:
        self.cdp.on("Network.requestWillBeSent", self._sent)
        self.cdp.on("Network.responseReceived", self._received)
        self.cdp.on("Network.loadingFinished", self._finished)
        self.cdp.send("Network.enable")

    def _sent(self, ev: dict[str, Any]) -> None:
        self.urls[ev["requestId"]] = ev["request"]["url"]

    def _received(self, ev: dict[str, Any]) -> None:
        self.headers[ev["requestId"]] = {k.lower(): v for k, v in ev["response"]["headers"].items()}

    def _finished(self, ev: dict[str, Any]) -> None:
        self.sizes[ev["requestId"]] = ev["encodedDataLength"]

    def mark(self) -> set[str]:
        return set(self.urls)

    def since(self, mark: set[str]) -> tuple[int, int]:
        """(requests, bytes transferred) since ``mark``."""
        ids = [i for i in self.urls if i not in mark]
        return len(ids), int(sum(self.sizes.get(i, 0) for i in ids))

    def throttle(self) -> None:
        self.cdp.send("Network.emulateNetworkConditions", SLOW_3G)


@contextlib.contextmanager
def phone(browser: Any, *, js: bool = True, lang: str = "fr-FR") -> Iterator[tuple[Recorder, Net]]:
    context = browser.new_context(
        viewport={"width": WIDTH, "height": HEIGHT},
        locale=lang,
        java_script_enabled=js,
        service_workers="block",
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    rec = Recorder(page)
    rec.attach()
    net = Net(context.new_cdp_session(page))
    net.attach()
    try:
        yield rec, net
    finally:
        count_hosts(rec)
        context.close()


def _shot(page: Any, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("MAPAPP_LIGHT_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _submit(page: Any, click: Any) -> None:
    """Run ``click`` (which submits a form) and wait until the page was replaced.

    Works both ways the page answers: a navigation (no JavaScript) or the
    script swapping the body in place.
    """
    page.evaluate("document.body.dataset.gen = 'old'")
    click()
    page.locator("body[data-gen=old]").wait_for(state="detached", timeout=30_000)
    page.wait_for_load_state("domcontentloaded")


def _search(page: Any, place: str, needs: tuple[str, ...], *, button: str) -> float:
    """Type the place, tick the needs, tap the button; seconds until the results are readable."""
    page.get_by_role("textbox").first.fill(place)
    for need in needs:
        page.get_by_role("checkbox", name=need, exact=True).check()
    t0 = time.perf_counter()
    page.get_by_role("button", name=button).click()
    page.locator("h2#need-1").wait_for(state="visible", timeout=30_000)
    return time.perf_counter() - t0


def _no_trace_in_browser(rec: Recorder, net: Net, url: str) -> None:
    page = rec.page
    assert page.context.cookies() == []
    storage = drv.storage_items(page.context, page, url)
    assert storage == {"local": [], "session": []}, storage
    for rid, headers in net.headers.items():
        if urlsplit(net.urls.get(rid, "")).hostname == "127.0.0.1":
            assert headers.get("cache-control") == "no-store", net.urls[rid]
            assert headers.get("referrer-policy") == "no-referrer", net.urls[rid]
            assert "set-cookie" not in headers
    assert set(rec.hosts) <= {"127.0.0.1"}, set(rec.hosts)
    assert urlsplit(page.url).path in {"/m", "/m/en"} and not urlsplit(page.url).query


# -- budget, Slow 3G, the whole flow ------------------------------------------------


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_commune_needs_results_on_slow_3g(
    demo: LightServer, browser: Any, tmp_path: Path, js: bool
) -> None:
    with phone(browser, js=js) as (rec, net):
        page = rec.page
        net.throttle()
        mark = net.mark()
        t0 = time.perf_counter()
        page.goto(f"{demo.url}/m", wait_until="commit")
        page.get_by_role("button", name="Voir l'aide près de chez moi").wait_for()
        first_s = time.perf_counter() - t0
        page.wait_for_load_state("load")
        first_n, first_bytes = net.since(mark)
        if js:
            _shot(page, "light-first-fr", tmp_path)

        mark = net.mark()
        readable_s = _search(page, "Grenoble", NEEDS, button="Voir l'aide près de chez moi")
        page.wait_for_load_state("load")
        res_n, res_bytes = net.since(mark)
        text = page.inner_text("main")
        assert "Aide près de Grenoble (38)" in text
        for need in NEEDS:
            assert need in text
        assert page.locator("ul.svc > li").count() == 3 * len(NEEDS)
        calls = page.locator("ul.svc a[href^='tel:']")
        assert calls.count() == 3 * len(NEEDS)
        if js:
            _shot(page, "light-results-fr", tmp_path)
        _no_trace_in_browser(rec, net, demo.url)
        # No map until asked: nothing of Leaflet was loaded.
        assert not [u for u in rec.urls if "leaflet" in u or "map.js" in u], rec.urls

    FIGURES.notes.append(
        f"light {'js' if js else 'nojs'} Slow3G 375px: first screen {first_bytes} B in "
        f"{first_n} requests, form usable after {first_s:.2f} s; results {res_bytes} B in "
        f"{res_n} requests, readable {readable_s:.2f} s after the tap"
    )
    assert first_bytes <= FIRST_SCREEN_BUDGET
    assert res_bytes <= RESULTS_BUDGET
    assert readable_s <= READABLE_S
    assert first_n <= 2 and res_n <= 1


def test_english_flow_and_screenshots(demo: LightServer, browser: Any, tmp_path: Path) -> None:
    with phone(browser, lang="en-GB") as (rec, net):
        page = rec.page
        page.goto(f"{demo.url}/m")
        page.get_by_role("link", name="English").click()
        page.wait_for_url("**/m/en")
        assert page.evaluate("document.documentElement.lang") == "en"
        _shot(page, "light-first-en", tmp_path)
        _search(page, "93200", NEEDS_EN, button="Show help near me")
        text = page.inner_text("main")
        assert "Help near Saint-Denis (93)" in text
        assert "Aide" not in text and "Appeler" not in text
        _shot(page, "light-results-en", tmp_path)
        # Back to French with the same search, by the language button.
        page.get_by_role("button", name="Français").click()
        page.get_by_text("Aide près de Saint-Denis (93)").wait_for()
        _no_trace_in_browser(rec, net, demo.url)


# -- quick exit ------------------------------------------------------------------------


def _exit_and_back(rec: Recorder, app_url: str) -> list[str]:
    page = rec.page
    page.wait_for_url(f"{drv.NEUTRAL_PREFIX}**", timeout=10_000)
    assert "Prévisions météo" in page.inner_text("body")
    app = urlsplit(app_url).netloc
    backs: list[str] = []
    for _ in range(3):
        with contextlib.suppress(Exception):
            page.go_back(wait_until="commit", timeout=5_000)
        page.wait_for_timeout(300)
        if urlsplit(page.url).netloc == app:
            # Without JavaScript the results page stays in history, and Back
            # makes the browser send its form again: the page must not show
            # her search again (an empty first screen says why).
            page.wait_for_load_state("domcontentloaded")
            body = page.inner_text("body") if page.locator("body").count() else ""
            assert "Grenoble" not in body, f"Back shows her search again: {page.url}"
            backs.append(body)
    return backs


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_quick_exit_leaves_nothing_behind(demo: LightServer, browser: Any, js: bool) -> None:
    with phone(browser, js=js) as (rec, _net):
        page = rec.page
        drv.route_neutral_site(page.context)
        rec.expected_hosts.add(urlsplit(drv.NEUTRAL_PREFIX).hostname or "")
        page.goto(f"{demo.url}/m")
        # First in keyboard order, and visible on the phone screen.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == drv.QUICK_EXIT_ID
        box = page.locator(f"#{drv.QUICK_EXIT_ID}").bounding_box()
        assert box is not None and box["x"] + box["width"] <= WIDTH and box["y"] >= 0
        _search(page, "Grenoble", NEEDS[:1], button="Voir l'aide près de chez moi")
        if js:
            page.evaluate("localStorage.setItem('k', 'x'); sessionStorage.setItem('k', 'x')")
        page.get_by_role("link", name=drv.QUICK_EXIT_NAME).click()
        backs = _exit_and_back(rec, demo.url)
        if not js:
            # Positive control: Back did reach the page (and found no search).
            assert any("jamais ré-affichée" in b for b in backs), backs
        if js:
            # One history entry for the whole visit: Back never returns to the page.
            assert urlsplit(page.url).netloc != urlsplit(demo.url).netloc
            left = drv.storage_items(page.context, page, demo.url)
            assert left == {"local": [], "session": []}
        assert page.context.cookies() == []


# -- accessibility ------------------------------------------------------------------------


def _serious(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {len(v['nodes'])} nodes"
        for v in result.response["violations"]
        if v.get("impact") in {"serious", "critical"}
    ]


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_axe_no_serious_violation_at_375px(demo: LightServer, browser: Any, lang: str) -> None:
    path = "/m/en" if lang == "en" else "/m"
    needs, button = (
        (NEEDS_EN, "Show help near me") if lang == "en" else (NEEDS, "Voir l'aide près de chez moi")
    )
    with phone(browser) as (rec, _net):
        page = rec.page
        page.goto(f"{demo.url}{path}")
        first = _serious(page)
        _search(page, "Voiron", needs, button=button)
        results = _serious(page)
        exit_name = "Quick exit" if lang == "en" else drv.QUICK_EXIT_NAME
        assert page.get_by_role("link", name=exit_name).count() == 1
    assert first == [] and results == [], (first, results)


# -- hostile data, hostile input, leaks -------------------------------------------------


def _count_bad(rec: Recorder) -> dict[str, int]:
    page = rec.page
    texts = [t for _, t in drv.frame_texts(page)] + [
        str(page.evaluate("document.body.textContent"))
    ]
    hrefs = page.evaluate(
        "Array.from(document.querySelectorAll('a[href],form[action],[src]'))"
        ".map(e => e.getAttribute('href') || e.getAttribute('src') || e.getAttribute('action'))"
    )
    unsafe = [
        h
        for h in hrefs
        if h and urlsplit(h).scheme and urlsplit(h).scheme not in {"http", "https", "tel", "sms"}
    ]
    return {
        "executed": drv.canaries(page),
        "dialogs": len(rec.dialogs),
        "template_evaluations": len(drv.template_hits(texts)),
        "page_errors": len(rec.page_errors),
        "unsafe_links": len(unsafe),
    }


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_hostile_records_and_inputs_are_text(
    hostile_server: tuple[LightServer, list[tuple[int, str]]], browser: Any, js: bool
) -> None:
    server, placed = hostile_server
    totals = dict.fromkeys(("executed", "dialogs", "template_evaluations", "page_errors"), 0)
    totals["unsafe_links"] = 0
    shown: set[int] = set()
    sentinels: set[str] = set()
    with phone(browser, js=js) as (rec, _net):
        page = rec.page
        page.goto(f"{server.url}/m")
        for i, code in placed:
            # The record's own commune, chosen by its code (the "choose" form's field).
            page.evaluate(
                """code => { const f = document.querySelector('form');
                   const c = document.createElement('input'); c.type = 'hidden';
                   c.name = 'code'; c.value = code; f.appendChild(c);
                   f.querySelector('input[name=need]').checked = true; }""",
                code,
            )
            # A real tap (a replayed form without one is not answered).
            _submit(page, page.locator("button[type=submit]").first.click)
            text = str(page.evaluate("document.body.textContent"))
            assert f"H{i:03d}" in text, f"record {i} not listed at its commune {code}"
            shown.add(i)
            sentinels |= {s for s in hostile.TEXT_SENTINELS if s in text}
            for k, v in _count_bad(rec).items():
                totals[k] += v
            page.goto(f"{server.url}/m")
        # Every payload typed in the place box (echoed in it; the same parser
        # reads the page with or without the script: typed once, without).
        for payload in hostile.PAYLOADS if not js else ():
            box = page.get_by_role("textbox").first
            box.fill(payload[:80])
            button = page.get_by_role("button", name="Voir l'aide près de chez moi").last
            _submit(page, button.click)
            for k, v in _count_bad(rec).items():
                totals[k] += v
    FIGURES.payloads_tried += len(shown)
    FIGURES.inputs_tried += 0 if js else len(hostile.PAYLOADS)
    FIGURES.executed += totals["executed"] + totals["dialogs"]
    FIGURES.dialogs += totals["dialogs"]
    FIGURES.template_evaluations += totals["template_evaluations"]
    FIGURES.notes.append(f"light hostile ({'js' if js else 'nojs'}): {totals}, shown={len(shown)}")
    assert totals == dict.fromkeys(totals, 0), totals
    assert len(shown) == len(hostile.PAYLOADS)
    assert sentinels == set(hostile.TEXT_SENTINELS), "payloads not shown as text"


@pytest.mark.parametrize("js", [True, False], ids=["js", "nojs"])
def test_confidential_record_never_reaches_the_browser(
    hostile_server: tuple[LightServer, list[tuple[int, str]]], browser: Any, js: bool
) -> None:
    server, _placed = hostile_server
    blobs: list[tuple[str, bytes]] = []
    with phone(browser, js=js) as (rec, _net):
        page = rec.page
        for path, place in (("/m", "Grenoble"), ("/m/en", "38000"), ("/m", "Grenoble 38")):
            page.goto(f"{server.url}{path}")
            page.get_by_role("textbox").first.fill(place)
            for box in page.get_by_role("checkbox").all():
                box.check()
            _submit(page, page.locator("button[type=submit]").first.click)
            blobs.append((f"DOM {path} {place}", page.content().encode("utf-8")))
        # The language switch re-posts the search.
        _submit(page, page.get_by_role("button", name="English").click)
        blobs.append(("DOM after language switch", page.content().encode("utf-8")))
        card = page.locator("ul.svc > li", has_text=str(SECRET["nom"])).first.inner_text()
        # The map, on request.
        page.get_by_role("button", name="Show these places on a map").click()
        page.wait_for_load_state("load")
        if js:
            page.locator("path.leaflet-interactive").first.wait_for(state="attached")
        blobs.append(("DOM of the map", page.content().encode("utf-8")))
        blobs += [(f"response {u}", b) for u, b in rec.response_bodies()]
        blobs.append(("address bar", page.url.encode()))
    hits = drv.needle_hits(blobs, SECRET_NEEDLES)
    FIGURES.bytes_scanned += sum(len(b) for _, b in blobs)
    assert hits == [], hits
    # Positive control: the shelter is listed, at its commune, with 3919 and no distance.
    assert "3919" in card and "in the commune of Grenoble" in card, card  # at its commune
    assert " km" not in card, card
    everything = b"".join(b for _, b in blobs)
    assert str(SECRET["nom"]).encode("utf-8") in everything  # the scan sees the pages


def test_the_server_log_holds_nothing_of_her_search(demo: LightServer, browser: Any) -> None:
    with phone(browser) as (rec, _net):
        page = rec.page
        page.goto(f"{demo.url}/m")
        _search(page, TYPED, NEEDS[:2], button="Voir l'aide près de chez moi")
        assert "Martin-d'Hères" in page.inner_text("main")
        page.goto(f"{demo.url}/m")
        page.get_by_role("textbox").first.fill(UNKNOWN)
        page.get_by_role("button", name="Voir l'aide près de chez moi").click()
        page.get_by_role("alert").wait_for()
    time.sleep(0.5)
    log = demo.log_text()
    assert "Uvicorn running" in log or "Application startup complete" in log  # the log is read
    for needle in LOG_NEEDLES:
        assert needle not in log, f"{needle!r} is in the server log"
    assert "POST" not in log and "/m" not in log  # access log off, as documented


def test_the_map_on_request_shows_hostile_names_as_text(
    hostile_server: tuple[LightServer, list[tuple[int, str]]], browser: Any, tmp_path: Path
) -> None:
    server, placed = hostile_server
    totals = dict.fromkeys(("executed", "dialogs", "template_evaluations", "page_errors"), 0)
    totals["unsafe_links"] = 0
    tips_seen = 0
    with phone(browser) as (rec, _net):
        page = rec.page
        for i, code in placed[::4]:
            page.goto(f"{server.url}/m")
            page.evaluate(
                """code => { const f = document.querySelector('form');
                   const c = document.createElement('input'); c.type = 'hidden';
                   c.name = 'code'; c.value = code; f.appendChild(c);
                   f.querySelector('input[name=need]').checked = true; }""",
                code,
            )
            _submit(page, page.locator("button[type=submit]").first.click)
            before = len(rec.urls)
            page.get_by_role("button", name="Voir ces lieux sur une carte").click()
            page.locator("path.leaflet-interactive").first.wait_for(state="attached")
            assert any(u.endswith("/m/leaflet.js") for u in rec.urls[before:])
            tips = page.evaluate(
                """() => { const out = [];
                   window.lightMap.eachLayer(l => { if (l.getTooltip && l.getTooltip()) {
                     l.openTooltip(); } });
                   document.querySelectorAll('.leaflet-tooltip').forEach(t => out.push(
                     [t.innerText, Array.from(t.querySelectorAll('*')).map(e => e.tagName)]));
                   return out; }"""
            )
            assert any(f"H{i:03d}" in text for text, _ in tips), f"record {i} not on the map"
            assert all(set(tags) <= {"SPAN"} for _, tags in tips), tips
            tips_seen += len(tips)
            for k, v in _count_bad(rec).items():
                totals[k] += v
        _shot(page, "light-map-hostile", tmp_path)
    FIGURES.maps_checked += len(placed[::4])
    FIGURES.notes.append(f"light map: {totals}, tooltips={tips_seen}")
    assert totals == dict.fromkeys(totals, 0), totals
    assert set(rec.hosts) <= {"127.0.0.1"}
