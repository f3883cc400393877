"""A data·inclusion structures + services pair, joined column by column, reads as before.

Why: the pair was staged record by record (about 120 µs a service); it is now
one join per batch of services.  The record-by-record reader is kept in
``tests/_datainclusion_reference.py``; both must give the same staging rows
(in order, same values), the same quarantine and the same merges, on a small
pair written to exercise every branch of the join and on the real export of
La Réunion.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from _datainclusion_reference import reference_chunks

from mapapp.sources._base import RawChunk
from mapapp.sources._io import probe
from mapapp.sources.datainclusion import DataInclusionExport


def _flat(chunks: list[RawChunk]) -> dict[str, Any]:
    """Rows (missing values dropped), originals, quarantine and merges, in reading order."""
    rows: list[dict[str, Any]] = []
    origins: list[str] = []
    originals: list[dict[str, Any]] = []
    bad: list[Any] = []
    merged: list[Any] = []
    for c in chunks:
        for rec in c.rows.to_dict(orient="records"):
            rows.append({k: v for k, v in rec.items() if isinstance(v, list) or not pd.isna(v)})
        origins += c.origins
        originals += [dict(o) for o in c.originals]
        bad += c.quarantined
        merged += c.merged
    return {"rows": rows, "origins": origins, "originals": originals, "bad": bad, "merged": merged}


def _both(paths: list[Path]) -> dict[str, Any]:
    probes = [probe(p) for p in paths]
    adapter = DataInclusionExport()
    roles = {"structures": [], "services": []}  # type: dict[str, list[Any]]
    for p in probes:
        roles["structures" if "structure" in p.path.name else "services"].append(p)
    new = _flat(list(adapter.chunks(paths)))
    old = _flat(list(reference_chunks(roles["structures"], roles["services"])))
    for key in ("origins", "bad", "merged", "originals", "rows"):
        assert new[key] == old[key], key
    return new


STRUCTURES: list[Any] = [
    {
        "id": "t1",
        "source": "dora",
        "nom": "CCAS de Grenoble",
        "typologie": "CCAS",
        "adresse": "1 rue A",
        "code_postal": "38000",
        "commune": "Grenoble",
        "latitude": 45.18,
        "longitude": 5.72,
        "telephone": "04 76 00 00 01",
        "siret": "21380185500014",
    },
    {
        "id": "t2",
        "source": "dora",
        "nom": "Mission locale",
        "reseaux_porteurs": ["mission-locale"],
        "adresse": "2 rue B",
        "code_insee": "38185",
        "_geometry": "POINT (5.73 45.19)",
    },
    {"id": "t2", "source": "dora", "nom": "Répété"},  # same key: quarantined
    {"id": "", "source": "dora", "nom": "Sans id"},  # no id: quarantined
    7,  # not a record
    {
        "id": 42,
        "source": "emplois",
        "nom": "Structure numérique",
        "latitude": "45,2",
        "longitude": "5,7",
        "horaires_accueil": "Mo-Fr 09:00-12:00",
    },
    {"id": "t9", "source": "soliguide", "nom": "Seule", "adresse": "9 rue Z", "commune": "Vif"},
    {"id": "t10", "source": 5, "name": "Source numérique", "commune": "Échirolles"},
    {"id": " t11 ", "source": "dora", "adresse": "11 rue sans nom", "lat": 45.3, "long": 5.8},
]
SERVICES: list[Any] = [
    # joined on (source, structure_id): takes address, phone, point, SIRET, codes
    {"id": "s1", "structure_id": "t1", "source": "dora", "nom": "Aide aux démarches",
     "thematiques": ["numerique"], "profils": "{jeunes}"},
    # own address and a lone latitude: the structure's pair of coordinates, never mixed
    {"id": "s2", "structure_id": "t1", "source": "dora", "nom": "Permanence", "adresse": "3 rue C",
     "latitude": 45.5},
    # its own point: kept
    {"id": "s3", "structure_id": "t2", "source": "dora", "nom": "Atelier CV", "latitude": 45.1,
     "longitude": 5.6},
    # another source than its structure: joined on the structure id alone
    {"id": "s4", "structure_id": "t2", "source": "autre", "nom": "Accompagnement"},
    # a numeric structure id read as text
    {"id": "s5", "structure_id": 42, "source": "emplois", "nom": "Atelier numérique",
     "telephone": "  "},
    # structure missing, and none named
    {"id": "s6", "structure_id": "zz", "source": "dora", "nom": "Orpheline"},
    {"id": "s7", "source": "dora", "nom": "Sans structure", "commune": "Vif"},
    "pas un objet",
    {"id": "s8", "structure_id": "t10", "source": 5, "nom": "Source numérique"},
    {"id": "s9", "structure_id": "t11", "source": "dora", "nom": "Id à espaces",
     "_geometry": "POINT (5.7 45.1)"},
    {"id": "s10", "structure_id": "t11", "source": "dora", "nom": "Sans point"},
    {"Service ID": "s11", "Structure ID": "t1", "Source": "dora", "Nom": "Nommée autrement"},
]  # fmt: skip


def test_small_json_pair_reads_as_before(tmp_path: Path) -> None:
    (tmp_path / "structures.json").write_text(json.dumps(STRUCTURES), "utf-8")
    (tmp_path / "services.json").write_text(json.dumps(SERVICES), "utf-8")
    out = _both([tmp_path / "structures.json", tmp_path / "services.json"])
    by_id = {r.get("source_id"): r for r in out["rows"]}
    # facts of the join, independently of either implementation
    assert (
        by_id["s1"]["adresse"] == "1 rue A" and by_id["s1"]["structure_nom"] == "CCAS de Grenoble"
    )
    assert by_id["s1"]["source_codes"] == ["CCAS", "dora"]
    assert (by_id["s2"]["latitude"], by_id["s2"]["longitude"]) == (45.18, 5.72)
    assert by_id["s2"]["adresse"] == "3 rue C"
    assert by_id["s3"]["latitude"] == 45.1 and by_id["s4"]["structure_nom"] == "Mission locale"
    assert by_id["s5"]["latitude"] == "45,2" and "structure_nom" not in by_id["s6"]
    assert by_id["s9"]["coords"] == "POINT (5.7 45.1)" and "latitude" not in by_id["s9"]
    assert (by_id["s10"]["latitude"], by_id["s10"]["structure_nom"]) == (45.3, "")
    assert {"structure:t9"} <= set(by_id) and "structure: t11 " not in by_id
    reasons = [b[1] for b in out["bad"]]
    assert reasons.count("not a record (expected a JSON object)") == 2
    assert "structure id 't2' repeated" in reasons and "structure without id" in reasons
    assert len(out["merged"]) == 5  # t1, t2, 42, t10, t11 have services


def test_structures_alone_and_services_alone(tmp_path: Path) -> None:
    (tmp_path / "structures.json").write_text(json.dumps(STRUCTURES), "utf-8")
    (tmp_path / "services.json").write_text(json.dumps(SERVICES), "utf-8")
    _both([tmp_path / "structures.json"])
    _both([tmp_path / "services.json"])


def test_csv_pair_with_a_row_cut_short(tmp_path: Path) -> None:
    records = [r for r in STRUCTURES if isinstance(r, dict)]
    pd.DataFrame(records).drop(columns=["reseaux_porteurs"]).to_csv(
        tmp_path / "structures.csv", index=False
    )
    services = [r for r in SERVICES if isinstance(r, dict) and "id" in r]
    text = pd.DataFrame(services).drop(columns=["thematiques"]).to_csv(index=False)
    (tmp_path / "services.csv").write_text(text + 's99,t1,dora,"Coupée', "utf-8")
    out = _both([tmp_path / "structures.csv", tmp_path / "services.csv"])
    assert any("cut" in b[1] or "coup" in b[1] for b in out["bad"]), out["bad"]


@pytest.mark.realdata
def test_real_export_pair_reads_as_before(realdata: Path) -> None:
    folder = realdata / "datainclusion-reunion-offre-inclusion"
    out = _both([folder / "structures.json", folder / "services.json"])
    assert len(out["rows"]) > 2000 and len(out["merged"]) > 100
