"""``mapapp search`` end to end on the demo data, through the real console entry point."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pytest

from mapapp.geo.communes import Geography
from mapapp.geo.sphere import haversine_km

pytestmark = pytest.mark.slow  # spawns the app or the CLI; see README, Tests

Cli = Callable[..., subprocess.CompletedProcess[str]]


def test_search_json_matches_brute_force(
    mapapp_cli: Cli, geo: Geography, demo: gpd.GeoDataFrame
) -> None:
    proc = mapapp_cli(
        "search",
        "--near",
        "Saint-Denis 93",
        "--obstacle",
        "garde-enfants",
        "--obstacle",
        "mobilite",
        "--limit",
        "10",
        "--format",
        "json",
    )
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    lat, lon = geo.communes.loc["93066", ["lat", "lon"]]
    cand = demo[demo["obstacles"].map(lambda v: bool({"garde-enfants", "mobilite"} & set(v)))]
    cand = cand[cand["modes_accueil"].map(lambda v: "en-presentiel" in v)]
    d = haversine_km(lat, lon, cand["latitude"], cand["longitude"])
    expected = np.sort(d)[:10]
    assert [r["distance_km"] for r in rows] == pytest.approx(np.round(expected, 2), abs=0.006)
    assert all({"garde-enfants", "mobilite"} & set(r["obstacles"].split(",")) for r in rows)
    assert "Saint-Denis (93)" in proc.stderr and "démonstration" in proc.stderr


def test_search_csv_and_table(mapapp_cli: Cli) -> None:
    proc = mapapp_cli(
        "search",
        "--lat",
        "-20.94",
        "--lon",
        "55.45",
        "--obstacle",
        "numerique",
        "--limit",
        "3",
        "--format",
        "csv",
    )
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert len(rows) == 3
    assert all(r["code_insee"].startswith("974") for r in rows)
    dists = [float(r["distance_km"]) for r in rows]
    assert dists == sorted(dists)
    table = mapapp_cli("search", "--near", "93200", "--obstacle", "logement", "--limit", "2")
    assert table.returncode == 0 and "distance_km" in table.stdout


def test_confidential_addresses_are_not_printed(mapapp_cli: Cli, demo: gpd.GeoDataFrame) -> None:
    proc = mapapp_cli(
        "search",
        "--near",
        "Saint-Denis 93",
        "--type",
        "hebergement",
        "--limit",
        "3",
        "--format",
        "json",
    )
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert rows and all(r["adresse"] == "" for r in rows)
    secret = demo[demo["id"].isin([r["id"] for r in rows])]
    for street, phone in zip(secret["adresse"], secret["telephone"], strict=True):
        assert street not in proc.stdout and phone not in proc.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--near", "st denis"], "choose one"),
        (["--near", "Xyzzyville"], "no commune matches"),
        (["--obstacle", "mobilite"], "--near"),
        (["--near", "93200", "--obstacle", "babysitting"], "babysitting"),
        (["--near", "93200", "--public", "zzz"], "femmes"),
        (["--near", "99999"], "no commune"),
    ],
)
def test_bad_input_gives_a_clear_error(mapapp_cli: Cli, args: list[str], message: str) -> None:
    proc = mapapp_cli("search", *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_confidential_distance_is_measured_from_the_commune(
    mapapp_cli: Cli, geo: Geography, demo: gpd.GeoDataFrame
) -> None:
    """A distance from the real position would let repeated searches locate a shelter."""
    proc = mapapp_cli(
        "search",
        "--near",
        "Saint-Denis 93",
        "--type",
        "hebergement",
        "--limit",
        "3",
        "--format",
        "json",
    )
    rows = json.loads(proc.stdout)
    lat0, lon0 = geo.communes.loc["93066", ["lat", "lon"]]
    for r in rows:
        lat, lon = geo.communes.loc[r["code_insee"], ["lat", "lon"]]
        assert r["distance_km"] == pytest.approx(
            float(haversine_km(lat0, lon0, lat, lon)), abs=0.006
        )
