"""The API against its own OpenAPI document (schemathesis), and the confidential-record leak test.

schemathesis generates requests from ``/api/v1/openapi.json`` (valid and
invalid parameters) and checks every response: no 5xx, status codes and
bodies as documented, content types right.  The number of examples is
bounded so the suite stays under a minute on a shared machine.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path

import hypothesis
import pytest
import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance

from mapapp.settings import Settings
from mapapp.web.app import create_app
from tests.test_api import write_store

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def _contract_app():  # type: ignore[no-untyped-def]
    from tests.conftest import _cache_dir

    settings = Settings.from_env(
        {
            "MAPAPP_DATA_DIR": tempfile.mkdtemp(prefix="mapapp-api-"),
            "MAPAPP_CACHE_DIR": str(_cache_dir()),
            "MAPAPP_API_RATE_LIMIT": "0",
        }
    )
    # Nothing is loaded here: the first request builds the snapshot.
    return create_app(settings)


pytestmark = pytest.mark.slow  # both tests; the module is not even imported by the fast subset

schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", _contract_app())


@schema.parametrize()
@hypothesis.settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_api_conforms_to_its_openapi(case):  # type: ignore[no-untyped-def]
    # "Schema-valid request accepted" is not checked: OpenAPI cannot say "give
    # exactly one place" or "lat with lon", which the API answers with a
    # documented problem (422/400); every other check runs.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])


SECRET = {
    "adresse": "13 impasse du Secret",
    "complement_adresse": "Bâtiment caché",
    "telephone": "04 76 12 34 56",
    "courriel": "abri-cache@example.org",
    "siret": "12345678901234",
    "latitude": 45.1712345,
    "longitude": 5.7298765,
}


def test_confidential_record_never_leaves_in_any_response(tmp_path: Path, settings: Settings):
    s = Settings.from_env(
        {
            "MAPAPP_DATA_DIR": str(tmp_path / "data"),
            "MAPAPP_CACHE_DIR": str(settings.cache_dir),
            "MAPAPP_API_RATE_LIMIT": "0",
        }
    )
    write_store(
        s,
        [
            {
                "id": "t:abri",
                "source": "t",
                "nom": "Hébergement d'urgence",
                "description": "Mise à l'abri de femmes victimes de violences.",
                "actor_type": "hebergement",
                "obstacles": ["logement", "violences"],
                "confidential": True,
                "code_insee": "38185",
                "code_postal": "38000",
                "commune": "Grenoble",
                "date_maj": "2026-10-01",
                **SECRET,
            },
            {
                "id": "t:cidff",
                "source": "t",
                "nom": "CIDFF",
                "actor_type": "cidff",
                "obstacles": ["violences"],
                "code_insee": "38185",
                "latitude": 45.18,
                "longitude": 5.72,
            },
        ],
    )
    c = TestClient(create_app(s))
    here = {"lat": SECRET["latitude"], "lon": SECRET["longitude"]}
    responses = [
        c.get("/api/v1/services", params={**here, "size": 100}),
        c.get("/api/v1/services", params={**here, "obstacles": "logement", "radius_km": 0.5}),
        c.get("/api/v1/services", params={"code_commune": "38185", "size": 100}),
        c.get("/api/v1/services/t:abri"),
        c.get("/api/v1/coverage", params={"departement": "38"}),
        c.get("/api/v1/openapi.json"),
    ]
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    # "around" echoes the searcher's own point back to her: not the record's.
    bodies = [r.json() for r in responses]
    for body in bodies[:3]:
        body.pop("around")
    text = "\n".join(json.dumps(b, ensure_ascii=False) for b in bodies)
    for key, value in SECRET.items():
        needle = f"{value:.5f}" if isinstance(value, float) else str(value)
        assert needle not in text, key
    assert "04 76 12" not in text and "0476123456" not in text
    shown = responses[3].json()
    # a referral line instead: 115 (shelters) or 3919 (violence services)
    assert shown["adresse"] is None and shown["telephone"] in {"115", "3919"}
    assert shown["mapapp"]["precision"] == "commune"
    # Searched from the hidden point itself: the distance is to the commune's
    # point, not zero, so three searches cannot triangulate the street.
    found = [i for i in responses[0].json()["items"] if i["service"]["id"] == "t:abri"]
    assert found and found[0]["distance"] > 0.5
    assert responses[1].json()["items"] == []
