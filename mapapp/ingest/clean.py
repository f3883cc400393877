"""Clean one chunk of staging rows into actor records, or quarantine them with a reason.

Why one function for every format: the repairs and the report must be the
same whatever the input.  For each row it builds the id, the lists, the
vocabularies, the opening hours, and above all the location:

1. the *declared commune*: the INSEE code given (checked), else the one
   resolved from postcode and commune name;
2. the point as given, validated against France and the declared commune;
3. a known repair (swapped, lost sign, Lambert-93 as degrees) accepted only
   when the repaired point falls in the declared commune; every repair is
   flagged;
4. a point outside its declared commune whose postcode agrees with where it
   falls keeps its point and takes that commune's code (the code was wrong);
   otherwise the point is rejected;
5. without a usable point: the public address geocoded (BAN), else the
   commune's representative point with precision ``commune``;
6. nothing to place it anywhere: quarantine.

The rules are exercised on tiny fixtures in ``tests/test_ingest.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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
from mapapp.ingest.vocab import known_thematique, publics_v1, resolve_type
from mapapp.schema import COLUMNS, in_france
from mapapp.sources._base import RawChunk
from mapapp.sources._io import parse_list
from mapapp.taxonomy import ActorType, Obstacle, obstacles_for_thematiques

__all__ = ["CleanedChunk", "clean_chunk"]

_TEXT = [c for c, (kind, _) in COLUMNS.items() if kind == "str"]
_LISTS = [c for c, (kind, _) in COLUMNS.items() if kind == "list"]
_OBSTACLES = {o.value for o in Obstacle}


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
        ``invalid_hours``, ``hours_warnings``.
    quarantined : list of dict
        ``origin``, ``reason``, ``original``, ``staging`` for each rejected row.
    """

    actors: pd.DataFrame
    info: pd.DataFrame
    quarantined: list[dict[str, Any]] = field(default_factory=list)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).strip().lower()).strip("-")


def _text(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame:
        return pd.Series([""] * len(frame), index=frame.index, dtype=object)
    s = frame[col]
    out = s.map(lambda v: "" if v is None or (isinstance(v, float) and v != v) else str(v).strip())
    return out.astype(object)


def _lists(frame: pd.DataFrame, col: str) -> list[list[str]]:
    if col not in frame:
        return [[] for _ in range(len(frame))]
    return [parse_list(v) for v in frame[col].to_numpy(dtype=object)]


def _phone(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def clean_chunk(
    chunk: RawChunk,
    *,
    locator: Locator,
    geocoder: AddressGeocoder | None = None,
    default_source: str = "import",
) -> CleanedChunk:
    """Clean a chunk; see the module docstring for the location rules."""
    rows = chunk.rows.reset_index(drop=True)
    n = len(rows)
    quarantined: list[dict[str, Any]] = [
        {"origin": o, "reason": reason, "original": orig, "staging": {}}
        for o, reason, orig in chunk.quarantined
    ]
    if n == 0:
        return CleanedChunk(pd.DataFrame(columns=list(COLUMNS)), pd.DataFrame(), quarantined)
    out: dict[str, Any] = {c: _text(rows, c) for c in _TEXT if c not in ("id", "actor_type")}
    reasons: list[str] = [""] * n
    repairs: list[list[str]] = [[] for _ in range(n)]

    # ids ------------------------------------------------------------------
    source = out["source"].map(lambda s: _slug(s) or default_source)
    out["source"] = source
    sid = out["source_id"]
    for i in _idx((sid == "").to_numpy()):
        reasons[i] = "no id (source_id) in the record"
    out["id"] = source + ":" + sid
    nom = out["nom"].where(out["nom"] != "", out["structure_nom"])
    out["nom"] = nom
    for i in _idx((nom == "").to_numpy()):
        reasons[i] = reasons[i] or "no name (nom) in the record"
    out["telephone"] = out["telephone"].map(_phone)

    # lists and vocabularies ---------------------------------------------------
    lists = {c: _lists(rows, c) for c in _LISTS}
    lists["publics"] = [publics_v1(v) for v in lists["publics"]]
    # the store's default (schema.actors_frame): in person unless said otherwise
    lists["modes_accueil"] = [v or ["en-presentiel"] for v in lists["modes_accueil"]]
    lists["thematiques"] = [[t.strip().lower() for t in v] for v in lists["thematiques"]]
    explicit = lists.pop("obstacles")
    codes = _lists(rows, "source_codes")
    given_type = _text(rows, "actor_type") if "actor_type" in rows else pd.Series([""] * n)
    given_source_type = out["source_type"].tolist()
    given_type_list = given_type.tolist()
    actor_types: list[str] = []
    source_types: list[str] = []
    obstacles: list[list[str]] = []
    unknown_them: list[list[str]] = []
    unknown_codes: list[list[str]] = []
    for i in range(n):
        row_codes = list(codes[i])
        if given_source_type[i] and given_source_type[i] not in row_codes:
            row_codes.insert(0, given_source_type[i])
        atype, stype = resolve_type(str(given_type_list[i]), row_codes)
        actor_types.append(atype)
        source_types.append(given_source_type[i] or stype)
        if atype == ActorType.AUTRE.value and row_codes:
            unknown_codes.append(row_codes[:1])
        else:
            unknown_codes.append([])
        them = lists["thematiques"][i]
        unknown_them.append([t for t in them if not known_thematique(t)])
        found = {o.value for o in obstacles_for_thematiques(them)}
        found |= {o for o in (x.strip().lower() for x in explicit[i]) if o in _OBSTACLES}
        if not them:
            found |= {o.value for o in ActorType(atype).default_obstacles}
        obstacles.append(sorted(found))
    out["actor_type"] = pd.Series(actor_types, dtype=object)
    out["source_type"] = pd.Series(source_types, dtype=object)

    # confidential ------------------------------------------------------------
    if "confidential" in rows:
        conf = rows["confidential"].map(
            lambda v: str(v).strip().lower() in ("1", "true", "oui", "yes", "vrai")
        )
    else:
        conf = pd.Series(False, index=rows.index)
    conf = conf.to_numpy(dtype=bool) | (np.asarray(actor_types) == ActorType.HEBERGEMENT.value)

    # opening hours -------------------------------------------------------------
    invalid_hours: list[str] = []
    hours_warn: list[bool] = []
    hours_out: list[str] = []
    desc = out["description"].tolist()
    for i, text in enumerate(out["horaires_accueil"].tolist()):
        check = check_hours(text)
        if check.valid:
            hours_out.append(check.value)
            invalid_hours.append("")
            hours_warn.append(bool(check.warnings))
        else:
            hours_out.append("")
            invalid_hours.append(check.value)
            hours_warn.append(False)
            desc[i] = (desc[i] + "\n" if desc[i] else "") + f"Horaires : {check.value}"
    out["horaires_accueil"] = pd.Series(hours_out, dtype=object)
    out["description"] = pd.Series(desc, dtype=object)

    # location --------------------------------------------------------------------
    lat, lon, notes = parse_coordinates(rows)
    raw_lat, raw_lon = lat.copy(), lon.copy()
    for i, note in enumerate(notes):
        if note in ("decimal comma", "Lambert-93 converted"):
            repairs[i].append(note)
    postcode = out["code_postal"].map(normalize_postcode)
    commune_name = out["commune"]
    pc_list, name_list = postcode.tolist(), commune_name.tolist()
    given = out["code_insee"].map(normalize_insee).to_numpy(dtype=object)
    insee_how = np.where(given != "", "given", "").astype(object)
    known = locator.known(given)
    bad_code = (given != "") & ~known
    for i in _idx(bad_code):
        repairs[i].append(f"unknown INSEE code {given[i]} ignored")
    declared = np.where(known, given, "").astype(object)
    for i in _idx(declared == ""):
        if pc_list[i] or name_list[i]:
            resolved, how = locator.resolve_name(pc_list[i], name_list[i])
            declared[i] = resolved
            insee_how[i] = how if resolved else ""
    # a commune from the postcode alone, the row naming another: a repair, or elsewhere
    elsewhere = [""] * n
    for i in _idx(insee_how == POSTCODE_NAME_DIFFERS):
        keep, note = locator.postcode_only_verdict(
            str(declared[i]), pc_list[i], name_list[i], out["adresse"].iat[i], lat[i], lon[i]
        )
        if keep:
            repairs[i].append(note)
        else:
            declared[i], insee_how[i], elsewhere[i] = "", "", note
    has_point = np.isfinite(lat) & np.isfinite(lon)
    ok_point = has_point & in_france(lat, lon)
    with_decl = declared != ""
    inside = locator.in_communes(declared, lat, lon) & ok_point
    # 3. repairs, accepted only inside the declared commune
    todo = has_point & with_decl & ~inside
    if todo.any():
        for name, (clat, clon) in repair_candidates(lat, lon):
            if not todo.any():
                break
            cand = todo & np.isfinite(clat) & np.isfinite(clon)
            if not cand.any():
                continue
            hit = cand & locator.in_communes(declared, clat, clon)
            for i in _idx(hit):
                lat[i], lon[i] = clat[i], clon[i]
                repairs[i].append(name)
            inside |= hit
            todo &= ~hit
    # 3b. no declared commune and a point abroad: the repairs that land in a commune
    # agreeing with the row's postcode or name (mapapp.ingest.locate)
    lost = _idx(has_point & (declared == "") & ~in_france(lat, lon))
    if lost:
        rlat, rlon, _, rname = locator.repair_from_point(
            lat[lost], lon[lost], [pc_list[i] for i in lost], [name_list[i] for i in lost]
        )
        for j, i in enumerate(lost):
            if rname[j]:
                lat[i], lon[i] = rlat[j], rlon[j]
                repairs[i].append(rname[j])
    ok_point = np.isfinite(lat) & np.isfinite(lon) & in_france(lat, lon)
    # 4. a point outside its declared commune: trust the point if the postcode agrees
    point_code = np.full(n, "", dtype=object)
    usable = (ok_point & inside) | (ok_point & ~with_decl)
    if ok_point.any():
        point_code[ok_point] = locator.commune_of_points(lat[ok_point], lon[ok_point])
    for i in _idx(todo & ok_point):
        pc_codes = locator.postcode_communes(pc_list[i]) if pc_list[i] else []
        if point_code[i] and point_code[i] in pc_codes:
            repairs[i].append(
                f"declared commune {declared[i]} disagrees with the point and the postcode; "
                f"code taken from the point ({point_code[i]})"
            )
            declared[i] = ""
            usable[i] = True
        else:
            repairs[i].append(
                f"point ({lat[i]:.5f}, {lon[i]:.5f}) outside declared commune {declared[i]}; "
                "point rejected"
            )
    for i in _idx(has_point & ~ok_point & ~with_decl):
        repairs[i].append(
            f"point ({lat[i]:.5f}, {lon[i]:.5f}) outside France and no commune to check a repair"
        )
    usable &= point_code != ""
    precision = np.where(usable, "address", "").astype(object)
    code = np.where(usable & (declared != ""), declared, point_code).astype(object)
    code[usable & (declared == "")] = point_code[usable & (declared == "")]
    for i in _idx(usable & (insee_how == "")):
        insee_how[i] = "point in polygon"
    # PLM city-wide codes: the arrondissement from the point
    for i in _idx(usable):
        if locator.is_plm_city(str(code[i])) and point_code[i] and point_code[i] != code[i]:
            code[i] = point_code[i]
            repairs[i].append("city-wide INSEE code resolved to the arrondissement")
    lat = np.where(usable, lat, np.nan)
    lon = np.where(usable, lon, np.nan)
    # 5. geocode, else commune point
    need = ~usable
    adr_list = out["adresse"].tolist()
    for i in _idx(need):
        if geocoder is None or conf[i] or not adr_list[i]:
            continue
        res = geocoder.geocode(
            adr_list[i], pc_list[i], name_list[i], expected_insee=str(declared[i])
        )
        if res is not None and in_france([res.lat], [res.lon])[0]:
            lat[i], lon[i] = res.lat, res.lon
            code[i] = declared[i] or res.citycode
            if locator.is_plm_city(str(code[i])):
                code[i] = res.citycode
            precision[i] = "address"
            repairs[i].append(f"geocoded (BAN score {res.score:.2f}, {res.kind})")
            need[i] = False
            insee_how[i] = insee_how[i] or "geocoder"
    fallback = need & (declared != "")
    if fallback.any():
        fb_codes = declared.copy()
        for i in _idx(fallback):
            if locator.is_plm_city(str(fb_codes[i])) and pc_list[i]:
                arr = [c for c in locator.postcode_communes(pc_list[i]) if c != fb_codes[i]]
                if len(arr) == 1:
                    fb_codes[i] = arr[0]
        rlat, rlon = locator.representative(fb_codes)
        lat[fallback], lon[fallback] = rlat[fallback], rlon[fallback]
        code[fallback] = fb_codes[fallback]
        precision[fallback] = "commune"
    for i in _idx(need & (declared == "")):
        why = insee_how[i] if insee_how[i] else ""
        reasons[i] = reasons[i] or (
            "no usable location: no valid coordinates and no commune could be found"
            + (f" ({why})" if why else "")
        )
    # a name resolution failure explains itself better than 'no commune'
    for i in range(n):
        if reasons[i].startswith("no usable location") and (pc_list[i] or name_list[i]):
            _, how = locator.resolve_name(pc_list[i], name_list[i])
            reasons[i] = f"no usable location: {how}; fix code_insee, code_postal or commune"
    for i in _idx(need & (declared == "") & has_point):
        if reasons[i].startswith("no usable location"):
            why = f"; {elsewhere[i]}" if elsewhere[i] else ""
            reasons[i] = (
                f"no usable location: outside France (point {raw_lat[i]:.5f}, {raw_lon[i]:.5f} "
                f"lies in no French commune{why})"
            )
    for i in _idx(need & (declared == "") & ~has_point):
        if elsewhere[i] and reasons[i].startswith("no usable location"):
            reasons[i] = f"no usable location: elsewhere than its postcode ({elsewhere[i]})"

    out["code_insee"] = pd.Series(code, dtype=object)
    out["code_postal"] = postcode.where(postcode != "", out["code_postal"])
    noms = locator.communes["nom"]
    out["commune"] = pd.Series(
        [
            c if c else (str(noms.get(k, "")) if k else "")
            for c, k in zip(commune_name.tolist(), code.tolist(), strict=True)
        ],
        dtype=object,
    )
    out["precision"] = pd.Series(precision, dtype=object)
    out["latitude"] = lat
    out["longitude"] = lon
    out["confidential"] = conf
    out["capacite"] = (
        pd.to_numeric(rows["capacite"], errors="coerce") if "capacite" in rows else np.nan
    )
    out["demo"] = False
    # cluster columns are filled by the pipeline once every source is combined
    out["cluster_id"] = ""
    out["duplicate"] = False
    out["sources"] = pd.Series([[s] if s else [] for s in out["source"]], dtype=object)
    for c, values in lists.items():
        out[c] = pd.Series(values, dtype=object)
    out["obstacles"] = pd.Series(obstacles, dtype=object)
    frame = pd.DataFrame({c: out[c] for c in COLUMNS})
    info = pd.DataFrame(
        {
            "origin": chunk.origins,
            "repairs": repairs,
            "insee_how": insee_how,
            "unknown_thematiques": unknown_them,
            "unknown_codes": unknown_codes,
            "invalid_hours": invalid_hours,
            "hours_warnings": hours_warn,
        }
    )
    bad = np.asarray([bool(r) for r in reasons])
    staging = rows.to_dict(orient="records")
    for i in _idx(bad):
        quarantined.append(
            {
                "origin": chunk.origins[i],
                "reason": reasons[i],
                "original": chunk.originals[i],
                "staging": {k: v for k, v in staging[i].items() if _present(v)},
            }
        )
    keep = ~bad
    return CleanedChunk(
        frame[keep].reset_index(drop=True), info[keep].reset_index(drop=True), quarantined
    )


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
