"""Broken inputs: each gives a clear error naming the file, or a quarantine reason; never a traceback.

Every case runs the real command line (``mapapp ingest ...``) in-process and
checks the exit code, the message, and that the counts of the report add up
(no row lost) when the import goes through.
"""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from mapapp.cli import main
from mapapp.sources._io import iter_json_records

BAD = Path(__file__).parent / "fixtures" / "ingest" / "malformed"
RULES = Path(__file__).parent / "fixtures" / "ingest" / "rules.toml"

#: (arguments, message expected in the error) -> exit code 2
ERRORS: list[tuple[list[str], str]] = [
    (["empty.json"], "empty"),
    (["empty.csv"], "empty"),
    (["whitespace.json"], "empty"),
    (["broken.json"], "broken JSON"),
    (["empty_list.json"], "no record"),
    (["not_records.json"], "no record"),
    (["unknown_columns.csv"], "format not recognised"),
    (["unknown_object.json"], "format not recognised"),
    (["header_only.csv"], "no rows"),
    (["binary.csv"], "binary file"),
    (["open_quote_early.csv"], "broken CSV"),
    (["ragged.csv"], "broken CSV"),
    (["corrupt.parquet"], "Parquet"),
    (["broken_line.jsonl"], "line 2"),
    (["missing_nom.csv", "--mapping", str(RULES)], "required column"),
    (["rules.csv", "--mapping", "bad_key.toml"], "unknown key"),
    (["rules.csv", "--mapping", "bad_syntax.toml"], "not a valid mapping file"),
    (["rules.csv", "--mapping", "bad_type.toml"], "not an actor type"),
    (["rules.csv", "--mapping", "no-such-mapping"], "no mapping file"),
    (["abroad.csv", "--format", "excel"], "unknown format"),
    (["does-not-exist.json"], "no such file"),
    (["empty_folder"], "no data file"),
]

#: (arguments, reason expected in the quarantine) -> exit code 0, counts add up
QUARANTINED: list[tuple[list[str], str]] = [
    (["no_name.csv"], "no name"),
    (["bad_lat_no_commune.csv"], "no usable location"),
    (["abroad.csv"], "outside France"),
    (["unknown_insee.csv"], "no usable location"),
    (["name_mismatch.csv"], "designate different communes"),
    (["api_bad_item.json"], "without a 'service' object"),
    (["mixed_list.json"], "not a record"),
    (["polygon.geojson", "--mapping", "mapping_poly.yaml"], "no usable location"),
    (["structures_dup"], "repeated"),
    (["bad_ewkt.csv", "--mapping", "bad_ewkt.toml"], "no usable location"),
    # the file ends in the middle of its last row: that row only is set aside
    (["truncated.json"], "truncated"),
    (["bad_quotes.csv"], "truncated"),
]


def _run(
    args: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> tuple[int, str]:
    monkeypatch.setenv("MAPAPP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("MAPAPP_DEBUG", raising=False)
    monkeypatch.chdir(BAD)
    full = ["ingest", *args, "--no-geocode", "--quiet", "--report", str(tmp_path / "r.json")]
    try:
        main(full)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.mark.parametrize(("args", "message"), ERRORS, ids=[a[0] + ":" + m for a, m in ERRORS])
def test_clear_error(
    args: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = _run(args, tmp_path, monkeypatch, capsys)
    assert code == 2, out
    assert "Traceback" not in out
    assert message.lower() in out.lower()
    first = args[0]
    if "--mapping" not in args and "--format" not in args:
        assert first in out  # the message names the file


@pytest.mark.slow
@pytest.mark.parametrize(("args", "reason"), QUARANTINED, ids=[a[0] for a, _ in QUARANTINED])
def test_quarantine_reason(
    args: list[str],
    reason: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = _run(args, tmp_path, monkeypatch, capsys)
    assert code == 0, out
    assert "Traceback" not in out
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["balanced"]
    assert report["read"] == report["loaded"] + report["merged"] + report["quarantined"]
    assert report["quarantined"] >= 1
    assert any(reason in q["reason"] for q in report["quarantine"]), report["quarantine"]
    assert all(q["original"] is not None for q in report["quarantine"])


def test_at_least_thirty_broken_inputs() -> None:
    assert len(ERRORS) + len(QUARANTINED) + 1 >= 30


@pytest.mark.slow
def test_huge_json_is_streamed_with_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    record = {"id": "x", "nom": "Structure " + "y" * 400, "thematiques": ["numerique"] * 5}
    with path.open("w") as fh:
        fh.write("[")
        for i in range(60_000):
            fh.write(("," if i else "") + json.dumps(record | {"id": str(i)}))
        fh.write("]")
    size = path.stat().st_size
    tracemalloc.start()
    count = sum(1 for _ in iter_json_records(path))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 60_000
    assert size > 25_000_000
    assert peak < size / 4  # a few read buffers, never the whole file
