"""Nearest-service search: one k-d tree per obstacle on 3D unit vectors.

Why this design (measured in PERFORMANCE.md): a ``cKDTree`` on unit vectors
answers a k-nearest query in tens of microseconds, and the chord length it
returns converts exactly to a great-circle distance, overseas included.  One
tree per obstacle means an obstacle filter costs nothing; the other filters
(actor types, publics, fees, reception modes, opening hours) are checked on
candidates, fetching more candidates only when too many are filtered out.

"Open now" and "open on a day" read each service's hours in its own time
zone (:func:`mapapp.hours.time_zone`): a query at 07:30 UTC finds Réunion
services open at 11:30 and Paris ones at 08:30.  A service whose hours are
unknown or unreadable is not kept by these filters (nobody should travel on
a guess); the other filters keep it.

Only in-person services with coordinates are indexed; remote-only services
have no meaningful distance and are returned apart by
:meth:`SearchIndex.remote` (both rules from :mod:`mapapp.filters`, shared
with the coverage analysis).

Examples
--------
>>> from mapapp.schema import actors_frame
>>> actors = actors_frame([
...     {"id": "a:1", "obstacles": ["mobilite"], "latitude": 48.0, "longitude": 2.0},
...     {"id": "a:2", "obstacles": ["mobilite", "numerique"], "latitude": 48.1, "longitude": 2.0},
...     {"id": "a:3", "obstacles": ["numerique"], "latitude": 48.0, "longitude": 2.01},
... ])
>>> index = SearchIndex(actors)
>>> res = index.nearest(SearchQuery(lat=48.0, lon=2.0, obstacles=("numerique",)))
>>> res["id"].tolist(), res["distance_km"].round(2).tolist()
(['a:3', 'a:2'], [0.74, 11.12])
"""

from __future__ import annotations

import mmap
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from mapapp.filters import membership, reception_flags, reserved_free_mask
from mapapp.geo.sphere import chord_to_km, km_to_chord, to_unit_xyz
from mapapp.hours import is_open, local_time, open_on, time_zone
from mapapp.store.search_cache import RowStore
from mapapp.taxonomy import ActorType, Obstacle, parse_actor_type, parse_obstacle

__all__ = ["FREE_FRAIS", "SearchIndex", "SearchQuery"]

#: ``frais`` values that count as free of charge ("gratuit" in v0 and v1).
FREE_FRAIS = frozenset({"gratuit", "gratuit-sous-conditions"})
_ALL_PUBLICS = "tous-publics"


@dataclass(frozen=True)
class SearchQuery:
    """What to look for, and around which point.

    Parameters
    ----------
    lat, lon : float
        Where to search from (degrees).
    obstacles : tuple of Obstacle or str
        Obstacles to cover; empty means any service.
    match : {"any", "all"}
        A result must cover at least one (``any``) or every (``all``) obstacle.
    types : tuple of ActorType or str
        Allowed actor types; empty means all.
    publics : tuple of str
        Publics the person belongs to (``femmes``, ``jeunes``...): a service
        matches when it welcomes one of them or everyone.
    free_only : bool
        Keep only services whose ``frais`` say free of charge.
    frais : tuple of str
        Keep services with one of these ``frais`` values (``gratuit``,
        ``adhesion``...); empty means any.
    modes : tuple of str
        Keep services with one of these ``modes_accueil`` (``en-presentiel``,
        ``a-distance``); empty means any.
    open_at : datetime or None
        Keep services open then: an aware datetime is an instant (each
        service's hours read in its own time zone); a naive one a wall-clock
        time where the service is.
    open_day : date or None
        Keep services open at some time on that day.
    reserved_free : bool
        Keep only crèches with a childcare place reserved for women returning
        to work that is free now (:func:`mapapp.filters.reserved_free_mask`).
    radius_km : float or None
        Maximum great-circle distance.
    limit : int
        Number of results.
    """

    lat: float
    lon: float
    obstacles: tuple[Obstacle | str, ...] = ()
    match: Literal["any", "all"] = "any"
    types: tuple[ActorType | str, ...] = ()
    publics: tuple[str, ...] = ()
    free_only: bool = False
    radius_km: float | None = None
    limit: int = 10
    frais: tuple[str, ...] = ()
    modes: tuple[str, ...] = ()
    open_at: datetime | None = None
    open_day: date | None = None
    reserved_free: bool = False

    def __post_init__(self) -> None:
        if not (-90 <= self.lat <= 90 and -180 <= self.lon <= 180):
            raise ValueError(f"lat/lon out of range: {self.lat}, {self.lon}")
        if self.match not in ("any", "all"):
            raise ValueError("match must be 'any' or 'all'")
        if self.limit < 1:
            raise ValueError("limit must be at least 1")
        if self.radius_km is not None and self.radius_km <= 0:
            raise ValueError("radius_km must be positive")


@dataclass
class _Filters:
    obstacle_bits: int
    all_bits: bool
    type_mask: NDArray[np.bool_] | None
    public_mask: NDArray[np.bool_] | None
    free_only: bool
    frais_mask: NDArray[np.bool_] | None = None
    modes_mask: NDArray[np.bool_] | None = None
    open_at: datetime | None = None
    open_day: date | None = None
    reserved_free: bool = False


class SearchIndex:
    """Build once per actors layer; query many times (thread-safe for reads).

    Parameters
    ----------
    actors : GeoDataFrame
        An actors layer (:func:`mapapp.schema.actors_frame`).

    Notes
    -----
    Everything a query reads is a numpy array (one row per actor): the
    flags and codes the filters test, the unit vectors the trees are built
    on, and a :class:`~mapapp.store.search_cache.RowStore` from which
    :meth:`nearest` takes the few rows it returns.  :meth:`arrays` hands
    them out so that :mod:`mapapp.catalog` can keep them with the store, and
    :meth:`from_arrays` maps them back in a fresh process, where the k-d
    tree of an obstacle is built the first time a search needs it and the
    full frame (:attr:`actors`) is only read if a caller asks for it.
    """

    def __init__(self, actors: gpd.GeoDataFrame) -> None:
        self._actors: gpd.GeoDataFrame | None = actors
        self._loader: Callable[[], gpd.GeoDataFrame] | None = None
        self._trees: dict[Obstacle | None, tuple[cKDTree, NDArray[np.intp]] | None] = {}
        self._tree_lock = threading.Lock()
        self._setup(_arrays_of(actors), RowStore.from_frame(actors))

    @classmethod
    def from_arrays(
        cls,
        meta: Mapping[str, Any],
        arrays: Mapping[str, NDArray[Any]],
        text: bytes | mmap.mmap,
        loader: Callable[[], gpd.GeoDataFrame],
    ) -> SearchIndex:
        """An index from :meth:`arrays`' output (e.g. mapped from disk); ``loader`` reads the frame."""
        self = cls.__new__(cls)
        self._actors = None
        self._loader = loader
        self._trees = {}
        self._tree_lock = threading.Lock()
        self._setup(
            _Arrays.from_parts(meta, arrays), RowStore.from_arrays(meta["rows"], arrays, text)
        )
        return self

    def arrays(self) -> tuple[dict[str, Any], dict[str, NDArray[Any]], bytes | mmap.mmap]:
        """``(meta, arrays, text)``: everything :meth:`from_arrays` needs, JSON and numpy only."""
        meta, arrays = self._a.parts()
        rows_meta, rows_arrays, text = self._rows.arrays()
        meta["rows"] = rows_meta
        arrays.update(rows_arrays)
        return meta, arrays, text

    def _setup(self, a: _Arrays, rows: RowStore) -> None:
        self._a = a
        self._rows = rows
        self._n = len(a.located)
        self._located, self._remote, self._xyz = a.located, a.remote, a.xyz
        self._obstacle_bits, self._type_code = a.obstacle_bits, a.type_code
        self._open_to_all, self._free, self._cluster = a.open_to_all, a.free, a.cluster
        self._reserved_free = a.reserved_free
        self._has_duplicates = a.has_duplicates
        self.approximate = a.approximate
        self._obit = {o: 1 << i for i, o in enumerate(Obstacle)}
        self._type_codes = {t: i for i, t in enumerate(ActorType)}
        self._base = np.flatnonzero(self._located)

    def build_trees(self) -> None:
        """Build every obstacle's k-d tree now (else each is built by its first search)."""
        for key in (None, *Obstacle):
            self._tree(key)

    def build_trees_in_background(self) -> threading.Thread:
        """:meth:`build_trees` in a daemon thread: searches meanwhile build what they need."""
        thread = threading.Thread(target=self.build_trees, name="mapapp-trees", daemon=True)
        thread.start()
        return thread

    @property
    def actors(self) -> gpd.GeoDataFrame:
        """The whole layer as a frame (read on first use when mapped from disk)."""
        if self._actors is None:
            with self._tree_lock:
                if self._actors is None:
                    assert self._loader is not None
                    self._actors = self._loader()
        return self._actors

    def _tree(self, key: Obstacle | None) -> tuple[cKDTree, NDArray[np.intp]] | None:
        """The k-d tree of one obstacle's located rows (None: every row), built on first use."""
        if key in self._trees:
            return self._trees[key]
        with self._tree_lock:
            if key not in self._trees:
                base = self._base
                rows = (
                    base
                    if key is None
                    else base[(self._obstacle_bits[base] & self._obit[key]) != 0]
                )
                # an unbalanced tree (sliding midpoint) builds ~40 % faster and answers
                # k-nearest queries as fast on these points (measured at 250k rows)
                points = np.asarray(self._xyz[rows])
                tree = cKDTree(points, balanced_tree=False) if len(rows) or key is None else None
                self._trees[key] = (tree, rows) if tree is not None else None
            return self._trees[key]

    # -- queries ---------------------------------------------------------------
    def _filters(self, q: SearchQuery) -> _Filters:
        obs = [parse_obstacle(o) for o in q.obstacles]
        type_mask = None
        if q.types:
            type_mask = np.zeros(len(self._type_codes), dtype=bool)
            for t in q.types:
                type_mask[self._type_codes[parse_actor_type(t)]] = True
        public_mask = None
        if q.publics and _ALL_PUBLICS not in q.publics:
            public_mask = self._open_to_all | self._mask("publics", q.publics)
        return _Filters(
            obstacle_bits=sum(self._obit[o] for o in set(obs)),
            all_bits=q.match == "all",
            type_mask=type_mask,
            public_mask=public_mask,
            free_only=q.free_only,
            frais_mask=self._mask("frais", q.frais) if q.frais else None,
            modes_mask=self._mask("modes_accueil", q.modes) if q.modes else None,
            open_at=q.open_at,
            open_day=q.open_day,
            reserved_free=q.reserved_free,
        )

    def _mask(self, column: str, values: Sequence[str]) -> NDArray[np.bool_]:
        mask = np.zeros(self._n, dtype=bool)
        for v in values:
            mask[self._a.rows_with(column, v)] = True
        return mask

    def _open(self, rows: NDArray[np.intp], f: _Filters) -> NDArray[np.bool_]:
        """Which rows are known to be open as ``f`` asks, in their own time zone."""
        out = np.zeros(len(rows), dtype=bool)
        hours = self._rows.column("horaires_accueil", rows) if len(rows) else []
        zones = self._a.zone_names
        for k, r in enumerate(rows):
            text, zone = str(hours[k] or ""), zones[int(self._a.zone_code[r])]
            ok = True
            if f.open_at is not None:
                ok = is_open(text, local_time(f.open_at, zone)) is True
            if ok and f.open_day is not None:
                ok = open_on(text, f.open_day) is True
            out[k] = ok
        return out

    def _keep(self, rows: NDArray[np.intp], f: _Filters) -> NDArray[np.bool_]:
        keep = np.ones(len(rows), dtype=bool)
        if f.obstacle_bits:
            have = self._obstacle_bits[rows] & f.obstacle_bits
            keep &= (have == f.obstacle_bits) if f.all_bits else (have != 0)
        if f.type_mask is not None:
            keep &= f.type_mask[self._type_code[rows]]
        if f.public_mask is not None:
            keep &= f.public_mask[rows]
        if f.free_only:
            keep &= self._free[rows]
        if f.frais_mask is not None:
            keep &= f.frais_mask[rows]
        if f.modes_mask is not None:
            keep &= f.modes_mask[rows]
        if f.reserved_free:
            keep &= self._reserved_free[rows]
        if f.open_at is not None or f.open_day is not None:
            keep[keep] = self._open(rows[keep], f)
        return keep

    def query(self, q: SearchQuery) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
        """Row positions (into ``actors``) and great-circle km of the nearest matches.

        Sorted by distance, at most ``q.limit`` rows, all within ``q.radius_km``.
        """
        f = self._filters(q)
        obs = [parse_obstacle(o) for o in q.obstacles]
        found = [self._tree(o) for o in dict.fromkeys(obs)] if obs else [self._tree(None)]
        if f.all_bits and obs:
            # Every result carries every obstacle: the smallest tree suffices.
            if any(t is None for t in found):
                return np.empty(0, np.intp), np.empty(0)
            found = [min(found, key=lambda t: len(t[1]) if t else 0)]
        trees = [t for t in found if t is not None]
        point = to_unit_xyz([q.lat], [q.lon])[0]
        bound = km_to_chord(q.radius_km) if q.radius_km is not None else np.inf
        rows_out: list[NDArray[np.intp]] = []
        dist_out: list[NDArray[np.float64]] = []
        fetch = q.limit * 3 if self._has_duplicates else q.limit
        for tree, rows in trees:
            r, d = self._query_tree(tree, rows, point, bound, fetch, f)
            rows_out.append(r)
            dist_out.append(d)
        if not rows_out:
            return np.empty(0, np.intp), np.empty(0)
        rows_all = np.concatenate(rows_out)
        chord_all = np.concatenate(dist_out)
        if len(trees) > 1:
            rows_all, first = np.unique(rows_all, return_index=True)
            chord_all = chord_all[first]
        # Ties (two services at one address) are broken by row order, for stable output.
        order = np.lexsort((rows_all, chord_all))
        if self._has_duplicates:
            order = order[self._first_of_cluster(rows_all[order])]
        order = order[: q.limit]
        return rows_all[order], chord_to_km(chord_all[order])

    def _first_of_cluster(self, rows: NDArray[np.intp]) -> NDArray[np.bool_]:
        """Mask keeping, in order, each row but later members of an already seen cluster."""
        codes = self._cluster[rows]
        keep = np.ones(len(rows), dtype=bool)
        clustered = np.flatnonzero(codes >= 0)
        _, first = np.unique(codes[clustered], return_index=True)
        keep[clustered] = False
        keep[clustered[first]] = True
        return keep

    def _query_tree(
        self,
        tree: cKDTree,
        rows: NDArray[np.intp],
        point: NDArray[np.float64],
        bound: float,
        limit: int,
        f: _Filters,
    ) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
        n = len(rows)
        k = min(n, limit * 2)
        while True:
            d, i = tree.query(point, k=k, distance_upper_bound=bound)
            d, i = np.atleast_1d(d), np.atleast_1d(i)
            found = i < n
            cand = rows[i[found]]
            dist = d[found]
            keep = self._keep(cand, f)
            exhausted = k >= n or not found.all()
            if keep.sum() >= limit or exhausted:
                return cand[keep][:limit], dist[keep][:limit]
            k = min(n, k * 4)

    def rows(
        self, rows: Sequence[int] | NDArray[np.intp], km: NDArray[np.float64] | None = None
    ) -> pd.DataFrame:
        """Rows of the layer (no geometry), in the order given, with ``distance_km`` if given.

        What a result card needs, taken from compact arrays: cheap for a few
        rows whatever the layer's size (text columns come back as ``object``).
        """
        extra = None if km is None else {"distance_km": np.asarray(km, dtype=float)}
        return self._rows.take(rows, extra=extra)

    def record(self, row: int) -> dict[str, Any]:
        """One row as a mapping of column to value (no geometry)."""
        out = dict(zip(self._rows.text_columns, self._rows.fields([row])[0], strict=True))
        for name in self._rows.columns:
            if name not in out:
                out[name] = self._rows.column(name, [row])[0]
        return out

    def records(self, rows: Sequence[int] | NDArray[np.intp]) -> list[dict[str, Any]]:
        """:meth:`record` of several rows at once (one pass: what a JSON answer needs)."""
        return self._rows.records(rows)

    def text_column(self, name: str) -> list[str]:
        """A text column (``id``...) for every row, without building a frame."""
        return self._rows.text_column(name)

    def coordinates(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Latitude and longitude of every row (degrees; NaN where unknown)."""
        lat, lon = self._rows.whole("latitude"), self._rows.whole("longitude")
        if lat is None or lon is None:
            raise KeyError("latitude/longitude")
        return lat, lon

    def rows_flag(self, name: str) -> NDArray[np.bool_]:
        """A boolean column (``demo``, ``confidential``...) for every row; False when absent."""
        found = self._rows.whole(name)
        return np.zeros(self._n, dtype=bool) if found is None else np.asarray(found, dtype=bool)

    def nearest(self, q: SearchQuery) -> pd.DataFrame:
        """The nearest matching in-person services as rows of ``actors`` plus ``distance_km``."""
        rows, km = self.query(q)
        return self.rows(rows, km)

    def remote(self, q: SearchQuery, *, limit: int = 50) -> pd.DataFrame:
        """Remote-only services matching the filters (no distance), newest first."""
        rows = self._a.remote_order
        rows = rows[self._keep(rows, self._filters(q))][:limit]
        return self.rows(rows)


@dataclass
class _Arrays:
    """One value per actor for each thing a filter tests, plus the lookup tables.

    ``remote_order`` lists the remote-only rows newest first (``date_maj``),
    ``values`` the rows carrying each value of the list columns filtered on.
    """

    located: NDArray[np.bool_]
    remote: NDArray[np.bool_]
    xyz: NDArray[np.float64]
    obstacle_bits: NDArray[np.int64]
    type_code: NDArray[np.int16]
    open_to_all: NDArray[np.bool_]
    free: NDArray[np.bool_]
    reserved_free: NDArray[np.bool_]
    cluster: NDArray[np.int64]
    approximate: NDArray[np.bool_]
    zone_code: NDArray[np.int16]
    zone_names: list[str]
    remote_order: NDArray[np.intp]
    has_duplicates: bool
    values: dict[str, dict[str, NDArray[np.intp]]]

    _FIELDS = (
        "located",
        "remote",
        "xyz",
        "obstacle_bits",
        "type_code",
        "open_to_all",
        "free",
        "reserved_free",
        "cluster",
        "approximate",
        "zone_code",
        "remote_order",
    )

    def rows_with(self, column: str, value: str) -> NDArray[np.intp]:
        return self.values[column].get(value, np.empty(0, np.intp))

    def parts(self) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
        arrays: dict[str, NDArray[Any]] = {f: getattr(self, f) for f in self._FIELDS}
        values: dict[str, list[str]] = {}
        for column, by in self.values.items():
            values[column] = list(by)
            if by:
                arrays[f"values_{column}"] = np.concatenate(list(by.values()))
                arrays[f"values_{column}_ends"] = np.cumsum([len(v) for v in by.values()])
        meta = {
            "n": len(self.located),
            "obstacles": [o.value for o in Obstacle],
            "types": [t.value for t in ActorType],
            "zone_names": self.zone_names,
            "has_duplicates": self.has_duplicates,
            "values": values,
        }
        return meta, arrays

    @classmethod
    def from_parts(cls, meta: Mapping[str, Any], arrays: Mapping[str, NDArray[Any]]) -> _Arrays:
        if meta["obstacles"] != [o.value for o in Obstacle] or meta["types"] != [
            t.value for t in ActorType
        ]:
            raise ValueError("index arrays written for another taxonomy")
        values: dict[str, dict[str, NDArray[np.intp]]] = {}
        for column, names in meta["values"].items():
            values[column] = {}
            if names:
                flat, ends = arrays[f"values_{column}"], arrays[f"values_{column}_ends"]
                starts = np.concatenate([[0], ends[:-1]])
                for name, a, b in zip(names, starts.tolist(), ends.tolist(), strict=True):
                    values[column][name] = flat[a:b]
        return cls(
            **{f: arrays[f] for f in cls._FIELDS},
            zone_names=list(meta["zone_names"]),
            has_duplicates=bool(meta["has_duplicates"]),
            values=values,
        )


def _arrays_of(a: gpd.GeoDataFrame) -> _Arrays:
    """Compute every per-actor array of the index from the layer (vectorised)."""
    n = len(a)
    lat = a["latitude"].to_numpy(dtype=float)
    lon = a["longitude"].to_numpy(dtype=float)
    in_person, remote = reception_flags(a["modes_accueil"])
    obstacles = list(Obstacle)
    covers = membership(a["obstacles"], [o.value for o in obstacles])
    bits = covers.astype(np.int64) @ (1 << np.arange(len(obstacles), dtype=np.int64))
    type_codes = {t.value: i for i, t in enumerate(ActorType)}
    type_pos, type_values = pd.factorize(a["actor_type"].fillna(ActorType.AUTRE.value))
    type_lookup = np.array([type_codes[ActorType(t).value] for t in type_values], dtype=np.int16)
    type_code = type_lookup[type_pos] if len(type_values) else np.zeros(n, np.int16)
    # Rows of each value, for any number of distinct values (a bit per value
    # in an int64 would run out past 64, and two values would then collide).
    open_to_all = _any_of(a["publics"], [_ALL_PUBLICS], empty=True)
    free = _any_of(a["frais"], sorted(FREE_FRAIS), empty=False)
    # Duplicates across sources (same place, several sources) collapse into the
    # nearest member of their cluster; ``-1`` marks rows outside any cluster.
    clusters = a["cluster_id"] if "cluster_id" in a else pd.Series([""] * n)
    codes, _ = pd.factorize(clusters.where(clusters != "", None))
    zone_names, zone_code = _zones(a["code_insee"], a["code_postal"])
    remote_rows = np.flatnonzero(remote)
    dates = pd.Series(a["date_maj"].to_numpy()[remote_rows]).fillna("").astype(str)
    order = dates.sort_values(ascending=False, kind="stable").index.to_numpy()
    return _Arrays(
        located=np.isfinite(lat) & np.isfinite(lon) & in_person,
        remote=np.asarray(remote, dtype=bool),
        xyz=to_unit_xyz(np.nan_to_num(lat), np.nan_to_num(lon)),
        obstacle_bits=bits,
        type_code=type_code,
        open_to_all=open_to_all,
        free=free,
        reserved_free=reserved_free_mask(a),
        cluster=codes.astype(np.int64),
        approximate=_placeholder_points(a),
        zone_code=zone_code,
        zone_names=zone_names,
        remote_order=remote_rows[order].astype(np.intp),
        has_duplicates=bool(a["duplicate"].any()) if "duplicate" in a else False,
        values={c: _rows_by_value(a[c]) for c in ("publics", "frais", "modes_accueil")},
    )


def _flat(lists: pd.Series) -> tuple[NDArray[np.intp], NDArray[np.object_]]:
    """``(row, value)`` pairs of a list-valued column, through Arrow (no Python loop)."""
    raw = lists.to_numpy()
    try:
        arr = pa.array(raw, type=pa.list_(pa.string()), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        arr = pa.array(
            [[str(x) for x in v] if isinstance(v, list | tuple | np.ndarray) else [] for v in raw],
            type=pa.list_(pa.string()),
        )
    flat = pc.list_flatten(arr)
    keep = pc.is_valid(flat).to_numpy(zero_copy_only=False)
    rows = pc.list_parent_indices(arr).to_numpy().astype(np.intp)
    values = flat.to_numpy(zero_copy_only=False).astype(object)
    return rows[keep], values[keep]


def _rows_by_value(lists: pd.Series) -> dict[str, NDArray[np.intp]]:
    """Row positions of each value of a list-valued column (vectorised: 1M rows in a second)."""
    rows, values = _flat(lists)
    if len(rows) == 0:
        return {}
    codes, uniques = pd.factorize(values)
    order = np.lexsort((rows, codes))
    ends = np.cumsum(np.bincount(codes, minlength=len(uniques)))
    starts = ends - np.bincount(codes, minlength=len(uniques))
    return {
        str(v): np.unique(rows[order[a:b]]) for v, a, b in zip(uniques, starts, ends, strict=True)
    }


def _any_of(lists: pd.Series, wanted: Sequence[str], *, empty: bool) -> NDArray[np.bool_]:
    """Rows whose list holds one of ``wanted`` (or is empty, when ``empty``)."""
    rows, values = _flat(lists)
    out = np.zeros(len(lists), dtype=bool)
    out[rows[np.isin(values.astype(str), list(wanted))]] = True
    if empty:
        out |= np.bincount(rows, minlength=len(lists)) == 0
    return out


#: a point shared by this many records with as many different street addresses is
#: a placeholder (the source put a commune's point on each), not their position
_PLACEHOLDER_MIN = 3


def _placeholder_points(a: pd.DataFrame) -> NDArray[np.bool_]:
    """Rows whose point is a placeholder shared with other addresses.

    Why: some sources give many services the same point, their commune's
    (13 crèches of La Réunion's monenfant records at Saint-Denis' town hall,
    with 13 different streets): a distance from that point is not theirs.

    Examples
    --------
    >>> f = pd.DataFrame({"latitude": [1.0, 1.0, 1.0, 1.0, 2.0],
    ...     "longitude": [3.0] * 5, "adresse": ["1 rue A", "2 rue B", "3 rue C", "3 Rue C", ""]})
    >>> _placeholder_points(f).tolist()
    [True, True, True, True, False]
    """
    n = len(a)
    lat = a["latitude"].to_numpy(dtype=float).round(6)
    lon = a["longitude"].to_numpy(dtype=float).round(6)
    # Only points shared by several rows can be placeholders: normalise their streets only.
    points = pd.DataFrame({"lat": lat, "lon": lon})
    shared_rows = np.flatnonzero(points.duplicated(keep=False).to_numpy())
    if n == 0 or len(shared_rows) < _PLACEHOLDER_MIN:
        return np.zeros(n, dtype=bool)
    street = a["adresse"].iloc[shared_rows].fillna("").astype(str).str.lower()
    street = street.str.replace(r"\W+", "", regex=True)
    key = points.iloc[shared_rows].assign(street=street.to_numpy())
    streets = key[key["street"] != ""].groupby(["lat", "lon"])["street"].nunique()
    shared = streets[streets >= _PLACEHOLDER_MIN]
    out = np.zeros(n, dtype=bool)
    if not shared.empty:
        idx = pd.MultiIndex.from_frame(key[["lat", "lon"]])
        out[shared_rows] = np.asarray(idx.isin(shared.index), dtype=bool)
    return out


def _zones(codes: pd.Series, postcodes: pd.Series) -> tuple[list[str], NDArray[np.int16]]:
    """Time zones met, and each row's (as a position in that list).

    From the INSEE code or else the postcode (by prefix).
    """
    key = codes.fillna("").astype(str).str.strip()
    key = key.where(key.str.len() >= 2, postcodes.fillna("").astype(str).str.strip())
    prefix_code, prefixes = pd.factorize(key.str[:3])
    names = [time_zone(str(p)) for p in prefixes]
    zone_names = sorted(set(names)) or ["Europe/Paris"]
    per_prefix = np.array([zone_names.index(z) for z in names], dtype=np.int16)
    return zone_names, per_prefix[prefix_code] if len(names) else np.zeros(len(key), np.int16)


def search(
    actors: gpd.GeoDataFrame,
    lat: float,
    lon: float,
    *,
    obstacles: Sequence[str] = (),
    limit: int = 10,
) -> pd.DataFrame:
    """One-off convenience: build an index and return the nearest services."""
    return SearchIndex(actors).nearest(
        SearchQuery(lat=lat, lon=lon, obstacles=tuple(obstacles), limit=limit)
    )
