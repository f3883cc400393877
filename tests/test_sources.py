"""Source adapters: detection from the content and staging of each format."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mapapp.errors import InputFormatError, OfflineError
from mapapp.sources import read, resolve_inputs
from mapapp.sources._io import iter_json_records, parse_list
from mapapp.sources.fetch import fetch_data_inclusion, pick_resources
from mapapp.sources.mapping import Mapping, load_mapping, shipped_mappings

FIX = Path(__file__).parent / "fixtures" / "ingest" / "sources"


def _adapter(path: Path, tmp_path: Path) -> str:
    groups = resolve_inputs([path], download_dir=tmp_path)
    assert len(groups) == 1
    return groups[0].adapter.name


@pytest.mark.parametrize(
    ("name", "adapter"),
    [
        ("di_v0_csv", "datainclusion"),
        ("di_v1_json", "datainclusion"),
        ("di_geojson", "datainclusion"),
        ("api_v1.json", "datainclusion-api"),
        ("api_v0.json", "datainclusion-api"),
        ("mediation_early.json", "mediation-numerique"),
        ("mediation_pipe.csv", "mediation-numerique"),
    ],
)
def test_format_is_detected_from_content(name: str, adapter: str, tmp_path: Path) -> None:
    assert _adapter(FIX / name, tmp_path) == adapter


def test_detection_ignores_the_file_name(tmp_path: Path) -> None:
    renamed = tmp_path / "export.txt.csv"
    renamed.write_bytes((FIX / "api_v1.json").read_bytes())
    assert _adapter(renamed, tmp_path) == "datainclusion-api"


def test_v0_csv_joins_services_to_structures(tmp_path: Path) -> None:
    rows = read(FIX / "di_v0_csv", download_dir=tmp_path).set_index("source_id")
    # 5 services + 0 lonely structures (all three have services)
    assert sorted(rows.index) == ["v-1", "v-2", "v-3", "v-4", "v-5"]
    v1 = rows.loc["v-1"]
    assert v1["structure_nom"] == "CIDFF du Rhône"
    assert v1["adresse"] == "18 Rue Servient"  # inherited from the structure
    assert parse_list(v1["thematiques"]) == [
        "famille--violences-intrafamiliales",
        "acces-aux-droits-et-citoyennete--accompagnement-juridique",
    ]
    assert "CIDFF" in v1["source_codes"]
    # the service whose structure is missing is kept, with its own address
    assert rows.loc["v-4", "commune"] == "Villeurbanne"


def test_v1_json_structure_without_service_is_its_own_record(tmp_path: Path) -> None:
    rows = read(FIX / "di_v1_json", download_dir=tmp_path).set_index("source_id")
    assert sorted(rows.index) == ["B1", "B2", "structure:A2"]
    assert float(rows.loc["B1", "latitude"]) == -21.0096
    assert rows.loc["B1", "source_codes"][0] == "ccas-cias"


def test_v0_csv_as_parquet_reads_the_same(tmp_path: Path) -> None:
    folder = tmp_path / "pq"
    folder.mkdir()
    for name in ("structures", "services"):
        frame = pd.read_csv(FIX / "di_v0_csv" / f"{name}.csv", dtype=str, keep_default_na=False)
        frame.to_parquet(folder / f"{name}.parquet")
    a = read(FIX / "di_v0_csv", download_dir=tmp_path)
    b = read(folder, download_dir=tmp_path)
    assert sorted(a["source_id"]) == sorted(b["source_id"])
    assert set(b["_adapter"]) == {"datainclusion"}


def test_geojson_geometry_becomes_coords(tmp_path: Path) -> None:
    rows = read(FIX / "di_geojson", download_dir=tmp_path).set_index("source_id")
    assert rows.loc["g1", "coords"]["coordinates"] == [2.3795, 48.8575]
    assert rows.loc["g2", "coords"] is None or pd.isna(rows.loc["g2", "coords"])


def test_api_items_nest_structures(tmp_path: Path) -> None:
    rows = read(FIX / "api_v1.json", download_dir=tmp_path).set_index("source_id")
    assert rows.loc["sv2", "structure_nom"] == "CIDFF de l'Isère"
    assert rows.loc["sv2", "latitude"] == 45.1780  # from the structure
    assert "cidff" in rows.loc["sv2", "source_codes"]
    v0 = read(FIX / "api_v0.json", download_dir=tmp_path).iloc[0]
    assert v0["publics"] == ["personnes-de-nationalite-etrangere"]  # v0 profils
    assert v0["description"] == "FLE"


def test_mediation_standard_both_forms(tmp_path: Path) -> None:
    early = read(FIX / "mediation_early.json", download_dir=tmp_path).iloc[0]
    assert early["thematiques"] == [
        "numerique--prendre-en-main-un-ordinateur",
        "numerique--acceder-a-une-connexion-internet",
    ]
    assert early["siret"] == ""  # zeros are no SIRET
    later = read(FIX / "mediation_pipe.csv", download_dir=tmp_path).iloc[0]
    assert later["siret"] == "21380563000010"
    assert "droits" in later["obstacles"]
    assert later["source_codes"][0] == "france-services"


def test_mapping_csv_with_semicolons_and_decimal_commas(tmp_path: Path) -> None:
    rows = read(
        FIX / "mapping_sheet.csv", mapping=FIX / "mapping_sheet.toml", download_dir=tmp_path
    ).set_index("source_id")
    assert rows.loc["1", "latitude"] == "45,1885"  # raw: cleaned later
    assert rows.loc["1", "actor_type"] == "creche-avip"
    assert rows.loc["2", "obstacles"] == ["logement", "violences"]
    assert rows.loc["1", "source"] == "coord38"


def test_mapping_yaml_geojson(tmp_path: Path) -> None:
    rows = read(
        FIX / "mapping_geo.geojson", mapping=FIX / "mapping_geo.yaml", download_dir=tmp_path
    )
    assert rows.iloc[0]["coords"]["type"] == "Point"


def test_shipped_mappings_have_signatures() -> None:
    names = {m.name for m in shipped_mappings()}
    assert {"lemarche-siaes", "lesemplois-prescribers"} <= names
    assert all(m.detect_columns for m in shipped_mappings())
    assert load_mapping("lemarche-siaes").source == "lemarche"


@pytest.mark.parametrize(
    "raw",
    [
        {"name": "x", "colums": {}},
        {"name": "x", "columns": {"latitud": "lat"}},
        {"name": "x", "actor_type": {"from": "k", "map": {"A": "creche-sauvage"}}},
        {"name": "x", "obstacles": {"from": "k", "map": {"A": ["bonheur"]}}},
        {"columns": {}},
    ],
)
def test_bad_mapping_files_are_explained(raw: dict[str, object]) -> None:
    with pytest.raises(InputFormatError):
        Mapping.from_dict(raw)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("{a,b}", ["a", "b"]),
        ('{"a b",c}', ["a b", "c"]),
        ("['a', 'b']", ["a", "b"]),
        ('["a","a"]', ["a"]),
        ("a;b;", ["a", "b"]),
        ("a|b", ["a", "b"]),
        ("{}", []),
        ("[]", []),
        (None, []),
        (float("nan"), []),
        (["x", None, ""], ["x"]),
    ],
)
def test_parse_list(value: object, expected: list[str]) -> None:
    assert parse_list(value) == expected


def test_json_array_is_streamed_across_chunk_boundaries(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    records = [{"id": i, "nom": "x" * 300} for i in range(6000)]  # ~2 MB > one read chunk
    path.write_text(json.dumps(records))
    assert sum(1 for _ in iter_json_records(path)) == 6000


def _opener(files: dict[str, Path]):  # type: ignore[no-untyped-def]
    def open_url(url: str):  # type: ignore[no-untyped-def]
        for key, path in files.items():
            if url.endswith(key):
                return path.open("rb")
        raise OSError(f"unexpected URL {url}")

    return open_url


def test_fetch_downloads_the_current_resources(tmp_path: Path) -> None:
    dg = Path(__file__).parent / "fixtures" / "ingest" / "datagouv"
    opener = _opener(
        {
            "/6233723c2c1e4a54af2f6b2d/": dg / "dataset.json",
            "structures-inclusion-2026-06-29.json": dg / "structures.json",
            "services-inclusion-2026-06-29.json": dg / "services.json",
        }
    )
    folder = fetch_data_inclusion(tmp_path / "di", fmt="json", opener=opener)
    assert sorted(p.name for p in folder.iterdir()) == ["services.json", "structures.json"]
    assert _adapter(folder, tmp_path) == "datainclusion"


def test_fetch_offline_says_so(tmp_path: Path) -> None:
    def offline(url: str):  # type: ignore[no-untyped-def]
        import urllib.error

        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    with pytest.raises(OfflineError, match="offline"):
        fetch_data_inclusion(tmp_path, opener=offline)


def test_pick_resources_needs_services() -> None:
    with pytest.raises(InputFormatError):
        pick_resources({"resources": []}, fmt="json")
