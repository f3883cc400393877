"""Catchments found on a grid of the unit sphere, never stored as pairs unless asked.

Why: 2SFCA sums over every (unit, service) pair within the catchment, 28
million pairs for France at 10 km and a million services.  A k-d tree's
``sparse_distance_matrix`` took 2.2 s to list them and their sorting and
sparse products as much again.  Here the services are sorted by the cell of
a cubic grid over their 3D unit vectors, with cells as wide as the
catchment's chord: everything within reach of a unit lies in the 27 cells
around its own, which are 9 runs of the sorted services (the three cells
along ``z`` are consecutive).  Compiled loops (:mod:`mapapp.coverage._kernels`)
walk those runs, test the exact chord and add at once: step 1 and step 2
each cost one walk, and no pair is stored.

The test is exact, not approximate: a chord of at most the cell's width
cannot span more than one cell boundary along any axis, so no pair is
missed, and every candidate is checked against the chord itself (the same
test as the k-d tree's, a monotonic function of the great-circle distance).

Examples
--------
Two communes of 100 and 300 people 5 km apart, one service of capacity 8
between them: each person's share is 8 / 400.

>>> import numpy as np
>>> from mapapp.geo.sphere import to_unit_xyz
>>> units = to_unit_xyz([45.0, 45.0], [0.0, 0.0636])
>>> svc = to_unit_xyz([45.0], [0.0318])
>>> grid = CatchmentGrid.build(units, svc, catchment_km=10)
>>> two_step(grid, np.array([100.0, 300.0]), np.array([8.0]), np.ones((1, 1))).ravel().tolist()
[0.02, 0.02]
>>> indptr, cols = grid.pairs()
>>> indptr.tolist(), cols.tolist()
([0, 1, 2], [0, 0])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from mapapp.geo.sphere import km_to_chord

__all__ = ["CatchmentGrid", "two_step"]

#: Smallest cell width (chord on the unit sphere, about 64 m): keeps the cell
#: keys within int64 for any catchment; wider cells than the chord stay exact.
_MIN_CELL = 1e-5


@dataclass(frozen=True)
class CatchmentGrid:
    """Units and services on a grid of cells as wide as the catchment's chord.

    Attributes
    ----------
    unit_xyz : ndarray
        ``(units, 3)`` unit vectors, in the caller's order.
    svc_xyz : ndarray
        ``(services, 3)`` unit vectors, sorted by cell.
    order : ndarray
        Position in the caller's services of each sorted service.
    start, stop : ndarray
        ``(units, 9)``: the runs of sorted services that may be within reach.
    chord2 : float
        The catchment's squared chord.
    """

    unit_xyz: NDArray[np.float64]
    svc_xyz: NDArray[np.float64]
    order: NDArray[np.int64]
    start: NDArray[np.int64]
    stop: NDArray[np.int64]
    chord2: float

    @classmethod
    def build(
        cls,
        unit_xyz: NDArray[np.float64],
        svc_xyz: NDArray[np.float64],
        *,
        catchment_km: float,
        split: int = 2,
    ) -> CatchmentGrid:
        """Sort the services by cell and find each unit's runs of candidates.

        ``split`` cells per chord: finer cells hug the catchment closer (fewer
        candidates to test) but give more, shorter runs.  Points with a
        non-finite coordinate reach nothing and are reached by nothing.
        """
        if not catchment_km > 0:
            raise ValueError(f"catchment_km must be positive, got {catchment_km}")
        chord = km_to_chord(catchment_km)
        cell = max(chord / split, _MIN_CELL)
        off = int(np.ceil(1.0 / cell)) + split + 2  # cell numbers shifted to be >= 1
        side = 2 * off + 2
        unit_xyz = np.ascontiguousarray(unit_xyz, dtype=np.float64).reshape(-1, 3)
        svc_xyz = np.ascontiguousarray(svc_xyz, dtype=np.float64).reshape(-1, 3)
        s_ok = np.asarray(np.isfinite(svc_xyz).all(axis=1))
        sc = np.floor(np.where(s_ok[:, None], svc_xyz, 0.0) / cell).astype(np.int64) + off
        skey = (sc[:, 0] * side + sc[:, 1]) * side + sc[:, 2]
        skey[~s_ok] = side**3  # past every real cell: in no run
        order = np.argsort(skey, kind="stable")
        skey = skey[order]
        start, stop = _runs(unit_xyz, skey, chord=chord, cell=cell, off=off, side=side)
        return cls(
            unit_xyz=unit_xyz,
            svc_xyz=np.ascontiguousarray(svc_xyz[order]),
            order=order.astype(np.int64),
            start=start,
            stop=stop,
            chord2=chord * chord,
        )

    def pairs(self) -> tuple[NDArray[np.int64], NDArray[np.int32]]:
        """Every pair within reach, as CSR rows by unit: ``(indptr, services)``.

        The services are positions in the caller's order, in grid order
        within a row (not sorted: sorting 28 million would cost more than
        finding them, and no sparse product needs it).
        """
        from mapapp.coverage import _kernels

        indptr, cols = _kernels.pairs(
            self.unit_xyz, self.svc_xyz, self.start, self.stop, self.chord2, self.order
        )
        return np.asarray(indptr, dtype=np.int64), np.asarray(cols, dtype=np.int32)


def _runs(
    unit_xyz: NDArray[np.float64],
    skey: NDArray[np.int64],
    *,
    chord: float,
    cell: float,
    off: int,
    side: int,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Each unit's runs of sorted services, one per column of cells along ``z``.

    A column at horizontal gap ``g`` from the unit can only hold points within
    ``sqrt(chord**2 - g**2)`` of it along ``z``: its run covers those cells
    only, and a column farther than the chord gets an empty run.
    """
    split = int(np.ceil(chord / cell))
    ok = np.asarray(np.isfinite(unit_xyz).all(axis=1))
    xyz = np.where(ok[:, None], unit_xyz, 0.0)
    own = np.floor(xyz / cell).astype(np.int64)
    steps = np.arange(-split, split + 1, dtype=np.int64)
    # gap from the unit to the columns along x and y: (units, 2*split+1)
    gaps = []
    for axis in (0, 1):
        lo = (own[:, axis, None] + steps) * cell
        gaps.append(
            np.maximum(np.maximum(lo - xyz[:, axis, None], xyz[:, axis, None] - lo - cell), 0)
        )
    g2 = gaps[0][:, :, None] ** 2 + gaps[1][:, None, :] ** 2  # (units, nx, ny)
    g2 = g2.reshape(len(xyz), len(steps) ** 2)
    slack = 1e-12 + 1e-9 * chord  # rounding never drops a point at the edge
    half = np.sqrt(np.maximum(chord * chord - g2, 0.0)) + slack
    z = xyz[:, 2, None]
    zlo = np.floor((z - half) / cell).astype(np.int64) + off
    zhi = np.floor((z + half) / cell).astype(np.int64) + off
    cx = (own[:, 0, None] + steps + off)[:, :, None]
    cy = (own[:, 1, None] + steps + off)[:, None, :]
    column = ((cx * side + cy) * side).reshape(len(xyz), len(steps) ** 2)
    # searched among the occupied cells, fewer than the services and closer in cache
    first = np.flatnonzero(np.diff(skey, prepend=-1))
    cells, bounds = skey[first], np.append(first, len(skey)).astype(np.int64)
    start = bounds[np.searchsorted(cells, column + zlo, side="left")]
    stop = bounds[np.searchsorted(cells, column + zhi, side="right")]
    empty = (g2 > chord * chord + slack) | ~ok[:, None]
    stop[empty] = start[empty]
    return start, stop


def two_step(
    grid: CatchmentGrid,
    pop: NDArray[np.float64],
    capacity: NDArray[np.float64],
    member: NDArray[np.bool_],
) -> NDArray[np.float64]:
    """2SFCA of every unit for each column of ``member``, without storing a pair.

    Parameters
    ----------
    grid : CatchmentGrid
        The units and services.
    pop : ndarray
        Population of each unit.
    capacity : ndarray
        Capacity of each service, in the caller's order.
    member : ndarray
        ``(services, k)``: which service counts in which column (step 1, the
        demand on a service, is shared by every column).

    Returns
    -------
    ndarray
        ``(units, k)`` capacity per inhabitant.
    """
    from mapapp.coverage import _kernels

    pop = np.ascontiguousarray(pop, dtype=np.float64)
    demand = _kernels.demand(grid.unit_xyz, pop, grid.svc_xyz, grid.start, grid.stop, grid.chord2)
    cap = np.asarray(capacity, dtype=np.float64)[grid.order]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(demand > 0, cap / demand, 0.0)
    member_u8 = np.ascontiguousarray(np.asarray(member, dtype=np.bool_)[grid.order])
    out = _kernels.supply(
        grid.unit_xyz,
        grid.svc_xyz,
        grid.start,
        grid.stop,
        grid.chord2,
        ratio,
        member_u8.view(np.uint8),
    )
    return np.asarray(out, dtype=np.float64)
