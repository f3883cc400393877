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
from collections.abc import Callable, Iterator
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
    "public_rows",
    "reserved_columns",
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

    from mapapp.reserved_view import combined_stamp, load_places
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
    shown = public_rows(raw, communes, reserved_columns(raw, reserved.places, now))
    return PublicActors(shown, is_demo, combined_stamp(stamp, reserved.stamp, now))


def reserved_columns(raw: pd.DataFrame, places: pd.DataFrame, now: pd.Timestamp) -> pd.DataFrame:
    """The reserved-place columns of every row of ``raw`` (one row each, in order).

    Computed from the records' ``id`` and ``cluster_id`` only, and for the
    whole layer at once: a crèche's places add up over its duplicates, which
    may lie anywhere in it (so also in another batch of :func:`public_rows`).
    ``places`` is the register's public frame (:mod:`mapapp.reserved_view`).
    """
    from mapapp.reserved_view import attach_reserved

    keys = raw[[c for c in ("id", "cluster_id") if c in raw.columns]]
    added = attach_reserved(keys, places, now)
    return added[[c for c in added.columns if c not in keys.columns]]


def public_rows(raw: pd.DataFrame, communes: pd.DataFrame, reserved: pd.DataFrame) -> pd.DataFrame:
    """What may be shown of the records ``raw``: the one road from the store to any consumer.

    The public view (:func:`mapapp.safety.public_view`: confidential records
    at their commune, never their street, however they are typed) with the
    reserved-place columns of the same rows (``reserved``, from
    :func:`reserved_columns`, row by row).  :func:`load_public_actors` passes
    the whole layer; the kept search index passes it a batch of rows at a
    time, so both see exactly the same public records.

    Examples
    --------
    >>> import pandas as pd
    >>> from mapapp.schema import actors_frame
    >>> communes = pd.DataFrame({"lat": [45.0], "lon": [5.0]}, index=pd.Index(["38185"]))
    >>> raw = actors_frame([{"id": "a:1", "nom": "CHRS Le Phare", "adresse": "3 rue Z",
    ...                      "code_insee": "38185", "latitude": 45.3, "longitude": 5.3}])
    >>> now = pd.Timestamp("2026-12-07", tz="UTC")
    >>> from mapapp.reserved_view import places_frame
    >>> shown = public_rows(raw, communes, reserved_columns(raw, places_frame(), now))
    >>> row = shown.iloc[0]
    >>> row["adresse"], float(row["latitude"]), row["precision"], int(row["reserved_total"])
    ('', 45.0, 'commune', 0)
    """
    from mapapp.safety import public_view

    if len(reserved) != len(raw):
        raise ValueError(f"{len(reserved)} reserved-place rows for {len(raw)} records")
    shown = public_view(raw, _communes_of(raw, communes))
    for c in reserved.columns:
        shown[c] = reserved[c].array  # by position: the batch's own rows
    return shown


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


def _communes_of(raw: pd.DataFrame, communes: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``communes`` whose code some record of ``raw`` carries (the same lookups).

    Why: the public view looks hidden records' codes up with pandas'
    ``isin`` on Arrow strings, which costs half a second per call for the
    35,000 communes whatever the number of records: paid once for the whole
    layer, but by every batch of the kept index's build.  Matched here in
    Arrow's C++ (milliseconds), a code is found in the result exactly when
    it is found in ``communes``.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    if "code_insee" not in raw.columns or not pd.api.types.is_string_dtype(communes.index):
        return communes
    present = pa.array(raw["code_insee"].fillna("").astype(str).unique(), type=pa.string())
    known = pc.is_in(pa.array(communes.index, type=pa.string()), value_set=present)
    return communes[np.asarray(known.to_numpy(zero_copy_only=False), dtype=bool)]


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
    builds one and leaves it for the next (:func:`warm_search_cache` does
    it right after an import): from an embedded store a batch of rows at a
    time (:func:`_build_kept`, 1.1 GB at its peak for a million services
    where the whole frame took 3.7 GB), then maps it like any later
    process; from PostGIS from the whole public frame.

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
    kept = _build_kept(settings, store, communes, folder, expect)
    if kept is not None:
        return kept
    shown = load_public_actors(settings, communes=communes)
    index = SearchIndex(shown.actors)
    if shown.stamp == stamp:  # not an import committed in between
        meta, arrays, text = index.arrays()
        if cache.save(folder, {**meta, **expect}, arrays, bytes(text)):
            _prune(settings, folder)
    return PublicIndex(index, shown.is_demo, shown.stamp)


def _build_kept(
    settings: Settings,
    store: ParquetStore | PostgisStore,
    communes: pd.DataFrame,
    folder: Path,
    expect: dict[str, str],
) -> PublicIndex | None:
    """Build the kept index of a Parquet store a batch of rows at a time, keep it, map it.

    Why: the whole public frame of a million services, with the index built
    beside it, peaked at 3.7 GB; batches of rows (read by
    :func:`mapapp.store.search_cache.read_batches`, shown through
    :func:`public_rows` like every record) keep the peak to the batch and
    the index's own arrays, the rows' text going straight to the kept file.
    The index is then mapped from that file as a fresh server would.  None
    when this cannot be done (a PostGIS store, an import committed
    meanwhile, a folder that cannot be written): the caller builds the
    index from the whole frame, as before.
    """
    import pandas as pd

    from mapapp.reserved_view import combined_stamp, load_places
    from mapapp.search import SearchIndex
    from mapapp.store import search_cache as cache
    from mapapp.store.parquet import ParquetStore

    if not isinstance(store, ParquetStore):
        return None
    path = Path(store.actors_path)
    reserved, now = load_places(settings), pd.Timestamp.now(tz="UTC")
    stamp = combined_stamp(store.stamp(), reserved.stamp, now)
    if stamp != expect["stamp"] or path.parent != folder.parent or folder.exists():
        # an import or a register change in between, or a copy for another
        # geography where this one would go: the caller sorts it out
        return None
    try:
        writer = cache.FolderWriter(folder)
    except OSError:
        return None
    try:
        columns = [c for c in ("id", "cluster_id") if c in _column_names(path)]
        keys = pd.concat(list(cache.read_batches(path, columns=columns)), ignore_index=True)
        places = reserved_columns(keys, reserved.places, now)
        del keys

        def shown() -> Iterator[pd.DataFrame]:
            start = 0
            for raw in cache.read_batches(path):
                yield public_rows(raw, communes, places.iloc[start : start + len(raw)])
                start += len(raw)

        meta, arrays = SearchIndex.arrays_of_batches(shown(), writer.write_text)
    except (OSError, ValueError):
        writer.discard()  # e.g. the generation pruned meanwhile: built from the whole frame
        return None
    except BaseException:
        writer.discard()
        raise
    if not writer.commit({**meta, **expect}, arrays):
        return None
    _prune(settings, folder)
    found = cache.load(folder, expect)
    if found is None:
        return None
    meta, arrays, text = found
    with _suppress_stale():
        index = SearchIndex.from_arrays(meta, arrays, text, _loader(settings, communes, stamp))
        return PublicIndex(index, False, stamp)
    return None


def _column_names(path: Path) -> list[str]:
    import pyarrow.parquet as pq

    return list(pq.read_schema(path).names)


def _prune(settings: Settings, folder: Path) -> None:
    """Copies of older versions go once a new one is kept."""
    from mapapp.store import search_cache as cache

    if settings.store_url:  # beside the store, old versions go with theirs
        cache.prune(folder.parent, keep=folder.name)
    else:  # copies of an older register state of this version
        cache.prune_siblings(folder)


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
