"""The REST API, version 1: nearest services, one service, coverage, vocabularies.

Parameter names follow data·inclusion's search API where they mean the same
thing (``code_commune``, ``code_postal``, ``lat``/``lon``, ``frais``,
``publics``, ``page``, ``size``); mapapp's own filters keep mapapp's names
(``obstacles``, ``types`` of actor, ``match``, ``radius_km``, ``open_now``).
Records come only from the public view (:mod:`mapapp.web.state`), so a
confidential service is found, placed and measured at its commune.

Nothing of a request is stored or logged: the place and filters live in the
request's variables and die with it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from data_inclusion.schema.v1 import Public
from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from numpy.typing import NDArray
from pydantic import TypeAdapter

from mapapp.coverage import Territory, territory_label, territory_units
from mapapp.errors import AmbiguousPlaceError, UnknownPlaceError
from mapapp.geo.communes import analysis_units
from mapapp.geo.places import Place, resolve_place
from mapapp.hours import is_open
from mapapp.search import FREE_FRAIS, SearchQuery
from mapapp.taxonomy import ActorType, Obstacle
from mapapp.web.fastquery import FastQueryRoute
from mapapp.web.models import (
    CoverageOut,
    CoverageRow,
    CoverageSummary,
    PlaceOut,
    PlanOut,
    Problem,
    SearchPage,
    ServiceOut,
    TerritoryOut,
    VocabularyItem,
)
from mapapp.web.problems import ApiProblem
from mapapp.web.state import ApiState, Snapshot

__all__ = ["router"]

router = APIRouter(prefix="/api/v1")
_F = TypeVar("_F", bound=Callable[..., Any])

_PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "Ambiguous place or bad combination of parameters"},
    404: {"model": Problem, "description": "Unknown place, territory or service"},
    422: {"model": Problem, "description": "Invalid parameters"},
    429: {"model": Problem, "description": "Too many requests"},
    503: {"model": Problem, "description": "The store cannot be read right now"},
}
_MAX_ROWS = 1000
_MAX_SCAN = 50_000
_CODE_COMMUNE = r"^(?:\d{2}|2[AB])\d{3}$"
_ZONES = {
    "971": "America/Guadeloupe",
    "972": "America/Martinique",
    "973": "America/Cayenne",
    "974": "Indian/Reunion",
    "976": "Indian/Mayotte",
}
_PARIS = ZoneInfo("Europe/Paris")


def _fast_get(path: str, **options: Any) -> Callable[[_F], _F]:
    """``router.get`` with a :class:`FastQueryRoute` (the query string validated in one call)."""

    def register(endpoint: _F) -> _F:
        router.add_api_route(
            path, endpoint, methods=["GET"], route_class_override=FastQueryRoute, **options
        )
        return endpoint

    return register


def _state(request: Request) -> ApiState:
    state: ApiState = request.app.state.mapapp
    return state


async def _snapshot(state: ApiState) -> Snapshot:
    """The current snapshot (a due stamp check runs in its own thread); a first build
    runs off the event loop."""
    ready = state.ready()
    if ready is not None:
        return ready
    return await run_in_threadpool(state.snapshot)


def _place(
    state: ApiState,
    code_commune: str | None,
    code_postal: str | None,
    commune: str | None,
    lat: float | None,
    lon: float | None,
) -> PlaceOut:
    given = [v for v in (code_commune, code_postal, commune) if v]
    if (lat is None) != (lon is None) or len(given) + (lat is not None) > 1:
        raise ApiProblem("invalid-parameters", 422, errors=[_one_place()])
    geo = state.geo
    try:
        if code_commune:
            if code_commune not in geo.communes.index:
                raise ApiProblem("unknown-place", 404)
            found = _commune(geo, code_commune)
        elif code_postal:
            if not geo.by_postcode.get(code_postal):
                raise ApiProblem("unknown-place", 404)
            found = resolve_place(code_postal, geo)
        elif commune:
            found = resolve_place(commune, geo)
        elif lat is not None and lon is not None:
            return PlaceOut(lat=lat, lon=lon)
        else:
            raise ApiProblem("missing-place", 422)
    except AmbiguousPlaceError as exc:
        choices = [{"code_commune": c, "label": label} for c, label in exc.choices[:50]]
        raise ApiProblem("ambiguous-place", 400, choices=choices) from None
    except UnknownPlaceError:
        raise ApiProblem("unknown-place", 404) from None
    return PlaceOut(code_insee=found.code_insee, nom=found.label, lat=found.lat, lon=found.lon)


def _one_place() -> dict[str, str]:
    return {
        "loc": "query",
        "msg": "give one place: code_commune, code_postal, commune, or lat and lon together",
    }


def _commune(geo: Any, code: str) -> Place:
    row = geo.communes.loc[code]
    return Place(
        code, str(row["nom"]), str(row["departement"]), float(row["lat"]), float(row["lon"])
    )


def _now_for(code_insee: str, now_utc: datetime) -> datetime:
    zone = _ZONES.get(code_insee[:3])
    return now_utc.astimezone(ZoneInfo(zone) if zone else _PARIS).replace(tzinfo=None)


def _post_filter(
    snap: Snapshot, frais: list[str], open_now: bool
) -> Callable[[NDArray[np.intp]], NDArray[np.bool_]] | None:
    want_paid = frais == ["payant"]
    if not want_paid and not open_now:
        return None
    now_utc = datetime.now(tz=ZoneInfo("UTC"))

    def keep(rows: NDArray[np.intp]) -> NDArray[np.bool_]:
        out = np.ones(len(rows), dtype=bool)
        for k, pos in enumerate(rows):
            rec = snap.record(int(pos))
            if want_paid and set(rec["frais"]) <= FREE_FRAIS:
                out[k] = False
            elif open_now:
                when = _now_for(str(rec["code_insee"]), now_utc)
                out[k] = is_open(str(rec["horaires_accueil"]), when) is True
        return out

    return keep


def _search(
    snap: Snapshot,
    query: SearchQuery,
    keep: Callable[[NDArray[np.intp]], NDArray[np.bool_]] | None,
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    if keep is None:
        return snap.index.query(query)
    fetch = query.limit * 3
    while True:
        rows, km = snap.index.query(dataclasses.replace(query, limit=fetch))
        mask = keep(rows)
        if mask.sum() >= query.limit or len(rows) < fetch or fetch >= _MAX_SCAN:
            return rows[mask][: query.limit], km[mask][: query.limit]
        fetch = min(_MAX_SCAN, fetch * 4)


def _remote(snap: Snapshot, query: SearchQuery, frais: list[str], size: int) -> list[bytes]:
    """Remote-only services matching the filters (they do not depend on the place: cached)."""
    key = (
        query.obstacles,
        query.match,
        query.types,
        query.publics,
        tuple(frais),
        size,
        query.reserved_free,
    )
    found = snap.remote_cache.get(key)
    if found is None:
        far = snap.index.remote(dataclasses.replace(query, limit=size), limit=size)
        keep = _post_filter(snap, frais, False)
        positions = [snap.positions[str(rid)] for rid in far["id"]]
        if keep is not None and positions:
            positions = [p for p, k in zip(positions, keep(np.array(positions)), strict=True) if k]
        found = snap.services_json(positions)
        if len(snap.remote_cache) < 4096:
            snap.remote_cache[key] = found
    return found


@_fast_get(
    "/services",
    response_model=SearchPage,
    responses=_PROBLEMS,
    summary="Nearest services around a place / Services les plus proches d'un lieu",
)
async def search_services(
    request: Request,
    code_commune: Annotated[
        str | None,
        Query(pattern=_CODE_COMMUNE, description="INSEE code of the commune (e.g. 93066)."),
    ] = None,
    code_postal: Annotated[
        str | None, Query(pattern=r"^\d{5}$", description="Postcode (e.g. 93200).")
    ] = None,
    commune: Annotated[
        str | None,
        Query(min_length=1, max_length=100, description="Commune name, e.g. 'Saint-Denis 93'."),
    ] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90, description="Latitude (with lon).")] = None,
    lon: Annotated[
        float | None, Query(ge=-180, le=180, description="Longitude (with lat).")
    ] = None,
    obstacles: Annotated[list[Obstacle] | None, Query(max_length=12)] = None,
    match: Annotated[Literal["any", "all"], Query()] = "any",
    types: Annotated[list[ActorType] | None, Query(max_length=12)] = None,
    publics: Annotated[list[Public] | None, Query(max_length=14)] = None,
    frais: Annotated[list[Literal["gratuit", "payant"]] | None, Query(max_length=2)] = None,
    open_now: Annotated[
        bool, Query(description="Only services open now (by their hours).")
    ] = False,
    place_reservee_libre: Annotated[
        bool,
        Query(
            description="Only crèches with a childcare place reserved for women returning "
            "to work, free now / seulement les crèches avec une place réservée libre."
        ),
    ] = False,
    radius_km: Annotated[float | None, Query(gt=0, le=1000)] = None,
    page: Annotated[int, Query(ge=1, le=100)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 10,
    lang: Annotated[Literal["fr", "en"] | None, Query()] = None,
) -> Response:
    """Services with a place, nearest first, each with its great-circle distance (km).

    Give one place: ``code_commune`` (INSEE), ``code_postal``, ``commune``
    (a name), or ``lat`` and ``lon``.  A service matches the ``obstacles``
    when it covers any of them (``match=all``: every one); ``publics`` keeps
    services open to one of them or to everyone; ``frais=gratuit`` keeps
    services free of charge.
    """
    state = _state(request)
    around = _place(state, code_commune, code_postal, commune, lat, lon)
    snap = await _snapshot(state)
    wanted_frais: list[str] = sorted(set(frais or []))
    if page * size + 1 > _MAX_ROWS:
        raise ApiProblem(
            "invalid-parameters", 422, errors=[{"loc": "page", "msg": "page × size at most 999"}]
        )
    query = SearchQuery(
        lat=around.lat,
        lon=around.lon,
        obstacles=tuple(obstacles or ()),
        match=match,
        types=tuple(types or ()),
        publics=tuple(p.value for p in publics or ()),
        free_only=wanted_frais == ["gratuit"],
        radius_km=radius_km,
        limit=page * size + 1,
        reserved_free=place_reservee_libre,
    )
    rows, km = _search(snap, query, _post_filter(snap, wanted_frais, open_now))
    start = (page - 1) * size
    shown = rows[start : start + size].tolist()
    items = b",".join(
        b'{"service":%s,"distance":%r}' % (raw, round(d, 3))
        for raw, d in zip(snap.services_json(shown), km[start : start + size].tolist(), strict=True)
    )
    remote = _remote(snap, query, wanted_frais, size) if page == 1 else []
    head = {
        "page": page,
        "size": size,
        "has_more": bool(len(rows) > start + size),
        "demo": snap.is_demo,
        "around": around.model_dump(),
    }
    # Cached JSON of each service, joined: no per-request model validation (the
    # contract test checks these bytes against the documented SearchPage).
    body = b'{"items":[%s],"remote":[%s],%s' % (
        items,
        b",".join(remote),
        json.dumps(head, ensure_ascii=False)[1:].encode(),
    )
    return Response(body, media_type="application/json")


@router.get(
    "/services/{service_id}",
    response_model=ServiceOut,
    responses=_PROBLEMS,
    summary="One service / Un service",
)
async def get_service(
    request: Request,
    service_id: Annotated[str, Path(min_length=1, max_length=300)],
    lang: Annotated[Literal["fr", "en"] | None, Query()] = None,
) -> Response:
    """One service by its id, in data·inclusion v1 shape (public view)."""
    snap = await _snapshot(_state(request))
    pos = snap.positions.get(service_id)
    if pos is None:
        raise ApiProblem("not-found", 404)
    return Response(snap.service_json(pos), media_type="application/json")


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


@router.get(
    "/coverage",
    response_model=CoverageOut,
    responses=_PROBLEMS,
    summary="Coverage of a territory by obstacle / Couverture d'un territoire par frein",
)
def coverage(
    request: Request,
    departement: Annotated[str | None, Query(pattern=r"^(?:\d{1,3}|2[AaBb])$")] = None,
    region: Annotated[str | None, Query(pattern=r"^\d{1,2}$")] = None,
    epci: Annotated[str | None, Query(pattern=r"^\d{9}$")] = None,
    obstacles: Annotated[list[Obstacle] | None, Query(max_length=12)] = None,
    radius_km: Annotated[float, Query(gt=0, le=500)] = 10.0,
    lang: Annotated[Literal["fr", "en"] | None, Query()] = None,
) -> CoverageOut:
    """Per obstacle: the territory's population beyond ``radius_km`` of an in-person service.

    ``rows`` are the communes of a département or an EPCI, or the départements
    of a région or of France (no territory given); distances are great-circle
    from each commune's representative point.
    """
    chosen = [
        (k, v) for k, v in (("departement", departement), ("region", region), ("epci", epci)) if v
    ]
    if len(chosen) > 1:
        raise ApiProblem(
            "invalid-parameters",
            422,
            errors=[{"loc": "query", "msg": "give at most one of departement, region, epci"}],
        )
    state = _state(request)
    territory = Territory.parse(*chosen[0]) if chosen else Territory()
    units = analysis_units(state.geo.communes)
    try:
        inside = territory_units(units, territory)
        label = territory_label(units, territory)
    except UnknownPlaceError:
        raise ApiProblem("unknown-territory", 404) from None
    snap = state.snapshot()
    slugs = [o.value for o in dict.fromkeys(obstacles or list(Obstacle))]
    dist = snap.distances(state.geo.communes).reindex(inside.index)[slugs].to_numpy(dtype=float)
    pop = inside["population"].to_numpy(dtype=float)
    ui = "en" if lang == "en" else "fr"
    summary = [_summary(Obstacle(s), dist[:, k], pop, radius_km, ui) for k, s in enumerate(slugs)]
    rows = _rows(inside, territory, dist, pop, slugs, radius_km)
    return CoverageOut(
        territory=TerritoryOut(kind=territory.kind, code=territory.code, label=label),
        level=territory.map_level,
        radius_km=radius_km,
        obstacles=slugs,
        summary=summary,
        rows=rows,
        demo=snap.is_demo,
    )


def _summary(
    obstacle: Obstacle, d: NDArray[np.float64], pop: NDArray[np.float64], radius: float, lang: str
) -> CoverageSummary:
    total = float(pop.sum())
    finite = np.isfinite(d)
    served = float(pop[finite].sum())
    return CoverageSummary(
        obstacle=obstacle.value,
        label=obstacle.label(lang),
        population=int(total),
        population_beyond_radius=int(pop[d > radius].sum()),
        share_within_radius=float(pop[d <= radius].sum() / total) if total else None,
        mean_distance_km=_finite(float((d[finite] * pop[finite]).sum() / served))
        if served
        else None,
    )


def _rows(
    inside: pd.DataFrame,
    territory: Territory,
    dist: NDArray[np.float64],
    pop: NDArray[np.float64],
    slugs: list[str],
    radius: float,
) -> list[CoverageRow]:
    if territory.map_level == "commune":
        keys = inside.index.to_numpy(dtype=object)
        names = inside["nom"].astype(str).to_numpy()
    else:
        keys = inside["departement"].astype(str).to_numpy()
        names = inside["departement_nom"].astype(str).to_numpy()
    out: list[CoverageRow] = []
    for key in pd.unique(keys):
        sel = keys == key
        p = pop[sel]
        total = float(p.sum())
        share: dict[str, float | None] = {}
        mean: dict[str, float | None] = {}
        for k, slug in enumerate(slugs):
            d = dist[sel, k]
            fin = np.isfinite(d)
            share[slug] = float(p[d <= radius].sum() / total) if total else None
            served = float(p[fin].sum())
            mean[slug] = _finite(float((d[fin] * p[fin]).sum() / served)) if served else None
        out.append(
            CoverageRow(
                code=str(key),
                nom=str(names[sel][0]),
                population=int(total),
                share_within_radius=share,
                mean_distance_km=mean,
            )
        )
    return out


@router.get(
    "/plan",
    response_model=PlanOut,
    responses=_PROBLEMS,
    summary="A plan covering every need / Un plan qui couvre chaque besoin",
)
def plan(
    request: Request,
    obstacles: Annotated[list[Obstacle], Query(min_length=1, max_length=12)],
    code_commune: Annotated[str | None, Query(pattern=_CODE_COMMUNE)] = None,
    code_postal: Annotated[str | None, Query(pattern=r"^\d{5}$")] = None,
    commune: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
    lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
    types: Annotated[list[ActorType] | None, Query(max_length=12)] = None,
    publics: Annotated[list[Public] | None, Query(max_length=14)] = None,
    frais: Annotated[list[Literal["gratuit", "payant"]] | None, Query(max_length=2)] = None,
    per_need: Annotated[int, Query(ge=1, le=10)] = 3,
    radius_km: Annotated[float | None, Query(gt=0, le=1000)] = None,
    lang: Annotated[Literal["fr", "en"] | None, Query()] = None,
    place_reservee_libre: Annotated[
        bool, Query(description="Childcare: only crèches with a free reserved place.")
    ] = False,
) -> PlanOut:
    """For each need (obstacle), its nearest services, and the fewest near places covering all.

    The same plan as ``mapapp plan`` and the app's; the answer never contains the start point.
    """
    from mapapp.plan import DEFAULT_RADIUS_KM, build_plan

    state = _state(request)
    around = _place(state, code_commune, code_postal, commune, lat, lon)
    snap = state.snapshot()
    wanted = sorted(set(frais or []))
    result = build_plan(
        snap.index,
        lat=around.lat,
        lon=around.lon,
        obstacles=list(obstacles),
        per_need=per_need,
        radius_km=radius_km if radius_km is not None else DEFAULT_RADIUS_KM,
        types=tuple(types or ()),
        publics=tuple(p.value for p in publics or ()),
        free_only=wanted == ["gratuit"],
        reserved_free=place_reservee_libre,
    )
    return PlanOut(**result.to_dict("en" if lang == "en" else "fr"))


def _vocabulary(kind: Literal["obstacles", "types"]) -> bytes:
    """A vocabulary's JSON answer, built once per process (it never changes while it runs).

    Why bytes: ``/types`` and ``/obstacles`` are the cheapest, most polled
    answers; validating and serialising 12-20 models on every call cost
    about as much server CPU as a search (``bench/bench_api_cpu.py``).  The
    models are still what the bytes come from, and the route keeps them as
    its documented ``response_model``.

    Examples
    --------
    >>> import json
    >>> json.loads(_vocabulary("types"))[0]["label"]["fr"] != ""
    True
    """
    found = _VOCABULARIES.get(kind)
    if found is None:
        if kind == "obstacles":
            items = [
                VocabularyItem(
                    value=o.value,
                    label={"fr": o.label("fr"), "en": o.label("en")},
                    thematiques=list(o.thematiques_v1),
                )
                for o in Obstacle
            ]
        else:
            items = [
                VocabularyItem(
                    value=t.value,
                    label={"fr": t.label("fr"), "en": t.label("en")},
                    obstacles=sorted(o.value for o in t.default_obstacles),
                )
                for t in ActorType
            ]
        found = _VOCABULARY_LIST.dump_json(items)
        _VOCABULARIES[kind] = found
    return found


_VOCABULARY_LIST: TypeAdapter[list[VocabularyItem]] = TypeAdapter(list[VocabularyItem])
_VOCABULARIES: dict[str, bytes] = {}


@router.get("/obstacles", response_model=list[VocabularyItem], summary="Obstacles / Freins")
async def list_obstacles() -> Response:
    """The obstacles, French and English labels, and the data·inclusion v1 thématiques mapped.

    ``async``: a few microseconds of work on the event loop, where a plain
    ``def`` would wait for a thread-pool hop (seconds behind a busy server's
    searches, measured by bench/bench_load.py).
    """
    return Response(_vocabulary("obstacles"), media_type="application/json")


@router.get("/types", response_model=list[VocabularyItem], summary="Actor types / Types d'acteurs")
async def list_types() -> Response:
    """The actor types, French and English labels, and their default obstacles (``async``: see above)."""
    return Response(_vocabulary("types"), media_type="application/json")
