"""Add records by hand to the committed actors layer, as a new version of the store.

Why in the store package: adding a record reads the raw records (to keep them
all and refuse a second record with the same id), and raw records stay inside
:mod:`mapapp.store` and :mod:`mapapp.ingest`.  The new version is committed
under the import lock like an import, so it never races one; imports keep the
records they did not bring (see :mod:`mapapp.ingest.pipeline`).
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from mapapp.errors import DataValidationError, StoreError
from mapapp.schema import actors_frame
from mapapp.settings import Settings

__all__ = ["append_records"]


def append_records(settings: Settings, records: gpd.GeoDataFrame) -> str:
    """Commit the store's records plus ``records`` (an actors frame); return the new stamp.

    Raises
    ------
    StoreError
        The store holds no import yet (the demonstration data would disappear).
    DataValidationError
        An id of ``records`` is already in the store.
    """
    from mapapp.store import open_store

    store = open_store(settings)
    with store.writer():
        if store.is_empty():
            raise StoreError(
                "le store ne contient encore aucun import : importez d'abord l'annuaire "
                "(mapapp fetch / mapapp ingest) / the store holds no import yet: import the "
                "directory first (mapapp fetch / mapapp ingest)"
            )
        actors = store.read_actors()
        taken = sorted(set(actors["id"]) & set(records["id"]))
        if taken:
            raise DataValidationError(
                f"{', '.join(taken)} existe déjà / already exists "
                "(mapapp reserved import to change its places)"
            )
        combined = pd.concat([actors, records], ignore_index=True)
        return store.commit(actors_frame(combined), {})
