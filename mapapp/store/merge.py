"""Merge an import into the store by id: added, updated (which fields), unchanged, gone.

Why a ledger: "records gone from a source are reported, not silently
removed" needs to know which ids each dataset brought last time.  The ledger
(``imports.parquet`` next to ``actors.parquet``) keeps ``(dataset, id)``
pairs; an id of the dataset absent from the new import is *gone*: reported
on every import until it comes back or is pruned (``--prune``).  The
clusters of duplicates live in ``clusters.parquet`` (id, cluster_id,
primary, duplicate, sources, and the rule, linked_to, distance_m and
name_score that explain each merge).

Re-importing the same input changes nothing: no record differs, so the
store file is not even rewritten.

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

import numpy as np
import pandas as pd

from mapapp.errors import StoreError

__all__ = [
    "CLUSTERS_FILE",
    "LEDGER_FILE",
    "ActorDiff",
    "diff_actors",
    "read_clusters",
    "read_ledger",
    "write_table",
]

LEDGER_FILE = "imports.parquet"
CLUSTERS_FILE = "clusters.parquet"
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


def read_ledger(data_dir: Path) -> pd.DataFrame:
    """``(dataset, id)`` pairs of past imports (empty frame when none)."""
    path = Path(data_dir) / LEDGER_FILE
    if not path.exists():
        return pd.DataFrame(
            {"dataset": pd.Series([], dtype=object), "id": pd.Series([], dtype=object)}
        )
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types
        raise StoreError(f"cannot read {path} ({exc}); delete it to start a new ledger") from exc


def read_clusters(data_dir: Path) -> pd.DataFrame:
    """The duplicate clusters (``mapapp.ingest.dedupe.CLUSTER_COLUMNS``).

    id, cluster_id, primary, duplicate, sources, and for matched records the
    rule, linked_to, distance_m and name_score of their match.
    """
    path = Path(data_dir) / CLUSTERS_FILE
    if not path.exists():
        return pd.DataFrame(
            columns=[
                "id",
                "cluster_id",
                "primary",
                "duplicate",
                "sources",
                "rule",
                "linked_to",
                "distance_m",
                "name_score",
            ]
        )
    return pd.read_parquet(path)


def write_table(data_dir: Path, name: str, frame: pd.DataFrame) -> None:
    """Write a side table atomically next to the actors file."""
    folder = Path(data_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / (name + ".tmp")
        frame.to_parquet(tmp, index=False)
        tmp.replace(folder / name)
    except OSError as exc:
        raise StoreError(f"cannot write {folder / name} ({exc}); check MAPAPP_DATA_DIR") from exc
