"""Merge an import into the store by id: added, updated (which fields), unchanged, gone.

Why a ledger: "records gone from a source are reported, not silently
removed" needs to know which ids each dataset brought last time.  The ledger
(the store's ``ledger`` table) keeps ``(dataset, id)`` pairs; an id of the
dataset absent from the new import is *gone*: reported on every import until
it comes back or is pruned (``--prune``).  The clusters of duplicates live in
the ``clusters`` table (id, cluster_id, primary, duplicate, sources, and
the rule, linked_to, distance_m and name_score that explain each merge).

Re-importing the same input changes nothing: no record differs, so the
records file is not even rewritten.

Examples
--------
>>> import pandas as pd
>>> old = pd.DataFrame({"id": ["a:1", "a:2"], "nom": ["X", "Y"], "obstacles": [["emploi"], []]})
>>> new = pd.DataFrame({"id": ["a:1", "a:3"], "nom": ["X2", "Z"], "obstacles": [["emploi"], []]})
>>> d = diff_actors(old, new)
>>> d.added, d.updated, d.unchanged
(['a:3'], {'a:1': ['nom']}, [])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mapapp.errors import StoreError

__all__ = [
    "NOT_DEGRADING",
    "ActorDiff",
    "degraded_updates",
    "diff_actors",
    "read_clusters",
    "read_ledger",
]

# Derived columns: recomputed on every import, not a change of the record itself.
_IGNORED = ("geometry", "cluster_id", "duplicate", "sources")


@dataclass
class ActorDiff:
    """How a batch of records differs from the stored ones, by id."""

    added: list[str] = field(default_factory=list)
    updated: dict[str, list[str]] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)


def _comparable(series: pd.Series) -> np.ndarray:
    def norm(v: object) -> str:
        if v is None:
            return ""
        if isinstance(v, float):
            return "" if v != v else f"{v:.7f}"
        if isinstance(v, (list, tuple, np.ndarray)):
            return "\x1f".join(str(x) for x in v)
        if isinstance(v, (bool, np.bool_)):
            return "1" if v else "0"
        return str(v)

    return np.asarray([norm(v) for v in series.to_numpy(dtype=object)], dtype=object)


def diff_actors(old: pd.DataFrame, new: pd.DataFrame) -> ActorDiff:
    """Compare ``new`` records with ``old`` ones sharing their ids, column by column."""
    out = ActorDiff()
    old_ids = pd.Index(old["id"].astype(str)) if len(old) else pd.Index([], dtype=object)
    new_ids = pd.Index(new["id"].astype(str))
    pos = old_ids.get_indexer(new_ids)
    out.added = new_ids[pos < 0].tolist()
    common = pos >= 0
    if not common.any():
        return out
    a = old.iloc[pos[common]].reset_index(drop=True)
    b = new[common].reset_index(drop=True)
    changed = np.zeros((len(b), 0), dtype=bool)
    cols = [c for c in b.columns if c in a.columns and c not in _IGNORED and c != "id"]
    if cols:
        changed = np.column_stack([_comparable(a[c]) != _comparable(b[c]) for c in cols])
    ids = [str(x) for x in b["id"]]
    for i, rid in enumerate(ids):
        fields = [cols[j] for j in np.flatnonzero(changed[i])] if cols else []
        if fields:
            out.updated[rid] = fields
        else:
            out.unchanged.append(rid)
    return out


def _store(where: Any) -> Any:
    if isinstance(where, (str, Path)):
        from mapapp.store.parquet import ParquetStore

        return ParquetStore(where)
    return where


def read_ledger(where: Any) -> pd.DataFrame:
    """``(dataset, id)`` pairs of past imports (empty frame when none).

    ``where`` is a store, or the folder of an embedded store.
    """
    try:
        frame = _store(where).read_table("ledger")
    except StoreError as exc:
        raise StoreError(f"{exc}; or delete the store folder to start again") from exc
    if frame is None:
        return pd.DataFrame(
            {"dataset": pd.Series([], dtype=object), "id": pd.Series([], dtype=object)}
        )
    return frame


_CLUSTER_COLUMNS = (
    "id",
    "cluster_id",
    "primary",
    "duplicate",
    "sources",
    "rule",
    "linked_to",
    "distance_m",
    "name_score",
)


def read_clusters(where: Any) -> pd.DataFrame:
    """The duplicate clusters (``mapapp.ingest.dedupe.CLUSTER_COLUMNS``).

    id, cluster_id, primary, duplicate, sources, and for matched records the
    rule, linked_to, distance_m and name_score of their match.
    """
    frame = _store(where).read_table("clusters")
    if frame is None:
        return pd.DataFrame(columns=list(_CLUSTER_COLUMNS))
    return frame


#: Columns whose emptying is not a loss: derived, or filled with a default anyway.
NOT_DEGRADING = (*_IGNORED, "id", "demo", "confidential", "capacite", "latitude", "longitude")
_RANK = {"address": 2, "commune": 1}


def degraded_updates(old: pd.DataFrame, new: pd.DataFrame) -> dict[str, list[str]]:
    """Records of ``new`` that would lose what ``old`` knew: id -> what is lost.

    Why: a truncated or half-filled export must not silently replace a good
    record.  Lost is a location less precise than before (``precision``
    address -> commune), or a field that had a value and is now empty.  The
    caller keeps the old record unless the user accepts the loss.

    Examples
    --------
    >>> old = pd.DataFrame({"id": ["a:1", "a:2"], "precision": ["address", "address"],
    ...                     "telephone": ["01", "02"], "publics": [["jeunes"], []]})
    >>> new = pd.DataFrame({"id": ["a:1", "a:2"], "precision": ["commune", "address"],
    ...                     "telephone": ["01", ""], "publics": [["jeunes"], ["femmes"]]})
    >>> degraded_updates(old, new)
    {'a:1': ['precision address -> commune'], 'a:2': ['telephone emptied']}
    """
    if not len(old) or not len(new):
        return {}
    old_ids = pd.Index(old["id"].astype(str))
    pos = old_ids.get_indexer(pd.Index(new["id"].astype(str)))
    common = pos >= 0
    if not common.any():
        return {}
    a = old.iloc[pos[common]].reset_index(drop=True)
    b = new[common].reset_index(drop=True)
    lost: dict[str, list[str]] = {}
    ids = b["id"].astype(str).tolist()
    if "precision" in a and "precision" in b:
        ra = a["precision"].map(_RANK).fillna(0).to_numpy()
        rb = b["precision"].map(_RANK).fillna(0).to_numpy()
        for i in np.flatnonzero(rb < ra):
            lost.setdefault(ids[i], []).append(
                f"precision {a['precision'].iloc[i]} -> {b['precision'].iloc[i] or 'none'}"
            )
    for col in b.columns:
        if col in NOT_DEGRADING or col == "precision" or col not in a.columns:
            continue
        had = _comparable(a[col]) != ""
        has = _comparable(b[col]) != ""
        for i in np.flatnonzero(had & ~has):
            lost.setdefault(ids[i], []).append(f"{col} emptied")
    return lost
