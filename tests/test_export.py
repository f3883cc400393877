"""data·inclusion v1 export: records validate against the package's own model; nothing confidential leaves."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from data_inclusion.schema import v1

from mapapp.catalog import load_public_actors
from mapapp.export import services_v1, to_v1_service, validate_services
from tests.test_api import write_store


def _sample(frame, n=200):  # type: ignore[no-untyped-def]
    return frame.iloc[np.linspace(0, len(frame) - 1, n).astype(int)]


def test_stored_records_as_is_do_not_validate(demo):
    """Why the mapping exists: as stored, v1 rejects every record (frais list, zone [])."""
    raw = [
        {k: (list(v) if isinstance(v, np.ndarray) else v) for k, v in r.items()}
        for r in _sample(demo).drop(columns="geometry").to_dict("records")
    ]
    assert validate_services(raw).valid == 0


@pytest.mark.slow
def test_200_demo_records_validate_once_mapped(settings):
    shown = load_public_actors(settings)
    report = validate_services(services_v1(_sample(shown.actors)))
    assert (report.valid, report.invalid) == (200, 0), report.errors


def test_demo_data_never_mixes_tous_publics(demo):
    mixed = demo["publics"].map(lambda p: "tous-publics" in p and len(p) > 1)
    assert int(mixed.sum()) == 0


@pytest.mark.parametrize(
    ("frais", "expected"),
    [
        (["gratuit"], ("gratuit", None)),
        (["gratuit-sous-conditions"], ("gratuit", "gratuit-sous-conditions")),
        (["gratuit", "payant"], ("payant", "gratuit, payant")),
        (["adhesion"], ("payant", "adhesion")),
        ([], (None, None)),
    ],
)
def test_frais_become_one_v1_value_and_keep_their_detail(frais, expected):
    svc = to_v1_service({"id": "x:1", "nom": "Atelier", "frais": frais, "date_maj": "2026-01-01"})
    assert (svc["frais"], svc["frais_precisions"]) == expected
    assert validate_services([svc]).valid == 1


def test_publics_and_zone_follow_v1_rules():
    svc = to_v1_service(
        {
            "id": "x:1",
            "nom": "Atelier",
            "publics": ["femmes", "tous-publics", "profil-v0-inconnu"],
            "zone_eligibilite": ["38", "38185", "pas un code", "france"],
            "courriel": "pas-un-courriel",
            "code_postal": "380",
            "date_maj": "2026-01-01",
        }
    )
    assert svc["publics"] == ["tous-publics"]
    assert svc["publics_precisions"] == "Notamment : femmes"
    assert svc["zone_eligibilite"] == ["38", "38185", "france"]
    assert svc["courriel"] is None and svc["code_postal"] is None
    assert validate_services([svc]).valid == 1


@pytest.mark.slow
def test_export_cli_datainclusion_confidential_at_commune(settings, mapapp_cli, geo):
    write_store(
        settings,
        [
            {
                "id": "t:abri",
                "source": "t",
                "nom": "Hébergement d'urgence",
                "description": "Mise à l'abri.",
                "actor_type": "hebergement",
                "obstacles": ["logement"],
                "confidential": True,
                "adresse": "13 impasse du Secret",
                "telephone": "04 76 12 34 56",
                "code_insee": "38185",
                "latitude": 45.1712345,
                "longitude": 5.7298765,
                "date_maj": "2026-10-01",
            },
            {"id": "t:sans-date", "nom": "Sans date", "latitude": 45.0, "longitude": 5.0},
        ],
    )
    out = mapapp_cli("export", "--format", "datainclusion")
    assert out.returncode == 0, out.stderr
    records = json.loads(out.stdout)
    assert [r["id"] for r in records] == ["t:abri"]
    assert "2 services: 1 exported (valid data·inclusion v1), 1 left out" in out.stderr
    assert "t:sans-date" in out.stderr and "date_maj" in out.stderr
    v1.Service.model_validate(records[0])
    assert "Secret" not in out.stdout and "04 76 12" not in out.stdout
    grenoble = geo.communes.loc["38185"]
    assert records[0]["latitude"] == pytest.approx(float(grenoble["lat"]))
    assert records[0]["telephone"] == "115"  # a shelter's referral line


@pytest.mark.slow
def test_export_cli_csv_defuses_formulas_and_hides_address(settings, mapapp_cli):
    write_store(
        settings,
        [
            {
                "id": "t:1",
                "nom": '=HYPERLINK("http://evil.example","x")',
                "latitude": 45.0,
                "longitude": 5.0,
                "telephone": "+33 4 76 00 00 00",
            },
            {
                "id": "t:2",
                "nom": "Abri",
                "actor_type": "hebergement",
                "confidential": True,
                "adresse": "13 impasse du Secret",
                "code_insee": "38185",
                "latitude": 45.17,
                "longitude": 5.72,
            },
        ],
    )
    out = mapapp_cli("export", "--format", "csv")
    assert out.returncode == 0, out.stderr
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(out.stdout))}
    assert rows["t:1"]["nom"].startswith("'=")
    assert rows["t:1"]["telephone"] == "'+33 4 76 00 00 00"
    assert rows["t:2"]["adresse"] == "" and "Secret" not in out.stdout
    geo_out = mapapp_cli("export", "--format", "geojson")
    features = json.loads(geo_out.stdout)["features"]
    assert {f["properties"]["id"] for f in features} == {"t:1", "t:2"}
    assert "Secret" not in geo_out.stdout
