"""The README as a newcomer meets it: every command it shows works, on what she has."""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text("utf-8")
Cli = Callable[..., subprocess.CompletedProcess[str]]


def _command_lines(kinds: tuple[str, ...]) -> list[str]:
    """``mapapp <kind> ...`` lines of the README's ```bash blocks (comments dropped)."""
    lines: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", README, flags=re.S):
        for line in block.splitlines():
            text = line.split(" #", 1)[0].strip()
            if any(text.startswith(f"mapapp {k} ") for k in kinds):
                lines.append(text)
    return lines


SEARCHES = _command_lines(("search",))
COVERAGES = _command_lines(("coverage",))


def test_the_readme_shows_searches_and_coverage() -> None:
    assert len(SEARCHES) >= 3 and COVERAGES


def _result_rows(args: list[str], stdout: str) -> int:
    fmt = args[args.index("--format") + 1] if "--format" in args else "table"
    if fmt == "json":
        return len(json.loads(stdout))
    if fmt == "csv":
        return len(list(csv.DictReader(io.StringIO(stdout))))
    lines = [ln for ln in stdout.splitlines() if ln.strip()]
    return len(lines) - 1 if lines and "distance_km" in lines[0] else 0


@pytest.mark.slow
@pytest.mark.parametrize("line", SEARCHES)
def test_every_readme_search_returns_results(mapapp_cli: Cli, line: str) -> None:
    # The third example used to print only a CSV header: crèches AVIP are not free.
    args = shlex.split(line)[1:]
    proc = mapapp_cli(*args)
    assert proc.returncode == 0, proc.stderr
    assert _result_rows(args, proc.stdout) >= 1, (line, proc.stdout, proc.stderr)
    assert "démonstration" in proc.stderr  # run on the demonstration data


@pytest.mark.slow
@pytest.mark.parametrize("line", COVERAGES)
def test_every_readme_coverage_answers(mapapp_cli: Cli, line: str) -> None:
    proc = mapapp_cli(*shlex.split(line)[1:])
    assert proc.returncode == 0, proc.stderr
    assert "Population" in proc.stdout and "Communes" in proc.stdout


@pytest.mark.slow
def test_readme_import_examples_use_files_a_user_has(mapapp_cli: Cli) -> None:
    ingests = _command_lines(("ingest",))
    assert ingests
    for line in ingests:
        assert "../shared" not in line  # developers' notes live in their own section
    example = next(line for line in ingests if "examples/" in line)
    args = [a if not a.startswith("examples/") else str(ROOT / a) for a in shlex.split(example)]
    proc = mapapp_cli(*args[1:], "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "5 loaded" in proc.stdout + proc.stderr
    # the shelter of the example keeps its address to itself
    found = mapapp_cli(
        "search", "--near", "Saint-Denis 93", "--type", "hebergement", "--format", "json"
    )
    rows = json.loads(found.stdout)
    shelter = next(r for r in rows if "(exemple)" in r["nom"])
    assert not shelter["adresse"]
    assert _command_lines(("fetch",)) == ["mapapp fetch data-inclusion"]


def test_readme_says_what_serve_does() -> None:
    from mapapp.commands.serve import HARDENED, streamlit_command

    assert "prepares the reference geography" not in README
    assert "streamlit_app.py" in README and "--dry-run" in README
    cmd = streamlit_command(host="127.0.0.1", port=8501)
    assert cmd[2:4] == ["streamlit", "run"] and HARDENED["browser.gatherUsageStats"] == "false"


def test_readme_documents_the_fast_subset() -> None:
    assert '-m "not slow and not browser and not realdata and not postgis"' in README
    pyproject = (ROOT / "pyproject.toml").read_text("utf-8")
    for marker in ("slow", "browser", "realdata", "postgis"):
        assert f'"{marker}:' in pyproject
    # the slow marker is applied somewhere, not only declared
    used = [p for p in (ROOT / "tests").rglob("test_*.py") if "pytest.mark.slow" in p.read_text()]
    assert len(used) >= 3
