"""Where distances start (issue 12 item 2): her position on the light page, a point, the CLI and API.

The light page's "utiliser ma position" sends rounded ``lat``/``lon`` in the
POST body; the server re-rounds them, searches from there, says so, and logs
nothing of them.  Expected values come from the records themselves (a
service's own coordinates as the start point must list it first, at about
0 km), never from the page's output.
"""

from __future__ import annotations

import html
import json
import logging
import math
import re
import subprocess
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi import FastAPI

from mapapp.settings import Settings
from mapapp.store import demo_actors
from mapapp.web import light
from tests.test_app import APP, TIMEOUT, _listed_refs, _run, _search, _unescape_md
from tests.test_app import _all_text as _raw_text

pytestmark = pytest.mark.slow  # each test runs the page or the whole app (1.5 to 11 s)

with warnings.catch_warnings():
    # Starlette's test client warns about its httpx dependency on import.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = FastAPI()
    light.mount(app, settings)
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def target() -> pd.Series:
    """A demonstration service located to its address, in Saint-Denis (93), for mobility."""
    d = demo_actors()
    rows = d[
        (d["code_insee"] == "93066")
        & (d["precision"] == "address")
        & d["obstacles"].map(lambda o: "mobilite" in list(o))
    ]
    assert len(rows), "the demonstration data has a mobility service in Saint-Denis"
    return rows.iloc[0]


def _text(html: str) -> str:
    html = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


def _first_service(html: str) -> tuple[str, str]:
    """(name, distance line) of the first card of the first need."""
    li = re.search(r'<ul class="svc">\s*<li>(.*?)</li>', html, flags=re.S)
    assert li, "no service listed"
    name = re.search(r"<h3>(.*?)</h3>", li.group(1), flags=re.S)
    notes = re.findall(r'<p class="note">(.*?)</p>', li.group(1), flags=re.S)
    assert name and notes
    return name.group(1).strip(), notes[-1].replace("&#39;", "'")


def test_her_position_is_the_start(client: TestClient, target: pd.Series) -> None:
    lat, lon = float(target["latitude"]), float(target["longitude"])
    resp = client.post("/m", data={"lat": f"{lat:.3f}", "lon": f"{lon:.3f}", "need": ["mobilite"]})
    assert resp.status_code == 200
    name, distance = _first_service(resp.text)
    assert name == str(target["nom"])
    assert re.fullmatch(r"à 0,[01] km \(à vol d'oiseau\)", distance), distance
    text = _text(resp.text)
    assert "Aide près de votre position" in text
    assert "depuis votre position (arrondie à environ 100 m)" in text
    assert "centre de" not in text


def test_the_commune_start_says_so(client: TestClient) -> None:
    resp = client.post("/m", data={"place": "93200", "need": ["mobilite"]})
    text = _text(resp.text)
    assert "Distances à vol d'oiseau depuis le centre de Saint-Denis (93)." in text
    en = _text(client.post("/m/en", data={"place": "93200", "need": ["mobilite"]}).text)
    assert "Straight-line distances from the centre of Saint-Denis (93)." in en


def test_her_position_wins_over_the_typed_commune(client: TestClient, target: pd.Series) -> None:
    # Typed Marseille, then tapped "utiliser ma position" in Saint-Denis: the tap wins.
    lat, lon = float(target["latitude"]), float(target["longitude"])
    data = {"place": "Marseille", "lat": str(lat), "lon": str(lon), "need": ["mobilite"]}
    resp = client.post("/m/en", data=data)
    assert _first_service(resp.text)[0] == str(target["nom"])
    assert "Help near your position" in _text(resp.text)
    assert "Marseille" not in resp.text


def test_the_position_is_rounded_to_about_100_m(client: TestClient) -> None:
    resp = client.post("/m", data={"lat": "48.9361874", "lon": "2.3573912", "need": ["numerique"]})
    hidden = dict(re.findall(r'<input type="hidden" name="(lat|lon)" value="([^"]*)">', resp.text))
    assert hidden == {"lat": "48.936", "lon": "2.357"}
    for precise in ("48.9361874", "2.3573912", "48.93618", "2.35739"):
        assert precise not in resp.text
    # The map page gets the same rounded start, and labels it as hers.
    carte = client.post("/m/carte", data={**hidden, "need": ["numerique"]})
    assert carte.status_code == 200
    found = re.search(r"data-map='([^']*)'", carte.text)
    assert found
    home = json.loads(html.unescape(found.group(1)))["home"]
    assert home == {"lat": 48.936, "lon": 2.357, "t": "Point de départ : votre position"}


@pytest.mark.parametrize(
    "lat, lon",
    [("nan", "2.35"), ("91", "2.35"), ("48.9", "inf"), ("abc", "2"), ("48.9", ""), ("1e400", "2")],
)
def test_a_bad_position_falls_back_to_the_commune_field(
    client: TestClient, lat: str, lon: str
) -> None:
    with_place = client.post("/m", data={"place": "93200", "lat": lat, "lon": lon})
    assert with_place.status_code == 200
    assert "centre de Saint-Denis (93)" in _text(with_place.text)
    alone = client.post("/m", data={"lat": lat, "lon": lon})
    assert alone.status_code == 400
    assert "Indiquez une commune ou un code postal." in _text(alone.text)
    assert "Traceback" not in alone.text


def test_the_position_reaches_no_log(
    client: TestClient, caplog: pytest.LogCaptureFixture, target: pd.Series
) -> None:
    lat, lon = float(target["latitude"]), float(target["longitude"])
    with caplog.at_level(logging.DEBUG):
        client.post("/m", data={"lat": f"{lat:.3f}", "lon": f"{lon:.3f}", "need": ["mobilite"]})
        client.post("/m/carte", data={"lat": f"{lat:.3f}", "lon": f"{lon:.3f}"})
    logged = caplog.text + " ".join(str(r.args) for r in caplog.records)
    for needle in (f"{lat:.3f}", f"{lon:.3f}", f"{lat:.2f}", f"{lon:.2f}"):
        assert needle not in logged


def test_the_position_needs_an_explicit_tap_and_same_origin_script(client: TestClient) -> None:
    home = client.get("/m")
    # Without JavaScript the button is hidden: the commune field works alone.
    button = re.search(r'<button type="button" id="use-position"[^>]*>', home.text)
    assert button and " hidden" in button.group(0)
    assert re.findall(r"<script[^>]*>", home.text) == ['<script src="/m/light.js" async>']
    assert home.headers["permissions-policy"].startswith("geolocation=(self)")
    csp = home.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp
    script = client.get("/m/light.js").text
    code = script[script.index('/* "Utiliser ma position"') :]  # the position's part
    assert "://" not in code and "fetch(" not in code  # no other host, no request of its own
    # getCurrentPosition only inside the click handler on the button, never at load.
    handler = code.index('closest("#use-position")')
    assert code.count("getCurrentPosition") == 1 and code.index("getCurrentPosition") > handler
    assert "Storage" not in code and "cookie" not in code


def test_nothing_of_the_position_is_written(
    client: TestClient, settings: Settings, target: pd.Series
) -> None:
    folders = [Path(settings.data_dir), Path(settings.cache_dir)]
    before = {p: p.stat().st_mtime for f in folders if f.exists() for p in f.rglob("*")}
    lat = f"{float(target['latitude']):.3f}"
    client.post("/m", data={"lat": lat, "lon": f"{float(target['longitude']):.3f}"})
    after = {p: p.stat().st_mtime for f in folders if f.exists() for p in f.rglob("*")}
    changed = [p for p, m in after.items() if before.get(p) != m]
    for path in changed:
        if path.is_file():
            assert lat.encode() not in path.read_bytes(), path


# -- item 3: the plan from a clicked point agrees (CLI, API, the search page) --------


def _haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def _services(plan: dict[str, Any]) -> list[tuple[str, str, float]]:
    return [
        (n["need"], s["id"], round(float(s["distance_km"]), 3))
        for n in plan["needs"]
        for s in n["services"]
    ]


def test_the_plan_from_a_clicked_point_agrees_everywhere(
    mapapp_cli: Callable[..., subprocess.CompletedProcess[str]], settings: Settings
) -> None:
    from mapapp.catalog import load_public_actors
    from mapapp.plan import plan_for_query
    from mapapp.search import SearchIndex
    from mapapp.ui.search_page import _query, _Submitted
    from mapapp.ui.start_point import Start, origin
    from mapapp.vocabulary import DEFAULT_RADIUS_KM
    from mapapp.web.app import create_app

    # A point clicked in Saint-Denis (93), kept to 4 decimals as the page keeps it.
    point = Start("point", 48.929137, 2.342071)
    assert (point.lat, point.lon) == (48.9291, 2.3421)
    needs = ("mobilite", "numerique", "garde-enfants")
    args = ["plan", "--lat", str(point.lat), "--lon", str(point.lon), "--format", "json"]
    for need in needs:
        args += ["--obstacle", need]
    run = mapapp_cli(*args)
    assert run.returncode == 0, run.stderr
    cli = json.loads(run.stdout)

    s = Settings.from_env(
        {
            "MAPAPP_DATA_DIR": str(settings.data_dir),
            "MAPAPP_CACHE_DIR": str(settings.cache_dir),
            "MAPAPP_API_RATE_LIMIT": "0",
        }
    )
    resp = TestClient(create_app(s)).get(
        "/api/v1/plan", params={"lat": point.lat, "lon": point.lon, "obstacles": list(needs)}
    )
    assert resp.status_code == 200, resp.text
    api = resp.json()

    sub = _Submitted(
        place_text="",
        obstacles=needs,
        match="any",
        types=(),
        publics=(),
        free_only=False,
        radius_km=DEFAULT_RADIUS_KM,
        limit=10,
        extra={"open_at": None, "open_day": None, "frais": (), "modes": ()},
    )
    start = origin(point, None, "fr")
    assert start is not None and (start.lat, start.lon) == (point.lat, point.lon)
    shown = load_public_actors(s)
    page = plan_for_query(SearchIndex(shown.actors), _query(sub, start)).to_dict("fr")

    got = _services(cli)
    assert len(got) == 3 * len(needs)  # 3 per need: the demonstration data has them all
    assert _services(api) == got
    assert _services(page) == got
    stops = [(tuple(x["service_ids"]), tuple(x["covers"])) for x in cli["stops"]]
    assert [(tuple(x["service_ids"]), tuple(x["covers"])) for x in api["stops"]] == stops
    assert [(tuple(x["service_ids"]), tuple(x["covers"])) for x in page["stops"]] == stops
    # The distances are from the clicked point: checked against the records'
    # own coordinates with an independent haversine (the service's rounding: 1 m).
    where = demo_actors().set_index("id")[["latitude", "longitude"]]
    for _need, sid, km in got:
        lat, lon = where.loc[sid]
        assert abs(_haversine_km(point.lat, point.lon, float(lat), float(lon)) - km) < 0.002
    # ... and not from the commune's centre (the town hall is ~1 km away).
    from_commune = json.loads(
        mapapp_cli(
            *[a for a in args if a not in args[1:5]], "--near", "93066", "--format", "json"
        ).stdout
    )
    assert _services(from_commune) != got


# -- item 1: the search page, headless (AppTest) ---------------------------------------


@pytest.fixture
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Path:
    """An empty store (so the demo data is shown) and no map tiles, as tests/test_app.py."""
    monkeypatch.setenv("MAPAPP_DATA_DIR", str(tmp_path / "app-data"))
    monkeypatch.setenv("MAPAPP_TILES", "none")
    monkeypatch.setenv("MAPAPP_CACHE_DIR", str(settings.cache_dir))
    return tmp_path / "app-data"


def _all_text(at: Any) -> str:
    return _unescape_md(_raw_text(at))


def _nearest_ids(demo: Any, lat: float, lon: float, obstacle: str, k: int) -> list[str]:
    """Brute force over the public demo records (in person, with the need), by haversine."""
    rows = demo[
        demo["modes_accueil"].map(lambda m: "en-presentiel" in list(m))
        & demo["obstacles"].map(lambda o: obstacle in list(o))
        & ~demo["confidential"].astype(bool)
    ]
    d = [
        _haversine_km(lat, lon, float(a), float(b))
        for a, b in zip(rows["latitude"], rows["longitude"], strict=True)
    ]
    ranked = sorted(zip(d, rows["id"], strict=True), key=lambda x: x[0])
    return [str(i) for _, i in ranked[:k]]


@pytest.mark.slow
def test_the_search_page_searches_from_a_chosen_point(app_env: Path, demo: Any) -> None:
    from streamlit.testing.v1 import AppTest

    from mapapp.ui.start_point import START_KEY, Start

    # A point in Aubervilliers, chosen on the map after a search from Saint-Denis.
    point = Start("point", 48.9146, 2.3821)
    at = _search(
        "Saint-Denis 93", ["mobilite"], at=_run(AppTest.from_file(APP, default_timeout=TIMEOUT))
    )
    assert "depuis le centre de Saint-Denis (93)" in _all_text(at)
    from_commune = _listed_refs(at)
    at.session_state[START_KEY] = point
    _run(at)
    text = _all_text(at)
    assert "Distances à vol d'oiseau depuis le point choisi sur la carte." in text
    assert "centre de Saint-Denis" not in text
    assert any("ce point de la carte" in h.value for h in at.subheader)
    refs = _listed_refs(at)
    # Only the first 5: further ones can tie within the display's 1 m rounding.
    assert refs[:5] == _nearest_ids(demo, point.lat, point.lon, "mobilite", 5)
    assert refs != from_commune
    assert not at.query_params
    # "Repartir de la commune": back to the town centre.
    at.button(key="start_forget").click()
    _run(at)
    assert "depuis le centre de Saint-Denis (93)" in _all_text(at)
    assert _listed_refs(at) == from_commune


@pytest.mark.slow
def test_her_position_needs_no_commune_and_a_new_commune_replaces_it(
    app_env: Path, demo: Any
) -> None:
    from streamlit.testing.v1 import AppTest

    from mapapp.ui.start_point import START_KEY, Start

    at = _run(AppTest.from_file(APP, default_timeout=TIMEOUT))
    here = Start("position", 48.93619, 2.35739)
    at.session_state[START_KEY] = here
    _run(at)
    assert "Départ : votre position (arrondie à environ 100 m)" in _all_text(at)
    at = _search("", ["mobilite"], at=at)
    text = _all_text(at)
    assert "Indiquez une commune" not in text
    assert "depuis votre position (arrondie à environ 100 m)" in text
    assert _listed_refs(at)[:5] == _nearest_ids(demo, 48.936, 2.357, "mobilite", 5)
    # Typing a commune afterwards: she now searches from there.
    at.button(key="edit_search").click()
    _run(at)
    at = _search("Voiron", ["mobilite"], at=at)
    assert START_KEY not in at.session_state
    assert "depuis le centre de Voiron (38)" in _all_text(at)
