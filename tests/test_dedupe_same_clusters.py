"""The vectorised ``cluster_actors`` gives exactly the clusters of the one it replaced.

Why: the dedupe decides what a person sees as one place; a faster version
that merged or split one pair differently would change the directory.  The
previous implementation is kept verbatim in ``tests/_dedupe_reference.py``
(``reference_cluster_actors``) and both run on the same frames: drawn frames
that exercise every rule (near names, same names farther, shared SIRET,
in-file twins, one point crowded with records, confidential records,
commune-only records, incompatible types, overrides joining and splitting)
and the real samples.  Every output column must be equal, row by row.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from _dedupe_reference import reference_cluster_actors

from mapapp.ingest.dedupe import DEDUPE_COLUMNS, LAZY_COLUMNS, THEMATIQUES_COUNT, cluster_actors
from mapapp.ingest.overrides import Overrides, parse_overrides

M_PER_DEG_LAT = 6_371_008.8 * math.pi / 180

PLACES = [
    ("France Travail {c}", "Pôle emploi {c}", "Agence France Travail - {c}"),
    ("PIMMS de {c}", "Pimms Médiation {c}", "PIMMS {c} Sud"),
    ("Mission locale de {c}", "Mission Locale {c}", "ML {c}"),
    ("Mairie de {c}", "Hôtel de ville {c}", "Mairie {c}"),
    ("Bibliothèque Jean Macé", "Médiathèque Jean Macé", "Médiathèque Macé"),
    ("CCAS de {c}", "Centre communal d'action sociale {c}", "CIAS {c}"),
    ("Com de com des Rives", "Communauté de communes des Rives", "CC Rives"),
    ("Crèche Les Lutins", "Multi-accueil Les Lutins", "Micro-crèche Lutins"),
    ("Espace numérique", "Médiation numérique", "Atelier numérique"),
]
TYPES = ["autre", "mediation-numerique", "france-travail", "mission-locale", "creche"]
TYPES += ["creche-avip", "ccas", "mairie", ""]
THEMES = ["numerique", "mobilite", "emploi", "logement", "sante"]


def _draw(seed: int, places: int = 120) -> tuple[pd.DataFrame, dict[str, str], Overrides]:
    """Records of 4 files around ``places`` places a few hundred metres apart."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    datasets: dict[str, str] = {}
    communes = ["Grenoble", "Saint-Denis", "Aix-en-Provence"]
    for p in range(places):
        lat0 = 45.18 + rng.uniform(0, 3000) / M_PER_DEG_LAT
        lon0 = 5.72 + rng.uniform(0, 0.04)
        commune = communes[p % 3]
        names = PLACES[int(rng.integers(len(PLACES)))]
        siret = f"{rng.integers(10**13, 10**14)}" if rng.random() < 0.5 else ""
        for k in range(int(rng.integers(1, 5))):
            src = ["dora", "lesemplois", "hinaura", "coord"][int(rng.integers(4))]
            rid = f"{src}:{p}-{k}"
            far = rng.choice([5.0, 40.0, 150.0, 280.0, 600.0])
            north = rng.uniform(-far, far)
            rows.append(
                {
                    "id": rid,
                    "source": src,
                    "nom": names[int(rng.integers(3))].format(c=commune),
                    "structure_nom": names[0].format(c=commune) if rng.random() < 0.2 else "",
                    "commune": commune,
                    "actor_type": TYPES[int(rng.integers(len(TYPES)))],
                    "siret": rng.choice([siret, siret, "", "00000000000000", f"{siret[:3]} x"]),
                    "adresse": "1 rue X" if rng.random() < 0.7 else "3 place Y",
                    "code_insee": "38185",
                    "latitude": lat0 + north / M_PER_DEG_LAT if rng.random() < 0.95 else np.nan,
                    "longitude": lon0,
                    "precision": "address" if rng.random() < 0.9 else "commune",
                    "confidential": bool(rng.random() < 0.08),
                    "thematiques": _themes(rng),
                    "publics": ["tous-publics"] if rng.random() < 0.5 else [],
                    "telephone": "04 76 00 00 00" if rng.random() < 0.5 else "",
                    "courriel": "",
                    "description": "Aide" if rng.random() < 0.8 else "Aide  au numérique",
                    "horaires_accueil": "Mo-Fr 09:00-12:00",
                }
            )
            # one file in two knows its records' dataset; the others fall back to their source
            if src in ("dora", "hinaura"):
                datasets[rid] = f"{src}-{p % 2}.csv"
            if rng.random() < 0.15:  # an in-file twin, the same or with one field changed
                twin = dict(rows[-1], id=f"{rid}-bis")
                twin["latitude"] = rows[-1]["latitude"] + rng.uniform(-4, 4) / M_PER_DEG_LAT
                if rng.random() < 0.3:
                    twin["description"] = "Autre chose"
                if rng.random() < 0.3:
                    twin["nom"] = twin["nom"].upper().replace(" DE ", " ")
                rows.append(twin)
                if rid in datasets:
                    datasets[twin["id"]] = datasets[rid]
    # one point crowded with records of two files (more than NEIGHBOURS of each)
    for k in range(40):
        src = "dora" if k % 2 else "coord"
        rows.append(
            dict(rows[0], id=f"{src}:crowd-{k}", source=src, nom=f"Service {k % 7}", siret="")
        )
    frame = pd.DataFrame(rows)
    ids = frame["id"].tolist()
    picks = rng.choice(len(ids), size=12, replace=False)
    joins = "".join(
        f'[[join]]\nids = ["{ids[a]}", "{ids[b]}"]\n' for a, b in picks[:8].reshape(4, 2)
    )
    splits = f'[[split]]\nids = ["{ids[picks[8]]}", "{ids[picks[9]]}"]\n'
    splits += f'[[split]]\nids = ["{ids[picks[10]]}"]\n[[split]]\nids = ["{ids[picks[11]]}"]\n'
    order = rng.permutation(len(frame))
    return frame.iloc[order].reset_index(drop=True), datasets, parse_overrides(joins + splits)


def _themes(rng: np.random.Generator) -> Any:
    k = int(rng.integers(0, 4))
    drawn = [THEMES[int(i)] for i in rng.choice(len(THEMES), size=k, replace=False)]
    form = rng.random()
    if form < 0.1:
        return None
    if form < 0.3:
        return np.array(drawn, dtype=object)
    return drawn


def _same(frame: pd.DataFrame, **kw: Any) -> pd.DataFrame:
    new = cluster_actors(frame, **kw)
    old = reference_cluster_actors(frame, **kw)
    pd.testing.assert_frame_equal(new, old, check_dtype=False)
    return new


@pytest.mark.parametrize("seed", range(6))
def test_same_clusters_on_drawn_frames(seed: int) -> None:
    frame, datasets, overrides = _draw(seed)
    out = _same(frame, datasets=datasets, overrides=overrides)
    # the frames do exercise the rules (else the comparison proves little)
    rules = set(out["rule"])
    assert {"near-similar-name", "in-file-identical", "override-join"} <= rules, rules
    assert out["duplicate"].sum() > 20


def test_same_clusters_with_arrow_strings_and_no_datasets() -> None:
    frame, _, _ = _draw(11, places=80)
    text = [c for c in frame.columns if frame[c].dtype == object and c != "thematiques"]
    text = [c for c in text if c not in ("publics", "confidential")]
    frame = frame.astype({c: "string[pyarrow]" for c in text})
    _same(frame)


def test_same_clusters_on_edge_frames() -> None:
    _same(pd.DataFrame({"id": [], "source": []}))
    _same(pd.DataFrame({"id": ["a:1"], "source": ["a"], "nom": ["X"]}))
    # no coordinates at all, and no optional column
    _same(pd.DataFrame({"id": ["a:1", "b:1"], "source": ["a", "b"], "nom": ["X", "X"]}))
    frame, datasets, _ = _draw(3, places=30)
    _same(frame.drop(columns=["siret", "confidential", "thematiques"]), datasets=datasets)


def test_only_dedupe_columns_are_read() -> None:
    """The merge may hand over just DEDUPE_COLUMNS: the answer must not change."""
    frame, datasets, overrides = _draw(5, places=60)
    wide = frame.assign(extra=["x"] * len(frame), geometry=None, obstacles=[[]] * len(frame))
    narrow = frame[[c for c in DEDUPE_COLUMNS if c in frame.columns]]
    a = cluster_actors(wide, datasets=datasets, overrides=overrides)
    b = cluster_actors(narrow, datasets=datasets, overrides=overrides)
    pd.testing.assert_frame_equal(a, b)


def _lazy(frame: pd.DataFrame) -> tuple[pd.DataFrame, Any, list[int]]:
    """``frame`` as the merge holds it: no lazy column, thematiques as counts, categories.

    Also returns the reader of the left-out cells (from the whole frame, as the
    import reads them from its parts) and every row it was asked for.
    """
    asked: list[int] = []

    def cells(name: str, rows: np.ndarray) -> list[Any]:
        asked.extend(rows.tolist())
        return frame[name].iloc[rows].tolist() if name in frame else [None] * len(rows)

    narrow = frame[[c for c in DEDUPE_COLUMNS if c in frame and c not in LAZY_COLUMNS]].copy()
    if "thematiques" in frame:
        counts = [len(t) if isinstance(t, (list, np.ndarray)) else 0 for t in frame["thematiques"]]
        narrow[THEMATIQUES_COUNT] = np.array(counts, dtype=np.int16)
    for c in ("source", "commune", "actor_type", "precision"):
        if c in narrow:
            narrow[c] = narrow[c].astype("category")
    return narrow, cells, asked


@pytest.mark.parametrize("seed", range(3))
def test_same_clusters_from_narrow_columns_and_a_cell_reader(seed: int) -> None:
    """What the import hands over (a few columns, per-row files, a reader) changes nothing."""
    frame, datasets, overrides = _draw(seed)
    whole = cluster_actors(frame, datasets=datasets, overrides=overrides)
    narrow, cells, asked = _lazy(frame)
    files = np.array(
        [
            datasets.get(i) or f"source:{s}"
            for i, s in zip(frame["id"], frame["source"], strict=True)
        ]
    )
    got = cluster_actors(narrow, files=files, overrides=overrides, cells=cells)
    pd.testing.assert_frame_equal(got, whole, check_dtype=False)
    # files as the import numbers them (equal numbers, same file): the same clusters
    numbered = pd.factorize(files)[0].astype(np.int32)
    again = cluster_actors(narrow, files=numbered, overrides=overrides, cells=cells)
    pd.testing.assert_frame_equal(again, whole, check_dtype=False)
    # only the rows some rule compares are read back, not every row
    assert 0 < len(set(asked)) < len(frame)
    assert not set(LAZY_COLUMNS) & set(narrow.columns)


@pytest.mark.realdata
def test_same_clusters_on_real_samples(realdata: Path, tmp_path: Path) -> None:
    from mapapp.ingest import ingest
    from mapapp.settings import Settings
    from mapapp.store import open_store
    from mapapp.store.merge import read_ledger

    cache = os.environ.get("MAPAPP_CACHE_DIR") or str(Path.home() / ".cache" / "mapapp")
    settings = Settings.from_env(
        {"MAPAPP_DATA_DIR": str(tmp_path / "data"), "MAPAPP_CACHE_DIR": cache}
    )
    for folder in (
        "lesemplois-prescribers",
        "anct-lieux-mediation-numerique-hinaura",
        "datainclusion-reunion-offre-inclusion",
    ):
        ingest([realdata / folder], settings=settings, geocode=False, report_path=None)
    actors = pd.DataFrame(open_store(settings).read_actors().drop(columns="geometry"))
    ledger = read_ledger(settings.data_dir)
    datasets = dict(zip(ledger["id"].astype(str), ledger["dataset"].astype(str), strict=True))
    assert len(actors) > 1000
    out = _same(actors, datasets=datasets)
    assert out["duplicate"].sum() > 10
    # what the imports stored (their merge read names and addresses back from the
    # Parquet parts) is what the reference finds on the whole records
    kept = actors.set_index("id").loc[out["id"], ["cluster_id", "duplicate"]]
    assert kept["cluster_id"].tolist() == out["cluster_id"].tolist()
    assert kept["duplicate"].tolist() == out["duplicate"].tolist()
    narrow, cells, _ = _lazy(actors)
    files = np.array(
        [
            datasets.get(i) or f"source:{s}"
            for i, s in zip(actors["id"], actors["source"], strict=True)
        ]
    )
    lazy = cluster_actors(narrow, files=files, cells=cells)
    pd.testing.assert_frame_equal(lazy, out, check_dtype=False)
