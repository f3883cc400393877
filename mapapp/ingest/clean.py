"""Clean one chunk of staging rows into actor records, or quarantine them with a reason.

Why one module for every format: the repairs and the report must be the
same whatever the input.  :func:`clean_chunk` runs named stages, one rule
each, in this order (each is a plain function, tested alone in
``tests/test_clean_stages.py``):

* :func:`stage_ids` and :func:`stage_names`: the record id
  (``source:source_id``) and name, or a quarantine reason;
* :func:`stage_lists`: list fields, v0 profils as v1 publics;
* :func:`stage_types`: the actor type from an explicit type or the source's
  codes, and the codes no type knows;
* :func:`stage_obstacles`: the type's defining obstacles, united with the
  thématiques' (and the type's other defaults without thématiques);
* :func:`stage_confidential`: :func:`mapapp.safety.confidentiality`, the one
  rule, with its reasons for the report;
* :func:`stage_hours`: opening hours checked, invalid ones kept readable in
  the description;
* the location, in six steps on a :class:`Placement`:

  1. :func:`stage_declared_commune`: the INSEE code given (checked), else the
     one resolved from postcode and commune name; :func:`stage_postcode_only`:
     a commune from the postcode alone, the row naming another place, is a
     listed repair, or dropped when the point or address is clearly elsewhere;
  2. :func:`stage_repairs`: the point as given, validated against France and
     the declared commune; a known repair (swapped, lost sign, Lambert-93 as
     degrees) accepted only when the repaired point falls in the declared
     commune; every repair is flagged; :func:`stage_repairs_from_point`:
     without a declared commune, the same repairs for a point abroad, accepted
     in a commune agreeing with the row's postcode or name;
  3. :func:`stage_point_or_commune`: a point outside its declared commune
     whose postcode agrees with where it falls keeps its point and takes that
     commune's code (the code was wrong); otherwise the point is rejected;
     city-wide Paris/Lyon/Marseille codes become the arrondissement;
  4. :func:`stage_geocode`: without a usable point, the *public* address
     geocoded (BAN); never a confidential record's;
  5. :func:`stage_commune_point`: else the commune's representative point,
     with precision ``commune``;
  6. :func:`stage_location_reasons`: nothing to place it anywhere: quarantine
     (a point in no French commune: *outside France*).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from mapapp.geo.geocode import AddressGeocoder
from mapapp.hours import check_hours
from mapapp.ingest.coords import parse_coordinates, repair_candidates
from mapapp.ingest.locate import (
    POSTCODE_NAME_DIFFERS,
    Locator,
    normalize_insee,
    normalize_postcode,
)
from mapapp.ingest.reasons import Quarantine, QuarantineReason
from mapapp.ingest.vocab import known_thematique, publics_v1, resolve_type, unknown_codes
from mapapp.safety import Finding, confidentiality
from mapapp.schema import COLUMNS, in_france
from mapapp.sources._base import RawChunk
from mapapp.sources._io import parse_list
from mapapp.taxonomy import ActorType, record_obstacles

__all__ = [
    "CleanedChunk",
    "Placement",
    "clean_chunk",
    "stage_commune_point",
    "stage_confidential",
    "stage_declared_commune",
    "stage_geocode",
    "stage_hours",
    "stage_ids",
    "stage_lists",
    "stage_location_reasons",
    "stage_names",
    "stage_obstacles",
    "stage_point_or_commune",
    "stage_repairs",
    "stage_types",
]

_TEXT = [c for c, (kind, _) in COLUMNS.items() if kind == "str"]
_LISTS = [c for c, (kind, _) in COLUMNS.items() if kind == "list"]

#: A reason per row, ``None`` for a row that passes.
Reasons = list[Quarantine | None]


@dataclass
class CleanedChunk:
    """Result of :func:`clean_chunk`.

    Attributes
    ----------
    actors : DataFrame
        Clean rows in :data:`mapapp.schema.COLUMNS` (quarantined rows removed).
    info : DataFrame
        One row per clean actor: ``origin``, ``repairs`` (list of str),
        ``insee_how``, ``unknown_thematiques``, ``unknown_codes``,
        ``invalid_hours``, ``hours_warnings``, ``confidential_reasons``
        (list of dict, see :meth:`mapapp.safety.Finding.as_dict`).
    quarantined : list of dict
        ``origin``, ``reason`` (English text), ``reason_fr``, ``reason_code``,
        ``reason_kind``, ``original``, ``staging`` for each rejected row
        (rows an adapter could not read carry only ``reason``).
    """

    actors: pd.DataFrame
    info: pd.DataFrame
    quarantined: list[dict[str, Any]] = field(default_factory=list)


# --- small helpers ----------------------------------------------------------------


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).strip().lower()).strip("-")


def _text(frame: pd.DataFrame, col: str) -> pd.Series:
    """A staging column as stripped strings ('' for missing), whatever it held."""
    if col not in frame:
        return pd.Series([""] * len(frame), index=frame.index, dtype=object)
    cells = frame[col].to_numpy(dtype=object).tolist()
    try:  # the usual case, only strings: str.strip mapped at C speed (5x pandas' strip)
        stripped = list(map(str.strip, cells))
    except TypeError:  # None, NaN, numbers: the general way
        pass
    else:
        return pd.Series(stripped, index=frame.index, dtype=object)
    s = frame[col].astype(object)
    missing = s.isna().to_numpy()
    out = s.astype(str).str.strip().astype(object)  # column-wise, not one call per cell
    if missing.any():
        out[missing] = ""
    return out


def _lists(frame: pd.DataFrame, col: str) -> list[list[str]]:
    """A list column parsed, each distinct cell once (a column holds few distinct lists)."""
    if col not in frame:
        return [[]] * len(frame)  # one empty list shared: no stage changes a list in place
    cells = frame[col].to_numpy(dtype=object)
    try:
        codes, uniques = pd.factorize(cells, use_na_sentinel=False)
    except TypeError:  # unhashable cells (lists read from JSON)
        return _list_cells(cells)
    parsed = [parse_list(v) for v in uniques]
    return [parsed[k] for k in codes.tolist()]  # shared: no stage changes a list in place


def _list_cells(cells: np.ndarray) -> list[list[str]]:
    """Cells that are lists (or None) parsed, each distinct list once when all items are strings.

    Only lists of plain strings are compared as tuples (``1`` and ``True``
    are equal keys but not equal texts); anything else is parsed cell by cell.

    >>> _list_cells(np.array([["a", " b "], None, ["a", " b "]], dtype=object))
    [['a', 'b'], [], ['a', 'b']]
    >>> _list_cells(np.array([[1], [True]], dtype=object))
    [['1'], ['True']]
    """
    lists = [v for v in cells if v is not None]
    if set(map(type, lists)) <= {list}:
        try:
            items = set().union(*lists)
        except TypeError:  # an unhashable item
            items = {None}
        if all(type(x) is str for x in items):
            done: dict[tuple[str, ...] | None, list[str]] = {}
            out = []
            for v in cells:
                key = None if v is None else tuple(v)
                got = done.get(key)
                if got is None:
                    got = done[key] = parse_list(v)
                out.append(got)
            return out
    return [parse_list(v) for v in cells]


def _each_distinct(column: pd.Series, fn: Callable[[Any], Any]) -> pd.Series:
    """``column.map(fn)``, calling ``fn`` once per distinct value (columns repeat a lot).

    >>> _each_distinct(pd.Series(["a", "b", "a"]), str.upper).tolist()
    ['A', 'B', 'A']
    """
    codes, uniques = pd.factorize(column.to_numpy(dtype=object), use_na_sentinel=False)
    done = np.empty(len(uniques), dtype=object)
    for k, v in enumerate(uniques):  # one by one: a result may itself be a sequence
        done[k] = fn(v)
    # taken by position (a dict lookup per row, as Series.map does, costs twice as much)
    return pd.Series(done[codes], index=column.index, dtype=object)


def _lists_each(lists: list[list[str]], fn: Callable[[list[str]], list[str]]) -> list[list[str]]:
    """``[fn(v) for v in lists]``, calling ``fn`` once per distinct list.

    Rows with equal lists share one list object (a million rows hold a few
    hundred distinct lists): no stage changes a row's list in place.

    >>> _lists_each([["a"], ["a"], []], lambda v: [x.upper() for x in v])
    [['A'], ['A'], []]
    """
    done: dict[tuple[str, ...], list[str]] = {}
    out = []
    for v in lists:
        key = tuple(v)
        got = done.get(key)
        if got is None:
            got = done[key] = fn(v)
        out.append(got)
    return out


#: The code normalisers, remembered across chunks: a file names each commune
#: and postcode many times (``typed``: ``1`` and ``1.0`` are different cells).
_insee = lru_cache(maxsize=1 << 17, typed=True)(normalize_insee)
_postcode = lru_cache(maxsize=1 << 17, typed=True)(normalize_postcode)


def _one_space(text: str) -> str:
    """Runs of white space as one space, none at the ends.

    >>> _one_space(" 01\u00a023  45\t67 ")
    '01 23 45 67'
    """
    return re.sub(r"\s+", " ", text).strip()


def _idx(mask: Any) -> list[int]:
    """Positions where ``mask`` is true, as Python ints."""
    return [int(i) for i in np.flatnonzero(mask)]


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, float):
        return value == value
    if isinstance(value, (list, tuple, np.ndarray)):
        return len(value) > 0
    return str(value).strip() != ""


def _first(reasons: Reasons, mask: Any, reason: Quarantine) -> None:
    """Give ``reason`` to the rows of ``mask`` that have none yet (the first reason wins)."""
    for i in _idx(mask):
        reasons[i] = reasons[i] or reason


# --- identity, lists, vocabularies ------------------------------------------------


def stage_ids(
    source: pd.Series, source_id: pd.Series, default_source: str, reasons: Reasons
) -> tuple[pd.Series, pd.Series]:
    """``(source slug, id)``: ``id`` is ``source:source_id``; no ``source_id`` quarantines.

    Examples
    --------
    >>> r: Reasons = [None, None]
    >>> src, ids = stage_ids(pd.Series(["Mon Fichier", ""]), pd.Series(["7", ""]), "import", r)
    >>> ids.tolist(), r[1].reason.value
    (['mon-fichier:7', 'import:'], 'no-id')
    """
    slug = _each_distinct(source, lambda s: _slug(s) or default_source)
    _first(reasons, (source_id == "").to_numpy(), Quarantine(QuarantineReason.NO_ID))
    return slug, slug + ":" + source_id


def stage_names(nom: pd.Series, structure_nom: pd.Series, reasons: Reasons) -> pd.Series:
    """A service's name, else its structure's; no name at all quarantines.

    Examples
    --------
    >>> r: Reasons = [None, None]
    >>> stage_names(pd.Series(["", ""]), pd.Series(["CCAS", ""]), r).tolist(), r[1].reason.value
    (['CCAS', ''], 'no-name')
    """
    name = nom.where(nom != "", structure_nom)
    _first(reasons, (name == "").to_numpy(), Quarantine(QuarantineReason.NO_NAME))
    return name


def stage_lists(rows: pd.DataFrame) -> dict[str, list[list[str]]]:
    """Every list column parsed; v0 profils as v1 publics; in person unless said otherwise.

    Examples
    --------
    >>> out = stage_lists(pd.DataFrame({"publics": ["{jeunes-16-26}"], "thematiques": [" Mobilite "]}))
    >>> out["publics"], out["thematiques"], out["modes_accueil"]
    ([['jeunes']], [['mobilite']], [['en-presentiel']])
    """
    lists = {c: _lists(rows, c) for c in _LISTS}
    lists["publics"] = _lists_each(lists["publics"], publics_v1)
    # the store's default (schema.actors_frame): in person unless said otherwise
    in_person = ["en-presentiel"]  # one list shared by the rows that say nothing
    lists["modes_accueil"] = [v or in_person for v in lists["modes_accueil"]]
    lists["thematiques"] = _lists_each(
        lists["thematiques"], lambda v: [t.strip().lower() for t in v]
    )
    return lists


def stage_types(
    given_type: list[str], source_type: list[str], codes: list[list[str]], sources: list[str]
) -> tuple[list[str], list[str], list[list[str]]]:
    """``(actor type, source_type, unknown codes)`` per row.

    The source's own ``source_type`` (a typology column of a mapping) counts
    as a code like the others; ``source_type`` keeps every code, split
    (``"France Services;CNFS"`` is two codes).  Unknown codes are those that
    name no type, the source's own name aside.

    Examples
    --------
    >>> stage_types([""], ["France Services;CNFS"], [["fredo"]], ["fredo"])
    (['france-services'], ['France Services,CNFS,fredo'], [[]])
    >>> stage_types([""], ["Hébergement"], [[]], ["x"])[0], stage_types([""], [""], [["ASSO"]], ["x"])[2]
    (['hebergement'], [['ASSO']])
    """
    types: list[str] = []
    kept: list[str] = []
    unknown: list[list[str]] = []
    seen: dict[tuple[str, str, tuple[str, ...], str], tuple[str, str, list[str]]] = {}
    for explicit, stype, row_codes, source in zip(
        given_type, source_type, codes, sources, strict=True
    ):
        key = (explicit, stype, tuple(row_codes), source)
        done = seen.get(key)  # a national file repeats a few hundred combinations
        if done is None:
            all_codes = [stype, *row_codes] if stype else list(row_codes)
            atype, joined = resolve_type(explicit, all_codes)
            done = seen[key] = (atype, joined, unknown_codes(all_codes, source))
        types.append(done[0])
        kept.append(done[1])
        unknown.append(done[2])  # shared, like the lists of _lists_each
    return types, kept, unknown


def stage_obstacles(
    actor_types: list[str], thematiques: list[list[str]], explicit: list[list[str]]
) -> tuple[list[list[str]], list[list[str]]]:
    """``(obstacles, unknown thématiques)`` per row (:func:`mapapp.taxonomy.record_obstacles`).

    Examples
    --------
    >>> stage_obstacles(["cidff"], [["acces-aux-droits-et-citoyennete--x", "zz"]], [[]])
    ([['droits', 'violences']], [['zz']])
    """
    shared: dict[tuple[str, ...], list[str]] = {}  # one list per distinct set (see _lists_each)
    # rows with equal lists share one list object (_lists_each): each (type, list, list) of
    # objects is worked out once; the lists live as long as this call, so ids stay theirs
    by_ids: dict[tuple[str, int, int], list[str]] = {}
    obstacles = []
    for t, them, given in zip(actor_types, thematiques, explicit, strict=True):
        key = (t, id(them), id(given))
        got = by_ids.get(key)
        if got is None:
            found = _obstacles(t, tuple(them), tuple(given))
            got = shared.get(found)
            if got is None:
                got = shared[found] = list(found)
            by_ids[key] = got
        obstacles.append(got)
    unknown = _lists_each(thematiques, lambda v: [t for t in v if not known_thematique(t)])
    return obstacles, unknown


@lru_cache(maxsize=65536)
def _obstacles(
    actor_type: str, thematiques: tuple[str, ...], given: tuple[str, ...]
) -> tuple[str, ...]:
    """Sorted obstacle slugs of one record (many records share their inputs: cached)."""
    return tuple(
        sorted(o.value for o in record_obstacles(ActorType(actor_type), thematiques, given))
    )


def stage_confidential(frame: pd.DataFrame) -> tuple[np.ndarray, list[list[Finding]]]:
    """``(mask, findings)``: the one rule (:func:`mapapp.safety.confidentiality`).

    ``frame`` needs ``confidential`` (the source's flag, raw), ``actor_type``,
    ``source_type``, ``nom`` and ``structure_nom``.  It runs before the
    location stages: a confidential address is never sent to a geocoder.

    Examples
    --------
    >>> mask, why = stage_confidential(pd.DataFrame({"nom": ["Mise à l'abri", "EPN"]}))
    >>> mask.tolist(), why[0][0].reason.value
    ([True, False], 'shelter-name')
    """
    findings = list(confidentiality(frame))
    return np.array([bool(f) for f in findings], dtype=bool), findings


def stage_hours(
    hours: list[str], description: list[str]
) -> tuple[list[str], list[str], list[str], list[bool]]:
    """``(hours, description, invalid hours, warnings)``: OpenStreetMap syntax or kept as text.

    Invalid hours are emptied and appended to the description, so nothing a
    source wrote is lost.

    Examples
    --------
    >>> stage_hours(["lundi 9h-12h", "Mo-Fr 09:00-12:00"], ["", "x"])[:3]
    (['', 'Mo-Fr 09:00-12:00'], ['Horaires : lundi 9h-12h', 'x'], ['lundi 9h-12h', ''])
    """
    out_hours: list[str] = []
    desc = list(description)
    invalid: list[str] = []
    warnings: list[bool] = []
    for i, text in enumerate(hours):
        check = check_hours(text)
        if check.valid:
            out_hours.append(check.value)
            invalid.append("")
            warnings.append(bool(check.warnings))
        else:
            out_hours.append("")
            invalid.append(check.value)
            warnings.append(False)
            desc[i] = (desc[i] + "\n" if desc[i] else "") + f"Horaires : {check.value}"
    return out_hours, desc, invalid, warnings


# --- location ---------------------------------------------------------------------


@dataclass
class Placement:
    """Where each row of a chunk stands while the location stages run.

    Attributes
    ----------
    lat, lon : ndarray of float
        The point (NaN where none).
    postcode, commune : list of str
        As given (postcode normalised).
    declared : ndarray of str
        The commune the row claims (INSEE code), '' where none.
    insee_how : ndarray of str
        How the code was found (``given``, ``postcode``, ``point in polygon``...).
    repairs : list of list of str
        Repairs and notes per row, for the report.
    usable : ndarray of bool
        Rows whose point is kept.
    point_code : ndarray of str
        The commune the point falls in (for a point strictly inside its
        declared commune, that commune: the search is skipped for it).
    inside, strictly : ndarray of bool
        Points in (or within ~500 m of) their declared commune; points
        strictly inside its polygon, as given (not repaired).
    code : ndarray of str
        The final INSEE code.
    precision : ndarray of str
        ``address``, ``commune`` or ''.
    raw_lat, raw_lon : ndarray of float
        The point as parsed, before any repair or rejection (for the reasons).
    elsewhere : list of str
        Why a commune found from the postcode alone was refused ('' where not).
    """

    lat: np.ndarray
    lon: np.ndarray
    postcode: list[str]
    commune: list[str]
    declared: np.ndarray
    insee_how: np.ndarray
    repairs: list[list[str]]
    usable: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    point_code: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    code: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    precision: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    inside: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    strictly: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    todo: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    raw_lat: np.ndarray = field(default_factory=lambda: np.zeros(0))
    raw_lon: np.ndarray = field(default_factory=lambda: np.zeros(0))
    elsewhere: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if len(self.raw_lat) != len(self.lat):
            self.raw_lat, self.raw_lon = self.lat.copy(), self.lon.copy()
        if len(self.elsewhere) != len(self.lat):
            self.elsewhere = [""] * len(self.lat)

    def __len__(self) -> int:
        return len(self.lat)


def stage_declared_commune(
    rows: pd.DataFrame,
    postcode: pd.Series,
    commune: pd.Series,
    code_insee: pd.Series,
    locator: Locator,
) -> Placement:
    """Step 1: the point as parsed, and the commune the row declares.

    The INSEE code given, when the reference geography knows it (an unknown
    code is noted and ignored); else the commune resolved from postcode and
    name.  Decimal commas and Lambert-93 coordinates are noted as repairs.
    """
    n = len(rows)
    lat, lon, notes = parse_coordinates(rows)
    repairs: list[list[str]] = [[] for _ in range(n)]
    for i, note in enumerate(notes):
        if note in ("decimal comma", "Lambert-93 converted"):
            repairs[i].append(note)
    pc_list, name_list = postcode.tolist(), commune.tolist()
    given = _each_distinct(code_insee, _insee).to_numpy(dtype=object)
    insee_how = np.where(given != "", "given", "").astype(object)
    known = locator.known(given)
    for i in _idx((given != "") & ~known):
        repairs[i].append(f"unknown INSEE code {given[i]} ignored")
    declared = np.where(known, given, "").astype(object)
    for i in _idx(declared == ""):
        if pc_list[i] or name_list[i]:
            resolved, how = locator.resolve_name(pc_list[i], name_list[i])
            declared[i] = resolved
            insee_how[i] = how if resolved else ""
    return Placement(lat, lon, pc_list, name_list, declared, insee_how, repairs)


def stage_postcode_only(p: Placement, addresses: list[str], locator: Locator) -> None:
    """Step 1b: a commune found from the postcode alone while the row names another place.

    Kept with a repair note (a lieu-dit or a former commune often stands
    where the commune's name should be), unless the point or the address
    puts the row clearly elsewhere
    (:meth:`~mapapp.ingest.locate.Locator.postcode_only_verdict`): then the
    commune is dropped, and the row is placed by its point or quarantined.
    """
    for i in _idx(p.insee_how == POSTCODE_NAME_DIFFERS):
        keep, note = locator.postcode_only_verdict(
            str(p.declared[i]), p.postcode[i], p.commune[i], addresses[i], p.lat[i], p.lon[i]
        )
        if keep:
            p.repairs[i].append(note)
        else:
            p.declared[i], p.insee_how[i], p.elsewhere[i] = "", "", note


def stage_repairs(p: Placement, locator: Locator) -> None:
    """Step 2: a known repair of a point outside its declared commune, accepted only inside it."""
    has_point = np.isfinite(p.lat) & np.isfinite(p.lon)
    ok_point = has_point & in_france(p.lat, p.lon)
    with_decl = p.declared != ""
    inside, strictly = locator.in_communes_strictly(p.declared, p.lat, p.lon)
    p.inside, p.strictly = inside & ok_point, strictly & ok_point
    p.todo = has_point & with_decl & ~p.inside
    if not p.todo.any():
        return
    # only the rows to repair are tried (a tenth of a file at most, not every row per repair)
    rows = np.flatnonzero(p.todo)
    for name, (clat, clon) in repair_candidates(p.lat[rows], p.lon[rows]):
        left = p.todo[rows]
        if not left.any():
            break
        cand = np.flatnonzero(left & np.isfinite(clat) & np.isfinite(clon))
        if not len(cand):
            continue
        hit = cand[locator.in_communes(p.declared[rows[cand]], clat[cand], clon[cand])]
        for j in hit.tolist():
            i = int(rows[j])
            p.lat[i], p.lon[i] = clat[j], clon[j]
            p.repairs[i].append(name)
        p.inside[rows[hit]] = True
        p.todo[rows[hit]] = False


def stage_repairs_from_point(p: Placement, locator: Locator) -> None:
    """Step 2b: without a declared commune, a point abroad tries the same repairs.

    A swapped or sign-lost point is accepted when the repaired point falls in
    a commune that agrees with the row's postcode or commune name
    (:meth:`~mapapp.ingest.locate.Locator.repair_from_point`); the commune
    then comes from the repaired point.
    """
    has_point = np.isfinite(p.lat) & np.isfinite(p.lon)
    lost = _idx(has_point & (p.declared == "") & ~in_france(p.lat, p.lon))
    if not lost:
        return
    rlat, rlon, _, names = locator.repair_from_point(
        p.lat[lost], p.lon[lost], [p.postcode[i] for i in lost], [p.commune[i] for i in lost]
    )
    for j, i in enumerate(lost):
        if names[j]:
            p.lat[i], p.lon[i] = rlat[j], rlon[j]
            p.repairs[i].append(names[j])


def stage_point_or_commune(p: Placement, locator: Locator) -> None:
    """Step 3: which points are kept, and the INSEE code of each kept point.

    A point outside its declared commune is kept when the postcode agrees
    with the commune it falls in (the declared code was wrong); otherwise it
    is rejected.  Paris, Lyon and Marseille city-wide codes become the
    arrondissement the point falls in.
    """
    n = len(p)
    has_point = np.isfinite(p.lat) & np.isfinite(p.lon)
    ok_point = has_point & in_france(p.lat, p.lon)
    with_decl = p.declared != ""
    p.point_code = np.full(n, "", dtype=object)
    usable = (ok_point & p.inside) | (ok_point & ~with_decl)
    # a point strictly inside its declared commune (not a city-wide code) lies in it:
    # the search is for the others (about a fifth of a national file)
    known = np.zeros(n, dtype=bool)
    if len(p.strictly) == n:
        known = p.strictly & ok_point & with_decl & ~locator.are_plm_cities(p.declared)
    p.point_code[known] = p.declared[known]
    search = ok_point & ~known
    if search.any():
        p.point_code[search] = locator.commune_of_points(p.lat[search], p.lon[search])
    for i in _idx(p.todo & ok_point):
        pc_codes = locator.postcode_communes(p.postcode[i]) if p.postcode[i] else []
        if p.point_code[i] and p.point_code[i] in pc_codes:
            p.repairs[i].append(
                f"declared commune {p.declared[i]} disagrees with the point and the postcode; "
                f"code taken from the point ({p.point_code[i]})"
            )
            p.declared[i] = ""
            usable[i] = True
        else:
            p.repairs[i].append(
                f"point ({p.lat[i]:.5f}, {p.lon[i]:.5f}) outside declared commune "
                f"{p.declared[i]}; point rejected"
            )
    for i in _idx(has_point & ~ok_point & ~with_decl):
        p.repairs[i].append(
            f"point ({p.lat[i]:.5f}, {p.lon[i]:.5f}) outside France and no commune to check a repair"
        )
    usable &= p.point_code != ""
    p.usable = usable
    p.precision = np.where(usable, "address", "").astype(object)
    p.code = np.where(usable & (p.declared != ""), p.declared, p.point_code).astype(object)
    for i in _idx(usable & (p.insee_how == "")):
        p.insee_how[i] = "point in polygon"
    city = usable & locator.are_plm_cities(p.code)
    for i in _idx(city & (p.point_code != "") & (p.point_code != p.code)):
        p.code[i] = p.point_code[i]
        p.repairs[i].append("city-wide INSEE code resolved to the arrondissement")
    p.lat = np.where(usable, p.lat, np.nan)
    p.lon = np.where(usable, p.lon, np.nan)


def stage_geocode(
    p: Placement,
    addresses: list[str],
    confidential: np.ndarray,
    geocoder: AddressGeocoder | None,
    locator: Locator,
) -> None:
    """Step 4: rows without a kept point and with a public address are geocoded.

    A confidential record's address is never sent to the geocoder (safety
    rule 1): it will be shown at its commune anyway.
    """
    if geocoder is None:
        return
    for i in _idx(~p.usable):
        if confidential[i] or not addresses[i]:
            continue
        res = geocoder.geocode(
            addresses[i], p.postcode[i], p.commune[i], expected_insee=str(p.declared[i])
        )
        if res is None or not in_france([res.lat], [res.lon])[0]:
            continue
        p.lat[i], p.lon[i] = res.lat, res.lon
        p.code[i] = p.declared[i] or res.citycode
        if locator.is_plm_city(str(p.code[i])):
            p.code[i] = res.citycode
        p.precision[i] = "address"
        p.repairs[i].append(f"geocoded (BAN score {res.score:.2f}, {res.kind})")
        p.usable[i] = True
        p.insee_how[i] = p.insee_how[i] or "geocoder"


def stage_commune_point(p: Placement, locator: Locator) -> None:
    """Step 5: rows still without a point but with a commune sit at its representative point.

    A Paris/Lyon/Marseille city-wide code takes the arrondissement its
    postcode designates when there is exactly one.
    """
    fallback = ~p.usable & (p.declared != "")
    if not fallback.any():
        return
    codes = p.declared.copy()
    for i in _idx(fallback):
        if locator.is_plm_city(str(codes[i])) and p.postcode[i]:
            arr = [c for c in locator.postcode_communes(p.postcode[i]) if c != codes[i]]
            if len(arr) == 1:
                codes[i] = arr[0]
    rlat, rlon = locator.representative(codes)
    p.lat[fallback], p.lon[fallback] = rlat[fallback], rlon[fallback]
    p.code[fallback] = codes[fallback]
    p.precision[fallback] = "commune"


def stage_location_reasons(p: Placement, locator: Locator, reasons: Reasons) -> None:
    """Step 6: rows with neither a point nor a commune are quarantined, saying why.

    A failed name resolution ("ambiguous commune", "postcode 97150 is in
    Saint-Martin") explains itself better than "no commune".
    """
    has_point = np.isfinite(p.raw_lat) & np.isfinite(p.raw_lon)
    for i in _idx(~p.usable & (p.declared == "")):
        if reasons[i]:
            continue
        if has_point[i]:
            # a point, and neither it nor a repair lies in a French commune
            why = f"; {p.elsewhere[i]}" if p.elsewhere[i] else ""
            reasons[i] = Quarantine(
                QuarantineReason.OUTSIDE_FRANCE,
                hint=f"point ({p.raw_lat[i]:.5f}, {p.raw_lon[i]:.5f}) lies in no French "
                f"commune{why}; fix the coordinates, or remove the row",
            )
        elif p.elsewhere[i]:
            reasons[i] = Quarantine(
                QuarantineReason.NO_LOCATION,
                "elsewhere than its postcode's commune",
                f"{p.elsewhere[i]}; fix code_postal and commune",
            )
        elif p.postcode[i] or p.commune[i]:
            _, how = locator.resolve_name(p.postcode[i], p.commune[i])
            reasons[i] = Quarantine(
                QuarantineReason.NO_LOCATION, how, "fix code_insee, code_postal or commune"
            )
        else:
            why = str(p.insee_how[i])
            detail = "no valid coordinates and no commune could be found"
            reasons[i] = Quarantine(
                QuarantineReason.NO_LOCATION, detail + (f" ({why})" if why else "")
            )


# --- the chunk --------------------------------------------------------------------


def clean_chunk(
    chunk: RawChunk,
    *,
    locator: Locator,
    geocoder: AddressGeocoder | None = None,
    default_source: str = "import",
) -> CleanedChunk:
    """Clean a chunk: run every stage (see the module docstring), then split off the quarantine."""
    rows = chunk.rows.reset_index(drop=True)
    n = len(rows)
    quarantined: list[dict[str, Any]] = [
        {"origin": o, "reason": reason, "original": orig, "staging": {}}
        for o, reason, orig in chunk.quarantined
    ]
    if n == 0:
        return CleanedChunk(pd.DataFrame(columns=list(COLUMNS)), pd.DataFrame(), quarantined)
    out: dict[str, Any] = {c: _text(rows, c) for c in _TEXT if c not in ("id", "actor_type")}
    reasons: Reasons = [None] * n

    out["source"], out["id"] = stage_ids(out["source"], out["source_id"], default_source, reasons)
    out["nom"] = stage_names(out["nom"], out["structure_nom"], reasons)
    out["telephone"] = _each_distinct(out["telephone"], _one_space)

    lists = stage_lists(rows)
    types, source_types, unknown_type_codes = stage_types(
        _text(rows, "actor_type").tolist(),
        out["source_type"].tolist(),
        _lists(rows, "source_codes"),
        out["source"].tolist(),
    )
    out["actor_type"] = pd.Series(types, dtype=object)
    out["source_type"] = pd.Series(source_types, dtype=object)
    obstacles, unknown_them = stage_obstacles(types, lists["thematiques"], lists.pop("obstacles"))

    conf, findings = stage_confidential(
        pd.DataFrame(
            {
                "confidential": rows.get("confidential", ""),
                "actor_type": out["actor_type"],
                "source_type": out["source_type"],
                "nom": out["nom"],
                "structure_nom": out["structure_nom"],
            }
        )
    )

    hours, desc, invalid_hours, hours_warn = stage_hours(
        out["horaires_accueil"].tolist(), out["description"].tolist()
    )
    out["horaires_accueil"] = pd.Series(hours, dtype=object)
    out["description"] = pd.Series(desc, dtype=object)

    postcode = _each_distinct(out["code_postal"], _postcode)
    place = stage_declared_commune(rows, postcode, out["commune"], out["code_insee"], locator)
    stage_postcode_only(place, out["adresse"].tolist(), locator)
    stage_repairs(place, locator)
    stage_repairs_from_point(place, locator)
    stage_point_or_commune(place, locator)
    stage_geocode(place, out["adresse"].tolist(), conf, geocoder, locator)
    stage_commune_point(place, locator)
    stage_location_reasons(place, locator, reasons)

    out["code_insee"] = pd.Series(place.code, dtype=object)
    out["code_postal"] = postcode.where(postcode != "", out["code_postal"])
    noms = locator.communes["nom"]
    out["commune"] = pd.Series(
        [
            c if c else (str(noms.get(k, "")) if k else "")
            for c, k in zip(out["commune"].tolist(), place.code.tolist(), strict=True)
        ],
        dtype=object,
    )
    out["precision"] = pd.Series(place.precision, dtype=object)
    out["latitude"] = place.lat
    out["longitude"] = place.lon
    out["confidential"] = conf
    out["capacite"] = (
        pd.to_numeric(rows["capacite"], errors="coerce") if "capacite" in rows else np.nan
    )
    out["demo"] = False
    # cluster columns are filled by the pipeline once every source is combined
    out["cluster_id"] = ""
    out["duplicate"] = False
    one: dict[str, list[str]] = {}
    out["sources"] = pd.Series(
        [one.setdefault(s, [s] if s else []) for s in out["source"]], dtype=object
    )
    for c, values in lists.items():
        out[c] = pd.Series(values, dtype=object)
    out["obstacles"] = pd.Series(obstacles, dtype=object)
    frame = pd.DataFrame({c: out[c] for c in COLUMNS})
    none: list[dict[str, str]] = []  # shared by the rows with no reason
    info = pd.DataFrame(
        {
            "origin": chunk.origins,
            "repairs": place.repairs,
            "insee_how": place.insee_how,
            "unknown_thematiques": unknown_them,
            "unknown_codes": unknown_type_codes,
            "invalid_hours": invalid_hours,
            "hours_warnings": hours_warn,
            "confidential_reasons": [
                [f.as_dict() for f in row] if row else none for row in findings
            ],
        }
    )
    bad = np.asarray([r is not None for r in reasons])
    bad_rows = _idx(bad)
    staging = rows.iloc[bad_rows].to_dict(orient="records")  # only the quarantined rows
    for i, staged in zip(bad_rows, staging, strict=True):
        reason = reasons[i]
        assert reason is not None
        quarantined.append(
            {
                "origin": chunk.origins[i],
                **reason.as_dict(),
                "original": chunk.originals[i],
                "staging": {k: v for k, v in staged.items() if _present(v)},
            }
        )
    keep = ~bad
    return CleanedChunk(
        frame[keep].reset_index(drop=True), info[keep].reset_index(drop=True), quarantined
    )
