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

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from mapapp.settings import Settings

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


def stamp(s: Settings) -> str:
    """The store's current stamp (changes with every committed import)."""
    from mapapp.catalog import store_stamp

    return store_stamp(s)


@st.cache_resource(show_spinner=False, max_entries=2)
def _geography(cache_dir: str) -> Geography:
    from mapapp.geo.communes import load_geography

    return load_geography(Path(cache_dir))


def geography(s: Settings) -> Geography:
    """The reference geography (communes, postcodes), loaded once per cache folder."""
    return _geography(str(s.cache_dir))


@st.cache_resource(show_spinner=False, max_entries=2)
def _public(_s: Settings, key: tuple[str, str, str], stamp: str) -> PublicActors:
    from mapapp.catalog import load_public_actors

    return load_public_actors(_s, communes=geography(_s).communes)


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
    return Catalog(found.index, demo, stamp)


def catalog(s: Settings) -> Catalog:
    """Public actors and their search index, built once per store version."""
    return _catalog(s, store_key(s), stamp(s))
