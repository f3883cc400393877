"""The REST API through HTTP: search, one service, coverage, vocabularies, errors, headers.

Every test builds the app on its own settings; TestClient drives it in
process (the same ASGI app uvicorn serves).  The expected places come from
the reference geography (Saint-Denis 93 is INSEE 93066, postcode 93200), and
the expected distances from the great-circle formula, not from the code under
test.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

from mapapp.schema import actors_frame
from mapapp.settings import Settings
from mapapp.store import open_store
from mapapp.web.app import create_app

with warnings.catch_warnings():
    # starlette warns that its TestClient will move to another httpx package;
    # the client still works as before.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def write_store(settings: Settings, records: list[dict[str, Any]]) -> None:
    """Commit ``records`` to the settings' store (whichever store API is there)."""
    store = open_store(settings)
    frame = actors_frame(records)
    if hasattr(store, "commit") and hasattr(store, "writer"):
        with store.writer():
            store.commit(frame, {})
    else:
        store.write_actors(frame)


def _settings(tmp_path: Path, base: Settings, **env: str) -> Settings:
    values = {
        "MAPAPP_DATA_DIR": str(tmp_path / "data"),
        "MAPAPP_CACHE_DIR": str(base.cache_dir),
        "MAPAPP_API_RATE_LIMIT": "0",
        **env,
    }
    return Settings.from_env(values)


@pytest.fixture
def client(tmp_path: Path, settings: Settings) -> TestClient:
    return TestClient(create_app(_settings(tmp_path, settings)))


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


GRENOBLE = {"code_insee": "38185", "commune": "Grenoble", "code_postal": "38000"}


def _records() -> list[dict[str, Any]]:
    return [
        {
            "id": "t:near",
            "source": "t",
            "nom": "Crèche du Parc",
            "description": "Crèche municipale ouverte à tous.",
            "actor_type": "creche",
            "obstacles": ["garde-enfants"],
            "frais": ["gratuit"],
            "publics": ["familles"],
            "latitude": 45.19,
            "longitude": 5.73,
            "date_maj": "2026-10-01",
            "horaires_accueil": "Mo-Su 00:00-24:00",
            **GRENOBLE,
        },
        {
            "id": "t:far",
            "source": "t",
            "nom": "Garage solidaire",
            "description": "Réparation de véhicules à prix solidaire.",
            "obstacles": ["mobilite"],
            "frais": ["payant"],
            "publics": ["tous-publics", "femmes"],
            "latitude": 45.30,
            "longitude": 5.73,
            "date_maj": "2026-10-01",
            "horaires_accueil": "Mo-Fr 09:00-12:00",
            **GRENOBLE,
        },
    ]


@pytest.mark.slow
def test_search_by_lat_lon_sorted_with_great_circle_distance(tmp_path, settings):
    s = _settings(tmp_path, settings)
    write_store(s, _records())
    r = TestClient(create_app(s)).get("/api/v1/services", params={"lat": 45.18, "lon": 5.73})
    assert r.status_code == 200
    body = r.json()
    ids = [i["service"]["id"] for i in body["items"]]
    assert ids == ["t:near", "t:far"]
    assert body["items"][0]["distance"] == pytest.approx(_km(45.18, 5.73, 45.19, 5.73), abs=0.01)
    assert body["demo"] is False and body["has_more"] is False


@pytest.mark.slow
def test_filters_obstacles_frais_publics_open_now(tmp_path, settings):
    s = _settings(tmp_path, settings)
    write_store(s, _records())
    c = TestClient(create_app(s))

    def ids(**params: Any) -> list[str]:
        r = c.get("/api/v1/services", params={"lat": 45.18, "lon": 5.73, **params})
        assert r.status_code == 200, r.text
        return [i["service"]["id"] for i in r.json()["items"]]

    assert ids(obstacles="mobilite") == ["t:far"]
    assert ids(frais="gratuit") == ["t:near"]
    assert ids(frais="payant") == ["t:far"]
    # "femmes" is welcomed by the service open to everyone, not by the crèche for families
    assert ids(publics="femmes") == ["t:far"]
    assert ids(radius_km=5) == ["t:near"]
    # open 24/7 versus weekday mornings: only the first is sure to be open at any time
    assert "t:near" in ids(open_now="true")
    assert ids(size=1) == ["t:near"]
    assert ids(size=1, page=2) == ["t:far"]


@pytest.mark.slow
def test_service_record_is_datainclusion_v1(tmp_path, settings):
    from data_inclusion.schema import v1

    s = _settings(tmp_path, settings)
    write_store(s, _records())
    c = TestClient(create_app(s))
    svc = c.get("/api/v1/services/t:far").json()
    v1.Service.model_validate({k: v for k, v in svc.items() if k != "mapapp"})
    assert svc["publics"] == ["tous-publics"] and svc["frais"] == "payant"
    assert svc["mapapp"]["obstacles"] == ["mobilite"]


@pytest.mark.parametrize(
    ("params", "insee"),
    [
        ({"code_commune": "93066"}, "93066"),
        ({"code_postal": "93200"}, "93066"),
        ({"commune": "Saint-Denis 93"}, "93066"),
    ],
)
@pytest.mark.slow
def test_place_by_commune_postcode_or_insee(client, params, insee):
    r = client.get("/api/v1/services", params={**params, "obstacles": "garde-enfants", "size": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["around"]["code_insee"] == insee
    assert body["demo"] is True
    assert len(body["items"]) == 3
    assert all("garde-enfants" in i["service"]["mapapp"]["obstacles"] for i in body["items"])
    distances = [i["distance"] for i in body["items"]]
    assert distances == sorted(distances)


@pytest.mark.slow
def test_ambiguous_and_unknown_places_are_problems_in_french_or_english(client):
    r = client.get("/api/v1/services", params={"commune": "Saint-Denis"})
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["title"] == "Lieu ambigu"
    assert {"code_commune": "93066", "label": "Saint-Denis (93)"} in body["choices"]
    r = client.get(
        "/api/v1/services", params={"commune": "Xqzwv"}, headers={"Accept-Language": "en-GB"}
    )
    assert (r.status_code, r.json()["title"]) == (404, "Unknown place")
    r = client.get("/api/v1/services", params={"commune": "Xqzwv", "lang": "fr"})
    assert r.json()["title"] == "Lieu inconnu"
    r = client.get("/api/v1/services")
    assert (r.status_code, r.json()["title"]) == (422, "Lieu manquant")


def test_invalid_parameter_problem_never_echoes_the_value(client):
    r = client.get("/api/v1/services", params={"lat": "45.1234567secret", "lon": 5})
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert "secret" not in r.text and "45.1234567" not in r.text
    assert r.json()["errors"][0]["loc"] == "query.lat"


@pytest.mark.slow
def test_unknown_service_and_route(client):
    assert client.get("/api/v1/services/nope:1").status_code == 404
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.json()["type"].endswith("#route-not-found")
    assert client.post("/api/v1/services").status_code == 405


def test_privacy_headers_on_every_api_response(client):
    for path in ("/api/v1/obstacles", "/api/v1/services?commune=Xqzwv", "/api/v1/nothing"):
        r = client.get(path)
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["cache-control"] == "no-store"


def test_cors_closed_by_default_and_open_to_configured_origins(tmp_path, settings):
    pre = {"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    closed = TestClient(create_app(_settings(tmp_path, settings)))
    r = closed.options("/api/v1/obstacles", headers=pre)
    assert "access-control-allow-origin" not in r.headers
    r = closed.get("/api/v1/obstacles", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers
    opened = TestClient(
        create_app(_settings(tmp_path, settings, MAPAPP_API_CORS_ORIGINS="https://dep.example"))
    )
    r = opened.get("/api/v1/obstacles", headers={"Origin": "https://dep.example"})
    assert r.headers["access-control-allow-origin"] == "https://dep.example"
    r = opened.get("/api/v1/obstacles", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers


def test_rate_limit_answers_429_with_retry_after(tmp_path, settings):
    c = TestClient(create_app(_settings(tmp_path, settings, MAPAPP_API_RATE_LIMIT="4")))
    codes = [c.get("/api/v1/types").status_code for _ in range(3)]
    assert codes == [200, 429, 429]  # burst of one token, then 4 a minute
    r = c.get("/api/v1/types", headers={"Accept-Language": "en"})
    assert r.headers["content-type"] == "application/problem+json"
    assert int(r.headers["retry-after"]) >= 1
    assert r.json()["title"] == "Too many requests"
    assert r.headers["referrer-policy"] == "no-referrer"


def test_vocabularies_in_french_and_english(client):
    obstacles = client.get("/api/v1/obstacles").json()
    assert len(obstacles) == 12
    childcare = next(o for o in obstacles if o["value"] == "garde-enfants")
    assert childcare["label"] == {"fr": "Garde d'enfants", "en": "Childcare"}
    assert "famille--garde-denfants" in childcare["thematiques"]
    types = {t["value"]: t for t in client.get("/api/v1/types").json()}
    assert types["creche"]["obstacles"] == ["garde-enfants"]
    assert types["hebergement"]["label"]["en"] == "Shelter, housing"


@pytest.mark.slow
def test_coverage_table_counts_the_population_beyond_reach(tmp_path, settings, geo):
    s = _settings(tmp_path, settings)
    write_store(s, _records())
    c = TestClient(create_app(s))
    r = c.get("/api/v1/coverage", params={"departement": "38", "obstacles": "garde-enfants"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["territory"]["label"] == "Isère (38)" and body["level"] == "commune"
    summary = body["summary"][0]
    # One crèche in Grenoble: Grenoble itself is within 10 km; the whole Isère
    # population is counted; the part beyond 10 km is what lies outside its reach.
    from mapapp.geo.communes import analysis_units

    units = analysis_units(geo.communes)
    isere = units[units["departement"] == "38"]
    assert summary["population"] == int(isere["population"].sum())
    near = [
        _km(la, lo, 45.19, 5.73) <= 10 for la, lo in zip(isere["lat"], isere["lon"], strict=True)
    ]
    beyond = int(isere["population"][[not n for n in near]].sum())
    assert summary["population_beyond_radius"] == beyond
    grenoble = next(row for row in body["rows"] if row["code"] == "38185")
    assert grenoble["share_within_radius"]["garde-enfants"] == 1.0
    assert c.get("/api/v1/coverage", params={"departement": "999"}).status_code == 404
    both = c.get("/api/v1/coverage", params={"departement": "38", "region": "84"})
    assert both.status_code == 422


@pytest.mark.slow
def test_new_import_is_served_without_restart(tmp_path, settings):
    s = _settings(tmp_path, settings)
    write_store(s, _records()[:1])
    app = create_app(s)
    app.state.mapapp.check_seconds = 0.0
    c = TestClient(app)
    assert c.get("/api/v1/services/t:far").status_code == 404
    write_store(s, _records())
    # The new version is built in the background while the old one keeps serving.
    deadline = time.monotonic() + 60
    while c.get("/api/v1/services/t:far").status_code != 200:
        assert time.monotonic() < deadline, "the new import was never served"
        time.sleep(0.2)


def test_access_log_keeps_no_query_and_no_address(caplog):
    from mapapp.web.middleware import quiet_access_log

    quiet_access_log()
    logger = logging.getLogger("uvicorn.access")
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        logger.info(
            '%s - "%s %s HTTP/%s" %d',
            "203.0.113.9:5555",
            "GET",
            "/api/v1/services?commune=Vienne&obstacles=violences",
            "1.1",
            200,
        )
    text = caplog.text
    assert "/api/v1/services" in text
    assert "Vienne" not in text and "violences" not in text and "203.0.113.9" not in text


@pytest.mark.slow
def test_plan_covers_every_need_without_the_start_point(tmp_path, settings):
    s = _settings(tmp_path, settings)
    write_store(s, _records())
    c = TestClient(create_app(s))
    r = c.get(
        "/api/v1/plan",
        params={"lat": 45.1801, "lon": 5.7301, "obstacles": ["garde-enfants", "mobilite"]},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [n["need"] for n in body["needs"]] == ["garde-enfants", "mobilite"]
    assert all(n["covered"] for n in body["needs"])
    # two places, one per need: the crèche and the garage
    assert sorted(i for stop in body["stops"] for i in stop["service_ids"]) == ["t:far", "t:near"]
    assert "45.1801" not in r.text and "5.7301" not in r.text
    assert c.get("/api/v1/plan", params={"lat": 45.18, "lon": 5.73}).status_code == 422
