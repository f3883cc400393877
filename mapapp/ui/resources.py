"""Layers and indexes built once per server process, shared by every session.

Why: loading the actors, hiding confidential records and building the k-d
trees takes about a second; doing it on every rerun would make each click
slow.  ``st.cache_resource`` keeps one read-only copy, keyed only on plain
strings and the store file's modification time (a new import is picked up),
never on GeoDataFrames.  Nothing about a user's search is cached here.

Every frame handed to pages comes from :func:`mapapp.safety.public_view`, so a
confidential record's street, coordinates or own phone cannot reach a page,
the map, a distance or an export.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
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

__all__ = ["Catalog", "catalog", "demo_shown", "geography", "settings"]


def settings() -> Settings:
    """Settings from the environment (cheap; read on each run)."""
    return Settings.from_env()


def _stamp(s: Settings) -> str:
    from mapapp.catalog import store_stamp

    return store_stamp(s)


@st.cache_resource(show_spinner=False, max_entries=2)
def _geography(cache_dir: str) -> Geography:
    from mapapp.geo.communes import load_geography

    return load_geography(Path(cache_dir))


def geography(s: Settings) -> Geography:
    """The reference geography (communes, postcodes), loaded once."""
    return _geography(str(s.cache_dir))


@st.cache_resource(show_spinner=False, max_entries=2)
def _public(data_dir: str, stamp: str, cache_dir: str) -> PublicActors:
    from mapapp.catalog import load_public_actors

    s = replace(Settings.from_env(), data_dir=Path(data_dir), cache_dir=Path(cache_dir))
    return load_public_actors(s, communes=_geography(cache_dir).communes)


@st.cache_resource(show_spinner=False, max_entries=2)
def _demo_flag(data_dir: str, stamp: str, cache_dir: str) -> bool:
    shown = _public(data_dir, stamp, cache_dir)
    actors = shown.actors
    return bool(shown.is_demo or ("demo" in actors and actors["demo"].astype(bool).any()))


def demo_shown(s: Settings) -> bool:
    """Whether the records the app shows include demonstration records."""
    return _demo_flag(str(s.data_dir), _stamp(s), str(s.cache_dir))


@dataclass(frozen=True)
class Catalog:
    """What the search page needs: the public actors and their index."""

    actors: gpd.GeoDataFrame
    index: SearchIndex
    is_demo: bool


@st.cache_resource(show_spinner=False, max_entries=2)
def _catalog(data_dir: str, stamp: str, cache_dir: str) -> Catalog:
    from mapapp.search import SearchIndex

    public = _public(data_dir, stamp, cache_dir).actors
    return Catalog(public, SearchIndex(public), _demo_flag(data_dir, stamp, cache_dir))


def catalog(s: Settings) -> Catalog:
    """Public actors and their search index, built once per store version."""
    return _catalog(str(s.data_dir), _stamp(s), str(s.cache_dir))
