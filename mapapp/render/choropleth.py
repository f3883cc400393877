"""Coverage choropleths: the folium layer, and the legend as a table.

Why here: the map is where data turns into markup, so it follows
:mod:`mapapp.render.search_map`'s rule.  Each polygon carries only its code, a
number formatted by the caller, its population and its name passed through
:func:`mapapp.render.text.escape_text` (folium pastes tooltip values raw into
``innerHTML``).  Everything else about a commune is shown by Streamlit's own
elements.  Classes come from :mod:`mapapp.coverage.classes`, polygons from
:mod:`mapapp.geo.shapes`.

Payload: a département's communes are simplified to ~100 m and their
coordinates rounded to 5 decimals (the Pas-de-Calais, 887 communes, weighs
well under 3 MB); the national map shows ~100 départements, never 35,000
communes.  The legend is plain HTML the page shows beside the map
(:func:`legend_html`: no legend script from a CDN); each label wraps rather
than being cut, at 375 px as at 1366 px.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

import folium
import geopandas as gpd
import numpy as np
from shapely.geometry import mapping

from mapapp.coverage.classes import Classes
from mapapp.i18n import format_number, t
from mapapp.render.text import escape_text

__all__ = ["coverage_map", "legend_html"]


def _base_map(*, tiles: str | None, attribution: str, leaflet_base: str | None) -> folium.Map:
    m = folium.Map(tiles=None, control_scale=True, zoom_control=True, max_zoom=16)
    if leaflet_base is not None:
        base = leaflet_base.rstrip("/")
        m.default_js = [("leaflet", f"{base}/leaflet.js")]
        m.default_css = [("leaflet_css", f"{base}/leaflet.css")]
    if tiles:
        folium.TileLayer(tiles=tiles, attr=escape_text(attribution) or "&copy;").add_to(m)
    return m


def coverage_map(
    shapes: gpd.GeoSeries,
    classes: Classes,
    *,
    values: Sequence[str],
    names: Sequence[str] | None = None,
    population: Sequence[float | None] | None = None,
    value_label: str = "distance",
    tiles: str | None = None,
    attribution: str = "",
    leaflet_base: str | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    lang: str = "fr",
) -> folium.Map:
    r"""A choropleth of ``shapes`` (indexed by code) coloured by ``classes``.

    Parameters
    ----------
    shapes : GeoSeries
        Polygons for display (see :func:`display_geometry`), EPSG:4326.
    classes : Classes
        One class per shape, in the same order.
    values : sequence of str
        The figure shown on hover, already formatted ("12.3 km").
    names, population : sequences, optional
        Shown on hover too; names are escaped here; a population of None or
        NaN reads "population inconnue" (never 0).
    bounds : (min_lon, min_lat, max_lon, max_lat), optional
        What the map fits; default the shapes' extent.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> from mapapp.coverage.classes import distance_classes
    >>> s = gpd.GeoSeries([box(0, 45, 0.1, 45.1)], index=["24001"], crs="EPSG:4326")
    >>> m = coverage_map(s, distance_classes([3.0]), values=["3 km"], names=["<b>x</b>"])
    >>> html = m.get_root().render()
    >>> "&lt;b&gt;x" in html.replace("\\u0026", "&"), "<b>x" in html
    (True, False)
    """
    m = _base_map(tiles=tiles, attribution=attribution, leaflet_base=leaflet_base)
    codes = [str(c) for c in shapes.index]
    props: dict[str, list[str]] = {"code": codes, "v": [str(v) for v in values]}
    fields, aliases = ["code", "v"], ["code", escape_text(value_label)]
    if names is not None:
        props["nom"] = [escape_text(n, max_len=60) for n in names]
        fields.insert(0, "nom")
        aliases.insert(0, "")
    if population is not None:
        unknown = t("cov_population_unknown", lang)
        props["pop"] = [
            unknown if p is None or p != p else format_number(p, lang=lang) for p in population
        ]
        fields.append("pop")
        aliases.append("population")
    colors = [classes.colors[int(c)] for c in classes.codes]
    features = [
        {
            "type": "Feature",
            "id": code,
            "properties": {k: props[k][i] for k in props} | {"fill": colors[i]},
            "geometry": mapping(geom),
        }
        for i, (code, geom) in enumerate(zip(codes, shapes.to_numpy(), strict=True))
    ]
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name="coverage",
        style_function=lambda f: {
            "fillColor": f["properties"]["fill"],
            "color": "#555555",
            "weight": 0.4,
            "fillOpacity": 0.75,
        },
        highlight_function=lambda f: {"weight": 2.5, "color": "#000000"},
        tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases, labels=True),
        zoom_on_click=False,
    ).add_to(m)
    x0, y0, x1, y1 = bounds if bounds is not None else tuple(shapes.total_bounds)
    if np.all(np.isfinite([x0, y0, x1, y1])):
        m.fit_bounds([(y0, x0), (y1, x1)])
    return m


_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


def legend_html(classes: Classes, title: str) -> str:
    """The legend as a small HTML list: a swatch and the whole label per class.

    Why not a table widget: a data grid truncates a long label ("aucun
    service dans la zone") to its column width, and a narrow phone column
    left it blank.  Labels and the title are escaped; a colour that is not
    ``#rrggbb`` is refused rather than pasted into a style.

    Examples
    --------
    >>> from mapapp.coverage.classes import distance_classes
    >>> out = legend_html(distance_classes([1.0, float("inf")]), "Légende <km>")
    >>> "Légende &lt;km&gt;" in out, "aucun service dans la zone" in out
    (True, True)
    >>> out.count("<li")
    6
    """
    items = []
    for color, label in zip(classes.colors, classes.labels, strict=True):
        if not _COLOR.fullmatch(color):
            raise ValueError(f"not a #rrggbb colour: {color!r}")
        items.append(
            '<li style="display:flex;align-items:flex-start;gap:.5em;margin:.2em 0">'
            f'<span aria-hidden="true" style="flex:0 0 1.6em;height:1.1em;margin-top:.15em;'
            f'background:{color};border:1px solid #555"></span>'
            f'<span style="overflow-wrap:anywhere">{html.escape(label)}</span></li>'
        )
    return (
        f'<figure class="coverage-legend" style="margin:0">'
        f'<figcaption style="font-size:.875rem">{html.escape(title)}</figcaption>'
        f'<ul style="list-style:none;padding:0;margin:.3em 0;font-size:.875rem">'
        f"{''.join(items)}</ul></figure>"
    )
