"""Bounded records: every text field has a maximum length, every list a maximum size.

Why: one 100,000-character value in a name or an address made every search
whose results included it take over half a minute and hung the browser.
Real values are short (a French address fits in 200 characters, a phone
number in 30); a description of a few thousand characters says everything a
person needs.  Longer values are cut, the cut is marked with ``…``, and the
report counts the cuts per field, so nothing is shortened silently.  An id
cannot be cut (two records would become one): a record whose id is too long
is quarantined instead.

The caps are applied to cleaned records (after :mod:`mapapp.ingest.clean`),
so they bound what is stored and shown, whatever the input format.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"id": ["a:1"], "source_id": ["1"], "nom": ["x" * 1000],
...                       "telephone": ["01 23"], "thematiques": [["t"] * 500]})
>>> capped, cut, too_long = cap_fields(frame)
>>> len(capped.loc[0, "nom"]), capped.loc[0, "nom"][-1], len(capped.loc[0, "thematiques"])
(300, '…', 100)
>>> cut, too_long.tolist()
({'nom': 1, 'thematiques': 1}, [False])
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mapapp.ingest.clean import CleanedChunk

__all__ = ["ID_MAX", "LIST_MAX", "TEXT_MAX", "bound_chunk", "bound_original", "cap_fields"]

#: Longest text kept per field (characters); fields not named get DEFAULT_MAX.
TEXT_MAX: dict[str, int] = {
    "source": 100,
    "structure_id": 200,
    "structure_nom": 300,
    "nom": 300,
    "description": 4000,
    "actor_type": 100,
    "source_type": 200,
    "siret": 20,
    "adresse": 300,
    "complement_adresse": 300,
    "code_postal": 10,
    "code_insee": 10,
    "commune": 150,
    "precision": 20,
    "telephone": 50,
    "courriel": 254,
    "site_web": 2000,
    "horaires_accueil": 1000,
    "date_maj": 40,
    "referral_phone": 50,
    "cluster_id": 1000,
}
DEFAULT_MAX = 1000
#: Most items kept in a list field, and longest item.
LIST_MAX = 100
ITEM_MAX = 200
#: Longest id (``source:source_id``) accepted; longer ids are quarantined, never cut.
#: Real ids reach about 300 characters (a digital-mediation place merged from six
#: sources names them all), so the cap is well above that.
ID_MAX = 1000
_MARK = "…"


def _lengths(values: np.ndarray) -> np.ndarray:
    """Length of each value (0 for a non-string), at C speed when all are strings."""
    try:
        return np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    except TypeError:
        return np.fromiter(
            (len(v) if isinstance(v, str) else 0 for v in values), dtype=np.int64, count=len(values)
        )


def _cut_text(values: np.ndarray, limit: int) -> tuple[np.ndarray, int]:
    over = np.flatnonzero(_lengths(values) > limit)
    if not len(over):
        return values, 0
    out = values.copy()
    for i in over:
        out[i] = str(values[i])[: limit - 1].rstrip() + _MARK
    return out, len(over)


def _lists_within(values: np.ndarray) -> bool:
    """Fast check: every list has at most LIST_MAX items of at most ITEM_MAX characters.

    Rows often share one list object (see :mod:`mapapp.ingest.clean`): each is looked at once.
    """
    values = np.fromiter({id(v): v for v in values}.values(), dtype=object)
    try:
        if int(_lengths(values).max(initial=0)) > LIST_MAX:
            return False
        joined = "\x1f".join(map("\x1f".join, values))
    except TypeError:  # a value that is not a list of strings: look row by row
        return False
    return max(map(len, joined.split("\x1f")), default=0) <= ITEM_MAX


def _cut_lists(values: np.ndarray) -> tuple[np.ndarray, int]:
    if _lists_within(values):
        return values, 0
    out = values.copy()
    count = 0
    for i, v in enumerate(values):
        if not isinstance(v, (list, tuple, np.ndarray)):
            continue
        if len(v) <= LIST_MAX and all(len(str(x)) <= ITEM_MAX for x in v):
            continue
        out[i] = [
            str(x) if len(str(x)) <= ITEM_MAX else str(x)[: ITEM_MAX - 1] + _MARK
            for x in list(v)[:LIST_MAX]
        ]
        count += 1
    return out, count


def cap_fields(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int], np.ndarray]:
    """Cut over-long values of ``frame``.

    Returns
    -------
    frame : DataFrame
        A copy with every value within its cap (``frame`` itself when nothing was cut).
    cut : dict
        Field -> number of values cut.
    id_too_long : ndarray of bool
        Rows whose ``id`` exceeds :data:`ID_MAX` (to quarantine; not cut).
    """
    cut: dict[str, int] = {}
    out = frame
    for col in frame.columns:
        if col in ("id", "source_id"):  # never cut an id: see ID_MAX
            continue
        if frame[col].dtype.kind in "biufcmM":  # numbers, booleans, dates: nothing to cut
            continue
        values = frame[col].to_numpy(dtype=object)
        if col in TEXT_MAX or (len(values) and isinstance(values[0], str)):
            new, n = _cut_text(values, TEXT_MAX.get(col, DEFAULT_MAX))
        elif len(values) and isinstance(values[0], (list, tuple, np.ndarray)):
            new, n = _cut_lists(values)
        else:
            continue
        if n:
            if out is frame:
                out = frame.copy()
            out[col] = pd.Series(new, index=frame.index, dtype=object)
            cut[col] = n
    ids = frame["id"].to_numpy(dtype=object) if "id" in frame else np.array([], dtype=object)
    too_long = _lengths(ids) > ID_MAX
    return out, cut, too_long


def bound_chunk(cleaned: CleanedChunk) -> tuple[CleanedChunk, dict[str, int]]:
    """The bounds stage of the pipeline: cap a cleaned chunk's fields.

    Records whose id is longer than :data:`ID_MAX` move to the chunk's
    quarantine with the reason ``id too long``.  Returns the chunk and the
    number of cut values per field.
    """
    actors, cut, too_long = cap_fields(cleaned.actors)
    if not too_long.any():
        return CleanedChunk(actors, cleaned.info, cleaned.quarantined), cut
    quarantined = list(cleaned.quarantined)
    origins = cleaned.info["origin"].tolist() if "origin" in cleaned.info else []
    for i in np.flatnonzero(too_long):
        rec = {str(k): v for k, v in actors.iloc[int(i)].to_dict().items()}
        quarantined.append(
            {
                "origin": origins[i] if i < len(origins) else "",
                "reason": f"id too long (more than {ID_MAX} characters)",
                "original": {k: str(v)[:ITEM_MAX] for k, v in rec.items()},
                "staging": {},
            }
        )
    keep = ~too_long
    return (
        CleanedChunk(
            actors[keep].reset_index(drop=True),
            cleaned.info[keep].reset_index(drop=True),
            quarantined,
        ),
        cut,
    )


#: Longest value kept in the copy of a quarantined row (the report, the quarantine file).
ORIGINAL_MAX = 10_000


def bound_original(original: Any) -> Any:
    """A quarantined row's original values, each cut to :data:`ORIGINAL_MAX` characters.

    >>> bound_original({"nom": "x" * 20_000})["nom"][-12:]
    'xxxxxxxxxxx…'
    """
    if not isinstance(original, dict):
        return original
    out: dict[str, Any] = {}
    for key, value in original.items():
        if isinstance(value, str) and len(value) > ORIGINAL_MAX:
            value = value[: ORIGINAL_MAX - 1] + _MARK
        out[key] = value
    return out
