"""Distance from each commune to the nearest in-person service, and what it means for people.

Why this way (measured in PERFORMANCE.md): one k-d tree per obstacle over 3D
unit vectors answers "nearest service" for every commune of France in a few
milliseconds, and the chord it returns converts exactly to a great-circle
distance ("à vol d'oiseau"), overseas included.  Trees are built per zone
(metropolitan France, each overseas département) so that no commune is told
its nearest service is across an ocean: where a zone has no service the
distance is ``inf``.

Distances are measured from each commune's representative point (inside its
polygon), population comes from the reference geography, and Paris, Lyon and
Marseille count by arrondissement (:func:`mapapp.geo.communes.analysis_units`).

Examples
--------
A 3×3 grid of communes 0.1° apart at 45° N with one service on the middle
one: the middle commune is at 0 km, east and west neighbours at
0.1° × 111.2 km × cos 45° ≈ 7.8 km, north and south at 11.1 km, corners at
√(7.8² + 11.1²) ≈ 13.6 km.

>>> import pandas as pd
>>> grid = pd.DataFrame({
...     "lat": [45.0 + 0.1 * (k // 3) for k in range(9)],
...     "lon": [0.1 * (k % 3) for k in range(9)],
...     "departement": "24", "population": 100, "nom": [f"C{k}" for k in range(9)],
... }, index=[f"24{k:03d}" for k in range(9)])
>>> svc = pd.DataFrame({"id": ["s:1"], "nom": ["S"], "commune": ["C4"],
...     "lat": [45.1], "lon": [0.1], "zone": [0]})
>>> t = coverage_table(grid, svc, radius_km=10)
>>> t["distance_km"].round(1).tolist()
[13.6, 11.1, 13.6, 7.8, 0.0, 7.8, 13.6, 11.1, 13.6]
>>> s = coverage_summary(t, radius_km=10)
>>> int(s["population_within_10km"]), int(s["communes_beyond_radius"])
(300, 6)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

from mapapp.coverage.index import CoverageIndex
from mapapp.coverage.services import (
    ServicePoints,
    zone_of_departement,
    zone_of_points,
)
from mapapp.geo.sphere import chord_to_km, to_unit_xyz
from mapapp.taxonomy import Obstacle

__all__ = [
    "DEFAULT_THRESHOLDS_KM",
    "by_departement",
    "coverage_summary",
    "coverage_table",
    "distance_matrix",
    "nearest_service",
    "weighted_quantile",
    "worst_covered",
]

DEFAULT_THRESHOLDS_KM: tuple[float, ...] = (5.0, 10.0, 20.0)


def _points(services: ServicePoints | pd.DataFrame) -> pd.DataFrame:
    """The service points; a plain frame without ``zone`` gets it from its coordinates."""
    pts = services.points if isinstance(services, ServicePoints) else services
    if "zone" not in pts:
        pts = pts.assign(zone=zone_of_points(pts["lat"], pts["lon"]))
    return pts


def _zone_groups(unit_zone: NDArray[np.int8]) -> list[tuple[int, NDArray[np.intp]]]:
    """Positions of the units of each zone present."""
    return [(int(z), np.flatnonzero(unit_zone == z)) for z in np.unique(unit_zone)]


def _nearest_by_zone(
    unit_xyz: NDArray[np.float64],
    groups: list[tuple[int, NDArray[np.intp]]],
    svc_xyz: NDArray[np.float64],
    svc_zone: NDArray[np.int8],
    *,
    workers: int = -1,
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """Great-circle km and position (-1: none) of the nearest service in the same zone."""
    km = np.full(len(unit_xyz), np.inf)
    pos = np.full(len(unit_xyz), -1, dtype=np.intp)
    for z, here in groups:
        rows = np.flatnonzero(svc_zone == z)
        if len(rows) == 0:
            continue
        # Unbalanced, non-compacted trees build 2-3x faster and query about as
        # fast for points this evenly spread.
        tree = cKDTree(svc_xyz[rows], balanced_tree=False, compact_nodes=False)
        chord, i = tree.query(unit_xyz[here], k=1, workers=workers)
        km[here] = chord_to_km(chord)
        pos[here] = rows[i]
    return km, pos


def nearest_service(units: pd.DataFrame, services: ServicePoints | pd.DataFrame) -> pd.DataFrame:
    """Distance (km, great circle) from each unit to its nearest service.

    Parameters
    ----------
    units : DataFrame
        Communes indexed by ``code_insee`` with ``lat``, ``lon`` and
        ``departement`` (for the zone).
    services : ServicePoints or DataFrame
        Points with ``id``, ``nom``, ``commune``, ``lat``, ``lon`` and ``zone``
        (:func:`mapapp.coverage.select_services`).

    Returns
    -------
    DataFrame
        Indexed like ``units``: ``distance_km`` (``inf`` when the zone has no
        service), ``nearest_id``, ``nearest_nom``, ``nearest_commune`` (empty
        strings when none).
    """
    pts = _points(services)
    km, pos = _nearest_by_zone(
        to_unit_xyz(units["lat"], units["lon"]),
        _zone_groups(zone_of_departement(units["departement"])),
        to_unit_xyz(pts["lat"], pts["lon"]),
        pts["zone"].to_numpy(dtype=np.int8),
    )
    found = pos >= 0

    def pick(col: str) -> NDArray[np.object_]:
        out = np.full(len(units), "", dtype=object)
        if col in pts:
            out[found] = pts[col].to_numpy(dtype=object)[pos[found]]
        return out

    return pd.DataFrame(
        {
            "distance_km": km,
            "nearest_id": pick("id"),
            "nearest_nom": pick("nom"),
            "nearest_commune": pick("commune"),
        },
        index=units.index,
    )


def distance_matrix(
    actors: pd.DataFrame,
    communes: pd.DataFrame,
    *,
    obstacles: Sequence[Obstacle | str] | None = None,
) -> pd.DataFrame:
    """Distance (km) from every analysis unit to the nearest service, per obstacle.

    One pass over the actors, then one k-d tree per obstacle and zone.  A
    caller that asks more than once per store generation keeps a
    :class:`mapapp.coverage.index.CoverageIndex` instead: the trees are then
    built once and the matrix takes a tenth of a second at a million services.

    Parameters
    ----------
    actors : DataFrame
        An actors layer.
    communes : DataFrame
        ``Geography.communes`` (the analysis units are derived from it, and
        confidential services are placed at its representative points).
    obstacles : sequence, keyword-only
        Columns to compute; default every obstacle.

    Returns
    -------
    DataFrame
        Indexed by the analysis units' ``code_insee``, one column per obstacle
        slug, ``inf`` where the zone has no such service.
    """
    return CoverageIndex.build(actors, communes, obstacles=obstacles).distances()


def coverage_table(
    units: pd.DataFrame,
    services: ServicePoints | pd.DataFrame,
    *,
    radius_km: float = 10.0,
) -> pd.DataFrame:
    """Per commune: name, population, distance to the nearest service, within the radius.

    Returns
    -------
    DataFrame
        Indexed like ``units``: ``nom``, ``departement``, ``population``,
        ``distance_km``, ``nearest_id``, ``nearest_nom``, ``nearest_commune``,
        ``within_radius``.
    """
    if radius_km <= 0:
        raise ValueError(f"radius_km must be positive, got {radius_km}")
    near = nearest_service(units, services)
    table = pd.DataFrame(
        {
            "nom": units["nom"].astype(str),
            "departement": units["departement"].astype(str),
            "population": units["population"].astype("int64"),
        },
        index=units.index,
    ).join(near)
    table["within_radius"] = table["distance_km"] <= radius_km
    return table


def weighted_quantile(values: ArrayLike, weights: ArrayLike, q: float) -> float:
    """The smallest value ``v`` such that at least ``q`` of the weight has a value ≤ ``v``.

    Why this definition: "90 % of the population lives within X km" is a
    statement a coordinator can check by hand from a table sorted by distance.

    Examples
    --------
    >>> weighted_quantile([1.0, 2.0, 3.0], [1, 1, 1], 0.5)
    2.0
    >>> weighted_quantile([1.0, 5.0], [9, 1], 0.9)
    1.0
    >>> weighted_quantile([1.0, np.inf], [1, 9], 0.9)
    inf
    """
    if not 0 <= q <= 1:
        raise ValueError("q must be between 0 and 1")
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    if len(v) == 0 or w.sum() <= 0:
        return float("nan")
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(w[order])
    target = q * cum[-1] * (1 - 1e-12)
    i = int(np.searchsorted(cum, target, side="left"))
    return float(v[order][min(i, len(v) - 1)])


def coverage_summary(
    table: pd.DataFrame,
    *,
    radius_km: float = 10.0,
    thresholds_km: Sequence[float] = DEFAULT_THRESHOLDS_KM,
) -> pd.Series:
    """Territory totals from a :func:`coverage_table` (or any subset of it).

    Returns
    -------
    Series
        ``communes``, ``population``; ``population_within_<t>km`` and
        ``share_within_<t>km`` for each threshold; ``mean_distance_km``
        (population-weighted, over the population that has a service in its
        zone), ``p90_distance_km`` (90 % of the population lives within it;
        ``inf`` when more than 10 % have no service in their zone),
        ``communes_beyond_radius`` and ``population_beyond_radius`` (no
        service within ``radius_km``), ``population_without_service`` (none
        in the zone at all).
    """
    d = table["distance_km"].to_numpy(dtype=float)
    pop = table["population"].to_numpy(dtype=float)
    total = float(pop.sum())
    out: dict[str, float] = {"communes": float(len(table)), "population": total}
    for t in thresholds_km:
        within = float(pop[d <= t].sum())
        key = f"{t:g}km"
        out[f"population_within_{key}"] = within
        out[f"share_within_{key}"] = within / total if total else float("nan")
    finite = np.isfinite(d)
    served = float(pop[finite].sum())
    out["mean_distance_km"] = float((d[finite] * pop[finite]).sum() / served) if served else np.nan
    out["p90_distance_km"] = weighted_quantile(d, pop, 0.9)
    beyond = d > radius_km
    out["communes_beyond_radius"] = float(beyond.sum())
    out["population_beyond_radius"] = float(pop[beyond].sum())
    out["population_without_service"] = float(pop[~finite].sum())
    return pd.Series(out, name="value")


def worst_covered(table: pd.DataFrame, n: int = 20) -> pd.DataFrame:
    """The ``n`` communes farthest from a service; ties broken by population (largest first).

    Communes with nobody living there are left out: they need no service.
    """
    people = table[table["population"] > 0]
    ranked = people.sort_values(
        ["distance_km", "population"], ascending=[False, False], kind="stable"
    )
    return ranked.head(n)


def by_departement(table: pd.DataFrame, *, radius_km: float = 10.0) -> pd.DataFrame:
    """Aggregate a commune table by département, weighting by population.

    Why: a national map shows ~100 départements, never 35,000 communes.

    Returns
    -------
    DataFrame
        Indexed by ``departement``: ``communes``, ``population``,
        ``mean_distance_km``, ``p90_distance_km``, ``population_beyond_radius``,
        ``share_beyond_radius``, ``population_without_service``.
    """
    rows = {}
    for dep, part in table.groupby("departement", sort=True):
        s = coverage_summary(part, radius_km=radius_km, thresholds_km=())
        pop = s["population"]
        rows[dep] = {
            "communes": int(s["communes"]),
            "population": int(pop),
            "mean_distance_km": s["mean_distance_km"],
            "p90_distance_km": s["p90_distance_km"],
            "population_beyond_radius": int(s["population_beyond_radius"]),
            "share_beyond_radius": s["population_beyond_radius"] / pop if pop else np.nan,
            "population_without_service": int(s["population_without_service"]),
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "departement"
    return out
