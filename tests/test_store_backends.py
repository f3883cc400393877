"""One suite, every store backend: the rules of mapapp.store.base, checked on real stores.

The embedded (GeoParquet) store and PostGIS run the same tests, with no mocks.
The PostGIS half needs a server: ``MAPAPP_TEST_PG_URL`` (``tools/pg.sh start``
prints it; ``.ci/run`` starts one).  Without it the PostGIS half is skipped
with a reason, and fails where ``CI`` is set.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mapapp.errors import DataValidationError, StoreBusyError
from mapapp.schema import actors_frame
from mapapp.store.base import Store
from mapapp.store.parquet import ParquetStore


def _records(n: int, tag: str) -> Any:
    return actors_frame(
        [
            {
                "id": f"t:{k}",
                "source": "t",
                "nom": f"{tag} {k}",
                "obstacles": ["mobilite", "numerique"] if k % 2 else [],
                "publics": ["femmes"],
                "latitude": 45.0 + k / 1000,
                "longitude": 5.0,
                "capacite": float(k) if k % 3 else np.nan,
                "confidential": k == 1,
            }
            for k in range(n)
        ]
    )


def _pg_admin_url() -> str:
    url = os.environ.get("MAPAPP_TEST_PG_URL")
    if not url:
        message = "no PostgreSQL server (set MAPAPP_TEST_PG_URL; bash tools/pg.sh start)"
        if os.environ.get("CI"):
            pytest.fail(message + " and CI is set: .ci/run must start one")
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A template database with PostGIS, so each test gets a fresh database quickly."""
    import psycopg

    admin = _pg_admin_url()
    name = f"mapapp_tpl_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    with psycopg.connect(admin.rsplit("/", 1)[0] + "/" + name, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    yield name
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    import psycopg

    admin = _pg_admin_url()
    template = request.getfixturevalue("pg_template")
    name = f"mapapp_t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    yield admin.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["embedded", pytest.param("postgis", marks=pytest.mark.postgis)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "postgis":
        from mapapp.store.postgis import PostgisStore

        return PostgisStore(request.getfixturevalue("pg_url"))
    embedded = ParquetStore(tmp_path / "data")
    if not isinstance(embedded, Store):
        pytest.skip(
            "the embedded store has no writer()/commit() on this branch yet (its rewrite adds them)"
        )
    return embedded


def _another(store: Any) -> Any:
    """A second handle on the same store, as another process (another import) would open."""
    if isinstance(store, ParquetStore):
        return ParquetStore(store.data_dir)
    return type(store)(store.url)


def test_round_trip_records_tables_and_emptiness(store: Any) -> None:
    assert store.is_empty()
    actors = _records(5, "v1")
    ledger = pd.DataFrame({"dataset": ["d"] * 5, "id": actors["id"]})
    with store.writer():
        store.commit(actors, {"ledger": ledger}, report={"loaded": 5})
    assert not store.is_empty()
    back = store.read_actors().sort_values("id").reset_index(drop=True)
    assert back["id"].tolist() == [f"t:{k}" for k in range(5)]
    assert [list(v) for v in back["obstacles"]] == [[], *[["mobilite", "numerique"], []] * 2]
    assert back["capacite"].isna().tolist() == [True, False, False, True, False]
    assert back["confidential"].tolist() == [False, True, False, False, False]
    assert back.geometry.y.round(6).tolist() == [45.0, 45.001, 45.002, 45.003, 45.004]
    assert back.crs.to_epsg() == 4326
    pd.testing.assert_frame_equal(store.read_table("ledger"), ledger)
    assert store.read_table("clusters") is None


def test_stamp_changes_with_every_commit(store: Any) -> None:
    before = store.stamp()
    assert store.stamp() == before
    with store.writer():
        first = store.commit(_records(2, "a"), {})
    assert store.stamp() == first != before
    with store.writer():
        second = store.commit(_records(2, "a"), {})
    assert store.stamp() == second != first


def test_failed_commit_leaves_the_previous_version(store: Any) -> None:
    with store.writer():
        old = store.commit(_records(3, "old"), {"ledger": pd.DataFrame({"id": ["t:0"]})})
    unserialisable = pd.DataFrame({"x": [object()]})  # Parquet cannot write it
    with store.writer():
        with pytest.raises(Exception):  # noqa: B017 - whatever the backend raises
            store.commit(_records(7, "new"), {"ledger": pd.DataFrame(), "bad": unserialisable})
        with pytest.raises(DataValidationError):
            store.commit(actors_frame([{"id": ""}]), {})
    assert store.stamp() == old
    assert sorted(store.read_actors()["nom"]) == ["old 0", "old 1", "old 2"]
    assert store.read_table("ledger")["id"].tolist() == ["t:0"]
    assert store.read_table("bad") is None


def test_second_writer_refuses_or_waits(store: Any) -> None:
    held = threading.Event()
    release = threading.Event()

    def first_import() -> None:
        with _another(store).writer():
            held.set()
            release.wait(30)

    thread = threading.Thread(target=first_import)
    thread.start()
    assert held.wait(30)
    try:
        with pytest.raises(StoreBusyError), store.writer(wait=False):
            pass
        messages: list[str] = []
        got = threading.Event()

        def second_import() -> None:
            with store.writer(on_wait=messages.append):
                got.set()

        waiter = threading.Thread(target=second_import)
        waiter.start()
        time.sleep(0.5)
        assert not got.is_set()  # still waiting for the first import
    finally:
        release.set()
        thread.join(30)
    waiter.join(30)
    assert got.is_set()
    assert len(messages) == 1 and "waiting" in messages[0]


def test_readers_do_not_block_while_an_import_holds_the_lock(store: Any) -> None:
    with store.writer():
        old = store.commit(_records(3, "old"), {})
    held, release = threading.Event(), threading.Event()

    def slow_import() -> None:
        with _another(store).writer():
            held.set()
            release.wait(30)

    thread = threading.Thread(target=slow_import)
    thread.start()
    try:
        assert held.wait(30)
        start = time.monotonic()
        assert store.stamp() == old
        assert len(store.read_actors()) == 3
        assert not store.is_empty()
        assert time.monotonic() - start < 10
    finally:
        release.set()
        thread.join(30)


@pytest.mark.postgis
def test_postgis_reader_sees_old_rows_during_an_uncommitted_replace(pg_url: str) -> None:
    """MVCC: an import's DELETE + COPY is invisible, and does not block, until it commits."""
    import psycopg

    from mapapp.store.postgis import PostgisStore

    store = PostgisStore(pg_url)
    with store.writer():
        old = store.commit(_records(4, "old"), {})
    with psycopg.connect(pg_url) as writer:
        writer.execute("DELETE FROM mapapp_actors")
        writer.execute("INSERT INTO mapapp_generation (records) VALUES (0)")
        start = time.monotonic()
        assert len(store.read_actors()) == 4 and store.stamp() == old
        assert time.monotonic() - start < 10
        writer.rollback()
    assert len(store.read_actors()) == 4


@pytest.mark.postgis
def test_postgis_schema_has_a_gist_index_and_is_migrated_by_alembic(pg_url: str) -> None:
    import psycopg

    from mapapp.store.postgis import PostgisStore, migrate

    PostgisStore(pg_url).is_empty()
    migrate(pg_url)  # a second run is a no-op
    with psycopg.connect(pg_url) as conn:
        indexes = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'mapapp_actors'"
        ).fetchall()
        version = conn.execute("SELECT version_num FROM mapapp_alembic_version").fetchall()
    assert any("USING gist (geom)" in row[0] for row in indexes)
    assert version == [("0003",)]  # 0003: the reserved-places register (issue 17)


@pytest.mark.postgis
def test_api_and_search_serve_from_postgis(pg_url: str, settings: Any) -> None:
    import warnings

    from mapapp.settings import Settings
    from mapapp.store import open_store
    from mapapp.web.app import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    s = Settings.from_env(
        {
            "MAPAPP_DATA_DIR": str(settings.data_dir),
            "MAPAPP_CACHE_DIR": str(settings.cache_dir),
            "MAPAPP_STORE_URL": pg_url,
            "MAPAPP_API_RATE_LIMIT": "0",
        }
    )
    store = open_store(s)
    assert type(store).__name__ == "PostgisStore"
    with store.writer():
        store.commit(_records(5, "pg"), {})
    r = TestClient(create_app(s)).get(
        "/api/v1/services", params={"lat": 45.0, "lon": 5.0, "obstacles": "mobilite"}
    )
    assert r.status_code == 200
    assert [i["service"]["id"] for i in r.json()["items"]] == ["t:3"]  # t:1 is confidential


@pytest.mark.postgis
def test_postgis_migrations_cover_every_record_column(pg_url: str) -> None:
    """A column added to mapapp.schema.COLUMNS needs an Alembic revision: this fails until it has one."""
    import psycopg

    from mapapp.schema import COLUMNS
    from mapapp.store.postgis import migrate

    migrate(pg_url)
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'mapapp_actors'"
        ).fetchall()
    assert set(COLUMNS) <= {r[0] for r in rows}
