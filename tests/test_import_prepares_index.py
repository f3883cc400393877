"""``mapapp ingest`` leaves the search index of the version it committed for the next server.

Why: a server started after an import maps the kept index and answers its
first search in seconds (issue 16); without it the first server of each new
version built the index itself while a person waited (53-69 s in the load test).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mapapp.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"


def test_import_leaves_the_search_index_beside_its_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MAPAPP_DATA_DIR", str(tmp_path / "data"))
    args = ["ingest", str(FIXTURES / "dup_a.csv"), "--mapping", str(FIXTURES / "dup_b.toml")]
    try:
        main([*args, "--no-geocode"])
    except SystemExit as ended:  # click may end with exit code 0
        assert ended.code in (0, None), capsys.readouterr()
    current = (tmp_path / "data" / "CURRENT").read_text().strip()
    kept = list((tmp_path / "data" / "generations" / current).glob("search-*/"))
    assert kept, "no search index kept beside the committed version"
    assert "index de recherche" in capsys.readouterr().err


def test_no_index_leaves_the_first_server_to_build_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAPAPP_DATA_DIR", str(tmp_path / "data"))
    args = ["ingest", str(FIXTURES / "dup_a.csv"), "--mapping", str(FIXTURES / "dup_b.toml")]
    try:
        main([*args, "--no-geocode", "--quiet", "--no-index"])
    except SystemExit as ended:
        assert ended.code in (0, None)
    current = (tmp_path / "data" / "CURRENT").read_text().strip()
    assert not list((tmp_path / "data" / "generations" / current).glob("search-*/"))
