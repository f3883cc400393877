"""The register itself: one entry per crèche, every change with its history row.

Why every write goes through :func:`apply_change`: it is the one place that
validates the numbers (free ≤ reserved, both ≥ 0), the dates (from ≤ until),
writes one history row per changed field (who, when, old → new), and bumps
the register's version, all in one transaction.  The web form, the CSV import
and the tests all call it, so none can forget the history.

Permissions are checked by the callers that know who is asking
(:mod:`mapapp.reserved.accounts`); this module records who it was told.

Examples
--------
>>> import tempfile
>>> from mapapp.settings import Settings
>>> s = Settings.from_env({"MAPAPP_DATA_DIR": tempfile.mkdtemp()})
>>> changed = apply_change(s, "x:1", {"places_reserved": 2, "places_free": 1}, by="alice")
>>> sorted(changed)
['confirmed_at', 'places_free', 'places_reserved']
>>> entry = read_entry(s, "x:1")
>>> entry.places_free, entry.partner
(1, '')
>>> [(h["field"], h["old_value"], h["new_value"]) for h in history(s, "x:1")][1:]
[('places_reserved', None, '2'), ('places_free', None, '1')]
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime
from typing import Any

from mapapp.errors import DataValidationError
from mapapp.settings import Settings
from mapapp.store.reserved_db import Tx, now_iso, open_register

__all__ = [
    "EDITABLE",
    "Entry",
    "apply_change",
    "confirm",
    "history",
    "read_entries",
    "read_entry",
    "version",
]

#: Fields a coordinator may change, in the order forms and CSV files show them.
EDITABLE: tuple[str, ...] = (
    "partner",
    "places_reserved",
    "places_free",
    "valid_from",
    "valid_until",
    "ages",
    "hours",
    "who_may_refer",
)
_INTS = ("places_reserved", "places_free")
_DATES = ("valid_from", "valid_until")
#: Longest text kept in a free-text field (a form or a CSV cell cannot flood the page).
MAX_TEXT = 300


@dataclass(frozen=True)
class Entry:
    """One crèche's reserved places (full record: the partner is NOT public)."""

    actor_id: str
    partner: str = ""
    places_reserved: int = 0
    places_free: int = 0
    valid_from: date | None = None
    valid_until: date | None = None
    ages: str = ""
    hours: str = ""
    who_may_refer: str = ""
    confirmed_at: datetime | None = None
    updated_at: datetime | None = None


_COLUMNS = [f.name for f in fields(Entry)]


def _as_date(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _as_time(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.astimezone(UTC)


def _entry(row: tuple[Any, ...]) -> Entry:
    values = dict(zip(_COLUMNS, row, strict=True))
    for name in _DATES:
        values[name] = _as_date(values[name])
    for name in ("confirmed_at", "updated_at"):
        values[name] = _as_time(values[name])
    for name in _INTS:
        values[name] = int(values[name])
    return Entry(**values)


def read_entries(settings: Settings) -> list[Entry]:
    """Every entry of the register, full (for coordinators and the export)."""
    rows = open_register(settings).query(
        f"SELECT {', '.join(_COLUMNS)} FROM mapapp_reserved_places ORDER BY actor_id"
    )
    return [_entry(r) for r in rows]


def read_entry(settings: Settings, actor_id: str) -> Entry | None:
    """The entry of one crèche, or None when it has none."""
    rows = open_register(settings).query(
        f"SELECT {', '.join(_COLUMNS)} FROM mapapp_reserved_places WHERE actor_id = %s",
        (actor_id,),
    )
    return _entry(rows[0]) if rows else None


def version(settings: Settings) -> int:
    """The register's version: bumped by every change (a cache key)."""
    rows = open_register(settings).query(
        "SELECT value FROM mapapp_reserved_meta WHERE key = %s", ("version",)
    )
    return int(rows[0][0]) if rows else 0


def clean_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """Typed, validated values of ``changes`` (keys of :data:`EDITABLE` only).

    Raises
    ------
    DataValidationError
        With a French / English message naming the field and what to give.

    Examples
    --------
    >>> clean_changes({"places_free": " 2 ", "valid_from": "2026-12-01", "ages": " 0-3 ans "})
    {'places_free': 2, 'valid_from': datetime.date(2026, 12, 1), 'ages': '0-3 ans'}
    >>> clean_changes({"places_free": "-1"})
    Traceback (most recent call last):
    ...
    mapapp.errors.DataValidationError: places_free : un nombre entier ≥ 0 / a whole number ≥ 0
    """
    out: dict[str, Any] = {}
    for name, raw in changes.items():
        if name not in EDITABLE:
            raise DataValidationError(f"champ inconnu / unknown field: {name}")
        if name in _INTS:
            text = str(raw).strip()
            if not text.isdigit() or int(text) > 10_000:
                raise DataValidationError(f"{name} : un nombre entier ≥ 0 / a whole number ≥ 0")
            out[name] = int(text)
        elif name in _DATES:
            try:
                out[name] = _as_date(str(raw).strip() if raw is not None else None)
            except ValueError:
                raise DataValidationError(
                    f"{name} : une date AAAA-MM-JJ ou rien / a date YYYY-MM-DD or nothing"
                ) from None
        else:
            text = " ".join(str(raw or "").split())
            if len(text) > MAX_TEXT:
                raise DataValidationError(
                    f"{name} : {MAX_TEXT} caractères au plus / at most {MAX_TEXT} characters"
                )
            out[name] = text
    return out


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


def _check(entry: dict[str, Any]) -> None:
    if entry["places_free"] > entry["places_reserved"]:
        raise DataValidationError(
            "plus de places libres que de places réservées / more free places than reserved places"
        )
    start, end = entry["valid_from"], entry["valid_until"]
    if start is not None and end is not None and start > end:
        raise DataValidationError(
            "la date de début est après la date de fin / the start date is after the end date"
        )


def _bump(tx: Tx) -> None:
    tx.execute(
        "UPDATE mapapp_reserved_meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) "
        "WHERE key = %s",
        ("version",),
    )


def _log(tx: Tx, at: str, actor_id: str, field: str, old: Any, new: Any, by: str) -> None:
    tx.execute(
        "INSERT INTO mapapp_reserved_history "
        "(at, actor_id, field, old_value, new_value, changed_by) VALUES (%s, %s, %s, %s, %s, %s)",
        (at, actor_id, field, _text(old), _text(new), by),
    )


def apply_change(
    settings: Settings,
    actor_id: str,
    changes: dict[str, Any],
    *,
    by: str,
    tx: Tx | None = None,
    confirm_unchanged: bool = True,
) -> list[str]:
    """Change one crèche's entry (creating it when new); return the fields that changed.

    A change is also a confirmation: ``confirmed_at`` becomes now.  A change
    that changes nothing still confirms (and says so in the history).

    Parameters
    ----------
    settings : Settings
    actor_id : str
        The crèche's id in the actors layer (permissions are the caller's).
    changes : dict
        Field -> value (text or typed) for fields of :data:`EDITABLE`.
    by : str
        Who changes it, as the history shows it (an account name, ``import:FILE``).
    tx : Tx, optional
        An open transaction to join (the CSV import commits a whole file at once).
    confirm_unchanged : bool, keyword-only
        False: a change that changes nothing writes nothing and returns ``[]``
        (an import of an exported file must not pass for a confirmation).

    Raises
    ------
    DataValidationError
        A value out of range, free > reserved, start after end.
    """
    if tx is None:
        with open_register(settings).transaction() as own:
            return apply_change(
                settings, actor_id, changes, by=by, tx=own, confirm_unchanged=confirm_unchanged
            )
    clean = clean_changes(changes)
    rows = tx.execute(
        f"SELECT {', '.join(_COLUMNS)} FROM mapapp_reserved_places WHERE actor_id = %s",
        (actor_id,),
    )
    old = asdict(_entry(rows[0])) if rows else None
    new = dict(old) if old else asdict(Entry(actor_id))
    new.update(clean)
    _check(new)
    at = now_iso()
    base = old or asdict(Entry(actor_id))
    changed = [name for name in EDITABLE if new[name] != base[name]]
    if not changed and old is not None and not confirm_unchanged:
        return []
    for name in sorted(changed):
        _log(tx, at, actor_id, name, old[name] if old else None, new[name], by)
    _log(tx, at, actor_id, "confirmed_at", _text(old["confirmed_at"]) if old else None, at, by)
    values = [_text(new[name]) if name in _DATES else new[name] for name in EDITABLE]
    if old is None:
        tx.execute(
            f"INSERT INTO mapapp_reserved_places (actor_id, {', '.join(EDITABLE)}, "
            f"confirmed_at, updated_at) VALUES ({', '.join(['%s'] * (len(EDITABLE) + 3))})",
            (actor_id, *values, at, at),
        )
    else:
        sets = ", ".join(f"{name} = %s" for name in EDITABLE)
        tx.execute(
            f"UPDATE mapapp_reserved_places SET {sets}, confirmed_at = %s, updated_at = %s "
            "WHERE actor_id = %s",
            (*values, at, at, actor_id),
        )
    _bump(tx)
    return sorted([*changed, "confirmed_at"])


def confirm(settings: Settings, actor_id: str, *, by: str) -> None:
    """Record that the entry is still accurate ("confirmé à l'instant").

    Raises
    ------
    DataValidationError
        When the crèche has no entry yet (nothing to confirm).
    """
    with open_register(settings).transaction() as tx:
        rows = tx.execute(
            "SELECT confirmed_at FROM mapapp_reserved_places WHERE actor_id = %s", (actor_id,)
        )
        if not rows:
            raise DataValidationError(
                "cette crèche n'a pas encore de places réservées / this crèche has no entry yet"
            )
        at = now_iso()
        _log(tx, at, actor_id, "confirmed_at", _text(_as_time(rows[0][0])), at, by)
        tx.execute(
            "UPDATE mapapp_reserved_places SET confirmed_at = %s WHERE actor_id = %s",
            (at, actor_id),
        )
        _bump(tx)


def history(settings: Settings, actor_id: str | None = None) -> list[dict[str, Any]]:
    """The history rows (newest first), of one crèche or of all.

    Each row: ``at`` (UTC datetime), ``actor_id``, ``field``, ``old_value``,
    ``new_value`` (text or None), ``changed_by``.
    """
    sql = (
        "SELECT id, at, actor_id, field, old_value, new_value, changed_by "
        "FROM mapapp_reserved_history"
    )
    params: tuple[Any, ...] = ()
    if actor_id is not None:
        sql += " WHERE actor_id = %s"
        params = (actor_id,)
    rows = open_register(settings).query(sql + " ORDER BY id DESC", params)
    keys = ("id", "at", "actor_id", "field", "old_value", "new_value", "changed_by")
    out = [dict(zip(keys, r, strict=True)) for r in rows]
    for row in out:
        row["at"] = _as_time(row["at"])
    return out
