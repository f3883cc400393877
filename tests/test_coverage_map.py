"""The coverage choropleth: classes by hand, inert text, département shapes, payload size."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from mapapp.coverage import Territory, coverage_analysis
from mapapp.coverage.classes import (
    NONE_COLOR,
    accessibility_classes,
    distance_classes,
    legend_frame,
)
from mapapp.geo.communes import Geography, analysis_units
from mapapp.geo.shapes import departement_shapes, display_geometry
from mapapp.render.choropleth import coverage_map
from mapapp.render.search_map import map_html_bytes
from tests.conftest import _cache_dir


def test_distance_classes_by_hand() -> None:
    c = distance_classes([0.0, 2.0, 2.01, 5.0, 9.9, 10.0, 19.0, 20.5, np.inf, np.nan])
    assert c.codes.tolist() == [0, 0, 1, 1, 2, 2, 3, 4, 5, 5]
    assert c.labels == (
        "≤ 2 km",
        "2 – 5 km",
        "5 – 10 km",
        "10 – 20 km",
        "> 20 km",
        "aucun service dans la zone",
    )
    assert c.colors[-1] == NONE_COLOR and len(set(c.colors)) == 6
    assert distance_classes([1.0], lang="en").labels[-1] == "no service in the zone"
    assert legend_frame(c).shape == (6, 2)


def test_accessibility_classes_best_first_and_zero_apart() -> None:
    values = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]  # positives split in quartiles
    c = accessibility_classes(values, n_classes=4)
    # Quartile edges of 1..8: 2.75, 4.5, 6.25.  Highest values get class 0.
    assert c.codes.tolist() == [4, 3, 3, 2, 2, 1, 1, 0, 0]
    assert c.labels[0] == "≥ 6,25" and c.labels[3] == "1 – 2,75"
    assert accessibility_classes([0.0, 0.0]).codes.tolist() == [0, 0]


@pytest.mark.parametrize(
    "hostile",
    ["${alert(1)}", "{{7*7}}", "</script><script>alert(1)</script>", "`x`", "<img src=x>"],
)
def test_names_in_the_map_are_inert(hostile: str) -> None:
    s = gpd.GeoSeries([box(0, 45, 0.1, 45.1)], index=["24001"], crs="EPSG:4326")
    m = coverage_map(s, distance_classes([3.0]), values=["3 km"], names=[hostile], population=[10])
    html = m.get_root().render()
    assert hostile not in html
    assert "49" not in html.split("24001")[1][:200]  # Jinja did not evaluate {{7*7}}


def test_departement_shapes_hold_their_communes(geo: Geography) -> None:
    shapes = departement_shapes(_cache_dir())
    units = analysis_units(geo.communes)
    assert sorted(shapes.index) == sorted(units["departement"].unique())
    assert shapes.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    pts = gpd.GeoSeries(gpd.points_from_xy(units["lon"], units["lat"]), index=units.index)
    inside = shapely.contains(
        shapes.geometry.reindex(units["departement"]).to_numpy(), pts.to_numpy()
    )
    # Simplified to ~200 m: a few coastal or border points may fall just outside.
    assert inside.mean() > 0.995


def test_largest_departement_map_stays_under_3_mb(geo: Geography, demo: gpd.GeoDataFrame) -> None:
    units = analysis_units(geo.communes)
    largest = units["departement"].value_counts().idxmax()
    res = coverage_analysis(
        demo, geo.communes, territory=Territory("departement", largest), obstacles=["garde-enfants"]
    )
    shapes = display_geometry(units.geometry.loc[res.table.index])
    m = coverage_map(
        shapes,
        distance_classes(res.table["distance_km"]),
        values=[f"{d:.1f} km" for d in res.table["distance_km"]],
        names=list(res.table["nom"]),
        population=list(res.table["population"]),
    )
    size = map_html_bytes(m)
    assert size <= 3_000_000, size
    assert len(res.table) > 850


def test_display_geometry_rounds_and_keeps_the_index() -> None:
    s = gpd.GeoSeries([box(0.123456789, 45.0, 0.2, 45.1)], index=["x"], crs="EPSG:4326")
    d = display_geometry(s, decimals=3)
    assert d.index.tolist() == ["x"]
    xy = shapely.get_coordinates(d.to_numpy())
    assert np.allclose(xy, np.round(xy, 3))
    assert isinstance(d, pd.Series)
