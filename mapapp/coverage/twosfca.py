"""Accessibility that weighs supply against demand: the two-step floating catchment (2SFCA).

Why: distance alone says a commune has a crèche 2 km away, not that its 40
places are shared by 30,000 people.  2SFCA (Luo & Wang, 2003) does, in two
steps over a catchment of radius ``d0``:

1. each service ``j`` gets a ratio ``R_j = S_j / P_j``: its capacity ``S_j``
   (crèche places when the data has them, else 1) over the population ``P_j``
   of the communes within ``d0`` of it;
2. each commune ``i`` gets ``A_i = sum of R_j`` over the services within ``d0``
   of it: the capacity available per inhabitant.

Every unit of capacity is shared out over the people who can reach it, so
``sum_i pop_i * A_i`` equals the total capacity of the services that have
someone within reach (the tests check this).  Adding a service never lowers
any commune's ``A_i``.

The pairs within the catchment are never listed: both steps walk a grid of
the unit sphere with compiled loops (:mod:`mapapp.coverage.catchment`), which
finds them afresh in less time than a k-d tree takes to list them.

Examples
--------
Two communes of 100 and 300 people 5 km apart, one service of capacity 8
between them: each person's share is 8 / 400.

>>> import pandas as pd
>>> units = pd.DataFrame({"lat": [45.0, 45.0], "lon": [0.0, 0.0636],
...     "population": [100, 300]}, index=["a", "b"])
>>> svc = pd.DataFrame({"lat": [45.0], "lon": [0.0318], "capacity": [8.0]})
>>> two_step_fca(units, svc, catchment_km=10).tolist()
[0.02, 0.02]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mapapp.coverage.catchment import CatchmentGrid, two_step
from mapapp.coverage.index import CoverageIndex
from mapapp.coverage.services import ServicePoints
from mapapp.geo.sphere import to_unit_xyz
from mapapp.taxonomy import Obstacle

__all__ = ["accessibility_matrix", "catchment_pairs", "two_step_fca"]


def catchment_pairs(
    unit_lat: NDArray[np.float64] | pd.Series,
    unit_lon: NDArray[np.float64] | pd.Series,
    svc_lat: NDArray[np.float64] | pd.Series,
    svc_lon: NDArray[np.float64] | pd.Series,
    *,
    catchment_km: float,
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Positions ``(i, j)`` of every unit ``i`` and service ``j`` within ``catchment_km``.

    Examples
    --------
    >>> i, j = catchment_pairs([45.0, 46.0], [0.0, 0.0], [45.05], [0.0], catchment_km=10)
    >>> i.tolist(), j.tolist()
    ([0], [0])
    """
    grid = CatchmentGrid.build(
        to_unit_xyz(unit_lat, unit_lon), to_unit_xyz(svc_lat, svc_lon), catchment_km=catchment_km
    )
    indptr, j = grid.pairs()
    i = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    return i.astype(np.intp), j.astype(np.intp)


def two_step_fca(
    units: pd.DataFrame,
    services: ServicePoints | pd.DataFrame,
    *,
    catchment_km: float = 10.0,
) -> pd.Series:
    """Capacity available per inhabitant of each unit (2SFCA).

    Parameters
    ----------
    units : DataFrame
        Communes with ``lat``, ``lon``, ``population``.  Pass every analysis
        unit, not one territory: the people just across a border share the
        services too.  Select the territory afterwards.
    services : ServicePoints or DataFrame
        Points with ``lat``, ``lon``, ``capacity``.
    catchment_km : float, keyword-only
        Radius of both catchments (great circle).

    Returns
    -------
    Series
        Named ``accessibility``, indexed like ``units``; 0 where no service is
        within reach.  Multiply by 10,000 for "places per 10,000 inhabitants".
    """
    pts = services.points if isinstance(services, ServicePoints) else services
    grid = CatchmentGrid.build(
        to_unit_xyz(units["lat"], units["lon"]),
        to_unit_xyz(pts["lat"], pts["lon"]),
        catchment_km=catchment_km,
    )
    a = two_step(
        grid,
        units["population"].to_numpy(dtype=float),
        pts["capacity"].to_numpy(dtype=float),
        np.ones((len(pts), 1), dtype=np.bool_),
    )
    return pd.Series(a[:, 0], index=units.index, name="accessibility")


def accessibility_matrix(
    actors: pd.DataFrame,
    communes: pd.DataFrame,
    *,
    catchment_km: float = 10.0,
    obstacles: Sequence[Obstacle | str] | None = None,
) -> pd.DataFrame:
    """2SFCA accessibility of every analysis unit, one column per obstacle.

    One catchment search over all services; a service's demand does not
    depend on the obstacle, so step 1 runs once and step 2 for every obstacle
    is one sparse matrix product.  Keep a
    :class:`mapapp.coverage.index.CoverageIndex` to reuse the catchment pairs.

    Returns
    -------
    DataFrame
        Indexed by the analysis units' ``code_insee``, one column per obstacle.
    """
    return CoverageIndex.build(actors, communes, obstacles=obstacles).accessibility(
        catchment_km=catchment_km, keep=False
    )
