"""Where distances start, in a real Chromium (issue 12 item 2): her position on a tap, a map point.

Streamlit app (demonstration data) and light page (/m), in French at 375 px
and English at 1366 px.  The browser is granted a position (Playwright's
``geolocation``) next to a demonstration service in Saint-Denis (93); a spy
counts calls to ``navigator.geolocation``: none before her tap, one after.
Afterwards her position is in no URL, nowhere in the server's output and in
no file written under the server's home, data and cache folders.

Servers run on this suite's ports (8670-8679).  Set ``MAPAPP_START_SHOTS``
to a folder to keep the screenshots.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mapapp.i18n import t
from mapapp.store import demo_actors

from . import appdriver as drv
from . import harness
from .conftest import _require_chromium
from .harness import AppServer

pytestmark = pytest.mark.browser


def _target() -> tuple[str, float, float]:
    """A demonstration mobility service of Saint-Denis (93) located to its address."""
    d = demo_actors()
    rows = d[
        (d["code_insee"] == "93066")
        & (d["precision"] == "address")
        & d["obstacles"].map(lambda o: "mobilite" in list(o))
        & d["modes_accueil"].map(lambda m: "en-presentiel" in list(m))
    ]
    row = rows.iloc[0]
    return str(row["nom"]), float(row["latitude"]), float(row["longitude"])


#: She stands at that service's door (the browser's granted position).
TARGET, _LAT, _LON = _target()
HERE = {"latitude": _LAT, "longitude": _LON}
#: What the page may hold of it: rounded to 3 decimals.  None of these may leak.
NEEDLES = tuple(f"{v:.{n}f}" for n in (3, 4, 5) for v in (_LAT, _LON))
_GEO_SPY = """
(() => {
  window.__geo_calls = 0;
  const g = navigator.geolocation;
  if (!g) { return; }
  const original = g.getCurrentPosition.bind(g);
  g.getCurrentPosition = (...args) => { window.__geo_calls += 1; return original(...args); };
})();
"""
TEXT = {
    "fr": {
        "use": "Utiliser ma position",
        "ready": "Départ : votre position",
        "need": "Mobilité",
        "search": "Rechercher",
        "header": "Services les plus proches de votre position",
        "from": "depuis votre position (arrondie à environ 100 m)",
        "start_here": "Partir de ce point",
        "point_header": "Services les plus proches de ce point de la carte",
        "point_from": "depuis le point choisi sur la carte",
        "map": t("map_show", "fr"),
        "place": "Commune ou code postal",
        "light_title": "Aide près de votre position",
        "light_go": "Voir l'aide près de chez moi",
    },
    "en": {
        "use": "Use my position",
        "ready": "Start: your position",
        "need": "Mobility",
        "search": "Search",
        "header": "Nearest services to your position",
        "from": "from your position (rounded to about 100 m)",
        "start_here": "Start from this point",
        "point_header": "Nearest services to this point on the map",
        "point_from": "from the point chosen on the map",
        "map": t("map_show", "en"),
        "place": "Town or postcode",
        "light_title": "Help near your position",
        "light_go": "Show help near me",
    },
}
SIZES = {"fr": (375, 800), "en": (1366, 900)}


def _shot(page: Any, name: str) -> None:
    folder = os.environ.get("MAPAPP_START_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _port_in_range() -> int:
    import socket

    for port in range(8670, 8680):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8670-8679")


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The Streamlit app on an empty store (demonstration data), on this suite's ports."""
    _require_chromium()
    work = tmp_path_factory.mktemp("start-app")
    original = harness._free_port
    harness._free_port = _port_in_range
    try:
        server = harness.start_app(work, tiles="none", data_dir=work / "data")
    finally:
        harness._free_port = original
    yield server
    server.stop()


def _context(browser: Any, lang: str, *, js: bool = True) -> Any:
    width, height = SIZES[lang]
    context = browser.new_context(
        viewport={"width": width, "height": height},
        locale="fr-FR" if lang == "fr" else "en-GB",
        geolocation=HERE,
        permissions=["geolocation"],
        java_script_enabled=js,
        service_workers="block",
    )
    context.set_default_timeout(30_000)
    context.add_init_script(_GEO_SPY)
    return context


def _geo_calls(page: Any) -> int:
    return sum(
        int(f.evaluate("window.__geo_calls || 0")) for f in page.frames if not f.is_detached()
    )


def _english(page: Any) -> None:
    """Switch the app to English (the sidebar's language choice)."""
    page.get_by_text("English", exact=True).first.click()
    drv.wait_idle(page)


def _written_since(folders: list[Path], since: float) -> Iterator[Path]:
    for folder in folders:
        for root, dirs, files in os.walk(folder):
            # pytest's own folders, and the browser's profile (her browser, not the server)
            dirs[:] = [d for d in dirs if not d.startswith(("pytest-of-", "playwright"))]
            for name in files:
                path = Path(root) / name
                try:
                    st = path.stat()
                except OSError:
                    continue
                if path.is_file() and st.st_mtime >= since and st.st_size < 50_000_000:
                    yield path


def _no_trace(server_log: str, urls: list[str], folders: list[Path], since: float) -> None:
    for needle in NEEDLES:
        assert needle not in server_log, f"the server output holds {needle!r}"
        for url in urls:
            assert needle not in url, url
    for path in _written_since(folders, since):
        try:
            data = path.read_bytes()
        except OSError:  # gone meanwhile, or not readable as a file
            continue
        # Both halves of her position in one file (one number alone can be
        # anything: other programs share this temporary folder).
        for n in (3, 4, 5):
            pair = (f"{_LAT:.{n}f}".encode(), f"{_LON:.{n}f}".encode())
            assert not all(p in data for p in pair), f"{path} holds her position"


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_app_starts_from_her_position_only_on_her_tap(
    demo_app: AppServer, browser: Any, lang: str
) -> None:
    text = TEXT[lang]
    context = _context(browser, lang)
    log_before = len(demo_app.log_text())
    urls: list[str] = []
    try:
        page = context.new_page()
        page.on("request", lambda r: urls.append(r.url))
        drv.open_app(page, demo_app.url)
        if lang == "en":
            _english(page)
        # The button is the app's own component, in a same-origin frame.
        frame = page.frame_locator("iframe[src*='mapapp_position']")
        button = frame.get_by_role("button", name=text["use"], exact=True)
        button.wait_for()
        assert _geo_calls(page) == 0, "the position was asked for before her tap"
        button.click()
        page.get_by_text(text["ready"]).first.wait_for()
        drv.wait_idle(page)
        assert _geo_calls(page) == 1
        page.get_by_role("button", name=text["need"], exact=True).click()
        page.get_by_role("button", name=text["search"], exact=True).click()
        drv.wait_idle(page)
        page.get_by_text(text["header"]).first.wait_for()
        body = page.inner_text("body")
        assert text["from"] in body
        # The nearest mobility service is the one at her door (0.0 or 0.1 km: rounding).
        # the first card: from its title "1. …" to the next card's; its first distance
        first = re.search(r"\n1\. ([^\n]*)\n(?:(?!\n2\. )[\s\S])*?(\d+[,.]\d) km", body)
        assert first, body[:800]
        assert first.group(1) == TARGET and first.group(2)[-1] in "01", first.group(0)
        _shot(page, f"app-position-{lang}")
        urls.append(page.url)
    finally:
        context.close()
    folders = [demo_app.home, demo_app.data_dir, harness._cache_dir(), Path(tempfile.gettempdir())]
    _no_trace(demo_app.log_text()[log_before:], urls, folders, demo_app.started)


def test_a_point_clicked_on_the_map_becomes_the_start(demo_app: AppServer, browser: Any) -> None:
    lang = "en"
    text = TEXT[lang]
    context = _context(browser, lang)
    try:
        page = context.new_page()
        drv.open_app(page, demo_app.url)
        _english(page)
        page.get_by_role("button", name=text["need"], exact=True).click()
        page.get_by_role("textbox", name=text["place"], exact=True).fill("93200")
        page.get_by_role("button", name=text["search"], exact=True).click()
        drv.wait_idle(page)
        page.get_by_text("from the centre of Saint-Denis (93)").first.wait_for()
        page.get_by_text(text["map"], exact=True).click()
        drv.wait_idle(page)
        page.wait_for_selector("iframe[src*=st_folium]", timeout=90_000)
        frame = drv.map_frame(page)
        box = page.locator("iframe[src*=st_folium]").bounding_box()
        assert box
        # A tap on the map's background, in its upper-right part (away from the pins
        # and the controls).
        frame.locator(".leaflet-container").click(
            position={"x": box["width"] * 0.85, "y": box["height"] * 0.2}
        )
        drv.wait_idle(page)
        _shot(page, "app-point-click-en")
        page.get_by_role("button", name=text["start_here"]).wait_for()
        shown = page.get_by_text("Point chosen on the map:").inner_text()
        assert re.search(r"-?\d+\.\d{4}, -?\d+\.\d{4}", shown), shown
        _shot(page, "app-point-offer-en")
        page.get_by_role("button", name=text["start_here"]).click()
        drv.wait_idle(page)
        page.get_by_text(text["point_header"]).first.wait_for()
        drv.wait_idle(page, settle=1.0)
        # The point is now the start: no offer to start from it again.
        assert page.get_by_role("button", name=text["start_here"]).count() == 0
        body = page.inner_text("body")
        assert text["point_from"] in body
        assert "from the centre of Saint-Denis" not in body
        assert frame is not None
        assert "93200" not in page.url and "lat" not in page.url.split("?", 1)[-1]
        _shot(page, "app-point-en")
    finally:
        context.close()


# -- the light page ----------------------------------------------------------------


@pytest.fixture(scope="module")
def light_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    _require_chromium()
    from . import test_light

    work = tmp_path_factory.mktemp("start-light")
    started = time.time()
    original = test_light.PORTS
    test_light.PORTS = range(8670, 8680)
    try:
        server = test_light.start_light(work, work / "data")
    finally:
        test_light.PORTS = original
    server.started = started  # type: ignore[attr-defined]
    yield server
    server.stop()


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_light_page_uses_her_position_on_a_tap(
    light_demo: Any, browser: Any, lang: str
) -> None:
    text = TEXT[lang]
    context = _context(browser, lang)
    log_before = len(light_demo.log_text())
    urls: list[str] = []
    violations: list[str] = []
    try:
        page = context.new_page()
        page.on("request", lambda r: urls.append(r.url))
        page.on(
            "console", lambda m: violations.append(m.text) if "Content Security" in m.text else None
        )
        page.goto(light_demo.url + ("/m/en" if lang == "en" else "/m"))
        button = page.get_by_role("button", name=text["use"], exact=True)
        button.wait_for()  # shown by the script (hidden without it)
        assert _geo_calls(page) == 0
        page.get_by_text(text["need"], exact=True).click()
        _shot(page, f"light-form-{lang}")
        button.click()
        page.get_by_role("heading", name=text["light_title"]).wait_for()
        assert _geo_calls(page) == 1
        body = page.inner_text("body")
        assert text["from"] in body
        assert TARGET in body
        km = re.search(r"(\d+[,.]\d) km", body)
        assert km and float(km.group(1).replace(",", ".")) <= 0.1, body[:600]
        _shot(page, f"light-position-{lang}")
        urls.append(page.url)
        assert not violations, violations
        assert {u.split("/", 3)[2] for u in urls} == {light_demo.url.split("/", 3)[2]}
    finally:
        context.close()
    folders = [light_demo.data_dir, harness._cache_dir(), Path(tempfile.gettempdir())]
    _no_trace(light_demo.log_text()[log_before:], urls, folders, light_demo.started)


def test_the_light_page_without_javascript_has_no_position_button(
    light_demo: Any, browser: Any
) -> None:
    context = _context(browser, "fr", js=False)
    try:
        page = context.new_page()
        page.goto(light_demo.url + "/m")
        assert not page.get_by_role("button", name=TEXT["fr"]["use"]).is_visible()
        page.get_by_label("Commune ou code postal").fill("93200")
        page.get_by_text("Mobilité", exact=True).click()
        page.get_by_role("button", name=TEXT["fr"]["light_go"]).click()
        page.get_by_text("depuis le centre de Saint-Denis (93)").wait_for()
        assert page.url.endswith("/m")
    finally:
        context.close()
