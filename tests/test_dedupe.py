"""Identity rules: a duplicate is the same place, never merely the same legal entity.

Frames are hand-made so each answer is obvious: points are placed at a chosen
distance (metres due north: one degree of latitude is 111,195 m on the
6,371.0088 km sphere), names are written as producers write them.  Expected
clusters follow from the documented thresholds, not from running the code.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from mapapp.errors import ConfigurationError
from mapapp.ingest.dedupe import (
    NEAR_M,
    SIRET_M,
    WIDE_M,
    MergeRule,
    cluster_actors,
    name_key,
    name_score,
    types_compatible,
)
from mapapp.ingest.overrides import parse_overrides

M_PER_DEG_LAT = 6_371_008.8 * math.pi / 180


def _rec(rid: str, nom: str, north_m: float = 0.0, **kw: Any) -> dict[str, Any]:
    source = kw.pop("source", rid.split(":")[0])
    return {
        "id": rid,
        "source": source,
        "nom": nom,
        "structure_nom": kw.pop("structure_nom", ""),
        "commune": kw.pop("commune", "Grenoble"),
        "actor_type": kw.pop("actor_type", "autre"),
        "siret": kw.pop("siret", ""),
        "adresse": kw.pop("adresse", "1 rue X"),
        "latitude": 45.18 + north_m / M_PER_DEG_LAT,
        "longitude": kw.pop("longitude", 5.72),
        "precision": kw.pop("precision", "address"),
        "confidential": kw.pop("confidential", False),
        "thematiques": kw.pop("thematiques", []),
        **kw,
    }


def _clusters(*recs: dict[str, Any], **kw: Any) -> pd.DataFrame:
    datasets = kw.pop("datasets", None)
    frame = pd.DataFrame(list(recs))
    return cluster_actors(frame, datasets=datasets, **kw).set_index("id")


def _together(c: pd.DataFrame, a: str, b: str) -> bool:
    return bool(c.at[a, "cluster_id"] == c.at[b, "cluster_id"])


# -- names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "low", "high"),
    [
        # the missed duplicates
        ("PIMMS de Grenoble", "Pimms Mediation Grenoble", 85, 100),
        (
            "France Travail Paris 11ème Beaumarchais",
            "FRANCE TRAVAIL - PARIS 11EME BEAUMARCHAIS",
            95,
            100,
        ),
        ("Pôle Emploi Oullins", "France Travail - OULLINS", 95, 100),
        ("Bibliothèque Méjanes", "Médiathèque Méjanes", 95, 100),
        (
            "COM DE COM DES RIVES DU HAUT ALLIER",
            "Communauté de Communes des rives du Haut-Allier",
            95,
            100,
        ),
        # different kinds of place, whatever else they share
        ("Mission locale de Grenoble", "PIMMS de Grenoble", 0, 0),
        ("CCAS de Noisy-le-Grand", "Mission locale Noisy-le-Grand", 0, 0),
        # different names
        ("Secours Catholique Moulins", "Secours Populaire Moulins", 0, 84),
        ("Espace emploi Arlequin", "PIMMS de Grenoble", 0, 50),
    ],
)
def test_name_score(a: str, b: str, low: float, high: float) -> None:
    assert low <= name_score(a, b) <= high


def test_a_shared_commune_or_number_is_no_evidence() -> None:
    # token-set would give 100 (one name's words are a subset of the other's)
    only_commune = name_score(
        name_key("Grenoble", "Grenoble"), name_key("Grenoble Solidarité", "Grenoble")
    )
    only_number = name_score(
        "SERVICE PENITENTIAIRE D'INSERTION ET DE PROBATION - 62", "CAP INTERIM 62 ARRAS"
    )
    assert only_commune < 85 and only_number < 85


def test_types() -> None:
    assert not types_compatible("france-travail", "mission-locale")
    assert not types_compatible("siae", "hebergement")
    assert types_compatible("mediation-numerique", "france-services")  # a place hosts a service
    assert types_compatible("autre", "cidff")


# -- the rules ------------------------------------------------------------------------


def test_same_file_shared_siret_never_merges_distinct_places() -> None:
    # Aix-en-Provence: mairies de quartier and libraries share the city's SIRET; one
    # file (source "aix").  Even two of them in one building stay two records.
    siret = "21130001700017"
    c = _clusters(
        _rec("aix:1", "Mairie annexe des Milles", 0, siret=siret),
        _rec("aix:2", "Bibliothèque Méjanes", 2_500, siret=siret),
        _rec("aix:3", "Hôtel de ville", 9_000, siret=siret),
        _rec("aix:4", "Mairie - État civil", 9_000, siret=siret),
        _rec("aix:5", "Mairie annexe des Milles", 9_000, siret=siret, adresse="2 rue Y"),
    )
    assert c["cluster_id"].nunique() == 5
    assert not c["duplicate"].any()


def test_bus_stops_in_several_communes_stay_apart() -> None:
    stops = [
        _rec(f"bus:{i}", "France Services itinérant", 4_000.0 * i, siret="20001234500019")
        for i in range(12)
    ]
    c = _clusters(*stops)
    assert c["cluster_id"].nunique() == 12


def test_identical_rows_of_one_file_are_an_in_file_duplicate() -> None:
    same = {"adresse": "2 place de Verdun", "thematiques": ["numerique"]}
    c = _clusters(
        _rec("f:1", "Point numérique", 0, **same),
        _rec("f:2", "Point numérique", 1, **same),  # 1 m: same point, a rounding apart
        _rec("f:3", "Point numérique", 1, adresse="2 place de Verdun", thematiques=["emploi"]),
    )
    assert _together(c, "f:1", "f:2")
    assert c.at["f:2", "rule"] == MergeRule.IN_FILE_IDENTICAL
    assert c.at["f:2", "duplicate"] and not c.at["f:1", "duplicate"]
    assert not _together(c, "f:1", "f:3")  # another offer at the same place


def test_a_file_is_its_dataset_not_its_source_column() -> None:
    # two producers' rows, one file: never "another source"
    c = _clusters(
        _rec("dora:1", "PIMMS de Grenoble"),
        _rec("odspep:1", "Pimms Médiation Grenoble", 10),
        datasets={"dora:1": "export", "odspep:1": "export"},
    )
    assert not _together(c, "dora:1", "odspep:1")


@pytest.mark.parametrize(
    ("north_m", "a_kw", "b_kw", "names", "rule"),
    [
        (
            NEAR_M - 5,
            {},
            {},
            ("PIMMS de Grenoble", "Pimms Médiation Grenoble"),
            "near-similar-name",
        ),
        (NEAR_M + 10, {}, {}, ("PIMMS de Grenoble", "Pimms Médiation Grenoble Sud"), None),
        (
            WIDE_M - 20,
            {},
            {},
            ("Les Ateliers de la Bruyère", "LES ATELIERS DE LA BRUYERE"),
            "same-name-nearby",
        ),
        (WIDE_M + 50, {}, {}, ("Les Ateliers de la Bruyère", "LES ATELIERS DE LA BRUYERE"), None),
        (
            WIDE_M + 50,
            {"siret": "12345678900011"},
            {"siret": "12345678900011"},
            ("Les Ateliers de la Bruyère", "LES ATELIERS DE LA BRUYERE"),
            "same-siret-near",
        ),
        (
            SIRET_M + 50,
            {"siret": "12345678900011"},
            {"siret": "12345678900011"},
            ("Les Ateliers de la Bruyère", "LES ATELIERS DE LA BRUYERE"),
            None,
        ),
        # a shared SIRET, a few metres, different names: two places (old code merged them)
        (
            15,
            {"siret": "12345678900011"},
            {"siret": "12345678900011"},
            ("Autre lieu", "Lieu au même SIRET"),
            None,
        ),
        # same name, incompatible types
        (
            10,
            {"actor_type": "france-travail"},
            {"actor_type": "mission-locale"},
            ("Maison de l'emploi Nord", "Maison de l'emploi Nord"),
            None,
        ),
        (
            10,
            {"precision": "commune"},
            {},
            ("PIMMS de Grenoble", "PIMMS de Grenoble"),
            None,
        ),
    ],
)
def test_cross_source_thresholds(
    north_m: float,
    a_kw: dict[str, Any],
    b_kw: dict[str, Any],
    names: tuple[str, str],
    rule: str | None,
) -> None:
    c = _clusters(_rec("a:1", names[0], 0, **a_kw), _rec("b:1", names[1], north_m, **b_kw))
    if rule is None:
        assert not _together(c, "a:1", "b:1")
        return
    assert _together(c, "a:1", "b:1")
    dup = c[c["duplicate"]].iloc[0]
    assert dup["rule"] == rule
    assert dup["distance_m"] == pytest.approx(north_m, abs=0.5)
    assert dup["name_score"] >= 75


def test_a_service_is_matched_through_its_structure_name() -> None:
    c = _clusters(
        _rec(
            "dora:1",
            "Aide à la mobilité",
            structure_nom="Agence France Travail SAINT DENIS",
            actor_type="france-travail",
        ),
        _rec("emplois:1", "France Travail - SAINT DENIS", 20, actor_type="france-travail"),
    )
    assert _together(c, "dora:1", "emplois:1")


def test_public_record_never_clustered_under_a_confidential_one() -> None:
    c = _clusters(
        _rec("a:1", "Relais Insertion - hébergement", confidential=True, siret="39012345600011"),
        _rec("b:1", "Relais Insertion", 0, siret="39012345600011", actor_type="siae"),
        _rec("c:1", "Relais Insertion hébergement", 5, confidential=True),
    )
    assert not _together(c, "a:1", "b:1")
    assert c.at["b:1", "cluster_id"] == "b:1"
    assert _together(c, "a:1", "c:1")  # two confidential records of one place may merge


def test_a_chain_never_puts_two_records_of_one_file_together() -> None:
    # a:1 -- b:1 -- a:2 would chain two distinct places of file "a" into one cluster
    c = _clusters(
        _rec("a:1", "PIMMS de Grenoble", 0),
        _rec("b:1", "PIMMS Grenoble", 20),
        _rec("a:2", "Pimms Grenoble Arlequin", 40),
    )
    assert not _together(c, "a:1", "a:2")
    assert _together(c, "a:1", "b:1")  # the nearest pair wins


# -- overrides ------------------------------------------------------------------------


def test_overrides_join_and_split() -> None:
    o = parse_overrides(
        """
        [[join]]
        ids = ["a:1", "b:9"]
        note = "même agence, pointée à 2 km"
        [[split]]
        ids = ["a:2", "b:2"]
        [[split]]
        ids = ["a:3"]
        [[join]]
        ids = ["a:4", "b:4"]
        """
    )
    c = _clusters(
        _rec("a:1", "France Travail Nord", 0),
        _rec("b:9", "Agence Nord", 2_000),
        _rec("a:2", "PIMMS de Grenoble", 5_000),
        _rec("b:2", "PIMMS Grenoble", 5_010),
        _rec("a:3", "CIDFF Isère", 9_000),
        _rec("b:3", "CIDFF de l'Isère", 9_010),
        _rec("a:4", "Foyer", 12_000, confidential=True),
        _rec("b:4", "Foyer", 12_000),
        overrides=o,
    )
    assert _together(c, "a:1", "b:9")
    assert c.at["b:9", "rule"] == MergeRule.OVERRIDE_JOIN
    assert not _together(c, "a:2", "b:2")
    assert not _together(c, "a:3", "b:3")
    assert not _together(c, "a:4", "b:4")  # a person cannot join a public record to a shelter
    assert o.unknown_ids(c.index) == []
    assert parse_overrides('[[split]]\nids = ["zz:1"]').unknown_ids(c.index) == ["zz:1"]


@pytest.mark.parametrize(
    "text",
    ['[[join]]\nids = ["a:1"]', '[[merge]]\nids = ["a:1", "b:1"]', "join = 3", "[[join]\n"],
)
def test_malformed_overrides_say_what_to_do(text: str) -> None:
    with pytest.raises(ConfigurationError, match=r"docs/duplicates\.md"):
        parse_overrides(text)


def test_every_rule_has_french_and_english() -> None:
    for rule in MergeRule:
        fr, en = rule.label("fr"), rule.label("en")
        assert fr and en and fr != en


@pytest.mark.slow
def test_candidate_pairs_stay_bounded_where_thousands_share_one_point() -> None:
    """3,000 records of each of two files on one spot: pairs grow linearly, not as n²."""
    import numpy as np

    from mapapp.geo.sphere import to_unit_xyz
    from mapapp.ingest.dedupe import NEIGHBOURS, _near_pairs

    n = 3000
    lat = np.full(2 * n, 48.9)
    lon = np.full(2 * n, 2.36)
    files = np.array(["a.csv"] * n + ["b.csv"] * n)
    pairs = _near_pairs(to_unit_xyz(lat, lon), files)
    # each record asks for NEIGHBOURS of the other file and NEIGHBOURS + 1 of its own
    # (the +1 is normally itself, but among identical points it may be another)
    assert len(pairs) <= 2 * n * (2 * NEIGHBOURS + 1)
    assert len(pairs) >= n * NEIGHBOURS  # and every record still has candidates
    assert (pairs[:, 0] < pairs[:, 1]).all()


def test_identical_rows_found_where_one_file_crowds_a_point() -> None:
    """40 different services of one file at one address, two of them identical twins.

    A nearest-neighbours bound (16 per file) could miss the twin among the 40;
    identical rows are grouped by content first, so it cannot.
    """
    recs = [
        _rec(f"f:{i}", f"Service {i}", 0, adresse="1 place", thematiques=[f"t{i}"])
        for i in range(40)
    ]
    recs.append(_rec("f:twin", "Service 7", 0.5, adresse="1 place", thematiques=["t7"]))
    c = _clusters(*recs)
    assert _together(c, "f:7", "f:twin")
    assert c.at["f:twin", "rule"] == MergeRule.IN_FILE_IDENTICAL
    assert c["cluster_id"].nunique() == 40
