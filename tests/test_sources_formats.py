"""Formats met in the field: data·inclusion API list pages, JSON held as text, rows without id."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mapapp.errors import InputFormatError
from mapapp.ingest import ingest
from mapapp.settings import Settings
from mapapp.sources import content_id, read, resolve_inputs
from mapapp.sources.mapping import Mapping

FIX = Path(__file__).parent / "fixtures" / "ingest" / "formats"
OLD = Path(__file__).parent / "fixtures" / "ingest" / "sources"


def _names(path: Path, tmp_path: Path) -> list[str]:
    return [g.adapter.name for g in resolve_inputs([path], download_dir=tmp_path)]


# --- data·inclusion API list pages ------------------------------------------------


@pytest.mark.parametrize("name", ["structures.json", "services.json"])
def test_list_pages_are_detected(name: str, tmp_path: Path) -> None:
    # Before: "format not recognised" (the export adapter refuses an "items" envelope).
    assert _names(FIX / "api_list" / name, tmp_path) == ["datainclusion-api"]


def test_search_response_is_still_read(tmp_path: Path) -> None:
    rows = read(OLD / "api_v1.json", download_dir=tmp_path).set_index("source_id")
    assert sorted(rows.index) == ["sv1", "sv2"]
    assert rows.loc["sv2", "structure_nom"] == "CIDFF de l'Isère"


def test_structures_page_rows_are_structures(tmp_path: Path) -> None:
    rows = read(FIX / "api_list" / "structures.json", download_dir=tmp_path)
    rows = rows.set_index("source_id")
    # alone, each structure is a record of its own (as in the flat export)
    assert sorted(rows.index) == ["structure:s-cidff", "structure:s-epn", "structure:s-pimms"]
    assert rows.loc["structure:s-cidff", "commune"] == "Paris"
    assert "cidff" in rows.loc["structure:s-cidff", "source_codes"]
    assert "france-service" in rows.loc["structure:s-pimms", "source_codes"]
    assert set(rows["_adapter"]) == {"datainclusion-api"}


def test_forced_format_reads_a_list_page(tmp_path: Path) -> None:
    # Before: every row quarantined "API item without a 'service' object".
    rows = read(FIX / "api_list" / "services.json", fmt="datainclusion-api", download_dir=tmp_path)
    assert sorted(rows["source_id"]) == ["sv-demarches", "sv-droits", "sv-orphan"]


def test_services_page_joins_structures_page(tmp_path: Path) -> None:
    rows = read(FIX / "api_list", download_dir=tmp_path).set_index("source_id")
    # 3 services; the two structures with services ride on them; the EPN stays alone
    assert sorted(rows.index) == ["structure:s-epn", "sv-demarches", "sv-droits", "sv-orphan"]
    droits = rows.loc["sv-droits"]
    assert droits["structure_nom"] == "CIDFF de Paris"
    assert droits["adresse"] == "2 Rue de la Roquette"  # inherited
    assert droits["latitude"] == 48.8533
    assert "cidff" in droits["source_codes"]


@pytest.mark.slow
def test_list_page_import_counts_add_up(settings: Settings, tmp_path: Path) -> None:
    r = ingest(
        [FIX / "api_list"], settings=settings, geocode=False, report_path=tmp_path / "r.json"
    )
    assert r["read"] == 6 and r["balanced"]
    assert r["quarantined"] == 0
    assert r["merged_by_reason"].get("structure joined to its services") == 2
    assert r["inputs"][0]["format"] == "datainclusion-api"


def test_an_items_envelope_of_other_things_is_not_taken(tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"items": [{"sku": 1, "price": 3}], "total": 1}), "utf-8")
    with pytest.raises(InputFormatError, match="format not recognised"):
        resolve_inputs([other], download_dir=tmp_path)


# --- JSON held as text inside a column ------------------------------------------------


def test_mapping_reaches_into_a_json_string_column(tmp_path: Path) -> None:
    rows = read(FIX / "dora_diff.csv", mapping=FIX / "dora_diff.toml", download_dir=tmp_path)
    rows = rows.set_index("source_id")
    ml = rows.loc["d1"]
    assert ml["nom"] == "Mission locale de Lyon"
    assert ml["adresse"] == "6 Quai Jules Courmont"
    assert ml["code_postal"] == "69002" and ml["commune"] == "Lyon"
    assert ml["latitude"] == 45.7595
    assert ml["source_type"] == "ML"
    assert rows.loc["d2", "commune"] == "Villeurbanne"


@pytest.mark.slow
def test_json_string_column_import_types_the_records(settings: Settings, tmp_path: Path) -> None:
    r = ingest(
        [FIX / "dora_diff.csv"],
        mapping=FIX / "dora_diff.toml",
        settings=settings,
        geocode=False,
        report_path=tmp_path / "r.json",
    )
    assert (r["read"], r["loaded"], r["quarantined"]) == (2, 2, 0)
    assert r["by_actor_type"] == {"mission-locale": 1, "ccas": 1}


def test_a_json_path_into_a_missing_column_is_an_error(tmp_path: Path) -> None:
    m = Mapping.from_dict({"name": "x", "columns": {"nom": "payload.nom"}})
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[columns]\nnom = "payload.nom"\n', "utf-8")
    assert m.stage({"payload": '{"nom": "A"}'})["nom"] == "A"
    with pytest.raises(InputFormatError, match=r"payload\.nom"):
        read(FIX / "dora_diff.csv", mapping=bad, download_dir=tmp_path)


# --- rows without an id ---------------------------------------------------------------


@pytest.mark.slow
def test_rows_without_id_get_a_stable_content_id(settings: Settings, tmp_path: Path) -> None:
    src = FIX / "places_without_id.json"
    # Before: all three quarantined "no id (source_id) in the record".
    r1 = ingest([src], settings=settings, geocode=False, report_path=tmp_path / "r1.json")
    assert (r1["read"], r1["loaded"], r1["quarantined"]) == (3, 3, 0)
    assert any("3 row(s) had no id" in note for note in r1["notes"])
    md = (tmp_path / "r1.md").read_text("utf-8")
    assert "sans identifiant" in md
    ids1 = set(r1["changes"]["added"])
    assert len(ids1) == 3 and all(i.startswith("hub:h") for i in ids1)
    # The same file again: the same ids, nothing added, nothing gone.
    copy = tmp_path / "again" / "places_without_id.json"
    copy.parent.mkdir()
    shutil.copy(src, copy)
    r2 = ingest([copy], settings=settings, geocode=False, report_path=tmp_path / "r2.json")
    assert r2["store"]["added"] == 0 and r2["store"]["gone"] == 0
    assert r2["store"]["unchanged"] == 3


def test_content_id_ignores_the_update_date_and_differs_between_rows() -> None:
    a = {"nom": "EPN", "adresse": "1 rue", "commune": "Bron", "date_maj": "2024-01-01"}
    b = {**a, "date_maj": "2025-01-01"}
    c = {**a, "adresse": "2 rue"}
    assert content_id(a) == content_id(b) != content_id(c)


@pytest.mark.slow
def test_mapped_rows_without_id_are_counted_too(settings: Settings, tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(
        "Nom;CP;Ville;Lat;Lon\nCCAS de Bron;69500;Bron;45,7385;4,9130\n"
        "CCAS de Vénissieux;69200;Vénissieux;45,6975;4,8868\n",
        "utf-8",
    )
    toml = tmp_path / "sheet.toml"
    toml.write_text(
        'name = "sheet"\n[columns]\nnom = "Nom"\ncode_postal = "CP"\ncommune = "Ville"\n'
        'latitude = "Lat"\nlongitude = "Lon"\n',
        "utf-8",
    )
    r = ingest(
        [sheet], mapping=toml, settings=settings, geocode=False, report_path=tmp_path / "r.json"
    )
    assert r["loaded"] == 2 and any("2 row(s) had no id" in n for n in r["notes"])
