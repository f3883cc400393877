"""One plan for the person in front of you: every need covered, by the fewest near places.

Why: a list of the 10 nearest services "for any of these needs" can be all
crèches and digital help and no mobility at all, although a mobility service
is 1.2 km away.  A plan answers the real question: for each need, its nearest
services (3 by default), and above them the fewest places that together cover
every need, preferring near ones.

The choice of places is a small weighted set cover, solved exactly: each
candidate place (services at the same point count as one place) costs its
distance plus :data:`PLACE_COST_KM`, so one more place is proposed only when
it saves more than that much travel.  Candidates are each need's nearest
services within the radius, plus the nearest services that cover several
needs at once; a dynamic programme over the subsets of needs (at most 2**n
states for n needs, a few dozen candidates) finds the cheapest cover.

A need with nothing within the radius is said to be uncovered, and the plan
names the nearest service beyond the radius.

Childcare (``garde-enfants``) prefers a crèche with a place reserved for
women returning to work that is free now and confirmed within 30 days
(:mod:`mapapp.reserved_view`): it is ranked and weighed as if
:data:`RESERVED_PREFERENCE_KM` nearer, so it comes before an ordinary
crèche less than that much closer, and the explanation says so.

Honest distances: a service located only to its commune (or at a point its
source shared among many addresses, see
:attr:`mapapp.search.SearchIndex.approximate`) has no distance of its own;
it is ranked and weighed as if :data:`UNCERTAIN_KM` further than its
commune's centre, so a service with a known address nearby comes first.

The plan is a plain object: the CLI (``mapapp plan``), the REST API, the
printable sheet and the pages all call :func:`build_plan` and read
:meth:`Plan.to_dict`.  It never stores nor logs the place or the needs.

Examples
--------
>>> from mapapp.schema import actors_frame
>>> actors = actors_frame([
...     {"id": "a:creche", "nom": "Crèche", "obstacles": ["garde-enfants"],
...      "latitude": 48.000, "longitude": 2.001},
...     {"id": "a:fs", "nom": "France Services", "obstacles": ["numerique", "mobilite"],
...      "latitude": 48.000, "longitude": 2.010},
...     {"id": "a:epn", "nom": "EPN", "obstacles": ["numerique"],
...      "latitude": 48.000, "longitude": 2.002},
... ])
>>> plan = build_plan(actors, lat=48.0, lon=2.0,
...                   obstacles=["garde-enfants", "mobilite", "numerique"])
>>> [s.service_ids for s in plan.stops]
[('a:creche',), ('a:fs',)]
>>> [n.need for n in plan.needs], [len(n.services) for n in plan.needs]
(['garde-enfants', 'mobilite', 'numerique'], [1, 1, 2])
>>> print(plan.explanation("en"))
2 places cover your 3 needs: the fewest places, and among them the nearest (one more place only when it saves more than 2 km).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mapapp import vocabulary
from mapapp.i18n import format_km, t
from mapapp.search import SearchIndex, SearchQuery
from mapapp.taxonomy import Obstacle, parse_obstacle

if TYPE_CHECKING:
    import geopandas as gpd

    from mapapp.servicecard import ServiceCard

__all__ = [
    "DEFAULT_PER_NEED",
    "DEFAULT_RADIUS_KM",
    "PLACE_COST_KM",
    "RESERVED_PREFERENCE_KM",
    "SHARE_PARAM",
    "UNCERTAIN_KM",
    "NeedResult",
    "Plan",
    "PlanService",
    "Stop",
    "build_plan",
    "parse_share",
    "plan_for_query",
    "share_query",
]

DEFAULT_PER_NEED = 3
#: Default radius of a plan (km): the search page's default, so that the page,
#: ``mapapp plan`` and the API give the same plan for the same place and needs.
DEFAULT_RADIUS_KM = float(vocabulary.DEFAULT_RADIUS_KM)
#: What one more place to go to is worth, in km of extra distance.
PLACE_COST_KM = 2.0
#: Added to the distance of a service whose exact position is unknown, for ranking.
UNCERTAIN_KM = 3.0
#: Childcare: how much nearer a crèche with a free reserved place counts (km).
RESERVED_PREFERENCE_KM = 3.0
#: Candidates per need considered for the cover (beyond the ones shown).
_CANDIDATES_PER_NEED = 8
#: Services closer than this (degrees, ~1 m) share a place.
_SAME_PLACE_DEG = 1e-5


def _t(key: str, lang: str, **kw: Any) -> str:
    return t(f"plan_{key}", lang, **kw)


@dataclass(frozen=True)
class PlanService:
    """A service as the plan sees it (the card has the rest: :meth:`Plan.cards`)."""

    id: str
    name: str
    distance_km: float
    precise: bool
    covers: tuple[str, ...]
    #: a crèche with a free, recently confirmed reserved place (childcare is preferred there)
    reserved_free: bool = False

    @property
    def rank_km(self) -> float:
        """The distance used to rank and weigh: uncertain positions count further,
        a free reserved childcare place nearer."""
        km = self.distance_km + (0.0 if self.precise else UNCERTAIN_KM)
        if self.reserved_free and Obstacle.GARDE_ENFANTS.value in self.covers:
            km = max(0.0, km - RESERVED_PREFERENCE_KM)
        return km

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "id": self.id,
            "name": self.name,
            "distance_km": round(self.distance_km, 3),
            "precise": self.precise,
            "covers": list(self.covers),
            "reserved_free": self.reserved_free,
        }


@dataclass(frozen=True)
class NeedResult:
    """One need: its nearest services within the radius, or the nearest beyond it."""

    need: str
    services: tuple[PlanService, ...]
    beyond: PlanService | None = None

    @property
    def covered(self) -> bool:
        """True when a service within the radius meets this need."""
        return bool(self.services)

    def note(self, lang: str, radius_km: float | None) -> str:
        """What to say when nothing is within the radius ('' otherwise)."""
        if self.services:
            return ""
        if self.beyond is None:
            return _t("nothing_at_all", lang)
        radius = format_km(radius_km or 0, lang)
        return (
            _t("nothing_within", lang, radius=radius)
            + " "
            + _t(
                "nearest_beyond",
                lang,
                name=self.beyond.name,
                km=format_km(self.beyond.distance_km, lang),
            )
        )


@dataclass(frozen=True)
class Stop:
    """A place of the plan: the services to visit there and the needs they meet."""

    service_ids: tuple[str, ...]
    covers: tuple[str, ...]
    distance_km: float


@dataclass(frozen=True)
class Plan:
    """The answer: the cover (``stops``) on top, then each need's nearest services.

    ``rows`` holds the public-view rows of every service named, indexed by
    id, for cards (:meth:`cards`); it is not part of :meth:`to_dict`.
    """

    lat: float
    lon: float
    obstacles: tuple[str, ...]
    radius_km: float | None
    per_need: int
    needs: tuple[NeedResult, ...]
    stops: tuple[Stop, ...]
    rows: pd.DataFrame = field(repr=False, compare=False)

    @property
    def uncovered(self) -> tuple[str, ...]:
        """Needs with nothing within the radius."""
        return tuple(n.need for n in self.needs if not n.covered)

    def service_ids(self) -> list[str]:
        """Every service named, stops first, each once (what a share link carries)."""
        ids = [i for s in self.stops for i in s.service_ids]
        ids += [p.id for n in self.needs for p in n.services]
        ids += [n.beyond.id for n in self.needs if n.beyond is not None]
        return list(dict.fromkeys(ids))

    def explanation(self, lang: str = "fr") -> str:
        """One line saying why these places (French unless ``lang="en"``)."""
        radius = format_km(self.radius_km or 0, lang)
        if not self.obstacles:
            return _t("no_needs", lang)
        if not self.stops:
            return _t("none", lang, radius=radius)
        n = len(self.stops)
        places = _t("places_1", lang) if n == 1 else _t("places_n", lang, n=n)
        if self.uncovered:
            missing = ", ".join(Obstacle(o).label(lang) for o in self.uncovered)
            covered = len(self.obstacles) - len(self.uncovered)
            return _t(
                "partial",
                lang,
                places=places,
                covered=covered,
                needs=len(self.obstacles),
                radius=radius,
                missing=missing,
            )
        if len(self.obstacles) == 1:
            return _t("cover_one_need", lang) + self._reserved_note(lang)
        return _t(
            "cover",
            lang,
            places=places,
            needs=len(self.obstacles),
            cost=f"{PLACE_COST_KM:g} km",
        ) + self._reserved_note(lang)

    def _reserved_note(self, lang: str) -> str:
        """Say how childcare was chosen when a crèche with a free reserved place is listed."""
        childcare = [n for n in self.needs if n.need == Obstacle.GARDE_ENFANTS.value]
        if not any(p.reserved_free for n in childcare for p in n.services):
            return ""
        km = format_km(RESERVED_PREFERENCE_KM, lang)
        return " " + _t("reserved_preferred", lang, km=km)

    def cards(self, *, lang: str = "fr", when: datetime | None = None) -> dict[str, ServiceCard]:
        """A card for every service named, by id (see :mod:`mapapp.servicecard`)."""
        from mapapp.servicecard import service_cards

        cards = service_cards(self.rows, lang=lang, when=when)
        return {c.id: c for c in cards}

    def to_dict(self, lang: str = "fr", *, when: datetime | None = None) -> dict[str, Any]:
        """JSON-ready plan: explanation, stops, needs, and every service's card.

        The start point is not included: whoever asked knows it, and a
        stored or shared plan must not reveal where the person is.
        """
        cards = self.cards(lang=lang, when=when)
        return {
            "lang": "en" if lang == "en" else "fr",
            "radius_km": self.radius_km,
            "per_need": self.per_need,
            "explanation": self.explanation(lang),
            "stops": [
                {
                    "service_ids": list(s.service_ids),
                    "covers": list(s.covers),
                    "distance_km": round(s.distance_km, 3),
                }
                for s in self.stops
            ],
            "needs": [
                {
                    "need": n.need,
                    "label": Obstacle(n.need).label(lang),
                    "covered": n.covered,
                    "note": n.note(lang, self.radius_km),
                    "services": [p.to_dict() for p in n.services],
                    "nearest_beyond": n.beyond.to_dict() if n.beyond else None,
                }
                for n in self.needs
            ],
            "services": {i: cards[i].to_dict() for i in self.service_ids() if i in cards},
        }


def _index(actors_or_index: SearchIndex | gpd.GeoDataFrame) -> SearchIndex:
    if isinstance(actors_or_index, SearchIndex):
        return actors_or_index
    return SearchIndex(actors_or_index)


def _service(
    index: SearchIndex, row: int, km: float, wanted: Sequence[str], *, only_reserved: bool = False
) -> PlanService:
    rec = index.record(row)
    name = str(rec["nom"] or rec["structure_nom"] or rec["id"])
    reserved = int(rec.get("reserved_free", 0) or 0) > 0 and not bool(
        rec.get("reserved_stale", False)
    )
    covers = tuple(o for o in wanted if o in set(rec["obstacles"]))
    if only_reserved and not reserved:  # "with a free reserved place" asked for childcare
        covers = tuple(o for o in covers if o != Obstacle.GARDE_ENFANTS.value)
    return PlanService(
        id=str(rec["id"]),
        name=name,
        distance_km=float(km),
        precise=str(rec["precision"]) in ("address", "") and not index.approximate[row],
        covers=covers,
        reserved_free=reserved,
    )


def _cover(
    candidates: Mapping[str, tuple[PlanService, float, float, bool]],
    needs: Sequence[str],
) -> list[list[PlanService]]:
    """The cheapest set of places covering every coverable need (exact DP over need subsets)."""
    bit = {o: 1 << i for i, o in enumerate(needs)}
    # group services standing at the same point into one place
    places: dict[tuple[Any, ...], list[PlanService]] = {}
    for sid, (svc, lat, lon, precise) in candidates.items():
        key: tuple[Any, ...] = (
            (round(lat / _SAME_PLACE_DEG), round(lon / _SAME_PLACE_DEG)) if precise else (sid,)
        )
        places.setdefault(key, []).append(svc)
    options = []
    for svcs in places.values():
        mask = 0
        for s in svcs:
            for o in s.covers:
                mask |= bit[o]
        if mask:
            dist = min(s.rank_km for s in svcs)
            options.append((mask, PLACE_COST_KM + dist, svcs))
    full = 0
    for mask, _, _ in options:
        full |= mask
    best: dict[int, tuple[float, list[int]]] = {0: (0.0, [])}
    # Each place is used at most once and only if it adds a need, so iterating
    # the options in a fixed order over growing masks is an exact DP.
    for k, (mask, cost, _) in enumerate(options):
        for state, (total, chosen) in list(best.items()):
            new = state | mask
            if new == state:
                continue
            cand = (total + cost, [*chosen, k])
            if new not in best or cand[0] < best[new][0] - 1e-12:
                best[new] = cand
    _, chosen = best.get(full, (0.0, []))
    stops = []
    for k in sorted(chosen, key=lambda k: options[k][1]):
        mask, _, svcs = options[k]
        # at a place, keep one service per need (the nearest), in need order
        keep: list[PlanService] = []
        for o in needs:
            if mask & bit[o] and not any(o in s.covers for s in keep):
                keep.append(min((s for s in svcs if o in s.covers), key=lambda s: s.rank_km))
        stops.append(keep)
    return stops


def build_plan(
    actors_or_index: SearchIndex | gpd.GeoDataFrame,
    *,
    lat: float,
    lon: float,
    obstacles: Sequence[Obstacle | str],
    per_need: int = DEFAULT_PER_NEED,
    radius_km: float | None = DEFAULT_RADIUS_KM,
    **filters: Any,
) -> Plan:
    """Each need's nearest services and the fewest near places covering them all.

    Parameters
    ----------
    actors_or_index : SearchIndex or GeoDataFrame
        The public view (:func:`mapapp.catalog.load_public_actors`) or an
        index built on it (reuse one index across plans).
    lat, lon : float, keyword-only
        Where the person starts from.
    obstacles : sequence of Obstacle or str, keyword-only
        Her needs, in the order to show them (duplicates ignored).
    per_need : int, keyword-only
        Services listed under each need.
    radius_km : float or None, keyword-only
        Maximum distance; None for no limit.
    **filters
        Any other :class:`~mapapp.search.SearchQuery` field (``types``,
        ``publics``, ``free_only``, ``frais``, ``modes``, ``open_at``,
        ``open_day``), applied to every need; ``reserved_free`` applies to
        childcare only (the other needs are not crèches).

    Raises
    ------
    ValueError
        A bad coordinate or radius, or ``per_need`` below 1.
    mapapp.errors.UnknownVocabularyError
        An unknown obstacle (a :class:`~mapapp.errors.MapappError`: its
        message lists the valid ones).
    """
    if per_need < 1:
        raise ValueError("per_need must be at least 1")
    index = _index(actors_or_index)
    needs = list(dict.fromkeys(parse_obstacle(o).value for o in obstacles))
    only_reserved = bool(filters.pop("reserved_free", False))
    childcare = Obstacle.GARDE_ENFANTS.value

    def query(
        obs: Sequence[str], limit: int, radius: float | None, reserved: bool = False
    ) -> SearchQuery:
        return SearchQuery(
            lat=lat,
            lon=lon,
            obstacles=tuple(obs),
            match="all",
            radius_km=radius,
            limit=limit,
            reserved_free=reserved,
            **filters,
        )

    query((), 1, radius_km)  # checks lat, lon, radius and filters before any work
    lat_col, lon_col = index.coordinates()
    candidates: dict[str, tuple[PlanService, float, float, bool]] = {}
    used_rows: list[int] = []

    def add(row: int, km: float) -> PlanService:
        svc = _service(index, row, km, needs, only_reserved=only_reserved)
        if svc.id not in candidates:
            candidates[svc.id] = (svc, lat_col[row], lon_col[row], svc.precise)
            used_rows.append(row)
        return svc

    results = []
    for need in needs:
        reserved = only_reserved and need == childcare
        rows, kms = index.query(
            query([need], max(per_need, _CANDIDATES_PER_NEED), radius_km, reserved)
        )
        if need == childcare and not reserved:
            # the nearest crèches with a free reserved place are candidates too
            more = index.query(query([need], per_need, radius_km, True))
            rows, kms = np.concatenate([rows, more[0]]), np.concatenate([kms, more[1]])
        found = list(
            {
                p.id: p for p in (add(int(r), float(k)) for r, k in zip(rows, kms, strict=True))
            }.values()
        )
        found.sort(key=lambda p: p.rank_km)
        beyond = None
        if not found and radius_km is not None:
            rows_b, kms_b = index.query(query([need], 1, None, reserved))
            if len(rows_b):
                beyond = _service(
                    index, int(rows_b[0]), float(kms_b[0]), needs, only_reserved=only_reserved
                )
                used_rows.append(int(rows_b[0]))
        results.append(NeedResult(need, tuple(found[:per_need]), beyond))
    # services meeting several needs at once, possibly a bit further away
    # (pairs and triples, and all needs at once: a dozen needs stay a few hundred queries)
    combos = [c for size in (2, 3) for c in itertools.combinations(needs, size)]
    if len(needs) > 3:
        combos.append(tuple(needs))
    for combo in combos:
        rows, kms = index.query(query(combo, 3, radius_km))
        for r, k in zip(rows, kms, strict=True):
            add(int(r), float(k))
    shown = {p.id for n in results for p in n.services}
    stops = []
    for svcs in _cover(candidates, needs):
        stops.append(
            Stop(
                tuple(s.id for s in svcs),
                tuple(o for o in needs if any(o in s.covers for s in svcs)),
                min(s.distance_km for s in svcs),
            )
        )
    named = shown | {i for s in stops for i in s.service_ids}
    named |= {n.beyond.id for n in results if n.beyond is not None}
    distance = {svc.id: svc.distance_km for svc, *_ in candidates.values()}
    distance.update({n.beyond.id: n.beyond.distance_km for n in results if n.beyond})
    used = list(dict.fromkeys(used_rows))
    rows_df = index.rows(used)
    shared = index.approximate[used] & rows_df["precision"].isin(["address", ""]).to_numpy()
    rows_df.loc[shared, "precision"] = "approximate"
    rows_df = rows_df[rows_df["id"].isin(named)].copy()
    rows_df["distance_km"] = rows_df["id"].map(distance).astype(float)
    rows_df = rows_df.set_index("id", drop=False)
    return Plan(
        lat=lat,
        lon=lon,
        obstacles=tuple(needs),
        radius_km=radius_km,
        per_need=per_need,
        needs=tuple(results),
        stops=tuple(stops),
        rows=rows_df,
    )


#: The one query parameter a share link carries: service ids, nothing else.
SHARE_PARAM = "services"
#: Ids a share link may carry (a plan names at most a few dozen).
SHARE_MAX_IDS = 60
_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.")


def share_query(ids: Sequence[str]) -> str:
    """The query string of a share link: ``services=id1,id2`` and nothing else.

    Why only ids: a link is copied into messages, browser histories and
    server logs; it must never say where the person is, what she needs or
    which filters she used (DOMAIN.md, safety rule 2).  Ids with characters
    outside ``[A-Za-z0-9:._-]`` are left out (they could not round-trip).

    Examples
    --------
    >>> share_query(["demo:1", "dora:ab-2", "bad id", "demo:1"])
    'services=demo:1,dora:ab-2'
    """
    safe = [i for i in dict.fromkeys(ids) if i and set(i) <= _ID_CHARS][:SHARE_MAX_IDS]
    return f"{SHARE_PARAM}=" + ",".join(safe)


def parse_share(value: str | Sequence[str] | None, known: Sequence[str] | pd.Index) -> list[str]:
    """The ids of a share link that name known services, in order, each once.

    Examples
    --------
    >>> parse_share("demo:2,nope:1,demo:1,demo:2", ["demo:1", "demo:2"])
    ['demo:2', 'demo:1']
    >>> parse_share(None, ["demo:1"])
    []
    """
    if value is None:
        return []
    text = value if isinstance(value, str) else ",".join(value)
    known_set = set(known)
    ids = [i.strip() for i in text.split(",")]
    return [i for i in dict.fromkeys(ids) if i in known_set][:SHARE_MAX_IDS]


def plan_for_query(
    index: SearchIndex, query: SearchQuery, *, per_need: int = DEFAULT_PER_NEED
) -> Plan:
    """The plan for a search page's query: same place, needs, radius and filters.

    Why: the page and ``mapapp plan`` must agree for the same inputs; both
    go through :func:`build_plan` with the query's own fields (its ``match``
    and ``limit`` do not apply: a plan always covers each need).
    """
    return build_plan(
        index,
        lat=query.lat,
        lon=query.lon,
        obstacles=query.obstacles,
        per_need=per_need,
        radius_km=query.radius_km,
        types=query.types,
        publics=query.publics,
        free_only=query.free_only,
        frais=query.frais,
        modes=query.modes,
        open_at=query.open_at,
        open_day=query.open_day,
        reserved_free=query.reserved_free,
    )
