"""The faster point lookups give the same communes and repairs as before, on real files.

Why: ``Locator.commune_of_points`` lost its per-point Python loops and
``stage_repairs`` now tries the known repairs on the rows to repair only.
The previous implementations are kept here as the reference, and both are
run on the points of the real files, on points scattered around every
commune (coasts, borders, Paris/Lyon/Marseille arrondissements) and on
damaged points (swapped, lost signs).
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import shapely

from mapapp.geo.communes import Geography
from mapapp.ingest import clean
from mapapp.ingest.coords import repair_candidates
from mapapp.ingest.locate import Locator
from mapapp.schema import in_france


def _old_commune_of_points(loc: Locator, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    n = len(lat)
    out = np.full(n, "", dtype=object)
    ok = np.isfinite(lat) & np.isfinite(lon)
    if not ok.any():
        return out
    idx = np.flatnonzero(ok)
    points = shapely.points(lon[idx], lat[idx])
    pi, gi = loc._tree.query(points, predicate="intersects")
    order = np.lexsort((loc._plm[gi], pi))
    best: dict[int, int] = {}
    for p, g in zip(pi[order], gi[order], strict=True):
        best.setdefault(int(p), int(g))
    for p, g in best.items():
        out[idx[p]] = loc._codes[g]
    missing = [i for i in range(len(idx)) if i not in best]
    if missing:
        mp = np.asarray(missing)
        qi, gj = loc._tree.query_nearest(points[mp], max_distance=0.01, all_matches=False)
        for q, g in zip(qi, gj, strict=True):
            if not loc._plm[g]:
                out[idx[mp[q]]] = loc._codes[g]
    return out


def _old_stage_repairs(p: clean.Placement, locator: Locator) -> None:
    has_point = np.isfinite(p.lat) & np.isfinite(p.lon)
    ok_point = has_point & in_france(p.lat, p.lon)
    with_decl = p.declared != ""
    p.inside = locator.in_communes(p.declared, p.lat, p.lon) & ok_point
    p.todo = has_point & with_decl & ~p.inside
    if not p.todo.any():
        return
    for name, (clat, clon) in repair_candidates(p.lat, p.lon):
        if not p.todo.any():
            break
        cand = p.todo & np.isfinite(clat) & np.isfinite(clon)
        if not cand.any():
            continue
        hit = cand & locator.in_communes(p.declared, clat, clon)
        for i in np.flatnonzero(hit):
            p.lat[i], p.lon[i] = clat[i], clon[i]
            p.repairs[i].append(name)
        p.inside |= hit
        p.todo &= ~hit


def _old_stage_point_or_commune(p: clean.Placement, locator: Locator) -> None:
    n = len(p)
    has_point = np.isfinite(p.lat) & np.isfinite(p.lon)
    ok_point = has_point & in_france(p.lat, p.lon)
    with_decl = p.declared != ""
    p.point_code = np.full(n, "", dtype=object)
    usable = (ok_point & p.inside) | (ok_point & ~with_decl)
    if ok_point.any():
        p.point_code[ok_point] = _old_commune_of_points(locator, p.lat[ok_point], p.lon[ok_point])
    for i in np.flatnonzero(p.todo & ok_point):
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
    for i in np.flatnonzero(has_point & ~ok_point & ~with_decl):
        p.repairs[i].append(
            f"point ({p.lat[i]:.5f}, {p.lon[i]:.5f}) outside France and no commune to check a repair"
        )
    usable &= p.point_code != ""
    p.usable = usable
    p.precision = np.where(usable, "address", "").astype(object)
    p.code = np.where(usable & (p.declared != ""), p.declared, p.point_code).astype(object)
    for i in np.flatnonzero(usable & (p.insee_how == "")):
        p.insee_how[i] = "point in polygon"
    for i in np.flatnonzero(usable):
        if locator.is_plm_city(str(p.code[i])) and p.point_code[i] and p.point_code[i] != p.code[i]:
            p.code[i] = p.point_code[i]
            p.repairs[i].append("city-wide INSEE code resolved to the arrondissement")
    p.lat = np.where(usable, p.lat, np.nan)
    p.lon = np.where(usable, p.lon, np.nan)


def _same_placement(new: clean.Placement, old: clean.Placement) -> None:
    assert new.repairs == old.repairs
    for name in ("lat", "lon"):
        assert np.array_equal(getattr(new, name), getattr(old, name), equal_nan=True), name
    for name in ("inside", "todo", "declared", "usable", "code", "precision", "insee_how"):
        assert getattr(new, name).tolist() == getattr(old, name).tolist(), name


def _scattered(geo: Geography, n: int = 60_000, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Points around communes' own points (up to ~5 km off: borders, coasts, the sea)."""
    rng = np.random.default_rng(seed)
    k = rng.integers(0, len(geo.communes), n)
    lat = geo.communes["lat"].to_numpy()[k] + rng.normal(0, 0.03, n)
    lon = geo.communes["lon"].to_numpy()[k] + rng.normal(0, 0.03, n)
    lat[::97] = np.nan  # and some rows without a point
    return lat, lon


def test_commune_of_points_same_as_before(geo: Geography) -> None:
    loc = Locator(geo)
    lat, lon = _scattered(geo)
    new = loc.commune_of_points(lat, lon)
    old = _old_commune_of_points(loc, lat, lon)
    assert new.tolist() == old.tolist()
    assert (new == "").sum() > 100  # some fall in the sea or abroad
    plm = geo.communes.loc[[c for c in new if c], "kind"]
    assert (plm == "ARM").sum() > 10  # arrondissements were chosen over their city


def _real_placements(
    realdata: Path, tmp: Path, loc: Locator
) -> list[tuple[clean.Placement, list[str]]]:
    from mapapp.sources import resolve_inputs

    out = []
    for folder in sorted(realdata.iterdir()):
        if not folder.is_dir() or "referentials" in folder.name:
            continue
        for group in resolve_inputs([folder], download_dir=tmp):
            for chunk in group.chunks():
                rows = chunk.rows.reset_index(drop=True)
                text = {c: clean._text(rows, c) for c in ("code_postal", "commune", "code_insee")}
                postcode = clean._each_distinct(text["code_postal"], clean.normalize_postcode)
                p = clean.stage_declared_commune(
                    rows, postcode, text["commune"], text["code_insee"], loc
                )
                out.append((p, clean._text(rows, "adresse").tolist()))
    return out


@pytest.mark.realdata
def test_real_points_same_communes_and_repairs(
    realdata: Path, tmp_path: Path, geo: Geography
) -> None:
    loc = Locator(geo)
    repaired = located = 0
    for p, addresses in _real_placements(realdata, tmp_path, loc):
        assert loc.commune_of_points(p.lat, p.lon).tolist() == (
            _old_commune_of_points(loc, p.lat, p.lon).tolist()
        )
        clean.stage_postcode_only(p, addresses, loc)
        old = copy.deepcopy(p)
        clean.stage_repairs(p, loc)
        _old_stage_repairs(old, loc)
        for placement in (p, old):
            clean.stage_repairs_from_point(placement, loc)
        clean.stage_point_or_commune(p, loc)
        _old_stage_point_or_commune(old, loc)
        _same_placement(p, old)
        repaired += sum(bool(r) for r in p.repairs)
        located += int(p.inside.sum())
    assert repaired > 100 and located > 5000  # the Réunion file's lost signs, decimal commas


def test_damaged_points_same_repairs(geo: Geography) -> None:
    loc = Locator(geo)
    rng = np.random.default_rng(11)
    k = rng.integers(0, len(geo.communes), 5000)
    lat = geo.communes["lat"].to_numpy()[k].copy()
    lon = geo.communes["lon"].to_numpy()[k].copy()
    how = rng.integers(0, 5, len(k))
    lat[how == 1], lon[how == 1] = lon[how == 1], lat[how == 1]  # swapped
    lat[how == 2] = -lat[how == 2]
    lon[how == 3] = -lon[how == 3]
    declared = geo.communes.index.to_numpy()[k].astype(object)
    declared[how == 4] = geo.communes.index.to_numpy()[rng.integers(0, len(k), (how == 4).sum())]
    n = len(k)
    # Paris, Lyon, Marseille city-wide codes too, and postcodes that agree with the point
    declared[:300:3] = np.resize(np.array(["75056", "69123", "13055"], dtype=object), 100)
    arm = np.flatnonzero((geo.communes["kind"] == "ARM").to_numpy())
    k[300:400] = arm[rng.integers(0, len(arm), 100)]  # in an arrondissement, given the city's code
    city = {"75": "75056", "69": "69123", "13": "13055"}
    declared[300:400] = [city[str(geo.communes.index[i])[:2]] for i in k[300:400]]
    lat[300:400] = geo.communes["lat"].to_numpy()[k[300:400]]
    lon[300:400] = geo.communes["lon"].to_numpy()[k[300:400]]
    postcode_of = {c: pc for pc, codes in geo.by_postcode.items() for c in codes}
    true_codes = geo.communes.index.to_numpy()[k]
    postcodes = [postcode_of.get(c, "") for c in true_codes]

    def placement() -> clean.Placement:
        return clean.Placement(
            lat.copy(), lon.copy(), postcodes, [""] * n, declared.copy(),
            np.full(n, "given", dtype=object), [[] for _ in range(n)],
        )  # fmt: skip

    new, old = placement(), placement()
    clean.stage_repairs(new, loc)
    _old_stage_repairs(old, loc)
    assert sum(bool(r) for r in new.repairs) > 1000
    clean.stage_point_or_commune(new, loc)
    _old_stage_point_or_commune(old, loc)
    _same_placement(new, old)
    notes = [r for row in new.repairs for r in row]
    assert sum("resolved to the arrondissement" in r for r in notes) > 50
    assert sum("code taken from the point" in r for r in notes) > 50
