"""The actor/service record: one row per service at a place, data·inclusion v1 compatible.

Why one flat table: search and coverage need one point per service with its
obstacles; the structure fields (``structure_id``, ``structure_nom``,
``actor_type``) ride along on each service row.  Column names follow
data·inclusion v1 where it has one (``nom``, ``adresse``, ``code_insee``,
``thematiques``, ``publics``, ``frais``, ``modes_accueil``,
``horaires_accueil``, ``telephone``, ``courriel``, ``date_maj``, ``source``)
and add what mapapp needs (``obstacles``, ``actor_type``, ``confidential``,
``precision``, ``demo``...).

List-valued fields are Python lists of strings (Parquet ``list<string>``).

Examples
--------
>>> frame = actors_frame([{"id": "demo:1", "source": "demo", "nom": "Crèche",
...     "actor_type": "creche", "obstacles": ["garde-enfants"],
...     "latitude": 48.85, "longitude": 2.35, "code_insee": "75104"}])
>>> validate_actors(frame) is frame
True
>>> frame.loc[0, "modes_accueil"]
['en-presentiel']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from mapapp.errors import DataValidationError
from mapapp.taxonomy import ActorType, Obstacle

__all__ = [
    "COLUMNS",
    "FRANCE_BOXES",
    "LIST_COLUMNS",
    "actors_frame",
    "in_france",
    "validate_actors",
]

#: column -> (kind, default).  kind is "str", "list", "float", "bool".
COLUMNS: dict[str, tuple[str, Any]] = {
    "id": ("str", ""),  # "<source>:<source_id>", unique
    "source": ("str", ""),
    "source_id": ("str", ""),
    "structure_id": ("str", ""),
    "structure_nom": ("str", ""),
    "nom": ("str", ""),
    "description": ("str", ""),
    "actor_type": ("str", ActorType.AUTRE.value),
    "source_type": ("str", ""),  # the source's own code (réseau porteur, typologie, kind)
    "siret": ("str", ""),
    "thematiques": ("list", None),
    "obstacles": ("list", None),
    "publics": ("list", None),
    "frais": ("list", None),
    "modes_accueil": ("list", None),
    "zone_eligibilite": ("list", None),
    "adresse": ("str", ""),
    "complement_adresse": ("str", ""),
    "code_postal": ("str", ""),
    "code_insee": ("str", ""),
    "commune": ("str", ""),
    "latitude": ("float", np.nan),
    "longitude": ("float", np.nan),
    "precision": ("str", "address"),  # "address" | "commune" | "none"
    "telephone": ("str", ""),
    "courriel": ("str", ""),
    "site_web": ("str", ""),
    "lien_source": ("str", ""),  # the record's page at its source (data·inclusion lien_source)
    "horaires_accueil": ("str", ""),  # OpenStreetMap opening_hours syntax
    "date_maj": ("str", ""),  # ISO date
    "capacite": ("float", np.nan),  # places (crèches), when known
    "confidential": ("bool", False),
    "referral_phone": ("str", ""),  # public contact shown instead of a hidden address
    "demo": ("bool", False),  # True for demonstration records that are not real
    # Duplicates across sources are clustered, never deleted (see mapapp.ingest.dedupe):
    "cluster_id": ("str", ""),  # same value for records describing the same place
    "duplicate": ("bool", False),  # True for every member of a cluster but its primary
    "sources": ("list", None),  # every source that describes this place
}
LIST_COLUMNS = tuple(c for c, (kind, _) in COLUMNS.items() if kind == "list")

#: (min_lon, min_lat, max_lon, max_lat) of metropolitan France and the DROM.
FRANCE_BOXES: dict[str, tuple[float, float, float, float]] = {
    "metropole": (-5.6, 41.2, 9.8, 51.2),
    "guadeloupe": (-61.9, 15.8, -60.9, 16.6),
    "martinique": (-61.3, 14.35, -60.75, 14.9),
    "guyane": (-54.7, 2.0, -51.5, 5.9),
    "reunion": (55.2, -21.45, 55.9, -20.85),
    "mayotte": (44.9, -13.05, 45.35, -12.6),
}


def in_france(lat: Any, lon: Any) -> np.ndarray:
    """Boolean array: which points fall in metropolitan France or an overseas département.

    Examples
    --------
    >>> in_france([48.85, -20.9, 20.9], [2.35, 55.5, 55.5]).tolist()
    [True, True, False]
    """
    la, lo = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    ok = np.zeros(la.shape, dtype=bool)
    for x0, y0, x1, y1 in FRANCE_BOXES.values():
        ok |= (lo >= x0) & (lo <= x1) & (la >= y0) & (la <= y1)
    return ok


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, float) and np.isnan(value):
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value]


def _list_column(values: pd.Series) -> Any:
    """A list column's cells as lists of strings, the cells themselves when they already are.

    Why: a cleaned chunk's list cells are already lists of strings (shared
    between rows); checking that at C speed and keeping them costs a
    fraction of rebuilding a million lists.

    >>> list(_list_column(pd.Series([["a"], [], "b", None, ("c", 1)])))
    [['a'], [], ['b'], [], ['c', '1']]
    >>> cells = pd.Series([["a"], ["b", "c"]])
    >>> _list_column(cells)[1] is cells[1]
    True
    """
    cells = values.to_numpy(dtype=object)
    if set(map(type, cells)) <= {list}:
        try:
            items = set().union(*cells)
        except TypeError:  # an unhashable item: rebuilt below
            items = {None}
        if all(type(x) is str for x in items):
            return cells
    return [_as_list(v) for v in cells]


def actors_frame(records: Iterable[Mapping[str, Any]] | pd.DataFrame) -> gpd.GeoDataFrame:
    """Build a well-typed actors GeoDataFrame from records, filling defaults.

    Missing columns get their default; ``modes_accueil`` defaults to
    in-person; the geometry is built from ``latitude``/``longitude``.
    """
    df = records.copy() if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))
    n = len(df)
    out: dict[str, Any] = {}
    for col, (kind, default) in COLUMNS.items():
        if kind == "list":
            # an absent column: fresh empty lists, without a call per row
            lists = _list_column(df[col]) if col in df else [[] for _ in range(n)]
            if col == "modes_accueil":
                lists = [v or ["en-presentiel"] for v in lists]
            out[col] = pd.Series(lists, index=df.index, dtype=object)
        elif kind == "float":
            out[col] = pd.to_numeric(df[col], errors="coerce") if col in df else default
        elif kind == "bool":
            out[col] = df[col].fillna(default).astype(bool) if col in df else default
        else:
            out[col] = df[col].fillna(default).astype(str) if col in df else default
    frame = pd.DataFrame(out, index=df.index).reset_index(drop=True)
    geometry = gpd.points_from_xy(frame["longitude"], frame["latitude"], crs="EPSG:4326")
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")


def _list_items(column: pd.Series) -> set[Any]:
    """Every item of a list column, as ``set().union(*cells)`` gives them.

    Why Arrow first: a stored chunk's list columns are Arrow lists, and
    ``tolist()`` boxed every row into a Python list (2 % of an import's CPU);
    the distinct items of the flattened column are the same set.  Other
    columns (lists in an object column, a null cell) go the old way.

    >>> import pyarrow as pa
    >>> cells = pa.array([["emploi", "sante"], [], ["sante"]], type=pa.list_(pa.string()))
    >>> sorted(_list_items(pd.Series(pd.arrays.ArrowExtensionArray(cells))))
    ['emploi', 'sante']
    >>> sorted(_list_items(pd.Series([["b"], ["a", "b"]], dtype=object)))
    ['a', 'b']
    """
    if isinstance(column.dtype, pd.ArrowDtype):
        cells = column.array.__arrow_array__()
        kind = cells.type
        if (pa.types.is_list(kind) or pa.types.is_large_list(kind)) and not cells.null_count:
            return set(pc.unique(pc.list_flatten(cells)).to_pylist())
    return set().union(*column.tolist())  # each cell's items, at C speed


def validate_actors(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Check the rules every stored actors layer obeys; return it unchanged.

    Raises
    ------
    DataValidationError
        Missing columns, duplicate or empty ids, unknown obstacle or actor
        type slugs, a CRS other than EPSG:4326, or coordinates outside France.
    """
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise DataValidationError(
            f"actors layer lacks columns {missing}; build it with actors_frame()"
        )
    if frame.crs is None or frame.crs.to_epsg() != 4326:
        raise DataValidationError("actors layer must be in EPSG:4326 (lon/lat degrees)")
    if (frame["id"] == "").any():
        raise DataValidationError("some actors have an empty id; ids are '<source>:<source id>'")
    dup = frame["id"][frame["id"].duplicated()]
    if len(dup):
        raise DataValidationError(f"duplicate actor ids, e.g. {dup.iloc[:3].tolist()}")
    known_o = {o.value for o in Obstacle}
    bad_o = _list_items(frame["obstacles"]) - known_o
    if bad_o:
        raise DataValidationError(
            f"unknown obstacles {sorted(bad_o)}; see mapapp.taxonomy.Obstacle"
        )
    # distinct values first: iterating an Arrow-backed column boxes every row
    bad_t = set(frame["actor_type"].unique().tolist()) - {t.value for t in ActorType}
    if bad_t:
        raise DataValidationError(
            f"unknown actor types {sorted(bad_t)}; see mapapp.taxonomy.ActorType"
        )
    located = frame["latitude"].notna() & frame["longitude"].notna()
    outside = located & ~in_france(frame["latitude"], frame["longitude"])
    if outside.any():
        ids = frame.loc[outside, "id"].iloc[:3].tolist()
        raise DataValidationError(
            f"{int(outside.sum())} actors lie outside France, e.g. {ids}; fix or quarantine them at import"
        )
    return frame
