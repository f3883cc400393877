"""GeoParquet store: each import is a new *generation*, switched in by one atomic rename.

Why generations: an import changes several files (the records, the import
history, the duplicate clusters, the quarantine, the report).  Replacing them
one by one leaves a mixed store when the process is killed in between; a
second import started at the same time reads the old records and overwrites
the first one's.  Here:

* every commit writes a complete folder ``generations/<name>/`` beside the
  current one, then replaces the one-line file ``CURRENT`` (``os.replace``,
  atomic on POSIX): readers see the old generation or the new one, never a
  mix, and never wait;
* one import at a time: :meth:`ParquetStore.writer` holds an OS file lock
  (``fcntl.flock`` on ``writer.lock``) for the whole import; the lock file
  says who holds it, so a second import can say what it waits for.  The
  kernel drops the lock when its process dies, so a crash never leaves the
  store locked;
* the previous generations are kept (:data:`KEEP`), so ``mapapp store
  rollback`` can go back one import;
* a store written by earlier versions (``actors.parquet`` and its side tables
  at the top of the data folder) is read as it is, and moved into a
  generation by the next commit.

Layout::

    <data_dir>/CURRENT                      name of the current generation
    <data_dir>/writer.lock                  flock + who holds it (JSON)
    <data_dir>/generations/<name>/actors.parquet
    <data_dir>/generations/<name>/<table>.parquet   ledger, clusters, quarantine...
    <data_dir>/generations/<name>/report.json       the import's report

Examples
--------
>>> import tempfile
>>> from mapapp.schema import actors_frame
>>> store = ParquetStore(tempfile.mkdtemp())
>>> store.is_empty(), store.stamp()
(True, 'empty')
>>> store.write_actors(actors_frame([{"id": "x:1", "latitude": 45.0, "longitude": 5.0}]))
>>> len(store.read_actors()), store.stamp().startswith("000001-")
(1, True)
>>> with store.writer():
...     stamp = store.commit(None, {"ledger": pd.DataFrame({"dataset": ["d"], "id": ["x:1"]})})
>>> len(store.read_actors()), len(store.read_table("ledger"))
(1, 1)
>>> [g.name[:6] for g in store.generations()], store.stamp() == stamp
(['000002', '000001'], True)
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import geopandas as gpd
import pandas as pd

from mapapp.errors import StoreBusyError, StoreError
from mapapp.schema import validate_actors
from mapapp.store.base import ROW_HASH, ActorsSource

__all__ = ["CRASH_STEPS", "KEEP", "Generation", "ParquetStore", "write_geoparquet"]

#: Generations kept after a commit (the current one and the ones before it).
KEEP = 3
CURRENT = "CURRENT"
GENERATIONS = "generations"
LOCK = "writer.lock"
ACTORS = "actors.parquet"
REPORT = "report.json"
#: Side tables of the flat layout written by earlier versions: table name -> file.
_FLAT_TABLES = {"ledger": "imports.parquet", "clusters": "clusters.parquet"}
#: Points of :meth:`ParquetStore.commit` where the test hook can kill the process.
CRASH_STEPS = ("start", "actors", "tables", "renamed", "switched")


def _crash_point(step: str) -> None:
    """Test-only fault injection: ``MAPAPP_TEST_CRASH_AT=<step>`` kills the process here.

    SIGKILL, like ``kill -9`` or the OOM killer: no ``finally`` block runs, so
    the tests see exactly what a real crash leaves behind.
    """
    if os.environ.get("MAPAPP_TEST_CRASH_AT") == step:
        os.kill(os.getpid(), signal.SIGKILL)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fsync_file(path: Path) -> None:
    with path.open("rb") as fh:
        os.fsync(fh.fileno())


def geoarrow_table(actors: gpd.GeoDataFrame) -> Any:
    """The records as the Arrow table GeoParquet stores (WKB geometry, ``geo`` metadata).

    Arrow list columns are recorded in the pandas metadata as Python-list
    columns (see :func:`write_geoparquet`); used for the whole file and for
    each part an import writes (:mod:`mapapp.ingest.parts`).
    """
    from geopandas.io.arrow import _geopandas_to_arrow  # what to_parquet itself uses

    arrow_lists = [c for c in actors.columns if isinstance(actors[c].dtype, pd.ArrowDtype)]
    table = _geopandas_to_arrow(actors, index=False)
    if not arrow_lists:
        return table
    meta = dict(table.schema.metadata or {})
    pandas_meta = json.loads(meta[b"pandas"])
    for col in pandas_meta["columns"]:
        if col["name"] in arrow_lists:
            col["numpy_type"] = "object"
    meta[b"pandas"] = json.dumps(pandas_meta).encode()
    return table.replace_schema_metadata(meta)


def write_geoparquet(actors: gpd.GeoDataFrame, path: Path) -> None:
    """Write the records as GeoParquet; Arrow list columns read back as Python lists.

    Why: the import holds list columns (obstacles, publics...) as Arrow
    lists to save memory; written as they are, pandas would record their
    type in the file's metadata and every reader would get Arrow lists.
    The columns are Parquet lists either way; only the pandas metadata is
    set to what a column of Python lists records, so the file reads exactly
    like one written from Python lists.

    >>> import tempfile, pyarrow as pa
    >>> lists = pd.array([["emploi"]], dtype=pd.ArrowDtype(pa.list_(pa.string())))
    >>> g = gpd.GeoDataFrame({"obstacles": lists}, geometry=gpd.points_from_xy([5.0], [45.0]),
    ...                      crs="EPSG:4326")
    >>> path = Path(tempfile.mkdtemp()) / "a.parquet"
    >>> write_geoparquet(g, path)
    >>> back = gpd.read_parquet(path)
    >>> back["obstacles"].dtype, list(back["obstacles"].iloc[0])
    (dtype('O'), ['emploi'])
    """
    if not any(isinstance(actors[c].dtype, pd.ArrowDtype) for c in actors.columns):
        actors.to_parquet(path, index=False)
        return
    import pyarrow.parquet as pq

    pq.write_table(geoarrow_table(actors), path)


def _read_records(path: Path) -> gpd.GeoDataFrame:
    """The records of one actors file, without the import's row hashes (:data:`ROW_HASH`)."""
    import pyarrow.parquet as pq

    names = pq.read_schema(path).names
    if ROW_HASH not in names:
        return gpd.read_parquet(path)
    return gpd.read_parquet(path, columns=[n for n in names if n != ROW_HASH])


@dataclass(frozen=True)
class Generation:
    """One committed version of the store.

    Attributes
    ----------
    name : str
        ``000012`` style sequence number, then the commit time.
    path : Path
        Its folder (the data folder itself for the flat layout).
    current : bool
        True for the generation ``CURRENT`` names.
    """

    name: str
    path: Path
    current: bool = False

    @property
    def number(self) -> int:
        """The sequence number (0 for the flat layout of earlier versions)."""
        head = self.name.split("-", 1)[0]
        return int(head) if head.isdigit() else 0

    def summary(self) -> dict[str, Any]:
        """Records count, commit time and the import's inputs, from its report."""
        out: dict[str, Any] = {"name": self.name, "current": self.current}
        report = self.path / REPORT
        if report.exists():
            with contextlib.suppress(OSError, ValueError):
                data = json.loads(report.read_text("utf-8"))
                out["finished"] = data.get("finished") or data.get("started", "")
                out["inputs"] = [f for i in data.get("inputs", []) for f in i.get("files", [])]
                out["total"] = (data.get("store") or {}).get("total")
        if out.get("total") is None:
            with contextlib.suppress(Exception):
                import pyarrow.parquet as pq

                out["total"] = pq.ParquetFile(self.path / ACTORS).metadata.num_rows
        return out


class ParquetStore:
    """Actors and side tables as GeoParquet generations under ``data_dir``.

    Parameters
    ----------
    data_dir : Path or str
        The store folder (``MAPAPP_DATA_DIR``); created on the first commit.
    keep : int
        Generations kept after a commit (at least 2, so one rollback is possible).
    """

    def __init__(self, data_dir: Path | str, *, keep: int = KEEP) -> None:
        self.data_dir = Path(data_dir)
        self.keep = max(2, keep)
        self._lock_fh: IO[str] | None = None

    # -- reading ---------------------------------------------------------------
    def _current(self) -> Generation | None:
        """The generation readers see: ``CURRENT``'s, else the flat layout, else None."""
        pointer = self.data_dir / CURRENT
        try:
            name = pointer.read_text("utf-8").strip()
        except FileNotFoundError:
            name = ""
        except OSError as exc:
            raise StoreError(f"cannot read {pointer} ({exc}); check MAPAPP_DATA_DIR") from exc
        if name:
            return Generation(name, self.data_dir / GENERATIONS / name, current=True)
        if (self.data_dir / ACTORS).exists():
            return Generation("flat", self.data_dir, current=True)
        return None

    @property
    def actors_path(self) -> Path:
        """Path of the current generation's actors file."""
        gen = self._current()
        return (gen.path if gen else self.data_dir) / ACTORS

    def is_empty(self) -> bool:
        """True when no actors were ever committed."""
        return self._current() is None

    def stamp(self) -> str:
        """The current generation's name: it changes with every commit.

        Caches key on it; it costs one small file read, so pages may call it
        on every run.  The flat layout of earlier versions is stamped by its
        file's modification time.
        """
        gen = self._current()
        if gen is None:
            return "empty"
        if gen.name != "flat":
            return gen.name
        try:
            st = (self.data_dir / ACTORS).stat()
        except OSError:
            return "empty"
        return f"flat-{st.st_mtime_ns}-{st.st_size}"

    def _read(self, reader: Callable[[Generation], Any]) -> Any:
        # A generation is pruned two commits after it stopped being current: a
        # reader that lost that race simply looks again.
        for attempt in range(3):
            gen = self._current()
            if gen is None:
                raise FileNotFoundError
            try:
                return reader(gen)
            except FileNotFoundError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def read_actors(self) -> gpd.GeoDataFrame:
        """The current generation's records (raw: ingest and the catalog only)."""
        try:
            out: gpd.GeoDataFrame = self._read(lambda g: _read_records(g.path / ACTORS))
            return out
        except FileNotFoundError:
            raise StoreError(
                f"no actors in {self.data_dir}; run 'mapapp ingest' or unset MAPAPP_DATA_DIR"
            ) from None
        except Exception as exc:  # pyarrow raises several unrelated types
            raise StoreError(
                f"cannot read the records in {self.data_dir} ({exc}); "
                "'mapapp store rollback' goes back to the previous import"
            ) from exc

    def read_table(self, name: str) -> pd.DataFrame | None:
        """A side table of the current generation, or None when it has none."""

        def read(gen: Generation) -> pd.DataFrame | None:
            file = _FLAT_TABLES.get(name, f"{name}.parquet") if gen.name == "flat" else None
            path = gen.path / (file or f"{name}.parquet")
            if not path.exists():
                if not gen.path.exists():
                    raise FileNotFoundError(gen.path)
                return None
            return pd.read_parquet(path)

        try:
            out: pd.DataFrame | None = self._read(read)
            return out
        except FileNotFoundError:
            return None
        except Exception as exc:  # pyarrow raises several unrelated types
            raise StoreError(
                f"cannot read the {name} table in {self.data_dir} ({exc}); "
                "'mapapp store rollback' goes back to the previous import"
            ) from exc

    def read_report(self) -> dict[str, Any] | None:
        """The report of the import that made the current generation, if any."""
        gen = self._current()
        path = gen.path / REPORT if gen else None
        if path is None or not path.exists():
            return None
        data: dict[str, Any] = json.loads(path.read_text("utf-8"))
        return data

    def generations(self) -> list[Generation]:
        """Committed generations, newest first (the flat layout last, when present)."""
        current = self._current()
        out: list[Generation] = []
        folder = self.data_dir / GENERATIONS
        if folder.is_dir():
            for p in folder.iterdir():
                if p.is_dir() and not p.name.startswith(".") and (p / ACTORS).exists():
                    out.append(Generation(p.name, p, current=bool(current and p == current.path)))
        out.sort(key=lambda g: (g.number, g.name), reverse=True)
        if (self.data_dir / ACTORS).exists() and not (self.data_dir / CURRENT).exists():
            out.append(Generation("flat", self.data_dir, current=True))
        return out

    # -- the writer lock ---------------------------------------------------------
    def holder(self) -> dict[str, Any] | None:
        """Who holds the writer lock, as it wrote itself in the lock file (None: nobody).

        The lock file may still name a process that was killed: the lock
        itself is then free, and this says nobody holds it.
        """
        path = self.data_dir / LOCK
        try:
            with path.open("r", encoding="utf-8") as fh:
                try:
                    fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
                except BlockingIOError:
                    text = fh.read()
                else:
                    return None  # free: whatever the file says is stale
        except OSError:
            return None
        try:
            info: dict[str, Any] = json.loads(text) if text.strip() else {}
        except ValueError:
            info = {}
        return info or {"pid": "?", "started": ""}

    def busy_message(self, *, waiting: bool = False) -> str:
        """Who holds the lock, in French then English ("... started at 10:02 by process 4711")."""
        info = self.holder() or {}
        started = str(info.get("started", ""))
        hhmm = started[11:16] if len(started) >= 16 else "?"
        pid = info.get("pid", "?")
        if waiting:
            return (
                f"En attente de l'import lancé à {hhmm} par le processus {pid} / "
                f"waiting for the import started at {hhmm} by process {pid}"
            )
        return (
            f"le store {self.data_dir} est occupé par l'import lancé à {hhmm} par le "
            f"processus {pid} / the store is busy with the import started at {hhmm} by "
            f"process {pid}"
        )

    @contextlib.contextmanager
    def writer(
        self,
        *,
        wait: bool = True,
        on_wait: Callable[[str], None] | None = None,
        what: str = "",
    ) -> Iterator[ParquetStore]:
        """Hold the exclusive writer lock for a whole import.

        Parameters
        ----------
        wait : bool
            Wait for another import to finish (default); when False, raise
            :class:`~mapapp.errors.StoreBusyError` at once.
        on_wait : callable
            Called once with a bilingual "waiting for ..." message when the
            lock is taken by another process.
        what : str
            What this import reads, written into the lock file for others.
        """
        if self._lock_fh is not None:  # re-entrant within one store object
            yield self
            return
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fh = (self.data_dir / LOCK).open("a+", encoding="utf-8")
        except OSError as exc:
            raise StoreError(
                f"cannot create the store in {self.data_dir} ({exc}); check MAPAPP_DATA_DIR"
            ) from exc
        try:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not wait:
                    raise StoreBusyError(
                        f"{self.busy_message()}. Réessayez après sa fin, ou lancez sans --no-wait pour "
                        "attendre / Retry when it is done, or run without --no-wait to wait."
                    ) from None
                if on_wait is not None:
                    on_wait(self.busy_message(waiting=True))
                fcntl.flock(fh, fcntl.LOCK_EX)
            info = {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "started": datetime.now().astimezone().isoformat(timespec="seconds"),
                "what": what[:500],
            }
            fh.seek(0)
            fh.truncate()
            fh.write(json.dumps(info))
            fh.flush()
            self._lock_fh = fh
            try:
                yield self
            finally:
                self._lock_fh = None
                with contextlib.suppress(OSError):
                    fh.seek(0)
                    fh.truncate()
                    fh.flush()
        finally:
            fh.close()  # closing the descriptor releases the flock

    # -- committing ----------------------------------------------------------------
    def _next_name(self) -> str:
        numbers = [g.number for g in self.generations()]
        stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
        return f"{max(numbers, default=0) + 1:06d}-{stamp}"

    def commit(
        self,
        actors: gpd.GeoDataFrame | ActorsSource | None,
        tables: Mapping[str, pd.DataFrame],
        *,
        report: Mapping[str, Any] | None = None,
    ) -> str:
        """Write a complete new generation and make it current in one atomic step.

        Parameters
        ----------
        actors : GeoDataFrame, ActorsSource or None
            The records; an :class:`~mapapp.store.base.ActorsSource` writes the
            file itself (an import's parts, never one frame of all rows); None
            keeps the current generation's records (the file is hard-linked,
            not rewritten).
        tables : mapping of name to DataFrame
            Side tables; a table not named here is carried over unchanged.
        report : mapping, optional
            The import's report, kept with the generation.

        Returns
        -------
        str
            The new stamp (the generation's name).

        Raises
        ------
        StoreError
            Not called inside :meth:`writer`, or the folder cannot be written
            (the current generation is then untouched).
        """
        if self._lock_fh is None:
            raise StoreError("commit() must be called inside 'with store.writer():'")
        if isinstance(actors, gpd.GeoDataFrame):
            validate_actors(actors)
        elif actors is None and self.is_empty():
            raise StoreError("nothing to commit: the store has no records yet")
        self.migrate_flat()
        current = self._current()
        name = self._next_name()
        folder = self.data_dir / GENERATIONS
        tmp = folder / f".tmp-{name}"
        _crash_point("start")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            if isinstance(actors, gpd.GeoDataFrame):
                write_geoparquet(actors, tmp / ACTORS)
                _fsync_file(tmp / ACTORS)
            elif actors is not None:  # assembled from an import's parts, row group by row group
                actors.write_parquet(tmp / ACTORS)
                _fsync_file(tmp / ACTORS)
            elif current is not None:
                self._carry(current.path / ACTORS, tmp / ACTORS)
            _crash_point("actors")
            self._write_tables(tmp, current, tables, report)
            _fsync_dir(tmp)
            _crash_point("tables")
            final = folder / name
            tmp.rename(final)
            _fsync_dir(folder)
            _crash_point("renamed")
            pointer = self.data_dir / (CURRENT + ".tmp")
            with pointer.open("w", encoding="utf-8") as fh:
                fh.write(name + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(pointer, self.data_dir / CURRENT)  # the one atomic switch
            _fsync_dir(self.data_dir)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise StoreError(
                f"cannot write to {self.data_dir} ({exc}); the store is unchanged "
                "(check MAPAPP_DATA_DIR and free disk space)"
            ) from exc
        _crash_point("switched")
        self._prune()
        return name

    @staticmethod
    def _carry(source: Path, target: Path) -> None:
        """Put an unchanged file into the new generation: a hard link, else a copy."""
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)

    def _write_tables(
        self,
        folder: Path,
        current: Generation | None,
        tables: Mapping[str, pd.DataFrame],
        report: Mapping[str, Any] | None,
    ) -> None:
        for name, frame in tables.items():
            path = folder / f"{name}.parquet"
            frame.to_parquet(path, index=False)
            _fsync_file(path)
        if current is not None:  # tables not given are carried over
            flat = current.name == "flat"
            names = dict(_FLAT_TABLES) if flat else {}
            if not flat and current.path.is_dir():
                names = {p.stem: p.name for p in current.path.glob("*.parquet") if p.name != ACTORS}
            for name, file in names.items():
                if name not in tables and (current.path / file).exists():
                    self._carry(current.path / file, folder / f"{name}.parquet")
        if report is not None:
            path = folder / REPORT
            path.write_text(json.dumps(report, ensure_ascii=False, default=str), "utf-8")
            _fsync_file(path)

    def _prune(self) -> None:
        """Drop generations beyond :attr:`keep`, leftovers of crashed commits, the flat files."""
        folder = self.data_dir / GENERATIONS
        for p in folder.glob(".tmp-*"):
            shutil.rmtree(p, ignore_errors=True)
        for old in self.generations()[self.keep :]:
            if not old.current and old.name != "flat":
                shutil.rmtree(old.path, ignore_errors=True)
        if (self.data_dir / CURRENT).exists():
            for file in (ACTORS, *_FLAT_TABLES.values()):
                with contextlib.suppress(OSError):
                    (self.data_dir / file).unlink()

    def migrate_flat(self) -> None:
        """Keep a store of the flat layout as generation ``000000-flat`` (rollback target).

        Called by :meth:`commit` before the first commit on such a store;
        cheap (hard links).  Must hold :meth:`writer`.
        """
        if self._lock_fh is None or (self.data_dir / CURRENT).exists():
            return
        if not (self.data_dir / ACTORS).exists():
            return
        folder = self.data_dir / GENERATIONS
        name = "000000-flat"
        tmp = folder / f".tmp-{name}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir()
            self._carry(self.data_dir / ACTORS, tmp / ACTORS)
            for table, file in _FLAT_TABLES.items():
                if (self.data_dir / file).exists():
                    self._carry(self.data_dir / file, tmp / f"{table}.parquet")
            if not (folder / name).exists():
                tmp.rename(folder / name)
            else:
                shutil.rmtree(tmp, ignore_errors=True)
        except OSError as exc:
            raise StoreError(f"cannot migrate the store in {self.data_dir} ({exc})") from exc

    def rollback(self, to: str | None = None) -> Generation:
        """Make the generation before the current one (or ``to``) current again.

        Must hold :meth:`writer`.  The generation rolled back from is kept, so
        a rollback can itself be undone with ``to``.
        """
        if self._lock_fh is None:
            raise StoreError("rollback() must be called inside 'with store.writer():'")
        gens = [g for g in self.generations() if g.name != "flat"]
        current = next((g for g in gens if g.current), None)
        if to is not None:
            target = next((g for g in gens if g.name == to or g.name.split("-")[0] == to), None)
            if target is None:
                names = ", ".join(g.name for g in gens) or "none"
                raise StoreError(
                    f"aucune génération {to!r} / no generation {to!r}; kept: {names} "
                    "('mapapp store status' lists them)"
                )
        else:
            older = [g for g in gens if current is None or g.number < current.number]
            if not older:
                raise StoreError(
                    "aucune génération précédente à restaurer / no previous generation to roll "
                    "back to ('mapapp store status' lists what is kept)"
                )
            target = older[0]
        pointer = self.data_dir / (CURRENT + ".tmp")
        with pointer.open("w", encoding="utf-8") as fh:
            fh.write(target.name + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(pointer, self.data_dir / CURRENT)
        _fsync_dir(self.data_dir)
        return Generation(target.name, target.path, current=True)

    def write_actors(self, actors: gpd.GeoDataFrame) -> None:
        """Commit ``actors`` as a new generation (side tables carried over).

        A convenience for tests and tools that build a store directly; an
        import goes through :meth:`writer` and :meth:`commit`.
        """
        with self.writer():
            self.commit(actors, {})
