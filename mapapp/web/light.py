"""The light page (``/m``): help in two taps, on a cheap phone, a slow network, no JavaScript.

Why a second front door: the Streamlit app's first load is several megabytes
and needs a live WebSocket; a woman looking for help on a phone, sometimes
with the aggressor nearby, needs a page that shows the emergency numbers at
once, finds the nearest services for her needs in one tap, and leaves no trace.
This page is plain HTML rendered on the server (Jinja2, autoescaping on for
every template: data is never markup), one inline style sheet whose hash the
Content-Security-Policy allows, and one small optional script.

How it respects the safety rules (``DOMAIN.md``):

* records come only from :func:`mapapp.catalog.load_public_actors`: a
  confidential record arrives at its commune with its referral line, and the
  page says "at its commune" instead of a distance;
* her commune and needs travel in the body of a POST to ``/m`` (or
  ``/m/en``): never in a URL, so never in an access log, a Referer or the
  browser's history; they are not logged, stored or cached (the search
  index is built from records only);
* every response carries ``Cache-Control: no-store``, ``Referrer-Policy:
  no-referrer``, a strict CSP and ``X-Content-Type-Options: nosniff``; no
  cookie is ever set, nothing is put in the browser's storage;
* the quick exit is a plain link to the app's neutral site (works without
  JavaScript); where JavaScript runs, it replaces the page
  (``location.replace``), clears the site's storage, and moves inside the
  page without adding history entries, so Back does not return;
* places are resolved locally (:mod:`mapapp.geo.places`);
* "utiliser ma position" is progressive enhancement: without JavaScript the
  button stays hidden and the commune field works alone; with it, the
  browser's position is asked for only on her tap (``Permissions-Policy:
  geolocation=(self)``), rounded to 3 decimals (about 100 m, enough for "the
  nearest"), put in hidden ``lat``/``lon`` fields and sent in the POST body;
  the server rounds again, searches from there, says so ("depuis votre
  position"), and never logs or stores it;
* a list of distances by default; a map only on request (a button posting
  the same search to ``/m/carte``), which alone loads the app's vendored
  Leaflet (served here) and, when tiles are configured, their tiles (the
  page says which host sees the area).

Serving: the REST API's app factory calls :func:`mount`.  Standalone (a demo,
the browser tests)::

    uvicorn --factory mapapp.web.light:standalone_app --host 127.0.0.1 --port 8620 --no-access-log

Run any server that mounts this page with its access log off
(``--no-access-log``, or ``uvicorn.run(..., access_log=False)`` in
``mapapp api``): the query is in no URL, but the access log still records
who asked for ``/m`` and when, which this page has no use for.

Examples
--------
>>> sorted(r.path for r in router.routes if "POST" in r.methods)  # type: ignore[attr-defined]
['/m', '/m/carte', '/m/en', '/m/en/map']
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import logging
import math
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from mapapp.emergency import load_emergency
from mapapp.errors import AmbiguousPlaceError, UnknownPlaceError
from mapapp.i18n import STRINGS as ALL_STRINGS
from mapapp.i18n import Lang, t
from mapapp.settings import Settings
from mapapp.taxonomy import Obstacle

if TYPE_CHECKING:
    import pandas as pd

    from mapapp.geo.communes import Geography
    from mapapp.geo.places import Place
    from mapapp.search import SearchIndex, SearchQuery
    from mapapp.web.state import ApiState, Snapshot

__all__ = [
    "NEEDS_ORDER",
    "PER_NEED",
    "QUICK_EXIT_URL",
    "RADIUS_KM",
    "STRINGS",
    "mount",
    "nearest_by_need",
    "router",
    "standalone_app",
    "today_hours",
    "warm_up",
]

_HERE = Path(__file__).resolve().parent
_log = logging.getLogger(__name__)

#: Where the quick exit goes: the app's neutral site (``mapapp.ui.chrome``,
#: which cannot be imported here without Streamlit; a test keeps them equal).
QUICK_EXIT_URL = "https://www.google.com/search?q=meteo"
#: Services listed per chosen need.
PER_NEED = 3
#: Farther than this is not "near": say so rather than list another island.
RADIUS_KM = 100.0
#: Needs in the order of the buttons: violence first, it is why she is here.
NEEDS_ORDER: tuple[Obstacle, ...] = (
    Obstacle.VIOLENCES,
    Obstacle.LOGEMENT,
    Obstacle.GARDE_ENFANTS,
    Obstacle.DROITS,
    Obstacle.SANTE,
    Obstacle.FINANCES,
    Obstacle.EMPLOI,
    Obstacle.MOBILITE,
    Obstacle.NUMERIQUE,
    Obstacle.LANGUE,
    Obstacle.CONFIANCE,
    Obstacle.BESOINS,
)
_TZ = ZoneInfo("Europe/Paris")
_MAX_PLACE = 80
#: The form is a place and a few needs: a bigger body is not read.
_MAX_BODY = 16 * 1024
#: Longest text of a record shown on a card (names, addresses, hours).
_MAX_TEXT = 160

#: The page's own sentences (key -> (French, English)): a view of the
#: ``light_*`` keys of :data:`mapapp.i18n.STRINGS`, where they live.
STRINGS: Mapping[str, tuple[str, str]] = {
    key.removeprefix("light_"): pair
    for key, pair in ALL_STRINGS.items()
    if key.startswith("light_")
}


def _s(key: str, lang: str, **values: object) -> str:
    return t(f"light_{key}", lang, **values)


# -- headers -------------------------------------------------------------------

_CSS = (_HERE / "static" / "light.css").read_text(encoding="utf-8").strip()
_JS = (_HERE / "static" / "light.js").read_bytes()
_CSS_HASH = base64.b64encode(hashlib.sha256(_CSS.encode("utf-8")).digest()).decode("ascii")
#: Everything from this origin only; the one inline style sheet by its hash;
#: ``data:`` images only for the empty favicon (which saves a request the
#: browser would otherwise make to ``/favicon.ico``); no inline script, no plugin, no framing, forms post back here only.
CSP = (
    "default-src 'self'; script-src 'self'; "
    f"style-src 'sha256-{_CSS_HASH}'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS: Mapping[str, str] = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # geolocation for this page only, and only on her tap ("Utiliser ma position")
    "Permissions-Policy": "geolocation=(self), camera=(), microphone=()",
}


def _gzip(request: Request, response: Response) -> None:
    """Compress a page in place when the browser accepts gzip (a third of the bytes on 3G)."""
    body = bytes(response.body)
    accepts = request.headers.get("accept-encoding", "")
    if len(body) < 1024 or "gzip" not in accepts or "content-encoding" in response.headers:
        return
    packed = gzip.compress(body, compresslevel=6, mtime=0)
    response.body = packed
    response.headers["content-length"] = str(len(packed))
    response.headers["content-encoding"] = "gzip"
    response.headers["vary"] = "Accept-Encoding"


class _LightRoute(APIRoute):
    """A route whose every response carries :data:`HEADERS` and never a cookie."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_headers(request: Request) -> Response:
            response = await handler(request)
            special = response.headers.get("x-light-csp")
            for name, value in HEADERS.items():
                response.headers[name] = value
            if special:
                response.headers["content-security-policy"] = special
                del response.headers["x-light-csp"]
            if "set-cookie" in response.headers:
                del response.headers["set-cookie"]
            _gzip(request, response)
            return response

        return with_headers


router = APIRouter(prefix="/m", route_class=_LightRoute, include_in_schema=False)

_env = Environment(
    loader=FileSystemLoader(str(_HERE / "templates" / "light")),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


# -- records, geography, search --------------------------------------------------


_lock = threading.Lock()
_states: dict[tuple[str, str, str], ApiState] = {}


@cache
def _geography(cache_dir: str) -> Geography:
    from mapapp.geo.communes import load_geography

    return load_geography(Path(cache_dir))


def _catalog(s: Settings, request: Request | None = None) -> Snapshot:
    """The public records' current snapshot: the API's own when the page is mounted on it.

    Why the API's state: one mapped index per worker, not two, and the
    store's stamp checked at most once a second (on PostGIS, not one query
    per page run).  A standalone light page keeps one state of its own.
    """
    from mapapp.web.state import ApiState

    api = getattr(request.app.state, "mapapp", None) if request is not None else None
    if isinstance(api, ApiState) and api.settings == s:
        return api.snapshot()
    key = (str(s.data_dir), str(s.cache_dir), s.store_url or "")
    with _lock:
        state = _states.get(key)
        if state is None:
            _states.clear()  # one store at a time
            state = _states[key] = ApiState(s, geo=_geography(str(s.cache_dir)))
    return state.snapshot()


def nearest_by_need(
    index: SearchIndex,
    lat: float,
    lon: float,
    needs: Sequence[Obstacle],
    *,
    per_need: int = PER_NEED,
    radius_km: float = RADIUS_KM,
) -> list[tuple[Obstacle | None, pd.DataFrame]]:
    """The ``per_need`` nearest services for each need, in the order given.

    A service covering two chosen needs appears under both: she reads one
    need at a time.  No need means the nearest services of any kind (under
    ``None``).

    Examples
    --------
    >>> from mapapp.schema import actors_frame
    >>> from mapapp.search import SearchIndex
    >>> idx = SearchIndex(actors_frame([
    ...     {"id": "a", "obstacles": ["logement"], "latitude": 45.0, "longitude": 5.0},
    ...     {"id": "b", "obstacles": ["logement", "violences"], "latitude": 45.1, "longitude": 5.0},
    ...     {"id": "c", "obstacles": ["violences"], "latitude": 47.0, "longitude": 5.0}]))
    >>> out = nearest_by_need(idx, 45.0, 5.0, [Obstacle.VIOLENCES, Obstacle.LOGEMENT])
    >>> [(str(n), f["id"].tolist()) for n, f in out]
    [('violences', ['b']), ('logement', ['a', 'b'])]
    """
    from mapapp.search import SearchQuery

    wanted: list[Obstacle | None] = list(dict.fromkeys(needs)) or [None]
    out: list[tuple[Obstacle | None, pd.DataFrame]] = []
    for need in wanted:
        query = SearchQuery(
            lat=lat,
            lon=lon,
            obstacles=(need,) if need is not None else (),
            radius_km=radius_km,
            limit=per_need,
        )
        found = index.nearest(query)
        if need is Obstacle.GARDE_ENFANTS:
            found = _with_reserved(index, query, found)
        out.append((need, found))
    return out


def _with_reserved(index: SearchIndex, query: SearchQuery, found: pd.DataFrame) -> pd.DataFrame:
    """Childcare: the nearest crèche with a free reserved place joins the list if it is not in it."""
    import dataclasses

    import pandas as pd

    best = index.nearest(dataclasses.replace(query, reserved_free=True, limit=1))
    if best.empty or best["id"].iloc[0] in set(found["id"]):
        return found
    return pd.concat([found, best], ignore_index=True)


# -- what a card shows ----------------------------------------------------------


def today_hours(osm: str, now: datetime) -> tuple[list[tuple[str, str]], bool] | None:
    """Today's opening intervals of OpenStreetMap ``opening_hours`` text, and "open now".

    ``None`` when the text is empty or not valid OpenStreetMap syntax (the
    caller then shows it as written); an empty list means closed all day.

    Examples
    --------
    >>> now = datetime(2026, 12, 7, 10, 30)  # a Monday
    >>> today_hours("Mo-Fr 09:00-12:00,14:00-17:00", now)
    ([('09:00', '12:00'), ('14:00', '17:00')], True)
    >>> today_hours("Sa 09:00-12:00", now), today_hours("lundi 9h-12h", now)
    (([], False), None)
    >>> today_hours("24/7", now)
    ([('00:00', '24:00')], True)
    """
    import opening_hours

    from mapapp.hours import check_hours

    check = check_hours(osm)
    if not check.valid or not check.value:
        return None
    oh = opening_hours.OpeningHours(check.value)
    start = now.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    end = start + timedelta(days=1)
    spans: list[tuple[str, str]] = []
    try:
        for a, b, state, _comment in oh.intervals(start, end):
            if state == opening_hours.State.OPEN:
                spans.append((a.strftime("%H:%M"), "24:00" if b >= end else b.strftime("%H:%M")))
        is_open = bool(oh.is_open(now.replace(tzinfo=None)))
    except Exception:  # a rule the library parses but cannot evaluate
        return None
    return spans, is_open


@dataclass(frozen=True)
class _Service:
    name: str
    kind: str
    phone: str
    phone_href: str | None
    hours: str
    open_now: bool
    address: str
    distance: str | None
    at_commune: bool
    confidential: bool
    #: free reserved childcare places and who can refer her (never the partner)
    reserved: str | None = None


def _cap(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters (a phone screen, a small page budget).

    >>> _cap("abcdef", 4), _cap("abc", 4)
    ('abc…', 'abc')
    """
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _hours_line(osm: str, now: datetime, lang: Lang) -> tuple[str, bool]:
    from mapapp.render.cards import format_hours

    today = today_hours(osm, now)
    if today is None:
        written = format_hours(osm, lang)
        return (
            _s("hours_as_given", lang, hours=written) if written else t("hours_unknown", lang)
        ), False
    spans, is_open = today
    if not spans:
        return _s("today_closed", lang), False
    text = ", ".join(f"{a}–{b}" for a, b in spans)
    return _s("today", lang, hours=text), is_open


def _local(now: datetime, row: pd.Series) -> datetime:
    """``now`` as the service's own clock reads it (La Réunion is 3 hours ahead of Paris).

    Why: "open now" and today's hours are the service's, not the server's;
    late on a Sunday evening in Paris it is already Monday in Saint-Denis (974).

    Examples
    --------
    >>> import pandas as pd
    >>> from zoneinfo import ZoneInfo
    >>> sunday_late = datetime(2026, 12, 6, 23, 30, tzinfo=ZoneInfo("Europe/Paris"))
    >>> _local(sunday_late, pd.Series({"code_insee": "97411"})).strftime("%a %H:%M")
    'Mon 02:30'
    >>> _local(sunday_late, pd.Series({"code_insee": "93066"})).strftime("%a %H:%M")
    'Sun 23:30'
    """
    from mapapp.hours import local_time, time_zone

    zone = time_zone(_text(row.get("code_insee")), _text(row.get("code_postal")))
    return local_time(now, zone)


def _services(frame: pd.DataFrame, now: datetime, lang: Lang) -> list[_Service]:
    from mapapp.render.cards import cards_from_frame
    from mapapp.reserved_view import woman_line

    out: list[_Service] = []
    cards = cards_from_frame(frame, lang=lang)
    for card, (_, row) in zip(cards, frame.iterrows(), strict=True):
        precise = _text(row.get("precision")) == "address" and not card.confidential
        hours, is_open = _hours_line(_text(row.get("horaires_accueil")), _local(now, row), lang)
        out.append(
            _Service(
                name=_cap(card.name, _MAX_TEXT),
                kind=_cap(card.type_label, _MAX_TEXT),
                phone=_cap(card.phone, 40),
                phone_href=card.phone_href,
                hours=_cap(hours, _MAX_TEXT),
                open_now=is_open,
                address=_cap(card.where, _MAX_TEXT),
                distance=_s("km_away", lang, km=card.distance)
                if precise and card.distance
                else None,
                at_commune=not precise,
                confidential=card.confidential,
                reserved=woman_line(row, lang, now),
            )
        )
    return out


# -- pages ----------------------------------------------------------------------


def _settings(request: Request) -> Settings:
    configured = getattr(request.app.state, "mapapp_light_settings", None)
    return configured if isinstance(configured, Settings) else Settings.from_env()


def _base(lang: Lang, path: str) -> dict[str, Any]:
    return {
        "lang": lang,
        "s": lambda key, **v: _s(key, lang, **v),
        "t": lambda key, **v: t(key, lang, **v),
        "css": Markup(_CSS),  # a constant file of the package, never data
        "exit_url": QUICK_EXIT_URL,
        "countries": load_emergency(),
        "home": "/m/en" if lang == "en" else "/m",
        "other_home": "/m" if lang == "en" else "/m/en",
        "action": path,
        "other_action": "/m" if lang == "en" else "/m/en",
        "needs": [(o.value, o.label(lang)) for o in NEEDS_ORDER],
    }


def _render(name: str, status: int = 200, **context: Any) -> Response:
    html = _env.get_template(name).render(**context)
    return Response(html, status_code=status, media_type="text/html; charset=utf-8")


def _home(lang: Lang) -> Response:
    ctx = _base(lang, "/m/en" if lang == "en" else "/m")
    return _render("home.html", **ctx, place="", chosen=[])


@router.get("")
def home_fr() -> Response:
    """First screen, in French."""
    return _home("fr")


@router.get("/en")
def home_en() -> Response:
    """First screen, in English."""
    return _home("en")


@router.get("/light.js")
def script() -> Response:
    """The optional script (quick exit by ``location.replace``, one history entry)."""
    return Response(_JS, media_type="text/javascript; charset=utf-8")


@router.post("")
async def results_fr(request: Request) -> Response:
    """Results, in French (the query is in the POST body, never in the URL)."""
    return await _results(request, "fr")


@router.post("/en")
async def results_en(request: Request) -> Response:
    """Results, in English."""
    return await _results(request, "en")


@dataclass(frozen=True)
class _Query:
    place: str
    code: str
    needs: tuple[Obstacle, ...]
    position: tuple[float, float] | None = None


#: Decimals kept of her position: 3 is about 100 m, enough for "the nearest".
POSITION_DECIMALS = 3


def _position(form: Mapping[str, Any]) -> tuple[float, float] | None:
    """Her position from the form's hidden ``lat``/``lon`` fields, rounded (None when absent or bad).

    Why rounded here too: the script already rounds, but the server keeps no
    more precision than it needs, whatever a client sends.

    Examples
    --------
    >>> _position({"lat": "45.18312", "lon": "5.72749"})
    (45.183, 5.727)
    >>> _position({"lat": "", "lon": ""}), _position({"lat": "nan", "lon": "5"})
    (None, None)
    >>> _position({"lat": "91", "lon": "5"}), _position({"lat": "45"})
    (None, None)
    """
    try:
        lat, lon = float(_text(form.get("lat"))[:24]), float(_text(form.get("lon"))[:24])
    except ValueError:
        return None
    if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90 or abs(lon) > 180:
        return None
    return round(lat, POSITION_DECIMALS), round(lon, POSITION_DECIMALS)


def _parse(form: Mapping[str, Any], getlist: Callable[[str], list[Any]]) -> _Query:
    needs = []
    for value in getlist("need"):
        try:
            needs.append(Obstacle(str(value)))
        except ValueError:
            continue  # an unknown need is ignored, never echoed
    return _Query(
        place=_text(form.get("place"))[: _MAX_PLACE * 4],
        code=_text(form.get("code"))[:5],
        needs=tuple(dict.fromkeys(needs)),
        position=_position(form),
    )


def _replayed(request: Request) -> bool:
    """Whether this POST is the browser replaying a form, not her tap.

    Why: after the quick exit (without JavaScript), Back makes Chromium send
    the results form again, and the page would show her search to whoever
    holds the phone.  A navigation she started with a tap or a key carries
    ``Sec-Fetch-User: ?1``; a history replay does not.  Browsers that send
    no ``Sec-Fetch-*`` headers at all are served as before (nothing to tell).

    Examples
    --------
    >>> from starlette.requests import Request
    >>> def req(**h: str) -> Request:
    ...     return Request({"type": "http", "headers": [(k.replace("_", "-").encode(), v.encode())
    ...                                                 for k, v in h.items()]})
    >>> _replayed(req(sec_fetch_mode="navigate", sec_fetch_user="?1"))
    False
    >>> _replayed(req(sec_fetch_mode="navigate")), _replayed(req(sec_fetch_mode="cors")), _replayed(req())
    (True, False, False)
    """
    h = request.headers
    return h.get("sec-fetch-mode") == "navigate" and h.get("sec-fetch-user") != "?1"


async def _results(request: Request, lang: Lang, *, as_map: bool = False) -> Response:
    path = "/m/en" if lang == "en" else "/m"
    ctx = _base(lang, path)
    if _replayed(request):
        # Not read, not echoed: an empty first screen that says why.
        return _render("home.html", **ctx, place="", chosen=[], notice=_s("replayed", lang))
    try:
        if int(request.headers.get("content-length") or 0) > _MAX_BODY:
            raise ValueError("body too large")
        form = await request.form(max_files=0, max_fields=40, max_part_size=4096)
        q = _parse(form, form.getlist)
    except Exception:
        # Whatever the body was, it is not echoed and not logged.
        return _render("home.html", 400, **ctx, place="", chosen=[], error=_s("broken", lang))
    try:
        return _answer(request, lang, q, ctx, as_map=as_map)
    except Exception as exc:
        # Log the kind of failure only: its message could quote her place.
        _log.error("light page: the search failed (%s)", type(exc).__name__)
        return _render(
            "home.html",
            500,
            **ctx,
            place="",
            chosen=[n.value for n in q.needs],
            error=_s("broken", lang),
        )


def _answer(
    request: Request, lang: Lang, q: _Query, ctx: dict[str, Any], *, as_map: bool = False
) -> Response:
    from mapapp.geo.places import Place, resolve_place, suggest_places

    chosen = [n.value for n in q.needs]
    again = {**ctx, "place": q.place, "chosen": chosen}
    if len(q.place) > _MAX_PLACE:
        return _render("home.html", 400, **again, error=_s("too_long", lang))
    s = _settings(request)
    geo = _geography(str(s.cache_dir))
    place: Place | None = None
    if q.position is not None:  # her position, asked on her tap: it wins over the field
        lat, lon = q.position
        place = Place("", t("start_position_label", lang), "", lat, lon)
    elif q.code and q.code in geo.communes.index:
        place = _place_from_code(geo, q.code)
    elif not q.place:
        return _render("home.html", 400, **again, error=t("place_missing", lang))
    else:
        try:
            place = resolve_place(q.place, geo)
        except AmbiguousPlaceError as exc:
            return _render(
                "choose.html", **again, title=t("place_choose", lang), choices=exc.choices[:20]
            )
        except UnknownPlaceError:
            close = suggest_places(q.place, geo, limit=6)
            return _render(
                "choose.html",
                400,
                **again,
                error=t("place_unknown", lang),
                title=t("place_did_you_mean", lang) if close else "",
                choices=close,
            )
    cat = _catalog(s, request)
    found = nearest_by_need(cat.index, place.lat, place.lon, q.needs)
    label = place.nom if q.position is not None else place.label
    start = (
        t("start_from_position", lang)
        if q.position is not None
        else t("start_from_commune", lang, place=place.label)
    )
    where: dict[str, Any] = {"code": place.code_insee, "position": q.position, "place_label": label}
    if as_map:
        labelled = [(n.label(lang) if n else "", f) for n, f in found]
        return _map_page(lang, {**again, **where}, place, labelled, s, start)
    now = datetime.now(_TZ)
    groups = [
        (
            need.label(lang) if need is not None else _s("any_need", lang),
            _services(frame, now, lang),
        )
        for need, frame in found
    ]
    demo = bool(cat.is_demo or cat.index.rows_flag("demo").any())
    return _render(
        "results.html",
        **again,
        **where,
        start=start,
        groups=groups,
        km=int(RADIUS_KM),
        demo=demo,
        map_action="/m/en/map" if lang == "en" else "/m/carte",
        tiles_note=(
            _s("map_tiles_note", lang, host=_tiles_host(s.tiles))
            if s.tiles
            else _s("map_no_tiles", lang)
        ),
    )


@router.post("/carte")
async def map_fr(request: Request) -> Response:
    """The same search on a map, in French (only on request: it loads Leaflet and tiles)."""
    return await _results(request, "fr", as_map=True)


@router.post("/en/map")
async def map_en(request: Request) -> Response:
    """The same search on a map, in English."""
    return await _results(request, "en", as_map=True)


_LEAFLET = Path(__file__).resolve().parents[1] / "ui" / "static" / "leaflet"
_MAP_JS = (_HERE / "static" / "map.js").read_bytes()


@router.get("/leaflet.js")
def leaflet_js() -> Response:
    """The app's vendored Leaflet, served from here (never a CDN); the map page only."""
    return Response((_LEAFLET / "leaflet.js").read_bytes(), media_type="text/javascript")


@router.get("/leaflet.css")
def leaflet_css() -> Response:
    """Leaflet's style sheet (the map page only)."""
    return Response((_LEAFLET / "leaflet.css").read_bytes(), media_type="text/css")


@router.get("/map.js")
def map_js() -> Response:
    """Draws the map from the page's data attribute; every label is set as text."""
    return Response(_MAP_JS, media_type="text/javascript; charset=utf-8")


def _tiles_host(tiles: str | None) -> str | None:
    """``"tile.openstreetmap.org"`` for a tile URL template (None when tiles are off).

    >>> _tiles_host("https://{s}.tile.example.org/{z}/{x}/{y}.png"), _tiles_host(None)
    ('tile.example.org', None)
    """
    if not tiles:
        return None
    host = tiles.split("//", 1)[-1].split("/", 1)[0]
    return host.replace("{s}.", "")


def _map_csp(tiles: str | None) -> str:
    origin = ""
    if tiles:
        scheme = tiles.split("//", 1)[0] if "//" in tiles else "https:"
        origin = " " + scheme + "//" + tiles.split("//", 1)[-1].split("/", 1)[0].replace("{s}", "*")
    return CSP.replace("style-src ", "style-src 'self' ").replace(
        "img-src 'self' data:", "img-src 'self' data:" + origin
    )


def _map_page(
    lang: Lang,
    ctx: dict[str, Any],
    place: Place,
    found: list[tuple[str, pd.DataFrame]],
    s: Settings,
    start: str,
) -> Response:
    """Numbered points of the listed services; confidential ones at their commune point."""
    points: list[dict[str, Any]] = []
    names: list[str] = []
    seen: set[str] = set()
    for _label, frame in found:
        for _, row in frame.iterrows():
            lat, lon = float(row["latitude"]), float(row["longitude"])
            name = _cap(_text(row.get("nom")), _MAX_TEXT)
            if row["id"] in seen or not (math.isfinite(lat) and math.isfinite(lon)):
                continue
            seen.add(row["id"])
            names.append(name)
            points.append({"n": len(names), "lat": round(lat, 5), "lon": round(lon, 5), "t": name})
    data = {
        "points": points,
        "home": {
            "lat": place.lat,
            "lon": place.lon,
            "t": _s("map_you", lang, place=ctx["place_label"]),
        },
        "tiles": s.tiles or "",
        "attribution": s.tiles_attribution if s.tiles else "",
    }
    host = _tiles_host(s.tiles)
    response = _render(
        "map.html",
        **ctx,
        names=names,
        data=data,
        start=start,
        note=_s("map_tiles_note", lang, host=host) if host else _s("map_no_tiles", lang),
    )
    response.headers["x-light-csp"] = _map_csp(s.tiles)
    return response


def _place_from_code(geo: Geography, code: str) -> Place:
    from mapapp.geo.places import Place

    row = geo.communes.loc[code]
    return Place(
        code, str(row["nom"]), str(row["departement"]), float(row["lat"]), float(row["lon"])
    )


# -- mounting -------------------------------------------------------------------


def mount(app: FastAPI, settings: Settings | None = None) -> None:
    """Serve the light page on ``app`` at ``/m``.

    ``settings`` default to the environment's, read on each request.
    """
    if settings is not None:
        app.state.mapapp_light_settings = settings
    app.include_router(router)


def warm_up(settings: Settings | None = None) -> None:
    """Load the geography and build the search index now, so the first search is fast.

    Failures are logged by kind only and left for the first search to report.
    """
    try:
        _catalog(settings if settings is not None else Settings.from_env())
    except Exception as exc:
        _log.warning("light page: warm-up failed (%s)", type(exc).__name__)


def standalone_app() -> FastAPI:
    """An app serving only the light page (demos, browser tests); see the module docstring.

    The search index is built in the background at start-up.
    """

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        threading.Thread(target=warm_up, name="light-warm-up", daemon=True).start()
        yield

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    mount(app)
    return app
