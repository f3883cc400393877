"""Response shapes of the REST API (they make the OpenAPI document schemathesis checks).

The service record follows data·inclusion v1 (field names, ``frais`` as one
value, ``publics`` with ``tous-publics`` alone); mapapp's own fields are
under ``mapapp``.  A search result is ``{"service": ..., "distance": km}`` as
in data·inclusion's search API.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = [
    "CoverageOut",
    "CoverageRow",
    "CoverageSummary",
    "MapappFields",
    "PlaceOut",
    "PlanOut",
    "Problem",
    "ReservedPlacesOut",
    "SearchPage",
    "ServiceOut",
    "ServiceResult",
    "TerritoryOut",
    "VocabularyItem",
]


class ReservedPlacesOut(BaseModel):
    """Childcare places a crèche keeps for women returning to work (never who reserves them)."""

    total: int = Field(ge=1, description="Places reserved and valid today.")
    libres: int = Field(ge=0, description="How many of them are free now.")
    confirme_le: str | None = Field(description="Oldest confirmation (ISO 8601, UTC).")
    peut_etre_perime: bool = Field(description="Not confirmed for 30 days: may be out of date.")


class MapappFields(BaseModel):
    """What mapapp adds to a data·inclusion service."""

    obstacles: list[str] = Field(description="Obstacle slugs (see /api/v1/obstacles).")
    actor_type: str = Field(description="Actor type slug (see /api/v1/types).")
    structure_nom: str | None = None
    site_web: str | None = None
    confidential: bool = Field(
        description="True for a confidential place: shown at its commune, with a referral phone."
    )
    precision: str = Field(description="'address', 'commune' or 'none'.")
    demo: bool = Field(description="True for demonstration records that are not real places.")
    places_reservees: ReservedPlacesOut | None = Field(
        default=None, description="Reserved childcare places (crèches of the network), if any."
    )


class ServiceOut(BaseModel):
    """A service in data·inclusion v1 shape."""

    id: str
    source: str
    structure_id: str
    nom: str
    description: str
    date_maj: str | None = None
    thematiques: list[str] | None = None
    frais: str | None = None
    frais_precisions: str | None = None
    publics: list[str] | None = None
    publics_precisions: str | None = None
    commune: str | None = None
    code_postal: str | None = None
    code_insee: str | None = None
    adresse: str | None = None
    complement_adresse: str | None = None
    longitude: float | None = None
    latitude: float | None = None
    telephone: str | None = None
    courriel: str | None = None
    modes_accueil: list[str] | None = None
    zone_eligibilite: list[str] | None = None
    horaires_accueil: str | None = None
    mapapp: MapappFields


class ServiceResult(BaseModel):
    """One search result: the service and its great-circle distance."""

    service: ServiceOut
    distance: float = Field(description="Great-circle distance in km from the place searched.")


class PlaceOut(BaseModel):
    """The commune (or point) the search started from."""

    code_insee: str | None = None
    nom: str | None = None
    lat: float
    lon: float


class SearchPage(BaseModel):
    """A page of nearest services."""

    items: list[ServiceResult]
    remote: list[ServiceOut] = Field(
        description="Remote-only services matching the filters (first page only; no distance)."
    )
    page: int
    size: int
    has_more: bool
    demo: bool = Field(description="True while the store is empty and demonstration data is shown.")
    around: PlaceOut


class VocabularyItem(BaseModel):
    """A value of a vocabulary with its French and English labels."""

    value: str
    label: dict[str, str]
    thematiques: list[str] | None = None
    obstacles: list[str] | None = None


class TerritoryOut(BaseModel):
    kind: str
    code: str
    label: str


class CoverageSummary(BaseModel):
    """Territory totals for one obstacle."""

    obstacle: str
    label: str
    population: int
    population_beyond_radius: int
    share_within_radius: float | None
    mean_distance_km: float | None


class CoverageRow(BaseModel):
    """One commune (or département) × every obstacle asked for."""

    code: str
    nom: str
    population: int
    share_within_radius: dict[str, float | None]
    mean_distance_km: dict[str, float | None]


class CoverageOut(BaseModel):
    territory: TerritoryOut
    level: str
    radius_km: float
    obstacles: list[str]
    summary: list[CoverageSummary]
    rows: list[CoverageRow]
    demo: bool


class PlanOut(BaseModel):
    """The per-need plan (:meth:`mapapp.plan.Plan.to_dict`): no start point in it."""

    lang: str
    radius_km: float | None
    per_need: int
    explanation: str
    stops: list[dict[str, Any]]
    needs: list[dict[str, Any]]
    services: dict[str, dict[str, Any]]


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[dict[str, str]] | None = None
    choices: list[dict[str, str]] | None = None
