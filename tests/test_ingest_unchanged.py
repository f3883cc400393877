"""An unchanged re-import is a no-op commit that says so; any change runs the import again.

Why these cases: the shortcut is only honest if everything the result depends
on is in the fingerprint (file bytes, options, duplicate overrides) and if the
store was last written by that very import.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from mapapp.ingest import ingest
from mapapp.ingest.overrides import OVERRIDES_FILE
from mapapp.schema import actors_frame
from mapapp.settings import Settings
from mapapp.store import open_store

pytestmark = pytest.mark.slow  # whole imports of the rules file

FIX = Path(__file__).parent / "fixtures" / "ingest"


def _run(settings: Settings, src: Path, tmp_path: Path, **kw: object) -> dict:  # type: ignore[type-arg]
    return ingest(
        [src],
        settings=settings,
        geocode=False,
        mapping=FIX / "rules.toml",
        report_path=tmp_path / "r.json",
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def src(tmp_path: Path) -> Path:
    path = tmp_path / "rules.csv"
    shutil.copy(FIX / "rules.csv", path)
    return path


def test_same_file_again_is_a_noop_commit_that_says_so(
    settings: Settings, src: Path, tmp_path: Path
) -> None:
    first = _run(settings, src, tmp_path, quarantine_path=tmp_path / "q1.csv")
    store = open_store(settings)
    before = store.read_actors()
    gens = len(store.generations())
    again = _run(settings, src, tmp_path, quarantine_path=tmp_path / "q2.csv")
    assert again["unchanged_input"] is True
    assert any(n.startswith("Inchangé / unchanged") for n in again["notes"])
    # the counts of the import it repeats, still adding up
    assert (again["read"], again["loaded"], again["quarantined"]) == (
        first["read"],
        first["loaded"],
        first["quarantined"],
    )
    assert again["balanced"]
    assert again["store"]["added"] == again["store"]["updated"] == 0
    assert again["store"]["unchanged"] == first["store"]["total"]
    # a new generation, with the history saying an import ran, records untouched
    store = open_store(settings)
    assert len(store.generations()) == gens + 1
    assert len(store.read_table("history")) == 2
    pd.testing.assert_frame_equal(store.read_actors(), before)
    # the quarantine is the same rows, written again for the operator
    q1 = pd.read_csv(tmp_path / "q1.csv", dtype=str, keep_default_na=False)
    q2 = pd.read_csv(tmp_path / "q2.csv", dtype=str, keep_default_na=False)
    assert len(q1) == first["quarantined"] == 3
    pd.testing.assert_frame_equal(q1, q2)
    # and a third run is still a no-op (the no-op generation carries the fingerprint)
    assert _run(settings, src, tmp_path).get("unchanged_input") is True


def test_one_byte_changed_runs_the_import(settings: Settings, src: Path, tmp_path: Path) -> None:
    _run(settings, src, tmp_path)
    src.write_text(src.read_text().replace("Dans Grenoble", "Dans Grenoble (nouveau nom)"))
    again = _run(settings, src, tmp_path)
    assert "unchanged_input" not in again
    assert again["store"]["updated"] == 1


@pytest.mark.parametrize("change", ["prune", "accept_degraded", "overrides", "store_written"])
def test_any_other_change_runs_the_import(
    settings: Settings, src: Path, tmp_path: Path, change: str
) -> None:
    _run(settings, src, tmp_path)
    kw: dict[str, object] = {}
    if change in ("prune", "accept_degraded"):
        kw[change] = True
    elif change == "overrides":
        (settings.data_dir / OVERRIDES_FILE).write_text(
            "[[split]]\nids = ['rules:ok', 'rules:2']\n", "utf-8"
        )
    else:  # the store was written by something else than this import since
        store = open_store(settings)
        extra = actors_frame([{"id": "x:1", "nom": "X", "latitude": 45.19, "longitude": 5.72}])
        store.write_actors(pd.concat([store.read_actors(), extra], ignore_index=True))
    again = _run(settings, src, tmp_path, **kw)
    assert "unchanged_input" not in again
    assert again["balanced"]
