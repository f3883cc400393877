"""Duplicates: the same PLACE described twice, clustered and never deleted.

Why clusters: the same mission locale appears in data·inclusion, in the
prescribers list and in a coordinator's spreadsheet.  Deleting all but one
would lose what each source knows; showing three pins misleads.  Records
describing the same place get one ``cluster_id``; search and the map show
the place once.

A duplicate is the same *place*, not the same legal entity: a city's
mairies de quartier and libraries share one SIRET, a France Services bus
stops in twelve communes under one id.  So a shared SIRET is evidence only
together with proximity and a similar name.  The rules, tried on every pair
of a record and its 16 nearest records of each other file within 300 m (k-d
trees on the sphere, never all pairs):

========================  ==========  ============  ================================
rule                      distance    name score    other conditions
========================  ==========  ============  ================================
``near-similar-name``     ≤ 50 m      ≥ 85          different files, compatible type
``same-name-nearby``      ≤ 200 m     ≥ 95 strict   different files, compatible type
``same-siret-near``       ≤ 300 m     ≥ 75          different files, same SIRET,
                                                    compatible type
``in-file-identical``     ≤ 5 m       identical     same file; name, structure,
                                                    address, type, thématiques,
                                                    publics, contacts, description
                                                    and hours all equal
========================  ==========  ============  ================================

Why these numbers: two producers pin one address differently (a BAN
house-number point, a building centroid, a hand-placed pin): on the real
samples most such pairs lie within 30 m, so 50 m with a similar name is
safe, while a different place with a similar name 50 m away is rare (two
agencies of one network are hundreds of metres apart at least).  An
identical distinctive name tolerates a coarser geocode (200 m, e.g. "Agence
France Travail Ravine des Cabris" 162 m from "France Travail - Ravine des
Cabris"); there the score is strict (token-sort: every distinctive word
must be there, "PIMMS Grenoble Sud" is not "PIMMS Grenoble").  A shared
SIRET (one establishment) tolerates 300 m and a looser name (abbreviations:
"COM DE COM DES RIVES DU HAUT ALLIER"), never more: the Aix-en-Provence
mairies sharing the city's SIRET are kilometres apart.

Rows of one file (one *dataset*) are never "another source": they are
distinct places, unless they are identical (every descriptive field equal,
within 5 m: ``in-file-identical``) or carry the same id twice (``same-id``, counted
while reading).  A cluster never holds two records of one file otherwise,
even through a chain of matches.  Records placed at their commune only
(``precision != "address"``) are never matched by distance.  A public record
is never clustered with a confidential one, so it cannot disappear behind a
shelter.  A person's ``duplicates.toml`` (:mod:`mapapp.ingest.overrides`)
joins or splits clusters on top of the rules.

Within a cluster the *primary* is the most precise, richest record (then the
smallest id, so the choice is stable); every other member is a ``duplicate``
(counted as *merged* in the import report) and names the ``rule``, the
record it was matched with (``linked_to``), the ``distance_m`` and the
``name_score`` of that match.

Examples
--------
>>> import pandas as pd
>>> actors = pd.DataFrame({
...     "id": ["a:1", "b:7", "c:3"], "source": ["a", "b", "c"],
...     "nom": ["PIMMS de Grenoble", "Pimms Médiation Grenoble", "Mission locale de Grenoble"],
...     "commune": ["Grenoble"] * 3, "actor_type": ["france-services", "autre", "mission-locale"],
...     "latitude": [45.16500, 45.16510, 45.16520], "longitude": [5.73000, 5.73010, 5.73020],
...     "precision": ["address"] * 3, "thematiques": [["a"], [], []]})
>>> c = cluster_actors(actors)
>>> c[["id", "cluster_id", "duplicate", "rule", "distance_m", "name_score"]].values.tolist()
... # doctest: +NORMALIZE_WHITESPACE
[['a:1', 'a:1', False, 'near-similar-name', 13.6, 100.0],
 ['b:7', 'a:1', True, 'near-similar-name', 13.6, 100.0],
 ['c:3', 'c:3', False, '', nan, nan]]
"""

from __future__ import annotations

import array
import functools
import hashlib
import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz
from scipy.spatial import cKDTree

from mapapp.geo.sphere import chord_to_km, km_to_chord, to_unit_xyz
from mapapp.geo.text import normalize_place, strip_accents
from mapapp.ingest.heap import release_memory
from mapapp.ingest.overrides import Overrides

__all__ = [
    "CLUSTER_COLUMNS",
    "DEDUPE_COLUMNS",
    "IDENTICAL_M",
    "LAZY_COLUMNS",
    "NEAR_M",
    "NEAR_SCORE",
    "SIRET_M",
    "SIRET_SCORE",
    "THEMATIQUES_COUNT",
    "WIDE_M",
    "WIDE_SCORE",
    "Cells",
    "MergeRule",
    "NameKey",
    "cluster_actors",
    "clusters_differ",
    "explain_rows",
    "list_lengths",
    "name_key",
    "name_score",
    "text_array",
    "types_compatible",
]

#: Thresholds (metres, rapidfuzz 0-100 scores); the module docstring says why.
NEAR_M, NEAR_SCORE = 50.0, 85.0
WIDE_M, WIDE_SCORE = 200.0, 95.0
SIRET_M, SIRET_SCORE = 300.0, 75.0
IDENTICAL_M = 5.0
#: how many nearest records of each file a record is compared with (see _near_pairs)
NEIGHBOURS = 16

CLUSTER_COLUMNS = (
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


class MergeRule(StrEnum):
    """Why two records were counted as one place (the report and ``--explain`` name it)."""

    SAME_ID = "same-id"
    IN_FILE_IDENTICAL = "in-file-identical"
    NEAR_SIMILAR_NAME = "near-similar-name"
    SAME_NAME_NEARBY = "same-name-nearby"
    SAME_SIRET_NEAR = "same-siret-near"
    OVERRIDE_JOIN = "override-join"

    def label(self, lang: str = "fr") -> str:
        """The reason in ``lang`` ("fr" or "en").

        >>> MergeRule.SAME_ID.label("en")
        'same id read again (first occurrence kept)'
        """
        fr, en = _RULE_LABELS[self]
        return en if lang == "en" else fr


_RULE_LABELS: dict[MergeRule, tuple[str, str]] = {
    MergeRule.SAME_ID: (
        "même identifiant lu deux fois (première occurrence gardée)",
        "same id read again (first occurrence kept)",
    ),
    MergeRule.IN_FILE_IDENTICAL: (
        "doublon dans un même fichier : lignes identiques au même point (nom, adresse, offre)",
        "duplicate within one file: identical rows at one point (name, address, offer)",
    ),
    MergeRule.NEAR_SIMILAR_NAME: (
        f"même lieu qu'une autre source : à {NEAR_M:.0f} m au plus, nom semblable "
        f"(score ≥ {NEAR_SCORE:.0f})",
        f"same place as another source: within {NEAR_M:.0f} m, similar name "
        f"(score ≥ {NEAR_SCORE:.0f})",
    ),
    MergeRule.SAME_NAME_NEARBY: (
        f"même lieu qu'une autre source : même nom (score ≥ {WIDE_SCORE:.0f}) "
        f"à {WIDE_M:.0f} m au plus",
        f"same place as another source: same name (score ≥ {WIDE_SCORE:.0f}) within {WIDE_M:.0f} m",
    ),
    MergeRule.SAME_SIRET_NEAR: (
        f"même lieu qu'une autre source : même SIRET, à {SIRET_M:.0f} m au plus, "
        f"nom proche (score ≥ {SIRET_SCORE:.0f})",
        f"same place as another source: same SIRET, within {SIRET_M:.0f} m, "
        f"close name (score ≥ {SIRET_SCORE:.0f})",
    ),
    MergeRule.OVERRIDE_JOIN: (
        "réunis par une personne (fichier duplicates.toml)",
        "joined by a person (duplicates.toml file)",
    ),
}

# -- names -------------------------------------------------------------------------

_STOP = frozenset(
    [
        "de",
        "du",
        "des",
        "la",
        "le",
        "les",
        "l",
        "d",
        "et",
        "a",
        "au",
        "aux",
        "en",
        "sur",
        "pour",
        "par",
        "un",
        "une",
        "the",
        "of",
    ]
)
# Phrases written several ways, rewritten to one form before comparing.
_SYNONYM_LIST: tuple[tuple[str, str], ...] = tuple(
    (a, b)
    for a, b in (
        (r"pole emploi", "france travail"),
        (r"centre communal d action sociale", "ccas"),
        (r"centre intercommunal d action sociale", "ccas"),
        (r"cias", "ccas"),
        (r"ctre com action sociale", "ccas"),
        (r"(?:maison|espace) (?:de )?france services?", "france services"),
        (r"maison de services au public|msap", "france services"),
        (r"hotel de ville", "mairie"),
        (r"bibliotheque", "mediatheque"),
        (r"com de com|communaute de communes", "cc"),
        (r"communaute d agglomeration|agglomeration|agglo", "ca"),
        (r"service penitentiaire d insertion et de probation", "spip"),
        (r"multi accueil|micro creche", "creche"),
        (r"centre socio culturel|centre socioculturel", "centre social"),
    )
)
# One pass for all of them: each alternative is a named group, its replacement by name.
_SYNONYMS = re.compile("|".join(rf"\b(?P<s{k}>{a})\b" for k, (a, _) in enumerate(_SYNONYM_LIST)))
_SYNONYM_OF = {f"s{k}": b for k, (_, b) in enumerate(_SYNONYM_LIST)}
# What kind of place a name says it is: two names of different kinds are two places
# ("Mission locale de Grenoble" is not "PIMMS de Grenoble", whatever else they share).
_KINDS: tuple[tuple[str, str], ...] = (
    ("france travail", "france-travail"),
    ("mission locale", "mission-locale"),
    ("cap emploi", "cap-emploi"),
    ("ccas", "ccas"),
    ("mairie", "mairie"),
    ("mediatheque", "mediatheque"),
    ("france services", "france-services"),
    ("pimms", "pimms"),
    ("cidff", "cidff"),
    ("caf", "caf"),
    ("cpam", "cpam"),
    ("creche", "creche"),
    ("centre social", "centre-social"),
    ("spip", "spip"),
)
# Words that describe rather than name (removed before scoring the distinctive part).
_GENERIC = frozenset(
    [
        "association",
        "asso",
        "agence",
        "antenne",
        "espace",
        "centre",
        "point",
        "site",
        "accueil",
        "service",
        "services",
        "public",
        "publics",
        "mediation",
        "numerique",
        "numeriques",
        "social",
        "sociale",
        "maison",
        "bureau",
        "permanence",
        "siege",
        "local",
    ]
)


@dataclass(frozen=True)
class NameKey:
    """A name made comparable: full normal form, kinds of place, distinctive part."""

    full: str
    kinds: frozenset[str]
    core: str
    commune: frozenset[str]
    words: frozenset[str] = frozenset()  # the core's words


def _normal(text: str) -> str:
    t = strip_accents(str(text or "")).lower()
    t = re.sub(r"[^a-z0-9]+", " ", t)
    t = " ".join({"st": "saint", "ste": "sainte"}.get(w, w) for w in t.split())
    t = _SYNONYMS.sub(lambda m: _SYNONYM_OF[str(m.lastgroup)], t)
    return " ".join(w for w in t.split() if w not in _STOP)


@functools.lru_cache(maxsize=8192)
def _commune_words(commune: str) -> frozenset[str]:
    return frozenset(normalize_place(commune).split())


@functools.lru_cache(maxsize=65536)
def name_key(name: str, commune: str = "") -> NameKey:
    """The comparable form of a place name (see :func:`name_score`).

    >>> k = name_key("Agence Pôle Emploi de St-Denis", "Saint-Denis")
    >>> k.full, sorted(k.kinds), k.core
    ('agence france travail saint denis', ['france-travail'], 'saint denis')
    """
    full = _normal(name)
    kinds = set()
    rest = f" {full} "
    for phrase, kind in _KINDS:
        if f" {phrase} " in rest:
            kinds.add(kind)
            rest = rest.replace(f" {phrase} ", " ")
    core = " ".join(w for w in rest.split() if w not in _GENERIC)
    return NameKey(
        full,
        frozenset(kinds),
        core,
        _commune_words(commune),
        frozenset(core.split()),
    )


def _pair_score(a: NameKey, b: NameKey, *, strict: bool = False) -> float:
    if a.kinds and b.kinds and not a.kinds & b.kinds:
        return 0.0  # a mission locale is not a PIMMS
    same_kind = bool(a.kinds & b.kinds)
    if not a.core or not b.core:
        # One name is only its kind ("France Travail"): the same kind is the evidence.
        if same_kind:
            return 100.0 if a.core == b.core else 90.0
        return float(fuzz.ratio(a.full, b.full))
    shared = a.words & b.words
    telling = {w for w in shared - a.commune - b.commune if len(w) >= 3 and not w.isdigit()}
    if same_kind or telling:
        # token-set forgives extra words ("Pimms Médiation Grenoble"); strict does not.
        scorer = fuzz.token_sort_ratio if strict else fuzz.token_set_ratio
        return float(scorer(a.core, b.core))
    # Only the commune or a number in common ("Grenoble" vs "Grenoble Solidarité",
    # "SPIP 62" vs "Cap Intérim 62 Arras"): no token-set bonus for a subset.
    return float(fuzz.ratio(a.core, b.core))


def name_score(a: str | NameKey, b: str | NameKey) -> float:
    """How alike two place names are, 0-100, on their distinctive part.

    Accents, case, punctuation, small words ("de", "la") and descriptive
    words ("agence", "espace", "association") are ignored; known phrasings
    are unified ("Pôle emploi" = "France Travail", "bibliothèque" =
    "médiathèque").  Names saying different kinds of place ("Mission locale",
    "PIMMS", "CCAS") score 0.  When the names share only the commune, the
    extra words count against them (no token-set bonus).

    >>> name_score("PIMMS de Grenoble", "Pimms Médiation Grenoble")
    100.0
    >>> name_score("Mission locale de Grenoble", "PIMMS de Grenoble")
    0.0
    >>> name_score("France Travail Paris 11ème Beaumarchais", "FRANCE TRAVAIL - PARIS 11EME BEAUMARCHAIS")
    100.0
    >>> name_score(name_key("Grenoble", "Grenoble"), name_key("Grenoble Solidarité", "Grenoble")) < 85
    True
    """
    ka = a if isinstance(a, NameKey) else name_key(a)
    kb = b if isinstance(b, NameKey) else name_key(b)
    return _pair_score(ka, kb)


# -- types ---------------------------------------------------------------------------

# Types that describe what is offered rather than who runs the place: a digital
# mediation "place" is whatever structure hosts it; "autre" says nothing.
_OPEN_TYPES = frozenset({"autre", "mediation-numerique", ""})
_TYPE_FAMILY = {"creche-avip": "creche"}


def types_compatible(a: str, b: str) -> bool:
    """Whether two actor types may describe one place.

    >>> types_compatible("france-travail", "mission-locale"), types_compatible("siae", "autre")
    (False, True)
    >>> types_compatible("creche", "creche-avip"), types_compatible("ccas", "mediation-numerique")
    (True, True)
    """
    if a in _OPEN_TYPES or b in _OPEN_TYPES:
        return True
    return _TYPE_FAMILY.get(a, a) == _TYPE_FAMILY.get(b, b)


# -- clustering ----------------------------------------------------------------------


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


#: Every column :func:`cluster_actors` reads (missing ones count as empty).
#: Why a constant: the merge hands it a narrow frame of just these columns, so
#: a million wide records are not copied for the dedupe; a rule reading a new
#: column must add it here.
DEDUPE_COLUMNS: tuple[str, ...] = (
    "id",
    "source",
    "latitude",
    "longitude",
    "precision",
    "siret",
    "confidential",
    "commune",
    "thematiques",
    *(c for c in _IDENTITY_FIELDS if c != "thematiques"),
)

#: Columns :func:`cluster_actors` reads only for a few rows (those near a record of
#: another file, or with a possible twin of their own file): a frame may leave them
#: out and hand over a ``cells`` reader instead (:data:`Cells`).
LAZY_COLUMNS: tuple[str, ...] = tuple(
    c for c in DEDUPE_COLUMNS if c in ("siret", "commune", *_IDENTITY_FIELDS) and c != "actor_type"
)
#: A column a frame may carry instead of ``thematiques``: how many each record has
#: (all the primary's choice needs of them).
THEMATIQUES_COUNT = "_thematiques_n"

#: ``cells(column, rows)``: the values of ``column`` at the frame's positions ``rows``
#: (for a column of :data:`LAZY_COLUMNS` the frame does not hold), one per row, in order.
Cells = Callable[[str, np.ndarray], list[Any]]


def _missing(value: object) -> bool:
    """Whether a cell is empty the way ``fillna`` sees it (None, NaN, NA)."""
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


class _Reader:
    """The cells of given rows: from the frame when it holds the column, else from ``cells``.

    Why: a national import keeps only narrow columns in memory; names,
    addresses and contacts are read back (from its Parquet parts) for the few
    rows the rules compare.

    >>> r = _Reader(pd.DataFrame({"nom": ["A", None]}), lambda c, rows: [c] * len(rows))
    >>> r.take("nom", np.array([1, 0])), r.take("siret", np.array([0]))
    (['', 'A'], ['siret'])
    >>> r.take("site_web", np.array([0]), None)  # not a column the rules read
    [None]
    """

    def __init__(self, actors: pd.DataFrame, cells: Cells | None) -> None:
        self.actors = actors
        self.cells = cells

    def take(self, name: str, rows: np.ndarray, default: Any = "") -> list[Any]:
        """The values at ``rows``; with a ``default``, empty cells become it."""
        if name in self.actors.columns:
            values = self.actors[name].iloc[rows].tolist()
        elif self.cells is not None and name in LAZY_COLUMNS:
            values = self.cells(name, rows)
        else:
            return [default] * len(rows)
        if default is None:
            return values
        return [default if _missing(v) else v for v in values]


class _Fingerprints:
    """What two rows of one file must share to be one record twice (ids aside).

    Names alone are not enough: one building holds several structures' services
    called "Activités et ateliers" or "Médiation numérique".  Names compare in
    their normal form ("Mairie de Sermoyer" = "Mairie Sermoyer"), other fields
    without case and extra spaces.  Computed only for the rows that need it,
    read column by column in one go (one cell at a time, an Arrow column costs
    tens of microseconds a cell).
    """

    _NAMES = ("nom", "structure_nom")

    def __init__(self, reader: _Reader) -> None:
        self.reader = reader

    def digests(self, rows: np.ndarray) -> list[bytes]:
        """The fingerprints of ``rows`` as 16-byte digests (the joined fields can be kilobytes)."""
        fields = [self._normed(c, self.reader.take(c, rows, None)) for c in _IDENTITY_FIELDS]
        return [
            hashlib.blake2b(
                "\x1f".join(parts).encode("utf-8", "surrogatepass"), digest_size=16
            ).digest()
            for parts in zip(*fields, strict=True)
        ]

    def _normed(self, column: str, values: list[Any]) -> list[str]:
        """Each value's normal form, each distinct text worked out once."""
        done: dict[str, str] = {}
        out = []
        for v in values:
            if type(v) is str:
                got = done.get(v)
                if got is None:
                    got = done[v] = self._norm(column, v)
                out.append(got)
            else:
                out.append(self._norm(column, v))
        return out

    def _norm(self, column: str, v: object) -> str:
        if isinstance(v, (list, tuple, np.ndarray)):
            return ",".join(sorted(str(x) for x in v))
        if v is None or v != v:
            return ""
        if column in self._NAMES:
            return _normal(str(v))  # name_key(...).full, whatever the commune
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

    def __init__(
        self,
        datasets: Sequence[Hashable] | np.ndarray,
        tags: dict[int, set[str]],
        alone: set[int],
    ) -> None:
        # 8 bytes a record (a list of Python ints costs 36); made in one piece: grown
        # from a range, the array is copied at every 6 % it grows, leaving holes in the heap
        self.parent = array.array("q", np.arange(len(datasets), dtype=np.int64).tobytes())
        self.datasets = datasets
        self.files: dict[int, set[Hashable]] = {}
        self.tags = tags
        self.alone = alone

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return root

    def roots(self) -> np.ndarray:
        """Every record's root, by pointer jumping on the whole parent array at once."""
        parent = np.frombuffer(self.parent, dtype=np.int64).copy()
        while True:
            up = parent[parent]
            if np.array_equal(up, parent):
                return parent
            parent = up

    def _files(self, root: int) -> set[Hashable]:
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
        column = actors[name]
        if default is None:
            return column
        if isinstance(column.dtype, pd.CategoricalDtype) and column.isna().any():
            column = column.astype(object)  # a category the fill value is not one of
        return column.fillna(default)
    return pd.Series([default] * len(actors), index=actors.index)


def _floats(actors: pd.DataFrame, name: str) -> np.ndarray:
    """A numeric column as floats (NaN where missing or not a number), copied only if needed."""
    if name not in actors:
        return np.full(len(actors), np.nan)
    column = actors[name]
    if column.dtype.kind == "f":
        return column.to_numpy(dtype=float)
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _precise(actors: pd.DataFrame) -> np.ndarray:
    """Which records are placed at their address (a missing precision counts as one).

    Compared on the categories when the column is one (a text per row of
    a million records would weigh 50 MB).

    >>> _precise(pd.DataFrame({"precision": pd.Categorical(["address", "commune", None])})).tolist()
    [True, False, True]
    """
    if "precision" not in actors:
        return np.ones(len(actors), dtype=bool)
    column = actors["precision"]
    if isinstance(column.dtype, pd.CategoricalDtype):
        hit = np.array([str(c) == "address" for c in column.cat.categories] + [True], dtype=bool)
        return hit[column.cat.codes.to_numpy()]  # code -1 (missing) takes the last entry
    return (_column(actors, "precision", "address").astype(str) == "address").to_numpy(dtype=bool)


def _candidate_edges(
    actors: pd.DataFrame, files: np.ndarray, keys: _NameKeys, reader: _Reader
) -> list[_Edge]:
    """Pairs within :data:`SIRET_M` that one of the rules accepts, strongest first."""
    lat, lon = _floats(actors, "latitude"), _floats(actors, "longitude")
    located = np.isfinite(lat) & np.isfinite(lon)
    located &= _precise(actors)
    rows = np.flatnonzero(located)
    if len(rows) < 2:
        return []
    xyz = to_unit_xyz(lat[rows], lon[rows])
    pairs = _near_pairs(xyz, files[rows])
    if len(pairs) == 0:
        return []
    ia, ib = rows[pairs[:, 0]], rows[pairs[:, 1]]
    metres = chord_to_km(np.linalg.norm(xyz[pairs[:, 0]] - xyz[pairs[:, 1]], axis=1)) * 1000
    near = np.union1d(ia, ib)
    siret = _siret_keys(reader.take("siret", near), near, len(actors))
    conf = _column(actors, "confidential", False).astype(bool).to_numpy()
    # Cheap tests on whole arrays first: a dense city yields millions of pairs.
    same_file = files[ia] == files[ib]
    same_siret = (siret[ia] != "") & (siret[ia] == siret[ib])
    keep = conf[ia] == conf[ib]  # a public record never disappears behind a confidential one
    keep &= ~same_file & ((metres <= WIDE_M) | same_siret)
    keep[keep] &= _types_compatible(_column(actors, "actor_type"), ia[keep], ib[keep])
    edges = _identical_edges(reader, files, rows, xyz, conf)
    ka, kb, kd = ia[keep].tolist(), ib[keep].tolist(), metres[keep].tolist()
    keys.read(np.union1d(ia[keep], ib[keep]))
    for a, b, d, same in zip(ka, kb, kd, same_siret[keep].tolist(), strict=True):
        rule, score = _rule_for(d, same, keys[a], keys[b])
        if rule is not None:
            edges.append(_Edge(a, b, rule, d, score))
    order = {MergeRule.IN_FILE_IDENTICAL: 0}
    edges.sort(key=lambda e: (order.get(e.rule, 1), e.distance_m, -e.score, e.a, e.b))
    return edges


def _siret_keys(values: list[Any], rows: np.ndarray, n: int) -> np.ndarray:
    """:func:`_siret_key` of ``values`` (those of ``rows``, each distinct one worked out once),
    '' for the other of the ``n`` rows.

    Only the rows of a candidate pair are ever compared by SIRET.
    """
    out = np.full(n, "", dtype=object)
    done: dict[object, str] = {}
    for r, v in zip(rows.tolist(), values, strict=True):
        key = done.get(v) if isinstance(v, str) else None
        if key is None:
            key = _siret_key(v)
            if isinstance(v, str):
                done[v] = key
        out[r] = key
    return out


def _types_compatible(column: pd.Series, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """:func:`types_compatible` of each pair, asked once per distinct pair of types."""
    # through the categories: no text per row (a national import has a million rows)
    codes, uniques = pd.factorize(column.astype("category").astype(str), use_na_sentinel=False)
    names = [str(u) for u in uniques]
    table = np.array([[types_compatible(x, y) for y in names] for x in names], dtype=bool)
    if not len(names):
        return np.ones(len(ia), dtype=bool)
    return table[codes[ia], codes[ib]]


def _identical_edges(
    reader: _Reader,
    files: np.ndarray,
    rows: np.ndarray,
    xyz: np.ndarray,
    conf: np.ndarray,
) -> list[_Edge]:
    """Rows of one file identical in every descriptive field, within :data:`IDENTICAL_M`.

    Grouped by (file, fingerprint) first, so a point where one file has hundreds
    of services is no obstacle: only identical rows are compared, each with its
    few (:data:`_TWINS` - 1) nearest twins.  Groups of at most :data:`_TWINS`
    rows (nearly all) are answered by one k-d tree in which each group sits
    apart on a fourth axis (every member finds all its twins within reach, as
    its group's own tree would say); larger groups get a tree each, so the
    nearest twins are the ones a tree of the group alone picks.
    """
    bound = km_to_chord(IDENTICAL_M / 1000)
    pos = np.flatnonzero(_has_twin_nearby(xyz, files[rows], bound))
    if len(pos) < 2:
        return []
    prints = _Fingerprints(reader).digests(rows[pos])
    group = (
        pd.DataFrame({"f": files[rows[pos]], "p": prints, "c": conf[rows[pos]]})
        .groupby(["f", "p", "c"], sort=False)
        .ngroup()
        .to_numpy()
    )
    size = np.bincount(group)[group]
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    small = np.flatnonzero((size >= 2) & (size <= _TWINS))
    if len(small):
        # chord distances are at most 2: groups 10 apart on the fourth axis never meet
        pts = np.column_stack([xyz[pos[small]], group[small] * 10.0])
        dist, idx = cKDTree(pts).query(pts, k=_TWINS, distance_upper_bound=bound)
        found.append((small, dist, idx))
    order = np.argsort(group, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(group[order]) != 0])
    for members in np.split(order, starts[1:]):
        if len(members) > _TWINS:
            dist, idx = cKDTree(xyz[pos[members]]).query(
                xyz[pos[members]], k=_TWINS, distance_upper_bound=bound
            )
            found.append((members, dist, idx))
    edges: list[_Edge] = []
    for members, dist, idx in found:
        me = np.repeat(np.arange(len(members)), _TWINS).reshape(dist.shape)
        hit = np.isfinite(dist) & (idx != me) & (idx < len(members))
        a = rows[pos[members[me[hit]]]]
        b = rows[pos[members[idx[hit]]]]
        metres = (chord_to_km(dist[hit]) * 1000).tolist()
        for x, y, d in zip(
            np.minimum(a, b).tolist(), np.maximum(a, b).tolist(), metres, strict=True
        ):
            edges.append(_Edge(x, y, MergeRule.IN_FILE_IDENTICAL, d, 100.0))
    return edges


#: How many nearest rows (itself included) of its group a possible twin is compared with.
_TWINS = 4


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
        tree = _tree(xyz, mine)
        for start in range(0, len(mine), _QUERY_SLICE):  # by slices, as in _near_pairs
            part = mine[start : start + _QUERY_SLICE]
            dist, _ = tree.query(xyz[part], k=2, distance_upper_bound=bound)
            out[part] = np.isfinite(dist[:, 1])
    return out


def _tree(xyz: np.ndarray, rows: np.ndarray) -> cKDTree:
    """A k-d tree of the points ``rows``; all of them (one file, the usual import) without a copy."""
    return cKDTree(xyz if len(rows) == len(xyz) else xyz[rows])


#: Points asked of a k-d tree at once in :func:`_near_pairs` (answers of 17 neighbours:
#: about 6 MB per 10,000 points, whatever the import's size).
_QUERY_SLICE = 20_000


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
    trees = [_tree(xyz, m) for m in members]
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
    both = np.sort(np.concatenate(found), axis=1).astype(np.int64)
    # (a, b) as one number a * n + b: a 1-D unique, same order as unique(axis=0), far cheaper
    n = np.int64(len(xyz))
    code = np.unique(both[:, 0] * n + both[:, 1])
    return np.column_stack([code // n, code % n]).astype(np.intp)


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

    Computed for the rows asked for (:meth:`read`): only the records near a
    record of another file are ever compared by name, a small part of a
    national store.
    """

    def __init__(self, reader: _Reader) -> None:
        self.reader = reader
        self.done: dict[int, list[NameKey]] = {}

    def read(self, rows: np.ndarray) -> None:
        """Compute the keys of ``rows``, reading the three columns in one go each."""
        rows = rows[[r not in self.done for r in rows.tolist()]] if self.done else rows
        cells = [self.reader.take(c, rows) for c in ("nom", "structure_nom", "commune")]
        for row, nom, snom, commune in zip(rows.tolist(), *cells, strict=True):
            nom, snom, commune = str(nom), str(snom), str(commune)
            keys = [name_key(nom, commune)]
            if snom and snom != nom:
                keys.append(name_key(snom, commune))
            self.done[row] = keys

    def __getitem__(self, row: int) -> list[NameKey]:
        if row not in self.done:
            self.read(np.array([row]))
        return self.done[row]


def cluster_actors(
    actors: pd.DataFrame,
    *,
    datasets: Mapping[str, str] | None = None,
    overrides: Overrides | None = None,
    files: np.ndarray | None = None,
    cells: Cells | None = None,
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
    files : array, keyword-only
        Instead of ``datasets``: each row's file, as any label (equal labels,
        same file).  Why: a mapping of a million ids costs a hundred megabytes;
        the import knows each row's file already.
    cells : Cells, keyword-only
        Reads the columns of :data:`LAZY_COLUMNS` the frame leaves out, for
        the rows the rules compare (the answer is the same as with the whole
        frame).  ``thematiques`` may then be given as its counts
        (:data:`THEMATIQUES_COUNT`).

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
    ids = text_array(actors["id"])
    src_codes, src_names = _codes(actors, "source")
    # each record's file as a small number (equal numbers, same file): a text array
    # of file names would weigh tens of bytes a row
    file_codes = pd.factorize(
        files if files is not None else _files_from(ids, src_codes, src_names, datasets or {})
    )[0]
    overrides = overrides or Overrides()
    # a person's joins and splits name a few ids: a table of every id (a hundred
    # megabytes at a million rows, alive until the end) only when there are some
    pos = (
        {rid: k for k, rid in enumerate(ids.to_pylist())}
        if overrides.splits or overrides.joins
        else {}
    )
    tags: dict[int, set[str]] = {}
    alone: set[int] = set()
    for g, group in enumerate(overrides.splits):
        members = [pos[i] for i in group.ids if i in pos]
        for m in members:
            if len(group.ids) == 1:
                alone.add(m)
            tags.setdefault(m, set()).add(f"split:{g}")
    uf = _Clusters(file_codes, tags, alone)
    conf = _column(actors, "confidential", False).astype(bool).to_numpy()
    accepted: list[_Edge] = []
    for group in overrides.joins:
        members = [pos[i] for i in group.ids if i in pos]
        for m in members[1:]:
            if conf[m] == conf[members[0]] and uf.join(
                members[0], m, same_file_ok=True, forced=True
            ):
                accepted.append(_Edge(members[0], m, MergeRule.OVERRIDE_JOIN, np.nan, np.nan))
    del pos
    reader = _Reader(actors, cells)
    for e in _candidate_edges(actors, file_codes, _NameKeys(reader), reader):
        if uf.join(e.a, e.b, same_file_ok=e.rule is MergeRule.IN_FILE_IDENTICAL):
            accepted.append(e)
    # the k-d trees and their answers are freed: their pages go back before the columns
    # are built (else the heap keeps them and the two add up)
    release_memory()
    return _assemble(actors, ids, (src_codes, src_names), uf, accepted)


def text_array(column: pd.Series) -> pa.Array:
    """A column of text (ids, datasets) as one Arrow string array (no Python string per row).

    Empty cells become "nan" or "None", as ``astype(str)`` writes them.

    >>> text_array(pd.Series(["a:1", 2])).to_pylist()
    ['a:1', '2']
    >>> text_array(pd.Series(pd.Categorical(["x", "y", "x"]))).to_pylist()
    ['x', 'y', 'x']
    """
    dtype = column.dtype
    got: pa.Array | pa.ChunkedArray | None = None
    if isinstance(dtype, pd.CategoricalDtype) and not column.isna().any():
        names = pa.array([str(c) for c in dtype.categories], type=pa.large_string())
        got = names.take(pa.array(column.cat.codes.to_numpy()))
    elif isinstance(dtype, pd.StringDtype) or (
        isinstance(dtype, pd.ArrowDtype) and pa.types.is_string(dtype.pyarrow_dtype)
    ):
        got = pa.array(column.array)
    if got is not None and got.null_count == 0:
        if isinstance(got, pa.ChunkedArray):
            # one chunk is taken as it is (combine_chunks would copy it)
            got = got.chunk(0) if got.num_chunks == 1 else got.combine_chunks()
        return got.cast(pa.large_string())
    return pa.array([str(v) for v in column.astype(str).tolist()], type=pa.large_string())


def _codes(actors: pd.DataFrame, name: str) -> tuple[np.ndarray, list[str]]:
    """A text column as small numbers and the name of each number (a missing cell is "").

    Through the column's categories: no text per row (2.2 million rows of
    sources as text weigh 130 MB).

    >>> codes, names = _codes(pd.DataFrame({"s": pd.Categorical(["b", None, "a", "b"])}), "s")
    >>> [names[c] for c in codes.tolist()]
    ['b', '', 'a', 'b']
    """
    if name not in actors:
        return np.zeros(len(actors), dtype=np.int64), [""]
    cat = actors[name].astype("category")
    names = [str(c) for c in cat.cat.categories] + [""]
    codes = cat.cat.codes.to_numpy().astype(np.int32)
    codes[codes < 0] = len(names) - 1
    return codes, names


def _files_from(
    ids: pa.Array, src_codes: np.ndarray, src_names: Any, datasets: Mapping[str, str]
) -> np.ndarray:
    """Each row's file: its dataset in ``datasets``, else ``source:<its source>``."""
    src = [str(x) for x in src_names]
    return np.array(
        [
            datasets.get(i) or f"source:{src[k]}"
            for i, k in zip(ids.to_pylist(), src_codes.tolist(), strict=True)
        ],
        dtype=object,
    )


def list_lengths(column: pd.Series) -> np.ndarray:
    """How many items each row's list holds (0 for a missing or non-list cell).

    Why not one Python list per row: an Arrow list column turned into objects
    costs about 200 bytes a row, at the moment the merge holds the most.

    >>> list_lengths(pd.Series([["a", "b"], None, [], "x"], dtype=object)).tolist()
    [2, 0, 0, 0]
    >>> import pyarrow as pa
    >>> arrow = pd.Series(pd.array([["a"], None, ["b", "c"]], dtype=pd.ArrowDtype(pa.list_(pa.string()))))
    >>> list_lengths(arrow).tolist()
    [1, 0, 2]
    """
    dtype = column.dtype
    if isinstance(dtype, pd.ArrowDtype) and pa.types.is_list(dtype.pyarrow_dtype):
        lengths = pc.list_value_length(pa.chunked_array(column.array._pa_array))
        return np.asarray(lengths.fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64)
    return np.fromiter(
        (len(t) if isinstance(t, (list, tuple, np.ndarray)) else 0 for t in column.tolist()),
        dtype=np.int64,
        count=len(column),
    )


def _assemble(
    actors: pd.DataFrame,
    ids: pa.Array,
    sources_of: tuple[np.ndarray, Any],
    uf: _Clusters,
    edges: list[_Edge],
) -> pd.DataFrame:
    """The cluster columns, built from arrays (a million records: no Python string per row).

    Only the records of clusters of several records are ranked (most
    precise, then richest, then smallest id): every other record is its own
    primary, so a national import with few duplicates sorts a few rows, not
    millions.
    """
    n = len(ids)
    roots = uf.roots()
    grouped = np.flatnonzero(np.bincount(roots, minlength=n)[roots] > 1)
    primary = np.ones(n, dtype=bool)
    order, starts, lengths = (np.zeros(0, dtype=np.int64),) * 3
    cluster_of = ids
    if len(grouped):
        order, starts, lengths = _ranked(actors, ids, roots[grouped], grouped)
        heads = order[starts]
        primary[grouped] = False
        primary[heads] = True
        # every member takes its cluster's primary's id
        head_of = np.arange(n, dtype=np.int64)
        head_of[order] = np.repeat(heads, lengths)
        cluster_of = ids.take(pa.array(head_of))
        del head_of
    del roots
    sources = _cluster_sources(sources_of, order, starts, lengths)
    # each matched record's first match; text columns built in Arrow (no string per row)
    rules = [str(r) for r in MergeRule]
    rule = np.full(n, -1, dtype=np.int8)
    linked = np.full(n, -1, dtype=np.int64)
    dist = np.full(n, np.nan)
    score = np.full(n, np.nan)
    for e in edges:
        for me, other in ((e.a, e.b), (e.b, e.a)):
            if rule[me] < 0:
                rule[me], linked[me] = rules.index(str(e.rule)), other
                dist[me], score[me] = round(e.distance_m, 1), round(e.score, 1)
    names = pa.array(["", *rules], type=pa.large_string())
    return pd.DataFrame(
        {
            "id": pd.array(ids, dtype="str"),
            "cluster_id": pd.array(cluster_of, dtype="str"),
            "primary": primary,
            "duplicate": ~primary,
            "sources": sources,
            "rule": pd.array(names.take(pa.array(rule + 1)), dtype="str"),
            "linked_to": pd.array(
                pc.fill_null(ids.take(pa.array(linked, mask=linked < 0)), ""), dtype="str"
            ),
            "distance_m": dist,
            "name_score": score,
        }
    )


def _ranked(
    actors: pd.DataFrame, ids: pa.Array, roots: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``rows`` (with their ``roots``) ordered cluster by cluster, primary first.

    Returns the order (row numbers), where each cluster starts in it and its length.
    """
    precise = _precise(actors)[rows]
    if "thematiques" not in actors and THEMATIQUES_COUNT in actors:
        richness = actors[THEMATIQUES_COUNT].to_numpy()[rows].astype(np.int64)
    else:
        richness = list_lengths(_column(actors, "thematiques", None))[rows]
    # ids ranked (stable; Arrow orders text by code point, as Python does)
    id_rank = np.empty(len(rows), dtype=np.int64)
    id_rank[pc.sort_indices(ids.take(pa.array(rows))).to_numpy()] = np.arange(len(rows))
    local = np.lexsort((id_rank, -richness, -precise.astype(int), roots))
    sorted_roots = roots[local]
    starts = np.flatnonzero(np.r_[True, sorted_roots[1:] != sorted_roots[:-1]])
    return rows[local], starts, np.diff(np.r_[starts, len(rows)])


def _cluster_sources(
    sources_of: tuple[np.ndarray, Any], order: np.ndarray, starts: np.ndarray, lengths: np.ndarray
) -> np.ndarray:
    """Each record's cluster's sources: one list per distinct set, shared by its members."""
    codes, names = sources_of
    names = [str(x) for x in names]
    shared: dict[tuple[str, ...], list[str]] = {}
    alone = np.empty(len(names), dtype=object)
    for k, name in enumerate(names):
        alone[k] = shared.setdefault((name,), [name])
    sources = alone[codes] if len(codes) else np.empty(0, dtype=object)
    for k in np.flatnonzero(lengths > 1).tolist():
        members = order[starts[k] : starts[k] + lengths[k]]
        found = tuple(sorted({names[c] for c in codes[members].tolist()}))
        cluster_sources = shared.setdefault(found, list(found))
        for m in members.tolist():
            sources[m] = cluster_sources
    return sources


def clusters_differ(old: pd.DataFrame, new: pd.DataFrame) -> bool:
    """Whether the stored cluster columns differ from freshly computed ones (by id).

    Why: a changed ``duplicates.toml`` changes clusters without changing any
    record, and the store must still be rewritten.
    """
    if "cluster_id" not in old.columns or len(old) != len(new):
        return True
    a = old.set_index(old["id"].astype(str))[["cluster_id", "duplicate"]]
    b = new.set_index(new["id"].astype(str))[["cluster_id", "duplicate"]]
    if not a.index.sort_values().equals(b.index.sort_values()):
        return True
    b = b.loc[a.index]
    return bool(
        (a["cluster_id"].astype(str) != b["cluster_id"].astype(str)).any()
        or (a["duplicate"].astype(bool) != b["duplicate"].astype(bool)).any()
    )


def explain_rows(clusters: pd.DataFrame, member: str) -> pd.DataFrame:
    """The members of the cluster holding ``member`` (a record or cluster id)."""
    hit = clusters[(clusters["id"] == member) | (clusters["cluster_id"] == member)]
    if hit.empty:
        return hit
    cid = hit["cluster_id"].iloc[0]
    return clusters[clusters["cluster_id"] == cid]
