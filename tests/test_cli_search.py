"""``mapapp search`` end to end on the demo data, through the real console entry point."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import geopandas as gpd
import numpy as np
import pytest

from mapapp.geo.communes import Geography
from mapapp.geo.sphere import haversine_km
from mapapp.settings import Settings


def _run(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(settings.data_dir.parent),
        "MAPAPP_DATA_DIR": str(settings.data_dir),
        "MAPAPP_CACHE_DIR": str(settings.cache_dir),
    }
    return subprocess.run(
        [sys.executable, "-m", "mapapp", "search", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_search_json_matches_brute_force(
    settings: Settings, geo: Geography, demo: gpd.GeoDataFrame
) -> None:
    proc = _run(
        settings,
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


def test_search_csv_and_table(settings: Settings) -> None:
    proc = _run(
        settings,
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
    table = _run(settings, "--near", "93200", "--obstacle", "logement", "--limit", "2")
    assert table.returncode == 0 and "distance_km" in table.stdout


def test_confidential_addresses_are_not_printed(settings: Settings, demo: gpd.GeoDataFrame) -> None:
    proc = _run(
        settings,
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
        (["--near", "93200", "--obstacle", "childcare"], "childcare"),
        (["--near", "99999"], "no commune"),
    ],
)
def test_bad_input_gives_a_clear_error(settings: Settings, args: list[str], message: str) -> None:
    proc = _run(settings, *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_confidential_distance_is_measured_from_the_commune(
    settings: Settings, geo: Geography, demo: gpd.GeoDataFrame
) -> None:
    """A distance from the real position would let repeated searches locate a shelter."""
    proc = _run(
        settings,
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
