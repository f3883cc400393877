"""What the API serves from: the public view, its search index, picked up again after an import.

Why a snapshot keyed on the store stamp: building the index of 100k services
takes about a second, a search a fraction of a millisecond.  Each worker
builds one snapshot and reuses it until :func:`mapapp.catalog.store_stamp`
changes (checked at most every ``check_seconds``), so an import committed by
another process is served without a restart, and a request never sees half
of one version and half of the next.

Only :func:`mapapp.catalog.load_public_actors` is read: a confidential
record is at its commune before the index is built, so neither its point nor
a distance computed from it can leave the process.
"""

from __future__ import annotations

import gc
import json
import threading
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mapapp.catalog import load_search_index, store_stamp
from mapapp.errors import MapappError
from mapapp.export.datainclusion import to_v1_service
from mapapp.geo.communes import Geography, load_geography
from mapapp.search import SearchIndex
from mapapp.settings import Settings
from mapapp.web.problems import ApiProblem

__all__ = ["ApiState", "Snapshot"]

#: JSON records a worker keeps (about 1.5 kB each).
_MAX_JSON = 30_000


@dataclass
class Snapshot:
    """One version of the public view with what queries need.

    Everything is read from the search index (``index``): its arrays and its
    compact rows, mapped from the copy kept with the store, so workers share
    those pages and none holds the wide frame.  The frame itself
    (:attr:`actors`) is only read if a caller asks for it (the coverage
    table's first request).
    """

    stamp: str
    is_demo: bool
    index: SearchIndex
    _json: dict[int, bytes] = field(default_factory=dict, repr=False)
    _positions: dict[str, int] | None = field(default=None, repr=False)
    #: remote-only answers by filters (no place in the key: they have no distance)
    remote_cache: dict[tuple[Any, ...], list[bytes]] = field(default_factory=dict, repr=False)
    _distances: pd.DataFrame | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def actors(self) -> pd.DataFrame:
        """The whole public frame (read on first use when the index was mapped)."""
        return self.index.actors

    @property
    def positions(self) -> dict[str, int]:
        """Service id to row position (built on first use: one pass over the kept ids)."""
        if self._positions is None:
            with self._lock:
                if self._positions is None:
                    ids = self.index.text_column("id")
                    self._positions = {i: k for k, i in enumerate(ids)}
        return self._positions

    def record(self, pos: int) -> dict[str, Any]:
        """Row ``pos`` of the public view as a mapping (no geometry)."""
        return self.index.record(pos)

    def service(self, pos: int) -> dict[str, Any]:
        """The data·inclusion v1 record of row ``pos``."""
        return to_v1_service(self.index.record(pos))

    def service_json(self, pos: int) -> bytes:
        """:meth:`service` as JSON bytes (cached)."""
        return self.services_json([pos])[0]

    def services_json(self, rows: Sequence[int]) -> list[bytes]:
        """The JSON bytes of the records of ``rows``: a search answer is then a concatenation.

        Rows not seen yet are read in one pass and converted; the bytes are
        kept, at most :data:`_MAX_JSON` of them (then forgotten all at once:
        a worker's memory stays bounded whatever the layer's size).
        """
        cache = self._json
        missing = [p for p in dict.fromkeys(rows) if p not in cache]
        if missing:
            if len(cache) + len(missing) > _MAX_JSON:
                cache.clear()
                missing = list(dict.fromkeys(rows))
            for pos, rec in zip(missing, self.index.records(missing), strict=True):
                svc = to_v1_service(rec)
                cache[pos] = json.dumps(svc, ensure_ascii=False, allow_nan=False).encode()
        return [cache[p] for p in rows]

    def distances(self, communes: pd.DataFrame) -> pd.DataFrame:
        """Distance (km) from every analysis unit to the nearest service, per obstacle."""
        if self._distances is None:
            from mapapp.coverage import distance_matrix

            actors = self.actors
            with self._lock:
                if self._distances is None:
                    self._distances = distance_matrix(actors, communes)
        return self._distances


class ApiState:
    """The settings, the reference geography and the current snapshot of one API process."""

    def __init__(
        self, settings: Settings, *, check_seconds: float = 1.0, geo: Geography | None = None
    ) -> None:
        self.settings = settings
        self.check_seconds = check_seconds
        self._geo: Geography | None = geo
        self._snapshot: Snapshot | None = None
        self._checked = -np.inf
        self._lock = threading.Lock()
        self._geo_lock = threading.Lock()
        self._rebuilding = threading.Event()
        self._checking = threading.Event()

    @property
    def geo(self) -> Geography:
        """The reference geography (loaded on first use, from the cache)."""
        if self._geo is None:
            with self._geo_lock:
                if self._geo is None:
                    self._geo = load_geography(self.settings.cache_dir)
        return self._geo

    def ready(self) -> Snapshot | None:
        """The snapshot to serve now (no I/O: safe on the event loop), None before the first.

        When a stamp check is due, it starts one in a thread of its own and
        still answers with the current snapshot: no request waits for the
        check.  Why: when requests waited for it, each search arriving while
        it was due hopped to the thread pool, and on a busy worker those
        threads queue for the GIL behind the event loop; the load test showed
        it as a tail of the searches alone, which the vocabulary requests,
        never checking, did not have (search p95 three times theirs).
        """
        snap = self._snapshot
        if snap is None:
            return None
        if time.monotonic() - self._checked >= self.check_seconds and not self._checking.is_set():
            self._checking.set()
            threading.Thread(target=self._check, name="mapapp-stamp", daemon=True).start()
        return snap

    def _check(self) -> None:
        """Compare the stamps (a change starts the rebuild); never raises."""
        try:
            with suppress(ApiProblem):
                self.snapshot()
        finally:
            self._checking.clear()

    def snapshot(self) -> Snapshot:
        """The snapshot of the store's current version.

        The first call builds it; later, when the stamp changed, a thread
        builds the new one while requests keep the previous one, so a worker
        never stalls for the seconds an index of 100k services takes.

        Raises
        ------
        ApiProblem
            503 when the store cannot be read and nothing was served yet.
        """
        snap = self._snapshot
        now = time.monotonic()
        if snap is not None and now - self._checked < self.check_seconds:
            return snap
        self._checked = now
        try:
            stamp = store_stamp(self.settings)
            if snap is not None and snap.stamp == stamp:
                return snap
            if snap is None:
                with self._lock:
                    if self._snapshot is None:
                        self._snapshot = self._build()
                    return self._snapshot
        except MapappError:
            if snap is not None:  # keep serving the last good version
                return snap
            raise ApiProblem("unavailable", 503) from None
        if not self._rebuilding.is_set():
            self._rebuilding.set()
            threading.Thread(target=self._rebuild, name="mapapp-rebuild", daemon=True).start()
        return snap

    def _rebuild(self) -> None:
        try:
            with self._lock:
                self._snapshot = self._build()
            if gc.get_freeze_count():
                # The worker froze its first snapshot (app lifespan): let the
                # collector free the previous one, then freeze the new one.
                gc.unfreeze()
                gc.collect()
                gc.freeze()
        except MapappError:
            pass  # the store is unreadable right now: keep the last version, retry later
        finally:
            self._rebuilding.clear()

    def _build(self) -> Snapshot:
        found = load_search_index(self.settings, communes=self.geo.communes, background=True)
        snap = Snapshot(found.stamp, found.is_demo, found.index)
        snap.positions  # noqa: B018  (built here, off the event loop, not by a request)
        return snap
