"""Inputs that used to damage the store: cut files, degraded updates, huge values, deep JSON, encodings.

Each case runs the real command line in-process on a store first filled with
``base.csv`` (three complete records in Aubervilliers) and checks what is
stored afterwards, not only what is printed: the point of issue 10 is that
good data is never overwritten by worse.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mapapp.cli import main
from mapapp.ingest.bounds import ID_MAX, TEXT_MAX
from mapapp.settings import Settings
from mapapp.sources._io import csv_encoding
from mapapp.store import open_store

pytestmark = pytest.mark.slow  # whole imports, one per case; see README, Tests

FIX = Path(__file__).parent / "fixtures" / "ingest" / "bounded"
MAPPING = str(FIX / "bounded.toml")


def _ingest(
    *args: str, data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, dict]:  # type: ignore[type-arg]
    monkeypatch.setenv("MAPAPP_DATA_DIR", str(data))
    monkeypatch.delenv("MAPAPP_DEBUG", raising=False)
    report = data.parent / "r.json"
    report.unlink(missing_ok=True)
    full = ["ingest", *args, "--no-geocode", "--quiet", "--report", str(report)]
    try:
        main(full)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    loaded = json.loads(report.read_text()) if report.exists() else {}
    return code, out.out + out.err, loaded


@pytest.fixture
def base(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Path:
    """A store holding the three complete records of base.csv."""
    data = tmp_path / "data"
    code, out, report = _ingest(
        str(FIX / "base.csv"),
        "--mapping",
        MAPPING,
        data=data,
        monkeypatch=monkeypatch,
        capsys=capsys,
    )
    assert code == 0, out
    assert report["store"]["added"] == 3
    actors = open_store(Settings.from_env({"MAPAPP_DATA_DIR": str(data)})).read_actors()
    assert set(actors["precision"]) == {"address"}
    return data


def _actors(data: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    frame = open_store(Settings.from_env({"MAPAPP_DATA_DIR": str(data)})).read_actors()
    return {str(r["id"]): r for r in frame.drop(columns="geometry").to_dict(orient="records")}


@pytest.mark.parametrize("name", ["cut_row.csv", "open_quote.csv", "cut.json", "cut.jsonl"])
def test_a_cut_last_row_is_quarantined_and_never_replaces_the_stored_record(
    name: str,
    base: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = _actors(base)
    code, out, report = _ingest(
        str(FIX / name), "--mapping", MAPPING, data=base, monkeypatch=monkeypatch, capsys=capsys
    )
    assert code == 0, out
    assert report["balanced"]
    cut = [q for q in report["quarantine"] if q["reason"].startswith("truncated")]
    assert len(cut) == 1, report["quarantine"]
    assert cut[0]["origin"] == f"{name}#2"
    after = _actors(base)
    # b501 is exactly as it was: its point was not degraded to the commune
    assert after["bx:b501"]["precision"] == "address"
    assert after["bx:b501"]["latitude"] == before["bx:b501"]["latitude"]
    assert after["bx:b501"]["telephone"] == before["bx:b501"]["telephone"]
    assert report["store"]["updated"] == 0
    assert "truncated" in out


def test_prune_is_refused_when_an_input_was_cut(
    base: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, report = _ingest(
        str(FIX / "cut_row.csv"),
        "--mapping",
        MAPPING,
        "--prune",
        data=base,
        monkeypatch=monkeypatch,
        capsys=capsys,
    )
    assert code == 0, out
    assert report["store"]["pruned"] == 0
    assert set(_actors(base)) == {"bx:b500", "bx:b501", "bx:b502"}
    assert "cut_row.csv" in report["prune_skipped"]


def test_degraded_updates_are_held_back_unless_accepted(
    base: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [str(FIX / "degraded.csv"), "--mapping", MAPPING]
    code, out, report = _ingest(*args, data=base, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0, out
    lost = {d["id"]: d["lost"] for d in report["degraded"]}
    assert lost == {
        "bx:b500": ["precision address -> commune"],
        "bx:b501": ["telephone emptied"],
    }
    assert report["store"]["degraded"] == 2 and report["store"]["updated"] == 0
    assert report["read"] == report["loaded"] + report["merged"] + report["quarantined"]
    kept = _actors(base)
    assert kept["bx:b500"]["precision"] == "address"
    assert kept["bx:b501"]["telephone"] == "01 48 39 52 01"
    assert "--accept-degraded" in out
    code, out, report = _ingest(
        *args, "--accept-degraded", data=base, monkeypatch=monkeypatch, capsys=capsys
    )
    assert code == 0, out
    assert report["store"]["updated"] == 2 and not report["degraded"]
    applied = _actors(base)
    assert applied["bx:b500"]["precision"] == "commune"
    assert applied["bx:b501"]["telephone"] == ""


def test_over_long_values_are_cut_and_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    code, out, report = _ingest(
        str(FIX / "long.csv"),
        "--mapping",
        MAPPING,
        data=data,
        monkeypatch=monkeypatch,
        capsys=capsys,
    )
    assert code == 0, out
    stored = _actors(data)["bx:b700"]
    # the fixture's values are 1000, 500, 200 and 6000 characters long
    assert len(stored["nom"]) == TEXT_MAX["nom"] < 1000
    assert len(stored["adresse"]) == TEXT_MAX["adresse"] < 500
    assert len(stored["telephone"]) == TEXT_MAX["telephone"] < 200
    assert len(stored["description"]) == TEXT_MAX["description"] < 6000
    assert stored["nom"].endswith("…")
    assert report["cut_fields"] == {"nom": 1, "adresse": 1, "telephone": 1, "description": 1}
    assert _actors(data)["bx:b701"]["nom"] == "Court"
    # an id is never cut (two records would become one): that row is quarantined
    too_long = [q for q in report["quarantine"] if q["reason"].startswith("id too long")]
    assert len(too_long) == 1 and len("bx:b" + "9" * 1100) > ID_MAX
    assert report["balanced"]


@pytest.mark.parametrize("name", ["deep.json", "deep_record.json"])
def test_deep_json_is_a_clear_error_naming_the_file(
    name: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = _ingest(
        str(FIX / name),
        "--mapping",
        MAPPING,
        data=tmp_path / "data",
        monkeypatch=monkeypatch,
        capsys=capsys,
    )
    assert code == 2, out
    assert name in out and "nested deeper" in out
    assert "RecursionError" not in out and "Traceback" not in out


def test_bom_before_a_cp1252_file_keeps_the_mapped_id_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    code, out, report = _ingest(
        str(FIX / "bom_cp1252.csv"),
        "--mapping",
        MAPPING,
        data=data,
        monkeypatch=monkeypatch,
        capsys=capsys,
    )
    assert code == 0, out
    stored = _actors(data)
    assert list(stored) == ["bx:b600"]  # the file's id, not a content hash
    assert report["loaded"] == 1 and not report["warnings"]
    assert stored["bx:b600"]["nom"] == "Médiathèque Saint-John-Perse"
    assert stored["bx:b600"]["description"] == "Prêt de livres"


def test_a_legacy_accent_far_down_the_file_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "late.csv"
    rows = ["id,nom"] + [f"{i},Structure {i}" for i in range(8000)] + ["9000,Médiathèque"]
    path.write_bytes("\n".join(rows).encode("cp1252") + b"\n")
    assert path.stat().st_size > 1 << 16  # beyond the first 64 KiB the old code sampled
    assert csv_encoding(path) == ("cp1252", 0)


def test_a_mapped_column_absent_from_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    code, out, _ = _ingest(
        str(FIX / "no_id.csv"),
        "--mapping",
        MAPPING,
        data=data,
        monkeypatch=monkeypatch,
        capsys=capsys,
    )
    assert code == 2 and "'id'" in out and "no_id.csv" in out  # the id: an error
    code, out, report = _ingest(
        str(FIX / "no_tel.csv"),
        "--mapping",
        MAPPING,
        data=data,
        monkeypatch=monkeypatch,
        capsys=capsys,
    )
    assert code == 0, out  # an optional column: a warning in the report
    assert any("'tel'" in w and "no_tel.csv" in w for w in report["warnings"])
    assert "'tel'" in out


def test_progress_lines_on_request_when_not_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MAPAPP_DATA_DIR", str(tmp_path / "data"))
    args = ["ingest", str(FIX / "base.csv"), "--mapping", MAPPING, "--no-geocode"]
    main([*args, "--report", str(tmp_path / "r1.json")])
    assert "rows read" not in capsys.readouterr().err  # not a terminal: quiet by default
    # a fresh store: the same file again on the first one is an unchanged no-op
    monkeypatch.setenv("MAPAPP_DATA_DIR", str(tmp_path / "data2"))
    main([*args, "--progress", "--report", str(tmp_path / "r2.json")])
    err = capsys.readouterr().err
    assert "[lecture / reading] 0 lignes lues / rows read" in err  # said before the first chunk
    assert "[fusion / merging] 3 lignes lues / rows read" in err and "rows/s" in err
    monkeypatch.setenv("MAPAPP_DATA_DIR", str(tmp_path / "data"))
    main([*args, "--progress", "--report", str(tmp_path / "r3.json")])
    assert "[inchangé / unchanged]" in capsys.readouterr().err  # the no-op says so too
