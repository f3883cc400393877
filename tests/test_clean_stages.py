"""Each cleaning stage alone, on a few hand-written rows (no file, no store).

Expected values come from DOMAIN.md's tables, the data·inclusion
vocabularies and the reference geography (Grenoble is 38185, Voiron 38563),
never from the code's own output.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from mapapp.geo.communes import Geography
from mapapp.ingest.clean import (
    Reasons,
    stage_commune_point,
    stage_confidential,
    stage_declared_commune,
    stage_geocode,
    stage_hours,
    stage_ids,
    stage_lists,
    stage_location_reasons,
    stage_names,
    stage_obstacles,
    stage_point_or_commune,
    stage_repairs,
    stage_types,
)
from mapapp.ingest.locate import Locator
from mapapp.ingest.reasons import Quarantine, QuarantineReason


@pytest.fixture(scope="module")
def locator(geo: Geography) -> Locator:
    return Locator(geo)


def _s(*values: str) -> pd.Series:
    return pd.Series(list(values), dtype=object)


# --- reasons --------------------------------------------------------------------


def test_every_reason_speaks_french_and_english() -> None:
    for reason in QuarantineReason:
        fr, en = reason.message("fr"), reason.message("en")
        assert fr and en and fr != en, reason


def test_reason_texts_keep_their_meaning() -> None:
    """The English texts are those reports and quarantine files always carried."""
    assert Quarantine(QuarantineReason.NO_ID).text() == "no id (source_id) in the record"
    assert Quarantine(QuarantineReason.NO_NAME).text() == "no name (nom) in the record"
    q = Quarantine(QuarantineReason.NO_LOCATION, "ambiguous commune", "fix code_insee")
    assert q.text() == "no usable location: ambiguous commune; fix code_insee"
    assert q.kind() == "no usable location: ambiguous commune"
    assert q.text("fr").startswith("aucune localisation utilisable")
    assert q.as_dict()["reason_code"] == "no-location"


# --- identity -------------------------------------------------------------------


def test_ids_join_source_and_source_id_and_quarantine_missing_ids() -> None:
    reasons: Reasons = [None, None, None]
    source, ids = stage_ids(_s("Coord 38", "", "x"), _s("12", "7", ""), "import", reasons)
    assert source.tolist() == ["coord-38", "import", "x"]
    assert ids.tolist() == ["coord-38:12", "import:7", "x:"]
    assert reasons[:2] == [None, None]
    assert reasons[2] is not None and reasons[2].reason is QuarantineReason.NO_ID


def test_names_fall_back_on_the_structure_and_the_first_reason_wins() -> None:
    reasons: Reasons = [None, None, Quarantine(QuarantineReason.NO_ID)]
    names = stage_names(_s("Atelier", "", ""), _s("CCAS", "CCAS", ""), reasons)
    assert names.tolist() == ["Atelier", "CCAS", ""]
    assert reasons[1] is None
    assert reasons[2] is not None and reasons[2].reason is QuarantineReason.NO_ID


def test_names_missing_everywhere_quarantine() -> None:
    reasons: Reasons = [None]
    stage_names(_s(""), _s(""), reasons)
    assert reasons[0] is not None and reasons[0].reason is QuarantineReason.NO_NAME


# --- lists and vocabularies ---------------------------------------------------------


def test_lists_parse_postgres_literals_and_map_v0_profils() -> None:
    rows = pd.DataFrame(
        {
            "publics": ["{familles-enfants,femmes}"],
            "thematiques": ["{MOBILITE--x,numerique}"],
            "modes_accueil": [""],
        }
    )
    out = stage_lists(rows)
    assert out["publics"] == [["familles", "femmes"]]
    assert out["thematiques"] == [["mobilite--x", "numerique"]]
    assert out["modes_accueil"] == [["en-presentiel"]]


@pytest.mark.parametrize(
    ("explicit", "source_type", "codes", "expected"),
    [
        ("", "France Services;CNFS", [], "france-services"),
        ("", "", ["pimms-mediation", "france-service"], "france-services"),
        ("", "RS_FJT", [], "hebergement"),
        ("", "Hébergement", [], "hebergement"),
        ("", "", ["ASSO", "CHRS"], "hebergement"),
        ("siae", "ACI", [], "siae"),
        ("autre", "CIDFF", [], "cidff"),  # "autre" from a mapping's default says nothing
        ("", "Bibliothèque", [], "autre"),
    ],
)
def test_types_from_codes(explicit: str, source_type: str, codes: list[str], expected: str) -> None:
    types, _, _ = stage_types([explicit], [source_type], [codes], ["src"])
    assert types == [expected]


def test_unknown_codes_are_all_listed_but_the_source_name() -> None:
    _, kept, unknown = stage_types([""], ["ASSO;MUNI"], [["ACI", "fredo"]], ["fredo"])
    assert unknown == [["ASSO", "MUNI"]]
    assert kept == ["ASSO,MUNI,ACI,fredo"]  # every code kept on the record


def test_obstacles_unite_defining_ones_and_thematiques() -> None:
    obstacles, unknown = stage_obstacles(
        ["cidff", "creche", "mission-locale", "autre"],
        [
            ["difficultes-administratives-ou-juridiques--accompagnement-juridique"],
            ["cuisine--recettes"],
            [],
            ["mobilite--x"],
        ],
        [[], [], [], ["sante"]],
    )
    assert obstacles == [
        ["droits", "violences"],
        ["garde-enfants"],
        ["confiance", "emploi", "logement", "mobilite", "sante"],
        ["mobilite", "sante"],
    ]
    assert unknown == [[], ["cuisine--recettes"], [], []]


# --- confidentiality ------------------------------------------------------------------


def _conf(**cols: list[Any]) -> tuple[list[bool], list[set[str]]]:
    mask, findings = stage_confidential(pd.DataFrame(cols))
    return mask.tolist(), [{f.reason.value for f in row} for row in findings]


@pytest.mark.parametrize(
    "name",
    [
        "CHRS Le Phare",
        "chrs le phare",
        "Centre d'hébergement d'urgence",
        "HEBERGEMENT D'URGENCE",
        "Accueil de nuit Saint-Paul",
        "Mise à l'abri — Grenoble",
        "MISE A L'ABRI",
        "Accueil des femmes victimes de violences",
        "Le CHU de la rue",
        "CADA Isère",
        "Foyer de Jeunes Travailleurs",
        "Pension de famille Les Tilleuls",
    ],
)
def test_shelter_names_are_confidential(name: str) -> None:
    mask, why = _conf(nom=[name])
    assert mask == [True] and why == [{"shelter-name"}]


@pytest.mark.parametrize(
    "name", ["CHUV annexe", "Club de chute libre", "Crèche Les Chuchotis", "Cadastre", "Abricot"]
)
def test_words_inside_other_words_do_not_match(name: str) -> None:
    assert _conf(nom=[name])[0] == [False]


def test_structure_name_type_codes_and_flags_each_count() -> None:
    mask, why = _conf(
        nom=["Permanence", "Permanence", "Permanence", "Permanence", "Permanence"],
        structure_nom=["Association CHRS Horizon", "", "", "", ""],
        actor_type=["autre", "hebergement", "autre", "autre", "autre"],
        source_type=["", "", "Typologie: HUDA", "", ""],
        confidential=["", "", "", "oui", "non"],
    )
    assert mask == [True, True, True, True, False]
    assert why[:4] == [{"shelter-name"}, {"shelter-type"}, {"shelter-code"}, {"source-flag"}]


@pytest.mark.parametrize("flag", ["oui", "1", "true", "VRAI", "yes", "?", "confidentiel", True])
def test_any_flag_but_a_clear_no_is_confidential(flag: object) -> None:
    assert _conf(nom=["Lieu"], confidential=[flag])[0] == [True]


@pytest.mark.parametrize("flag", ["", "non", "0", "false", "Faux", False, None])
def test_a_clear_no_or_a_blank_is_not_a_flag(flag: object) -> None:
    assert _conf(nom=["Lieu"], confidential=[flag])[0] == [False]


# --- hours ------------------------------------------------------------------------------


def test_invalid_hours_move_to_the_description() -> None:
    hours, desc, invalid, warn = stage_hours(
        ["lundi 9h-12h", "Mo-Fr 09:00-12:00", ""], ["a", "", ""]
    )
    assert hours == ["", "Mo-Fr 09:00-12:00", ""]
    assert desc == ["a\nHoraires : lundi 9h-12h", "", ""]
    assert invalid == ["lundi 9h-12h", "", ""]
    assert warn == [False, False, False]


# --- location ---------------------------------------------------------------------------


def _placement(locator: Locator, rows: list[dict[str, Any]]) -> Any:
    frame = pd.DataFrame(rows)
    for col in ("code_postal", "commune", "code_insee"):
        if col not in frame:
            frame[col] = ""
    frame = frame.fillna("")
    return stage_declared_commune(
        frame, frame["code_postal"], frame["commune"], frame["code_insee"], locator
    )


def test_declared_commune_from_code_else_postcode_and_name(locator: Locator) -> None:
    p = _placement(
        locator,
        [
            {"code_insee": "38185"},
            {"code_insee": "99999", "code_postal": "38500", "commune": "Voiron"},
            {"code_postal": "38000", "commune": "Grenoble"},
            {},
        ],
    )
    assert p.declared.tolist() == ["38185", "38563", "38185", ""]
    assert p.insee_how[0] == "given"
    assert p.repairs[1] == ["unknown INSEE code 99999 ignored"]


def test_a_swapped_point_is_repaired_inside_its_commune(locator: Locator) -> None:
    p = _placement(locator, [{"code_insee": "38185", "latitude": 5.7245, "longitude": 45.1895}])
    stage_repairs(p, locator)
    assert p.repairs[0] == ["swapped latitude and longitude"]
    assert (p.lat[0], p.lon[0]) == (45.1895, 5.7245)
    assert p.inside.tolist() == [True]


def test_a_point_far_from_its_commune_is_rejected_unless_the_postcode_agrees(
    locator: Locator,
) -> None:
    rows = [
        # in Voiron, declared Grenoble, postcode of Grenoble: the point is wrong
        {"code_insee": "38185", "code_postal": "38000", "latitude": 45.3645, "longitude": 5.5907},
        # in Voiron, declared Grenoble, postcode of Voiron: the code is wrong
        {"code_insee": "38185", "code_postal": "38500", "latitude": 45.3645, "longitude": 5.5907},
    ]
    p = _placement(locator, rows)
    stage_repairs(p, locator)
    stage_point_or_commune(p, locator)
    assert p.usable.tolist() == [False, True]
    assert "point rejected" in p.repairs[0][-1]
    assert p.code[1] == "38563" and "code taken from the point" in p.repairs[1][-1]
    assert np.isnan(p.lat[0])


def test_city_wide_paris_code_becomes_the_arrondissement(locator: Locator) -> None:
    # Place de la Bastille side of the 11th arrondissement
    p = _placement(locator, [{"code_insee": "75056", "latitude": 48.8566, "longitude": 2.3795}])
    stage_repairs(p, locator)
    stage_point_or_commune(p, locator)
    assert p.code[0] == "75111"


class _NeverCalled:
    """A geocoder that fails the test if a confidential address reaches it."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def geocode(self, address: str, *args: Any, **kwargs: Any) -> None:
        self.asked.append(address)


def test_a_confidential_address_is_never_geocoded(locator: Locator) -> None:
    p = _placement(locator, [{"code_insee": "38185"}, {"code_insee": "38185"}])
    stage_repairs(p, locator)
    stage_point_or_commune(p, locator)
    spy = _NeverCalled()
    stage_geocode(p, ["1 rue Secrète", "2 rue Publique"], np.array([True, False]), spy, locator)  # type: ignore[arg-type]
    assert spy.asked == ["2 rue Publique"]


def test_without_a_point_the_commune_point_else_quarantine(
    locator: Locator, geo: Geography
) -> None:
    p = _placement(
        locator,
        [{"code_insee": "38185"}, {}, {"code_postal": "97150", "commune": "Marigot"}],
    )
    stage_repairs(p, locator)
    stage_point_or_commune(p, locator)
    stage_commune_point(p, locator)
    assert p.precision.tolist() == ["commune", "", ""]
    assert p.lat[0] == pytest.approx(geo.communes.at["38185", "lat"])
    reasons: Reasons = [None, None, None]
    stage_location_reasons(p, locator, reasons)
    assert reasons[0] is None
    assert reasons[1] is not None and reasons[1].reason is QuarantineReason.NO_LOCATION
    assert "no valid coordinates" in reasons[1].text()
    assert reasons[2] is not None and "Saint-Martin" in reasons[2].text()
    assert reasons[2].text().endswith("fix code_insee, code_postal or commune")
