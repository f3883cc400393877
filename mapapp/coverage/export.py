"""Coverage results as files a coordinator can open: CSV, GeoJSON, GeoPackage.

Why in memory: the app offers them as downloads and the CLI writes them where
asked; nothing is written anywhere else.  ``inf`` ("no service in the zone")
is not valid JSON and reads badly in a spreadsheet: exports leave the
distance empty there, and ``nearest_id`` is empty too.

Examples
--------
>>> import pandas as pd
>>> t = pd.DataFrame({"nom": ["A"], "distance_km": [np.inf]}, index=pd.Index(["01001"],
...     name="code_insee"))
>>> print(table_to_csv(t).decode().strip())
code_insee,nom,distance_km
01001,A,
"""

from __future__ import annotations

import io

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from mapapp.csv_export import frame_csv

__all__ = ["coverage_layer", "layer_to_geojson", "layer_to_gpkg", "table_to_csv", "with_sites"]


def _finite(table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            out[col] = out[col].where(np.isfinite(out[col]))
    return out


def table_to_csv(table: pd.DataFrame, *, float_digits: int = 3) -> bytes:
    """A table as UTF-8 CSV with its index (``code_insee``) as first column.

    Written by :func:`mapapp.csv_export.frame_csv`: a service name such as
    ``=HYPERLINK(...)`` becomes text, not a formula.

    Examples
    --------
    >>> t = pd.DataFrame({"nearest_nom": ["=1+1"]}, index=pd.Index(["01001"]))
    >>> print(table_to_csv(t).decode().splitlines()[1])
    01001,'=1+1
    """
    frame = _finite(table)
    if frame.index.name is None:
        frame.index.name = "code_insee"
    return frame_csv(frame, index=True, float_digits=float_digits).encode("utf-8")


def coverage_layer(table: pd.DataFrame, shapes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A table joined to polygons (same index: INSEE or département codes), EPSG:4326.

    Rows of ``table`` without a polygon are dropped.
    """
    geom = shapes.geometry.reindex(table.index)
    has = geom.notna().to_numpy()
    layer = gpd.GeoDataFrame(_finite(table)[has], geometry=geom[has].to_numpy(), crs=shapes.crs)
    layer.index.name = table.index.name or "code"
    return layer.reset_index()


def layer_to_geojson(layer: gpd.GeoDataFrame, *, precision: int = 5) -> bytes:
    """A layer as GeoJSON, coordinates snapped to ``precision`` decimals (~1 m at 5)."""
    out = layer.copy()
    out.geometry = out.geometry.set_precision(10.0**-precision)
    text = out.to_json(drop_id=True, na="null", to_wgs84=True, ensure_ascii=False)
    return text.encode("utf-8")


def layer_to_gpkg(layer: gpd.GeoDataFrame, *, layer_name: str = "coverage") -> bytes:
    """A layer as a GeoPackage file, built in memory."""
    buffer = io.BytesIO()
    pyogrio.write_dataframe(layer, buffer, driver="GPKG", layer=layer_name)
    return buffer.getvalue()


def with_sites(
    table: pd.DataFrame, sites: pd.DataFrame, *, departements: pd.Series | None = None
) -> pd.DataFrame:
    """The table with the proposed sites (:func:`mapapp.coverage.suggest_sites`) on its rows.

    Why in the table: every download (CSV, GeoJSON, GeoPackage) is built
    from it, so the proposals travel with the figures they answer, whatever
    the format.  A commune-level table gets ``proposed_site_rank`` and
    ``proposed_site_population_gained`` on the host commune's row (empty
    elsewhere); a département-level table (``departements`` maps each
    commune code to its département) gets ``proposed_sites``, how many, and
    ``proposed_site_communes``, which ones in rank order.

    Examples
    --------
    >>> t = pd.DataFrame({"nom": ["A", "B"]}, index=pd.Index(["24001", "24002"]))
    >>> s = pd.DataFrame({"rank": [1], "code_insee": ["24002"], "nom": ["B"],
    ...                   "population_gained": [1500]})
    >>> with_sites(t, s)["proposed_site_rank"].tolist()
    [<NA>, 1]
    >>> d = pd.DataFrame({"nom": ["Dordogne"]}, index=pd.Index(["24"]))
    >>> row = with_sites(d, s, departements=pd.Series({"24002": "24"})).loc["24"]
    >>> int(row["proposed_sites"]), row["proposed_site_communes"]
    (1, '1. B (24002)')
    """
    out = table.copy()
    codes = sites["code_insee"].astype(str)
    if departements is None:
        by_code = pd.Series(sites["rank"].to_numpy(), index=codes.to_numpy())
        gained = pd.Series(sites["population_gained"].to_numpy(), index=codes.to_numpy())
        out["proposed_site_rank"] = by_code.reindex(out.index).astype("Int64").array
        out["proposed_site_population_gained"] = gained.reindex(out.index).astype("Int64").array
        return out
    dep = departements.reindex(codes.to_numpy()).to_numpy(dtype=object)
    labels = [f"{r}. {n} ({c})" for r, n, c in zip(sites["rank"], sites["nom"], codes, strict=True)]
    listed = pd.Series(labels, dtype=object).groupby(dep).agg("; ".join)
    counts = pd.Series(1, index=range(len(dep))).groupby(dep).sum()
    out["proposed_sites"] = counts.reindex(out.index).fillna(0).astype("Int64").array
    out["proposed_site_communes"] = listed.reindex(out.index).fillna("").to_numpy(dtype=object)
    return out
