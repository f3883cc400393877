"""Raw records stay inside ingest and the store: consumers read only the public view.

Safety rule 1 holds only if no page, command, analysis, notebook or benchmark
can get a confidential record's street or point.  They all go through
:func:`mapapp.catalog.load_public_actors`; this test reads the source tree
(Python files and notebooks, as syntax trees) and fails when any other module
imports the store's raw readers or names them.
"""

from __future__ import annotations

import ast
import json

import pytest

from tests.conftest import ROOT

#: What returns raw records (true street and point of a shelter).
RAW_READERS = frozenset(
    {"read_actors", "demo_actors", "load_actors", "open_store", "ParquetStore", "Store"}
)

#: Where raw records may be read, and why.
ALLOWED = (
    "mapapp/ingest/",  # the import writes and compares raw records
    "mapapp/store/",  # the store itself
    "mapapp/catalog.py",  # the one public entry point
    "mapapp/safety.py",  # the public view
    "mapapp/commands/ingest.py",  # the import command
    "mapapp/commands/store.py",  # store administration (backup, migrate)
    "mapapp/commands/duplicates.py",  # explains clusters to the coordinator, from the store
    "bench/bench_api_cpu.py",  # writes synthetic records to a real store, to time the API's workers
    "bench/bench_load.py",  # writes synthetic records (none confidential) to the stores it loads
    "bench/bench_search.py",  # writes synthetic records to a real store, to time a fresh start
)

#: Trees scanned: the package, benchmarks, notebooks, the app's entry point.
SCANNED = ("mapapp", "bench", "notebooks", "streamlit_app.py")


def _sources() -> list[tuple[str, str]]:
    """``(path relative to the project, Python source)`` of every scanned file."""
    out: list[tuple[str, str]] = []
    for top in SCANNED:
        base = ROOT / top
        files = [base] if base.is_file() else sorted(base.rglob("*"))
        for path in files:
            rel = path.relative_to(ROOT).as_posix()
            if path.suffix == ".py":
                out.append((rel, path.read_text("utf-8")))
            elif path.suffix == ".ipynb":
                cells = json.loads(path.read_text("utf-8"))["cells"]
                code = [
                    "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                    for c in cells
                    if c["cell_type"] == "code"
                ]
                # IPython magics are not Python: drop them before parsing.
                lines = [
                    ln
                    for block in code
                    for ln in block.splitlines()
                    if not ln.lstrip().startswith(("%", "!"))
                ]
                out.append((rel, "\n".join(lines)))
    return out


def raw_uses(source: str) -> set[str]:
    """Raw readers ``source`` imports, calls as attributes, or names in strings.

    Strings count too: ``importlib.import_module`` tables (such as the lazy
    exports of ``mapapp/__init__.py``) are imports all the same.

    Examples
    --------
    >>> sorted(raw_uses("from mapapp.store import open_store\\nx = s.read_actors()"))
    ['open_store', 'read_actors']
    >>> raw_uses("from mapapp.catalog import load_public_actors")
    set()
    """
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            found |= {a.name for a in node.names} & RAW_READERS
        elif isinstance(node, ast.Attribute) and node.attr in RAW_READERS:
            found.add(node.attr)
        elif isinstance(node, ast.Name) and node.id in RAW_READERS:
            found.add(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found |= {w for w in RAW_READERS if node.value == w}
    return found


def test_the_scan_sees_the_tree() -> None:
    """Guard against a scan that passes because it read nothing."""
    paths = {p for p, _ in _sources()}
    assert "mapapp/catalog.py" in paths and "mapapp/ui/resources.py" in paths
    assert any(p.startswith("bench/") for p in paths)
    assert any(p.endswith(".ipynb") for p in paths)
    catalog = dict(_sources())["mapapp/catalog.py"]
    assert {"open_store", "read_actors", "demo_actors"} <= raw_uses(catalog)


@pytest.mark.parametrize(
    "snippet",
    [
        "from mapapp.store import open_store",
        "import mapapp.store as s\nx = s.demo_actors()",
        "actors = store.read_actors()",
        "from mapapp.store.parquet import ParquetStore",
        '_EXPORTS = {"open_store": "mapapp.store"}',
    ],
)
def test_the_scan_catches_each_way_in(snippet: str) -> None:
    assert raw_uses(snippet)


@pytest.mark.slow
def test_no_consumer_reads_raw_records() -> None:
    offenders = {
        path: sorted(uses)
        for path, source in _sources()
        if not path.startswith(ALLOWED) and (uses := raw_uses(source))
    }
    assert offenders == {}, (
        "these modules read raw records (a shelter's true address): use "
        "mapapp.catalog.load_public_actors instead"
    )
