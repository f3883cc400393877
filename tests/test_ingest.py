"""The cleaning rules, the accounting, re-import, updates, gone records, quarantine round trip."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import shapely

from mapapp.geo.communes import Geography
from mapapp.ingest import ingest
from mapapp.settings import Settings
from mapapp.store import open_store
from mapapp.store.merge import read_clusters

pytestmark = pytest.mark.slow  # whole imports of the rules file; see README, Tests

FIX = Path(__file__).parent / "fixtures" / "ingest"


def _run(settings: Settings, tmp_path: Path, *sources: Path, **kw: object) -> dict:  # type: ignore[type-arg]
    return ingest(
        list(sources), settings=settings, geocode=False, report_path=tmp_path / "r.json", **kw
    )  # type: ignore[arg-type]


@pytest.fixture
def rules(settings: Settings, tmp_path: Path) -> tuple[dict, pd.DataFrame]:  # type: ignore[type-arg]
    report = _run(settings, tmp_path, FIX / "rules.csv", mapping=FIX / "rules.toml")
    actors = open_store(settings).read_actors().set_index("source_id")
    return report, actors


def _inside(geo: Geography, code: str, lat: float, lon: float) -> bool:
    poly = geo.communes.geometry.loc[code]
    return bool(shapely.dwithin(poly, shapely.points(lon, lat), 0.005))


def _repairs(report: dict, sid: str) -> list[str]:  # type: ignore[type-arg]
    for r in report["repairs"]:
        if r["id"] == f"rules:{sid}":
            return list(r["repairs"])
    return []


def test_counts_add_up(rules: tuple[dict, pd.DataFrame]) -> None:  # type: ignore[type-arg]
    report, actors = rules
    assert report["read"] == 14
    assert report["quarantined"] == 3  # nothing, abroad, noname
    assert report["loaded"] + report["merged"] + report["quarantined"] == report["read"]
    assert len(actors) == 11
    assert {q["origin"] for q in report["quarantine"]} == {
        "rules.csv#10",
        "rules.csv#11",
        "rules.csv#14",
    }


@pytest.mark.parametrize(
    ("sid", "repair", "code"),
    [
        ("swapped", "swapped latitude and longitude", "38185"),
        ("lostsign", "lost minus sign on latitude", "97418"),
        ("l93", "Lambert-93 metres given as degrees", "75104"),
        ("comma", "decimal comma", "38185"),
    ],
)
def test_known_defects_are_repaired_inside_the_declared_commune(
    rules: tuple[dict, pd.DataFrame],
    geo: Geography,
    sid: str,
    repair: str,
    code: str,  # type: ignore[type-arg]
) -> None:
    report, actors = rules
    row = actors.loc[sid]
    assert repair in _repairs(report, sid)
    assert row["code_insee"] == code and row["precision"] == "address"
    assert _inside(geo, code, row["latitude"], row["longitude"])


def test_point_outside_its_commune_falls_back_to_the_commune(
    rules: tuple[dict, pd.DataFrame],
    geo: Geography,  # type: ignore[type-arg]
) -> None:
    report, actors = rules
    row = actors.loc["wrongpoint"]
    assert row["precision"] == "commune" and row["code_insee"] == "38185"
    assert row["latitude"] == pytest.approx(geo.communes.at["38185", "lat"])
    assert any("point rejected" in r for r in _repairs(report, "wrongpoint"))


def test_wrong_code_with_agreeing_postcode_takes_the_point_commune(
    rules: tuple[dict, pd.DataFrame],  # type: ignore[type-arg]
) -> None:
    report, actors = rules
    assert actors.loc["wrongcode", "code_insee"] == "38185"
    assert actors.loc["wrongcode", "precision"] == "address"
    assert any("code taken from the point" in r for r in _repairs(report, "wrongcode"))


def test_city_wide_codes_become_arrondissements(rules: tuple[dict, pd.DataFrame]) -> None:  # type: ignore[type-arg]
    _, actors = rules
    assert actors.loc["plm", "code_insee"] == "75111"
    assert actors.loc["nocoords", "code_insee"] == "75111"
    assert actors.loc["nocoords", "precision"] == "commune"


def test_cedex_postcode_resolves_through_the_name(rules: tuple[dict, pd.DataFrame]) -> None:  # type: ignore[type-arg]
    _, actors = rules
    assert actors.loc["cedex", "code_insee"] == "62041"  # Arras


def test_invalid_hours_are_reported_and_kept_readable(rules: tuple[dict, pd.DataFrame]) -> None:  # type: ignore[type-arg]
    report, actors = rules
    assert actors.loc["hours", "horaires_accueil"] == ""
    assert "lundi 9h-12h" in actors.loc["hours", "description"]
    assert actors.loc["ok", "horaires_accueil"] == "Mo-Fr 09:00-12:00"
    assert report["opening_hours"]["invalid"] == 1


def test_obstacles_and_report_sections(rules: tuple[dict, pd.DataFrame]) -> None:  # type: ignore[type-arg]
    report, actors = rules
    assert all(list(o) == ["numerique"] for o in actors["obstacles"])
    assert report["by_obstacle"] == {"numerique": 11}
    assert report["by_dataset"]["rules"]["read"] == 14
    md = Path(report["report_files"][1]).read_text()
    assert "# Import report" in md and "Quarantine" in md


def test_reimport_changes_nothing_and_update_is_reported(
    settings: Settings, tmp_path: Path
) -> None:
    src = tmp_path / "rules.csv"
    shutil.copy(FIX / "rules.csv", src)
    first = _run(settings, tmp_path, src, mapping=FIX / "rules.toml")
    path = open_store(settings).actors_path
    mtime = path.stat().st_mtime_ns
    again = _run(settings, tmp_path, src, mapping=FIX / "rules.toml")
    assert again["store"]["added"] == again["store"]["updated"] == 0
    assert again["store"]["unchanged"] == first["store"]["added"]
    assert path.stat().st_mtime_ns == mtime  # not even rewritten
    lines = src.read_text().splitlines()
    lines = [ln.replace("Dans Grenoble", "Dans Grenoble (nouveau nom)") for ln in lines]
    lines = [ln for ln in lines if not ln.startswith("cedex,")]
    src.write_text("\n".join(lines) + "\n")
    newer = _run(settings, tmp_path, src, mapping=FIX / "rules.toml")
    assert newer["store"]["updated"] == 1
    assert newer["changes"]["updated"] == [{"id": "rules:ok", "fields": ["nom"]}]
    assert newer["changes"]["gone"] == ["rules:cedex"]
    ids = set(open_store(settings).read_actors()["id"])
    assert "rules:cedex" in ids  # reported, not removed
    pruned = _run(settings, tmp_path, src, mapping=FIX / "rules.toml", prune=True)
    assert pruned["store"]["pruned"] == 1
    assert "rules:cedex" not in set(open_store(settings).read_actors()["id"])


def test_quarantine_can_be_fixed_and_reimported(settings: Settings, tmp_path: Path) -> None:
    report = _run(
        settings,
        tmp_path,
        FIX / "rules.csv",
        mapping=FIX / "rules.toml",
        quarantine_path=tmp_path / "q.csv",
    )
    q = pd.read_csv(tmp_path / "q.csv", dtype=str, keep_default_na=False)
    assert len(q) == report["quarantined"] == 3
    assert json.loads(q.loc[q["source_id"] == "nothing", "original"].iloc[0])["nom"] == "Nulle part"
    q.loc[q["source_id"] == "nothing", ["code_postal", "commune"]] = ["38000", "Grenoble"]
    q.loc[q["source_id"] == "noname", "nom"] = "Nom retrouvé"
    q.to_csv(tmp_path / "fixed.csv", index=False)
    again = ingest(
        [tmp_path / "fixed.csv"], settings=settings, geocode=False, report_path=tmp_path / "r2.json"
    )
    assert again["inputs"][0]["format"] == "quarantine"
    assert again["loaded"] == 2 and again["quarantined"] == 1
    actors = open_store(settings).read_actors().set_index("id")
    assert actors.loc["rules:nothing", "code_insee"] == "38185"
    assert actors.loc["rules:noname", "nom"] == "Nom retrouvé"


def test_duplicates_are_clustered_not_deleted(settings: Settings, tmp_path: Path) -> None:
    a = _run(settings, tmp_path, FIX / "dup_a.csv", mapping=FIX / "rules.toml")
    assert a["read"] == 3 and a["merged"] == 1  # the same id read twice
    b = _run(settings, tmp_path, FIX / "dup_b.csv", mapping=FIX / "dup_b.toml")
    assert b["read"] == 3
    # x: same place, similar name; y shares only a SIRET with rules:2 (names differ):
    # a SIRET is the legal entity, not the place, so y stays a place of its own.
    assert b["merged"] == 1 and b["loaded"] == 2
    actors = open_store(settings).read_actors()
    assert len(actors) == 5  # nothing deleted
    clusters = read_clusters(settings.data_dir).set_index("id")
    assert clusters.loc["autre-source:x", "cluster_id"] == clusters.loc["rules:1", "cluster_id"]
    assert clusters.loc["autre-source:y", "cluster_id"] != clusters.loc["rules:2", "cluster_id"]
    assert list(clusters.loc["rules:1", "sources"]) == ["autre-source", "rules"]
    assert clusters.loc["autre-source:z", "cluster_id"] == "autre-source:z"


def test_confidential_types_are_never_geocoded(settings: Settings, tmp_path: Path) -> None:
    class Boom:
        def geocode(self, *a: object, **k: object) -> None:
            raise AssertionError("a shelter address was sent to the geocoder")

        class stats:
            pass

        def close(self) -> None:
            pass

    report = ingest(
        [FIX / "sources" / "mapping_sheet.csv"],
        settings=settings,
        mapping=FIX / "sources" / "mapping_sheet.toml",
        geocoder=Boom(),  # type: ignore[arg-type]
        report_path=tmp_path / "r.json",
    )
    actors = open_store(settings).read_actors().set_index("source_id")
    assert bool(actors.loc["2", "confidential"]) and actors.loc["2", "precision"] == "commune"
    assert report["balanced"]
