"""Layers and indexes built once per server process, shared by every session.

Why: loading the actors, hiding confidential records and building the k-d
trees takes about a second; doing it on every rerun would make each click
slow.  ``st.cache_resource`` keeps one read-only copy, keyed on what it
depends on: the store and cache folders (:func:`store_key`) and the store's
stamp (a new import is picked up), never on ``id()`` or GeoDataFrames.  The
settings are read once per run by the app and passed down; no cached function
reads the environment.  Nothing about a user's search is cached here.

Every frame handed to pages comes from :func:`mapapp.safety.public_view`, so a
confidential record's street, coordinates or own phone cannot reach a page,
the map, a distance or an export.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, TypeVar

import streamlit as st

from mapapp.settings import Settings

_K = TypeVar("_K")
_V = TypeVar("_V")

if TYPE_CHECKING:
    import geopandas as gpd

    from mapapp.catalog import PublicActors
    from mapapp.geo.communes import Geography
    from mapapp.search import SearchIndex

# The heavy modules (geopandas, scipy) are imported inside the functions: the
# app's first page needs none of them, and draws faster without them.

__all__ = [
    "Catalog",
    "catalog",
    "demo_shown",
    "geography",
    "public",
    "settings",
    "stamp",
    "store_key",
]


def settings() -> Settings:
    """Settings from the environment: read once per run by the app, then passed down."""
    return Settings.from_env()


def store_key(s: Settings) -> tuple[str, str, str]:
    """What the public records depend on besides the stamp: the store and the geography.

    Cached functions receive the :class:`Settings` unhashed (``_s``) and this
    key hashed, so two settings that read different stores never share an
    entry, and nothing is read from the environment inside a cached function.
    """
    return (str(s.data_dir), s.store_url or "", str(s.cache_dir))


#: A live server reads the store's stamp at most this often (seconds) per
#: store: an import committed by another process is seen within this delay.
STAMP_CHECK_SECONDS: Final = 1.0


class StampClock:
    """The last stamp read per store, re-read only when older than ``seconds``.

    Why: every rerun of every session asks for the stamp (two or three times);
    reading it is a file read on the embedded store and two database
    connections on PostGIS.  Fifty sessions searching at once would read it a
    hundred times in the same second, for the same answer.

    Examples
    --------
    >>> now = [0.0]
    >>> reads = []
    >>> clock = StampClock(1.0, clock=lambda: now[0])
    >>> read = lambda: reads.append(1) or f"g{len(reads)}"
    >>> clock.get("k", read), clock.get("k", read)
    ('g1', 'g1')
    >>> now[0] = 1.5
    >>> clock.get("k", read), len(reads)
    ('g2', 2)
    """

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._last: dict[object, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def get(self, key: object, read: Callable[[], str]) -> str:
        """The stamp for ``key``: the one read less than ``seconds`` ago, else ``read()``."""
        now = self._clock()
        with self._lock:
            last = self._last.get(key)
        if last is not None and now - last[0] < self.seconds:
            return last[1]
        value = read()
        with self._lock:
            self._last[key] = (now, value)
            while len(self._last) > 8:  # a server reads one store; tests read many
                del self._last[next(iter(self._last))]
        return value


_STAMPS = StampClock(STAMP_CHECK_SECONDS)


def _live_server() -> bool:
    """True inside ``streamlit run`` (not in AppTest, not in bare mode).

    AppTest and scripts change the store and rerun within the same second, in
    the same process, and expect the change at once: they read the stamp on
    every call.
    """
    from streamlit.runtime import Runtime

    return Runtime.exists() and type(Runtime.instance()) is Runtime


def stamp(s: Settings) -> str:
    """The store's current stamp (changes with every committed import).

    In a live server, read at most once per :data:`STAMP_CHECK_SECONDS` per
    store (shared by every session of the process).
    """
    from mapapp.catalog import store_stamp

    if not _live_server():
        return store_stamp(s)
    return _STAMPS.get(store_key(s), lambda: store_stamp(s))


@st.cache_resource(show_spinner=False, max_entries=2)
def _geography(cache_dir: str) -> Geography:
    from mapapp.geo.communes import load_geography

    return _settled(load_geography(Path(cache_dir)))


_last_geography: dict[str, Geography] = {}


def _settled(value: _V) -> _V:
    """``value``, after moving every object alive now out of the garbage collector's sight.

    Why: the geography and the catalogue are hundreds of thousands of Python
    objects that live as long as the process.  Without this, each full
    collection, triggered by the objects every rerun allocates (widgets,
    protobuf messages), walks all of them again: under 50 sessions that cost
    more server CPU than the searches.  Unfrozen first, so that what a new
    import replaced is collected once (cycles included) before the rest is
    frozen again: one full collection per store version, none per rerun.
    """
    import gc

    gc.unfreeze()
    gc.collect()
    gc.freeze()
    return value


def geography(s: Settings) -> Geography:
    """The reference geography (communes, postcodes), loaded once per cache folder.

    The last one handed out is kept by folder: a lookup in
    ``st.cache_resource`` hashes its arguments, a cost paid on every rerun.
    """
    key = str(s.cache_dir)
    geo = _last_geography.get(key)
    if geo is None:
        geo = _geography(key)
        _keep(_last_geography, key, geo)
    return geo


def _keep(memo: dict[_K, _V], key: _K, value: _V) -> None:
    """Remember ``value`` as the last one for ``key`` (two keys at most: tests open many)."""
    with _keep_lock:  # sessions run in threads
        memo.pop(key, None)
        memo[key] = value
        while len(memo) > 2:
            del memo[next(iter(memo))]


_keep_lock = threading.Lock()


@st.cache_resource(show_spinner=False, max_entries=2)
def _public(_s: Settings, key: tuple[str, str, str], stamp: str) -> PublicActors:
    from mapapp.catalog import load_public_actors

    return _settled(load_public_actors(_s, communes=geography(_s).communes))


def public(s: Settings, at: str | None = None) -> PublicActors:
    """The public actors of the store version ``at`` (default: the current one)."""
    return _public(s, store_key(s), stamp(s) if at is None else at)


def demo_shown(s: Settings) -> bool:
    """Whether the records the app shows include demonstration records."""
    return catalog(s).is_demo


@dataclass(frozen=True)
class Catalog:
    """What the search page needs: the public actors' index, and their stamp.

    The index comes from :func:`mapapp.catalog.load_search_index`: at a
    million services a fresh server maps the copy kept with the store instead
    of reading the whole layer, so :attr:`actors` is only read when a page
    needs the frame itself (a shared list).
    """

    index: SearchIndex
    is_demo: bool
    stamp: str

    @property
    def actors(self) -> gpd.GeoDataFrame:
        """The public actors (read on first use)."""
        return self.index.actors


@st.cache_resource(show_spinner=False, max_entries=2)
def _catalog(_s: Settings, key: tuple[str, str, str], stamp: str) -> Catalog:
    from mapapp.catalog import load_search_index

    found = load_search_index(_s, communes=geography(_s).communes, background=True)
    demo = found.is_demo or bool(found.index.rows_flag("demo").any())
    return _settled(Catalog(found.index, demo, stamp))


_last_catalog: dict[tuple[str, str, str], Catalog] = {}


def catalog(s: Settings) -> Catalog:
    """Public actors and their search index, built once per store version.

    The last catalogue handed out per store is kept and reused while the
    stamp is the same (no argument hashing on every call).
    """
    key, now = store_key(s), stamp(s)
    cat = _last_catalog.get(key)
    if cat is None or cat.stamp != now:
        cat = _catalog(s, key, now)
        _keep(_last_catalog, key, cat)
    return cat
