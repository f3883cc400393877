"""Every CSV mapapp writes, fed the hostile corpus: no cell a spreadsheet would run.

The corpus (``tests/browser/hostile.py``) holds formulas (``=HYPERLINK(...)``,
``@SUM(...)``, ``"-alert(1)-"``...) in every text field of the test records,
and some records here carry a formula as their *name*, which the coverage
tables write as ``nearest_nom``.  Each export path is run as a user runs it:
the search page's download (:func:`mapapp.render.cards.sheet_csv`), ``mapapp
search --format csv``, ``mapapp coverage --format csv`` (plain, compared and
suggested sites) and the coverage page's table (:func:`table_to_csv`).
"""

from __future__ import annotations

import csv
import io
import subprocess
from collections.abc import Callable
from typing import Any

import pytest

from mapapp.coverage import Territory, coverage_analysis, table_to_csv
from mapapp.geo.communes import Geography
from mapapp.render.cards import cards_from_frame, sheet_csv
from mapapp.schema import actors_frame
from mapapp.settings import Settings
from mapapp.store import ParquetStore
from tests.browser import hostile
from tests.browser.harness import hostile_records

# Independent of the code under test: what a spreadsheet runs, per OWASP's
# "CSV injection" note (the four formula signs, and tab / CR that may hide one).
_RUNS = ("=", "+", "-", "@", "\t", "\r")
_FORMULAS = [p for p in hostile.PAYLOADS if p.startswith(("=", "+", "-", "@", '"-'))]


def _records() -> list[dict[str, Any]]:
    records = hostile_records()
    # Formula *names*: the coverage tables write the nearest service's name.
    # They stand alone near Villard-de-Lans (38548), ~25 km from the other
    # records, so they are the nearest service of the communes around.
    base = records[0] | {"latitude": 45.071, "longitude": 5.553, "code_insee": "38548"}
    for i, payload in enumerate([*_FORMULAS, "-1+2", "+33 6 00 00 00 00", "\t=1+1"]):
        records.append(
            base
            | {
                "id": f"test:f{i}",
                "source_id": f"f{i}",
                "nom": payload,
                "longitude": 5.553 + i / 1e4,
            }
        )
    return records


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _check(text: str, *, min_defused: int) -> None:
    cells = _cells(text)
    running = [c for c in cells if c.startswith(_RUNS)]
    assert running == [], f"{len(running)} cells would run as formulas: {running[:5]}"
    defused = [c for c in cells if c.startswith("'") and c[1:].startswith(_RUNS)]
    # The corpus must actually have reached the file (else the check above is empty).
    assert len(defused) >= min_defused, (len(defused), cells[:40])


@pytest.fixture
def store(settings: Settings) -> Settings:
    ParquetStore(settings.data_dir).write_actors(actors_frame(_records()))
    return settings


def test_formula_payloads_exist() -> None:
    assert len(_FORMULAS) >= 3, _FORMULAS


def test_search_page_download(geo: Geography) -> None:
    frame = actors_frame(_records())
    frame["distance_km"] = 1.0
    for lang in ("fr", "en"):
        _check(sheet_csv(cards_from_frame(frame, lang=lang), lang=lang), min_defused=len(_FORMULAS))


@pytest.mark.slow
def test_cli_search_csv(
    store: Settings, mapapp_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    out = mapapp_cli("search", "--near", "38185", "--limit", "500", "--format", "csv")
    assert out.returncode == 0, out.stderr
    _check(out.stdout, min_defused=len(_FORMULAS))


@pytest.mark.slow
@pytest.mark.parametrize(
    "extra",
    [
        (),
        ("--level", "departement"),
        ("--compare", "--obstacle", "mobilite"),
        ("--suggest", "3", "--radius", "1"),
    ],
)
def test_cli_coverage_csv(
    store: Settings,
    mapapp_cli: Callable[..., subprocess.CompletedProcess[str]],
    extra: tuple[str, ...],
) -> None:
    args = ["coverage", "--departement", "38", "--obstacle", "garde-enfants", *extra]
    out = mapapp_cli(*args, "--format", "csv")
    assert out.returncode == 0, out.stderr
    cells = _cells(out.stdout)
    assert not [c for c in cells if c.startswith(_RUNS)]
    if not extra:
        # nearest_nom and nearest_commune carry formulas for every commune of the Isère.
        _check(out.stdout, min_defused=50)


def test_coverage_page_table(geo: Geography) -> None:
    res = coverage_analysis(
        actors_frame(_records()),
        geo.communes,
        territory=Territory.parse("departement", "38"),
        obstacles=("garde-enfants",),
        radius_km=10,
    )
    named = res.table["nearest_nom"].astype(str)
    assert named.str.startswith(_RUNS).sum() >= 5  # the formula names are nearest somewhere
    text = table_to_csv(res.table).decode("utf-8")
    _check(text, min_defused=50)
    rows = list(csv.DictReader(io.StringIO(text)))
    defused_names = [r["nearest_nom"] for r in rows if r["nearest_nom"].startswith("'")]
    assert len(defused_names) >= 5, defused_names
