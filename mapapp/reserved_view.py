"""Reserved childcare places, as every page shows them: "2 places réservées libres (confirmé il y a 3 jours)".

Why a core module of its own: the card in the app, the plan and its printed
sheet, the REST API, the light page and the coverage page must say the same
thing about a crèche's reserved places, and must all leave out what is not
theirs to show.  The register (:mod:`mapapp.reserved`, issue 17 items 1-2)
holds who reserves the places and the history of every change; this module
only ever receives its *public* frame (:func:`mapapp.reserved.free_places`)
and keeps from it the columns listed in :data:`PUBLIC_COLUMNS`, so a
partner's name cannot ride along into a page even if the register ever
returned it.

What is attached to each actor row (:func:`attach_reserved`):

``reserved_total``
    places reserved at this crèche and valid now (0 when none);
``reserved_free``
    how many of them are free now;
``reserved_confirmed_at``
    the *oldest* confirmation among its reservations (a UTC timestamp):
    with two partners, the line is only as fresh as its stalest part;
``reserved_stale``
    not confirmed for :data:`STALE_DAYS` days (or never): the line then says
    it may be out of date, and the plan does not count on it.

A reservation outside its ``valid_from`` .. ``valid_until`` dates is not a
reservation now and is left out.  A crèche described by several sources
(one cluster of duplicates) shows the places on every member, whichever
record the register names.

Examples
--------
>>> import pandas as pd
>>> from mapapp.schema import actors_frame
>>> now = pd.Timestamp("2026-12-07 10:00", tz="UTC")
>>> actors = actors_frame([{"id": "c:1", "actor_type": "creche"}, {"id": "c:2"}])
>>> places = places_frame([{"actor_id": "c:1", "places_reserved": 2, "places_free": 2,
...     "confirmed_at": pd.Timestamp("2026-12-04 09:00", tz="UTC")}])
>>> shown = attach_reserved(actors, places, now)
>>> shown[["reserved_total", "reserved_free", "reserved_stale"]].values.tolist()
[[2, 2, False], [0, 0, False]]
>>> reserved_line(shown.iloc[0], "fr", now)
'2 places réservées libres (confirmé il y a 3 jours)'
>>> reserved_line(shown.iloc[0], "en", now)
'2 reserved places free (confirmed 3 days ago)'
>>> reserved_line(shown.iloc[1], "fr", now) is None
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from mapapp.i18n import t
from mapapp.reserved import PUBLIC_COLUMNS

if TYPE_CHECKING:
    from mapapp.settings import Settings

__all__ = [
    "PER_INHABITANTS",
    "PUBLIC_COLUMNS",
    "RESERVED_COLUMNS",
    "STALE_DAYS",
    "ReservedCoverage",
    "ReservedPlaces",
    "api_fields",
    "attach_reserved",
    "card_reserved",
    "combined_stamp",
    "load_places",
    "places_frame",
    "referral_line",
    "reserved_coverage",
    "reserved_line",
    "reserved_stamp",
    "woman_line",
]

#: Days without confirmation after which a line says "peut-être plus à jour".
STALE_DAYS: Final = 30
#: Columns :func:`attach_reserved` adds to an actors frame.
RESERVED_COLUMNS: Final = (
    "reserved_total",
    "reserved_free",
    "reserved_confirmed_at",
    "reserved_stale",
)
#: Calendar days ("today", "yesterday") are counted where the register is kept.
_ZONE: Final = "Europe/Paris"


def places_frame(records: Iterable[Mapping[str, Any]] | pd.DataFrame = ()) -> pd.DataFrame:
    """A frame of the register's public shape, typed, from ``records`` (only public columns kept).

    Used to read what :func:`mapapp.reserved.free_places` returns and to
    build frames in tests; any other column (a partner's name...) is dropped.

    Examples
    --------
    >>> f = places_frame([{"actor_id": "c:1", "places_reserved": "3", "partner": "ACME"}])
    >>> list(f.columns) == list(PUBLIC_COLUMNS), int(f.loc[0, "places_reserved"])
    (True, 3)
    >>> len(places_frame())
    0
    """
    df = records if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))
    n = len(df)
    out = pd.DataFrame(index=range(n))
    for col in PUBLIC_COLUMNS:
        values = df[col].to_numpy() if col in df else [None] * n
        if col in ("places_reserved", "places_free"):
            nums = pd.to_numeric(pd.Series(values), errors="coerce").fillna(0)
            out[col] = nums.clip(lower=0).astype(int).to_numpy()
        elif col in ("confirmed_at", "valid_from", "valid_until"):
            out[col] = pd.to_datetime(pd.Series(values), utc=True, errors="coerce").to_numpy()
            out[col] = pd.to_datetime(out[col], utc=True)
        else:
            out[col] = ["" if v is None or v is pd.NA else str(v) for v in values]
    out["actor_id"] = out["actor_id"].astype(str)
    # a register cannot have more free places than reserved ones: never show more
    out["places_free"] = np.minimum(out["places_free"], out["places_reserved"])
    return out


def _valid_now(places: pd.DataFrame, now: pd.Timestamp) -> pd.Series:
    starts, ends = places["valid_from"], places["valid_until"]
    # valid_until is a day: a reservation "until 7 December" still holds on the 7th
    return (starts.isna() | (starts <= now)) & (ends.isna() | (ends + pd.Timedelta(days=1) > now))


def _confirmed_at(row: Mapping[str, Any] | pd.Series) -> pd.Timestamp | None:
    """A row's ``reserved_confirmed_at`` as an instant, None when unknown.

    Why: rows taken from the search index's kept copy carry it as ISO text.

    >>> _confirmed_at({"reserved_confirmed_at": "2026-12-06 08:00:00+00:00"}).day
    6
    >>> _confirmed_at({"reserved_confirmed_at": "NaT"}), _confirmed_at({})
    (None, None)
    """
    value = row.get("reserved_confirmed_at")
    if value is None or (isinstance(value, str) and value.strip() in ("", "NaT", "None")):
        return None
    stamp = pd.Timestamp(value)
    return None if pd.isna(stamp) else stamp


def _utc(now: datetime | pd.Timestamp) -> pd.Timestamp:
    stamp = pd.Timestamp(now)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def attach_reserved(
    actors: pd.DataFrame, places: pd.DataFrame, now: datetime | pd.Timestamp
) -> pd.DataFrame:
    """``actors`` with :data:`RESERVED_COLUMNS` added (a copy; rows and order unchanged).

    Parameters
    ----------
    actors : DataFrame
        Rows of the public view (``id``; ``cluster_id`` when duplicates were clustered).
    places : DataFrame
        The register's public frame (see :func:`places_frame`); other columns are ignored.
    now : datetime
        The instant the page is drawn (aware, or naive UTC): decides validity and staleness.

    Examples
    --------
    Two partners at one crèche: places add up, the oldest confirmation counts.

    >>> from mapapp.schema import actors_frame
    >>> now = pd.Timestamp("2026-12-07", tz="UTC")
    >>> p = places_frame([
    ...     {"actor_id": "c:1", "places_reserved": 2, "places_free": 1, "confirmed_at": "2026-12-06"},
    ...     {"actor_id": "c:1", "places_reserved": 1, "places_free": 1, "confirmed_at": "2026-11-01"},
    ...     {"actor_id": "c:1", "places_reserved": 5, "places_free": 5, "valid_until": "2026-12-01"}])
    >>> row = attach_reserved(actors_frame([{"id": "c:1"}]), p, now).iloc[0]
    >>> int(row.reserved_total), int(row.reserved_free), str(row.reserved_confirmed_at.date()), bool(row.reserved_stale)
    (3, 2, '2026-11-01', True)
    """
    now_utc = _utc(now)
    out = actors.copy()
    p = places_frame(places) if list(places.columns) != list(PUBLIC_COLUMNS) else places
    p = p[_valid_now(p, now_utc)]
    n = len(out)
    total, free = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    confirmed = np.full(n, np.datetime64("NaT", "ns"))
    if len(p):
        # Work on the register's few rows: the actors' columns are read once each.
        ids = pd.Index(out["id"].astype(str))
        clusters = (
            out["cluster_id"].astype(str).to_numpy(dtype=object)
            if "cluster_id" in out
            else np.full(n, "", dtype=object)
        )
        pos = ids.get_indexer(pd.Index(p["actor_id"]))
        p, pos = p[pos >= 0], pos[pos >= 0]
        # one key per crèche: its cluster of duplicates, or its own row
        own = np.array([f"#{k}" for k in pos], dtype=object)
        key = np.where(clusters[pos] != "", clusters[pos], own)
        p = p.assign(_key=key, _unconfirmed=p["confirmed_at"].isna())
        agg = p.groupby("_key").agg(
            total=("places_reserved", "sum"),
            free=("places_free", "sum"),
            confirmed=("confirmed_at", "min"),
            unconfirmed=("_unconfirmed", "any"),
        )
        # one reservation never confirmed makes the whole line unconfirmed
        agg.loc[agg["unconfirmed"], "confirmed"] = pd.NaT
        agg = agg[agg["total"] > 0]
        in_cluster = np.flatnonzero(pd.Series(clusters).isin(agg.index).to_numpy())
        rows = np.concatenate([pos[own.astype(str) == key.astype(str)], in_cluster]).astype(np.intp)
        row_keys = np.concatenate([own[own == key], clusters[in_cluster]])
        found = agg.reindex(row_keys)
        ok = found["total"].notna().to_numpy()
        rows, found = rows[ok], found[ok]
        total[rows] = found["total"].to_numpy(dtype=np.int64)
        free[rows] = found["free"].to_numpy(dtype=np.int64)
        stamps = pd.to_datetime(found["confirmed"], utc=True).dt.tz_localize(None)
        confirmed[rows] = stamps.to_numpy(dtype="datetime64[ns]")
    when = pd.DatetimeIndex(confirmed).tz_localize("UTC")
    out["reserved_total"] = total
    out["reserved_free"] = free
    out["reserved_confirmed_at"] = when
    age = (now_utc - when).to_numpy()
    stale = (total > 0) & (pd.isna(age) | (age >= np.timedelta64(STALE_DAYS, "D")))
    out["reserved_stale"] = np.asarray(stale, dtype=bool)
    return out


def _days_ago(confirmed: pd.Timestamp, now: pd.Timestamp) -> int:
    then = confirmed.tz_convert(_ZONE).date()
    today = now.tz_convert(_ZONE).date()
    return max(0, (today - then).days)


def _stale(confirmed: Any, now: pd.Timestamp) -> bool:
    return bool(now - _utc(confirmed) >= pd.Timedelta(days=STALE_DAYS))


def _when(confirmed: Any, now: pd.Timestamp, lang: str) -> str:
    if confirmed is None or pd.isna(confirmed):
        return t("reserved_never_confirmed", lang)
    days = _days_ago(_utc(confirmed), now)
    if days == 0:
        return t("reserved_confirmed_today", lang)
    if days == 1:
        return t("reserved_confirmed_yesterday", lang)
    return t("reserved_confirmed_days", lang, n=days)


def reserved_line(row: Mapping[str, Any] | pd.Series, lang: str, now: datetime) -> str | None:
    """The line a card shows about a crèche's reserved places, or None when it has none.

    Plurals and "aujourd'hui / hier" follow the language; a line not
    confirmed for :data:`STALE_DAYS` days says it may be out of date.

    Examples
    --------
    >>> now = pd.Timestamp("2026-12-07 10:00", tz="UTC")
    >>> def row(free, total, days):
    ...     return {"reserved_free": free, "reserved_total": total,
    ...             "reserved_confirmed_at": now - pd.Timedelta(days=days)}
    >>> reserved_line(row(1, 2, 0), "fr", now)
    "1 place réservée libre (confirmé aujourd'hui)"
    >>> reserved_line(row(0, 2, 1), "fr", now)
    'Aucune place réservée libre sur 2 (confirmé hier)'
    >>> reserved_line(row(0, 1, 1), "en", now)
    'No reserved place free out of 1 (confirmed yesterday)'
    >>> reserved_line(row(2, 2, 30), "fr", now)
    '2 places réservées libres (confirmé il y a 30 jours, peut-être plus à jour)'
    """
    total = int(row.get("reserved_total", 0) or 0)
    if total <= 0:
        return None
    now_utc = _utc(now)
    free = int(row.get("reserved_free", 0) or 0)
    confirmed = _confirmed_at(row)
    if free == 0:
        head = t("reserved_none_free", lang, total=total)
    else:
        head = t("reserved_free_one" if free == 1 else "reserved_free_many", lang, n=free)
    when = _when(confirmed, now_utc, lang)
    if confirmed is None or pd.isna(confirmed) or _stale(confirmed, now_utc):
        when += t("reserved_stale_suffix", lang)
    return f"{head} ({when})"


def api_fields(row: Mapping[str, Any] | pd.Series) -> dict[str, Any] | None:
    """The reserved places of a record as the API and JSON exports give them (None when none).

    Names follow data·inclusion's French style; ``peut_etre_perime`` is
    :data:`STALE_DAYS` days without confirmation.  Never the partner.

    Examples
    --------
    >>> api_fields({"reserved_total": 2, "reserved_free": 1, "reserved_stale": False,
    ...     "reserved_confirmed_at": pd.Timestamp("2026-12-06 08:00", tz="UTC")})
    {'total': 2, 'libres': 1, 'confirme_le': '2026-12-06T08:00:00+00:00', 'peut_etre_perime': False}
    >>> api_fields({"reserved_total": 0}) is None
    True
    """
    total = int(row.get("reserved_total", 0) or 0)
    if total <= 0:
        return None
    confirmed = _confirmed_at(row)
    when = None if confirmed is None or pd.isna(confirmed) else _utc(confirmed).isoformat()
    known = when is not None
    return {
        "total": total,
        "libres": int(row.get("reserved_free", 0) or 0),
        "confirme_le": when,
        "peut_etre_perime": bool(row.get("reserved_stale", False)) or not known,
    }


def card_reserved(row: Mapping[str, Any] | pd.Series, lang: str, now: datetime) -> str:
    """What a card shows: :func:`reserved_line`, and who can refer her when a place is free.

    Empty when the crèche has no reserved place.  The partner who reserves
    the places and the register's history are never part of it.

    Examples
    --------
    >>> now = pd.Timestamp("2026-12-07 10:00", tz="UTC")
    >>> card_reserved({"reserved_free": 1, "reserved_total": 1,
    ...                "reserved_confirmed_at": now}, "en", now)
    '1 reserved place free (confirmed today). Ask a social worker or the CIDFF to refer you.'
    >>> card_reserved({"reserved_free": 0, "reserved_total": 0}, "fr", now)
    ''
    """
    line = reserved_line(row, lang, now)
    if line is None:
        return ""
    if int(row.get("reserved_free", 0) or 0) > 0:
        return f"{line}. {referral_line(lang)}"
    return line


def woman_line(row: Mapping[str, Any] | pd.Series, lang: str, now: datetime) -> str | None:
    """The light page's line: free places now and who can refer her; no date, no history.

    None unless a place is free and was confirmed within :data:`STALE_DAYS`
    days: she should not travel on an old promise.

    Examples
    --------
    >>> now = pd.Timestamp("2026-12-07 10:00", tz="UTC")
    >>> row = {"reserved_free": 2, "reserved_total": 3, "reserved_confirmed_at": now,
    ...        "reserved_stale": False}
    >>> woman_line(row, "fr", now)
    '2 places réservées libres. Demandez à une travailleuse sociale ou au CIDFF de vous orienter.'
    >>> woman_line({**row, "reserved_stale": True}, "fr", now) is None
    True
    """
    free = int(row.get("reserved_free", 0) or 0)
    confirmed = _confirmed_at(row)
    if free <= 0 or confirmed is None or pd.isna(confirmed) or row.get("reserved_stale"):
        return None
    if _stale(confirmed, _utc(now)):
        return None
    head = t("reserved_free_one" if free == 1 else "reserved_free_many", lang, n=free)
    return f"{head}. {referral_line(lang)}"


def referral_line(lang: str) -> str:
    """What the woman reads next to a crèche with a free reserved place: who can refer her.

    Examples
    --------
    >>> referral_line("fr")
    'Demandez à une travailleuse sociale ou au CIDFF de vous orienter.'
    """
    return t("reserved_referral", lang)


@dataclass(frozen=True)
class ReservedPlaces:
    """The register's public frame and its stamp (for cache keys)."""

    places: pd.DataFrame
    stamp: str


def load_places(settings: Settings) -> ReservedPlaces:
    """The register's public places and stamp, read through :mod:`mapapp.reserved`."""
    from mapapp import reserved

    if _no_register(settings):
        return ReservedPlaces(places_frame(), "")
    # the stamp first: should the register change in between, the stamp is the
    # older one, and the next check picks the change up (never the reverse)
    stamp = str(reserved.register_stamp(settings))
    return ReservedPlaces(places_frame(reserved.free_places(settings)), stamp)


def _no_register(settings: Settings) -> bool:
    """True while nothing was ever registered (reading must not create the file:
    a search writes nothing to the data folder)."""
    from mapapp.store.reserved_db import open_register

    db = open_register(settings)
    return db.backend == "sqlite" and not db.path.exists()


def reserved_stamp(settings: Settings) -> str:
    """The register's stamp alone ("" without a register), without reading its places.

    Why apart from :func:`load_places`: caches compare stamps on every page
    run, and reading every place there would cost a query per run.
    """
    from mapapp import reserved

    return "" if _no_register(settings) else str(reserved.register_stamp(settings))


def combined_stamp(store_stamp: str, register_stamp: str, now: datetime | pd.Timestamp) -> str:
    """The stamp caches key on: the store's, the register's, and the day while places exist.

    The day is part of it because a line's staleness (and the plan's trust in
    it) changes with time alone; without a register nothing changes.

    Examples
    --------
    >>> combined_stamp("demo", "", pd.Timestamp("2026-12-07 23:30", tz="UTC"))
    'demo'
    >>> combined_stamp("g12", "r5", pd.Timestamp("2026-12-07 23:30", tz="UTC"))
    'g12+reserved:r5@2026-12-08'
    """
    if not register_stamp:
        return store_stamp
    day = _utc(now).tz_convert(_ZONE).date().isoformat()
    return f"{store_stamp}+reserved:{register_stamp}@{day}"


# -- the coordinator's view -----------------------------------------------------

#: Reserved places are shown per this many inhabitants (of all ages: the
#: reference geography has no count of young children per commune).
PER_INHABITANTS: Final = 1000


@dataclass(frozen=True)
class ReservedCoverage:
    """Reserved places in a territory, and where one more partner crèche would help most.

    Attributes
    ----------
    summary : dict
        ``creches_partenaires``, ``places_reservees``, ``places_libres``,
        ``population`` (total population: no better denominator exists in
        the reference data), ``places_pour_1000_habitants``,
        ``places_libres_pour_1000_habitants``.
    departements : DataFrame
        The same per département of the territory (indexed by code).
    suggestions : DataFrame
        :func:`mapapp.coverage.suggest_sites` with partner crèches as the
        services, and as candidates only communes that already have a crèche
        which is not yet a partner (a partner is a crèche, not a new building).
    """

    summary: dict[str, float]
    departements: pd.DataFrame
    suggestions: pd.DataFrame


def _per_1000(places: Any, population: Any) -> Any:
    pop = np.asarray(population, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(pop > 0, np.asarray(places, dtype=float) * PER_INHABITANTS / pop, np.nan)


def reserved_coverage(
    actors: pd.DataFrame,
    communes: pd.DataFrame,
    territory: Any = None,
    *,
    radius_km: float = 10.0,
    n: int = 5,
) -> ReservedCoverage:
    """Count reserved places (total and free) over ``territory`` and propose partner crèches.

    Parameters
    ----------
    actors : DataFrame
        The public view with :data:`RESERVED_COLUMNS` (:func:`attach_reserved`).
    communes : DataFrame
        ``Geography.communes`` (with the Paris, Lyon and Marseille city rows).
    territory : mapapp.coverage.Territory, optional
        Default: France.
    radius_km : float, keyword-only
        A woman is "near" a partner crèche within this great-circle distance.
    n : int, keyword-only
        How many communes to propose.

    Duplicates of one crèche (several sources) are counted once.
    """
    from mapapp.coverage import Territory, select_services, suggest_sites, territory_units
    from mapapp.geo.communes import analysis_units

    territory = territory or Territory()
    units = territory_units(analysis_units(communes), territory)
    frame = actors
    if "duplicate" in frame:
        frame = frame[~frame["duplicate"].astype(bool)]
    if "reserved_total" not in frame:
        frame = frame.assign(reserved_total=0, reserved_free=0)
    childcare = select_services(frame, communes, obstacles=("garde-enfants",))
    points = childcare.points
    codes = points["code_insee"].astype(str)
    if territory.kind == "france":
        inside = np.ones(len(points), dtype=bool)
    else:
        owner = communes[territory.kind].reindex(pd.Index(codes.to_numpy()))
        inside = owner.to_numpy(dtype=object) == territory.code
    by_id = frame.drop_duplicates("id").set_index("id")
    total = by_id["reserved_total"].reindex(points["id"]).fillna(0).to_numpy(dtype=int)
    free = by_id["reserved_free"].reindex(points["id"]).fillna(0).to_numpy(dtype=int)
    partner = total > 0
    dep = communes["departement"].reindex(pd.Index(codes.to_numpy())).to_numpy(dtype=object)
    here = pd.DataFrame({"departement": dep, "partner": partner, "total": total, "free": free})[
        inside
    ]
    grouped = here.groupby("departement")[["partner", "total", "free"]].sum()
    deps = units.groupby("departement").agg(
        nom=("departement_nom", "first"), population=("population", "sum")
    )
    deps["creches_partenaires"] = grouped["partner"].reindex(deps.index).fillna(0).astype(int)
    deps["places_reservees"] = grouped["total"].reindex(deps.index).fillna(0).astype(int)
    deps["places_libres"] = grouped["free"].reindex(deps.index).fillna(0).astype(int)
    deps["places_pour_1000_habitants"] = _per_1000(deps["places_reservees"], deps["population"])
    population = float(units["population"].sum())
    summary = {
        "creches_partenaires": float(here["partner"].sum()),
        "places_reservees": float(here["total"].sum()),
        "places_libres": float(here["free"].sum()),
        "population": population,
        "places_pour_1000_habitants": float(_per_1000(here["total"].sum(), population)),
        "places_libres_pour_1000_habitants": float(_per_1000(here["free"].sum(), population)),
    }
    hosts = pd.Index(codes[~partner & inside].unique()).intersection(units.index)
    partners = points[partner].reset_index(drop=True)
    suggestions = suggest_sites(units, partners, radius_km=radius_km, n=n, candidates=hosts)
    return ReservedCoverage(summary, deps, suggestions)
