"""Reserved crèche places ("Une place, une chance", issue 17): the public view of the register.

Why a public view: the register says which partner (a company, a town hall)
reserves places in which crèche, who changed what and when.  None of that
helps a woman find a place, and the partner or a coordinator's name could
point an aggressor to her workplace or her helpers.  Consumers (cards,
filter, plan, coverage, light page, app) read only :func:`free_places`:
the counts, the dates, the conditions and when they were last confirmed.

The register lives in the store (see :mod:`mapapp.store.reserved_db`), is
changed by signed-in coordinators (:mod:`mapapp.web.reserved`) or by a CSV
import (:mod:`mapapp.reserved.csvio`), and keeps its history.

Examples
--------
>>> import tempfile
>>> from mapapp.settings import Settings
>>> from mapapp.reserved.register import apply_change
>>> s = Settings.from_env({"MAPAPP_DATA_DIR": tempfile.mkdtemp()})
>>> len(free_places(s)), register_stamp(s)
(0, 'reserved-0')
>>> _ = apply_change(s, "x:1", {"partner": "Entreprise X", "places_reserved": 3,
...                             "places_free": 2, "ages": "0-3 ans"}, by="alice")
>>> shown = free_places(s)
>>> shown[["actor_id", "places_reserved", "places_free", "ages"]].to_dict("records")
[{'actor_id': 'x:1', 'places_reserved': 3, 'places_free': 2, 'ages': '0-3 ans'}]
>>> "partner" in shown.columns, register_stamp(s)
(False, 'reserved-1')
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from mapapp.settings import Settings

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PUBLIC_COLUMNS", "free_places", "register_stamp"]

#: The columns of :func:`free_places`, in this order (the contract with the consumers).
PUBLIC_COLUMNS: tuple[str, ...] = (
    "actor_id",
    "places_reserved",
    "places_free",
    "confirmed_at",
    "valid_from",
    "valid_until",
    "ages",
    "hours",
    "who_may_refer",
)


def _valid_on(start: date | None, end: date | None, today: date) -> bool:
    return (start is None or start <= today) and (end is None or today <= end)


def free_places(settings: Settings, *, today: date | None = None) -> pd.DataFrame:
    """The public view of the register: one row per crèche with an entry valid today.

    Parameters
    ----------
    settings : Settings
        The store to read (embedded by default, PostGIS with ``MAPAPP_STORE_URL``).
    today : date, optional
        The day the validity windows are checked against (default: today, UTC).

    Returns
    -------
    DataFrame
        Columns :data:`PUBLIC_COLUMNS`: ``actor_id`` (str), ``places_reserved``
        and ``places_free`` (int), ``confirmed_at`` (Timestamp, UTC),
        ``valid_from`` / ``valid_until`` (Timestamp UTC or NaT), ``ages``,
        ``hours``, ``who_may_refer`` (str).  Never the partner, the history
        or who changed it.  Rows whose window excludes ``today`` are dropped;
        an empty frame with these columns when none is left.
    """
    import pandas as pd

    from mapapp.reserved.register import read_entries

    today = today or datetime.now(UTC).date()
    rows = [
        {
            "actor_id": e.actor_id,
            "places_reserved": e.places_reserved,
            "places_free": e.places_free,
            "confirmed_at": e.confirmed_at,
            "valid_from": e.valid_from,
            "valid_until": e.valid_until,
            "ages": e.ages,
            "hours": e.hours,
            "who_may_refer": e.who_may_refer,
        }
        for e in read_entries(settings)
        if _valid_on(e.valid_from, e.valid_until, today)
    ]
    frame = pd.DataFrame(rows, columns=list(PUBLIC_COLUMNS))
    frame["actor_id"] = frame["actor_id"].astype(str)
    for name in ("places_reserved", "places_free"):
        frame[name] = frame[name].astype("int64")
    for name in ("confirmed_at", "valid_from", "valid_until"):
        frame[name] = pd.to_datetime(frame[name], utc=True)
    for name in ("ages", "hours", "who_may_refer"):
        frame[name] = frame[name].astype(str)
    return frame.reset_index(drop=True)


def register_stamp(settings: Settings) -> str:
    """``reserved-<version>``: changes with every change of the register (a cache key).

    Cheap (one row read), so a page can call it on every run and show a
    change within the same minute.
    """
    from mapapp.reserved.register import version

    return f"reserved-{version(settings)}"
