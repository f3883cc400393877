"""Duplicates across sources: clustered, never deleted.

Why clusters: the same mission locale appears in data·inclusion, in the
prescribers list and in a coordinator's spreadsheet.  Deleting all but one
would lose what each source knows; showing three pins misleads.  Records
describing the same place get one ``cluster_id``; the map shows one place
with all its sources.  Two records are the same place when they share a
SIRET (an establishment number is a site), or when their normalised names
and phone numbers are equal and they lie within 150 m of each other.

Within a cluster the *primary* is the most precise, richest record (then
the smallest id, so the choice is stable).  Records of the primary's own
group (same source and structure: the services of one structure) are not
duplicates of each other; records of other groups are counted as *merged*.

Examples
--------
>>> import pandas as pd
>>> actors = pd.DataFrame({
...     "id": ["a:1", "b:7", "c:3"], "source": ["a", "b", "c"], "source_id": ["1", "7", "3"],
...     "structure_id": ["", "", ""], "siret": ["12345678900011", "12345678900011", ""],
...     "nom": ["ML Nord", "Mission locale Nord", "ML Nord"],
...     "telephone": ["0262 11 22 33", "", "+262 262112233"],
...     "latitude": [-20.9, -20.9, -20.9001], "longitude": [55.45, 55.45, 55.4501],
...     "precision": ["address", "address", "address"], "thematiques": [[], [], []]})
>>> c = cluster_actors(actors)
>>> c["cluster_id"].nunique(), c.loc[c["primary"], "id"].tolist(), c["duplicate"].tolist()
(1, ['a:1'], [False, True, True])
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from mapapp.geo.sphere import haversine_km
from mapapp.geo.text import normalize_place

__all__ = ["cluster_actors"]

_NEAR_KM = 0.15


def _phone_key(text: str) -> str:
    digits = re.sub(r"\D", "", str(text or ""))
    return digits[-9:] if len(digits) >= 9 else ""


def _siret_key(text: str) -> str:
    digits = re.sub(r"\D", "", str(text or ""))
    return digits if len(digits) == 14 and digits.strip("0") else ""


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = np.arange(n)

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = int(self.parent[root])
        while self.parent[i] != root:
            self.parent[i], i = root, int(self.parent[i])
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def cluster_actors(actors: pd.DataFrame) -> pd.DataFrame:
    """One row per actor: ``id``, ``cluster_id``, ``primary``, ``duplicate``, ``sources``.

    ``duplicate`` is True for records outside the primary's group (they are
    the *merged* rows of the import report); ``sources`` lists the sources of
    the whole cluster.
    """
    n = len(actors)
    ids = actors["id"].astype(str).to_numpy()
    if n == 0:
        return pd.DataFrame(
            {"id": [], "cluster_id": [], "primary": [], "duplicate": [], "sources": []}
        )
    uf = _UnionFind(n)
    siret = actors["siret"].map(_siret_key).to_numpy()
    for _, idx in pd.Series(np.arange(n))[siret != ""].groupby(siret[siret != ""]):
        members = idx.to_numpy()
        for j in members[1:]:
            uf.union(int(members[0]), int(j))
    phone = actors["telephone"].map(_phone_key).to_numpy()
    name = actors["nom"].map(lambda s: normalize_place(str(s))).to_numpy()
    keyed = (phone != "") & (name != "")
    lat = actors["latitude"].to_numpy(dtype=float)
    lon = actors["longitude"].to_numpy(dtype=float)
    if keyed.any():
        keys = pd.Series(name[keyed] + "|" + phone[keyed])
        positions = np.flatnonzero(keyed)
        for _, grp in keys.groupby(keys.to_numpy()):
            members = positions[grp.index.to_numpy()]
            if len(members) < 2:
                continue
            for a_pos, a in enumerate(members):
                near = haversine_km(
                    lat[a], lon[a], lat[members[a_pos + 1 :]], lon[members[a_pos + 1 :]]
                )
                for b in members[a_pos + 1 :][np.asarray(near) <= _NEAR_KM]:
                    uf.union(int(a), int(b))
    roots = np.array([uf.find(i) for i in range(n)])
    precise = (actors["precision"].astype(str).to_numpy() == "address").astype(int)
    richness = np.array([len(t) for t in actors["thematiques"]], dtype=int)
    order = np.lexsort((ids, -richness, -precise, roots))
    primary = np.zeros(n, dtype=bool)
    cluster_of = np.empty(n, dtype=object)
    group = (
        actors["source"].astype(str)
        + ":"
        + actors["structure_id"]
        .astype(str)
        .where(actors["structure_id"].astype(str) != "", actors["source_id"].astype(str))
    ).to_numpy()
    duplicate = np.zeros(n, dtype=bool)
    sources: list[list[str]] = [[] for _ in range(n)]
    start = 0
    sorted_roots = roots[order]
    src = actors["source"].astype(str).to_numpy()
    while start < n:
        end = start
        while end < n and sorted_roots[end] == sorted_roots[start]:
            end += 1
        members = order[start:end]
        head = members[0]
        primary[head] = True
        cid = ids[head]
        cluster_sources = sorted(set(src[members]))
        for m in members:
            cluster_of[m] = cid
            duplicate[m] = group[m] != group[head]
            sources[m] = cluster_sources
        start = end
    return pd.DataFrame(
        {
            "id": ids,
            "cluster_id": cluster_of,
            "primary": primary,
            "duplicate": duplicate,
            "sources": sources,
        }
    )
