"""Confidential addresses (DOMAIN.md safety rule 1), in a real browser.

The test store holds one confidential shelter (:data:`harness.SECRET`). After
a session that shows it every way the app can (result card, details, map,
clicked marker, both exports, the safety page, the coverage page and its
exports), its street, exact coordinates (as text and as binary floats),
private phone, e-mail and SIRET must be found in 0 bytes of: every frame's
DOM, every HTTP response body, every WebSocket frame (which carries the map's
component arguments) and every downloaded file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from . import appdriver as drv
from .harness import FIGURES, RESULTS_LIMIT, SECRET, SECRET_NEEDLES, AppServer, Recorder

pytestmark = pytest.mark.browser


def _downloads(page: Any, into: list[tuple[str, bytes]]) -> int:
    buttons = page.locator("[data-testid=stDownloadButton] button")
    for i in range(buttons.count()):
        with page.expect_download(timeout=60_000) as info:
            buttons.nth(i).click()
        download = info.value
        into.append((f"download {download.suggested_filename}", Path(download.path()).read_bytes()))
    return int(buttons.count())


def _snapshot(page: Any, into: list[tuple[str, bytes]], where: str) -> None:
    for url, html in drv.frame_htmls(page):
        into.append((f"DOM of {url} ({where})", html.encode("utf-8")))


def _coverage(page: Any, server: AppServer, blobs: list[tuple[str, bytes]]) -> bool:
    """Analyse the Isère on the coverage page (when installed); keep what it shows."""
    drv.open_app(page, server.url)
    hrefs = page.evaluate("Array.from(document.querySelectorAll('a')).map(a => a.href)")
    if not any(h.rstrip("/").endswith("/couverture") for h in hrefs):
        return False
    drv.open_app(page, server.url, "couverture")
    box = page.get_by_role("combobox", name="Territoire")
    option = page.get_by_role("option", name=re.compile(r"38 Is[èe]re"))
    for _ in range(10):
        box.click()
        page.keyboard.insert_text("Isère")
        try:
            option.first.click(timeout=1_500)
            break
        except Exception:
            page.keyboard.press("Escape")
    page.get_by_role("button", name="Analyser").click()
    page.locator("[data-testid=stDownloadButton]").first.wait_for(timeout=60_000)
    drv.wait_idle(page)
    _snapshot(page, blobs, "coverage")
    n = _downloads(page, blobs)
    _snapshot(page, blobs, "coverage after downloads")
    assert n >= 1, "the coverage page offered no export"
    return True


def test_confidential_record_never_reaches_the_browser(
    app_server: AppServer, desktop_session: Recorder
) -> None:
    page = desktop_session.page
    blobs: list[tuple[str, bytes]] = []

    drv.open_app(page, app_server.url)
    drv.search(page, "Grenoble", limit=RESULTS_LIMIT, expect=RESULTS_LIMIT)
    # The shelter is listed, at its commune, with the referral line only.
    name = page.get_by_text(str(SECRET["nom"]), exact=False)
    assert name.count() >= 1, "the confidential shelter is not listed at all"
    card = name.first.locator("xpath=ancestor::div[@data-testid='stVerticalBlock'][1]")
    card_text = card.first.inner_text()
    assert "3919" in card_text
    card.first.locator("[data-testid=stExpander] summary").first.click()
    drv.wait_idle(page)
    _snapshot(page, blobs, "results")

    # On the map: its marker sits on the commune point; click it.
    frame = drv.map_frame(page, markers=RESULTS_LIMIT + 1)
    drv.open_all_tooltips(frame)
    pin = frame.locator(".mapapp-pin").filter(has_text=re.compile(r"^1$"))
    pin.first.dispatch_event("click")
    drv.wait_idle(page, settle=1.0)
    _snapshot(page, blobs, "marker clicked")
    assert _downloads(page, blobs) >= 2

    drv.open_app(page, app_server.url, "securite")
    _snapshot(page, blobs, "safety page")
    covered = _coverage(page, app_server, blobs)

    # Everything the browser received.
    blobs += [(f"response {url}", body) for url, body in desktop_session.response_bodies()]
    blobs += [(f"websocket frame {i}", f) for i, f in enumerate(desktop_session.ws_frames)]
    blobs.append(("address bar", page.url.encode("utf-8")))

    scanned = sum(len(b) for _, b in blobs)
    hits = drv.needle_hits(blobs, SECRET_NEEDLES)
    leaked = sum(
        len(SECRET_NEEDLES[h.split(" x")[0]]) * int(h.split(" x")[1].split(" ")[0]) for h in hits
    )
    FIGURES.bytes_scanned += scanned
    FIGURES.bytes_leaked += leaked
    if not covered:
        FIGURES.notes.append("coverage page absent: not scanned")
    assert hits == [], f"confidential data reached the browser: {hits[:10]}"

    # Positive control: the scan does see map data (a public record's point
    # travels to the browser) and the shelter's public fields.
    everything = b"\n".join(b for _, b in blobs)
    assert b"45.183" in everything, "the scan missed the map data: it proves nothing"
    assert str(SECRET["nom"]).encode("utf-8") in everything
