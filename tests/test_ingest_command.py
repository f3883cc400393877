"""``mapapp ingest`` as an operator sees it: what it prints, and what it leaves for the servers.

- The summary is French first, English second, as every CLI message (the
  replay of issue 10 found its main lines in English only).
- Progress is said at once, not after the first chunk (15-20 s of silence).
- The import leaves the search index of the version it committed, so that a
  server started afterwards maps it and answers its first search in seconds
  (issue 16); without it, the first server of each version built the index
  itself while a person waited (53-69 s in the load test).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mapapp.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"


def _ingest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *flags: str) -> list[Path]:
    """Import the 3-row fixture into a fresh store; the search indexes kept beside its version."""
    monkeypatch.setenv("MAPAPP_DATA_DIR", str(tmp_path / "data"))
    args = ["ingest", str(FIXTURES / "dup_a.csv"), "--mapping", str(FIXTURES / "dup_b.toml")]
    try:
        main([*args, "--no-geocode", *flags])
    except SystemExit as ended:  # click may end with exit code 0
        assert ended.code in (0, None)
    current = (tmp_path / "data" / "CURRENT").read_text().strip()
    return list((tmp_path / "data" / "generations" / current).glob("search-*/"))


def test_import_leaves_the_search_index_beside_its_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _ingest(tmp_path, monkeypatch), "no search index kept beside the committed version"
    assert "index de recherche" in capsys.readouterr().err


def test_no_index_leaves_the_first_server_to_build_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not _ingest(tmp_path, monkeypatch, "--quiet", "--no-index")


def test_the_summary_is_french_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _ingest(tmp_path, monkeypatch, "--quiet", "--no-index")
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("3 lignes lues : 2 chargées, 1 fusionnée(s), 0 en quarantaine")
    assert out[0].endswith("/ Read 3 rows: 2 loaded, 1 merged, 0 quarantined (counts add up).")
    assert out[1].startswith("Store : 2 ajoutée(s), 0 mise(s) à jour")
    assert any(line.startswith("Rapport / report: ") for line in out)


def test_progress_is_shown_before_the_first_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _ingest(tmp_path, monkeypatch, "--no-index", "--progress")
    first = capsys.readouterr().err.splitlines()[0]
    assert first.startswith("[lecture / reading] 0 lignes lues"), first
