"""Nearest search: hand-checkable answers, brute-force agreement, and invariants."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mapapp.geo.sphere import EARTH_RADIUS_KM, haversine_km
from mapapp.schema import actors_frame
from mapapp.search import SearchIndex, SearchQuery
from mapapp.taxonomy import Obstacle

OBSTACLES = [o.value for o in Obstacle]

# One degree of latitude is exactly pi*R/180 km on the sphere.
KM_PER_DEG = np.pi * EARTH_RADIUS_KM / 180


def _grid() -> gpd.GeoDataFrame:
    """Five services due north of (45, 5), 1..5 degrees of latitude... no: 0.01° apart."""
    rows = []
    for i in range(1, 6):
        rows.append(
            {
                "id": f"g:{i}",
                "obstacles": ["mobilite"] if i % 2 else ["mobilite", "numerique"],
                "actor_type": "siae" if i <= 3 else "ccas",
                "publics": ["femmes"] if i == 4 else (["jeunes"] if i == 2 else []),
                "frais": ["gratuit"] if i in (3, 5) else ["payant"],
                "latitude": 45.0 + 0.01 * i,
                "longitude": 5.0,
            }
        )
    rows.append({"id": "g:remote", "obstacles": ["numerique"], "modes_accueil": ["a-distance"]})
    rows.append({"id": "g:nocoords", "obstacles": ["mobilite"]})
    return actors_frame(rows)


def _q(**kw: object) -> SearchQuery:
    return SearchQuery(lat=45.0, lon=5.0, **kw)  # type: ignore[arg-type]


def test_distances_are_exact_meridian_arcs() -> None:
    res = SearchIndex(_grid()).nearest(_q(obstacles=("mobilite",)))
    assert res["id"].tolist() == ["g:1", "g:2", "g:3", "g:4", "g:5"]
    expected = [0.01 * i * KM_PER_DEG for i in range(1, 6)]
    assert res["distance_km"].to_numpy() == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    ("kw", "ids"),
    [
        ({"obstacles": ("numerique",)}, ["g:2", "g:4"]),
        ({"obstacles": ("numerique", "mobilite"), "match": "all"}, ["g:2", "g:4"]),
        ({"obstacles": ("numerique", "garde-enfants"), "match": "all"}, []),
        ({"obstacles": ("numerique", "garde-enfants")}, ["g:2", "g:4"]),
        ({"types": ("ccas",)}, ["g:4", "g:5"]),
        ({"publics": ("femmes",)}, ["g:1", "g:3", "g:4", "g:5"]),  # empty publics = everyone
        ({"publics": ("jeunes", "femmes")}, ["g:1", "g:2", "g:3", "g:4", "g:5"]),
        ({"free_only": True}, ["g:3", "g:5"]),
        ({"radius_km": 0.025 * KM_PER_DEG}, ["g:1", "g:2"]),
        ({"limit": 2, "types": ("siae", "ccas")}, ["g:1", "g:2"]),
        ({"obstacles": ("mobilite",), "types": ("ccas",), "free_only": True}, ["g:5"]),
    ],
)
def test_filters(kw: dict[str, object], ids: list[str]) -> None:
    assert SearchIndex(_grid()).nearest(_q(**kw))["id"].tolist() == ids


def test_remote_services_are_apart() -> None:
    index = SearchIndex(_grid())
    assert "g:remote" not in index.nearest(_q(limit=50))["id"].tolist()
    assert "g:nocoords" not in index.nearest(_q(limit=50))["id"].tolist()
    assert index.remote(_q(obstacles=("numerique",)))["id"].tolist() == ["g:remote"]
    assert index.remote(_q(obstacles=("mobilite",))).empty


@pytest.mark.parametrize(
    "kw",
    [
        {"lat": 91.0, "lon": 0.0},
        {"lat": 0.0, "lon": 0.0, "limit": 0},
        {"lat": 0.0, "lon": 0.0, "radius_km": -1.0},
        {"lat": 0.0, "lon": 0.0, "match": "some"},
    ],
)
def test_invalid_queries(kw: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        SearchQuery(**kw)  # type: ignore[arg-type]


def _brute(actors: pd.DataFrame, q: SearchQuery) -> tuple[list[str], np.ndarray]:
    mask = np.ones(len(actors), dtype=bool)
    if q.obstacles:
        wanted = set(q.obstacles)
        has = actors["obstacles"].map(lambda v: wanted & set(v))
        mask &= has.map(lambda s: s == wanted if q.match == "all" else bool(s)).to_numpy()
    if q.types:
        mask &= actors["actor_type"].isin(q.types).to_numpy()
    mask &= actors["modes_accueil"].map(lambda v: "en-presentiel" in v).to_numpy()
    sub = actors[mask]
    d = haversine_km(q.lat, q.lon, sub["latitude"], sub["longitude"])
    if q.radius_km is not None:
        sub, d = sub[d <= q.radius_km], d[d <= q.radius_km]
    order = np.argsort(d, kind="stable")[: q.limit]
    return sub["id"].to_numpy()[order].tolist(), d[order]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("lat", "lon", "obstacles", "match", "types", "radius"),
    [
        (48.93, 2.36, ("garde-enfants",), "any", (), None),  # Saint-Denis (93)
        (-20.94, 55.45, ("violences", "logement"), "any", (), None),  # Saint-Denis (974)
        (45.76, 4.83, ("numerique", "droits"), "all", (), 30.0),  # Lyon
        (4.93, -52.33, ("emploi",), "any", ("france-travail", "mission-locale"), None),  # Cayenne
        (43.3, 5.37, (), "any", ("cidff",), 200.0),
    ],
)
def test_demo_data_agrees_with_brute_force(
    demo: gpd.GeoDataFrame,
    lat: float,
    lon: float,
    obstacles: tuple[str, ...],
    match: str,
    types: tuple[str, ...],
    radius: float | None,
) -> None:
    index = SearchIndex(demo)
    q = SearchQuery(
        lat=lat,
        lon=lon,
        obstacles=obstacles,
        match=match,
        types=types,  # type: ignore[arg-type]
        radius_km=radius,
        limit=15,
    )
    got = index.nearest(q)
    ids, dist = _brute(demo, q)
    assert len(ids) > 0
    assert got["distance_km"].to_numpy() == pytest.approx(dist, abs=1e-6)
    assert got["id"].tolist() == ids


# --- invariants (hypothesis) ------------------------------------------------------------

_lat = st.floats(41.5, 51.0)
_lon = st.floats(-4.5, 8.0)
_actor = st.tuples(_lat, _lon, st.sets(st.sampled_from(OBSTACLES[:4]), min_size=1))


def _frame(actors: list[tuple[float, float, set[str]]]) -> gpd.GeoDataFrame:
    return actors_frame(
        [
            {"id": f"h:{i}", "latitude": la, "longitude": lo, "obstacles": sorted(obs)}
            for i, (la, lo, obs) in enumerate(actors)
        ]
    )


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    actors=st.lists(_actor, min_size=1, max_size=40),
    lat=_lat,
    lon=_lon,
    obstacles=st.sets(st.sampled_from(OBSTACLES[:4]), max_size=2),
    radius=st.one_of(st.none(), st.floats(1.0, 800.0)),
    limit=st.integers(1, 12),
)
def test_results_sorted_within_radius_and_matching(
    actors: list[tuple[float, float, set[str]]],
    lat: float,
    lon: float,
    obstacles: set[str],
    radius: float | None,
    limit: int,
) -> None:
    frame = _frame(actors)
    q = SearchQuery(
        lat=lat, lon=lon, obstacles=tuple(sorted(obstacles)), radius_km=radius, limit=limit
    )
    res = SearchIndex(frame).nearest(q)
    d = res["distance_km"].to_numpy()
    assert len(res) <= limit
    assert np.all(np.diff(d) >= 0)
    if radius is not None:
        assert np.all(d <= radius + 1e-9)
    for obs in res["obstacles"]:
        assert not obstacles or set(obstacles) & set(obs)
    # the distances are the haversine distances of the rows returned
    ref = haversine_km(lat, lon, res["latitude"], res["longitude"])
    assert d == pytest.approx(ref, abs=1e-6)
    # and nothing closer was left out
    ids, _ = _brute(frame, q)
    assert len(res) == len(ids)


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(
    actors=st.lists(_actor, min_size=1, max_size=30),
    extra=_actor,
    lat=_lat,
    lon=_lon,
    obstacle=st.sampled_from(OBSTACLES[:4]),
)
def test_adding_an_actor_never_increases_the_nearest_distance(
    actors: list[tuple[float, float, set[str]]],
    extra: tuple[float, float, set[str]],
    lat: float,
    lon: float,
    obstacle: str,
) -> None:
    q = SearchQuery(lat=lat, lon=lon, obstacles=(obstacle,), limit=1)
    before = SearchIndex(_frame(actors)).nearest(q)["distance_km"]
    after = SearchIndex(_frame([*actors, extra])).nearest(q)["distance_km"]
    if len(before):
        assert len(after) == 1 and after.iloc[0] <= before.iloc[0] + 1e-12


def test_a_place_given_by_several_sources_is_listed_once() -> None:
    rows = [
        {
            "id": "a:1",
            "obstacles": ["emploi"],
            "latitude": 45.01,
            "longitude": 5.0,
            "cluster_id": "c1",
            "sources": ["a", "b"],
        },
        {
            "id": "b:9",
            "obstacles": ["emploi"],
            "latitude": 45.0101,
            "longitude": 5.0,
            "cluster_id": "c1",
            "duplicate": True,
            "sources": ["a", "b"],
        },
        {"id": "a:2", "obstacles": ["emploi"], "latitude": 45.02, "longitude": 5.0},
        {
            "id": "b:3",
            "obstacles": ["sante"],
            "latitude": 45.03,
            "longitude": 5.0,
            "cluster_id": "c2",
            "duplicate": True,
        },
    ]
    index = SearchIndex(actors_frame(rows))
    assert index.nearest(_q(obstacles=("emploi",)))["id"].tolist() == ["a:1", "a:2"]
    # a duplicate that alone carries the obstacle asked for is still found
    assert index.nearest(_q(obstacles=("sante",)))["id"].tolist() == ["b:3"]
    assert index.nearest(_q(limit=2))["id"].tolist() == ["a:1", "a:2"]
