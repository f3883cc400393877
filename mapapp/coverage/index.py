"""The actors layer prepared once for national coverage: trees and catchments kept.

Why: at a million services the coverage matrix (every analysis unit × every
obstacle) and 2SFCA spend most of their time on work that does not change
until the store does: placing the services (confidential ones at their
commune), reading a million obstacle lists, building one k-d tree per
obstacle and zone, and finding every (commune, service) pair within a
catchment (28 million pairs at 10 km).  :class:`CoverageIndex` does that
work once per store generation, like the search index, and answers each
matrix from it: the distances in a tenth of a second, 2SFCA in well under
a second.  The one-off cost is stated apart (``coverage_prepare_s`` in
``bench/bench_coverage.py``).

The catchment pairs of a radius are computed on its first use and kept (a
coordinator tries two or three radii, not hundreds); they are stored sorted
by analysis unit, as a sparse matrix, so step 2 of 2SFCA for every obstacle
is one sparse × dense product.  They are found on the catchment grid of
:mod:`mapapp.coverage.catchment`; ``accessibility(keep=False)`` does not
list them at all (both steps summed on the grid: under a second at 1M).

Examples
--------
Two communes 5 km apart and three services; the distances and 2SFCA match
the one-shot functions.

>>> import pandas as pd
>>> from mapapp.schema import actors_frame
>>> communes = pd.DataFrame({"nom": ["A", "B"], "departement": ["24", "24"],
...     "population": [100, 300], "plm_city": False,
...     "lat": [45.0, 45.0], "lon": [0.0, 0.0636]}, index=["24001", "24002"])
>>> actors = actors_frame([
...     {"id": "x:1", "obstacles": ["garde-enfants"], "latitude": 45.0, "longitude": 0.0318,
...      "capacite": 8},
...     {"id": "x:2", "obstacles": ["mobilite"], "latitude": 45.0, "longitude": 0.0},
...     {"id": "x:3", "obstacles": ["mobilite"], "modes_accueil": ["a-distance"]},
... ])
>>> index = CoverageIndex.build(actors, communes, obstacles=["garde-enfants", "mobilite"])
>>> index.distances().round(1).to_dict("list")
{'garde-enfants': [2.5, 2.5], 'mobilite': [0.0, 5.0]}
>>> (index.accessibility(catchment_km=10) * 10_000).round(1).to_dict("list")
{'garde-enfants': [200.0, 200.0], 'mobilite': [25.0, 25.0]}
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse
from scipy.spatial import cKDTree

from mapapp.coverage.catchment import CatchmentGrid, two_step
from mapapp.coverage.services import _placement, zone_of_departement, zone_of_points
from mapapp.filters import membership
from mapapp.geo.communes import analysis_units
from mapapp.geo.sphere import chord_to_km, to_unit_xyz
from mapapp.taxonomy import Obstacle, parse_obstacle

__all__ = ["CoverageIndex"]

_Tree = tuple[cKDTree, NDArray[np.intp]]

#: Nearest services of any kind looked at per unit before asking one obstacle's tree.
_NEIGHBOURS = 32


def _tree(xyz: NDArray[np.float64]) -> cKDTree:
    # Unbalanced, non-compacted trees build 2-3x faster and query about as
    # fast for points this evenly spread.
    return cKDTree(xyz, balanced_tree=False, compact_nodes=False)


@dataclass
class CoverageIndex:
    """Services placed for coverage, with their k-d trees, ready for every matrix.

    Build it with :meth:`build`; it is immutable in use (the cached catchments
    are guarded by a lock, so threads of one server may share it).

    Attributes
    ----------
    units : DataFrame
        The analysis units (:func:`mapapp.geo.communes.analysis_units`).
    slugs : tuple of str
        The obstacles, in column order.
    member : ndarray of bool
        ``(services, obstacles)``: which placed service covers which obstacle.
    capacity : ndarray of float
        Each placed service's capacity (``capacite`` when known and positive,
        else 1, as in :func:`mapapp.coverage.select_services`).
    """

    units: pd.DataFrame
    slugs: tuple[str, ...]
    member: NDArray[np.bool_]
    capacity: NDArray[np.float64]
    _unit_xyz: NDArray[np.float64]
    _svc_xyz: NDArray[np.float64]
    _trees: dict[tuple[int, int], _Tree]
    _zone_trees: dict[int, _Tree]
    _groups: list[tuple[int, NDArray[np.intp]]]
    _reach: dict[float, sparse.csr_matrix] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def build(
        cls,
        actors: pd.DataFrame,
        communes: pd.DataFrame,
        *,
        obstacles: Sequence[Obstacle | str] | None = None,
    ) -> CoverageIndex:
        """Place the in-person services and build one tree per obstacle and zone.

        Parameters
        ----------
        actors : DataFrame
            An actors layer (remote-only services are left out; confidential
            ones stand at their commune's representative point).
        communes : DataFrame
            ``Geography.communes``.
        obstacles : sequence, keyword-only
            The matrix columns; default every obstacle.
        """
        units = analysis_units(communes)
        wanted = [parse_obstacle(o) for o in (obstacles if obstacles is not None else Obstacle)]
        slugs = tuple(o.value for o in wanted)
        lat, lon, _, _ = _placement(actors, communes)
        placed = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
        if len(placed):
            # Services in the leaf order of a k-d tree: neighbours in space are
            # neighbours in memory, which makes the 2SFCA products 4-5x faster.
            placed = placed[_tree(to_unit_xyz(lat[placed], lon[placed])).indices]
        member = membership(actors["obstacles"], list(slugs))[placed]
        cap_raw = actors["capacite"].to_numpy(dtype=float)[placed]
        capacity = np.where(np.isfinite(cap_raw) & (cap_raw > 0), cap_raw, 1.0)
        svc_xyz = to_unit_xyz(lat[placed], lon[placed])
        svc_zone = zone_of_points(lat[placed], lon[placed])
        groups = [
            (int(z), np.flatnonzero(unit_zone == z))
            for unit_zone in [zone_of_departement(units["departement"])]
            for z in np.unique(unit_zone)
        ]
        trees: dict[tuple[int, int], _Tree] = {}
        zone_trees: dict[int, _Tree] = {}
        useful = member.any(axis=1)
        for z, _ in groups:
            in_zone = svc_zone == z
            rows = np.flatnonzero(in_zone & useful)
            if len(rows):
                zone_trees[z] = (_tree(svc_xyz[rows]), rows)
            for k in range(len(slugs)):
                rows = np.flatnonzero(member[:, k] & in_zone)
                if len(rows):
                    trees[(k, z)] = (_tree(svc_xyz[rows]), rows)
        return cls(
            units=units,
            slugs=slugs,
            member=member,
            capacity=capacity,
            _unit_xyz=to_unit_xyz(units["lat"], units["lon"]),
            _svc_xyz=svc_xyz,
            _trees=trees,
            _zone_trees=zone_trees,
            _groups=groups,
        )

    def distances(self) -> pd.DataFrame:
        """Great-circle km from every unit to the nearest service of each obstacle.

        ``inf`` where the unit's zone (metropolitan France, or its overseas
        département) has no such service: no one is sent across an ocean.

        Why one query for every obstacle: a query's cost is mostly the walk
        down the tree, not the tree's size.  The :data:`_NEIGHBOURS` nearest
        services of every kind, in distance order, hold the nearest one of
        each obstacle almost always (a service covers one obstacle in six on
        average); the first one carrying the obstacle is then exactly the
        answer.  The few (unit, obstacle) pairs left without one are asked of
        that obstacle's own tree.
        """
        out = np.full((len(self.units), len(self.slugs)), np.inf)
        for z, here in self._groups:
            found = self._zone_trees.get(z)
            if found is None:
                continue
            tree, rows = found
            k = min(_NEIGHBOURS, len(rows))
            chord, pos = tree.query(self._unit_xyz[here], k=k, workers=-1)
            chord, pos = chord.reshape(len(here), k), pos.reshape(len(here), k)
            carries = self.member[rows[pos]]  # (units, k, obstacles)
            first = carries.argmax(axis=1)
            hit = np.take_along_axis(carries, first[:, None, :], axis=1)[:, 0, :]
            near = np.take_along_axis(chord, first, axis=1)
            out[here] = np.where(hit, chord_to_km(near), np.inf)
            for s in np.flatnonzero(~hit.all(axis=0)):
                own = self._trees.get((int(s), z))
                if own is None:
                    continue  # no such service in the zone: inf
                ask = here[~hit[:, s]]
                out[ask, s] = chord_to_km(own[0].query(self._unit_xyz[ask], k=1)[0])
        return pd.DataFrame(
            out, index=self.units.index, columns=pd.Index(list(self.slugs), name="obstacle")
        )

    def reach(self, catchment_km: float, *, keep: bool = True) -> sparse.csr_matrix:
        """``(units, services)`` ones where the service lies within ``catchment_km``.

        Computed on first use for a radius, then kept (about 12 bytes per
        pair: 340 MB for 28 million); ``keep=False`` computes it afresh and
        keeps nothing, for a one-off radius.
        """
        if not catchment_km > 0:
            raise ValueError(f"catchment_km must be positive, got {catchment_km}")
        key = float(catchment_km)
        if not keep:
            kept = self._reach.get(key)
            return kept if kept is not None else self._pairs(key)
        with self._lock:
            found = self._reach.get(key)
            if found is None:
                found = self._reach[key] = self._pairs(key)
        return found

    def _pairs(self, catchment_km: float) -> sparse.csr_matrix:
        n_units, n_svc = len(self.units), len(self._svc_xyz)
        if n_units == 0 or n_svc == 0:
            return sparse.csr_matrix((n_units, n_svc), dtype=float)
        grid = CatchmentGrid.build(self._unit_xyz, self._svc_xyz, catchment_km=catchment_km)
        indptr, cols = grid.pairs()
        return sparse.csr_matrix((np.ones(len(cols)), cols, indptr), shape=(n_units, n_svc))

    def accessibility(self, *, catchment_km: float = 10.0, keep: bool = True) -> pd.DataFrame:
        """2SFCA capacity per inhabitant of every unit, one column per obstacle.

        A service's demand (the people within its catchment) does not depend
        on the obstacle, so step 1 runs once; step 2 for every obstacle is one
        sparse product.  See :mod:`mapapp.coverage.twosfca` for the method;
        ``keep`` as in :meth:`reach`, except that ``keep=False`` with no kept
        catchment of that radius lists no pair at all: both steps walk the
        catchment grid (:func:`mapapp.coverage.catchment.two_step`), faster
        than listing the pairs.
        """
        pop = self.units["population"].to_numpy(dtype=float)
        if not keep and float(catchment_km) not in self._reach:
            grid = CatchmentGrid.build(self._unit_xyz, self._svc_xyz, catchment_km=catchment_km)
            out = two_step(grid, pop, self.capacity, self.member)
            return pd.DataFrame(
                out, index=self.units.index, columns=pd.Index(list(self.slugs), name="obstacle")
            )
        reach = self.reach(catchment_km, keep=keep)
        demand = np.asarray(reach.T @ pop, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(demand > 0, self.capacity / demand, 0.0)
        out = np.asarray(reach @ (self.member * ratio[:, None]), dtype=np.float64)
        return pd.DataFrame(
            out, index=self.units.index, columns=pd.Index(list(self.slugs), name="obstacle")
        )
