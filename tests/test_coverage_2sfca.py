"""2SFCA accessibility: worked examples, brute force, and its conservation law."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapapp.coverage import (
    accessibility_matrix,
    catchment_pairs,
    select_services,
    two_step_fca,
)
from mapapp.geo.communes import Geography, analysis_units
from mapapp.geo.sphere import haversine_km


def _units(latlon: list[tuple[float, float]], pop: list[int]) -> pd.DataFrame:
    return pd.DataFrame(
        {"lat": [p[0] for p in latlon], "lon": [p[1] for p in latlon], "population": pop},
        index=[f"u{i}" for i in range(len(pop))],
    )


def _services(latlon: list[tuple[float, float]], cap: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {"lat": [p[0] for p in latlon], "lon": [p[1] for p in latlon], "capacity": cap}
    )


def _brute(units: pd.DataFrame, svc: pd.DataFrame, d0: float) -> np.ndarray:
    """The textbook two steps, with explicit loops."""
    d = np.array(
        [
            [float(haversine_km(u.lat, u.lon, s.lat, s.lon)) for s in svc.itertuples()]
            for u in units.itertuples()
        ]
    ).reshape(len(units), len(svc))
    within = d <= d0
    ratio = []
    for j in range(len(svc)):
        demand = units["population"].to_numpy(dtype=float)[within[:, j]].sum()
        ratio.append(svc["capacity"].iloc[j] / demand if demand > 0 else 0.0)
    return np.array(
        [sum(ratio[j] for j in range(len(svc)) if within[i, j]) for i in range(len(units))]
    )


def test_worked_example_on_a_line() -> None:
    # Three communes on the 45th parallel, ~0.0636° ≈ 5 km apart: A, B, C.
    # Service S1 (capacity 30) at A, S2 (capacity 10) at C; catchment 7 km.
    # S1 reaches A and B: 30 / (100 + 200) = 0.1 per person.
    # S2 reaches B and C: 10 / (200 + 300) = 0.02 per person.
    # A gets 0.1, B gets 0.12, C gets 0.02.
    step = 5.0 / (111.195 * np.cos(np.radians(45.0)))
    units = _units([(45.0, 0.0), (45.0, step), (45.0, 2 * step)], [100, 200, 300])
    svc = _services([(45.0, 0.0), (45.0, 2 * step)], [30.0, 10.0])
    a = two_step_fca(units, svc, catchment_km=7)
    assert a.name == "accessibility" and a.index.equals(units.index)
    assert a.tolist() == pytest.approx([0.1, 0.12, 0.02])
    # Total supply is conserved: 100*0.1 + 200*0.12 + 300*0.02 = 40 = 30 + 10.
    assert (a * units["population"]).sum() == pytest.approx(40.0)


def test_a_service_nobody_reaches_gives_nothing_and_a_commune_out_of_reach_gets_zero() -> None:
    units = _units([(45.0, 0.0), (46.0, 0.0)], [100, 50])
    svc = _services([(45.0, 0.0), (47.0, 1.0)], [5.0, 99.0])
    a = two_step_fca(units, svc, catchment_km=10)
    assert a.tolist() == pytest.approx([0.05, 0.0])


def test_catchment_pairs_match_brute_force() -> None:
    rng = np.random.default_rng(3)
    ulat, ulon = rng.uniform(44, 46, 80), rng.uniform(0, 2, 80)
    slat, slon = rng.uniform(44, 46, 30), rng.uniform(0, 2, 30)
    i, j = catchment_pairs(ulat, ulon, slat, slon, catchment_km=25)
    got = set(zip(i.tolist(), j.tolist(), strict=True))
    d = haversine_km(ulat[:, None], ulon[:, None], slat[None, :], slon[None, :])
    expected = set(zip(*np.nonzero(d <= 25), strict=True))
    assert got == {(int(a), int(b)) for a, b in expected}
    with pytest.raises(ValueError, match="positive"):
        catchment_pairs(ulat, ulon, slat, slon, catchment_km=0)


def test_accessibility_matrix_equals_one_run_per_obstacle(
    geo: Geography, demo: gpd.GeoDataFrame
) -> None:
    m = accessibility_matrix(
        demo, geo.communes, catchment_km=10, obstacles=["garde-enfants", "violences"]
    )
    units = analysis_units(geo.communes)
    for slug in m.columns:
        one = two_step_fca(
            units, select_services(demo, geo.communes, obstacles=[slug]), catchment_km=10
        )
        np.testing.assert_allclose(m[slug].to_numpy(), one.to_numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.slow
def test_real_sample_matches_the_textbook_loops(geo: Geography, demo: gpd.GeoDataFrame) -> None:
    units = analysis_units(geo.communes)
    units = units[units["departement"].isin(["23", "87"])]
    svc = select_services(demo, geo.communes, obstacles=["garde-enfants"]).points
    svc = svc[(svc["lat"].between(45.0, 46.7)) & (svc["lon"].between(0.5, 2.7))]
    got = two_step_fca(units, svc, catchment_km=15).to_numpy()
    np.testing.assert_allclose(got, _brute(units, svc, 15.0), rtol=1e-9, atol=1e-15)


coords = st.tuples(st.floats(44.0, 45.0), st.floats(0.0, 1.0))


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(coords, st.integers(0, 5000)), min_size=1, max_size=20),
    st.lists(st.tuples(coords, st.floats(0.5, 50)), min_size=1, max_size=8),
    st.tuples(coords, st.floats(0.5, 50)),
    st.floats(2.0, 60.0),
)
def test_invariants(
    communes: list[tuple[tuple[float, float], int]],
    services: list[tuple[tuple[float, float], float]],
    extra: tuple[tuple[float, float], float],
    d0: float,
) -> None:
    units = _units([c for c, _ in communes], [p for _, p in communes])
    svc = _services([c for c, _ in services], [k for _, k in services])
    a = two_step_fca(units, svc, catchment_km=d0)
    np.testing.assert_allclose(a.to_numpy(), _brute(units, svc, d0), rtol=1e-9, atol=1e-12)
    # Supply is shared out, never created or lost, among the people who can reach it.
    pop = units["population"].to_numpy(dtype=float)
    d = haversine_km(
        units["lat"].to_numpy()[:, None],
        units["lon"].to_numpy()[:, None],
        svc["lat"].to_numpy()[None, :],
        svc["lon"].to_numpy()[None, :],
    )
    reached = ((d <= d0) & (pop[:, None] > 0)).any(axis=0)
    assert (a * pop).sum() == pytest.approx(svc["capacity"][reached].sum(), rel=1e-9)
    # Adding a service never lowers anybody's accessibility.
    more = pd.concat([svc, _services([extra[0]], [extra[1]])], ignore_index=True)
    assert (two_step_fca(units, more, catchment_km=d0) >= a - 1e-12).all()


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.tuples(coords, st.integers(1, 5000)), min_size=1, max_size=20),
    st.lists(st.tuples(coords, st.floats(0.5, 50)), min_size=1, max_size=8),
)
def test_total_supply_equals_total_capacity_when_catchments_cover_everything(
    communes: list[tuple[tuple[float, float], int]],
    services: list[tuple[tuple[float, float], float]],
) -> None:
    units = _units([c for c, _ in communes], [p for _, p in communes])
    svc = _services([c for c, _ in services], [k for _, k in services])
    a = two_step_fca(units, svc, catchment_km=500)  # every point is within ~160 km
    assert (a * units["population"]).sum() == pytest.approx(svc["capacity"].sum(), rel=1e-9)
