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
