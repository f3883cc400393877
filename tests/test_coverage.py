"""Coverage distances and totals: hand-checkable grids, brute force on real communes, invariants.

Expected values here never come from :mod:`mapapp.coverage` itself: they are
worked out by hand (grids whose distances are arcs of meridians and
parallels) or recomputed by a brute-force haversine over every service.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapapp.coverage import (
    Territory,
    by_departement,
    coverage_analysis,
    coverage_summary,
    coverage_table,
    distance_matrix,
    nearest_service,
    select_services,
    territory_label,
    territory_units,
    weighted_quantile,
    worst_covered,
    zone_of_departement,
    zone_of_points,
)
from mapapp.errors import UnknownPlaceError
from mapapp.geo.communes import Geography, analysis_units
from mapapp.geo.sphere import EARTH_RADIUS_KM, haversine_km
from mapapp.safety import public_view
from mapapp.schema import actors_frame

FIXTURES = Path(__file__).parent / "fixtures" / "coverage"
KM_PER_DEG = EARTH_RADIUS_KM * math.pi / 180  # along a meridian


def grid(n: int = 3, *, step: float = 0.1, lat0: float = 45.0, lon0: float = 0.0) -> pd.DataFrame:
    """n×n communes ``step`` degrees apart; row-major codes 24000, 24001..."""
    k = np.arange(n * n)
    return pd.DataFrame(
        {
            "lat": lat0 + step * (k // n),
            "lon": lon0 + step * (k % n),
            "departement": "24",
            "population": 100 * (k + 1),
            "nom": [f"C{i}" for i in k],
        },
        index=pd.Index([f"24{i:03d}" for i in k], name="code_insee"),
    )


def points(lat: list[float], lon: list[float], zone: int = 0) -> pd.DataFrame:
    n = len(lat)
    return pd.DataFrame(
        {
            "id": [f"s:{i}" for i in range(n)],
            "nom": [f"S{i}" for i in range(n)],
            "commune": "",
            "lat": lat,
            "lon": lon,
            "capacity": 1.0,
            "zone": zone,
        }
    )


# -- hand-checkable grids ---------------------------------------------------------------------


def test_one_service_in_the_middle_of_a_3x3_grid() -> None:
    g = grid()
    t = coverage_table(g, points([45.1], [0.1]), radius_km=10)
    ns = 0.1 * KM_PER_DEG  # a meridian arc: 11.1195 km
    ew = 0.1 * KM_PER_DEG * math.cos(math.radians(45.1))  # a parallel arc, ~ the great circle
    diag = math.hypot(ns, ew)
    expected = [diag, ns, diag, ew, 0.0, ew, diag, ns, diag]
    assert t["distance_km"].tolist() == pytest.approx(expected, rel=2e-3, abs=1e-9)
    assert t["distance_km"].iloc[1] == pytest.approx(ns, rel=1e-9)
    assert t["nearest_id"].eq("s:0").all()
    assert t["within_radius"].tolist() == [False, False, False, True, True, True] + [False] * 3
    # Populations 100..900; within 10 km: C3, C4, C5 = 400 + 500 + 600.
    s = coverage_summary(t, radius_km=10)
    assert s["population"] == 4500
    assert s["population_within_10km"] == 1500
    assert s["population_within_5km"] == 500
    assert s["population_within_20km"] == 4500
    assert s["communes_beyond_radius"] == 6
    assert s["population_beyond_radius"] == 3000
    assert s["population_without_service"] == 0
    weighted = sum(p * d for p, d in zip(range(100, 1000, 100), expected, strict=True)) / 4500
    assert s["mean_distance_km"] == pytest.approx(weighted, rel=2e-3)
    # Sorted by distance: C4 (500), C3+C5 (1000, cum 1500), C1+C7 (1000, cum 2500), corners.
    # 90 % of 4500 = 4050 is reached only among the corners.
    assert s["p90_distance_km"] == pytest.approx(diag, rel=2e-3)


def test_two_services_take_the_nearest_and_the_index_is_kept() -> None:
    g = grid(n=2, step=0.2)
    t = nearest_service(g, points([45.0, 45.2], [0.0, 0.2]))
    assert t.index.equals(g.index)
    assert t["nearest_id"].tolist() == ["s:0", "s:0", "s:1", "s:1"]
    assert t["distance_km"].iloc[0] == 0.0 and t["distance_km"].iloc[3] == 0.0
    # C1 (45.0, 0.2) ties between both services? No: the parallel arc to s:0 is
    # shorter than the meridian arc to s:1.
    assert t["distance_km"].iloc[1] < 0.2 * KM_PER_DEG


def test_no_service_in_the_zone_gives_inf_not_a_service_across_the_ocean() -> None:
    units = pd.DataFrame(
        {
            "lat": [-20.9, -12.8],
            "lon": [55.5, 45.2],
            "departement": ["974", "976"],
            "population": [1000, 500],
            "nom": ["Réunion", "Mayotte"],
        },
        index=["97411", "97611"],
    )
    svc = points([-20.95], [55.45])
    svc["zone"] = zone_of_points(svc["lat"], svc["lon"])
    t = coverage_table(units, svc, radius_km=10)
    assert math.isfinite(t.loc["97411", "distance_km"])
    assert t.loc["97611", "distance_km"] == math.inf
    assert t.loc["97611", "nearest_id"] == ""
    s = coverage_summary(t, radius_km=10)
    assert s["population_without_service"] == 500
    assert s["mean_distance_km"] == pytest.approx(t.loc["97411", "distance_km"])
    assert s["p90_distance_km"] == math.inf  # a third of the people have none


def test_zones() -> None:
    assert zone_of_departement(["01", "2A", "971", "972", "973", "974", "976"]).tolist() == [
        0,
        0,
        1,
        2,
        3,
        4,
        5,
    ]
    assert zone_of_points(
        [16.2, 14.6, 4.9, -21.1, -12.8, 42.0], [-61.5, -61.0, -52.3, 55.5, 45.1, 9.0]
    ).tolist() == [1, 2, 3, 4, 5, 0]


@given(
    st.lists(
        st.tuples(st.floats(0, 100, allow_nan=False), st.integers(0, 5)), min_size=1, max_size=30
    ),
    st.floats(0.01, 1.0),
)
def test_weighted_quantile_is_the_quantile_of_the_expanded_sample(
    pairs: list[tuple[float, int]], q: float
) -> None:
    values = [v for v, _ in pairs]
    weights = [w for _, w in pairs]
    expanded = np.sort(np.repeat(values, weights))
    got = weighted_quantile(values, weights, q)
    if len(expanded) == 0:
        assert math.isnan(got)
        return
    k = max(math.ceil(q * len(expanded) - 1e-9), 1)
    assert got == expanded[k - 1]


# -- services: what counts and where it stands --------------------------------------------------


def _fixture_actors() -> gpd.GeoDataFrame:
    raw = pd.read_csv(FIXTURES / "placement.csv", dtype=str, keep_default_na=False)
    frame = raw.drop(columns="note").copy()
    for col in ("obstacles", "modes_accueil"):
        frame[col] = frame[col].map(lambda v: v.split(";") if v else [])
    for col in ("latitude", "longitude", "capacite"):
        frame[col] = pd.to_numeric(frame[col].replace("", np.nan))
    frame["confidential"] = frame["confidential"].eq("true")
    return actors_frame(frame)


def test_service_placement_follows_the_rules(geo: Geography) -> None:
    actors = _fixture_actors()
    sp = select_services(actors, geo.communes)
    placed = sp.points.set_index("id")
    ref = geo.communes
    assert set(placed.index) == {
        "t:located",
        "t:confidential",
        "t:confidential-plm",
        "t:no-coords",
        "t:both-modes",
    }
    assert placed.loc["t:located", ["lat", "lon"]].tolist() == [48.9, 2.36]
    # Confidential: the commune's representative point, never the real coordinates.
    for ident, code in [("t:confidential", "93066"), ("t:confidential-plm", "75056")]:
        assert placed.loc[ident, "lat"] == ref.loc[code, "lat"]
        assert placed.loc[ident, "lon"] == ref.loc[code, "lon"]
    assert placed.loc["t:no-coords", "lat"] == ref.loc["93001", "lat"]
    assert sp.remote["id"].tolist() == ["t:remote"]
    assert sp.unplaced == 2  # t:lost, t:unknown-commune
    assert sp.at_commune == 3
    assert placed.loc["t:located", "capacity"] == 30.0
    assert placed.loc["t:no-coords", "capacity"] == 1.0  # 0 is no capacity information
    assert placed["known_capacity"].sum() == 1


def test_service_filters(geo: Geography) -> None:
    actors = _fixture_actors()
    ids = lambda sp: sorted(sp.points["id"])  # noqa: E731
    assert ids(select_services(actors, geo.communes, obstacles=["logement"])) == [
        "t:confidential",
        "t:confidential-plm",
    ]
    assert ids(
        select_services(actors, geo.communes, obstacles=["logement", "violences"], match="all")
    ) == ["t:confidential"]
    violences = select_services(actors, geo.communes, obstacles=["violences"])
    assert ids(violences) == ["t:confidential"]
    assert violences.remote["id"].tolist() == ["t:remote"]
    actors.loc[actors["id"] == "t:located", "actor_type"] = "creche"
    assert ids(select_services(actors, geo.communes, types=["creche"])) == ["t:located"]


# -- real geography: brute force on a sample -----------------------------------------------------


def _brute_force(
    units: pd.DataFrame, actors: gpd.GeoDataFrame, communes: pd.DataFrame, obstacle: str
) -> pd.Series:
    """Nearest in-person service by haversine over every record, same zone only."""
    keep = actors[
        actors["obstacles"].map(lambda v: obstacle in v)
        & actors["modes_accueil"].map(lambda v: "en-presentiel" in v or len(v) == 0)
    ]
    lat = keep["latitude"].to_numpy(dtype=float).copy()
    lon = keep["longitude"].to_numpy(dtype=float).copy()
    conf = keep["confidential"].to_numpy(dtype=bool)
    codes = keep["code_insee"].to_numpy()
    for i in np.flatnonzero(conf | np.isnan(lat)):
        if codes[i] in communes.index:
            lat[i], lon[i] = communes.loc[codes[i], ["lat", "lon"]]
        else:
            lat[i] = lon[i] = np.nan
    out = {}
    for code, u in units.iterrows():
        same = zone_of_points(lat, lon) == zone_of_departement([u["departement"]])[0]
        d = haversine_km(u["lat"], u["lon"], lat[same], lon[same])
        out[code] = float(d.min()) if len(d) else math.inf
    return pd.Series(out)


@pytest.mark.slow
@pytest.mark.parametrize("obstacle", ["garde-enfants", "violences", "mobilite"])
def test_distances_match_brute_force_on_a_sample(
    geo: Geography, demo: gpd.GeoDataFrame, obstacle: str
) -> None:
    units = analysis_units(geo.communes)
    rng = np.random.default_rng(7)
    sample = units.loc[rng.choice(units.index.to_numpy(), 150, replace=False)]
    overseas = units[units["departement"].isin(["971", "972", "973", "974", "976"])].iloc[::9]
    sample = pd.concat([sample, overseas, units.loc[["75101", "69381", "13201"]]])
    sample = sample[~sample.index.duplicated()]
    services = select_services(demo, geo.communes, obstacles=[obstacle])
    got = coverage_table(sample, services)["distance_km"]
    expected = _brute_force(sample, demo, geo.communes, obstacle)
    np.testing.assert_allclose(got.to_numpy(), expected.loc[got.index].to_numpy(), atol=1e-6)


def test_distance_matrix_equals_one_table_per_obstacle(
    geo: Geography, demo: gpd.GeoDataFrame
) -> None:
    m = distance_matrix(demo, geo.communes, obstacles=["garde-enfants", "numerique"])
    units = analysis_units(geo.communes)
    assert m.index.equals(units.index)
    for slug in m.columns:
        one = coverage_table(units, select_services(demo, geo.communes, obstacles=[slug]))
        np.testing.assert_array_equal(m[slug].to_numpy(), one["distance_km"].to_numpy())


def test_analysis_units_paris_by_arrondissement_and_overseas(
    geo: Geography, demo: gpd.GeoDataFrame
) -> None:
    res = coverage_analysis(
        demo, geo.communes, territory=Territory("departement", "75"), obstacles=["garde-enfants"]
    )
    assert len(res.table) == 20 and "75056" not in res.table.index
    assert res.table["population"].sum() == geo.communes.loc["75056", "population"]
    reunion = coverage_analysis(
        demo, geo.communes, territory=Territory("departement", "974"), obstacles=["emploi"]
    )
    assert len(reunion.table) == 24


def test_summary_by_departement_agrees_with_each_departement(
    geo: Geography, demo: gpd.GeoDataFrame
) -> None:
    units = analysis_units(geo.communes)
    t = coverage_table(units, select_services(demo, geo.communes, obstacles=["sante"]))
    deps = by_departement(t, radius_km=10)
    assert deps["population"].sum() == units["population"].sum()
    for dep in ["23", "93", "2A", "974"]:
        part = t[t["departement"] == dep]
        pop = part["population"].to_numpy(dtype=float)
        finite = np.isfinite(part["distance_km"].to_numpy())
        mean = (part["distance_km"].to_numpy()[finite] * pop[finite]).sum() / pop[finite].sum()
        assert deps.loc[dep, "mean_distance_km"] == pytest.approx(mean)
        assert (
            deps.loc[dep, "population_beyond_radius"]
            == pop[part["distance_km"].to_numpy() > 10].sum()
        )


def test_worst_covered_ranks_by_distance_then_population() -> None:
    t = pd.DataFrame(
        {"distance_km": [5.0, 9.0, 9.0, 1.0, 20.0], "population": [10, 5, 50, 3, 0]},
        index=list("abcde"),
    )
    assert worst_covered(t, 3).index.tolist() == ["c", "b", "a"]  # e has nobody


def test_territories(geo: Geography) -> None:
    units = analysis_units(geo.communes)
    assert Territory.parse("departement", "2a").code == "2A"
    assert Territory.parse("departement", 1).code == "01"
    assert territory_label(units, Territory.parse("departement", "93")) == (
        "Seine-Saint-Denis (93)"
    )
    assert len(territory_units(units, Territory("region", "11"))) == units["region"].eq("11").sum()
    assert Territory("epci", "200054781").map_level == "commune"
    assert Territory("region", "11").map_level == "departement"
    with pytest.raises(UnknownPlaceError, match="93, 2A or 974"):
        territory_units(units, Territory.parse("departement", "99"))
    with pytest.raises(UnknownPlaceError, match="needs a code"):
        Territory("epci")
    with pytest.raises(UnknownPlaceError, match="unknown territory kind"):
        Territory.parse("canton", "1")


@pytest.mark.slow
def test_analysis_counts_services_and_respects_confidentiality(
    geo: Geography, demo: gpd.GeoDataFrame
) -> None:
    shown = public_view(demo, geo.communes)
    res = coverage_analysis(
        shown, geo.communes, territory=Territory("departement", "93"), obstacles=["logement"]
    )
    conf = demo[demo["confidential"] & demo["obstacles"].map(lambda v: "logement" in v)]
    real = set(zip(conf["latitude"].round(9), conf["longitude"].round(9), strict=True))
    pts = res.services.points
    assert not real & set(zip(pts["lat"].round(9), pts["lon"].round(9), strict=True))
    in_93 = demo[
        demo["obstacles"].map(lambda v: "logement" in v)
        & demo["code_insee"].str.startswith("93")
        & demo["modes_accueil"].map(lambda v: "en-presentiel" in v)
    ]
    assert res.summary["services"] == len(in_93)


# -- invariants -----------------------------------------------------------------------------------

coords = st.tuples(st.floats(44.0, 46.0), st.floats(0.0, 2.0))


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(st.lists(coords, min_size=1, max_size=25), st.lists(coords, min_size=1, max_size=10), coords)
def test_adding_a_service_never_worsens_a_distance(
    communes: list[tuple[float, float]],
    services: list[tuple[float, float]],
    extra: tuple[float, float],
) -> None:
    units = pd.DataFrame(
        {"lat": [c[0] for c in communes], "lon": [c[1] for c in communes], "departement": "24"},
        index=[f"u{i}" for i in range(len(communes))],
    )
    before = nearest_service(units, points([s[0] for s in services], [s[1] for s in services]))
    more = [*services, extra]
    after = nearest_service(units, points([s[0] for s in more], [s[1] for s in more]))
    assert after.index.equals(units.index)
    assert (after["distance_km"] <= before["distance_km"] + 1e-9).all()
    brute = [min(haversine_km(u[0], u[1], s[0], s[1]) for s in more) for u in communes]
    np.testing.assert_allclose(after["distance_km"].to_numpy(), brute, atol=1e-6)
