"""The taxonomy against DOMAIN.md and against data-inclusion-schema's own v1 enums."""

from __future__ import annotations

import pytest
from data_inclusion.schema.v1.reseaux_porteurs import ReseauPorteur
from data_inclusion.schema.v1.thematiques import Categorie, Thematique

from mapapp.errors import MapappError, UnknownVocabularyError
from mapapp.taxonomy import (
    ActorType,
    Obstacle,
    actor_type_for_code,
    actor_type_for_codes,
    obstacles_for_thematique,
    parse_actor_type,
    parse_obstacle,
    record_obstacles,
)

V1_THEMATIQUES = [t.value for t in Thematique]
V1_CATEGORIES = {c.value for c in Categorie}

# v1 thématiques that, per DOMAIN.md, map to no obstacle (family support other than childcare
# and violence, working abroad).  Anything else unmapped is a hole in the taxonomy.
EXPECTED_UNMAPPED_V1 = {
    "famille--prise-en-charge-personne-dependante",
    "famille--soutien-a-la-parentalite-et-a-leducation",
    "famille--soutien-aidants",
    "souvrir-a-linternational--connaitre-les-opportunites-demploi-a-letranger",
    "souvrir-a-linternational--sinformer-sur-les-aides-pour-travailler-a-letranger",
    "souvrir-a-linternational--sorganiser-suite-a-son-retour-en-france",
}


def test_twelve_obstacles_with_both_labels() -> None:
    assert len(Obstacle) == 12
    for o in Obstacle:
        assert o.label("fr") and o.label("en")
        assert o.label("fr") != o.value


def test_every_v1_pattern_names_real_v1_vocabulary() -> None:
    """A typo in a mapping would silently tag nothing: every pattern must hit the v1 enum."""
    for o in Obstacle:
        for pattern in o.thematiques_v1:
            if pattern.endswith("--*"):
                assert pattern[:-3] in V1_CATEGORIES, pattern
            else:
                assert pattern in V1_THEMATIQUES, pattern


def test_every_v1_thematique_is_mapped_or_knowingly_unmapped() -> None:
    unmapped = {t for t in V1_THEMATIQUES if not obstacles_for_thematique(t)}
    assert unmapped == EXPECTED_UNMAPPED_V1


@pytest.mark.parametrize(
    ("thematique", "expected"),
    [
        # v1, from DOMAIN.md's table
        ("famille--garde-denfants", {"garde-enfants"}),
        ("famille--surmonter-conflits-separation-violence", {"violences"}),
        (
            "difficultes-administratives-ou-juridiques--accompagnement-pour-lacces-aux-droits",
            {"droits"},
        ),
        ("lecture-ecriture-calcul--maitriser-le-francais", {"langue"}),
        ("se-former--trouver-sa-formation", {"emploi"}),
        ("creer-une-entreprise--developper-son-entreprise", {"emploi"}),
        ("equipement-et-alimentation--alimentation", {"besoins"}),
        ("remobilisation--bien-etre-confiance-en-soi", {"confiance"}),
        # v0 (older exports)
        ("famille--violences-intrafamiliales", {"violences"}),
        (
            "acces-aux-droits-et-citoyennete--accompagnement-dans-les-demarches-administratives",
            {"droits"},
        ),
        ("apprendre-francais--communiquer-vie-tous-les-jours", {"langue"}),
        ("illettrisme--ameliorer-ses-competences", {"langue"}),
        ("handicap--faire-reconnaitre-un-handicap", {"sante"}),
        ("gestion-financiere--creer-et-gerer-son-budget", {"finances"}),
        (
            "accompagnement-social-et-professionnel-personnalise--decouvrir-son-potentiel",
            {"emploi"},
        ),
        ("creation-activite--reseautage-pour-createurs-dentreprise", {"emploi"}),
        # unknown: kept by the importer, tagged with nothing
        ("astrologie--horoscope", set()),
        ("", set()),
    ],
)
def test_thematique_mapping(thematique: str, expected: set[str]) -> None:
    assert {o.value for o in obstacles_for_thematique(thematique)} == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("cidff", "cidff"),
        ("CIDFF", "cidff"),
        ("ML", "mission-locale"),
        ("mission-locale", "mission-locale"),
        ("monenfant", "creche"),
        ("creches-avip", "creche-avip"),
        ("ACI", "siae"),
        ("etti", "siae"),
        ("GEIQ", "siae"),
        ("FT", "france-travail"),
        ("PE", "france-travail"),
        ("RFS", "france-services"),
        ("MSAP", "france-services"),
        ("france-service", "france-services"),
        ("conseillers-numeriques", "mediation-numerique"),
        ("ccas-cias", "ccas"),
        ("CIAS", "ccas"),
        ("CHRS", "hebergement"),
        ("siao", "hebergement"),
        ("HUDA", "hebergement"),
        ("cap-emploi-reseau-cheops", "cap-emploi"),
        ("bibliotheque", "autre"),
        (None, "autre"),
    ],
)
def test_actor_type_codes(code: str | None, expected: str) -> None:
    assert actor_type_for_code(code).value == expected


def test_type_codes_in_v1_reseaux_porteurs_exist() -> None:
    """The v1 réseaux porteurs we rely on are real values of the v1 enum."""
    values = {r.value for r in ReseauPorteur}
    for code in [
        "cidff",
        "mission-locale",
        "creches-avip",
        "aci",
        "ei",
        "ai",
        "etti",
        "eiti",
        "geiq",
        "france-travail",
        "france-service",
        "msap",
        "conseillers-numeriques",
        "ccas-cias",
        "chrs",
        "siao",
        "chu",
        "huda",
        "cap-emploi-reseau-cheops",
    ]:
        assert code in values, code


def test_default_obstacles_from_domain() -> None:
    assert {o.value for o in ActorType.CIDFF.default_obstacles} == {"droits", "violences", "emploi"}
    assert {o.value for o in ActorType.MISSION_LOCALE.default_obstacles} == {
        "emploi",
        "mobilite",
        "logement",
        "sante",
        "confiance",
    }
    assert {o.value for o in ActorType.CCAS.default_obstacles} == {"droits", "finances", "logement"}
    assert ActorType.AUTRE.default_obstacles == frozenset()


def test_defining_obstacles_are_defaults_and_follow_domain() -> None:
    """DOMAIN.md: a CIDFF is always found for violence and rights, a crèche for childcare,
    France Services for rights and digital, a shelter for housing."""
    expected = {
        ActorType.CIDFF: {"violences", "droits"},
        ActorType.CRECHE: {"garde-enfants"},
        ActorType.CRECHE_AVIP: {"garde-enfants", "emploi"},
        ActorType.FRANCE_SERVICES: {"droits", "numerique"},
        ActorType.HEBERGEMENT: {"logement"},
        ActorType.MISSION_LOCALE: {"emploi"},
        ActorType.AUTRE: set(),
    }
    for kind, slugs in expected.items():
        assert {o.value for o in kind.defining_obstacles} == slugs, kind
    for kind in ActorType:
        assert kind.defining_obstacles <= kind.default_obstacles, kind


def test_parse_errors_are_clear() -> None:
    assert parse_obstacle("MOBILITE") is Obstacle.MOBILITE
    assert parse_actor_type("Creche") is ActorType.CRECHE
    with pytest.raises(UnknownVocabularyError, match="use one of: garde-enfants"):
        parse_obstacle("childcare")
    with pytest.raises(KeyError):
        parse_actor_type("nope")
    with pytest.raises(MapappError):
        parse_actor_type("nope")


def _slugs(obstacles: frozenset[Obstacle]) -> set[str]:
    return {o.value for o in obstacles}


@pytest.mark.parametrize(
    ("actor_type", "thematiques", "expected"),
    [
        # The CIDFF de Paris service with only a rights thématique: still found for violence.
        (
            "cidff",
            ["difficultes-administratives-ou-juridiques--accompagnement-juridique"],
            {"droits", "violences"},
        ),
        ("cidff", [], {"droits", "violences", "emploi"}),
        ("creche", ["famille--soutien-a-la-parentalite-et-a-leducation"], {"garde-enfants"}),
        ("creche-avip", ["famille--garde-denfants"], {"garde-enfants", "emploi"}),
        ("france-services", ["mobilite--preparer-un-permis"], {"droits", "numerique", "mobilite"}),
        ("hebergement", ["sante--acces-aux-soins"], {"logement", "sante"}),
        # A mission locale's other defaults apply only without thématiques.
        ("mission-locale", ["numerique--x"], {"emploi", "numerique"}),
        ("mission-locale", [], {"emploi", "mobilite", "logement", "sante", "confiance"}),
        ("autre", [], set()),
    ],
)
def test_record_obstacles_unite_defining_and_thematiques(
    actor_type: str, thematiques: list[str], expected: set[str]
) -> None:
    assert _slugs(record_obstacles(actor_type, thematiques)) == expected


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        # data·inclusion v1 labels / réseaux and v0 typologies (dbt seeds)
        (["france-service"], "france-services"),
        (["France Services;CNFS"], "france-services"),
        (["CNFS;France Services"], "france-services"),
        (["CNFS"], "mediation-numerique"),
        (["conseiller-numerique"], "mediation-numerique"),
        (["PIMMS", "france-service"], "france-services"),
        (["RS_FJT"], "hebergement"),
        (["residences-fjt"], "hebergement"),
        (["Résidence sociale"], "hebergement"),
        (["PENSION"], "hebergement"),
        (["CADA"], "hebergement"),
        (["HUDA"], "hebergement"),
        (["CPH"], "hebergement"),
        (["CHU"], "hebergement"),
        (["Accueil de jour"], "hebergement"),
        (["accueil de nuit"], "hebergement"),
        (["Mise à l'abri"], "hebergement"),
        (["Hébergement"], "hebergement"),
        (["AVIP"], "creche-avip"),
        (["EPN"], "mediation-numerique"),
        # a shelter code anywhere decides (fail-safe)
        (["ASSO", "ACI", "CHRS"], "hebergement"),
        (["ASSO", "ACI"], "siae"),
        (["ASSO", "MUNI"], "autre"),
    ],
)
def test_codes_of_real_vocabularies_map_to_types(codes: list[str], expected: str) -> None:
    assert actor_type_for_codes(codes).value == expected


def test_every_shelter_code_of_the_v1_reseaux_and_v0_typologies_is_known() -> None:
    values = {r.value for r in ReseauPorteur}
    for code in ("cada", "chrs", "chu", "cph", "huda", "siao", "residences-fjt"):
        assert code in values, code  # the enum still has it
        assert actor_type_for_code(code) is ActorType.HEBERGEMENT, code
