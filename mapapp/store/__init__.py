"""Where actors live: GeoParquet files by default, PostGIS for shared deployments.

:func:`load_actors` is what the app, the CLI and the analyses call: the
store's actors when it has any, else the embedded demonstration data, so a new
user sees every feature at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd

from mapapp.settings import PROJECT_ROOT, Settings
from mapapp.store.parquet import ParquetStore

if TYPE_CHECKING:
    from mapapp.store.postgis import PostgisStore

__all__ = ["DEMO_PATH", "ParquetStore", "demo_actors", "load_actors", "open_store"]

_EMBEDDED = Path(__file__).resolve().parents[1] / "_embedded" / "demo_actors.parquet"
DEMO_PATH = _EMBEDDED if _EMBEDDED.exists() else PROJECT_ROOT / "data" / "demo_actors.parquet"


def open_store(settings: Settings) -> ParquetStore | PostgisStore:
    """The store configured by ``settings``: PostGIS when ``store_url`` is set, else GeoParquet."""
    if settings.store_url:
        from mapapp.store.postgis import PostgisStore

        return PostgisStore(settings.store_url)
    return ParquetStore(settings.data_dir)


def demo_actors() -> gpd.GeoDataFrame:
    """The embedded demonstration actors (every record has ``demo=True``)."""
    return gpd.read_parquet(DEMO_PATH)


def load_actors(settings: Settings) -> tuple[gpd.GeoDataFrame, bool]:
    """Actors to show, and whether they are the demonstration data.

    Returns
    -------
    actors : GeoDataFrame
    is_demo : bool
        True when the store is empty and the embedded demo data is returned.
    """
    store = open_store(settings)
    if store.is_empty():
        return demo_actors(), True
    return store.read_actors(), False
