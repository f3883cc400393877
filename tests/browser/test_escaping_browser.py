"""The map's escaping gate, checked where it matters: in Chromium, on many generated strings.

``mapapp.render.text.escape_text`` promises that a label is inert in HTML, in the
JavaScript template literal folium puts tooltips in, and in folium's Jinja2
rendering, and that the browser then *shows* the original text.  Here
hypothesis generates batches of labels (plus every hostile payload), builds
the real map with :func:`mapapp.render.search_map.results_map` (Leaflet served from the
vendored copy), loads it in Chromium and compares each tooltip's text with
the label, while counting dialogs and the ``window.__pwned`` canary.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapapp.render.search_map import MapPoint, results_map

from . import hostile
from .harness import FIGURES, ROOT

pytestmark = pytest.mark.browser

LEAFLET = ROOT / "mapapp" / "ui" / "static" / "leaflet"
MAX_LEN = 80  # what results_map keeps of a label
_DROPPED = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c\ufeff]")
# Line breaks become a space; other controls (C0, C1 such as NEL) are dropped.
_SPACES = re.compile("[\t\n\r\u2028\u2029]+")


def _shown(label: str) -> str:
    """What a person should read: controls and direction overrides dropped, breaks as spaces.

    Written independently of escape_text: Unicode categories, not its regexes.
    """
    text = _SPACES.sub(" ", label)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in {"Cc", "Cs"} or ch == " ")
    text = _DROPPED.sub("", text)
    if len(text) > MAX_LEN:
        text = text[: MAX_LEN - 1] + "…"
    return text


@pytest.fixture(scope="module")
def map_page(browser: Any) -> Any:
    context = browser.new_context()
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.dialogs = dialogs  # type: ignore[attr-defined]
    yield page
    context.close()


def _render(page: Any, labels: list[str], tmp: Path) -> list[str]:
    points = [MapPoint(45.0 + i * 0.01, 5.0, label, i + 1) for i, label in enumerate(labels)]
    fmap = results_map(points, tiles=None, leaflet_base=LEAFLET.as_uri())
    html_file = tmp / "map.html"
    html_file.write_text(fmap.get_root().render(), encoding="utf-8")
    page.goto(html_file.as_uri())
    page.wait_for_function(
        "n => document.querySelectorAll('.leaflet-marker-icon').length === n",
        arg=len(labels),
        timeout=5_000,
    )
    return list(
        page.evaluate(
            """() => {
              const out = [];
              document.querySelectorAll('.leaflet-marker-icon').forEach(m => {
                m.dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));
              });
              document.querySelectorAll('.leaflet-tooltip').forEach(t => out.push(t.textContent));
              return out;
            }"""
        )
    )


def _check(page: Any, labels: list[str], tmp: Path, *, generated: bool = False) -> None:
    # folium wraps the tooltip text in its template's line breaks and indentation.
    shown = [text.strip() for text in _render(page, labels, tmp)]
    if generated:
        FIGURES.generated_strings += len(labels)
    else:
        FIGURES.payloads_tried += len(labels)
    executed = int(page.evaluate("typeof window.__pwned !== 'undefined'"))
    FIGURES.executed += executed + len(page.dialogs)
    FIGURES.maps_checked += 1
    assert executed == 0 and page.dialogs == []
    tags = page.evaluate(
        "Array.from(document.querySelectorAll('.leaflet-tooltip *')).map(e => e.tagName)"
    )
    assert set(tags) <= {"DIV"}, f"markup from a label inside a tooltip: {set(tags)}"
    expected = sorted(_shown(label).strip() for label in labels)
    if sorted(shown) != expected:
        FIGURES.broken_maps += 1
    assert sorted(shown) == expected


def test_every_hostile_payload_is_shown_verbatim_in_the_map(map_page: Any, tmp_path: Path) -> None:
    _check(map_page, list(hostile.PAYLOADS), tmp_path)


_LABEL = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), max_codepoint=0x2FFFF), max_size=120
) | st.sampled_from(hostile.PAYLOADS).flatmap(
    lambda p: st.builds(lambda a, b: a + p + b, st.text(max_size=5), st.text(max_size=5))
)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(_LABEL, min_size=1, max_size=40))
def test_generated_labels_are_shown_verbatim_in_the_map(
    map_page: Any, tmp_path: Path, labels: list[str]
) -> None:
    _check(map_page, labels, tmp_path, generated=True)
