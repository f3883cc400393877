"""``mapapp coverage``: its output is what the functions compute, and errors read clearly."""

from __future__ import annotations

import io
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner

from mapapp.cli import cli
from mapapp.coverage import Territory, coverage_analysis, suggest_sites, territory_units
from mapapp.geo.communes import Geography, analysis_units
from mapapp.safety import public_view
from mapapp.settings import Settings

pytestmark = pytest.mark.slow  # spawns the app or the CLI; see README, Tests


@pytest.fixture
def run(settings: Settings, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MAPAPP_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("MAPAPP_CACHE_DIR", str(settings.cache_dir))

    def invoke(*args: str) -> tuple[str, str]:
        result = CliRunner().invoke(cli, ["coverage", *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output + result.stderr
        return result.stdout, result.stderr

    return invoke


def _read_csv(text: str) -> pd.DataFrame:
    codes = {"code_insee": str, "departement": str}
    return pd.read_csv(io.StringIO(text), dtype=codes, keep_default_na=False)


def test_csv_for_a_departement_is_the_analysis_table(
    run,
    geo: Geography,
    demo: gpd.GeoDataFrame,  # type: ignore[no-untyped-def]
) -> None:
    out, err = run(
        "--obstacle", "garde-enfants", "--departement", "93", "--format", "csv", "--catchment", "5"
    )
    assert "Données de démonstration" in err
    assert "vol d'oiseau" in err
    got = _read_csv(out).set_index("code_insee")
    expected = coverage_analysis(
        public_view(demo, geo.communes),
        geo.communes,
        territory=Territory("departement", "93"),
        obstacles=["garde-enfants"],
        catchment_km=5,
    ).table
    assert got.index.tolist() == expected.index.tolist()
    # Seine-Saint-Denis: 39 communes since Pierrefitte-sur-Seine merged into Saint-Denis (2025).
    assert len(got) == 39
    np.testing.assert_allclose(got["distance_km"], expected["distance_km"], atol=5e-4)
    np.testing.assert_allclose(
        got["accessibility_per_10k"], expected["accessibility_per_10k"], atol=5e-4
    )
    assert got["nearest_id"].tolist() == expected["nearest_id"].tolist()


def test_suggest_for_a_region(run, geo: Geography, demo: gpd.GeoDataFrame) -> None:  # type: ignore[no-untyped-def]
    out, err = run(
        "--suggest", "5", "--obstacle", "garde-enfants", "--region", "11", "--format", "csv"
    )
    got = _read_csv(out)
    res = coverage_analysis(
        public_view(demo, geo.communes),
        geo.communes,
        territory=Territory("region", "11"),
        obstacles=["garde-enfants"],
    )
    units = territory_units(analysis_units(geo.communes), Territory("region", "11"))
    expected = suggest_sites(units, res.services, radius_km=10, n=5)
    assert got["code_insee"].tolist() == expected["code_insee"].tolist()
    assert got["population_gained"].tolist() == expected["population_gained"].tolist()
    assert "population beyond 10 km now" in err


def test_table_compare_and_national_levels(run) -> None:  # type: ignore[no-untyped-def]
    out, _ = run("--obstacle", "garde-enfants", "--departement", "23", "--limit", "3")
    assert "Distance moyenne, pondérée par la population" in out
    out, _ = run(
        "--obstacle",
        "garde-enfants",
        "--obstacle",
        "mobilite",
        "--compare",
        "--departement",
        "23",
        "--lang",
        "en",
    )
    header = out.splitlines()[0]
    assert "garde-enfants" in header and "mobilite" in header
    out, _ = run("--obstacle", "violences", "--format", "csv")
    nat = _read_csv(out)
    assert "mean_distance_km" in nat.columns and len(nat) == 101  # départements


def test_geojson_and_gpkg_files(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out, _ = run("--type", "creche", "--epci", "200054781", "--format", "geojson")
    doc = json.loads(out)
    assert len(doc["features"]) > 100  # the Métropole du Grand Paris, by arrondissement
    target = tmp_path / "c.gpkg"
    run("--obstacle", "emploi", "--departement", "2A", "--format", "gpkg", "--output", str(target))
    layer = pyogrio.read_dataframe(target)
    assert len(layer) == 124 and layer["code_insee"].str.startswith("2A").all()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--departement", "99", "--obstacle", "emploi"], "93, 2A or 974"),
        (["--departement", "93", "--region", "11"], "at most one of"),
        (["--departement", "93", "--format", "gpkg"], "give --output FILE"),
        (["--departement", "93", "--obstacle", "emploi", "--compare"], "at least two"),
    ],
)
def test_errors_are_one_clear_line(
    mapapp_cli: Callable[..., subprocess.CompletedProcess[str]], args: list[str], message: str
) -> None:
    proc = mapapp_cli("coverage", *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
