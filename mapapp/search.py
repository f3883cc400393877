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

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from mapapp.filters import membership, reception_flags, reserved_free_mask
from mapapp.geo.sphere import chord_to_km, km_to_chord, to_unit_xyz
from mapapp.hours import is_open, local_time, open_on, time_zone
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


@dataclass
class SearchIndex:
    """Build once per actors layer; query many times (thread-safe for reads).

    Parameters
    ----------
    actors : GeoDataFrame
        An actors layer (:func:`mapapp.schema.actors_frame`).
    """

    actors: gpd.GeoDataFrame
    _trees: dict[Obstacle | None, tuple[cKDTree, NDArray[np.intp]]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        a = self.actors
        n = len(a)
        lat = a["latitude"].to_numpy(dtype=float)
        lon = a["longitude"].to_numpy(dtype=float)
        in_person, self._remote = reception_flags(a["modes_accueil"])
        self._located = np.isfinite(lat) & np.isfinite(lon) & in_person
        self._xyz = to_unit_xyz(np.nan_to_num(lat), np.nan_to_num(lon))
        obstacles = list(Obstacle)
        self._obit = {o: 1 << i for i, o in enumerate(obstacles)}
        covers = membership(a["obstacles"], [o.value for o in obstacles])
        self._obstacle_bits = covers.astype(np.int64) @ np.array(
            [self._obit[o] for o in obstacles], dtype=np.int64
        )
        types = list(ActorType)
        self._type_codes = {t: i for i, t in enumerate(types)}
        self._type_code = (
            a["actor_type"]
            .map(lambda t: self._type_codes.get(ActorType(t), 0))
            .to_numpy(dtype=np.int16)
        )
        # Rows of each value, for any number of distinct values (a bit per value
        # in an int64 would run out past 64, and two values would then collide).
        self._open_to_all = np.fromiter(
            ((len(lst) == 0 or _ALL_PUBLICS in lst) for lst in a["publics"]), bool, count=n
        )
        self._public_rows = _rows_by_value(a["publics"])
        self._frais_rows = _rows_by_value(a["frais"])
        self._modes_rows = _rows_by_value(a["modes_accueil"])
        self._hours = a["horaires_accueil"].fillna("").astype(str).to_numpy()
        self._zones = _zones(a["code_insee"], a["code_postal"])
        self._reserved_free = reserved_free_mask(a)
        self._free = np.fromiter(
            (bool(FREE_FRAIS.intersection(f)) for f in a["frais"]), bool, count=n
        )
        # Duplicates across sources (same place, several sources) collapse into the
        # nearest member of their cluster; ``-1`` marks rows outside any cluster.
        clusters = a["cluster_id"] if "cluster_id" in a else pd.Series([""] * n)
        codes, _ = pd.factorize(clusters.where(clusters != "", None))
        self._cluster = codes.astype(np.int64)
        self._has_duplicates = bool(a["duplicate"].any()) if "duplicate" in a else False
        self.approximate = _placeholder_points(a)
        self._trees = {}
        base = np.flatnonzero(self._located)
        self._trees[None] = (cKDTree(self._xyz[base]), base)
        for o in obstacles:
            rows = base[(self._obstacle_bits[base] & self._obit[o]) != 0]
            if len(rows):
                self._trees[o] = (cKDTree(self._xyz[rows]), rows)

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
            public_mask = self._open_to_all | self._mask(self._public_rows, q.publics)
        return _Filters(
            obstacle_bits=sum(self._obit[o] for o in set(obs)),
            all_bits=q.match == "all",
            type_mask=type_mask,
            public_mask=public_mask,
            free_only=q.free_only,
            frais_mask=self._mask(self._frais_rows, q.frais) if q.frais else None,
            modes_mask=self._mask(self._modes_rows, q.modes) if q.modes else None,
            open_at=q.open_at,
            open_day=q.open_day,
            reserved_free=q.reserved_free,
        )

    def _mask(
        self, rows_by: dict[str, NDArray[np.intp]], values: Sequence[str]
    ) -> NDArray[np.bool_]:
        mask = np.zeros(len(self.actors), dtype=bool)
        for v in values:
            if v in rows_by:
                mask[rows_by[v]] = True
        return mask

    def _open(self, rows: NDArray[np.intp], f: _Filters) -> NDArray[np.bool_]:
        """Which rows are known to be open as ``f`` asks, in their own time zone."""
        out = np.zeros(len(rows), dtype=bool)
        for k, r in enumerate(rows):
            text, zone = str(self._hours[r]), str(self._zones[r])
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
        if not obs:
            trees = [self._trees[None]]
        elif f.all_bits:
            # Every result carries every obstacle: the smallest tree suffices.
            candidates = [self._trees[o] for o in obs if o in self._trees]
            if len(candidates) < len(set(obs)):
                return np.empty(0, np.intp), np.empty(0)
            trees = [min(candidates, key=lambda t: len(t[1]))]
        else:
            trees = [self._trees[o] for o in dict.fromkeys(obs) if o in self._trees]
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

    def nearest(self, q: SearchQuery) -> pd.DataFrame:
        """The nearest matching in-person services as rows of ``actors`` plus ``distance_km``."""
        rows, km = self.query(q)
        out = pd.DataFrame(self.actors.iloc[rows].drop(columns="geometry"))
        out["distance_km"] = km
        return out.reset_index(drop=True)

    def remote(self, q: SearchQuery, *, limit: int = 50) -> pd.DataFrame:
        """Remote-only services matching the filters (no distance), newest first."""
        rows = np.flatnonzero(self._remote)
        rows = rows[self._keep(rows, self._filters(q))]
        out = pd.DataFrame(self.actors.iloc[rows].drop(columns="geometry"))
        return out.sort_values("date_maj", ascending=False).head(limit).reset_index(drop=True)


def _rows_by_value(lists: pd.Series) -> dict[str, NDArray[np.intp]]:
    """Row positions of each value of a list-valued column (vectorised: 140k rows)."""
    exploded = pd.Series(list(lists), dtype=object).explode().dropna()
    if exploded.empty:
        return {}
    positions = exploded.index.to_numpy(dtype=np.intp)
    values = exploded.astype(str).to_numpy()
    return {
        str(v): np.unique(positions[ix])
        for v, ix in pd.Series(values).groupby(values, sort=False).indices.items()
    }


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
    if len(a) == 0:
        return np.zeros(0, dtype=bool)
    street = a["adresse"].fillna("").astype(str).str.lower().str.replace(r"\W+", "", regex=True)
    key = pd.DataFrame(
        {
            "lat": a["latitude"].astype(float).round(6).to_numpy(),
            "lon": a["longitude"].astype(float).round(6).to_numpy(),
            "street": street.to_numpy(),
        }
    )
    streets = key[key["street"] != ""].groupby(["lat", "lon"])["street"].nunique()
    shared = streets[streets >= _PLACEHOLDER_MIN]
    if shared.empty:
        return np.zeros(len(a), dtype=bool)
    idx = pd.MultiIndex.from_frame(key[["lat", "lon"]])
    return np.asarray(idx.isin(shared.index), dtype=bool)


def _zones(codes: pd.Series, postcodes: pd.Series) -> NDArray[np.object_]:
    """Time zone of each row, from the INSEE code or else the postcode (by prefix)."""
    key = codes.fillna("").astype(str).str.strip()
    key = key.where(key.str.len() >= 2, postcodes.fillna("").astype(str).str.strip())
    prefixes = key.str[:3].to_numpy(dtype=object)
    lookup = {p: time_zone(p) for p in set(prefixes)}
    return np.array([lookup[p] for p in prefixes], dtype=object)


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
