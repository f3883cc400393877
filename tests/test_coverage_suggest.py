"""Where one more service helps most: a line worked by hand, brute force, honest totals."""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from mapapp.coverage import (
    Territory,
    coverage_table,
    select_services,
    suggest_sites,
    territory_units,
)
from mapapp.geo.communes import Geography, analysis_units
from mapapp.geo.sphere import haversine_km

# 0.127° of longitude on the 45th parallel is 9.985 km.
STEP = 0.127


def _line(pops: list[int]) -> pd.DataFrame:
    n = len(pops)
    return pd.DataFrame(
        {
            "lat": [45.0] * n,
            "lon": [STEP * k for k in range(n)],
            "departement": "24",
            "population": pops,
            "nom": [f"C{k}" for k in range(n)],
        },
        index=[f"24{k:03d}" for k in range(n)],
    )


def _svc(lat: list[float], lon: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {"id": [f"s{i}" for i in range(len(lat))], "lat": lat, "lon": lon, "zone": 0}
    )


def test_line_worked_by_hand() -> None:
    # Ten communes 10 km apart, a service at C0; a 12 km radius reaches the next
    # commune only.  Uncovered: C2..C9.  A site covers itself and both
    # neighbours: C8 covers C7+C8+C9 = 60+70+80 = 210, the best.
    units = _line([5, 5, 10, 10, 10, 10, 10, 60, 70, 80])
    sites = suggest_sites(units, _svc([45.0], [0.0]), radius_km=12, n=4)
    assert sites["code_insee"].tolist()[:1] == ["24008"]  # C7+C8+C9 = 210
    assert sites["population_gained"].tolist()[0] == 210
    # Left uncovered: C2..C6 (50 people).  C3, C4 and C5 each reach 30 (ties go
    # to the most populous host, then the first): C3.  Then C5 reaches C5+C6 = 20.
    assert sites["population_gained"].tolist()[1] == 30
    assert sites["code_insee"].iloc[1] == "24003"
    assert sites["population_gained"].tolist()[2] == 20
    assert sites["population_beyond_after"].tolist() == [50, 20, 0]
    assert len(sites) == 3  # nobody left: a fourth site would bring nobody


def test_nothing_to_do_when_everyone_is_covered() -> None:
    units = _line([10, 10])
    sites = suggest_sites(units, _svc([45.0], [0.05]), radius_km=12, n=3)
    assert sites.empty and "population_gained" in sites.columns


def test_candidates_are_respected() -> None:
    units = _line([5, 5, 10, 10, 10, 10, 10, 60, 70, 80])
    sites = suggest_sites(
        units, _svc([45.0], [0.0]), radius_km=12, n=1, candidates=pd.Index(["24002", "24005"])
    )
    assert sites["code_insee"].tolist() == ["24005"]
    assert sites["population_gained"].tolist() == [30]  # C4+C5+C6


def _gain(units: pd.DataFrame, uncovered: np.ndarray, site: str, radius: float) -> float:
    lat, lon = units.loc[site, ["lat", "lon"]]
    d = haversine_km(lat, lon, units["lat"].to_numpy(), units["lon"].to_numpy())
    return float(units["population"].to_numpy()[uncovered & (d <= radius)].sum())


@pytest.mark.slow
def test_greedy_first_pick_is_the_best_single_site_and_totals_are_honest(
    geo: Geography, demo: gpd.GeoDataFrame
) -> None:
    units = territory_units(analysis_units(geo.communes), Territory("departement", "23"))
    services = select_services(demo, geo.communes, obstacles=["mobilite"])
    radius = 8.0
    sites = suggest_sites(units, services, radius_km=radius, n=3)
    assert len(sites) == 3
    table = coverage_table(units, services, radius_km=radius)
    uncovered = ~table["within_radius"].to_numpy()
    # Brute force over every candidate commune.
    gains = {c: _gain(units, uncovered, c, radius) for c in units.index}
    assert sites["population_gained"].iloc[0] == pytest.approx(max(gains.values()))
    # Second pick: the best marginal gain given the first.
    first = sites["code_insee"].iloc[0]
    lat, lon = units.loc[first, ["lat", "lon"]]
    d1 = haversine_km(lat, lon, units["lat"].to_numpy(), units["lon"].to_numpy())
    left = uncovered & (d1 > radius)
    second = max(_gain(units, left, c, radius) for c in units.index)
    assert sites["population_gained"].iloc[1] == pytest.approx(second)
    # Independent check of what is left: add the sites as services and recount.
    pts = services.points
    added = pd.concat(
        [
            pts,
            pd.DataFrame(
                {"id": sites["code_insee"], "lat": sites["lat"], "lon": sites["lon"], "zone": 0}
            ),
        ],
        ignore_index=True,
    )
    after = coverage_table(units, added, radius_km=radius)
    beyond = units["population"][~after["within_radius"]].sum()
    assert sites["population_beyond_after"].iloc[-1] == beyond
    assert table["population"][uncovered].sum() - sites["population_gained"].sum() == beyond


def test_greedy_is_close_to_optimal_on_small_instances() -> None:
    rng = np.random.default_rng(11)
    for _ in range(5):
        units = pd.DataFrame(
            {
                "lat": rng.uniform(45.0, 45.5, 14),
                "lon": rng.uniform(0.0, 0.7, 14),
                "departement": "24",
                "population": rng.integers(1, 1000, 14),
                "nom": "x",
            },
            index=[f"24{k:03d}" for k in range(14)],
        )
        radius = 9.0
        sites = suggest_sites(units, _svc([45.9], [0.0]), radius_km=radius, n=2)
        lat, lon = units["lat"].to_numpy(), units["lon"].to_numpy()
        d = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
        pop = units["population"].to_numpy()
        best = max(
            pop[(d[a] <= radius) | (d[b] <= radius)].sum()
            for a, b in itertools.combinations(range(14), 2)
        )
        assert sites["population_gained"].sum() >= (1 - 1 / np.e) * best
        assert sites["population_gained"].sum() <= best


def test_bad_arguments() -> None:
    units = _line([1, 2])
    with pytest.raises(ValueError, match="n must"):
        suggest_sites(units, _svc([45.0], [0.0]), n=0)
    with pytest.raises(ValueError, match="radius_km"):
        suggest_sites(units, _svc([45.0], [0.0]), radius_km=-1)
