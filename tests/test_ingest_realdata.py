"""The four real datasets import through the CLI with no other argument, and nothing is lost.

Counts are checked against the files themselves (read independently with
``json``), never against the importer's own numbers.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import shapely

from mapapp.cli import main
from mapapp.geo.communes import Geography
from mapapp.settings import Settings
from mapapp.store import open_store

pytestmark = pytest.mark.realdata

FOLDERS = {
    "reunion": "datainclusion-reunion-offre-inclusion",
    "siae": "lemarche-siaes",
    "prescribers": "lesemplois-prescribers",
    "mednum": "anct-lieux-mediation-numerique-hinaura",
}


@pytest.fixture(scope="module")
def imported(realdata: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Import each folder with the CLI into one store; return reports and settings."""
    data = tmp_path_factory.mktemp("store")
    cache = os.environ.get("MAPAPP_CACHE_DIR") or str(Path.home() / ".cache" / "mapapp")
    env = {"MAPAPP_DATA_DIR": str(data), "MAPAPP_CACHE_DIR": cache}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    reports: dict[str, Any] = {}
    try:
        for key, folder in FOLDERS.items():
            path = data / f"{key}.json"
            try:
                main(
                    [
                        "ingest",
                        str(realdata / folder),
                        "--no-geocode",
                        "--quiet",
                        "--report",
                        str(path),
                    ]
                )
            except SystemExit as exc:  # pragma: no cover - a failure shows the code
                raise AssertionError(f"mapapp ingest {folder} exited with {exc.code}") from None
            reports[key] = json.loads(path.read_text())
        settings = Settings.from_env()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return {"reports": reports, "settings": settings}


def _rows_in_files(realdata: Path, key: str) -> int:
    folder = realdata / FOLDERS[key]
    return sum(len(json.loads(p.read_text())) for p in folder.glob("*.json"))


@pytest.mark.parametrize("key", list(FOLDERS))
def test_no_row_is_lost(imported: dict[str, Any], realdata: Path, key: str) -> None:
    r = imported["reports"][key]
    assert r["read"] == _rows_in_files(realdata, key)
    assert r["read"] == r["loaded"] + r["merged"] + r["quarantined"]
    assert r["balanced"]
    assert len(r["quarantine"]) == r["quarantined"]
    assert all(q["reason"] and q["original"] for q in r["quarantine"])


def test_shipped_mappings_are_detected(imported: dict[str, Any]) -> None:
    formats = {k: r["inputs"][0]["format"] for k, r in imported["reports"].items()}
    assert formats == {
        "reunion": "datainclusion",
        "siae": "mapping:lemarche-siaes",
        "prescribers": "mapping:lesemplois-prescribers",
        "mednum": "mediation-numerique",
    }


def test_reunion_services_end_inside_their_declared_commune(
    imported: dict[str, Any], realdata: Path, geo: Geography
) -> None:
    services = json.loads((realdata / FOLDERS["reunion"] / "services.json").read_text())
    actors = open_store(imported["settings"]).read_actors().set_index("id")
    flagged = {r["id"] for r in imported["reports"]["reunion"]["repairs"]}
    declared = [s for s in services if s["Code Insee"]]
    assert len(declared) > 2000
    outside = []
    for s in declared:
        a = actors.loc[f"{s['Source']}:{s['Service ID']}"]
        poly = geo.communes.geometry.loc[s["Code Insee"]]
        inside = shapely.dwithin(poly, shapely.points(a["longitude"], a["latitude"]), 0.005)
        if not inside and a.name not in flagged:
            outside.append(a.name)
    assert outside == []
    # the lost minus sign was repaired, not left in the northern hemisphere
    reunion = actors[actors["code_insee"].str.startswith("974")]
    assert (reunion["latitude"] < 0).all()


@pytest.mark.parametrize("key", ["siae", "prescribers"])
def test_insee_codes_for_at_least_98_percent(
    imported: dict[str, Any], geo: Geography, key: str
) -> None:
    r = imported["reports"][key]
    source = {"siae": "lemarche", "prescribers": "lesemplois"}[key]
    actors = open_store(imported["settings"]).read_actors()
    mine = actors[actors["source"] == source]
    with_code = mine["code_insee"].isin(geo.communes.index).sum()
    assert with_code / r["read"] >= 0.98
    assert not mine["code_insee"].isin(["75056", "69123", "13055"]).any()


def test_types_and_obstacles_are_tagged(imported: dict[str, Any]) -> None:
    actors = open_store(imported["settings"]).read_actors().set_index("id")
    assert actors.loc["lemarche:1", "actor_type"] == "siae"
    assert list(actors.loc["lemarche:1", "obstacles"]) == ["emploi"]
    assert actors.loc["lesemplois:1", "actor_type"] == "mission-locale"
    ft = actors[(actors["source"] == "lesemplois") & (actors["source_type"] == "FT")]
    assert len(ft) > 900 and (ft["actor_type"] == "france-travail").all()
    crèches = actors[actors["source"] == "monenfant"]
    assert len(crèches) == 350 and (crèches["actor_type"] == "creche").all()
    mednum = actors[actors["source"] == "hinaura"]
    assert len(mednum) == 687 and all("numerique" in o for o in mednum["obstacles"])
    assert imported["reports"]["reunion"]["unknown_thematiques"] == {}


def test_reimport_changes_nothing(
    imported: dict[str, Any], realdata: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = imported["settings"]
    path = open_store(settings).actors_path
    before = path.stat().st_mtime_ns
    monkeypatch.setenv("MAPAPP_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("MAPAPP_CACHE_DIR", str(settings.cache_dir))
    main(
        [
            "ingest",
            str(realdata / FOLDERS["prescribers"]),
            "--no-geocode",
            "--quiet",
            "--report",
            str(tmp_path / "again.json"),
        ]
    )
    again = json.loads((tmp_path / "again.json").read_text())
    assert again["store"]["added"] == again["store"]["updated"] == again["store"]["gone"] == 0
    assert path.stat().st_mtime_ns == before
