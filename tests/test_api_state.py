"""The API's workers serve from the kept, mapped search index, never from the wide frame.

Why: with 100k-1M services, every worker reading the store, hiding
confidential records and building its own index took seconds and hundreds
of megabytes each.  The index kept with the store (written after an import)
holds the public view only; a worker maps it.  These tests check that a
worker answers every kind of request without reading the frame, and that its
records are the very records the public frame gives (the reference: the
frame path the API used before, through :func:`to_v1_service`).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest

from mapapp import catalog
from mapapp.catalog import load_public_actors, warm_search_cache
from mapapp.export.datainclusion import to_v1_service
from mapapp.search import SearchIndex
from mapapp.settings import Settings
from mapapp.web.app import create_app
from tests.test_api import GRENOBLE, _records, _settings, write_store

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SECRET = "12 rue du Refuge"


def _more() -> list[dict[str, Any]]:
    return [
        *_records(),
        {
            "id": "t:refuge",
            "source": "t",
            "nom": "Hébergement d'urgence",
            "description": "Mise à l'abri des femmes victimes de violences.",
            "obstacles": ["violences", "logement"],
            "publics": ["femmes"],
            "confidential": True,
            "adresse": SECRET,
            "telephone": "0400000000",
            "latitude": 45.171,
            "longitude": 5.701,
            **GRENOBLE,
        },
        {
            "id": "t:remote",
            "source": "t",
            "nom": "Écoute téléphonique",
            "description": "Une ligne d'écoute nationale.",
            "obstacles": ["violences"],
            "modes_accueil": ["a-distance"],
            "frais": ["gratuit"],
            "telephone": "3919",
        },
    ]


@pytest.fixture
def mapped(tmp_path: Path, settings: Settings) -> Settings:
    s = _settings(tmp_path, settings)
    write_store(s, _more())
    warm_search_cache(s)  # what an import leaves for the workers
    return s


def test_a_worker_answers_every_request_without_reading_the_frame(
    mapped: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = {
        str(r["id"]): to_v1_service(r.to_dict())
        for _, r in load_public_actors(mapped).actors.iterrows()
    }

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a worker read the whole public frame")

    monkeypatch.setattr(catalog, "load_public_actors", refuse)
    monkeypatch.setattr(SearchIndex, "__init__", refuse)  # nor built its own index
    with TestClient(create_app(mapped)) as c:
        near = c.get("/api/v1/services", params={"lat": 45.19, "lon": 5.73, "size": 10})
        assert near.status_code == 200, near.text
        page = near.json()
        assert [i["service"]["id"] for i in page["items"]] == ["t:near", "t:refuge", "t:far"]
        assert [s["id"] for s in page["remote"]] == ["t:remote"]
        for item in page["items"]:
            assert item["service"] == json.loads(json.dumps(expected[item["service"]["id"]]))
        # filters that read a record's fields: hours, paid services
        both = {"lat": 45.19, "lon": 5.73, "open_now": "true", "frais": "payant"}
        assert c.get("/api/v1/services", params=both).json()["items"] == []
        paid = c.get("/api/v1/services", params={"lat": 45.19, "lon": 5.73, "frais": "payant"})
        assert [i["service"]["id"] for i in paid.json()["items"]] == ["t:far"]
        for sid, svc in expected.items():
            one = c.get(f"/api/v1/services/{sid}")
            assert one.status_code == 200
            assert one.json() == json.loads(json.dumps(svc))
        assert c.get("/api/v1/services/t:nope").status_code == 404
        everything = near.text + "".join(c.get(f"/api/v1/services/{s}").text for s in expected)
    assert SECRET not in everything


def test_the_confidential_record_is_at_its_commune_in_the_kept_index(mapped: Settings) -> None:
    with TestClient(create_app(mapped)) as c:
        svc = c.get("/api/v1/services/t:refuge").json()
    # Grenoble's own point, not the street's (45.171, 5.701): the public view
    assert svc["adresse"] is None
    assert (svc["latitude"], svc["longitude"]) != (45.171, 5.701)
    assert svc["mapapp"]["confidential"] is True


def test_a_worker_keeps_a_bounded_number_of_json_records(
    mapped: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mapapp.web import state as web_state

    monkeypatch.setattr(web_state, "_MAX_JSON", 2)
    snap = web_state.ApiState(mapped).snapshot()
    n = len(snap.positions)
    first = [snap.services_json([p])[0] for p in range(n)]
    assert len(snap._json) <= 2  # pages of one: never more than the bound
    assert [json.loads(b)["id"] for b in first] == sorted(snap.positions, key=snap.positions.get)
    again = snap.services_json(list(range(n - 1, -1, -1)))  # a page larger than the bound
    assert again == first[::-1]
    assert len(snap._json) <= n


def test_the_light_page_shares_the_api_snapshot_and_its_throttled_stamp_check(
    mapped: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mapapp.web import light
    from mapapp.web import state as web_state

    calls = []
    real = catalog.store_stamp

    def counted(settings: Settings) -> str:
        calls.append(1)
        return real(settings)

    # wherever it is looked up: the catalog's name and the web state's import of it
    monkeypatch.setattr(catalog, "store_stamp", counted)
    monkeypatch.setattr(web_state, "store_stamp", counted)
    monkeypatch.setattr(light, "_states", {}, raising=False)
    app = create_app(mapped)
    app.state.mapapp.check_seconds = 3600.0  # no check falls due during the test
    with TestClient(app) as c:
        calls.clear()
        for _ in range(20):
            page = c.post("/m", data={"place": "Grenoble 38", "need": ["garde-enfants"]})
            assert page.status_code == 200
            assert "Crèche du Parc" in page.text
    # no stamp check (on PostGIS a query) per page run: none fell due
    assert len(calls) <= 1
    assert light._states == {}, "the light page built a second index beside the API's"


def test_fastapi_telemetry_is_off(mapped: Settings) -> None:
    """With a provider configured anywhere, FastAPI's hooks would record URLs: her place."""
    app = create_app(mapped)
    config = app._telemetry  # what FastAPI reads on each request
    assert not any(config.get(k, True) for k in ("tracing", "metrics", "logs", "operation_spans"))
    assert app._native_telemetry.enabled() is False
