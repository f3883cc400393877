"""An import's summary on the terminal is French first, English second (as every CLI message).

Why: the operators of a département's social services read French; the
replay of issue 10 found the summary's main lines in English only.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mapapp.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"


def test_the_summary_is_french_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MAPAPP_DATA_DIR", str(tmp_path / "data"))
    args = ["ingest", str(FIXTURES / "dup_a.csv"), "--mapping", str(FIXTURES / "dup_b.toml")]
    try:
        main([*args, "--no-geocode", "--quiet", "--no-index"])
    except SystemExit as ended:
        assert ended.code in (0, None)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("3 lignes lues : 2 chargées, 1 fusionnée(s), 0 en quarantaine")
    assert out[0].endswith("/ Read 3 rows: 2 loaded, 1 merged, 0 quarantined (counts add up).")
    assert out[1].startswith("Store : 2 ajoutée(s), 0 mise(s) à jour")
    assert any(line.startswith("Rapport / report: ") for line in out)


def test_progress_is_shown_before_the_first_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MAPAPP_DATA_DIR", str(tmp_path / "data"))
    args = ["ingest", str(FIXTURES / "dup_a.csv"), "--mapping", str(FIXTURES / "dup_b.toml")]
    try:
        main([*args, "--no-geocode", "--no-index", "--progress"])
    except SystemExit as ended:
        assert ended.code in (0, None)
    first = capsys.readouterr().err.splitlines()[0]
    assert first.startswith("[lecture / reading] 0 lignes lues"), first
