"""folium maps: the one place where data becomes map markup, escaped.

Why one place: folium pastes tooltip and popup strings raw into HTML, inside
JavaScript template literals, and renders the whole page through Jinja2.  A
service name such as ``${alert(1)}`` or ``{{7*7}}`` would run or be evaluated.
So (DOMAIN.md, safety rule 5):

- :func:`escape_text` escapes for the three contexts at once;
- the maps carry as little free text as possible: a rank number and a short
  escaped name per marker; every detail is shown by Streamlit's native
  elements, never by the map;
- links made from data go through :func:`mapapp.safety.safe_url` (only
  ``http``, ``https``, ``tel`` and ``mailto``), in the page, never in the map.

Payload: a map holds only the results of one search (a few dozen points), never
the whole layer; past :data:`MAX_MARKERS` points it switches to a
``FastMarkerCluster`` with coordinates only.  :func:`map_html_bytes` measures
what is sent.

Examples
--------
>>> escape_text('<b>"Crèche" ${x} {{7*7}}</b>')
'&lt;b&gt;&quot;Crèche&quot; &#36;&#123;x&#125; &#123;&#123;7*7&#125;&#125;&lt;/b&gt;'
>>> m = results_map([MapPoint(48.85, 2.35, "1. Crèche <démo>")], tiles=None)
>>> html = m.get_root().render()
>>> "Crèche &lt;démo&gt;" in html, "<démo>" in html
(True, False)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import folium
from branca.element import MacroElement
from folium.plugins import FastMarkerCluster
from jinja2 import Template

from mapapp.render.text import escape_text

__all__ = [
    "MAX_MARKERS",
    "MapPoint",
    "escape_text",
    "map_html_bytes",
    "results_map",
]

#: Above this many points a map shows a coordinates-only cluster layer
#: instead of one marker each (10k markers weigh 10 MB of HTML).
MAX_MARKERS = 300


@dataclass(frozen=True)
class MapPoint:
    """One result on the map: where, and a short plain-text label.

    ``rank`` (1, 2, ...) is drawn on the marker so the map and the numbered
    list match; ``label`` is escaped here, never trusted.
    """

    lat: float
    lon: float
    label: str
    rank: int | None = None


_PIN_STYLE = (
    "display:flex;align-items:center;justify-content:center;width:24px;height:24px;"
    "border-radius:50%;background:#1d4ed8;color:#fff;border:2px solid #fff;"
    "box-shadow:0 0 2px #000;font:bold 12px sans-serif;"
)
_HOME_STYLE = (
    "width:16px;height:16px;border-radius:50%;background:#dc2626;border:3px solid #fff;"
    "box-shadow:0 0 3px #000;"
)


class _NoDefaultIcon(MacroElement):
    """Constant script: markers start with an empty DivIcon instead of Leaflet's
    default image icon (which would be fetched, from a wrong path, before
    folium sets each marker's real icon)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
        L.Marker.prototype.options.icon = L.divIcon({html: "", className: "mapapp-empty"});
        {% endmacro %}"""
    )


def _rank_icon(rank: int | None) -> folium.DivIcon:
    # Only an integer we formatted ourselves goes into this markup.
    text = str(int(rank)) if rank is not None else ""
    return folium.DivIcon(
        html=f'<div style="{_PIN_STYLE}">{text}</div>',
        icon_size=(24, 24),
        icon_anchor=(12, 12),
        class_name="mapapp-pin",
    )


def results_map(
    points: Sequence[MapPoint],
    *,
    tiles: str | None,
    attribution: str = "",
    search_point: MapPoint | None = None,
    leaflet_base: str | None = None,
    max_zoom: int = 15,
) -> folium.Map:
    """A map of search results, fitted to them (and to the search point).

    Parameters
    ----------
    points : sequence of MapPoint
        The results; past :data:`MAX_MARKERS` only their coordinates are drawn.
    tiles : str or None, keyword-only
        Tile URL template (``Settings.tiles``); None draws no background, and
        then nothing at all is loaded from a tile server.
    attribution : str, keyword-only
        Credit of the tiles (escaped here).
    search_point : MapPoint, keyword-only, optional
        Where the search started, drawn as a red dot.
    leaflet_base : str, keyword-only, optional
        URL folder serving ``leaflet.js`` and ``leaflet.css``; when given, the
        map loads Leaflet from there and nothing else (no jQuery, Bootstrap or
        icon fonts from CDNs, which plain markers do not need).
    max_zoom : int, keyword-only
        Closest zoom when fitting the bounds (a single result stays readable).

    Examples
    --------
    >>> pts = [MapPoint(48.0, 2.0, "a", 1), MapPoint(48.1, 2.1, "b", 2)]
    >>> m = results_map(pts, tiles=None, leaflet_base="assets")
    >>> [src for _, src in m.default_js]
    ['assets/leaflet.js']
    >>> map_html_bytes(m) < 20_000
    True
    """
    m = folium.Map(tiles=None, control_scale=True, zoom_control=True, max_zoom=19)
    _NoDefaultIcon().add_to(m)
    if leaflet_base is not None:
        base = leaflet_base.rstrip("/")
        # Instance attributes shadow folium's class-level CDN lists.
        m.default_js = [("leaflet", f"{base}/leaflet.js")]
        m.default_css = [("leaflet_css", f"{base}/leaflet.css")]
    if tiles:
        folium.TileLayer(
            tiles=tiles, attr=escape_text(attribution) or "&copy;", max_zoom=19
        ).add_to(m)
    located = [p for p in points if _finite(p.lat) and _finite(p.lon)]
    if len(located) > MAX_MARKERS:
        FastMarkerCluster([[p.lat, p.lon] for p in located]).add_to(m)
    else:
        for p in located:
            folium.Marker(
                location=(p.lat, p.lon),
                icon=_rank_icon(p.rank),
                tooltip=folium.Tooltip(escape_text(p.label, max_len=80)),
            ).add_to(m)
    bounds = [(p.lat, p.lon) for p in located]
    if search_point is not None and _finite(search_point.lat) and _finite(search_point.lon):
        folium.Marker(
            location=(search_point.lat, search_point.lon),
            icon=folium.DivIcon(
                html=f'<div style="{_HOME_STYLE}"></div>',
                icon_size=(22, 22),
                icon_anchor=(11, 11),
                class_name="mapapp-home",
            ),
            tooltip=folium.Tooltip(escape_text(search_point.label, max_len=80)),
            z_index_offset=-1000,  # under the numbered results
        ).add_to(m)
        bounds.append((search_point.lat, search_point.lon))
    if bounds:
        lats = [b[0] for b in bounds]
        lons = [b[1] for b in bounds]
        m.fit_bounds(
            [(min(lats), min(lons)), (max(lats), max(lons))], max_zoom=max_zoom, padding=(20, 20)
        )
    else:  # nothing to show: metropolitan France
        m.fit_bounds([(41.3, -5.2), (51.1, 9.6)])
    return m


def _finite(x: float) -> bool:
    return x == x and abs(x) != float("inf")


def map_html_bytes(m: folium.Map) -> int:
    """Size in bytes (UTF-8) of the map's full HTML: an upper bound of what is sent."""
    return len(m.get_root().render().encode("utf-8"))
