"""Compiled loops over the catchment grid of :mod:`mapapp.coverage.catchment`.

Why compiled: both steps of 2SFCA are sums over the (unit, service) pairs
within the catchment, 28 million of them for France at 10 km and a million
services.  Found with a k-d tree and kept as arrays, the pairs alone cost
more than the 1.5 s budget; a loop that tests each candidate and adds it
at once never stores a pair.  Numba compiles these loops on first use and
keeps the machine code next to this file (``cache=True``), so a process
pays the compile once per installation, not once per run.

Imported lazily (by :mod:`mapapp.coverage.catchment`): numba takes a second
or more to import, which the app's start and most commands need not pay.

Each function walks, for every unit ``i``, the ranges ``start[i, r]`` to
``stop[i, r]`` of services (sorted by grid cell) that may lie within the
chord ``sqrt(chord2)``, and keeps those that do.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray


@njit(cache=True, nogil=True)
def demand(
    unit_xyz: NDArray[np.float64],
    pop: NDArray[np.float64],
    svc_xyz: NDArray[np.float64],
    start: NDArray[np.int64],
    stop: NDArray[np.int64],
    chord2: float,
) -> NDArray[np.float64]:
    """Population within reach of each service (step 1 of 2SFCA), in grid order."""
    out = np.zeros(svc_xyz.shape[0])
    for i in range(unit_xyz.shape[0]):
        p = pop[i]
        if p == 0.0:
            continue  # adds nothing to any service's demand
        x, y, z = unit_xyz[i, 0], unit_xyz[i, 1], unit_xyz[i, 2]
        for r in range(start.shape[1]):
            for j in range(start[i, r], stop[i, r]):
                dx = svc_xyz[j, 0] - x
                dy = svc_xyz[j, 1] - y
                dz = svc_xyz[j, 2] - z
                # without a branch: half the candidates are in, half out, and a
                # mispredicted branch costs more than adding zero
                out[j] += p * (dx * dx + dy * dy + dz * dz <= chord2)
    return out


@njit(cache=True, nogil=True)
def supply(
    unit_xyz: NDArray[np.float64],
    svc_xyz: NDArray[np.float64],
    start: NDArray[np.int64],
    stop: NDArray[np.int64],
    chord2: float,
    ratio: NDArray[np.float64],
    member: NDArray[np.uint8],
) -> NDArray[np.float64]:
    """Step 2: ``out[i, k]``, the sum of ``ratio[j] * member[j, k]`` over the services
    within reach of unit ``i``.

    The sums run in a small array of their own, written to ``out`` once per
    unit; ``member`` as bytes is read 12 bytes a pair (measured faster than
    lists of each service's columns, or than ratios spread over a float array).
    """
    n_k = member.shape[1]
    out = np.zeros((unit_xyz.shape[0], n_k))
    acc = np.zeros(n_k)
    for i in range(unit_xyz.shape[0]):
        acc[:] = 0.0
        x, y, z = unit_xyz[i, 0], unit_xyz[i, 1], unit_xyz[i, 2]
        for r in range(start.shape[1]):
            for j in range(start[i, r], stop[i, r]):
                dx = svc_xyz[j, 0] - x
                dy = svc_xyz[j, 1] - y
                dz = svc_xyz[j, 2] - z
                if dx * dx + dy * dy + dz * dz <= chord2:
                    share = ratio[j]
                    for k in range(n_k):
                        acc[k] += share * member[j, k]
        out[i, :] = acc
    return out


@njit(cache=True, nogil=True)
def _count(
    unit_xyz: NDArray[np.float64],
    svc_xyz: NDArray[np.float64],
    start: NDArray[np.int64],
    stop: NDArray[np.int64],
    chord2: float,
    order: NDArray[np.int64],
    cols: NDArray[np.int32],
    indptr: NDArray[np.int64],
    fill: bool,
) -> None:
    for i in range(unit_xyz.shape[0]):
        x, y, z = unit_xyz[i, 0], unit_xyz[i, 1], unit_xyz[i, 2]
        at = indptr[i] if fill else 0
        for r in range(start.shape[1]):
            for j in range(start[i, r], stop[i, r]):
                dx = svc_xyz[j, 0] - x
                dy = svc_xyz[j, 1] - y
                dz = svc_xyz[j, 2] - z
                if dx * dx + dy * dy + dz * dz <= chord2:
                    if fill:
                        cols[at] = order[j]
                    at += 1
        if not fill:
            indptr[i + 1] = at


@njit(cache=True, nogil=True)
def pairs(
    unit_xyz: NDArray[np.float64],
    svc_xyz: NDArray[np.float64],
    start: NDArray[np.int64],
    stop: NDArray[np.int64],
    chord2: float,
    order: NDArray[np.int64],
) -> tuple[NDArray[np.int64], NDArray[np.int32]]:
    """The pairs themselves as CSR rows by unit: ``(indptr, order[j] of each service)``.

    Two walks, one to count and one to fill: the pairs are written once,
    straight into an int32 array of its final size (4 bytes a pair, 113 MB
    for 28 million), already in the caller's numbering.
    """
    n = unit_xyz.shape[0]
    indptr = np.zeros(n + 1, dtype=np.int64)
    none = np.empty(0, dtype=np.int32)
    _count(unit_xyz, svc_xyz, start, stop, chord2, order, none, indptr, False)
    indptr = np.cumsum(indptr)
    cols = np.empty(indptr[n], dtype=np.int32)
    _count(unit_xyz, svc_xyz, start, stop, chord2, order, cols, indptr, True)
    return indptr, cols
