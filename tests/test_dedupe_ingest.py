"""Identity through the whole import: two hand-made files, the report, search, the CLI.

``dedupe_cases/ville.csv`` is one producer's file: Aix-en-Provence mairies and
libraries sharing the city's SIRET kilometres apart, a France Services bus
stopping in four Charente communes under one SIRET, a confidential shelter, an
identical row and a repeated id.  ``partenaires.csv`` is a second producer:
some of the same places (a few metres away, written differently), and places
that only look alike.  The expected clusters follow from the documented rules
(``docs/duplicates.md``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mapapp.catalog import load_public_actors
from mapapp.cli import main
from mapapp.geo.communes import Geography
from mapapp.geo.sphere import haversine_km
from mapapp.ingest import ingest
from mapapp.ingest.dedupe import MergeRule
from mapapp.search import SearchIndex, SearchQuery
from mapapp.settings import Settings
from mapapp.store import open_store
from mapapp.store.merge import read_clusters

pytestmark = pytest.mark.slow  # spawns the app or the CLI; see README, Tests

FIX = Path(__file__).parent / "fixtures" / "dedupe_cases"
CITY = "ville"
PARTNERS = "partenaires"

# (record of ville.csv, record of partenaires.csv, rule): the same place
SAME_PLACE = [
    ("ville:g1", "partenaires:x1", MergeRule.NEAR_SIMILAR_NAME),  # PIMMS, Galerie de l'Arlequin
    ("ville:p1", "partenaires:x2", MergeRule.NEAR_SIMILAR_NAME),  # France Travail Beaumarchais
    ("ville:aix1", "partenaires:x5", MergeRule.NEAR_SIMILAR_NAME),  # Mairie annexe des Milles
    ("ville:aix4", "partenaires:x7", MergeRule.SAME_SIRET_NEAR),  # Méjanes, 250 m, one SIRET
]
# pairs that only look alike
DISTINCT = [
    ("ville:g1", "partenaires:x3"),  # another name, same gallery
    ("ville:g1", "partenaires:x9"),  # a mission locale is not a PIMMS
    ("ville:h1", "partenaires:x4"),  # public SIAE vs confidential shelter (same SIRET, address)
    ("ville:aix4", "partenaires:x6"),  # same SIRET and name, 400 m
    ("ville:aix2", "partenaires:x8"),  # same name, 250 m, no SIRET
]


def _ingest(settings: Settings, tmp_path: Path, name: str) -> dict[str, Any]:
    return ingest(
        [FIX / f"{name}.csv"],
        settings=settings,
        mapping=FIX / f"{name}.toml",
        geocode=False,
        report_path=tmp_path / f"{name}.json",
    )


@pytest.fixture
def both(settings: Settings, tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    return _ingest(settings, tmp_path, CITY), _ingest(settings, tmp_path, PARTNERS)


def test_one_file_is_never_merged_as_another_source(settings: Settings, tmp_path: Path) -> None:
    r = _ingest(settings, tmp_path, CITY)
    assert (r["read"], r["quarantined"]) == (18, 0)
    # d1 read twice (same id) and d2 identical to d1: the only merges of this file
    assert r["merged"] == 2
    assert r["merged_by_reason"] == {
        MergeRule.SAME_ID.label("en"): 1,
        MergeRule.IN_FILE_IDENTICAL.label("en"): 1,
    }
    c = read_clusters(settings.data_dir).set_index("id")
    assert c.at["ville:d2", "cluster_id"] == c.at["ville:d1", "cluster_id"]
    others = c.drop(index=["ville:d1", "ville:d2"])
    assert others["cluster_id"].is_unique  # Aix mairies, libraries, bus stops: all apart


def test_cross_source_duplicates_found_with_rule_distance_score(
    both: tuple[dict[str, Any], dict[str, Any]], settings: Settings
) -> None:
    _, r = both
    assert r["read"] == r["loaded"] + r["merged"] + r["quarantined"]
    c = read_clusters(settings.data_dir).set_index("id")
    actors = open_store(settings).read_actors().set_index("id")
    merges = {m["id"]: m for m in r["merges"]}
    for a, b, rule in SAME_PLACE:
        assert c.at[a, "cluster_id"] == c.at[b, "cluster_id"], (a, b)
        dup = a if c.at[a, "duplicate"] else b
        m = merges[dup]
        assert m["rule"] == rule and m["reason_fr"] == rule.label("fr")
        metres = 1000 * float(
            haversine_km(
                actors.at[a, "latitude"],
                actors.at[a, "longitude"],
                actors.at[b, "latitude"],
                actors.at[b, "longitude"],
            )
        )
        assert m["distance_m"] == pytest.approx(metres, abs=0.5)
        assert m["name_score"] >= 75
    for a, b in DISTINCT:
        assert c.at[a, "cluster_id"] != c.at[b, "cluster_id"], (a, b)
    md = Path(r["report_files"][1]).read_text("utf-8")
    assert "near-similar-name" in md and "same-siret-near" in md


def test_public_siae_stays_findable_next_to_a_shelter(
    both: tuple[dict[str, Any], dict[str, Any]], settings: Settings, geo: Geography
) -> None:
    # The shelter (emploi too) is shown at Grenoble's representative point, so from
    # there it is nearer than the SIAE: clustered together, it would hide the SIAE.
    shown = load_public_actors(settings).actors
    lat, lon = geo.communes.loc["38185", ["lat", "lon"]]
    found = SearchIndex(shown).nearest(
        SearchQuery(lat=lat, lon=lon, obstacles=("emploi",), radius_km=3, limit=20)
    )
    assert {"ville:h1", "partenaires:x4"} <= set(found["id"])


def test_overrides_file_splits_and_joins(
    both: tuple[dict[str, Any], dict[str, Any]], settings: Settings, tmp_path: Path
) -> None:
    (settings.data_dir / "duplicates.toml").write_text(
        '[[split]]\nids = ["ville:g1", "partenaires:x1"]\n'
        '[[join]]\nids = ["ville:aix4", "partenaires:x6"]\nnote = "même bibliothèque"\n'
        '[[split]]\nids = ["ville:nope"]\n',
        "utf-8",
    )
    r = _ingest(settings, tmp_path, PARTNERS)  # unchanged file: only the clusters change
    c = read_clusters(settings.data_dir).set_index("id")
    assert c.at["ville:g1", "cluster_id"] != c.at["partenaires:x1", "cluster_id"]
    assert c.at["ville:aix4", "cluster_id"] == c.at["partenaires:x6", "cluster_id"]
    assert r["duplicate_overrides"]["unknown_ids"] == ["ville:nope"]
    # the store's own cluster columns follow (search reads those)
    stored = open_store(settings).read_actors().set_index("id")
    assert stored.at["ville:aix4", "cluster_id"] == stored.at["partenaires:x6", "cluster_id"]
    assert stored.at["ville:g1", "cluster_id"] != stored.at["partenaires:x1", "cluster_id"]


def test_cli_lists_and_explains(
    both: tuple[dict[str, Any], dict[str, Any]],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MAPAPP_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("MAPAPP_CACHE_DIR", str(settings.cache_dir))
    main(["duplicates", "--format", "json"])
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == len(SAME_PLACE) + 1  # + the in-file pair d1/d2
    assert all(row["records"] == 2 for row in listed)
    main(["duplicates", "--explain", "partenaires:x7", "--format", "json", "--lang", "en"])
    rows = pd.DataFrame(json.loads(capsys.readouterr().out))
    assert set(rows["id"]) == {"ville:aix4", "partenaires:x7"}
    assert set(rows["rule"]) == {"same-siret-near"}
    assert rows["distance_m"].between(240, 260).all()  # 0.00225° of latitude
    main(["duplicates", "--explain", "ville:g1"])
    out = capsys.readouterr().out
    assert "Regroupement" in out and "near-similar-name" in out and "Pimms" in out
    with pytest.raises(SystemExit) as exc:
        main(["duplicates", "--explain", "ville:nope"])
    assert exc.value.code == 2
    assert "ville:nope" in capsys.readouterr().err


def test_cli_csv_defuses_formulas(
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    a = tmp_path / "a.csv"
    b = tmp_path / "b.csv"
    a.write_text('id,nom,lat,lon\n1,=HYPERLINK("http://x") PIMMS,45.167,5.735\n', "utf-8")
    b.write_text('id,nom,lat,lon\n1,=HYPERLINK("http://x") PIMMS,45.16705,5.735\n', "utf-8")
    for path, name in ((a, "a"), (b, "b")):
        m = tmp_path / f"{name}.toml"
        m.write_text(
            f'name = "{name}"\n[columns]\nsource_id = "id"\nnom = "nom"\n'
            'latitude = "lat"\nlongitude = "lon"\n',
            "utf-8",
        )
        ingest([path], settings=settings, mapping=m, geocode=False, report_path=tmp_path / "r.json")
    monkeypatch.setenv("MAPAPP_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("MAPAPP_CACHE_DIR", str(settings.cache_dir))
    main(["duplicates", "--format", "csv"])
    out = capsys.readouterr().out
    assert "'=HYPERLINK" in out and "\n=" not in out and ",=" not in out
