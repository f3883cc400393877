"""Exports say what the functions computed: CSV, GeoJSON and GeoPackage read back."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import box

from mapapp.coverage import (
    Territory,
    coverage_analysis,
    coverage_layer,
    layer_to_geojson,
    layer_to_gpkg,
    table_to_csv,
)
from mapapp.geo.communes import Geography, analysis_units


@pytest.fixture(scope="module")
def creuse(geo: Geography, demo: gpd.GeoDataFrame) -> pd.DataFrame:
    res = coverage_analysis(
        demo,
        geo.communes,
        territory=Territory("departement", "23"),
        obstacles=["garde-enfants"],
        catchment_km=10,
    )
    return res.table


def test_csv_reads_back_as_the_table(creuse: pd.DataFrame) -> None:
    back = pd.read_csv(
        io.BytesIO(table_to_csv(creuse)),
        dtype={"code_insee": str, "departement": str},
        keep_default_na=False,
    )
    assert back["code_insee"].tolist() == creuse.index.tolist()
    assert back.columns.tolist() == ["code_insee", *creuse.columns]
    for col in ["distance_km", "accessibility_per_10k"]:
        np.testing.assert_allclose(back[col].astype(float), creuse[col], atol=5e-4)
    assert back["population"].tolist() == creuse["population"].tolist()
    assert back["nearest_nom"].tolist() == creuse["nearest_nom"].tolist()
    assert (
        back["within_radius"].astype(str).tolist() == creuse["within_radius"].astype(str).tolist()
    )


def test_inf_is_exported_as_empty_not_as_inf() -> None:
    t = pd.DataFrame(
        {"distance_km": [1.23456, math.inf], "nearest_id": ["a", ""]},
        index=pd.Index(["97611", "97612"], name="code_insee"),
    )
    text = table_to_csv(t).decode()
    assert "inf" not in text
    assert text.splitlines() == ["code_insee,distance_km,nearest_id", "97611,1.235,a", "97612,,"]
    layer = coverage_layer(
        t,
        gpd.GeoDataFrame(
            geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], index=t.index, crs="EPSG:4326"
        ),
    )
    props = [f["properties"] for f in json.loads(layer_to_geojson(layer))["features"]]
    assert props[1]["distance_km"] is None and props[0]["distance_km"] == pytest.approx(1.23456)


def test_geojson_and_gpkg_layers(creuse: pd.DataFrame, geo: Geography, tmp_path: Path) -> None:
    shapes = gpd.GeoDataFrame(geometry=analysis_units(geo.communes).geometry)
    layer = coverage_layer(creuse, shapes)
    assert len(layer) == len(creuse)
    doc = json.loads(layer_to_geojson(layer))
    assert len(doc["features"]) == len(creuse)
    first = doc["features"][0]["properties"]
    assert first["code_insee"] == creuse.index[0]
    assert first["distance_km"] == pytest.approx(creuse["distance_km"].iloc[0])
    path = tmp_path / "layer.gpkg"
    path.write_bytes(layer_to_gpkg(layer))
    back = pyogrio.read_dataframe(path)
    assert back["code_insee"].tolist() == creuse.index.tolist()
    np.testing.assert_allclose(back["distance_km"], creuse["distance_km"])
    assert back.crs.to_epsg() == 4326


def test_proposed_sites_travel_in_every_format(
    geo: Geography, demo: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    from mapapp.coverage import suggest_sites, territory_units, with_sites

    res = coverage_analysis(
        demo, geo.communes, territory=Territory("departement", "23"), obstacles=["garde-enfants"]
    )
    units = territory_units(analysis_units(geo.communes), res.territory)
    sites = suggest_sites(units, res.services, radius_km=res.radius_km, n=3)
    assert len(sites) == 3  # the Creuse has people beyond 10 km of a crèche
    table = with_sites(res.table, sites)
    # CSV: the rank on each host commune's row, nowhere else.
    back = pd.read_csv(io.BytesIO(table_to_csv(table)), dtype={"code_insee": str})
    ranked = back.dropna(subset=["proposed_site_rank"]).set_index("code_insee")
    assert ranked["proposed_site_rank"].astype(int).to_dict() == dict(
        zip(sites["code_insee"], sites["rank"], strict=True)
    )
    ranked = ranked.sort_values("proposed_site_rank")
    assert ranked["proposed_site_population_gained"].astype(int).tolist() == (
        sites["population_gained"].tolist()
    )
    # GeoJSON and GeoPackage: the same, as feature properties.
    shapes = gpd.GeoDataFrame(geometry=analysis_units(geo.communes).geometry)
    layer = coverage_layer(table, shapes)
    props = [f["properties"] for f in json.loads(layer_to_geojson(layer))["features"]]
    assert {p["code_insee"]: p["proposed_site_rank"] for p in props if p["proposed_site_rank"]} == (
        dict(zip(sites["code_insee"], sites["rank"], strict=True))
    )
    path = tmp_path / "sites.gpkg"
    path.write_bytes(layer_to_gpkg(layer))
    gpkg = pyogrio.read_dataframe(path).dropna(subset=["proposed_site_rank"])
    assert sorted(gpkg["proposed_site_rank"].astype(int)) == [1, 2, 3]
    # By département: the count and the names, in rank order.
    deps = with_sites(res.departements, sites, departements=res.table["departement"])
    assert int(deps.loc["23", "proposed_sites"]) == 3
    assert deps.loc["23", "proposed_site_communes"].startswith(f"1. {sites['nom'].iloc[0]} (")
