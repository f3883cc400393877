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

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from mapapp.settings import Settings

__all__ = ["PublicActors", "load_public_actors", "store_stamp"]


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

    from mapapp.reserved_view import combined_stamp, load_places
    from mapapp.store import open_store

    store = open_store(settings)
    base = "demo" if store.is_empty() else store.stamp()
    return combined_stamp(base, load_places(settings).stamp, pd.Timestamp.now(tz="UTC"))


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
