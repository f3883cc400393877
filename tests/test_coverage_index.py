"""The prepared coverage index: same answers as brute force, catchments kept per radius."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mapapp.coverage import CoverageIndex, select_services, two_step_fca
from mapapp.geo.communes import Geography, analysis_units
from mapapp.geo.sphere import haversine_km
from mapapp.schema import actors_frame
from mapapp.taxonomy import Obstacle

SLUGS = [o.value for o in Obstacle]


def _clustered(geo: Geography, n: int, seed: int) -> pd.DataFrame:
    """Actors around random communes (overseas included), some remote, some confidential."""
    rng = np.random.default_rng(seed)
    units = analysis_units(geo.communes)
    rows = units.iloc[rng.integers(0, len(units), n)]
    remote = rng.random(n) < 0.1
    return actors_frame(
        pd.DataFrame(
            {
                "id": [f"t:{k}" for k in range(n)],
                "obstacles": [
                    list(rng.choice(SLUGS, size=int(m), replace=False))
                    for m in rng.integers(1, 4, n)
                ],
                "latitude": rows["lat"].to_numpy() + rng.normal(0, 0.02, n),
                "longitude": rows["lon"].to_numpy() + rng.normal(0, 0.02, n),
                "code_insee": rows.index.to_numpy(),
                "confidential": rng.random(n) < 0.1,
                "modes_accueil": [["a-distance"] if r else ["en-presentiel"] for r in remote],
                "capacite": np.where(rng.random(n) < 0.5, rng.integers(5, 50, n), np.nan),
            }
        )
    )


@pytest.mark.slow
def test_distances_equal_a_haversine_brute_force_zone_by_zone(geo: Geography) -> None:
    actors = _clustered(geo, 3000, seed=3)
    index = CoverageIndex.build(actors, geo.communes)
    got = index.distances()
    units = index.units
    rng = np.random.default_rng(4)
    sample = units.index[rng.choice(len(units), 200, replace=False)].union(
        units.index[units["departement"].isin(["974", "976", "973"])][:30]
    )
    for slug in SLUGS:
        sp = select_services(actors, geo.communes, obstacles=[slug])
        pts = sp.points
        for code in sample:
            u = units.loc[code]
            same_zone = pts[pts["zone"] == _zone(u["departement"])]
            want = (
                float(haversine_km(u["lat"], u["lon"], same_zone["lat"], same_zone["lon"]).min())
                if len(same_zone)
                else np.inf
            )
            assert got.at[code, slug] == pytest.approx(want, abs=1e-6), (code, slug)


def _zone(dep: str) -> int:
    return {"971": 1, "972": 2, "973": 3, "974": 4, "976": 5}.get(dep, 0)


@pytest.mark.slow
def test_accessibility_equals_two_step_fca_on_each_obstacles_services(geo: Geography) -> None:
    actors = _clustered(geo, 2000, seed=5)
    index = CoverageIndex.build(actors, geo.communes)
    got = index.accessibility(catchment_km=15.0)
    units = analysis_units(geo.communes)
    for slug in SLUGS:
        sp = select_services(actors, geo.communes, obstacles=[slug])
        want = two_step_fca(units, sp, catchment_km=15.0)
        np.testing.assert_allclose(got[slug].to_numpy(), want.to_numpy(), rtol=1e-9, atol=1e-15)
    # Something was measured: the check above is not comparing zeros.
    assert (got.to_numpy() > 0).sum() > 100


def test_catchments_are_kept_per_radius_and_bad_radii_refused() -> None:
    communes = pd.DataFrame(
        {
            "nom": ["A", "B"],
            "departement": ["24", "24"],
            "population": [100, 300],
            "plm_city": False,
            "lat": [45.0, 45.0],
            "lon": [0.0, 0.0636],
        },
        index=["24001", "24002"],
    )
    actors = actors_frame(
        [{"id": "x:1", "obstacles": ["mobilite"], "latitude": 45.0, "longitude": 0.0}]
    )
    index = CoverageIndex.build(actors, communes)
    assert index.reach(10.0) is index.reach(10)
    # 5 km apart: B is outside a 3 km catchment, inside a 10 km one.
    assert index.reach(3.0).toarray().ravel().tolist() == [1.0, 0.0]
    assert index.reach(10.0).toarray().ravel().tolist() == [1.0, 1.0]
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="catchment_km"):
            index.reach(bad)


def test_an_empty_layer_gives_inf_distances_and_zero_accessibility() -> None:
    communes = pd.DataFrame(
        {
            "nom": ["A"],
            "departement": ["24"],
            "population": [100],
            "plm_city": False,
            "lat": [45.0],
            "lon": [0.0],
        },
        index=["24001"],
    )
    index = CoverageIndex.build(actors_frame([]), communes)
    assert np.isinf(index.distances().to_numpy()).all()
    assert (index.accessibility(catchment_km=10).to_numpy() == 0).all()


def test_keep_false_computes_the_same_catchment_and_keeps_nothing() -> None:
    communes = pd.DataFrame(
        {
            "nom": ["A", "B"],
            "departement": ["24", "24"],
            "population": [100, 300],
            "plm_city": False,
            "lat": [45.0, 45.0],
            "lon": [0.0, 0.0636],
        },
        index=["24001", "24002"],
    )
    actors = actors_frame(
        [{"id": "x:1", "obstacles": ["mobilite"], "latitude": 45.0, "longitude": 0.0318}]
    )
    index = CoverageIndex.build(actors, communes)
    once = index.accessibility(catchment_km=10, keep=False)
    assert index.reach(10.0, keep=False) is not index.reach(10.0, keep=False)
    kept = index.accessibility(catchment_km=10)
    pd.testing.assert_frame_equal(once, kept)
    assert once["mobilite"].tolist() == [1 / 400, 1 / 400]
    assert index.reach(10.0, keep=False) is index.reach(10.0)


def test_a_rare_obstacle_beyond_the_nearest_services_is_still_found() -> None:
    # 40 "mobilite" services crowd around A; the one crèche is 50 km east,
    # farther than any of them: the answer must come from its own tree.
    communes = pd.DataFrame(
        {
            "nom": ["A", "B"],
            "departement": ["24", "24"],
            "population": [100, 300],
            "plm_city": False,
            "lat": [45.0, 45.0],
            "lon": [0.0, 0.0636],
        },
        index=["24001", "24002"],
    )
    crowd = [
        {"id": f"m:{k}", "obstacles": ["mobilite"], "latitude": 45.0, "longitude": 0.001 * k}
        for k in range(40)
    ]
    far = {"id": "c:1", "obstacles": ["garde-enfants"], "latitude": 45.0, "longitude": 0.636}
    index = CoverageIndex.build(actors_frame([*crowd, far]), communes)
    got = index.distances()
    want = haversine_km(45.0, communes["lon"].to_numpy(), 45.0, 0.636)
    np.testing.assert_allclose(got["garde-enfants"].to_numpy(), want, rtol=1e-9)
    assert got["mobilite"].tolist()[0] == 0.0
    assert np.isinf(got["logement"]).all()
