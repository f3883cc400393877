"""No injected text runs (DOMAIN.md safety rule 5), in a real browser.

Every hostile payload of :mod:`hostile` sits in every text field of one
imported record (name, description, address, phone, e-mail, website, hours,
publics...), and is typed into the search inputs.  With the results list, the
details, the map (tooltips opened, a marker clicked) and the exports all
shown, the tests count: dialogs opened, frames where ``window.__pwned`` got
set, template results (``{{7*7007}}`` -> 49049) in the page or the map frame,
maps that failed to draw, links whose scheme is not http/https/tel/sms/mailto.
All must be 0, and the payloads must be *visible as text*.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from . import appdriver as drv
from . import hostile
from .harness import CLUSTERS, FIGURES, RESULTS_LIMIT, AppServer, Recorder

pytestmark = pytest.mark.browser

_SAFE_SCHEMES = {"http", "https", "tel", "sms", "mailto"}
_RECORD_TAG = re.compile(r"\bH(\d{3})\b")


def _hrefs(page: Any) -> list[str]:
    out: list[str] = []
    for frame in page.frames:
        try:
            out += frame.evaluate(
                "Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))"
            )
        except Exception:
            continue
    return out


def _text_content(page: Any) -> str:
    """All text of the main page, hidden parts (closed expanders) included."""
    return str(page.evaluate("document.body.textContent"))


def _check_page(session: Recorder, where: str) -> dict[str, int]:
    """Count what must be 0 after hostile content was shown; record the figures."""
    page = session.page
    texts = [text for _, text in drv.frame_texts(page)] + [_text_content(page)]
    found = {
        "dialogs": len(session.dialogs),
        "executed": drv.canaries(page),
        "template_evaluations": len(drv.template_hits(texts)),
        "page_errors": len(session.page_errors),
        "unsafe_links": len(
            [
                h
                for h in _hrefs(page)
                if h and urlsplit(h).scheme and urlsplit(h).scheme.lower() not in _SAFE_SCHEMES
            ]
        ),
    }
    FIGURES.dialogs += found["dialogs"]
    FIGURES.executed += found["executed"] + found["dialogs"]
    FIGURES.template_evaluations += found["template_evaluations"]
    if any(found.values()):
        FIGURES.notes.append(f"{where}: {found}; dialogs={session.dialogs[:3]}")
    return found


def _check_map(page: Any, expected_markers: int) -> list[str]:
    """Draw the map, open every tooltip; return the tooltip texts (fails if broken)."""
    FIGURES.maps_checked += 1
    try:
        frame = drv.map_frame(page, markers=expected_markers)
    except AssertionError:
        FIGURES.broken_maps += 1
        raise
    tips = drv.open_all_tooltips(frame)
    tags = set(drv.tooltip_elements(frame))
    if len(tips) != expected_markers or not tags <= {"DIV"}:
        FIGURES.broken_maps += 1
    assert len(tips) == expected_markers, f"{len(tips)} tooltips for {expected_markers} markers"
    assert tags <= {"DIV"}, f"markup from data inside map tooltips: {tags}"
    return tips


@pytest.mark.parametrize("cluster", [c[0] for c in CLUSTERS])
def test_hostile_records_are_shown_as_text(
    app_server: AppServer, desktop_session: Recorder, cluster: str
) -> None:
    page = desktop_session.page
    drv.open_app(page, app_server.url)
    drv.search(page, cluster, limit=RESULTS_LIMIT, expect=RESULTS_LIMIT)

    # Open every card's details (Streamlit may draw them only once opened).
    opened = page.evaluate(
        "() => { const s = document.querySelectorAll('[data-testid=stExpander] summary');"
        " s.forEach(x => x.click()); return s.length; }"
    )
    assert opened >= RESULTS_LIMIT
    page.get_by_text("Référence").first.wait_for(state="attached")
    drv.wait_idle(page)

    text = _text_content(page)
    assert text.count("Référence") >= RESULTS_LIMIT, "the details did not open"
    shown = {int(m) for m in _RECORD_TAG.findall(text)}
    expected = {
        i for i in range(len(hostile.PAYLOADS)) if CLUSTERS[i % len(CLUSTERS)][0] == cluster
    }
    assert expected <= shown, f"hostile records missing from the page: {sorted(expected - shown)}"
    FIGURES.payloads_tried += len(expected)

    # The map: 50 results + the search point, each tooltip plain text.
    tips = _check_map(page, RESULTS_LIMIT + 1)
    tip_text = "\n".join(tips)
    assert len(set(_RECORD_TAG.findall(tip_text))) >= len(expected)

    # Payloads are visible, literally, in the cards and in the map.
    for i in sorted(expected):
        payload = hostile.PAYLOADS[i]
        if payload in hostile.TEXT_SENTINELS:
            assert payload in text, f"payload {i} not shown as text in the page"
            assert payload in tip_text, f"payload {i} not shown as text in the map"

    # A click on a hostile marker shows its details in the page.
    frame = drv.map_frame(page, markers=RESULTS_LIMIT + 1)
    # Markers 80 m apart overlap: fire the click on the marker itself.
    frame.locator(".mapapp-pin").nth(3).dispatch_event("click")
    drv.wait_idle(page, settle=1.0)
    assert page.get_by_text("Détails :").count() >= 1

    found = _check_page(desktop_session, f"records near {cluster}")
    assert found == {
        "dialogs": 0,
        "executed": 0,
        "template_evaluations": 0,
        "page_errors": 0,
        "unsafe_links": 0,
    }, f"{found}; dialogs: {desktop_session.dialogs[:3]}; errors: {desktop_session.page_errors[:3]}"

    # The exports carry the payloads as inert text.
    buttons = page.locator("[data-testid=stDownloadButton] button")
    assert buttons.count() >= 2
    for i in range(buttons.count()):
        with page.expect_download() as info:
            buttons.nth(i).click()
        download = info.value
        body = Path(download.path()).read_bytes()
        content = body.decode("utf-8-sig")
        assert not drv.template_hits([content]), (
            f"template evaluated in {download.suggested_filename}"
        )
        if download.suggested_filename.endswith(".csv"):
            for row in csv.reader(io.StringIO(content), delimiter=_sniff(content)):
                for cell in row:
                    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (
                        f"spreadsheet formula left live in the CSV export: {cell[:40]!r}"
                    )


def _sniff(content: str) -> str:
    first = content.splitlines()[0] if content else ","
    return ";" if first.count(";") > first.count(",") else ","


def test_hostile_inputs_are_shown_as_text(app_server: AppServer, desktop_session: Recorder) -> None:
    """Every payload typed in the place box (and some in the filter boxes) runs nothing."""
    page = desktop_session.page
    drv.open_app(page, app_server.url)
    typed = 0
    for payload in hostile.PAYLOADS:
        drv.submit_place(page, payload, settle=0.05)
        typed += 1
    # The multiselect filters have their own search boxes.
    page.get_by_text(drv.MORE_FILTERS, exact=True).click()
    for name in ("Types de structure", "Publics"):
        boxes = page.get_by_role("combobox", name=re.compile(name))
        if boxes.count() == 0:
            continue
        for payload in hostile.PAYLOADS[:20]:
            boxes.first.click()
            page.keyboard.insert_text(payload[:200])
            page.keyboard.press("Escape")
            typed += 1
    drv.wait_idle(page)
    FIGURES.inputs_tried += typed
    FIGURES.payloads_tried += len(hostile.PAYLOADS)
    # None of these places exists, so there is no result and no map to offer (the
    # map is drawn on demand, over results): nothing from her typing reaches Leaflet.
    assert page.get_by_text(drv.SHOW_MAP, exact=True).count() == 0
    assert page.locator("iframe[src*=st_folium]").count() == 0
    found = _check_page(desktop_session, "typed inputs")
    assert found == {
        "dialogs": 0,
        "executed": 0,
        "template_evaluations": 0,
        "page_errors": 0,
        "unsafe_links": 0,
    }, f"{found}; dialogs: {desktop_session.dialogs[:3]}; errors: {desktop_session.page_errors[:3]}"
    # What she typed never goes into the address bar.
    assert "pwned" not in page.url and "script" not in page.url


def test_the_detectors_detect(browser: Any) -> None:
    """The counters above can fail: a raw payload is caught by each of them."""
    context = browser.new_context()
    try:
        page = context.new_page()
        rec = Recorder(page)
        rec.attach()
        raw = hostile.PAYLOADS[1]  # <img src=x onerror="window.__pwned=1;alert(1)">
        page.set_content(f"<div>{raw}</div><p>{{{{7*7007}}}} = 49049</p>")
        page.wait_for_function("typeof window.__pwned !== 'undefined'")
        assert drv.canaries(page) == 1
        assert len(rec.dialogs) == 1
        assert drv.template_hits([page.inner_text("body")]) == ["49049"]
        assert drv.template_hits(["45.1849049, 5.7"]) == []  # digits inside a number
    finally:
        context.close()
