"""The catchment grid: the pairs it finds and the 2SFCA it sums, against brute force."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mapapp.coverage import CoverageIndex
from mapapp.coverage.catchment import CatchmentGrid, two_step
from mapapp.geo.sphere import haversine_km, to_unit_xyz
from mapapp.schema import actors_frame


def _within(ulat, ulon, slat, slon, km: float) -> set[tuple[int, int]]:  # type: ignore[no-untyped-def]
    d = haversine_km(
        np.asarray(ulat)[:, None], np.asarray(ulon)[:, None], np.asarray(slat), np.asarray(slon)
    )
    return {(int(a), int(b)) for a, b in zip(*np.nonzero(d <= km), strict=True)}


def _found(grid: CatchmentGrid) -> set[tuple[int, int]]:
    indptr, cols = grid.pairs()
    rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    return set(zip(rows.tolist(), cols.tolist(), strict=True))


def _textbook(
    ulat: np.ndarray,
    ulon: np.ndarray,
    pop: np.ndarray,
    slat: np.ndarray,
    slon: np.ndarray,
    cap: np.ndarray,
    member: np.ndarray,
    km: float,
) -> np.ndarray:
    """The two steps on the full haversine distance matrix."""
    within = haversine_km(ulat[:, None], ulon[:, None], slat, slon) <= km
    demand = pop @ within
    ratio = np.divide(cap, demand, out=np.zeros_like(cap), where=demand > 0)
    return np.asarray(within @ (member * ratio[:, None]))


@pytest.mark.parametrize("split", [1, 2, 3])
@pytest.mark.parametrize("km", [0.05, 3.0, 25.0, 400.0])
def test_pairs_equal_the_haversine_brute_force(split: int, km: float) -> None:
    # Clusters much tighter than the catchment, spread ones wider, and the
    # zones far apart (mainland, Antilles, Réunion, Guyane): every case of cells.
    rng = np.random.default_rng(int(km * 100) + split)
    centres = np.array([[45.0, 0.5], [16.2, -61.5], [-21.1, 55.5], [4.9, -52.3]])
    pick = rng.integers(0, len(centres), 400)
    scale = rng.choice([0.001, 0.05, 1.0], 400)[:, None]
    pts = centres[pick] + rng.normal(0.0, 1.0, (400, 2)) * scale
    ulat, ulon, slat, slon = pts[:150, 0], pts[:150, 1], pts[150:, 0], pts[150:, 1]
    grid = CatchmentGrid.build(
        to_unit_xyz(ulat, ulon), to_unit_xyz(slat, slon), catchment_km=km, split=split
    )
    want = _within(ulat, ulon, slat, slon, km)
    assert len(want) > 0
    assert _found(grid) == want


def _destination(lat: np.ndarray, lon: np.ndarray, bearing: np.ndarray, km: np.ndarray):  # type: ignore[no-untyped-def]
    """The point ``km`` away from ``(lat, lon)`` along ``bearing`` (radians), on the sphere."""
    p1, d = np.radians(lat), np.asarray(km) / 6371.0088
    p2 = np.arcsin(np.sin(p1) * np.cos(d) + np.cos(p1) * np.sin(d) * np.cos(bearing))
    dl = np.arctan2(np.sin(bearing) * np.sin(d) * np.cos(p1), np.cos(d) - np.sin(p1) * np.sin(p2))
    return np.degrees(p2), lon + np.degrees(dl)


@pytest.mark.parametrize("split", [1, 2, 3])
@pytest.mark.parametrize("km", [0.05, 10.0, 300.0])
def test_services_just_inside_the_edge_are_found_and_just_outside_are_not(
    split: int, km: float
) -> None:
    # Every direction, a millionth of the radius inside or outside the edge:
    # a run cut a little short, or a column left out, loses some of them.
    rng = np.random.default_rng(split)
    ulat, ulon = rng.uniform(-60, 60, 40), rng.uniform(-180, 180, 40)
    at = np.repeat(np.arange(40), 200)
    bearing = rng.uniform(0, 2 * np.pi, len(at))
    factor = np.where(np.arange(len(at)) % 2 == 0, 1 - 1e-6, 1 + 1e-6)
    slat, slon = _destination(ulat[at], ulon[at], bearing, km * factor)
    grid = CatchmentGrid.build(
        to_unit_xyz(ulat, ulon), to_unit_xyz(slat, slon), catchment_km=km, split=split
    )
    found = _found(grid)
    assert {(int(at[j]), j) for j in range(0, len(at), 2)} <= found
    assert found == _within(ulat, ulon, slat, slon, km)


def test_a_catchment_wider_than_the_earth_reaches_every_service() -> None:
    lat, lon = np.array([89.9, -89.9, 0.0, 0.0]), np.array([0.0, 179.0, -179.9, 179.9])
    grid = CatchmentGrid.build(to_unit_xyz(lat, lon), to_unit_xyz(lat, lon), catchment_km=30_000)
    assert len(_found(grid)) == 16


def test_points_without_coordinates_reach_nothing_and_are_reached_by_nothing() -> None:
    ulat, ulon = np.array([45.0, np.nan, 45.0]), np.array([0.0, 0.0, 0.01])
    slat, slon = np.array([45.0, 45.0, np.nan]), np.array([0.005, np.nan, 0.0])
    grid = CatchmentGrid.build(to_unit_xyz(ulat, ulon), to_unit_xyz(slat, slon), catchment_km=5)
    assert _found(grid) == {(0, 0), (2, 0)}
    a = two_step(
        grid, np.array([10.0, 99.0, 30.0]), np.array([4.0, 7.0, 7.0]), np.ones((3, 1), bool)
    )
    assert a.ravel().tolist() == pytest.approx([0.1, 0.0, 0.1])


def test_empty_sides_give_no_pairs_and_zero_accessibility() -> None:
    none = np.empty((0, 3))
    one = to_unit_xyz([45.0], [0.0])
    assert _found(CatchmentGrid.build(none, one, catchment_km=10)) == set()
    grid = CatchmentGrid.build(one, none, catchment_km=10)
    assert two_step(grid, np.ones(1), np.empty(0), np.empty((0, 2), bool)).tolist() == [[0.0, 0.0]]
    with pytest.raises(ValueError, match="positive"):
        CatchmentGrid.build(one, one, catchment_km=0)


coords = st.tuples(st.floats(44.0, 44.5), st.floats(0.0, 0.5))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(coords, st.integers(0, 5000)), min_size=1, max_size=25),
    st.lists(
        st.tuples(coords, st.floats(0.5, 50), st.lists(st.booleans(), min_size=3, max_size=3)),
        min_size=1,
        max_size=40,
    ),
    st.floats(1.0, 30.0),
    st.integers(1, 3),
)
def test_two_step_equals_the_textbook_and_conserves_capacity(
    units: list[tuple[tuple[float, float], int]],
    services: list[tuple[tuple[float, float], float, list[bool]]],
    km: float,
    split: int,
) -> None:
    ulat, ulon = (np.array([u[0][k] for u in units]) for k in (0, 1))
    slat, slon = (np.array([s[0][k] for s in services]) for k in (0, 1))
    pop = np.array([u[1] for u in units], dtype=float)
    cap = np.array([s[1] for s in services])
    member = np.array([s[2] for s in services], dtype=bool)
    grid = CatchmentGrid.build(
        to_unit_xyz(ulat, ulon), to_unit_xyz(slat, slon), catchment_km=km, split=split
    )
    got = two_step(grid, pop, cap, member)
    want = _textbook(ulat, ulon, pop, slat, slon, cap, member, km)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-15)
    # every place of a service someone reaches is shared out, none created
    within = haversine_km(ulat[:, None], ulon[:, None], slat, slon) <= km
    reached = (within & (pop[:, None] > 0)).any(axis=0)
    np.testing.assert_allclose(pop @ got, (member[reached] * cap[reached, None]).sum(axis=0))


def test_index_fresh_and_kept_paths_agree_with_many_services() -> None:
    rng = np.random.default_rng(5)
    communes = pd.DataFrame(
        {
            "nom": [f"C{k}" for k in range(30)],
            "departement": "24",
            "population": rng.integers(0, 3000, 30),
            "plm_city": False,
            "lat": 45.0 + rng.uniform(0, 0.4, 30),
            "lon": rng.uniform(0, 0.5, 30),
        },
        index=[f"24{k:03d}" for k in range(30)],
    )
    slugs = ["mobilite", "garde-enfants", "logement"]
    actors = actors_frame(
        [
            {
                "id": f"x:{k}",
                "obstacles": list(rng.choice(slugs, rng.integers(1, 3), replace=False)),
                "latitude": 45.0 + rng.uniform(0, 0.4),
                "longitude": rng.uniform(0, 0.5),
                "capacite": int(rng.integers(1, 40)) if k % 2 else None,
            }
            for k in range(300)
        ]
    )
    index = CoverageIndex.build(actors, communes, obstacles=slugs)
    fresh = index.accessibility(catchment_km=8, keep=False)
    assert index._reach == {}  # nothing kept, no pair listed
    kept = index.accessibility(catchment_km=8)
    pd.testing.assert_frame_equal(fresh, kept, check_exact=False, rtol=1e-12)
    assert (fresh.to_numpy() > 0).sum() > 30
