"""REFERENCE ONLY: ``cluster_actors`` as it stood before the vectorised rewrite (main, 2026-12-07).

Why kept: the rewrite must give exactly the same clusters, rules, links,
distances and scores; ``tests/test_dedupe_same_clusters.py`` runs both on
varied frames and on the real samples.  The name rules (``name_key``,
``_pair_score``, ``types_compatible``) and the thresholds are imported from
the module itself: they are not what was rewritten.  Never import this from
the application.
"""

# ruff: noqa
# mypy: ignore-errors

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from mapapp.geo.sphere import chord_to_km, km_to_chord, to_unit_xyz
from mapapp.ingest.dedupe import (
    CLUSTER_COLUMNS,
    IDENTICAL_M,
    NEAR_M,
    NEAR_SCORE,
    NEIGHBOURS,
    SIRET_M,
    SIRET_SCORE,
    WIDE_M,
    WIDE_SCORE,
    MergeRule,
    NameKey,
    _pair_score,
    name_key,
    types_compatible,
)
from mapapp.ingest.overrides import Overrides


def _siret_key(text: object) -> str:
    digits = re.sub(r"\D", "", str(text or ""))
    return digits if len(digits) == 14 and digits.strip("0") else ""


#: Fields that must all be equal for two rows of one file to be one record.
_IDENTITY_FIELDS = (
    "nom",
    "structure_nom",
    "adresse",
    "code_insee",
    "actor_type",
    "thematiques",
    "publics",
    "telephone",
    "courriel",
    "description",
    "horaires_accueil",
)


class _Fingerprints:
    """What two rows of one file must share to be one record twice (ids aside).

    Names alone are not enough: one building holds several structures' services
    called "Activités et ateliers" or "Médiation numérique".  Names compare in
    their normal form ("Mairie de Sermoyer" = "Mairie Sermoyer"), other fields
    without case and extra spaces.  Computed only for the rows that need it.
    """

    _NAMES = ("nom", "structure_nom")

    def __init__(self, actors: pd.DataFrame) -> None:
        # Series, read one cell at a time: a million rows of eleven columns as
        # Python lists would cost more than the records themselves.
        self.columns = {c: _column(actors, c, None) for c in _IDENTITY_FIELDS}
        # the commune too, only so that name_key's cache (filled by _NameKeys) is hit
        self.communes = _column(actors, "commune")

    def __getitem__(self, row: int) -> bytes:
        """The row's fingerprint as a 16-byte digest (the joined fields can be kilobytes)."""
        commune = str(self.communes.iat[row])
        text = "\x1f".join(
            self._norm(c, self.columns[c].iat[row], commune) for c in _IDENTITY_FIELDS
        )
        return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()

    def _norm(self, column: str, v: object, commune: str) -> str:
        if isinstance(v, (list, tuple, np.ndarray)):
            return ",".join(sorted(str(x) for x in v))
        if v is None or v != v:
            return ""
        if column in self._NAMES:
            return name_key(str(v), commune).full
        return " ".join(str(v).lower().split())


@dataclass(frozen=True)
class _Edge:
    a: int
    b: int
    rule: MergeRule
    distance_m: float
    score: float


class _Clusters:
    """Union-find whose roots remember their files, split tags and confidentiality.

    Why sparse: most records never join anything; a set of files and a set
    of tags per record cost 400 bytes each (400 MB at a million records).
    Only the roots that joined or carry a tag have entries.

    >>> uf = _Clusters(["f1", "f2", "f1"], {}, set())
    >>> uf.join(0, 1, same_file_ok=False), uf.join(1, 2, same_file_ok=False)
    (True, False)
    """

    def __init__(self, datasets: list[str], tags: dict[int, set[str]], alone: set[int]) -> None:
        self.parent = list(range(len(datasets)))
        self.datasets = datasets
        self.files: dict[int, set[str]] = {}
        self.tags = tags
        self.alone = alone

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def _files(self, root: int) -> set[str]:
        return self.files.get(root) or {self.datasets[root]}

    def join(self, a: int, b: int, *, same_file_ok: bool, forced: bool = False) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        if not forced:
            if ra in self.alone or rb in self.alone:
                return False
            if self.tags.get(ra, _NO_TAGS) & self.tags.get(rb, _NO_TAGS):
                return False
            if not same_file_ok and self._files(ra) & self._files(rb):
                return False
        keep, gone = min(ra, rb), max(ra, rb)
        self.parent[gone] = keep
        self.files[keep] = self._files(keep) | self._files(gone)
        self.files.pop(gone, None)
        if keep in self.tags or gone in self.tags:
            self.tags[keep] = self.tags.get(keep, set()) | self.tags.pop(gone, set())
        if gone in self.alone:
            self.alone.add(keep)
        return True


_NO_TAGS: frozenset[str] = frozenset()


def _column(actors: pd.DataFrame, name: str, default: Any = "") -> pd.Series:
    if name in actors.columns:
        return actors[name].fillna(default) if default is not None else actors[name]
    return pd.Series([default] * len(actors), index=actors.index)


def _candidate_edges(actors: pd.DataFrame, files: np.ndarray, keys: _NameKeys) -> list[_Edge]:
    """Pairs within :data:`SIRET_M` that one of the rules accepts, strongest first."""
    lat = pd.to_numeric(_column(actors, "latitude", np.nan), errors="coerce").to_numpy(float)
    lon = pd.to_numeric(_column(actors, "longitude", np.nan), errors="coerce").to_numpy(float)
    located = np.isfinite(lat) & np.isfinite(lon)
    located &= _column(actors, "precision", "address").astype(str).to_numpy() == "address"
    rows = np.flatnonzero(located)
    if len(rows) < 2:
        return []
    xyz = to_unit_xyz(lat[rows], lon[rows])
    pairs = _near_pairs(xyz, files[rows])
    if len(pairs) == 0:
        return []
    ia, ib = rows[pairs[:, 0]], rows[pairs[:, 1]]
    metres = chord_to_km(np.linalg.norm(xyz[pairs[:, 0]] - xyz[pairs[:, 1]], axis=1)) * 1000
    siret = _column(actors, "siret").map(_siret_key).to_numpy()
    conf = _column(actors, "confidential", False).astype(bool).to_numpy()
    atype = _column(actors, "actor_type").astype(str).to_numpy()
    # Cheap tests on whole arrays first: a dense city yields millions of pairs.
    same_file = files[ia] == files[ib]
    same_siret = (siret[ia] != "") & (siret[ia] == siret[ib])
    keep = conf[ia] == conf[ib]  # a public record never disappears behind a confidential one
    keep &= ~same_file & ((metres <= WIDE_M) | same_siret)
    edges = _identical_edges(actors, files, rows, xyz, conf)
    for k in np.flatnonzero(keep).tolist():
        a, b, d = int(ia[k]), int(ib[k]), float(metres[k])
        if not types_compatible(atype[a], atype[b]):
            continue
        rule, score = _rule_for(d, bool(same_siret[k]), keys[a], keys[b])
        if rule is not None:
            edges.append(_Edge(a, b, rule, d, score))
    order = {MergeRule.IN_FILE_IDENTICAL: 0}
    edges.sort(key=lambda e: (order.get(e.rule, 1), e.distance_m, -e.score, e.a, e.b))
    return edges


def _identical_edges(
    actors: pd.DataFrame,
    files: np.ndarray,
    rows: np.ndarray,
    xyz: np.ndarray,
    conf: np.ndarray,
) -> list[_Edge]:
    """Rows of one file identical in every descriptive field, within :data:`IDENTICAL_M`.

    Grouped by (file, fingerprint) first, so a point where one file has hundreds
    of services is no obstacle: only identical rows are compared, each with its
    few nearest twins.
    """
    prints = _Fingerprints(actors)
    groups: dict[tuple[str, bytes, bool], list[int]] = {}
    bound = km_to_chord(IDENTICAL_M / 1000)
    for pos in np.flatnonzero(_has_twin_nearby(xyz, files[rows], bound)).tolist():
        row = int(rows[pos])
        groups.setdefault((str(files[row]), prints[row], bool(conf[row])), []).append(pos)
    edges: list[_Edge] = []
    for members in groups.values():
        if len(members) < 2:
            continue
        pts = xyz[members]
        k = min(4, len(members))
        dist, idx = cKDTree(pts).query(pts, k=k, distance_upper_bound=bound)
        for i, (ds, js) in enumerate(zip(dist.reshape(-1, k), idx.reshape(-1, k), strict=True)):
            for d, j in zip(ds.tolist(), js.tolist(), strict=True):
                if j != i and j < len(members) and np.isfinite(d):
                    a, b = int(rows[members[i]]), int(rows[members[j]])
                    metres = float(chord_to_km(d)) * 1000
                    edges.append(
                        _Edge(min(a, b), max(a, b), MergeRule.IN_FILE_IDENTICAL, metres, 100.0)
                    )
    return edges


def _has_twin_nearby(xyz: np.ndarray, files: np.ndarray, bound: float) -> np.ndarray:
    """Whether each point has another point of its own file within chord ``bound``.

    Only those rows can be identical twins: the others need no fingerprint
    (normalising every field of a million rows is the costly part).
    """
    out = np.zeros(len(xyz), dtype=bool)
    _, which = np.unique(files, return_inverse=True)
    for f in range(int(which.max()) + 1 if len(which) else 0):
        mine = np.flatnonzero(which == f)
        if len(mine) < 2:
            continue
        dist, _ = cKDTree(xyz[mine]).query(xyz[mine], k=2, distance_upper_bound=bound)
        out[mine] = np.isfinite(dist[:, 1])
    return out


#: Points asked of a k-d tree at once in :func:`_near_pairs`.
_QUERY_SLICE = 100_000


def _near_pairs(xyz: np.ndarray, files: np.ndarray) -> np.ndarray:
    """Candidate pairs ``(i, j)``, ``i < j``: each point's nearest neighbours per file.

    Why bounded: a place where thousands of records share one point (a
    head office, a test file) would give millions of pairs to ``query_pairs``
    and exhaust memory.  Each record is compared with its
    :data:`NEIGHBOURS` nearest records of every *other* file within
    :data:`SIRET_M`, and of its own file within :data:`IDENTICAL_M` (the only
    rule that merges rows of one file); a true duplicate is among them unless
    more than that many records of one file sit closer to it.
    """
    names, which = np.unique(files, return_inverse=True)
    members = [np.flatnonzero(which == f) for f in range(len(names))]
    trees = [cKDTree(xyz[m]) for m in members]
    found: list[np.ndarray] = []
    for f, mine in enumerate(members):
        for g, theirs in enumerate(members):
            radius = IDENTICAL_M if f == g else SIRET_M
            k = min(NEIGHBOURS + (f == g), len(theirs))
            # by slices: the (points x k) answers of a million points weigh 400 MB
            for start in range(0, len(mine), _QUERY_SLICE):
                part = mine[start : start + _QUERY_SLICE]
                dist, idx = trees[g].query(
                    xyz[part], k=k, distance_upper_bound=km_to_chord(radius / 1000)
                )
                dist, idx = dist.reshape(len(part), k), idx.reshape(len(part), k)
                hit = np.isfinite(dist)
                a = np.repeat(part, k).reshape(len(part), k)[hit]
                b = theirs[idx[hit]]
                keep = a != b
                found.append(np.column_stack([a[keep], b[keep]]))
                del dist, idx, hit
    if not found:
        return np.empty((0, 2), dtype=np.intp)
    both = np.sort(np.concatenate(found), axis=1)
    return np.unique(both, axis=0)


def _rule_for(
    metres: float, same_siret: bool, ka: list[NameKey], kb: list[NameKey]
) -> tuple[MergeRule | None, float]:
    """The rule two records of different files meet (if any), and the name score used."""
    score = max(_pair_score(x, y) for x in ka for y in kb)
    if metres <= NEAR_M and score >= NEAR_SCORE:
        return MergeRule.NEAR_SIMILAR_NAME, score
    if metres <= WIDE_M and score >= WIDE_SCORE:
        strict = max(
            (_pair_score(x, y, strict=True) for x in ka for y in kb if x.core and y.core),
            default=0.0,
        )
        if strict >= WIDE_SCORE:
            return MergeRule.SAME_NAME_NEARBY, strict
    if same_siret and score >= SIRET_SCORE:
        return MergeRule.SAME_SIRET_NEAR, score
    return None, score


class _NameKeys:
    """Each record's name, then its structure's name when it differs (a service).

    Computed on first use: only the records near a record of another file are
    ever compared by name, a small part of a national store.
    """

    def __init__(self, actors: pd.DataFrame) -> None:
        # read cell by cell (see _Fingerprints): only a few rows are ever asked for
        self.noms = _column(actors, "nom")
        self.snoms = _column(actors, "structure_nom")
        self.communes = _column(actors, "commune")
        self.done: dict[int, list[NameKey]] = {}

    def __getitem__(self, row: int) -> list[NameKey]:
        keys = self.done.get(row)
        if keys is None:
            nom, snom = str(self.noms.iat[row]), str(self.snoms.iat[row])
            commune = str(self.communes.iat[row])
            keys = [name_key(nom, commune)]
            if snom and snom != nom:
                keys.append(name_key(snom, commune))
            self.done[row] = keys
        return keys


def reference_cluster_actors(
    actors: pd.DataFrame,
    *,
    datasets: Mapping[str, str] | None = None,
    overrides: Overrides | None = None,
) -> pd.DataFrame:
    """One row per actor, with the columns of :data:`CLUSTER_COLUMNS`.

    Parameters
    ----------
    actors : DataFrame
        Records (``id``, ``source``, ``nom``, ``latitude``, ``longitude``...).
    datasets : mapping, keyword-only
        The file (dataset) each id was imported from; records missing from it
        count as coming from their ``source``.  Rows of one dataset are never
        matched as "another source".
    overrides : Overrides, keyword-only
        A person's joins and splits (``duplicates.toml``).

    Returns
    -------
    DataFrame
        ``cluster_id`` (the primary's id), ``primary``, ``duplicate`` (every
        member but the primary), ``sources`` (of the whole cluster), and for
        matched records the ``rule``, ``linked_to``, ``distance_m`` and
        ``name_score`` of their match.
    """
    n = len(actors)
    if n == 0:
        return pd.DataFrame({c: [] for c in CLUSTER_COLUMNS})
    actors = actors.reset_index(drop=True)
    ids = actors["id"].astype(str).tolist()
    src = _column(actors, "source").astype(str).tolist()
    datasets = datasets or {}
    files = np.array([datasets.get(i) or f"source:{s}" for i, s in zip(ids, src, strict=True)])
    overrides = overrides or Overrides()
    pos = {rid: k for k, rid in enumerate(ids)}
    tags: dict[int, set[str]] = {}
    alone: set[int] = set()
    for g, group in enumerate(overrides.splits):
        members = [pos[i] for i in group.ids if i in pos]
        for m in members:
            if len(group.ids) == 1:
                alone.add(m)
            tags.setdefault(m, set()).add(f"split:{g}")
    uf = _Clusters(files.tolist(), tags, alone)
    conf = _column(actors, "confidential", False).astype(bool).to_numpy()
    accepted: list[_Edge] = []
    for group in overrides.joins:
        members = [pos[i] for i in group.ids if i in pos]
        for m in members[1:]:
            if conf[m] == conf[members[0]] and uf.join(
                members[0], m, same_file_ok=True, forced=True
            ):
                accepted.append(_Edge(members[0], m, MergeRule.OVERRIDE_JOIN, np.nan, np.nan))
    keys = _NameKeys(actors)
    for e in _candidate_edges(actors, files, keys):
        if uf.join(e.a, e.b, same_file_ok=e.rule is MergeRule.IN_FILE_IDENTICAL):
            accepted.append(e)
    return _assemble(actors, ids, src, uf, accepted)


def _assemble(
    actors: pd.DataFrame, ids: list[str], src: list[str], uf: _Clusters, edges: list[_Edge]
) -> pd.DataFrame:
    n = len(ids)
    roots = np.array([uf.find(i) for i in range(n)])
    precise = _column(actors, "precision", "address").astype(str).to_numpy() == "address"
    them = _column(actors, "thematiques", None)
    richness = np.array([len(t) if isinstance(t, (list, tuple, np.ndarray)) else 0 for t in them])
    order = np.lexsort((np.array(ids), -richness, -precise.astype(int), roots))
    cluster_of = [""] * n
    primary = np.zeros(n, dtype=bool)
    sources: list[list[str]] = [[]] * n
    shared: dict[tuple[str, ...], list[str]] = {}
    sorted_roots = roots[order]
    starts = np.flatnonzero(np.r_[True, sorted_roots[1:] != sorted_roots[:-1]])
    for members in np.split(order, starts[1:]):
        head = int(members[0])
        primary[head] = True
        # one list per distinct set of sources, shared by its clusters' members
        found = tuple(sorted({src[m] for m in members}))
        cluster_sources = shared.setdefault(found, list(found))
        for m in members:
            cluster_of[m] = ids[head]
            sources[m] = cluster_sources
    rule = [""] * n
    linked = [""] * n
    dist = np.full(n, np.nan)
    score = np.full(n, np.nan)
    for e in edges:
        for me, other in ((e.a, e.b), (e.b, e.a)):
            if not rule[me]:
                rule[me], linked[me] = str(e.rule), ids[other]
                dist[me], score[me] = round(e.distance_m, 1), round(e.score, 1)
    return pd.DataFrame(
        {
            "id": ids,
            "cluster_id": cluster_of,
            "primary": primary,
            "duplicate": ~primary,
            "sources": sources,
            "rule": rule,
            "linked_to": linked,
            "distance_m": dist,
            "name_score": score,
        }
    )
