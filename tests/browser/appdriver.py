"""How the browser tests drive the app and read what the browser holds.

Selectors are the app's accessible names (French UI), so a test breaks when
what a person sees changes, not when Streamlit's markup does.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from typing import Any

from . import hostile

PLACE_BOX = "Commune ou code postal"
SEARCH_BUTTON = "Rechercher"
MORE_FILTERS = "Plus de filtres"
LIMIT_BOX = "Nombre de résultats"
EDIT_BUTTON = "Modifier"
SHOW_MAP = "Voir la carte"
MAP_BACKGROUND = "Fond de carte"
QUICK_EXIT_ID = "mapapp-quick-exit"
QUICK_EXIT_NAME = "Quitter vite"
#: Where the quick exit sends the person (mapapp/ui/chrome.py QUICK_EXIT_URL).
NEUTRAL_PREFIX = "https://www.google.com/"
NEUTRAL_BODY = "<!doctype html><meta charset=utf-8><title>Météo</title><p>Prévisions météo</p>"
EMERGENCY_HREFS = (
    "tel:17",
    "tel:15",
    "tel:115",
    "tel:112",
    "sms:114",
    "tel:3919",
    "tel:080030030",
)

_TEMPLATE_RE = re.compile(
    "|".join(rf"(?<![\d.]){re.escape(r)}(?![\d])" for r in hostile.TEMPLATE_RESULTS)
)


def open_app(page: Any, url: str, path: str = "") -> None:
    """Load a view and wait until the quick exit and the page content are drawn."""
    page.goto(f"{url}/{path}".rstrip("/") if path else url)
    page.wait_for_selector(f"#{QUICK_EXIT_ID}", state="attached")
    page.wait_for_selector("[data-testid=stMainBlockContainer]")
    wait_idle(page)


def wait_idle(page: Any, *, settle: float = 0.3, timeout: float = 30.0) -> None:
    """Wait until Streamlit has finished running the script (no status widget)."""
    deadline = time.time() + timeout
    time.sleep(settle)
    while time.time() < deadline:
        running = page.locator("[data-testid=stStatusWidget]").count()
        if not running:
            return
        time.sleep(0.1)


def place_box(page: Any) -> Any:
    return page.get_by_role("textbox", name=PLACE_BOX, exact=True)


def set_limit(page: Any, limit: int) -> None:
    """Open "Plus de filtres" and choose the number of results."""
    page.get_by_text(MORE_FILTERS, exact=True).click()
    box = page.get_by_role("combobox", name=LIMIT_BOX)
    option = page.get_by_role("option", name=str(limit), exact=True)
    for _ in range(10):  # the expander may still be opening: retry
        box.click()
        page.keyboard.press("ArrowDown")  # opens the list of choices
        try:
            option.click(timeout=1_500)
            break
        except Exception:
            page.keyboard.press("Escape")
    if box.input_value() != str(limit):
        raise AssertionError(f"could not choose {limit} results (got {box.input_value()!r})")


def submit_place(page: Any, text: str, *, settle: float = 0.3) -> None:
    """Type ``text`` in the place box and press "Rechercher" (unfolding the form if needed)."""
    box = place_box(page)
    edit = page.get_by_role("button", name=EDIT_BUTTON, exact=True)
    box.or_(edit).first.wait_for()
    if not box.count():
        edit.click()
        wait_idle(page)
        box.wait_for()
    box.fill(text)
    page.get_by_role("button", name=SEARCH_BUTTON, exact=True).click()
    wait_idle(page, settle=settle)


def search(page: Any, place: str, *, limit: int | None = None, expect: int | None = None) -> None:
    """Search around ``place``; wait for ``expect`` results when given."""
    if limit is not None:
        set_limit(page, limit)
    submit_place(page, place)
    if expect is not None:
        page.get_by_text(f"{expect} services trouvés").wait_for()
    wait_idle(page)


def map_frame(page: Any, *, markers: int | None = None, timeout: float = 20.0) -> Any:
    """The results map's frame, once Leaflet has drawn ``markers`` markers.

    The map is drawn on demand: "Voir la carte" is switched on when it is not yet.
    """
    if not page.locator("iframe[src*=st_folium]").count():
        page.get_by_text(SHOW_MAP, exact=True).click()
        wait_idle(page)
    # The component's frame loads its scripts after the page: slow on a busy machine.
    page.wait_for_selector("iframe[src*=st_folium]", timeout=90_000)
    deadline = time.time() + timeout
    while time.time() < deadline:
        frames = [f for f in page.frames if "st_folium" in f.url]
        if frames:
            frame = frames[-1]
            try:
                n = frame.evaluate("document.querySelectorAll('.leaflet-marker-icon').length")
            except Exception:  # frame reloading
                n = -1
            if (markers is None and n >= 0) or n == markers:
                return frame
        time.sleep(0.2)
    raise AssertionError(f"the map did not draw {markers} markers within {timeout} s")


def map_background_on(page: Any) -> None:
    """Switch the map background on (off until she asks, issue 13)."""
    page.get_by_text(MAP_BACKGROUND, exact=True).click()
    wait_idle(page)


def open_all_tooltips(frame: Any) -> list[str]:
    """Open every marker tooltip of the map and return their texts."""
    return list(
        frame.evaluate(
            """() => {
              const out = [];
              window.map.eachLayer(l => { if (l.getTooltip && l.getTooltip()) { l.openTooltip(); } });
              document.querySelectorAll('.leaflet-tooltip').forEach(t => out.push(t.innerText));
              return out;
            }"""
        )
    )


def tooltip_elements(frame: Any) -> list[str]:
    """Tag names of every element inside the open tooltips (should be plain divs)."""
    return list(
        frame.evaluate(
            "Array.from(document.querySelectorAll('.leaflet-tooltip *')).map(e => e.tagName)"
        )
    )


def canaries(page: Any) -> int:
    """How many frames have ``window.__pwned`` set (a payload ran there)."""
    hit = 0
    for frame in page.frames:
        try:
            if frame.evaluate(f"typeof window.{hostile.CANARY} !== 'undefined'"):
                hit += 1
        except Exception:  # detached or cross-origin frame
            continue
    return hit


def frame_texts(page: Any) -> list[tuple[str, str]]:
    """(frame url, visible text + inline scripts) of every frame."""
    out: list[tuple[str, str]] = []
    for frame in page.frames:
        try:
            text = frame.evaluate(
                "(document.body ? document.body.innerText : '') + '\\n' + "
                "Array.from(document.scripts).map(s => s.text).join('\\n')"
            )
        except Exception:
            continue
        out.append((frame.url, str(text)))
    return out


def frame_htmls(page: Any) -> list[tuple[str, str]]:
    """(frame url, serialised DOM) of every frame."""
    out: list[tuple[str, str]] = []
    for frame in page.frames:
        try:
            out.append((frame.url, frame.content()))
        except Exception:
            continue
    return out


def template_hits(texts: Iterable[str]) -> list[str]:
    """Results of evaluated template payloads found in ``texts``."""
    hits: list[str] = []
    for text in texts:
        hits.extend(m.group(0) for m in _TEMPLATE_RE.finditer(text))
    return hits


def needle_hits(blobs: Iterable[tuple[str, bytes]], needles: dict[str, bytes]) -> list[str]:
    """``"<needle name> in <blob name>"`` for every needle found in every blob."""
    hits: list[str] = []
    for name, blob in blobs:
        for key, needle in needles.items():
            count = blob.count(needle)
            if count:
                hits.append(f"{key} x{count} in {name}")
    return hits


def route_neutral_site(context: Any) -> None:
    """Answer the neutral exit site locally (the test machine has no internet)."""
    context.route(
        f"{NEUTRAL_PREFIX}**",
        lambda route: route.fulfill(
            status=200, content_type="text/html; charset=utf-8", body=NEUTRAL_BODY
        ),
    )


def storage_items(context: Any, page: Any, origin: str) -> dict[str, list[list[str]]]:
    """localStorage and sessionStorage entries of ``origin`` in this tab, via DevTools.

    Read without loading the app again (which would write its own keys).
    """
    cdp = context.new_cdp_session(page)
    cdp.send("DOMStorage.enable")
    out: dict[str, list[list[str]]] = {}
    for kind, is_local in (("local", True), ("session", False)):
        storage_id = {"securityOrigin": origin, "isLocalStorage": is_local}
        try:
            items = cdp.send("DOMStorage.getDOMStorageItems", {"storageId": storage_id})
            out[kind] = list(items.get("entries", []))
        except Exception:  # no storage area was ever created for that origin
            out[kind] = []
    cdp.detach()
    return out
