"""PostGIS store: the records of the committed version in one table, for shared deployments.

Why PostGIS: several app and API processes, and imports running while they
serve, need one store that every process reads consistently.  PostgreSQL's
MVCC gives exactly the rules of :mod:`mapapp.store.base`:

* **all or nothing**: :meth:`PostgisStore.commit` replaces the records, the
  side tables it is given and adds a generation row in ONE transaction; a
  failure (or a crash) rolls it all back, and readers never see half of it;
* **readers never block**: the old rows are removed with ``DELETE`` (not
  ``TRUNCATE``, which would lock readers out), so a reader keeps the last
  committed snapshot while an import writes;
* **one writer**: :meth:`PostgisStore.writer` holds a session-level
  ``pg_advisory_lock`` for the whole import, on its own connection, so it is
  released even if the process dies;
* **stamp**: the newest generation id (a sequence): it changes with each commit.

The schema is created and migrated by Alembic (``mapapp/store/migrations``),
automatically on first use by each process, under an advisory lock so two
processes starting together do not race.

Choose it with ``MAPAPP_STORE_URL=postgresql://user@host:5432/db`` (the
database needs the ``postgis`` extension, or a role allowed to create it).
"""

from __future__ import annotations

import io
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from mapapp.errors import StoreBusyError, StoreError
from mapapp.schema import COLUMNS, actors_frame, validate_actors
from mapapp.store.base import ActorsSource

__all__ = ["PostgisStore", "migrate", "pooled"]

#: Advisory lock keys (any 64-bit integers unique to mapapp).
_WRITER_KEY = 0x6D61_7061_7001
_MIGRATE_KEY = 0x6D61_7061_7002
_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_migrated: set[str] = set()
_migrated_lock = threading.Lock()
_COLUMNS = list(COLUMNS)


def _psycopg_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _sqlalchemy_url(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _connect(url: str, **kwargs: Any) -> Any:
    import psycopg

    try:
        return psycopg.connect(_psycopg_url(url), connect_timeout=10, **kwargs)
    except psycopg.Error as exc:
        raise StoreError(
            f"cannot connect to the PostGIS store ({type(exc).__name__}); "
            "check MAPAPP_STORE_URL and that the server is running"
        ) from None


_engines: dict[str, Any] = {}
_engines_lock = threading.Lock()


def _engine(url: str) -> Any:
    """One SQLAlchemy engine per URL and process: a small pool of open connections.

    Why: a new connection costs a TCP handshake, an authentication and a new
    server process (milliseconds of CPU on both sides), and an API worker or
    an app process checks the store's stamp every second or so; with the pool
    that check is one query on a connection already open.  ``pool_pre_ping``
    replaces a connection the server closed (a restart) before it is lent.
    """
    engine = _engines.get(url)
    if engine is None:
        with _engines_lock:
            engine = _engines.get(url)
            if engine is None:
                from sqlalchemy import create_engine

                engine = create_engine(
                    _sqlalchemy_url(url),
                    pool_size=2,
                    max_overflow=8,
                    pool_pre_ping=True,
                    pool_recycle=1800,
                    isolation_level="AUTOCOMMIT",
                    connect_args={"connect_timeout": 10},
                )
                _engines[url] = engine
    return engine


def _forget_engines() -> None:
    """In a forked child: never use the parent's connections (their sockets are shared)."""
    for engine in _engines.values():
        engine.dispose(close=False)
    _engines.clear()


os.register_at_fork(after_in_child=_forget_engines)


@contextmanager
def pooled(url: str) -> Iterator[Any]:
    """A psycopg connection in autocommit, lent by the URL's pool and given back after.

    A connection that failed is dropped from the pool rather than lent again.

    Raises
    ------
    StoreError
        When the server cannot be reached.
    """
    import psycopg
    from sqlalchemy.exc import SQLAlchemyError

    try:
        lent = _engine(url).raw_connection()
    except (SQLAlchemyError, psycopg.Error) as exc:
        raise StoreError(
            f"cannot connect to the PostGIS store ({type(exc).__name__}); "
            "check MAPAPP_STORE_URL and that the server is running"
        ) from None
    try:
        yield lent.driver_connection
    except psycopg.Error:
        lent.invalidate()
        raise
    finally:
        lent.close()


def migrate(url: str) -> None:
    """Create or upgrade the store's schema to the newest Alembic revision.

    Safe to call from several processes at once (an advisory lock serialises
    them); a no-op when the schema is current.
    """
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    engine = create_engine(_sqlalchemy_url(url), poolclass=None)
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATE_KEY})
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    except Exception as exc:
        raise StoreError(
            f"cannot create or migrate the PostGIS schema ({type(exc).__name__}: {exc}); "
            "the database needs the postgis extension (CREATE EXTENSION postgis as a superuser)"
        ) from exc
    finally:
        engine.dispose()


class PostgisStore:
    """Actors and side tables in a PostgreSQL + PostGIS database.

    Parameters
    ----------
    url : str
        ``postgresql://user[:password]@host[:port]/database``.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._writer_conn: Any = None

    # -- schema ----------------------------------------------------------------
    def _ready(self) -> None:
        if self.url in _migrated:
            return
        with _migrated_lock:
            if self.url not in _migrated:
                migrate(self.url)
                _migrated.add(self.url)

    @contextmanager
    def _read(self) -> Iterator[Any]:
        import psycopg

        self._ready()
        try:
            with pooled(self.url) as conn:
                yield conn
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot read the PostGIS store ({type(exc).__name__}); "
                "check that the server is running and the schema migrated"
            ) from None

    # -- reads -----------------------------------------------------------------
    def is_empty(self) -> bool:
        """True when no import was ever committed."""
        with self._read() as conn:
            return conn.execute("SELECT NOT EXISTS (SELECT 1 FROM mapapp_generation)").fetchone()[0]

    def stamp(self) -> str:
        """``pg-<generation>``: changes with every commit (``empty`` before the first)."""
        with self._read() as conn:
            row = conn.execute("SELECT max(id) FROM mapapp_generation").fetchone()
        return "empty" if row[0] is None else f"pg-{row[0]}"

    def read_actors(self) -> gpd.GeoDataFrame:
        """The records of the committed version (one consistent snapshot)."""
        with self._read() as conn:
            cur = conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM mapapp_actors ORDER BY id")
            rows = cur.fetchall()
        frame = pd.DataFrame(rows, columns=_COLUMNS)
        return actors_frame(frame)

    def read_table(self, name: str) -> pd.DataFrame | None:
        """A side table of the committed version, or None when it has none."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT payload FROM mapapp_tables WHERE name = %s", (name,)
            ).fetchone()
        if row is None:
            return None
        return pd.read_parquet(io.BytesIO(bytes(row[0])))

    def read_report(self) -> dict[str, Any] | None:
        """The report given with the last commit, if any."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT report FROM mapapp_generation ORDER BY id DESC LIMIT 1"
            ).fetchone()
        return None if row is None else row[0]

    # -- writes ----------------------------------------------------------------
    @contextmanager
    def writer(
        self, *, wait: bool = True, on_wait: Callable[[str], None] | None = None
    ) -> Iterator[PostgisStore]:
        """Hold the import lock (a session advisory lock) until the block ends.

        Raises
        ------
        StoreBusyError
            With ``wait=False``, when another import holds the lock.
        """
        self._ready()
        conn = _connect(self.url, autocommit=True)
        try:
            got = conn.execute("SELECT pg_try_advisory_lock(%s)", (_WRITER_KEY,)).fetchone()[0]
            if not got:
                message = "another import is writing to the PostGIS store; waiting for it to finish"
                if not wait:
                    raise StoreBusyError(
                        "another import is writing to the PostGIS store; try again when it ends"
                    )
                if on_wait is not None:
                    on_wait(message)
                conn.execute("SELECT pg_advisory_lock(%s)", (_WRITER_KEY,))
            self._writer_conn = conn
            yield self
        finally:
            self._writer_conn = None
            conn.close()  # ends the session: the advisory lock goes with it

    def commit(
        self,
        actors: gpd.GeoDataFrame | ActorsSource,
        tables: Mapping[str, pd.DataFrame],
        *,
        report: Mapping[str, Any] | None = None,
    ) -> str:
        """Publish ``actors`` and ``tables`` in one transaction; return the new stamp.

        Side tables not named in ``tables`` keep their previous content.  An
        import's records assembled from parts (:class:`ActorsSource`) are read
        whole here: COPY streams them row by row either way.
        """
        if self._writer_conn is None:
            with self.writer():
                return self.commit(actors, tables, report=report)
        if not isinstance(actors, gpd.GeoDataFrame):
            actors = actors.to_frame()
        validate_actors(actors)
        conn = self._writer_conn
        import psycopg

        try:
            with conn.transaction():
                conn.execute("DELETE FROM mapapp_actors")
                self._copy_actors(conn, actors)
                for name, frame in tables.items():
                    buf = io.BytesIO()
                    frame.to_parquet(buf, index=False)
                    conn.execute(
                        "INSERT INTO mapapp_tables (name, payload) VALUES (%s, %s) "
                        "ON CONFLICT (name) DO UPDATE SET payload = EXCLUDED.payload",
                        (name, buf.getvalue()),
                    )
                row = conn.execute(
                    "INSERT INTO mapapp_generation (records, report) VALUES (%s, %s) RETURNING id",
                    (len(actors), json.dumps(report, default=str) if report else None),
                ).fetchone()
        except psycopg.Error as exc:
            raise StoreError(
                f"the import could not be committed to PostGIS ({type(exc).__name__}); "
                "the store keeps its previous version"
            ) from exc
        return f"pg-{row[0]}"

    def write_actors(self, actors: gpd.GeoDataFrame) -> None:
        """Replace all actors (a commit without side tables), like the embedded store's."""
        with self.writer():
            self.commit(actors, {})

    @staticmethod
    def _copy_actors(conn: Any, actors: gpd.GeoDataFrame) -> None:
        names = ", ".join([*_COLUMNS, "geom"])
        lat = actors["latitude"].to_numpy(dtype=float)
        lon = actors["longitude"].to_numpy(dtype=float)
        geom = [
            f"SRID=4326;POINT({float(x)!r} {float(y)!r})"
            if np.isfinite(x) and np.isfinite(y)
            else None
            for x, y in zip(lon.tolist(), lat.tolist(), strict=True)
        ]
        columns = [_column_values(actors[c], COLUMNS[c][0]) for c in _COLUMNS]
        with conn.cursor().copy(f"COPY mapapp_actors ({names}) FROM STDIN") as copy:
            for values in zip(*columns, geom, strict=True):
                copy.write_row(values)


def _column_values(series: pd.Series, kind: str) -> list[Any]:
    if kind == "list":
        return [[str(v) for v in lst] for lst in series]
    if kind == "float":
        return [None if not np.isfinite(v) else float(v) for v in series.to_numpy(dtype=float)]
    if kind == "bool":
        return [bool(v) for v in series]
    return [str(v) for v in series]
