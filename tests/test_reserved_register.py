"""The register of reserved places on both stores: history, public view, stamp, concurrency.

Each test runs on the embedded store (SQLite in the data folder) and on
PostGIS (marker ``postgis``; needs ``MAPAPP_TEST_PG_URL``, from
``bash tools/pg.sh start``; skipped without it, failed where ``CI`` is set).
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from mapapp.errors import DataValidationError
from mapapp.reserved import PUBLIC_COLUMNS, free_places, register_stamp
from mapapp.reserved.register import apply_change, confirm, history, read_entry
from mapapp.settings import Settings


def _pg_admin_url() -> str:
    url = os.environ.get("MAPAPP_TEST_PG_URL")
    if not url:
        message = "no PostgreSQL server (set MAPAPP_TEST_PG_URL; bash tools/pg.sh start)"
        if os.environ.get("CI"):
            pytest.fail(message + " and CI is set: .ci/run must start one")
        pytest.skip(message)
    return url


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh database with PostGIS, dropped after the test."""
    import psycopg

    admin = _pg_admin_url()
    name = f"mapapp_r_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = admin.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["embedded", pytest.param("postgis", marks=pytest.mark.postgis)])
def rsettings(request: pytest.FixtureRequest, tmp_path: Path, settings: Settings) -> Settings:
    """Settings on an empty store of each backend."""
    env = {"MAPAPP_DATA_DIR": str(tmp_path / "data"), "MAPAPP_CACHE_DIR": str(settings.cache_dir)}
    if request.param == "postgis":
        env["MAPAPP_STORE_URL"] = request.getfixturevalue("pg_database")
    return Settings.from_env(env)


def test_history_records_every_change_with_who_old_and_new(rsettings: Settings) -> None:
    apply_change(
        rsettings,
        "c:1",
        {"partner": "Société A", "places_reserved": "3", "places_free": "0"},
        by="amina",
    )
    apply_change(rsettings, "c:1", {"places_free": "2", "ages": "0-3 ans"}, by="louise")
    confirm(rsettings, "c:1", by="amina")
    rows = history(rsettings, "c:1")
    changes = [(h["field"], h["old_value"], h["new_value"], h["changed_by"]) for h in rows]
    assert ("partner", None, "Société A", "amina") in changes
    assert ("places_reserved", None, "3", "amina") in changes
    assert ("places_free", "0", "2", "louise") in changes
    assert ("ages", "", "0-3 ans", "louise") in changes
    # Unchanged fields of the second change are not recorded as changes.
    assert not any(f == "places_reserved" and who == "louise" for f, _, _, who in changes)
    # Three confirmations: two saves and the explicit confirm; newest first.
    confirmations = [c for c in changes if c[0] == "confirmed_at"]
    assert [c[3] for c in confirmations] == ["amina", "louise", "amina"]
    assert all(h["at"].tzinfo is not None for h in rows)
    entry = read_entry(rsettings, "c:1")
    assert entry is not None
    assert entry.confirmed_at is not None
    assert entry.confirmed_at.isoformat() == confirmations[0][2]


def test_public_view_has_exactly_the_contract_columns_and_never_the_partner(
    rsettings: Settings,
) -> None:
    empty = free_places(rsettings)
    assert list(empty.columns) == list(PUBLIC_COLUMNS) and empty.empty
    apply_change(
        rsettings,
        "c:2",
        {
            "partner": "Entreprise Secrète",
            "places_reserved": 2,
            "places_free": 1,
            "valid_from": "2020-01-01",
            "hours": "7h-19h",
            "who_may_refer": "CIDFF, assistante sociale",
        },
        by="amina",
    )
    shown = free_places(rsettings)
    assert list(shown.columns) == list(PUBLIC_COLUMNS)
    row = shown.iloc[0]
    assert (row["actor_id"], row["places_reserved"], row["places_free"]) == ("c:2", 2, 1)
    assert shown["places_free"].dtype == "int64"
    assert str(shown["confirmed_at"].dt.tz) == "UTC"
    assert row["valid_from"] == pd.Timestamp("2020-01-01", tz="UTC")
    assert pd.isna(row["valid_until"])
    text = shown.to_csv()
    assert "Secrète" not in text and "amina" not in text


def test_entries_outside_their_validity_window_are_dropped(rsettings: Settings) -> None:
    today = date(2026, 12, 7)
    apply_change(rsettings, "past", {"places_reserved": 1, "valid_until": "2026-12-06"}, by="a")
    apply_change(rsettings, "future", {"places_reserved": 1, "valid_from": "2026-12-08"}, by="a")
    apply_change(
        rsettings,
        "now",
        {"places_reserved": 1, "valid_from": "2026-12-07", "valid_until": "2026-12-07"},
        by="a",
    )
    apply_change(rsettings, "open", {"places_reserved": 1}, by="a")
    assert sorted(free_places(rsettings, today=today)["actor_id"]) == ["now", "open"]
    later = today + timedelta(days=1)
    assert sorted(free_places(rsettings, today=later)["actor_id"]) == ["future", "open"]


def test_stamp_changes_with_every_change_and_only_then(rsettings: Settings) -> None:
    first = register_stamp(rsettings)
    assert register_stamp(rsettings) == first
    apply_change(rsettings, "c:3", {"places_reserved": 1}, by="a")
    second = register_stamp(rsettings)
    confirm(rsettings, "c:3", by="a")
    third = register_stamp(rsettings)
    assert len({first, second, third}) == 3


@pytest.mark.parametrize(
    ("changes", "word"),
    [
        ({"places_reserved": 1, "places_free": 2}, "more free places"),
        ({"places_reserved": "-1"}, "whole number"),
        ({"places_reserved": "deux"}, "whole number"),
        ({"valid_from": "2026-12-10", "valid_until": "2026-12-01"}, "start date is after"),
        ({"valid_from": "10/12/2026"}, "YYYY-MM-DD"),
        ({"ages": "x" * 301}, "at most 300"),
        ({"secret_field": "1"}, "unknown field"),
    ],
)
def test_bad_values_are_refused_and_nothing_is_written(
    rsettings: Settings, changes: dict[str, object], word: str
) -> None:
    before = register_stamp(rsettings)
    with pytest.raises(DataValidationError, match=word):
        apply_change(rsettings, "c:4", changes, by="a")
    assert read_entry(rsettings, "c:4") is None
    assert history(rsettings, "c:4") == []
    assert register_stamp(rsettings) == before


def test_confirming_a_crèche_without_entry_says_so(rsettings: Settings) -> None:
    with pytest.raises(DataValidationError, match="no entry yet"):
        confirm(rsettings, "nothing", by="a")


def test_concurrent_writers_lose_no_change(rsettings: Settings) -> None:
    apply_change(rsettings, "c:5", {"places_reserved": 100}, by="setup")
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            for k in range(6):
                apply_change(rsettings, f"{name}:{k}", {"places_reserved": k}, by=name)
                confirm(rsettings, "c:5", by=name)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    # 1 setup + 3 writers x 6 x (one change + one confirmation): each bumped the version once.
    assert register_stamp(rsettings) == f"reserved-{1 + 3 * 6 * 2}"
    assert len([h for h in history(rsettings, "c:5") if h["field"] == "confirmed_at"]) == 19
    assert len(free_places(rsettings)) == 1 + 3 * 6


@pytest.mark.slow
def test_done_means_on_each_store_a_coordinator_marks_a_place_free_and_it_shows(
    rsettings: Settings, tmp_path: Path, settings: Settings
) -> None:
    """Issue 17's end to end on both stores: sign in, mark a place free, the public view has it."""
    from mapapp.web.app import create_app
    from tests.test_reserved_web import (
        C93,
        C95,
        TestClient,
        form_token,
        make_settings,
        post_change,
        sign_in,
    )

    s = make_settings(tmp_path / "e2e", settings, rsettings.store_url)
    client = TestClient(create_app(s))
    assert sign_in(client).status_code == 303
    before = register_stamp(s)
    assert post_change(client, C93, form_token(client, C93), places_free="2").status_code == 303
    assert post_change(client, C95, form_token(client, C93)).status_code == 403
    shown = free_places(s).set_index("actor_id")
    assert shown.loc[C93, "places_free"] == 2 and C95 not in shown.index
    assert register_stamp(s) != before
    assert {h["changed_by"] for h in history(s, C93)} == {"amina"}


def test_the_embedded_register_is_readable_by_its_owner_only(settings: Settings) -> None:
    apply_change(settings, "c:1", {"places_reserved": 1}, by="a")
    mode = (settings.data_dir / "reserved.sqlite").stat().st_mode & 0o777
    assert mode == 0o600


def test_a_company_crèche_is_added_on_each_store(rsettings: Settings) -> None:
    from mapapp.reserved.creches import creches
    from mapapp.reserved.manual import add_creche
    from mapapp.schema import actors_frame
    from mapapp.store import open_store

    store = open_store(rsettings)
    with store.writer():
        store.commit(actors_frame([{"id": "t:1", "latitude": 48.9, "longitude": 2.3}]), {})
    added = add_creche(rsettings, "Crèche Les P'tits Loups", "93066", lat=48.9362, lon=2.3574)
    assert added.precision == "address"
    table = creches(rsettings)
    assert list(table.index) == [added.actor_id]
    assert table.loc[added.actor_id, "departement"] == "93"
