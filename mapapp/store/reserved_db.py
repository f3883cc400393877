"""Where the register of reserved crèche places and its accounts live: SQLite or PostGIS.

Why a small database rather than a table of the actors' generation: the
register changes every day, one crèche at a time, by coordinators signed in
to the web page, while imports replace the actors layer now and then.  Tying
each "one place is free now" to a whole new generation would make a change
wait for an import's lock and vanish with a rollback.  So the register is
*mutable between imports*, with the rules every change needs:

* **several writers at once are safe**: the embedded store keeps it in
  ``<data_dir>/reserved.sqlite`` (WAL journal, ``BEGIN IMMEDIATE``: one
  writer at a time, the others wait up to 30 s, readers never wait);
  PostGIS keeps it in ``mapapp_reserved_*`` tables (Alembic revision 0003),
  where each change is one transaction;
* **every change is one transaction** with its history rows and the bump of
  the register's version (the stamp caches key on);
* the same SQL runs on both: queries are written with ``%s`` placeholders and
  ISO-8601 text for times (UTC, microseconds, so that text order is time
  order in SQLite; PostgreSQL casts them to ``timestamptz``/``date``).

Tables (``mapapp_reserved_`` prefix): ``meta`` (version, signing secret),
``places`` (one row per crèche with an entry), ``history`` (who changed
which field, old → new, when), ``users`` (argon2 hashes, role, scopes),
``sessions`` and ``form_tokens`` (hashes only: a stolen database copy holds
no usable session).

Examples
--------
>>> import tempfile
>>> from mapapp.settings import Settings
>>> db = open_register(Settings.from_env({"MAPAPP_DATA_DIR": tempfile.mkdtemp()}))
>>> with db.transaction() as tx:
...     _ = tx.execute("UPDATE mapapp_reserved_meta SET value = %s WHERE key = %s", ("7", "version"))
>>> db.query("SELECT value FROM mapapp_reserved_meta WHERE key = %s", ("version",))
[('7',)]
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from mapapp.errors import StoreError
from mapapp.settings import Settings

__all__ = ["RegisterDB", "Tx", "now_iso", "open_register"]

#: The tables of the register, created here for SQLite and by Alembic 0003 for PostGIS.
SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS mapapp_reserved_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT OR IGNORE INTO mapapp_reserved_meta (key, value) VALUES ('version', '0');
CREATE TABLE IF NOT EXISTS mapapp_reserved_places (
    actor_id TEXT PRIMARY KEY,
    partner TEXT NOT NULL DEFAULT '',
    places_reserved INTEGER NOT NULL DEFAULT 0,
    places_free INTEGER NOT NULL DEFAULT 0,
    valid_from TEXT,
    valid_until TEXT,
    ages TEXT NOT NULL DEFAULT '',
    hours TEXT NOT NULL DEFAULT '',
    who_may_refer TEXT NOT NULL DEFAULT '',
    confirmed_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS mapapp_reserved_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    field TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT,
    changed_by TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS mapapp_reserved_history_actor ON mapapp_reserved_history (actor_id);
CREATE TABLE IF NOT EXISTS mapapp_reserved_users (
    name TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    scopes TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS mapapp_reserved_sessions (
    id_hash TEXT PRIMARY KEY,
    user_name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS mapapp_reserved_form_tokens (
    token_hash TEXT PRIMARY KEY,
    session_hash TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
"""


def now_iso(moment: datetime | None = None) -> str:
    """A UTC time as the register stores it (fixed width, so text order is time order).

    Examples
    --------
    >>> now_iso(datetime(2026, 12, 7, 11, 5, tzinfo=UTC))
    '2026-12-07T11:05:00.000000+00:00'
    """
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class Tx(Protocol):
    """One open transaction: ``execute`` returns the rows (empty for a statement without)."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run ``sql`` (``%s`` placeholders) and return its rows."""
        ...


class _SqliteTx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cur = self.conn.execute(sql.replace("%s", "?"), tuple(params))
        rows = cur.fetchall() if cur.description else []
        self.rowcount = cur.rowcount
        return rows


class _PgTx:
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cur = self.conn.execute(sql, tuple(params))
        self.rowcount = cur.rowcount
        return list(cur.fetchall()) if cur.description else []


class RegisterDB:
    """The register's database, embedded (SQLite in the data folder) or PostGIS.

    Parameters
    ----------
    settings : Settings
        ``store_url`` set: PostGIS; else ``<data_dir>/reserved.sqlite``.
    """

    def __init__(self, settings: Settings) -> None:
        self.url = settings.store_url
        self.path = Path(settings.data_dir) / "reserved.sqlite"

    @property
    def backend(self) -> str:
        """``"postgis"`` or ``"sqlite"``."""
        return "postgis" if self.url else "sqlite"

    # -- connections -------------------------------------------------------------
    def _sqlite(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():
                # It holds password hashes and sessions: readable by its owner only.
                self.path.touch(mode=0o600, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(
                f"cannot open the register {self.path} ({type(exc).__name__}); "
                "check that MAPAPP_DATA_DIR is a writable folder"
            ) from None
        if str(self.path) not in _SQLITE_READY:
            with _SQLITE_LOCK:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript("BEGIN IMMEDIATE;" + SQLITE_SCHEMA + "COMMIT;")
                _SQLITE_READY.add(str(self.path))
        return conn

    def _pg(self) -> Any:
        from mapapp.store.postgis import PostgisStore, _connect

        assert self.url is not None
        PostgisStore(self.url)._ready()  # runs the Alembic migrations once per process
        return _connect(self.url)

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One read-write transaction: everything in it is committed together, or nothing."""
        if self.url:
            import psycopg

            conn = self._pg()
            try:
                with conn.transaction():
                    yield _PgTx(conn)
            except psycopg.Error as exc:
                raise StoreError(
                    f"the register could not be changed ({type(exc).__name__}); "
                    "nothing was written, try again"
                ) from exc
            finally:
                conn.close()
            return
        lite = self._sqlite()
        try:
            lite.execute("BEGIN IMMEDIATE")
            try:
                yield _SqliteTx(lite)
            except BaseException:
                lite.execute("ROLLBACK")
                raise
            lite.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(
                f"the register could not be changed ({type(exc).__name__}: {exc}); "
                "nothing was written, try again"
            ) from exc
        finally:
            lite.close()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of one read (a consistent snapshot, never waiting for a writer)."""
        if self.url:
            import psycopg

            from mapapp.store.postgis import PostgisStore, pooled

            PostgisStore(self.url)._ready()  # runs the Alembic migrations once per process
            try:  # a pooled connection: pages read the register's version on every run
                with pooled(self.url) as conn:
                    return list(conn.execute(sql, tuple(params)).fetchall())
            except psycopg.Error as exc:
                raise StoreError(
                    f"cannot read the register ({type(exc).__name__}); "
                    "check that the PostGIS server is running"
                ) from None
        lite = self._sqlite()
        try:
            return lite.execute(sql.replace("%s", "?"), tuple(params)).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the register ({type(exc).__name__}: {exc})") from None
        finally:
            lite.close()


_SQLITE_READY: set[str] = set()
_SQLITE_LOCK = threading.Lock()


def open_register(settings: Settings) -> RegisterDB:
    """The register of ``settings``' store (the same backend as the actors)."""
    return RegisterDB(settings)
