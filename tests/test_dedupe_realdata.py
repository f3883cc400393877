"""Identity rules on the real samples: prescribers, Auvergne-Rhône-Alpes places, La Réunion.

Three files from three producers, imported into one store.  Checked against
facts about the world, not the code's output: Pôle emploi became France
Travail on 1 January 2024, so "Pôle Emploi Oullins" (digital-help places,
Auvergne-Rhône-Alpes) and "France Travail - OULLINS" (prescribers list) are
one agency; so are the prescribers' "France Travail - SAINT DENIS" and
data·inclusion's agency of Saint-Denis (La Réunion).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mapapp.ingest import ingest
from mapapp.ingest.dedupe import SIRET_M, SIRET_SCORE, MergeRule
from mapapp.settings import Settings
from mapapp.store import open_store
from mapapp.store.merge import read_clusters, read_ledger

pytestmark = pytest.mark.realdata

FOLDERS = (
    "lesemplois-prescribers",
    "anct-lieux-mediation-numerique-hinaura",
    "datainclusion-reunion-offre-inclusion",
)


@pytest.fixture(scope="module")
def store(realdata: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data = tmp_path_factory.mktemp("dedupe-real")
    cache = os.environ.get("MAPAPP_CACHE_DIR") or str(Path.home() / ".cache" / "mapapp")
    settings = Settings.from_env({"MAPAPP_DATA_DIR": str(data / "data"), "MAPAPP_CACHE_DIR": cache})
    reports = [
        ingest(
            [realdata / folder],
            settings=settings,
            geocode=False,
            report_path=data / f"{folder}.json",
        )
        for folder in FOLDERS
    ]
    actors = pd.DataFrame(open_store(settings).read_actors().drop(columns="geometry"))
    clusters = read_clusters(settings.data_dir)
    ledger = read_ledger(settings.data_dir).drop_duplicates("id").set_index("id")["dataset"]
    table = clusters.merge(actors[["id", "nom", "confidential", "siret"]], on="id")
    table["dataset"] = table["id"].map(ledger)
    return {"reports": reports, "table": table}


def test_counts_add_up(store: dict[str, Any]) -> None:
    for r in store["reports"]:
        assert r["read"] == r["loaded"] + r["merged"] + r["quarantined"]


def test_rows_of_one_file_are_merged_only_when_identical(store: dict[str, Any]) -> None:
    t = store["table"]
    assert t["dataset"].notna().all()
    per_file = t.groupby(["cluster_id", "dataset"])["id"].transform("size")
    same_file = t[per_file > 1]
    assert (same_file["rule"] == MergeRule.IN_FILE_IDENTICAL).all(), same_file.head()


def test_no_siret_only_merge_and_no_far_merge(store: dict[str, Any]) -> None:
    dups = store["table"][store["table"]["duplicate"]]
    cross = dups[dups["rule"] != MergeRule.IN_FILE_IDENTICAL]
    assert (cross["distance_m"] <= SIRET_M).all()
    assert (cross["name_score"] >= SIRET_SCORE).all()


def test_public_and_confidential_never_share_a_cluster(store: dict[str, Any]) -> None:
    mixed = store["table"].groupby("cluster_id")["confidential"].nunique()
    assert (mixed == 1).all()


def _cluster_of(t: pd.DataFrame, dataset_part: str, name: str) -> set[str]:
    rows = t[t["dataset"].str.contains(dataset_part) & (t["nom"] == name)]
    assert len(rows), f"{name!r} is no longer in the sample"
    return set(rows["cluster_id"])


def test_true_cross_source_duplicates_are_found(store: dict[str, Any]) -> None:
    t = store["table"]
    oullins_ft = _cluster_of(t, "prescribers", "France Travail - OULLINS")
    oullins_pe = t[t["nom"] == "Pôle Emploi Oullins"]
    assert oullins_ft & set(oullins_pe["cluster_id"])
    saint_denis = _cluster_of(t, "prescribers", "France Travail - SAINT DENIS")
    members = t[t["cluster_id"].isin(saint_denis)]
    assert members["dataset"].nunique() == 2  # the prescribers list and the Réunion export
