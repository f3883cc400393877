"""Which services count for coverage, and where they stand.

Why a separate step: coverage asks "how far is the nearest in-person service",
so the actors layer must first be turned into points, honestly:

- remote-only services (:func:`mapapp.filters.reception_flags`, the rule the
  search uses too) have no meaningful distance: they are left out of the
  points and counted apart;
- confidential services (shelters...) stand at their commune's representative
  point, never at their real coordinates, so no analysis, map or export can
  reveal them;
- in-person services without coordinates but with a known commune also stand
  at their commune's representative point (a commune-level analysis loses
  nothing); those with neither are counted as unplaced.

Each point carries its *zone* (metropolitan France, or one overseas
département): a service in La Réunion does not serve Mayotte, so distances
are only measured within a zone.

Examples
--------
>>> import geopandas as gpd
>>> from mapapp.schema import actors_frame
>>> communes = gpd.GeoDataFrame(
...     {"lat": [48.0], "lon": [2.0], "departement": ["45"]}, index=["45001"]
... )
>>> actors = actors_frame([
...     {"id": "a:1", "obstacles": ["mobilite"], "latitude": 48.1, "longitude": 2.1},
...     {"id": "a:2", "obstacles": ["mobilite"], "latitude": 48.2, "longitude": 2.2,
...      "confidential": True, "code_insee": "45001"},
...     {"id": "a:3", "obstacles": ["mobilite"], "modes_accueil": ["a-distance"]},
...     {"id": "a:4", "obstacles": ["logement"], "latitude": 48.1, "longitude": 2.1},
... ])
>>> sp = select_services(actors, communes, obstacles=("mobilite",))
>>> sp.points[["id", "lat", "lon"]].values.tolist()
[['a:1', 48.1, 2.1], ['a:2', 48.0, 2.0]]
>>> sp.remote["id"].tolist(), sp.unplaced, sp.at_commune
(['a:3'], 0, 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from mapapp.filters import membership, reception_flags, service_mask
from mapapp.schema import FRANCE_BOXES
from mapapp.taxonomy import ActorType, Obstacle

__all__ = [
    "ZONES",
    "ServicePoints",
    "obstacle_membership",
    "select_services",
    "zone_of_departement",
    "zone_of_points",
]

#: Zones within which distances are measured; index = zone number.
ZONES: tuple[str, ...] = ("metropole", "guadeloupe", "martinique", "guyane", "reunion", "mayotte")
_DEP_ZONE = {"971": 1, "972": 2, "973": 3, "974": 4, "976": 5}
_OBSTACLES: tuple[Obstacle, ...] = tuple(Obstacle)


@dataclass(frozen=True)
class ServicePoints:
    """The in-person services that count for coverage, as points.

    Attributes
    ----------
    points : DataFrame
        One row per service: ``id``, ``nom``, ``actor_type``, ``code_insee``,
        ``commune``, ``lat``, ``lon`` (the commune's representative point for
        confidential services), ``capacity`` (``capacite`` when known and
        positive, else 1), ``known_capacity`` (bool) and ``zone`` (an index
        into :data:`ZONES`).
    remote : DataFrame
        Remote-only services matching the filters (``id``, ``nom``,
        ``code_insee``): no distance, counted apart.
    unplaced : int
        In-person services matching the filters with neither coordinates nor
        a known commune: left out.
    at_commune : int
        Services placed at their commune's representative point (confidential,
        or without coordinates).
    """

    points: pd.DataFrame
    remote: pd.DataFrame
    unplaced: int
    at_commune: int


def zone_of_departement(departement: ArrayLike) -> NDArray[np.int8]:
    """Zone numbers (see :data:`ZONES`) of département codes.

    Examples
    --------
    >>> zone_of_departement(["93", "2A", "974", "976"]).tolist()
    [0, 0, 4, 5]
    """
    codes, uniques = pd.factorize(pd.Series(departement).astype(str))
    zone_of_unique = np.array([_DEP_ZONE.get(str(d), 0) for d in uniques], dtype=np.int8)
    return zone_of_unique[codes] if len(codes) else np.empty(0, dtype=np.int8)


def zone_of_points(lat: ArrayLike, lon: ArrayLike) -> NDArray[np.int8]:
    """Zone numbers of points (-1 outside every zone's box).

    Examples
    --------
    >>> zone_of_points([48.85, -20.9, 0.0], [2.35, 55.5, 0.0]).tolist()
    [0, 4, -1]
    """
    la, lo = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    out = np.full(la.shape, -1, dtype=np.int8)
    for z, name in enumerate(ZONES):
        x0, y0, x1, y1 = FRANCE_BOXES[name]
        out[(out < 0) & (lo >= x0) & (lo <= x1) & (la >= y0) & (la <= y1)] = z
    return out


def obstacle_membership(actors: pd.DataFrame) -> pd.DataFrame:
    """Boolean frame, one column per obstacle slug: which actor covers which obstacle.

    Examples
    --------
    >>> from mapapp.schema import actors_frame
    >>> a = actors_frame([{"id": "x:1", "obstacles": ["mobilite", "numerique"]}])
    >>> m = obstacle_membership(a)
    >>> m.columns[m.iloc[0]].tolist()
    ['mobilite', 'numerique']
    """
    slugs = [o.value for o in _OBSTACLES]
    return pd.DataFrame(membership(actors["obstacles"], slugs), index=actors.index, columns=slugs)


def _placement(
    actors: pd.DataFrame, communes: pd.DataFrame
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_]]:
    """Coordinates for coverage, whether each row was placed at its commune,
    and whether it is remote-only."""
    in_person, remote = reception_flags(actors["modes_accueil"])
    lat = actors["latitude"].to_numpy(dtype=float).copy()
    lon = actors["longitude"].to_numpy(dtype=float).copy()
    confidential = actors["confidential"].to_numpy(dtype=bool)
    need_commune = in_person & (confidential | ~(np.isfinite(lat) & np.isfinite(lon)))
    if need_commune.any():
        codes = actors["code_insee"].to_numpy(dtype=object)[need_commune]
        ref = communes[["lat", "lon"]].reindex(pd.Index(codes.astype(str)))
        lat[need_commune] = ref["lat"].to_numpy(dtype=float)
        lon[need_commune] = ref["lon"].to_numpy(dtype=float)
    lat[~in_person] = np.nan
    lon[~in_person] = np.nan
    return lat, lon, need_commune, remote


def select_services(
    actors: pd.DataFrame,
    communes: pd.DataFrame,
    *,
    obstacles: Sequence[Obstacle | str] = (),
    types: Sequence[ActorType | str] = (),
    match: Literal["any", "all"] = "any",
) -> ServicePoints:
    """The services matching the filters, placed for coverage.

    Parameters
    ----------
    actors : DataFrame
        An actors layer (:func:`mapapp.schema.actors_frame`).
    communes : DataFrame
        Reference communes indexed by ``code_insee`` with ``lat``/``lon``
        representative points (``Geography.communes``: it keeps the city-wide
        codes of Paris, Lyon and Marseille that some records carry).
    obstacles : sequence of Obstacle or str, keyword-only
        Services covering any (``match="any"``) or all (``match="all"``) of
        these obstacles; empty means every service.
    types : sequence of ActorType or str, keyword-only
        Allowed actor types; empty means all.
    match : {"any", "all"}, keyword-only
    """
    keep = service_mask(actors, obstacles=obstacles, types=types, match=match)
    sub = actors.loc[keep]
    lat, lon, at_commune, remote = _placement(sub, communes)
    placed = np.isfinite(lat) & np.isfinite(lon)
    zone = zone_of_points(lat, lon)
    placed &= zone >= 0
    cap = sub["capacite"].to_numpy(dtype=float)
    known = np.isfinite(cap) & (cap > 0)
    points = pd.DataFrame(
        {
            "id": sub["id"].to_numpy(dtype=object)[placed],
            "nom": sub["nom"].to_numpy(dtype=object)[placed],
            "actor_type": sub["actor_type"].to_numpy(dtype=object)[placed],
            "code_insee": sub["code_insee"].to_numpy(dtype=object)[placed],
            "commune": sub["commune"].to_numpy(dtype=object)[placed],
            "lat": lat[placed],
            "lon": lon[placed],
            "capacity": np.where(known, cap, 1.0)[placed],
            "known_capacity": known[placed],
            "zone": zone[placed],
        }
    )
    remote_rows = sub.loc[remote, ["id", "nom", "code_insee"]].reset_index(drop=True)
    return ServicePoints(
        points=points,
        remote=pd.DataFrame(remote_rows),
        unplaced=int((~placed & ~remote).sum()),
        at_commune=int((at_commune & placed).sum()),
    )
