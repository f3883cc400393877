"""An import writes its rows to Parquet parts and assembles the actors file from them (issue 10).

Why these checks: the memory of an import must stop growing with the width
of its rows.  Each cleaned chunk goes to a part on disk while reading; the
merge compares old and new records by id and content hash; the new actors
file is written row group by row group.  What must hold whatever the
implementation: the parts exist while reading and nothing is left after;
the file is valid GeoParquet (its bounding box covers every record, old and
new); a generation written without hashes (earlier versions, or records
written by hand) is still compared field by field correctly.
"""

from __future__ import annotations

import csv
import functools
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mapapp.ingest import ingest
from mapapp.ingest.parts import filled_mask, lost_fields, row_hash
from mapapp.settings import Settings
from mapapp.store import open_store
from mapapp.store.base import ROW_HASH
from mapapp.store.merge import degraded_updates

HEADER = ["id", "nom", "adresse", "code_postal", "commune", "lat", "lon", "type", "tel"]
MAPPING = """name = "petit-reseau"
source = "reseau"
dataset = "reseau"

[columns]
source_id = "id"
nom = "nom"
adresse = "adresse"
code_postal = "code_postal"
commune = "commune"
latitude = "lat"
longitude = "lon"
source_type = "type"
telephone = "tel"

[actor_type]
from = "type"
default = "autre"
map = { ML = "mission-locale", EPN = "mediation-numerique" }
"""


def _rows(n: int) -> list[list[str]]:
    """``n`` places in Paris 11e and Lyon 3e, far enough apart not to be duplicates."""
    out = []
    for i in range(n):
        if i % 2:
            lat, lon, pc, commune, kind = 48.85 + i * 1e-3, 2.37, "75011", "Paris", "ML"
        else:
            lat, lon, pc, commune, kind = 45.76 + i * 1e-3, 4.85, "69003", "Lyon", "EPN"
        row = [f"b{i}", f"Lieu {i}", f"{i} rue Test", pc, commune, str(lat), str(lon), kind]
        out.append([*row, f"01 40 00 00 {i:02d}"])
    return out


def _write(folder: Path, rows: list[list[str]]) -> tuple[Path, Path]:
    path = folder / "reseau.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)
    mapping = folder / "reseau.toml"
    mapping.write_text(MAPPING, "utf-8")
    return path, mapping


def _import(settings: Settings, folder: Path, rows: list[list[str]], name: str) -> dict:
    path, mapping = _write(folder, rows)
    return ingest(
        [path], settings=settings, mapping=mapping, geocode=False, report_path=folder / name
    )


def test_row_hash_sees_every_field_and_an_absent_column_as_empty() -> None:
    """Equal content, equal hash; one changed field or list item, another hash.

    A column a file lacks hashes like an empty one, as the field-by-field
    comparison sees them (both "").
    """
    base = {"nom": ["EPN"], "obstacles": [["emploi"]], "capacite": [12.0], "telephone": [""]}
    same = row_hash(pa.table(base))[0]
    assert row_hash(pa.table(base))[0] == same
    assert row_hash(pa.table({**base, "nom": ["EPN 2"]}))[0] != same
    assert row_hash(pa.table({**base, "obstacles": [["emploi", "mobilite"]]}))[0] != same
    assert row_hash(pa.table({**base, "capacite": [13.0]}))[0] != same
    without = {k: v for k, v in base.items() if k != "telephone"}
    assert row_hash(pa.table(without))[0] == same
    # ids are not content: the same record under another id hashes the same
    assert row_hash(pa.table({**base, "id": ["x:1"]}))[0] == same


def test_filled_mask_says_which_fields_a_row_would_lose() -> None:
    # columns in the schema's order, as the cleaned records have them
    old = pa.table({"nom": ["A"], "publics": [["jeunes"]], "telephone": ["01"]})
    new = pa.table({"nom": ["A"], "publics": [[]], "telephone": [""]})
    lost = lost_fields(filled_mask(old)[0], filled_mask(new)[0])
    # what the field-by-field check says, in the schema's column order
    expected = degraded_updates(
        pd.DataFrame(old.to_pydict()).assign(id="a:1"),
        pd.DataFrame(new.to_pydict()).assign(id="a:1"),
    )
    assert expected == {"a:1": ["publics emptied", "telephone emptied"]}
    assert [f"{f} emptied" for f in lost] == expected["a:1"]
    assert lost_fields(filled_mask(new)[0], filled_mask(old)[0]) == []


@pytest.mark.slow  # a whole import (geography loaded)
def test_parts_are_written_while_reading_and_removed_after(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every chunk is on disk as soon as it is cleaned; the file is built in row groups."""
    import mapapp.ingest.parts as parts
    import mapapp.sources._base as base
    import mapapp.sources.mapping as mapping_module

    monkeypatch.setattr(
        mapping_module, "chunk_records", functools.partial(base.chunk_records, size=2)
    )
    monkeypatch.setattr(parts, "BATCH_ROWS", 2)
    generations = settings.data_dir / "generations"
    seen: list[int] = []

    def progress(n: int, stage: str) -> None:
        if n:  # after each chunk: count the parts in the staging folder
            seen.append(len(list(generations.glob(".tmp-parts-*/part-*.parquet"))))

    path, mapping = _write(tmp_path, _rows(6))
    report = ingest(
        [path],
        settings=settings,
        mapping=mapping,
        geocode=False,
        report_path=tmp_path / "r.json",
        progress=progress,
    )
    assert report["balanced"] and report["loaded"] == 6
    assert seen == [1, 2, 3]  # three chunks of two rows, each written before the next is read
    assert list(generations.glob(".tmp-*")) == []  # nothing left once committed
    store = open_store(settings)
    meta = pq.read_metadata(store.actors_path)
    assert meta.num_rows == 6 and meta.num_row_groups == 3


@pytest.mark.slow  # two whole imports
def test_file_is_geoparquet_with_hashes_and_a_bbox_of_old_and_new_records(
    settings: Settings, tmp_path: Path
) -> None:
    """Old records kept and new ones added: one valid file, hashes hidden from readers."""
    _import(settings, tmp_path, _rows(4), "r1.json")
    far = ["b90", "Lieu loin", "1 rue Loin", "13001", "Marseille", "43.30", "5.37", "EPN", ""]
    report = _import(settings, tmp_path, [*_rows(4)[2:], far], "r2.json")
    assert report["store"]["added"] == 1 and report["store"]["unchanged"] == 2
    store = open_store(settings)
    actors = store.read_actors()
    assert ROW_HASH not in actors.columns  # readers never get it
    assert sorted(actors["id"]) == sorted([f"reseau:b{i}" for i in range(4)] + ["reseau:b90"])
    geo = json.loads(pq.read_metadata(store.actors_path).metadata[b"geo"])
    bbox = geo["columns"][geo["primary_column"]]["bbox"]
    assert np.allclose(bbox, actors.total_bounds)  # geopandas' own bounds of every point
    assert bbox[1] == pytest.approx(43.30)  # the new record's latitude is the lowest
    stored = pq.read_table(store.actors_path, columns=["id", ROW_HASH])
    assert stored.column(ROW_HASH).type == pa.uint64()
    assert stored.column(ROW_HASH).null_count == 0


@pytest.mark.slow  # three whole imports
def test_a_generation_without_hashes_is_still_compared_field_by_field(
    settings: Settings, tmp_path: Path
) -> None:
    """Records rewritten without the hash column: an unchanged row stays unchanged.

    The hash is then computed from the stored columns; if it were computed
    differently from the import's own, every record would be "updated".
    """
    rows = _rows(6)
    _import(settings, tmp_path, rows, "r1.json")
    store = open_store(settings)
    store.write_actors(store.read_actors())  # as a tool or an earlier version writes them
    assert ROW_HASH not in pq.read_schema(store.actors_path).names
    rows[2][1] = "Lieu renommé"
    rows[4][8] = ""  # a phone emptied: held back as degraded
    report = _import(settings, tmp_path, rows, "r2.json")
    assert report["store"]["updated"] == 1 and report["store"]["unchanged"] == 4
    assert report["changes"]["updated"] == [{"id": "reseau:b2", "fields": ["nom"]}]
    assert [d["id"] for d in report["degraded"]] == ["reseau:b4"]
    assert report["degraded"][0]["lost"] == ["telephone emptied"]
    assert report["balanced"]
    actors = open_store(settings).read_actors().set_index("id")
    assert actors.loc["reseau:b4", "telephone"] != ""  # the old record kept
    assert actors.loc["reseau:b2", "nom"] == "Lieu renommé"


@pytest.fixture
def pg_settings(tmp_path: Path) -> Iterator[Settings]:
    """Settings on a fresh PostGIS database (``MAPAPP_TEST_PG_URL``, ``tools/pg.sh start``)."""
    import psycopg

    admin = os.environ.get("MAPAPP_TEST_PG_URL")
    if not admin:
        message = "no PostgreSQL server (set MAPAPP_TEST_PG_URL; bash tools/pg.sh start)"
        if os.environ.get("CI"):
            pytest.fail(message + " and CI is set: .ci/run must start one")
        pytest.skip(message)
    name = f"mapapp_parts_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = admin.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    env = {**os.environ, "MAPAPP_DATA_DIR": str(tmp_path / "d"), "MAPAPP_STORE_URL": url}
    env["MAPAPP_CACHE_DIR"] = os.environ.get("MAPAPP_CACHE_DIR", str(_cache()))
    yield Settings.from_env(env)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _cache() -> Path:
    return Settings.from_env().cache_dir


@pytest.mark.postgis
@pytest.mark.slow  # two whole imports
def test_postgis_import_and_update_from_parts(pg_settings: Settings, tmp_path: Path) -> None:
    """PostGIS keeps its path (one frame for COPY) but reads the import's parts and hashes."""
    rows = _rows(6)
    first = _import(pg_settings, tmp_path, rows, "r1.json")
    assert first["store"]["added"] == 6 and first["balanced"]
    rows[2][1] = "Lieu renommé"
    rows.append(["b99", "Nouveau lieu", "1 rue Neuve", "69003", "Lyon", "45.70", "4.85", "EPN", ""])
    report = _import(pg_settings, tmp_path, rows, "r2.json")
    assert report["store"]["added"] == 1 and report["store"]["updated"] == 1
    assert report["store"]["unchanged"] == 5
    assert report["changes"]["updated"] == [{"id": "reseau:b2", "fields": ["nom"]}]
    actors = open_store(pg_settings).read_actors().set_index("id")
    assert len(actors) == 7 and ROW_HASH not in actors.columns
    assert actors.loc["reseau:b2", "nom"] == "Lieu renommé"
    assert list(actors.loc["reseau:b99", "sources"]) == ["reseau"]


@pytest.mark.slow  # a whole import
def test_every_row_quarantined_on_a_fresh_store_leaves_a_complete_empty_file(
    settings: Settings, tmp_path: Path
) -> None:
    """No part written: the records file still has every column (readers need them)."""
    from mapapp.schema import COLUMNS

    nowhere = ["b1", "Lieu", "", "", "", "", "", "EPN", ""]  # no place at all
    report = _import(settings, tmp_path, [nowhere, [*nowhere[:1], "Autre", *nowhere[2:]]], "r.json")
    assert report["quarantined"] == 2 and report["loaded"] == 0 and report["balanced"]
    actors = open_store(settings).read_actors()
    assert len(actors) == 0 and set(COLUMNS) <= set(actors.columns)
