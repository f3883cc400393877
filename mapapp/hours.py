"""Opening hours in OpenStreetMap ``opening_hours`` syntax, parsed with opening-hours-py.

Why parse at import: the ``horaires_accueil`` column promises OpenStreetMap
syntax, so the app can answer "open now" without guessing.  A value that
does not parse is reported (with the record) and kept for people to read
in the description, never silently dropped nor stored where a parser would
choke on it.

Examples
--------
>>> check_hours("Tu-Fr 09:00-12:00,14:00-17:00; Sa 09:00-12:00").valid
True
>>> r = check_hours("lundi 9h-12h")
>>> r.valid, r.value
(False, 'lundi 9h-12h')
>>> check_hours("  ").value
''
>>> is_open("Mo-Su 00:00-24:00", datetime(2026, 1, 5, 10, 0))
True

Times are local: a service's hours are read in its own time zone
(:func:`time_zone`, from its INSEE code or postcode: La Réunion is 3 hours
ahead of Paris in winter, Guadeloupe 5 hours behind).

>>> time_zone("97411"), time_zone("", "97300"), time_zone("93066")
('Indian/Reunion', 'America/Cayenne', 'Europe/Paris')
>>> from datetime import UTC
>>> utc = datetime(2026, 12, 7, 7, 30, tzinfo=UTC)  # a Monday
>>> local_time(utc, "Indian/Reunion"), local_time(utc, "Europe/Paris")
(datetime.datetime(2026, 12, 7, 11, 30), datetime.datetime(2026, 12, 7, 8, 30))
>>> day_hours("Mo-Fr 09:00-12:00,14:00-17:00", date(2026, 12, 7))
('09:00-12:00', '14:00-17:00')
>>> day_hours("Mo-Fr 09:00-12:00", date(2026, 12, 6)), day_hours("lundi 9h", date(2026, 12, 7))
((), None)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import opening_hours

__all__ = [
    "PARIS",
    "HoursCheck",
    "check_hours",
    "day_hours",
    "is_open",
    "local_time",
    "open_on",
    "time_zone",
]

PARIS = "Europe/Paris"
#: INSEE code (or postcode) prefix of the overseas départements and
#: collectivities -> IANA time zone; everything else is on Paris time.
_ZONES = {
    "971": "America/Guadeloupe",
    "972": "America/Martinique",
    "973": "America/Cayenne",
    "974": "Indian/Reunion",
    "975": "America/Miquelon",
    "976": "Indian/Mayotte",
    "977": "America/St_Barthelemy",
    "978": "America/Marigot",
}


@dataclass(frozen=True)
class HoursCheck:
    """The outcome of parsing one opening-hours text.

    Attributes
    ----------
    value : str
        The text, stripped (empty when there were no hours).
    valid : bool
        True when empty or valid OpenStreetMap syntax.
    warnings : tuple of str
        What the parser accepted but found doubtful (lower-case days...).
    """

    value: str
    valid: bool
    warnings: tuple[str, ...] = ()


@lru_cache(maxsize=65536)
def check_hours(text: str) -> HoursCheck:
    """Parse ``text``; the result says whether it is valid OpenStreetMap syntax."""
    value = (text or "").strip()
    if not value:
        return HoursCheck("", True)
    try:
        parsed = opening_hours.OpeningHours(value)
    except Exception:  # ParserError and friends: the text is not OSM syntax
        return HoursCheck(value, False)
    warnings = parsed.warnings() if callable(parsed.warnings) else parsed.warnings
    return HoursCheck(value, True, tuple(str(w) for w in warnings))


def is_open(text: str, when: datetime) -> bool | None:
    """Whether a place with hours ``text`` is open at ``when`` (None if unknown)."""
    parsed = _parsed(text)
    return None if parsed is None else bool(parsed.is_open(when))


@lru_cache(maxsize=65536)
def _parsed(text: str) -> opening_hours.OpeningHours | None:
    check = check_hours(text)
    if not check.valid or not check.value:
        return None
    return opening_hours.OpeningHours(check.value)


def time_zone(code_insee: str, code_postal: str = "") -> str:
    """The IANA time zone of a place in France, from its INSEE code or postcode."""
    for code in (code_insee or "", code_postal or ""):
        code = code.strip()
        if len(code) >= 3 and code[:2] in ("97", "98"):
            return _ZONES.get(code[:3], PARIS)
        if len(code) >= 2:
            return PARIS
    return PARIS


def local_time(when: datetime, zone: str) -> datetime:
    """Wall-clock time (naive) in ``zone`` of ``when``.

    An aware ``when`` (an instant) is converted; a naive one is already a
    wall-clock time ("Tuesday 10:00 where the service is") and is kept.
    """
    if when.tzinfo is None:
        return when
    return when.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def open_on(text: str, day: date) -> bool | None:
    """Whether hours ``text`` open at some time on ``day`` (None if unknown).

    Examples
    --------
    >>> open_on("Tu,Th 09:00-12:30", date(2026, 12, 8)), open_on("Tu 09:00-12:30", date(2026, 12, 7))
    (True, False)
    """
    hours = day_hours(text, day)
    return None if hours is None else bool(hours)


def day_hours(text: str, day: date) -> tuple[str, ...] | None:
    """Opening intervals ``("09:00-12:00", ...)`` on ``day``; ``()`` closed, None unknown."""
    parsed = _parsed(text)
    if parsed is None:
        return None
    start = datetime.combine(day, time(0, 0))
    end = start + timedelta(days=1)
    out: list[str] = []
    for a, b, state, _ in parsed.intervals(start, end):
        if state == opening_hours.State.OPEN and a is not None:
            b = end if b is None or b > end else b
            stop = "24:00" if b == end else b.strftime("%H:%M")
            out.append(f"{max(a, start).strftime('%H:%M')}-{stop}")
    return tuple(out)
