"""Which records are crèches, and in which département: what the register may hold.

Why from the public view: the register's pages show a crèche's name and
commune to coordinators; reading them through
:func:`mapapp.catalog.load_public_actors` keeps a confidential record's
street out of them like everywhere else.  A crèche is any record whose
``actor_type`` is a childcare type (:data:`CHILDCARE_TYPES`), crèche AVIP or
not; a company crèche missing from every source is added by hand
(:mod:`mapapp.reserved.manual`) and then is a record like the others.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from mapapp.settings import Settings
from mapapp.taxonomy import ActorType

if TYPE_CHECKING:
    import pandas as pd

    from mapapp.geo.communes import Geography

__all__ = ["CHILDCARE_TYPES", "creches", "departement_of_code"]

#: Actor types whose records may hold reserved places.
CHILDCARE_TYPES: frozenset[str] = frozenset({ActorType.CRECHE.value, ActorType.CRECHE_AVIP.value})


def departement_of_code(code_insee: str) -> str:
    """The département of an INSEE commune code, when the reference table lacks it.

    Examples
    --------
    >>> departement_of_code("93066"), departement_of_code("97411"), departement_of_code("2A004")
    ('93', '974', '2A')
    >>> departement_of_code("")
    ''
    """
    code = str(code_insee or "").strip().upper()
    if len(code) != 5:
        return ""
    return code[:3] if code.startswith("97") else code[:2]


@cache
def _geography(cache_dir: str) -> Geography:
    """The reference geography, read once per process (it never changes while serving)."""
    from mapapp.geo.communes import load_geography

    return load_geography(Path(cache_dir))


def creches(settings: Settings) -> pd.DataFrame:
    """The crèches of the store (or of the demonstration data), one row each.

    Returns
    -------
    DataFrame
        Indexed by ``actor_id``; columns ``nom``, ``commune``, ``code_insee``,
        ``departement``, ``actor_type``.
    """
    from mapapp.catalog import load_public_actors

    communes = _geography(str(settings.cache_dir)).communes
    actors = load_public_actors(settings, communes=communes).actors
    keep = actors[actors["actor_type"].isin(CHILDCARE_TYPES)]
    if "duplicate" in keep.columns:
        keep = keep[~keep["duplicate"].astype(bool)]
    frame = keep[["id", "nom", "commune", "code_insee", "actor_type"]].copy()
    known = frame["code_insee"].map(communes["departement"]).fillna("")
    fallback = frame["code_insee"].map(departement_of_code)
    frame["departement"] = known.where(known != "", fallback).astype(str)
    return frame.rename(columns={"id": "actor_id"}).set_index("actor_id").sort_values("nom")
