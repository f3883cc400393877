"""Reserved childcare places as the social worker, the woman and every client see them (issue 17).

The expected lines are the issue's own words ("2 places réservées libres
(confirmé il y a 3 jours)"), French grammar (singular, "aujourd'hui",
"hier" counted in calendar days in Paris) and the 30-day rule; the expected
search results follow from the distances of the crèches built here, not
from the code under test.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mapapp.catalog import load_public_actors, store_stamp
from mapapp.filters import service_mask
from mapapp.reserved.register import apply_change
from mapapp.reserved_view import (
    attach_reserved,
    card_reserved,
    places_frame,
    reserved_line,
    woman_line,
)
from mapapp.schema import actors_frame
from mapapp.search import SearchIndex, SearchQuery
from mapapp.settings import Settings
from mapapp.store import open_store

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

NOW = pd.Timestamp("2026-12-07 10:00", tz="UTC")
PARTNER = "Entreprise Zéphyrine SARL"  # must never leave the register
# Saint-Denis (93066): crèches east of the town hall, about 0.3, 0.7 and 1.5 km away
SAINT_DENIS = (48.9356, 2.3539)
CRECHES = [
    {"id": "t:near", "nom": "Crèche Proche", "lon": 2.3580},
    {"id": "t:full", "nom": "Crèche Complète", "lon": 2.3635},
    {"id": "t:free", "nom": "Crèche Libre", "lon": 2.3745},
]


def _actors() -> pd.DataFrame:
    rows: list[dict[str, Any]] = [
        {
            "id": c["id"],
            "source": "test",
            "nom": c["nom"],
            "actor_type": "creche",
            "obstacles": ["garde-enfants"],
            "latitude": SAINT_DENIS[0],
            "longitude": c["lon"],
            "code_insee": "93066",
            "code_postal": "93200",
            "commune": "Saint-Denis",
            "adresse": "1 rue de l'Essai",
            "telephone": "01 99 00 00 0" + str(k),
        }
        for k, c in enumerate(CRECHES)
    ]
    rows.append(
        {
            "id": "t:cidff",
            "source": "test",
            "nom": "CIDFF",
            "actor_type": "cidff",
            "obstacles": ["violences", "droits"],
            "latitude": SAINT_DENIS[0],
            "longitude": 2.3545,
            "code_insee": "93066",
            "commune": "Saint-Denis",
        }
    )
    return actors_frame(rows)


def _row(free: int, total: int, confirmed: pd.Timestamp | None) -> dict[str, Any]:
    return {"reserved_free": free, "reserved_total": total, "reserved_confirmed_at": confirmed}


# -- the line ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("free", "total", "confirmed", "fr", "en"),
    [
        (
            2,
            2,
            NOW - pd.Timedelta(days=3),
            "2 places réservées libres (confirmé il y a 3 jours)",
            "2 reserved places free (confirmed 3 days ago)",
        ),
        (
            1,
            3,
            NOW - pd.Timedelta(hours=2),
            "1 place réservée libre (confirmé aujourd'hui)",
            "1 reserved place free (confirmed today)",
        ),
        # 22:30 UTC on the 6th is 23:30 in Paris: yesterday, although under 12 hours ago
        (
            1,
            1,
            pd.Timestamp("2026-12-06 22:30", tz="UTC"),
            "1 place réservée libre (confirmé hier)",
            "1 reserved place free (confirmed yesterday)",
        ),
        # 23:30 UTC on the 6th is 00:30 on the 7th in Paris: today
        (
            3,
            4,
            pd.Timestamp("2026-12-06 23:30", tz="UTC"),
            "3 places réservées libres (confirmé aujourd'hui)",
            "3 reserved places free (confirmed today)",
        ),
        (
            0,
            2,
            NOW - pd.Timedelta(days=2),
            "Aucune place réservée libre sur 2 (confirmé il y a 2 jours)",
            "No reserved place free out of 2 (confirmed 2 days ago)",
        ),
        (
            1,
            1,
            None,
            "1 place réservée libre (jamais confirmé, peut-être plus à jour)",
            "1 reserved place free (never confirmed, may be out of date)",
        ),
    ],
)
def test_the_line_in_french_and_english(
    free: int, total: int, confirmed: pd.Timestamp | None, fr: str, en: str
) -> None:
    assert reserved_line(_row(free, total, confirmed), "fr", NOW) == fr
    assert reserved_line(_row(free, total, confirmed), "en", NOW) == en


def test_no_reserved_place_no_line() -> None:
    assert reserved_line(_row(0, 0, NOW), "fr", NOW) is None
    assert reserved_line({}, "en", NOW) is None
    assert card_reserved({}, "fr", NOW) == ""


def test_stale_from_30_days_exactly() -> None:
    actors = _actors()
    fresh = NOW - pd.Timedelta(days=30) + pd.Timedelta(minutes=1)
    old = NOW - pd.Timedelta(days=30)
    places = places_frame(
        [
            {"actor_id": "t:near", "places_reserved": 1, "places_free": 1, "confirmed_at": fresh},
            {"actor_id": "t:free", "places_reserved": 1, "places_free": 1, "confirmed_at": old},
        ]
    )
    shown = attach_reserved(actors, places, NOW).set_index("id")
    assert not shown.loc["t:near", "reserved_stale"]
    assert shown.loc["t:free", "reserved_stale"]
    near = reserved_line(shown.loc["t:near"], "fr", NOW)
    assert near == "1 place réservée libre (confirmé il y a 30 jours)"
    far = reserved_line(shown.loc["t:free"], "fr", NOW)
    assert far == "1 place réservée libre (confirmé il y a 30 jours, peut-être plus à jour)"
    # the woman is not sent to a place nobody confirmed for a month
    assert woman_line(shown.loc["t:near"], "fr", NOW) is not None
    assert woman_line(shown.loc["t:free"], "fr", NOW) is None


def test_attach_counts_valid_places_across_partners_and_duplicates() -> None:
    actors = _actors()
    actors.loc[actors["id"] == "t:full", "cluster_id"] = "k1"
    actors.loc[actors["id"] == "t:free", "cluster_id"] = "k1"  # the same crèche, two sources
    places = places_frame(
        [
            {"actor_id": "t:full", "places_reserved": 2, "places_free": 1, "confirmed_at": NOW},
            {
                "actor_id": "t:full",
                "places_reserved": 1,
                "places_free": 1,
                "confirmed_at": NOW - pd.Timedelta(days=40),
                "partner": PARTNER,
            },
            # ended yesterday, starts tomorrow: not reservations now
            {
                "actor_id": "t:near",
                "places_reserved": 5,
                "places_free": 5,
                "valid_until": "2026-12-06",
            },
            {
                "actor_id": "t:near",
                "places_reserved": 5,
                "places_free": 5,
                "valid_from": "2026-12-08",
            },
            # ends today: still holds today
            {
                "actor_id": "t:cidff",
                "places_reserved": 1,
                "places_free": 9,
                "valid_until": "2026-12-07",
                "confirmed_at": NOW,
            },
            {"actor_id": "unknown:1", "places_reserved": 3, "places_free": 3},
        ]
    )
    assert "partner" not in places.columns
    shown = attach_reserved(actors, places, NOW).set_index("id")
    assert shown.loc["t:full", "reserved_total"] == 3
    assert shown.loc["t:full", "reserved_free"] == 2
    assert shown.loc["t:full", "reserved_stale"]  # as old as its oldest confirmation
    assert shown.loc["t:free", "reserved_total"] == 3  # its duplicate
    assert shown.loc["t:near", "reserved_total"] == 0
    assert shown.loc["t:cidff", "reserved_free"] == 1  # never more free than reserved
    assert len(shown) == len(actors)
    assert PARTNER not in shown.astype(str).to_csv()


# -- the filter and the plan ---------------------------------------------------


def _with_places() -> pd.DataFrame:
    places = places_frame(
        [
            {"actor_id": "t:full", "places_reserved": 2, "places_free": 0, "confirmed_at": NOW},
            {"actor_id": "t:free", "places_reserved": 2, "places_free": 1, "confirmed_at": NOW},
        ]
    )
    return attach_reserved(_actors(), places, NOW)


def test_filter_keeps_only_crèches_with_a_free_reserved_place() -> None:
    actors = _with_places()
    assert actors["id"][service_mask(actors, reserved_free=True)].tolist() == ["t:free"]
    index = SearchIndex(actors)
    q = SearchQuery(lat=SAINT_DENIS[0], lon=SAINT_DENIS[1], obstacles=("garde-enfants",))
    assert index.nearest(q)["id"].tolist() == ["t:near", "t:full", "t:free"]
    only = index.nearest(SearchQuery(**{**q.__dict__, "reserved_free": True}))
    assert only["id"].tolist() == ["t:free"]


def test_plan_prefers_a_crèche_with_a_free_reserved_place_and_says_so() -> None:
    from mapapp.plan import build_plan

    actors = _with_places()
    plan = build_plan(actors, lat=SAINT_DENIS[0], lon=SAINT_DENIS[1], obstacles=["garde-enfants"])
    childcare = plan.needs[0]
    assert childcare.services[0].id == "t:free"
    assert [s.service_ids for s in plan.stops] == [("t:free",)]
    assert "place réservée libre" in plan.explanation("fr")
    assert "free reserved place" in plan.explanation("en")
    # without the register the nearest crèche is chosen, as before
    bare = build_plan(
        _actors(), lat=SAINT_DENIS[0], lon=SAINT_DENIS[1], obstacles=["garde-enfants"]
    )
    assert [s.service_ids for s in bare.stops] == [("t:near",)]
    assert "réservée" not in bare.explanation("fr")


# -- end to end, through the register ------------------------------------------


def _store(settings: Settings) -> None:
    store = open_store(settings)
    with store.writer():
        store.commit(_actors(), {})


@pytest.mark.slow
def test_a_change_reaches_catalog_cli_api_and_light_page_without_the_partner(
    settings: Settings, mapapp_cli: Any
) -> None:
    from mapapp.web.app import create_app

    _store(settings)
    before = store_stamp(settings)
    apply_change(
        settings, "t:free", {"partner": PARTNER, "places_reserved": 2, "places_free": 1}, by="alice"
    )
    after = store_stamp(settings)
    assert after != before  # every cache keyed on the stamp picks the change up

    shown = load_public_actors(settings).actors.set_index("id")
    assert (shown.loc["t:free", "reserved_total"], shown.loc["t:free", "reserved_free"]) == (2, 1)
    assert PARTNER not in shown.drop(columns="geometry").astype(str).to_csv()

    cli = mapapp_cli(
        "search", "--lat", "48.9356", "--lon", "2.3539", "--obstacle", "garde-enfants",
        "--reserved-free", "--format", "json",
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    found = json.loads(cli.stdout)
    assert [r["id"] for r in found] == ["t:free"]
    assert (found[0]["reserved_total"], found[0]["reserved_free"]) == (2, 1)
    assert PARTNER not in cli.stdout + cli.stderr
    for fmt in ("csv", "datainclusion", "geojson"):
        out = mapapp_cli("export", "--format", fmt)
        assert out.returncode == 0, out.stderr
        assert PARTNER not in out.stdout + out.stderr
        assert "alice" not in out.stdout
    exported = mapapp_cli("export", "--format", "csv").stdout.splitlines()
    head = exported[0].split(",")
    free_row = next(line.split(",") for line in exported if line.startswith("t:free,"))
    assert free_row[head.index("reserved_free")] == "1"

    api = Settings.from_env(
        {
            "MAPAPP_DATA_DIR": str(settings.data_dir),
            "MAPAPP_CACHE_DIR": str(settings.cache_dir),
            "MAPAPP_API_RATE_LIMIT": "0",
        }
    )
    with TestClient(create_app(api)) as client:
        r = client.get(
            "/api/v1/services",
            params={"lat": 48.9356, "lon": 2.3539, "obstacles": "garde-enfants",
                    "place_reservee_libre": "true"},
        )  # fmt: skip
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        assert [i["service"]["id"] for i in items] == ["t:free"]
        fields = items[0]["service"]["mapapp"]["places_reservees"]
        assert (fields["total"], fields["libres"], fields["peut_etre_perime"]) == (2, 1, False)
        every = client.get(
            "/api/v1/services",
            params={"lat": 48.9356, "lon": 2.3539, "obstacles": "garde-enfants"},
        )
        assert [i["service"]["id"] for i in every.json()["items"]] == ["t:near", "t:full", "t:free"]
        light = client.post("/m", data={"code": "93066", "need": ["garde-enfants"]})
        assert light.status_code == 200
        assert "Crèche Libre" in light.text
        assert "Demandez à une travailleuse sociale ou au CIDFF de vous orienter." in light.text
        for body in (r.text, every.text, light.text):
            assert PARTNER not in body
            assert "alice" not in body  # who changed it: the history stays in the register


@pytest.mark.slow
def test_the_api_shows_a_change_within_the_minute(settings: Settings) -> None:
    from mapapp.web.state import ApiState

    _store(settings)
    state = ApiState(settings, check_seconds=1.0)
    first = state.snapshot()
    assert first.actors.set_index("id").loc["t:free", "reserved_free"] == 0
    apply_change(settings, "t:free", {"places_reserved": 1, "places_free": 1}, by="alice")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        snap = state.snapshot()
        if snap is not first:
            break
        time.sleep(0.2)
    assert snap is not first, "the API still served the register as it was a minute ago"
    assert snap.actors.set_index("id").loc["t:free", "reserved_free"] == 1


def test_reading_without_a_register_writes_nothing(settings: Settings, tmp_path: Path) -> None:
    _store(settings)
    before = set(Path(settings.data_dir).rglob("*"))
    shown = load_public_actors(settings).actors
    assert int(shown["reserved_total"].sum()) == 0
    assert set(Path(settings.data_dir).rglob("*")) == before


# -- the social worker's cards and sheet -----------------------------------------


def test_app_card_and_plan_sheet_show_the_line_and_who_refers_her() -> None:
    import subprocess

    from mapapp.plan import build_plan
    from mapapp.render.cards import card_markdown, cards_from_frame, sheet_text
    from mapapp.render.sheet import SheetOptions, sheet_pdf

    actors = _with_places().set_index("id", drop=False)
    today = pd.Timestamp.now(tz="UTC")
    actors["reserved_confirmed_at"] = pd.DatetimeIndex([today] * len(actors))
    cards = {c.id: c for c in cards_from_frame(actors.reset_index(drop=True), lang="fr")}
    expected = (
        "1 place réservée libre (confirmé aujourd'hui). "
        "Demandez à une travailleuse sociale ou au CIDFF de vous orienter."
    )
    assert cards["t:free"].reserved == expected
    assert cards["t:full"].reserved == "Aucune place réservée libre sur 2 (confirmé aujourd'hui)"
    assert cards["t:near"].reserved == ""
    assert "1 place réservée libre" in card_markdown(cards["t:free"]).summary
    assert expected in sheet_text(list(cards.values()))
    plan = build_plan(actors.reset_index(drop=True), lat=SAINT_DENIS[0], lon=SAINT_DENIS[1],
                      obstacles=["garde-enfants"])  # fmt: skip
    assert plan.cards(lang="en")["t:free"].reserved.startswith("1 reserved place free")
    pdf = sheet_pdf(plan, SheetOptions(lang="fr"))
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert "1 place réservée libre (confirmé aujourd'hui)" in " ".join(text.split())
