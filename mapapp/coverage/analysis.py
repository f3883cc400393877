"""One coverage analysis for a territory: the figures the CLI, the app and a notebook show.

Why one function: the page, the command line and the notebook must give the
same numbers for the same question, so they all call
:func:`coverage_analysis`, which only chains the pure functions of this
package: select the services, measure distances for every commune of the
country (services across a border count), optionally weigh supply against
demand (2SFCA over the whole country, for the same reason), then keep the
territory and add it up.

Examples
--------
>>> import pandas as pd
>>> from mapapp.schema import actors_frame
>>> communes = pd.DataFrame({"nom": ["A", "B", "C"], "departement": ["24", "24", "47"],
...     "departement_nom": ["Dordogne", "Dordogne", "Lot-et-Garonne"],
...     "region": "75", "region_nom": "Nouvelle-Aquitaine", "epci": "", "epci_nom": "",
...     "population": [500, 1500, 100], "plm_city": False,
...     "lat": [45.0, 45.0, 44.5], "lon": [0.0, 0.5, 0.5]}, index=["24001", "24002", "47001"])
>>> actors = actors_frame([
...     {"id": "x:1", "nom": "Crèche", "obstacles": ["garde-enfants"], "code_insee": "47001",
...      "latitude": 44.5, "longitude": 0.5, "capacite": 20},
...     {"id": "x:2", "nom": "En ligne", "obstacles": ["garde-enfants"],
...      "modes_accueil": ["a-distance"], "code_insee": "24001"}])
>>> res = coverage_analysis(actors, communes, territory=Territory("departement", "24"),
...     obstacles=["garde-enfants"], radius_km=10, catchment_km=60)
>>> res.label, res.table.index.tolist(), res.table["distance_km"].round(1).tolist()
('Dordogne (24)', ['24001', '24002'], [68.2, 55.6])
>>> int(res.summary["services"]), int(res.summary["remote_services"])
(0, 1)
>>> res.table["accessibility_per_10k"].round(1).tolist()
[0.0, 125.0]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from mapapp.coverage.distance import by_departement, coverage_summary, coverage_table
from mapapp.coverage.services import ServicePoints, select_services
from mapapp.coverage.territory import Territory, territory_label, territory_units
from mapapp.coverage.twosfca import two_step_fca
from mapapp.geo.communes import analysis_units
from mapapp.taxonomy import ActorType, Obstacle, parse_actor_type, parse_obstacle

__all__ = ["PER_INHABITANTS", "CoverageAnalysis", "compare_summaries", "coverage_analysis"]

#: 2SFCA figures are shown "per 10,000 inhabitants".
PER_INHABITANTS = 10_000


@dataclass(frozen=True)
class CoverageAnalysis:
    """What :func:`coverage_analysis` found.

    Attributes
    ----------
    territory : Territory
    label : str
        ``"Seine-Saint-Denis (93)"``.
    selection : str
        The services counted, as slugs (``"garde-enfants"``, ``"type:creche"``).
    table : DataFrame
        One row per commune of the territory (:func:`coverage_table` columns,
        plus ``accessibility_per_10k`` when a catchment was given).
    summary : Series
        :func:`coverage_summary` plus ``services`` (in the territory, placed),
        ``remote_services`` (remote-only, whose commune is in the territory),
        ``services_at_commune`` and ``services_unplaced`` (nationally), and
        ``accessibility_per_10k`` (population-weighted) with a catchment.
    departements : DataFrame
        The table aggregated by département (:func:`by_departement`), with
        ``nom`` and, with a catchment, ``accessibility_per_10k``.
    services : ServicePoints
        Every selected service of the country.
    radius_km, catchment_km : float
    """

    territory: Territory
    label: str
    selection: str
    table: pd.DataFrame
    summary: pd.Series
    departements: pd.DataFrame
    services: ServicePoints
    radius_km: float
    catchment_km: float | None


def _selection(
    obstacles: Sequence[Obstacle | str], types: Sequence[ActorType | str], match: str
) -> str:
    parts = [parse_obstacle(o).value for o in obstacles]
    joined = (" & " if match == "all" else " | ").join(parts)
    kinds = ["type:" + parse_actor_type(t).value for t in types]
    return " ; ".join(p for p in [joined, " | ".join(kinds)] if p) or "tous les services"


def _in_territory(codes: pd.Series, communes: pd.DataFrame, territory: Territory) -> np.ndarray:
    """Whether each service's commune (``code_insee``) lies in ``territory``."""
    if territory.kind == "france":
        return np.ones(len(codes), dtype=bool)
    col = territory.kind
    owner = communes[col].reindex(pd.Index(codes.astype(str).to_numpy()))
    return (owner.to_numpy(dtype=object) == territory.code).astype(bool)


def coverage_analysis(
    actors: pd.DataFrame,
    communes: pd.DataFrame,
    *,
    territory: Territory | None = None,
    obstacles: Sequence[Obstacle | str] = (),
    types: Sequence[ActorType | str] = (),
    match: Literal["any", "all"] = "any",
    radius_km: float = 10.0,
    catchment_km: float | None = None,
) -> CoverageAnalysis:
    """Coverage of one selection of services over one territory.

    Parameters
    ----------
    actors : DataFrame
        The actors layer (ideally :func:`mapapp.safety.public_view`'s output;
        confidential services are placed at their commune either way).
    communes : DataFrame
        ``Geography.communes`` (with the city-wide Paris/Lyon/Marseille rows;
        the analysis uses the arrondissements).
    territory : Territory, keyword-only
        Default: France.
    obstacles, types, match : keyword-only
        Which services count (see :func:`select_services`).
    radius_km : float, keyword-only
        "Within reach" for the totals and the ranked table.
    catchment_km : float, keyword-only, optional
        Also compute 2SFCA accessibility with this catchment.
    """
    territory = territory or Territory()
    units = analysis_units(communes)
    inside = territory_units(units, territory)
    services = select_services(actors, communes, obstacles=obstacles, types=types, match=match)
    table = coverage_table(inside, services, radius_km=radius_km)
    summary = coverage_summary(table, radius_km=radius_km)
    pts = services.points
    summary["services"] = float(_in_territory(pts["code_insee"], communes, territory).sum())
    summary["remote_services"] = float(
        _in_territory(services.remote["code_insee"], communes, territory).sum()
    )
    summary["services_at_commune"] = float(services.at_commune)
    summary["services_unplaced"] = float(services.unplaced)
    deps = by_departement(table, radius_km=radius_km)
    names = units.groupby("departement")["departement_nom"].first()
    deps.insert(0, "nom", names.reindex(deps.index).to_numpy())
    if catchment_km is not None:
        access = two_step_fca(units, services, catchment_km=catchment_km) * PER_INHABITANTS
        table["accessibility_per_10k"] = access.reindex(table.index).to_numpy()
        pop = table["population"].to_numpy(dtype=float)
        weighted = pd.Series(table["accessibility_per_10k"].to_numpy() * pop, index=table.index)
        total = pop.sum()
        summary["accessibility_per_10k"] = float(weighted.sum() / total) if total else np.nan
        by_dep = weighted.groupby(table["departement"]).sum() / table.groupby("departement")[
            "population"
        ].sum().replace(0, np.nan)
        deps["accessibility_per_10k"] = by_dep.reindex(deps.index).to_numpy()
    return CoverageAnalysis(
        territory=territory,
        label=territory_label(units, territory),
        selection=_selection(obstacles, types, match),
        table=table,
        summary=summary,
        departements=deps,
        services=services,
        radius_km=radius_km,
        catchment_km=catchment_km,
    )


def compare_summaries(analyses: Mapping[str, CoverageAnalysis]) -> pd.DataFrame:
    """Summaries side by side, one column per named analysis (e.g. two obstacles).

    Examples
    --------
    >>> s = pd.Series({"population": 10.0})
    >>> a = CoverageAnalysis(Territory(), "France", "x", pd.DataFrame(), s, pd.DataFrame(),
    ...     ServicePoints(pd.DataFrame(), pd.DataFrame(), 0, 0), 10.0, None)
    >>> compare_summaries({"mobilite": a, "garde-enfants": a}).columns.tolist()
    ['mobilite', 'garde-enfants']
    """
    return pd.DataFrame({name: a.summary for name, a in analyses.items()})
