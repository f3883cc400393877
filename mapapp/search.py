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
from collections.abc import Callable, Iterable, Mapping, Sequence
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
from mapapp.store.search_cache import RowsBuilder, RowStore
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

    @staticmethod
    def arrays_of_batches(
        batches: Iterable[pd.DataFrame], text: Callable[[bytes], object]
    ) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
        """:meth:`arrays` of the rows of ``batches`` one after the other, never holding them all.

        Why: a million wide rows cost gigabytes as one frame; a batch of
        them a few dozen megabytes.  Each batch's share of the arrays is
        computed as it comes (its rows' joined text handed to ``text`` at
        once, e.g. written to the file it is kept in) and the shares are
        merged at the end into exactly what :meth:`arrays` gives for the
        whole layer: same meta, same arrays, and ``text`` called with the
        same bytes in order.

        >>> from mapapp.schema import actors_frame
        >>> f = actors_frame([{"id": f"a:{k}", "obstacles": ["mobilite"], "latitude": 45.0 + k,
        ...                    "longitude": 5.0} for k in range(5)])
        >>> chunks: list[bytes] = []
        >>> meta, arrays = SearchIndex.arrays_of_batches([f.iloc[:2], f.iloc[2:]], chunks.append)
        >>> whole_meta, whole_arrays, whole_text = SearchIndex(f).arrays()
        >>> meta == whole_meta, b"".join(chunks) == whole_text
        (True, True)
        >>> all(arrays[k].tobytes() == whole_arrays[k].tobytes() for k in whole_arrays)
        True
        """
        parts: list[_Part] = []
        rows = RowsBuilder(text)
        for batch in batches:
            parts.append(_Part.of(batch))
            rows.add(batch)
        if not parts:
            raise ValueError("no batch: give at least one (possibly empty) frame")
        meta, arrays = _merge(parts).parts()
        meta["rows"], rows_arrays = rows.arrays()
        arrays.update(rows_arrays)
        return meta, arrays

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
    return _merge([_Part.of(a)])


@dataclass
class _Part:
    """What one batch of consecutive rows contributes to :class:`_Arrays`.

    Why: the kept index is built from the store a batch at a time (a wide
    frame of a million rows does not fit beside it in 2 GiB).  Per-row
    arrays are computed here; what depends on other rows (duplicate
    clusters, each list value's rows, time zones, the newest-first order of
    remote services, shared placeholder points) is kept as batch-local codes
    and resolved by :func:`_merge`, which gives exactly what the whole
    layer at once gives.
    """

    n: int
    row_arrays: dict[str, NDArray[Any]]
    cluster: pa.Array
    zones: tuple[NDArray[np.intp], list[str]]
    remote_dates: NDArray[np.object_]
    has_duplicates: bool
    values: dict[str, tuple[NDArray[np.intp], NDArray[np.intp], NDArray[Any]]]
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    streets: pa.Array

    @classmethod
    def of(cls, a: pd.DataFrame) -> _Part:
        n = len(a)
        lat = a["latitude"].to_numpy(dtype=float)
        lon = a["longitude"].to_numpy(dtype=float)
        in_person, remote = reception_flags(a["modes_accueil"])
        obstacles = list(Obstacle)
        covers = membership(a["obstacles"], [o.value for o in obstacles])
        bits = covers.astype(np.int64) @ (1 << np.arange(len(obstacles), dtype=np.int64))
        type_codes = {t.value: i for i, t in enumerate(ActorType)}
        type_pos, type_values = pd.factorize(a["actor_type"].fillna(ActorType.AUTRE.value))
        type_lookup = np.array(
            [type_codes[ActorType(t).value] for t in type_values], dtype=np.int16
        )
        type_code = type_lookup[type_pos] if len(type_values) else np.zeros(n, np.int16)
        # Duplicates across sources (same place, several sources) collapse into the
        # nearest member of their cluster; ``-1`` marks rows outside any cluster.
        clusters = (
            _strings(a["cluster_id"]) if "cluster_id" in a else pa.nulls(n, pa.large_string())
        )
        remote_rows = np.flatnonzero(remote)
        dates = pd.Series(a["date_maj"].to_numpy()[remote_rows]).fillna("").astype(str)
        return cls(
            n=n,
            row_arrays={
                "located": np.isfinite(lat) & np.isfinite(lon) & in_person,
                "remote": np.asarray(remote, dtype=bool),
                "xyz": to_unit_xyz(np.nan_to_num(lat), np.nan_to_num(lon)),
                "obstacle_bits": bits,
                "type_code": type_code,
                # Rows of each value, for any number of distinct values (a bit per
                # value in an int64 would run out past 64, and two would collide).
                "open_to_all": _any_of(a["publics"], [_ALL_PUBLICS], empty=True),
                "free": _any_of(a["frais"], sorted(FREE_FRAIS), empty=False),
                "reserved_free": reserved_free_mask(a),
            },
            # Arrow strings: a million ids as Python objects would cost ten times more
            cluster=pc.if_else(pc.equal(clusters, ""), None, clusters),
            zones=_zone_names(a["code_insee"], a["code_postal"]),
            remote_dates=dates.to_numpy(dtype=object),
            has_duplicates=bool(a["duplicate"].any()) if "duplicate" in a else False,
            values={c: _coded_values(a[c]) for c in ("publics", "frais", "modes_accueil")},
            lat=lat,
            lon=lon,
            streets=_strings(a["adresse"]),
        )


def _merge(parts: Sequence[_Part]) -> _Arrays:
    """:class:`_Arrays` of the rows of ``parts`` one after the other."""
    starts = np.cumsum([0, *(p.n for p in parts)])[:-1].tolist()

    def cat(arrays: list[NDArray[Any]], empty: NDArray[Any]) -> NDArray[Any]:
        return np.concatenate(arrays) if arrays else empty

    row = {
        k: cat([p.row_arrays[k] for p in parts], np.empty(0))
        for k in (parts[0].row_arrays if parts else ())
    }
    remote = row["remote"]
    remote_rows = np.flatnonzero(remote)
    dates = pd.Series(cat([p.remote_dates for p in parts], np.empty(0, dtype=object)))
    dates = dates.fillna("").astype(str)
    order = dates.sort_values(ascending=False, kind="stable").index.to_numpy()
    zone_names = sorted({z for p in parts for z in p.zones[1]}) or ["Europe/Paris"]
    place = {z: i for i, z in enumerate(zone_names)}
    zone_code = cat(
        [
            np.array([place[z] for z in p.zones[1]], dtype=np.int16)[p.zones[0]]
            for p in parts
            if p.n
        ],
        np.zeros(0, np.int16),
    )
    lat = cat([p.lat for p in parts], np.empty(0))
    lon = cat([p.lon for p in parts], np.empty(0))
    streets = pa.chunked_array([p.streets for p in parts], type=pa.large_string())
    return _Arrays(
        located=row["located"].astype(bool),
        remote=remote.astype(bool),
        xyz=row["xyz"].reshape(-1, 3),
        obstacle_bits=row["obstacle_bits"].astype(np.int64),
        type_code=row["type_code"].astype(np.int16),
        open_to_all=row["open_to_all"].astype(bool),
        free=row["free"].astype(bool),
        reserved_free=row["reserved_free"].astype(bool),
        cluster=_first_seen_codes(pa.chunked_array([p.cluster for p in parts], pa.large_string())),
        approximate=_shared_placeholders(
            lat, lon, lambda rows: pd.Series(streets.take(rows).to_pylist())
        ),
        zone_code=zone_code,
        zone_names=zone_names,
        remote_order=remote_rows[order].astype(np.intp),
        has_duplicates=any(p.has_duplicates for p in parts),
        values={
            c: _group_rows(
                cat(
                    [
                        rows + s
                        for p, s in zip(parts, starts, strict=True)
                        for rows in [p.values[c][0]]
                    ],
                    np.empty(0, np.intp),
                ),
                _recode([(p.values[c][1], p.values[c][2]) for p in parts]),
                _uniques([p.values[c][2] for p in parts]),
            )
            for c in ("publics", "frais", "modes_accueil")
        },
    )


def _first_seen_codes(values: pa.ChunkedArray) -> NDArray[np.int64]:
    """Each value's code, numbered in order of first appearance (as ``pd.factorize``); -1 for null.

    >>> _first_seen_codes(pa.chunked_array([["b", None, "a"], ["b", "c"]])).tolist()
    [0, -1, 1, 0, 2]
    """
    if len(values) == 0:
        return np.empty(0, np.int64)
    encoded = pc.dictionary_encode(values.combine_chunks())
    codes = pc.fill_null(encoded.indices.cast(pa.int64()), -1)
    return np.asarray(codes.to_numpy(zero_copy_only=False), dtype=np.int64)


def _strings(values: pd.Series) -> pa.Array:
    """A text column as Arrow strings (missing stays missing; anything else through ``str``)."""
    try:
        return pa.array(values, type=pa.large_string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        cells = [None if v is None or (isinstance(v, float) and v != v) else str(v) for v in values]
        return pa.array(cells, type=pa.large_string())


def _uniques(names: Sequence[NDArray[Any]]) -> NDArray[Any]:
    """The distinct values of ``names`` (batch by batch), in order of first appearance."""
    if not names:
        return np.empty(0, dtype=object)
    _, uniques = pd.factorize(np.concatenate([np.asarray(n, dtype=object) for n in names]))
    return np.asarray(uniques, dtype=object)


def _recode(coded: Sequence[tuple[NDArray[np.intp], NDArray[Any]]]) -> NDArray[np.intp]:
    """Batch-local factorize codes as the codes of one factorize of all batches.

    ``pd.factorize`` numbers values in order of first appearance, so
    numbering the batches' distinct values (in batch order) the same way
    gives the codes the whole column would get; ``-1`` (missing) stays.
    """
    if not coded:
        return np.empty(0, np.intp)
    together = np.concatenate([np.asarray(names, dtype=object) for _, names in coded])
    global_codes, _ = pd.factorize(together) if len(together) else (np.empty(0, np.intp), None)
    out: list[NDArray[np.intp]] = []
    at = 0
    for codes, names in coded:
        lookup = np.append(np.asarray(global_codes[at : at + len(names)], dtype=np.intp), -1)
        out.append(lookup[codes])  # code -1 picks the appended -1
        at += len(names)
    return np.concatenate(out).astype(np.intp)


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
    rows, codes, uniques = _coded_values(lists)
    return _group_rows(rows, codes, uniques)


def _coded_values(lists: pd.Series) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[Any]]:
    """``(row, value code, distinct values)`` of a list-valued column's items."""
    rows, values = _flat(lists)
    codes, uniques = pd.factorize(values)
    return rows, codes.astype(np.intp), np.asarray(uniques, dtype=object)


def _group_rows(
    rows: NDArray[np.intp], codes: NDArray[np.intp], uniques: NDArray[Any]
) -> dict[str, NDArray[np.intp]]:
    """Sorted distinct rows of each value, keyed in ``uniques`` order."""
    if len(rows) == 0:
        return {}
    order = np.lexsort((rows, codes))
    rows, codes = rows[order], codes[order]
    # sorted by value then row: a repeated (value, row) pair is next to its twin
    keep = np.ones(len(rows), dtype=bool)
    keep[1:] = (rows[1:] != rows[:-1]) | (codes[1:] != codes[:-1])
    rows, codes = rows[keep], codes[keep]
    counts = np.bincount(codes, minlength=len(uniques))
    ends = np.cumsum(counts)
    starts = ends - counts
    return {str(v): rows[a:b] for v, a, b in zip(uniques, starts, ends, strict=True)}


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
    lat = a["latitude"].to_numpy(dtype=float)
    lon = a["longitude"].to_numpy(dtype=float)
    return _shared_placeholders(lat, lon, lambda rows: a["adresse"].iloc[rows])


def _shared_placeholders(
    lat: NDArray[np.float64],
    lon: NDArray[np.float64],
    streets_of: Callable[[NDArray[np.intp]], pd.Series],
) -> NDArray[np.bool_]:
    """:func:`_placeholder_points` from the points, reading streets only where points are shared."""
    n = len(lat)
    lat, lon = lat.round(6), lon.round(6)
    # Only points shared by several rows can be placeholders: normalise their streets only.
    shared_rows = _shared_points(lat, lon)
    if n == 0 or len(shared_rows) < _PLACEHOLDER_MIN:
        return np.zeros(n, dtype=bool)
    street = streets_of(shared_rows).fillna("").astype(str).str.lower()
    street = street.str.replace(r"\W+", "", regex=True)
    key = pd.DataFrame(
        {"lat": lat[shared_rows], "lon": lon[shared_rows], "street": street.to_numpy()}
    )
    streets = key[key["street"] != ""].groupby(["lat", "lon"])["street"].nunique()
    shared = streets[streets >= _PLACEHOLDER_MIN]
    out = np.zeros(n, dtype=bool)
    if not shared.empty:
        idx = pd.MultiIndex.from_frame(key[["lat", "lon"]])
        out[shared_rows] = np.asarray(idx.isin(shared.index), dtype=bool)
    return out


def _shared_points(lat: NDArray[np.float64], lon: NDArray[np.float64]) -> NDArray[np.intp]:
    """The rows (ascending) whose point another row has too; rows without a point are left out.

    Why a sort: ``DataFrame.duplicated`` on two million points builds hash
    tables of both columns and of their pairs, 400 MB at the index build's
    peak; sorting the points puts equal ones side by side for a few arrays.
    A row without a point is never a placeholder (its group has no key).

    >>> nan = float("nan")
    >>> _shared_points(np.array([1.0, 2.0, 1.0, nan, nan]), np.array([5.0, 5.0, 5.0, nan, nan])).tolist()
    [0, 2]
    """
    known = np.flatnonzero(~(np.isnan(lat) | np.isnan(lon)))
    order = known[np.lexsort((lon[known], lat[known]))]
    a, b = lat[order], lon[order]
    same = (a[1:] == a[:-1]) & (b[1:] == b[:-1])
    shared = np.zeros(len(order), dtype=bool)
    shared[1:] |= same
    shared[:-1] |= same
    return np.sort(order[shared])


def _zones(codes: pd.Series, postcodes: pd.Series) -> tuple[list[str], NDArray[np.int16]]:
    """Time zones met, and each row's (as a position in that list).

    From the INSEE code or else the postcode (by prefix).
    """
    per_row, names = _zone_names(codes, postcodes)
    zone_names = sorted(set(names)) or ["Europe/Paris"]
    per_name = np.array([zone_names.index(z) for z in names], dtype=np.int16)
    return zone_names, per_name[per_row] if len(names) else np.zeros(len(codes), np.int16)


def _zone_names(codes: pd.Series, postcodes: pd.Series) -> tuple[NDArray[np.intp], list[str]]:
    """Each row's time zone as a position in a list of zone names (one per prefix met)."""
    key = codes.fillna("").astype(str).str.strip()
    key = key.where(key.str.len() >= 2, postcodes.fillna("").astype(str).str.strip())
    prefix_code, prefixes = pd.factorize(key.str[:3])
    return prefix_code.astype(np.intp), [time_zone(str(p)) for p in prefixes]


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
