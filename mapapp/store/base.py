"""The one interface every store backend offers (embedded GeoParquet, PostGIS).

Why an explicit protocol: ingest, the catalog and the tests talk to "a store",
never to files or SQL, so the embedded store (default, zero set-up) and
PostGIS (``MAPAPP_STORE_URL``) are interchangeable, and one parametrized test
suite checks both.

The rules every backend keeps:

* **one writer at a time**: :meth:`Store.writer` takes an exclusive lock for a
  whole import; a second import waits (and says so through ``on_wait``) or, with
  ``wait=False``, raises :class:`~mapapp.errors.StoreBusyError`;
* **readers never block**: :meth:`Store.read_actors` and :meth:`Store.read_table`
  read the last committed version while an import runs;
* **all or nothing**: :meth:`Store.commit` makes the records and every side
  table (import history, duplicate clusters, quarantine, report) visible at
  once, or leaves the previous version untouched (a crash included);
* **a stamp per version**: :meth:`Store.stamp` changes with each commit, so
  caches key on it.

Table names used today: ``"ledger"`` (dataset, id pairs of past imports),
``"clusters"`` (duplicate clusters) and ``"quarantine"`` (the rows the import
set aside); backends store any name they are given.  :meth:`Store.commit`
carries over the tables it is not given, and ``actors=None`` keeps the
records as they are (an import that changed no record need not rewrite them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

import geopandas as gpd
import pandas as pd

__all__ = ["ROW_HASH", "ActorsSource", "Store"]

#: Column of the embedded store's actors file holding each record's content hash
#: (:func:`mapapp.ingest.parts.row_hash`); never part of the records a reader gets.
ROW_HASH = "_row_hash"


@runtime_checkable
class ActorsSource(Protocol):
    """Records too many to hold as one frame: written to a file, or read whole on demand.

    Why: a national import assembles its records from Parquet parts, row
    group by row group (:mod:`mapapp.ingest.parts`); the embedded store
    writes them straight into the new generation, a backend that needs a frame
    (PostGIS) asks for one.
    """

    def __len__(self) -> int:
        """How many records."""
        ...

    def write_parquet(self, path: Any) -> None:
        """Write the records as a GeoParquet file at ``path``."""
        ...

    def to_frame(self) -> gpd.GeoDataFrame:
        """All the records as one frame (the stored columns, geometry included)."""
        ...


@runtime_checkable
class Store(Protocol):
    """What ingest and the catalog need from a store backend."""

    def is_empty(self) -> bool:
        """True when no import was ever committed."""
        ...

    def stamp(self) -> str:
        """Identifies the committed version; changes with every commit."""
        ...

    def read_actors(self) -> gpd.GeoDataFrame:
        """The raw records of the committed version (ingest and catalog only)."""
        ...

    def read_table(self, name: str) -> pd.DataFrame | None:
        """A side table of the committed version, or None when it has none."""
        ...

    def writer(
        self, *, wait: bool = True, on_wait: Callable[[str], None] | None = None
    ) -> AbstractContextManager[Any]:
        """Exclusive import lock, held for a whole import (read, merge, commit)."""
        ...

    def commit(
        self,
        actors: gpd.GeoDataFrame | ActorsSource | None,
        tables: Mapping[str, pd.DataFrame],
        *,
        report: Mapping[str, Any] | None = None,
    ) -> str:
        """Publish a new version atomically (call while holding :meth:`writer`).

        ``actors=None`` keeps the current records; an :class:`ActorsSource`
        writes (or gives) them itself; tables not in ``tables``
        are carried over.  Returns the new stamp.
        """
        ...
