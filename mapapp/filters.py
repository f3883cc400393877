"""Which services a question is about: reception modes, obstacles, actor types.

Why one module: the search (:mod:`mapapp.search`) and the coverage analysis
(:mod:`mapapp.coverage.services`) must agree on what "in person" means and
on which services cover an obstacle, or the map of gaps would disagree with
the list a person gets.  The rules:

- a service is *in person* when its ``modes_accueil`` hold ``en-presentiel``
  or nothing at all (a source that says nothing describes a place to go);
- it is *remote only* when they hold ``a-distance`` and not ``en-presentiel``;
- with several obstacles, ``match="any"`` keeps services covering one of
  them, ``match="all"`` those covering every one; types are allowed values;
- *with a free reserved place* means at least one childcare place reserved
  for women returning to work is free now (``reserved_free``, attached by
  :func:`mapapp.reserved_view.attach_reserved`); a frame without it has none.

Examples
--------
>>> from mapapp.schema import actors_frame
>>> a = actors_frame([
...     {"id": "a:1", "obstacles": ["mobilite"], "modes_accueil": ["en-presentiel"]},
...     {"id": "a:2", "obstacles": ["mobilite", "numerique"], "modes_accueil": ["a-distance"]},
...     {"id": "a:3", "obstacles": ["numerique"], "actor_type": "cidff", "modes_accueil": []},
... ])
>>> in_person, remote = reception_flags(a["modes_accueil"])
>>> in_person.tolist(), remote.tolist()
([True, False, True], [False, True, False])
>>> service_mask(a, obstacles=["mobilite", "numerique"], match="all").tolist()
[False, True, False]
>>> service_mask(a, types=["cidff"]).tolist()
[False, False, True]
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from mapapp.taxonomy import ActorType, Obstacle, parse_actor_type, parse_obstacle

__all__ = [
    "ReceptionMode",
    "membership",
    "reception_flags",
    "reserved_free_mask",
    "service_mask",
]


class ReceptionMode(StrEnum):
    """How a service receives people (data·inclusion's ``modes_accueil``)."""

    EN_PRESENTIEL = "en-presentiel"
    A_DISTANCE = "a-distance"


def membership(values: pd.Series, vocab: Sequence[str]) -> NDArray[np.bool_]:
    """``(n, len(vocab))`` booleans: which row's list holds which word.

    Vectorised through Arrow because a Python loop over 100k lists costs
    more than the whole coverage computation.

    Examples
    --------
    >>> membership(pd.Series([["a", "b"], [], None]), ["b", "c"]).tolist()
    [[True, False], [False, False], [False, False]]
    """
    n = len(values)
    out = np.zeros((n, len(vocab)), dtype=bool)
    if n == 0:
        return out
    raw = values.to_numpy()
    try:
        arr = pa.array(raw, type=pa.list_(pa.string()))
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):  # e.g. NaN for an empty list
        arr = pa.array(
            [v if isinstance(v, list | tuple | np.ndarray) else [] for v in raw],
            type=pa.list_(pa.string()),
        )
    flat = pc.list_flatten(arr)
    parents = pc.list_parent_indices(arr).to_numpy()
    idx = pc.fill_null(pc.index_in(flat, value_set=pa.array(list(vocab))), -1).to_numpy()
    known = idx >= 0
    out[parents[known], idx[known]] = True
    return out


def reception_flags(modes: pd.Series) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """``(in_person, remote_only)`` for each row's ``modes_accueil`` (rules above)."""
    m = membership(modes, [ReceptionMode.EN_PRESENTIEL.value, ReceptionMode.A_DISTANCE.value])
    on_site, remote = m[:, 0], m[:, 1]
    return on_site | ~(on_site | remote), remote & ~on_site


def reserved_free_mask(actors: pd.DataFrame) -> NDArray[np.bool_]:
    """Rows with at least one reserved childcare place free now (none without the column).

    Examples
    --------
    >>> reserved_free_mask(pd.DataFrame({"reserved_free": [0, 2, None]})).tolist()
    [False, True, False]
    >>> reserved_free_mask(pd.DataFrame({"id": ["a"]})).tolist()
    [False]
    """
    if "reserved_free" not in actors:
        return np.zeros(len(actors), dtype=bool)
    free = pd.to_numeric(actors["reserved_free"], errors="coerce").fillna(0)
    return (free > 0).to_numpy(dtype=bool)


def service_mask(
    actors: pd.DataFrame,
    *,
    obstacles: Sequence[Obstacle | str] = (),
    types: Sequence[ActorType | str] = (),
    match: Literal["any", "all"] = "any",
    reserved_free: bool = False,
) -> NDArray[np.bool_]:
    """Rows of ``actors`` covering the obstacles (any/all) with an allowed type.

    Empty ``obstacles`` or ``types`` mean no restriction; ``reserved_free``
    keeps only rows with a free reserved place.  Unknown slugs raise
    :class:`mapapp.errors.UnknownVocabularyError`.
    """
    if match not in ("any", "all"):
        raise ValueError("match must be 'any' or 'all'")
    keep = np.ones(len(actors), dtype=bool)
    obs = list(dict.fromkeys(parse_obstacle(o) for o in obstacles))
    if obs:
        member = membership(actors["obstacles"], [o.value for o in obs])
        keep &= member.all(axis=1) if match == "all" else member.any(axis=1)
    if types:
        wanted = {parse_actor_type(t).value for t in types}
        keep &= actors["actor_type"].isin(wanted).to_numpy()
    if reserved_free:
        keep &= reserved_free_mask(actors)
    return keep
