"""What an import holds between reading and committing, and what it writes (issue 10, 16).

Why these checks: a million rows held as Python lists and strings took
3.6 GB; the rows are now held as Arrow strings and Arrow lists.  The store
must still read back exactly as before (Python lists, readable by every
reader), and an id repeated across chunks must still count as merged.
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from mapapp.ingest import ingest
from mapapp.ingest.pipeline import LIST_DTYPE, _compact, _compact_info
from mapapp.schema import LIST_COLUMNS
from mapapp.settings import Settings
from mapapp.store import open_store

HEADER = ["id", "nom", "adresse", "code_postal", "commune", "lat", "lon", "type"]
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

[actor_type]
from = "type"
default = "autre"
map = { ML = "mission-locale", EPN = "mediation-numerique" }
"""


def _write(folder: Path, rows: list[list[str]]) -> tuple[Path, Path]:
    path = folder / "reseau.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)
    mapping = folder / "reseau.toml"
    mapping.write_text(MAPPING, "utf-8")
    return path, mapping


def _rows(n: int) -> list[list[str]]:
    """``n`` places in Paris 11e and Lyon 3e, far enough apart not to be duplicates."""
    out = []
    for i in range(n):
        if i % 2:
            lat, lon, pc, commune, kind = 48.85 + i * 1e-3, 2.37, "75011", "Paris", "ML"
        else:
            lat, lon, pc, commune, kind = 45.76 + i * 1e-3, 4.85, "69003", "Lyon", "EPN"
        out.append([f"b{i}", f"Lieu {i}", f"{i} rue Test", pc, commune, str(lat), str(lon), kind])
    return out


def test_held_rows_are_compact() -> None:
    """A cleaned chunk is held as Arrow: under 300 bytes a row for a typical service.

    The bound is independent of the code: the row's text is about 160
    bytes; Python lists of the seven list columns alone cost over 400
    (56 bytes an empty list, 64 a list of one), so a row held as Python
    objects cannot pass.
    """
    n = 2000
    actors = pd.DataFrame(
        {
            "id": [f"reseau:b{i}" for i in range(n)],
            "nom": [f"Mission locale {i}" for i in range(n)],
            "adresse": [f"{i} rue de la République" for i in range(n)],
            "commune": ["Paris"] * n,
            "thematiques": [["trouver-un-emploi--rediger-cv", "mobilite--preparer-un-permis"]] * n,
            "obstacles": [["emploi", "mobilite"] for _ in range(n)],
            "publics": [["tous-publics"] for _ in range(n)],
            "frais": [["gratuit"] for _ in range(n)],
            "modes_accueil": [[] for _ in range(n)],
            "zone_eligibilite": [[] for _ in range(n)],
            "sources": [[] for _ in range(n)],
            "latitude": np.full(n, 48.85),
        }
    )
    info = pd.DataFrame(
        {
            "origin": [f"reseau.csv#{i}" for i in range(n)],
            "repairs": [[] for _ in range(n)],
            "unknown_thematiques": [[] for _ in range(n)],
            "unknown_codes": [[] for _ in range(n)],
            "confidential_reasons": [[] for _ in range(n)],
        }
    )
    held = _compact(actors)
    notes = _compact_info(info)
    assert all(held[c].dtype == LIST_DTYPE for c in LIST_COLUMNS)
    assert held["modes_accueil"].iloc[0] == ["en-presentiel"]  # the schema's default
    assert held["obstacles"].iloc[1] == ["emploi", "mobilite"]
    per_row = held.memory_usage(deep=True).sum() / n
    assert per_row < 300, per_row
    # the notes hold no Python object per row: lists of text as categories (one, empty),
    # the confidentiality reasons' empty lists one shared object, origins as file + line
    for c in ("repairs", "unknown_thematiques", "unknown_codes"):
        assert notes[c].dtype == "category" and list(notes[c].cat.categories) == [""], c
    assert len({id(v) for v in notes["confidential_reasons"]}) == 1
    assert list(notes["origin_file"].cat.categories) == ["reseau.csv"]
    assert notes["origin_line"].tolist() == list(range(n))
    assert notes.memory_usage(deep=False).sum() / n < 24


@pytest.mark.slow  # a whole import (geography loaded)
def test_store_reads_back_python_lists(settings: Settings, tmp_path: Path) -> None:
    """The records file reads as before: list columns of Python lists, valid GeoParquet."""
    path, mapping = _write(tmp_path, _rows(6))
    report = ingest(
        [path], settings=settings, mapping=mapping, geocode=False, report_path=tmp_path / "r.json"
    )
    assert report["balanced"] and report["loaded"] == 6
    store = open_store(settings)
    actors = store.read_actors()
    for col in LIST_COLUMNS:
        assert actors[col].dtype == object, col
    row = actors.set_index("id").loc["reseau:b1"]
    assert list(row["modes_accueil"]) == ["en-presentiel"]
    assert list(row["obstacles"]) and set(row["obstacles"]) >= {"emploi"}
    assert list(row["sources"]) == ["reseau"]
    meta = pq.read_metadata(store.actors_path).metadata
    assert b"geo" in meta  # GeoParquet: geopandas and DuckDB find the geometry
    assert actors.geometry.x.round(4).tolist() == actors["longitude"].round(4).tolist()


@pytest.mark.slow  # a whole import (geography loaded)
def test_reimport_unchanged_and_updated(settings: Settings, tmp_path: Path) -> None:
    """The old records are read as Arrow too: an unchanged row is unchanged, an edit updated."""
    rows = _rows(6)
    path, mapping = _write(tmp_path, rows)
    ingest(
        [path], settings=settings, mapping=mapping, geocode=False, report_path=tmp_path / "r1.json"
    )
    rows[2][1] = "Lieu renommé"
    rows.append(["b99", "Nouveau lieu", "1 rue Neuve", "69003", "Lyon", "45.70", "4.85", "EPN"])
    path.unlink()
    _write(tmp_path, rows)
    report = ingest(
        [path], settings=settings, mapping=mapping, geocode=False, report_path=tmp_path / "r2.json"
    )
    assert report["store"]["added"] == 1
    assert report["store"]["updated"] == 1
    assert report["store"]["unchanged"] == 5
    assert report["changes"]["updated"] == [{"id": "reseau:b2", "fields": ["nom"]}]
    assert report["balanced"]


@pytest.mark.slow  # a whole import (geography loaded)
def test_id_repeated_across_chunks_is_merged(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An id met again in a later chunk: its first row is kept, the other counted as merged."""
    import mapapp.sources._base as base
    import mapapp.sources.mapping as mapping_module

    chunks = functools.partial(base.chunk_records, size=2)
    monkeypatch.setattr(mapping_module, "chunk_records", chunks)
    seen: list[int] = []
    progress = lambda n, stage: seen.append(n)  # noqa: E731
    rows = _rows(5)
    again = list(rows[0])
    again[1] = "Doublon du premier"
    rows.append(again)
    path, mapping = _write(tmp_path, rows)
    report = ingest(
        [path],
        settings=settings,
        mapping=mapping,
        geocode=False,
        report_path=tmp_path / "r.json",
        progress=progress,
    )
    assert [n for n in seen if n] == [2, 2, 2]  # three chunks: the id came back in the last
    assert report["read"] == 6
    assert report["loaded"] == 5 and report["merged"] == 1
    assert report["merged_by_reason"] == {"same id read again (first occurrence kept)": 1}
    assert report["by_dataset"]["reseau"]["merged"] == 1
    actors = open_store(settings).read_actors().set_index("id")
    assert actors.loc["reseau:b0", "nom"] == "Lieu 0"
    assert report["balanced"]


def test_near_pairs_by_slices_finds_the_same_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    """The duplicate search asks its k-d trees by slices: no pair lost at a slice's edge."""
    import mapapp.ingest.dedupe as dedupe

    rng = np.random.default_rng(1)
    lat = 48.85 + rng.random(3000) * 0.01
    lon = 2.35 + rng.random(3000) * 0.01
    xyz = dedupe.to_unit_xyz(lat, lon)
    files = rng.choice(np.array(["a", "b", "c"]), 3000)
    whole = dedupe._near_pairs(xyz, files)
    monkeypatch.setattr(dedupe, "_QUERY_SLICE", 7)
    sliced = dedupe._near_pairs(xyz, files)
    assert len(whole) > 10_000  # dense: every point has neighbours of the other files
    assert np.array_equal(whole, sliced)
