"""The one entry point through which consumers read actors: the public view.

Why: a confidential record's street, point and own phone must never reach a
browser, an API client, an export, a notebook or a benchmark (safety rule 1 in
``DOMAIN.md``).  Rather than asking every consumer to remember to call
:func:`mapapp.safety.public_view`, they all call :func:`load_public_actors`,
which reads the store (or the embedded demonstration data when the store is
empty) and returns only what may be shown.  Raw records stay inside
``mapapp.ingest`` and ``mapapp.store``.

The returned :class:`PublicActors` also carries the store's ``stamp``, a
string that changes with every committed import: caches key on it (never on
``id()`` of a frame, which Python reuses).

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from mapapp.settings import Settings
>>> s = Settings.from_env({"MAPAPP_DATA_DIR": tempfile.mkdtemp()})
>>> shown = load_public_actors(s)
>>> shown.is_demo, shown.stamp.split("+")[0]
(True, 'demo')
>>> bool((shown.actors["precision"] != "address")[shown.actors["confidential"]].all())
True
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from mapapp.search import SearchIndex
    from mapapp.settings import Settings
    from mapapp.store.parquet import ParquetStore
    from mapapp.store.postgis import PostgisStore

__all__ = [
    "PublicActors",
    "PublicIndex",
    "load_public_actors",
    "load_search_index",
    "store_stamp",
    "warm_search_cache",
]


@dataclass(frozen=True)
class PublicActors:
    """Actors as they may be shown, and where they come from.

    Attributes
    ----------
    actors : GeoDataFrame
        The public view: confidential records at their commune, with their
        referral line, and no street, e-mail or SIRET.
    is_demo : bool
        True when the store is empty and the embedded demonstration data is shown.
    stamp : str
        Identifies the store version read (``"demo"`` for the demonstration
        data); equal stamps mean equal records.
    """

    actors: gpd.GeoDataFrame
    is_demo: bool
    stamp: str


def store_stamp(settings: Settings) -> str:
    """The stamp of the store's current version, without reading its records.

    Cheap enough to call on every page run: caches compare it to decide
    whether a new import must be picked up.
    """
    import pandas as pd

    from mapapp.reserved_view import combined_stamp, reserved_stamp
    from mapapp.store import open_store

    base = open_store(settings).stamp()  # one read: "empty" when nothing was committed
    if base == "empty":
        base = "demo"
    return combined_stamp(base, reserved_stamp(settings), pd.Timestamp.now(tz="UTC"))


def load_public_actors(settings: Settings, *, communes: pd.DataFrame | None = None) -> PublicActors:
    """Read the actors to show, through the public view.

    Parameters
    ----------
    settings : Settings
        Where the store and the reference-geography cache are.
    communes : DataFrame, optional
        The reference communes (``lat``, ``lon`` indexed by ``code_insee``)
        used to place confidential records at their commune; loaded from the
        cache when not given.
    """
    import pandas as pd

    from mapapp.reserved_view import attach_reserved, combined_stamp, load_places
    from mapapp.safety import public_view
    from mapapp.store import demo_actors, open_store

    store = open_store(settings)
    if store.is_empty():
        raw, is_demo, stamp = demo_actors(), True, "demo"
    else:
        stamp = store.stamp()
        raw, is_demo = store.read_actors(), False
    if communes is None:
        from mapapp.geo.communes import load_geography

        communes = load_geography(settings.cache_dir).communes
    # reserved childcare places (issue 17): only the register's public columns
    reserved, now = load_places(settings), pd.Timestamp.now(tz="UTC")
    shown = attach_reserved(public_view(raw, communes), reserved.places, now)
    return PublicActors(shown, is_demo, combined_stamp(stamp, reserved.stamp, now))


@dataclass(frozen=True)
class PublicIndex:
    """The search index of the public view, and where it comes from.

    Attributes
    ----------
    index : SearchIndex
        Built on :func:`load_public_actors`' frame, or mapped from the copy kept
        with the store: either way it only ever saw the public view.
    is_demo, stamp
        As in :class:`PublicActors`.
    """

    index: SearchIndex
    is_demo: bool
    stamp: str

    @property
    def actors(self) -> gpd.GeoDataFrame:
        """The public frame (read from the store on first use when the index was mapped)."""
        return self.index.actors


def load_search_index(
    settings: Settings, *, communes: pd.DataFrame | None = None, background: bool = False
) -> PublicIndex:
    """The search index of the public view, from the copy kept with the store when it has one.

    Why: at a million services, reading the layer, hiding confidential
    records and building the index took a fresh server 15 s before its
    first answer.  The index's arrays are kept beside the store version they
    were built from (:mod:`mapapp.store.search_cache`), keyed on its stamp
    and on the geography that placed confidential records; a fresh process
    maps them (read-only, pages read on demand) and builds an obstacle's
    k-d tree on its first search.  The first process that finds no copy
    builds the index as before and leaves one for the next
    (:func:`warm_search_cache` does it right after an import).

    Parameters
    ----------
    settings : Settings
        Where the store and the reference-geography cache are.
    communes : DataFrame, optional
        The reference communes, as for :func:`load_public_actors`.
    background : bool
        When the index is mapped, build the other obstacles' trees in a
        background thread (a long-running server), so that no later search
        pays for one.
    """
    import pandas as pd

    from mapapp.reserved_view import combined_stamp, reserved_stamp
    from mapapp.search import SearchIndex
    from mapapp.store import open_store
    from mapapp.store import search_cache as cache

    store = open_store(settings)
    if store.is_empty():
        shown = load_public_actors(settings, communes=communes)
        return PublicIndex(SearchIndex(shown.actors), shown.is_demo, shown.stamp)
    if communes is None:
        from mapapp.geo.communes import load_geography

        communes = load_geography(settings.cache_dir).communes
    # the rows kept carry the reserved places (issue 17): key on the register too
    stamp = combined_stamp(store.stamp(), reserved_stamp(settings), pd.Timestamp.now(tz="UTC"))
    expect = {"stamp": stamp, "geography": _geography_key(communes)}
    folder = _cache_folder(settings, store, stamp)
    found = cache.load(folder, expect)
    if found is not None:
        meta, arrays, text = found
        with _suppress_stale():
            index = SearchIndex.from_arrays(meta, arrays, text, _loader(settings, communes, stamp))
            if background:  # the first search builds only its obstacle's tree
                index.build_trees_in_background()
            return PublicIndex(index, False, stamp)
    shown = load_public_actors(settings, communes=communes)
    index = SearchIndex(shown.actors)
    if shown.stamp == stamp:  # not an import committed in between
        meta, arrays, text = index.arrays()
        saved = cache.save(folder, {**meta, **expect}, arrays, bytes(text))
        if saved and settings.store_url:  # beside the store, old versions go with theirs
            cache.prune(folder.parent, keep=folder.name)
        elif saved:  # copies of an older register state of this version
            cache.prune_siblings(folder)
    return PublicIndex(index, shown.is_demo, shown.stamp)


def warm_search_cache(settings: Settings) -> None:
    """Build and keep the search index of the store's current version (call after an import).

    So that the next server's first search reads it rather than building it.
    """
    load_search_index(settings)


def _suppress_stale() -> contextlib.AbstractContextManager[None]:
    """A copy from another taxonomy version (``ValueError``) is ignored: the index is rebuilt."""
    return contextlib.suppress(ValueError, KeyError)


def _loader(
    settings: Settings, communes: pd.DataFrame, stamp: str
) -> Callable[[], gpd.GeoDataFrame]:
    def load() -> gpd.GeoDataFrame:
        from mapapp.errors import StoreError

        shown = load_public_actors(settings, communes=communes)
        if shown.stamp != stamp:
            raise StoreError(
                "les données ont changé depuis le chargement de l'index : rechargez la page / "
                "the records changed since the index was loaded: reload the page"
            )
        return shown.actors

    return load


def _geography_key(communes: pd.DataFrame) -> str:
    """Identifies the commune points confidential records are placed at."""
    import pandas as pd

    cols = [c for c in ("lat", "lon") if c in communes]
    hashed = pd.util.hash_pandas_object(communes[cols], index=True).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()[:16]


def _cache_folder(settings: Settings, store: ParquetStore | PostgisStore, stamp: str) -> Path:
    """Beside the store version (embedded store), else under the cache folder, per store."""
    if not settings.store_url:
        return Path(store.actors_path).parent / f"search-{stamp}"  # type: ignore[union-attr]
    which = hashlib.sha256(settings.store_url.encode()).hexdigest()[:16]
    return Path(settings.cache_dir) / "search" / which / stamp
