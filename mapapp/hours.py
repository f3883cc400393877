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
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import opening_hours

__all__ = ["HoursCheck", "check_hours", "is_open"]


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
    check = check_hours(text)
    if not check.valid or not check.value:
        return None
    return bool(opening_hours.OpeningHours(check.value).is_open(when))
