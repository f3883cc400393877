"""mapapp.render.search_map and .text: escaping for HTML + JavaScript template literals + Jinja2, links, payload size."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess

import jinja2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mapapp.render.search_map import MAX_MARKERS, MapPoint, map_html_bytes, results_map
from mapapp.render.text import escape_text
from mapapp.safety import safe_url
from mapapp.ui.search_page import LIMIT_CHOICES

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "${alert(1)}",
    "`;alert(1);`",
    "\\`${alert(1)}",
    "{{7*191}}",
    "{{ config.items() }}",
    "{% for x in range(3) %}x{% endfor %}",
    "{# comment #}",
    "</div></script><script>alert(1)</script>",
    "a\u2028b\u2029c",
    "\u202egnp.exe",
    "nul\x00byte",
    "\ud800lone surrogate",
    "&lt;already escaped&gt;",
    "javascript:alert(1)",
    "Crèche « Les Lucioles » — L'Haÿ-les-Roses",
]
FORBIDDEN = ["<", ">", "`", "{{", "{%", "{#", "${", "\\", '"', "'", "\x00", "\u2028", "\u202e"]


@pytest.mark.parametrize("text", HOSTILE)
def test_escape_text_neutralises_hostile_strings(text: str) -> None:
    out = escape_text(text)
    for bad in FORBIDDEN:
        assert bad not in out, (bad, out)
    # A browser shows the original characters (controls and overrides dropped).
    shown = html.unescape(out)
    for ch in "<>`${}\\\"'":
        assert shown.count(ch) == text.count(ch)
    # Jinja2 (folium's template engine) leaves it untouched.
    assert jinja2.Template(out).render() == out


def test_escape_text_drops_controls_and_overrides() -> None:
    assert escape_text("a\x00b\u202ec\u2066d\ufeffe") == "abcde"
    assert escape_text("line1\nline2\r\n\tline3\u2028x") == "line1 line2 line3 x"
    assert escape_text(None) == ""
    assert escape_text("abcdef", max_len=4) == "abc…"
    assert escape_text("<<<<", max_len=2) == "&lt;…"  # never half an entity


_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Cf", "Zl", "Zp")), max_size=200
)


@pytest.mark.slow
@given(st.text(max_size=300))
def test_escape_text_output_is_inert_for_any_input(text: str) -> None:
    out = escape_text(text)
    for bad in FORBIDDEN:
        assert bad not in out
    assert jinja2.Template(out).render() == out


@given(_TEXT)
def test_escape_text_round_trips_through_a_browser(text: str) -> None:
    assert html.unescape(escape_text(text)) == text


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_escaped_text_inside_a_js_template_literal_stays_verbatim() -> None:
    # The exact context folium uses for tooltips: `<div>{{ text }}</div>`.
    escaped = [escape_text(h) for h in HOSTILE]
    program = "console.log(JSON.stringify([" + ",".join(f"`<div>{e}</div>`" for e in escaped)
    program += "]));"
    out = subprocess.run(
        ["node", "-e", program], capture_output=True, text=True, check=True, timeout=30
    )
    assert json.loads(out.stdout) == [f"<div>{e}</div>" for e in escaped]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/a?b=1#c", "https://example.org/a?b=1#c"),
        ("http://example.org", "http://example.org"),
        ("www.example.org", "https://www.example.org"),
        ("mailto:contact@example.org", "mailto:contact@example.org"),
        ("tel:+33199000001", "tel:+33199000001"),
        ("javascript:alert(1)", None),
        ("JaVaScRiPt:alert(1)", None),
        ("java\tscript:alert(1)", None),
        (" javascript:alert(1)", None),
        ("data:text/html,<script>alert(1)</script>", None),
        ("vbscript:msgbox(1)", None),
        ("file:///etc/passwd", None),
        ("https://example.org/`${alert(1)}`", None),
        ('https://example.org/"onmouseover="alert(1)', None),
        ("https://example.org/{{7*7}}", None),
        ("https://exa mple.org", None),
        ("//evil.example", None),
        ("tel:01 99 00 00 01", None),
        ("", None),
        (None, None),
    ],
)
def test_safe_url(url: str | None, expected: str | None) -> None:
    assert safe_url(url) == expected


def _points(n: int, label: str = "Crèche") -> list[MapPoint]:
    return [
        MapPoint(48.0 + (i % 100) * 0.01, 2.0 + (i // 100) * 0.01, f"{i + 1}. {label}", i + 1)
        for i in range(n)
    ]


def test_map_carries_only_escaped_labels() -> None:
    hostile = HOSTILE[0] + HOSTILE[3] + HOSTILE[6] + HOSTILE[4]
    m = results_map(
        _points(3, hostile),
        tiles=None,
        search_point=MapPoint(48.5, 2.5, hostile),
    )
    out = m.get_root().render()
    assert "<script>alert" not in out and "${alert" not in out and "`;alert" not in out
    assert "1337" not in out, "{{7*191}} was evaluated by Jinja2"
    assert escape_text(hostile, max_len=80)[:40] in out


def test_cluster_layer_carries_no_text_at_all() -> None:
    m = results_map(_points(MAX_MARKERS + 1, "<b>secret label</b>"), tiles=None)
    out = m.get_root().render()
    assert "secret label" not in out
    assert "FastMarkerCluster" in out or "markerClusterGroup" in out


def test_map_loads_leaflet_locally_and_nothing_else() -> None:
    m = results_map(_points(5), tiles=None, leaflet_base="../assets/leaflet")
    out = m.get_root().render()
    sources = re.findall(r'<script src="([^"]+)"', out) + re.findall(r'href="([^"]+)"', out)
    assert sources == ["../assets/leaflet/leaflet.js", "../assets/leaflet/leaflet.css"]
    assert "http:" not in out and "https:" not in out, "no tile layer: nothing from outside"


def test_tiles_and_attribution_are_configurable() -> None:
    url = "https://tiles.example.org/{z}/{x}/{y}.png"
    out = results_map(_points(1), tiles=url, attribution="<b>© X</b>").get_root().render()
    assert url in out
    assert "<b>© X</b>" not in out
    assert "tile.openstreetmap.org" not in out


def test_marker_icons_hold_only_the_rank() -> None:
    out = results_map([MapPoint(48.0, 2.0, "x", 7)], tiles=None).get_root().render()
    icons = re.findall(r'"html": "(.*?)",\n', out)
    assert any(i.endswith("\\u003e7\\u003c/div\\u003e") for i in icons)


def test_points_without_coordinates_are_skipped() -> None:
    m = results_map([MapPoint(float("nan"), 2.0, "a", 1), MapPoint(48.0, 2.0, "b", 2)], tiles=None)
    assert m.get_root().render().count("mapapp-pin") == 1


@pytest.mark.parametrize("n", [max(LIMIT_CHOICES), MAX_MARKERS, MAX_MARKERS + 1, 5000])
@pytest.mark.slow
def test_map_payload_stays_under_1_5_mb(n: int) -> None:
    # The UI sends at most max(LIMIT_CHOICES) results (+ the search point);
    # larger sets (up to 5000) switch to a coordinates-only cluster layer.
    long_label = "Atelier chantier d'insertion Le Jardin — Saint-Rémy-en-Bouzemont (démo)" * 2
    m = results_map(
        _points(n, long_label),
        tiles="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        attribution="© OpenStreetMap",
        search_point=MapPoint(48.2, 2.2, "Saint-Denis (93)"),
        leaflet_base="../x/leaflet",
    )
    size = map_html_bytes(m)
    assert size <= 1_500_000, f"{n} points: {size} bytes"
    if n == max(LIMIT_CHOICES):
        assert size <= 150_000, f"the largest UI result set weighs {size} bytes"
