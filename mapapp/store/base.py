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

__all__ = ["Store"]


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
        actors: gpd.GeoDataFrame | None,
        tables: Mapping[str, pd.DataFrame],
        *,
        report: Mapping[str, Any] | None = None,
    ) -> str:
        """Publish a new version atomically (call while holding :meth:`writer`).

        ``actors=None`` keeps the current records; tables not in ``tables``
        are carried over.  Returns the new stamp.
        """
        ...
