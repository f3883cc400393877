"""The public view as CSV or GeoJSON files a coordinator can open.

CSV goes through the project's one CSV writer (:mod:`mapapp.csv_export`),
which defuses every cell a spreadsheet would run as a formula; GeoJSON
properties get the same defusing (GeoJSON is often opened in a spreadsheet
through a converter), numbers and booleans keeping their types.

Examples
--------
>>> defuse("=HYPERLINK(\\"http://x\\")"), defuse("04 76"), defuse(3.5)
('\\'=HYPERLINK("http://x")', '04 76', 3.5)
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from mapapp.csv_export import defuse_cell, frame_csv

__all__ = ["EXPORT_COLUMNS", "actors_csv", "actors_geojson", "defuse"]


#: Columns of the public view written to CSV/GeoJSON (never internal flags).
EXPORT_COLUMNS = (
    "id",
    "source",
    "nom",
    "structure_nom",
    "actor_type",
    "obstacles",
    "thematiques",
    "publics",
    "frais",
    "modes_accueil",
    "adresse",
    "code_postal",
    "code_insee",
    "commune",
    "latitude",
    "longitude",
    "precision",
    "telephone",
    "courriel",
    "site_web",
    "horaires_accueil",
    "date_maj",
    "confidential",
    "demo",
    "reserved_total",  # reserved childcare places (issue 17): counts only, never the partner
    "reserved_free",
)


def defuse(value: Any) -> Any:
    """``value`` with a leading apostrophe when a spreadsheet would read it as a formula."""
    return defuse_cell(value) if isinstance(value, str) else value


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.reindex(columns=list(EXPORT_COLUMNS)).copy()
    for col in out.columns:
        if not (pd.api.types.is_numeric_dtype(out[col]) or pd.api.types.is_bool_dtype(out[col])):
            out[col] = out[col].map(
                lambda v: (
                    "|".join(str(x) for x in v) if isinstance(v, list | tuple | np.ndarray) else v
                )
            )
            out[col] = out[col].map(defuse)
    return out


def actors_csv(frame: pd.DataFrame) -> bytes:
    """The public view as UTF-8 CSV through :func:`mapapp.csv_export.frame_csv`."""
    return frame_csv(frame.reindex(columns=list(EXPORT_COLUMNS))).encode("utf-8")


def actors_geojson(frame: gpd.GeoDataFrame) -> bytes:
    """The public view as GeoJSON points (records without a point are left out)."""
    flat = _flat(frame)
    located = flat["latitude"].notna() & flat["longitude"].notna()
    flat = flat[located]
    layer = gpd.GeoDataFrame(
        flat,
        geometry=gpd.points_from_xy(flat["longitude"], flat["latitude"]),
        crs="EPSG:4326",
    )
    return layer.to_json(drop_id=True, na="null", ensure_ascii=False).encode("utf-8")
