"""The light page (/m) without a browser: headers, content, search results, escaping, no trace.

The browser suite (tests/browser/test_light.py) measures bytes, requests,
timings, accessibility and the quick exit in Chromium; these tests check what
the server sends, fast, with an in-process client.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import math
import re
import tomllib
import warnings
from collections.abc import Iterator
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi import FastAPI

from mapapp.catalog import load_public_actors
from mapapp.emergency import EMERGENCY_PATH
from mapapp.geo.communes import Geography
from mapapp.settings import Settings
from mapapp.store import demo_actors
from mapapp.web import light

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


class _Page(HTMLParser):
    """Links, text, the inline style and the script sources of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self.scripts: list[dict[str, str | None]] = []
        self.inline_scripts = 0
        self._in: list[str] = []
        self._href: str | None = None
        self._link_text: list[str] = []
        self.lang = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self._in.append(tag)
        if tag == "html":
            self.lang = a.get("lang") or ""
        if tag == "a":
            self._href, self._link_text = a.get("href") or "", []
        if tag == "script":
            self.scripts.append(a)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, " ".join(self._link_text).strip()))
            self._href = None
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data: str) -> None:
        where = self._in[-1] if self._in else ""
        if where == "style":
            self.styles.append(data)
        elif where == "script":
            self.inline_scripts += bool(data.strip())
        else:
            self.text.append(data)
            if self._href is not None:
                self._link_text.append(data)

    @property
    def all_text(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.text))


def parse(html: str) -> _Page:
    p = _Page()
    p.feed(html)
    return p


def _post(client: TestClient, path: str = "/m", **data: object) -> object:
    return client.post(path, data=data)


# -- headers -------------------------------------------------------------------


def _check_headers(resp: object) -> None:
    h = resp.headers  # type: ignore[attr-defined]
    assert h["cache-control"] == "no-store"
    assert h["referrer-policy"] == "no-referrer"
    assert h["x-content-type-options"] == "nosniff"
    csp = h["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    script_src = re.search(r"script-src ([^;]*)", csp)
    assert script_src is not None and script_src.group(1).strip() == "'self'"
    assert "set-cookie" not in h


@pytest.mark.slow
def test_every_response_carries_the_headers_and_no_cookie(client: TestClient) -> None:
    responses = [
        client.get("/m"),
        client.get("/m/en"),
        client.get("/m/light.js"),
        client.post("/m", data={"place": "Grenoble", "need": ["violences"]}),
        client.post("/m/en", data={"place": ""}),
        client.post("/m", data={"place": "Saint-Denis"}),
        client.post("/m", content=b"\xff\xfe", headers={"content-type": "multipart/form-data"}),
        client.post("/m", data={"place": "Grenoble", "pad": "x" * 20_000}),
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 400, 200, 400, 400]
    assert "Grenoble" not in responses[-1].text
    for r in responses:
        _check_headers(r)
    assert client.cookies == {} or len(client.cookies) == 0


@pytest.mark.slow
def test_the_inline_style_is_the_one_the_csp_allows(client: TestClient) -> None:
    for resp in (client.get("/m"), client.post("/m", data={"place": "38000"})):
        page = parse(resp.text)
        assert len(page.styles) == 1
        digest = hashlib.sha256(page.styles[0].encode("utf-8")).digest()
        expected = "'sha256-" + base64.b64encode(digest).decode() + "'"
        assert expected in resp.headers["content-security-policy"]
        # No inline script; the one script is the router's own file.
        assert page.inline_scripts == 0
        assert [s.get("src") for s in page.scripts] == ["/m/light.js"]


@pytest.mark.slow
def test_the_query_is_never_in_a_url(client: TestClient) -> None:
    page = parse(client.get("/m").text)
    forms = re.findall(r"<form[^>]*>", client.get("/m").text)
    assert forms and all('method="post"' in f for f in forms)
    resp = client.post("/m", data={"place": "Grenoble", "need": ["logement"]})
    # The page links only to /m, /m/en, tel:/sms: and the neutral site.
    page = parse(resp.text)
    for href, _ in page.links:
        assert "Grenoble" not in href and "logement" not in href
        assert re.match(
            r"^(/m(/en)?|tel:\+?\d+|sms:\d+|https://www\.google\.com/search\?q=meteo)$", href
        ), href


# -- first screen ----------------------------------------------------------------


def _configured_numbers() -> list[dict[str, str]]:
    data = tomllib.loads(EMERGENCY_PATH.read_text(encoding="utf-8"))
    return [n for c in data["country"] for n in c["number"]]


@pytest.mark.parametrize(("path", "lang"), [("/m", "fr"), ("/m/en", "en")])
def test_first_screen_shows_every_configured_number_with_what_it_is_for(
    client: TestClient, path: str, lang: str
) -> None:
    resp = client.get(path)
    page = parse(resp.text)
    assert page.lang == lang
    hrefs = {h for h, _ in page.links}
    text = page.all_text
    numbers = _configured_numbers()
    assert len(numbers) >= 6
    for n in numbers:
        href = f"{n['kind']}:{n['number'].replace(' ', '')}"
        assert href in hrefs, f"{href} missing"
        detail = n.get(f"detail_{lang}") or n[lang]
        assert detail in text, f"what {n['number']} is for is missing"
    # The quick exit is the first link of the page, a plain link to the neutral site.
    assert page.links[0] == (light.QUICK_EXIT_URL, "Quitter vite" if lang == "fr" else "Quick exit")
    # The history line.
    assert ("historique" if lang == "fr" else "history") in text


def test_the_neutral_site_is_the_apps_choice() -> None:
    pytest.importorskip("streamlit")
    from mapapp.ui.chrome import QUICK_EXIT_URL

    assert light.QUICK_EXIT_URL == QUICK_EXIT_URL


def test_both_languages_are_complete(client: TestClient) -> None:
    for key, (fr, en) in light.STRINGS.items():
        assert fr.strip() and en.strip(), key
    fr_page = parse(client.get("/m").text).all_text
    en_page = parse(client.get("/m/en").text).all_text
    # Every need as a large checkbox, in each language.
    for o in light.NEEDS_ORDER:
        assert o.label("fr") in fr_page and o.label("en") in en_page
    # No French sentence of the page left on the English one.
    for key, (fr, en) in light.STRINGS.items():
        if fr != en and "{" not in fr and len(fr) > 8:
            assert fr not in en_page, key
    assert "Commune ou code postal" in fr_page and "Town or postcode" in en_page


# -- results -----------------------------------------------------------------------


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def _sections(html: str) -> dict[str, list[str]]:
    """Need heading -> names of the services listed under it."""
    out: dict[str, list[str]] = {}
    for m in re.finditer(r'<h2 id="need-\d+">(.*?)</h2>(.*?)</section>', html, re.S):
        out[m.group(1)] = re.findall(r"<h3>(.*?)</h3>", m.group(2))
    return out


@pytest.mark.slow
def test_results_list_the_three_nearest_per_need(
    client: TestClient, settings: Settings, geo: Geography
) -> None:
    import html as htmllib

    resp = client.post("/m", data={"place": "Grenoble", "need": ["violences", "garde-enfants"]})
    assert resp.status_code == 200
    sections = _sections(resp.text)
    assert list(sections) == ["Violences, séparation", "Garde d'enfants".replace("'", "&#39;")]
    # Independent check: great-circle distances from Grenoble's point over the public records.
    pub = load_public_actors(settings, communes=geo.communes).actors
    lat, lon = geo.communes.loc["38185", ["lat", "lon"]]
    for need, names in zip(("violences", "garde-enfants"), sections.values(), strict=True):
        rows = pub[pub["obstacles"].map(lambda o, n=need: n in o)]
        rows = rows[rows["latitude"].notna()]
        d = sorted((_km(lat, lon, r.latitude, r.longitude), r.nom) for r in rows.itertuples())
        assert len(names) == light.PER_NEED
        expected = [n for _, n in d[: light.PER_NEED]]
        assert [htmllib.unescape(n) for n in names] == expected


@pytest.mark.slow
def test_a_confidential_record_shows_its_commune_and_referral_line(
    client: TestClient, settings: Settings
) -> None:
    raw = demo_actors()
    secret = raw[raw["confidential"]]
    assert len(secret) > 0
    resp = client.post("/m", data={"place": "Grenoble", "need": ["logement"]})
    html = resp.text
    shelters = [r for r in secret.itertuples() if r.commune == "Grenoble"]
    assert shelters, "the demo data has no shelter in Grenoble"
    # Listed, at its commune, with 3919 and no distance.
    block = re.search(r"<li>\s*<h3>[^<]*hébergement[^<]*</h3>(.*?)</li>", html, re.S | re.I)
    assert block is not None, "the shelter is not listed"
    body = block.group(1)
    assert 'href="tel:3919"' in body
    assert "dans la commune de Grenoble" in body  # its commune, honestly worded
    assert "km" not in body
    assert "commune" in body
    # Its street and own phone are not in its card (the demo data reuses street
    # names, so the page-wide scan is done with a unique secret in the browser suite).
    for r in shelters:
        assert r.adresse and r.adresse not in body
        digits = re.sub(r"\D", "", r.telephone or "")
        assert len(digits) >= 6 and digits not in re.sub(r"\D", "", body)


@pytest.mark.slow
def test_an_ambiguous_name_asks_which_commune_then_answers(client: TestClient) -> None:
    resp = client.post("/m", data={"place": "Saint-Denis", "need": ["droits"]})
    assert resp.status_code == 200
    codes = re.findall(r'name="code" value="(\w+)"', resp.text)
    assert {"93066", "97411"} <= set(codes)
    # The chosen need is kept through the choice.
    assert 'type="hidden" name="need" value="droits"' in resp.text
    resp = client.post("/m", data={"code": "93066", "need": ["droits"]})
    assert "Saint-Denis (93)" in resp.text
    assert list(_sections(resp.text)) == ["Droits et démarches"]


@pytest.mark.slow
def test_unknown_and_missing_places_say_what_to_do(client: TestClient) -> None:
    resp = client.post("/m", data={"place": "Grenobel"})
    assert resp.status_code == 400
    assert "Vouliez-vous dire" in resp.text and 'value="38185"' in resp.text
    resp = client.post("/m/en", data={"place": "Qxzzyv"})
    assert resp.status_code == 400 and "No town matches" in resp.text
    resp = client.post("/m", data={"need": ["violences"]})
    assert resp.status_code == 400 and "Indiquez une commune" in resp.text
    assert "Traceback" not in resp.text


@pytest.mark.parametrize(
    "typed",
    [
        "{{7*7007}}",
        "<script>window.__pwned=1</script>",
        '"><img src=x onerror=alert(1)>',
        "{% for i in [1,2,3] %}tpl{{i}}{% endfor %}",
    ],
)
def test_hostile_typed_text_is_shown_as_text(client: TestClient, typed: str) -> None:
    resp = client.post("/m", data={"place": typed, "need": ["violences", "<b>x</b>"]})
    assert resp.status_code == 400
    html = resp.text
    assert "49049" not in html and "tpl1tpl2" not in html
    assert "<script>window" not in html and "<img src=x" not in html
    page = parse(html)
    assert page.inline_scripts == 0
    # Echoed, literally, in the place box so she can correct it.
    assert re.search(r'<input type="text" id="place" name="place" value="([^"]*)"', html)
    assert "<b>x</b>" not in html


def test_today_hours_in_words() -> None:
    monday_morning = datetime(2026, 12, 7, 9, 30)
    assert light.today_hours("Mo-Fr 09:00-12:00,14:00-17:00", monday_morning) == (
        [("09:00", "12:00"), ("14:00", "17:00")],
        True,
    )
    assert light.today_hours("Mo-Fr 09:00-12:00", datetime(2026, 12, 7, 13, 0)) == (
        [("09:00", "12:00")],
        False,
    )
    assert light.today_hours("We 14:00-18:00", monday_morning) == ([], False)
    assert light.today_hours("le lundi matin", monday_morning) is None


# -- no trace --------------------------------------------------------------------------


@pytest.mark.slow
def test_the_query_reaches_no_log(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    typed_ok, typed_unknown = "sAiNt-MaRtIn-d hErEs", "Zorglubville-Qx7"
    with caplog.at_level(logging.DEBUG):
        client.post("/m", data={"place": typed_ok, "need": ["violences"]})
        client.post("/m", data={"place": typed_unknown, "need": ["sante"]})
    logged = caplog.text + " ".join(str(r.args) for r in caplog.records)
    for needle in (typed_ok, typed_unknown, "Martin-d'Hères", "38421"):
        assert needle not in logged


@pytest.mark.slow
def test_nothing_is_written_to_the_data_folder(client: TestClient, settings: Settings) -> None:
    before = (
        {p for p in Path(settings.data_dir).rglob("*")} if settings.data_dir.exists() else set()
    )
    client.post("/m", data={"place": "Voiron", "need": ["mobilite"]})
    after = {p for p in Path(settings.data_dir).rglob("*")} if settings.data_dir.exists() else set()
    assert after == before


@pytest.mark.slow
def test_a_replayed_form_does_not_show_her_search_again(client: TestClient) -> None:
    data = {"place": "Grenoble", "need": ["violences"]}
    tapped = client.post(
        "/m", data=data, headers={"sec-fetch-mode": "navigate", "sec-fetch-user": "?1"}
    )
    assert "Aide près de Grenoble (38)" in tapped.text
    replayed = client.post("/m", data=data, headers={"sec-fetch-mode": "navigate"})
    assert replayed.status_code == 200
    assert "Grenoble" not in replayed.text and "jamais ré-affichée" in replayed.text
    assert 'value="violences" checked' not in replayed.text
    # The script's fetch (not a navigation) and browsers without Sec-Fetch are answered.
    assert "Grenoble (38)" in client.post("/m", data=data, headers={"sec-fetch-mode": "cors"}).text
    assert "Grenoble (38)" in client.post("/m", data=data).text


def _free_port() -> int:
    import socket

    for port in range(8620, 8640):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port in 8620-8639")


@pytest.mark.slow
@pytest.mark.parametrize("access_log", [True, False], ids=["access-log-on", "documented"])
def test_a_uvicorn_server_logs_nothing_of_her_search(
    settings: Settings, tmp_path: Path, access_log: bool
) -> None:
    """Started the documented way (access log off), and even with uvicorn's default access log."""
    import os
    import subprocess
    import sys
    import time

    import httpx

    port = _free_port()
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "mapapp.web.light:standalone_app"]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "debug"]
    if not access_log:
        cmd.append("--no-access-log")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAPAPP_")}
    env |= {"MAPAPP_DATA_DIR": str(settings.data_dir), "MAPAPP_CACHE_DIR": str(settings.cache_dir)}
    log = tmp_path / "uvicorn.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/m"
    try:
        for _ in range(300):
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        typed = "sAiNt-MaRtIn-d hErEs"
        r = httpx.post(url, data={"place": typed, "need": ["violences"]}, timeout=120)
        assert "Martin-d&#39;Hères" in r.text or "Martin-d'Hères" in r.text
        httpx.post(url, data={"place": "Zorglubville-Qx7", "need": ["sante"]}, timeout=60)
        httpx.post(url, data={"place": "Saint-Denis", "need": ["logement"]}, timeout=60)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    text = log.read_text(encoding="utf-8", errors="replace")
    assert "Application startup complete" in text  # the log was captured
    for needle in (typed, "Zorglubville", "Martin-d", "38421", "Saint-Denis", "logement", "sante"):
        assert needle not in text, f"{needle!r} in the server log"
    if access_log:
        assert '"POST /m HTTP/1.1" 200' in text  # the access log runs, and holds no query
    else:
        assert "POST" not in text


@pytest.mark.slow
def test_the_map_comes_only_on_request(settings: Settings) -> None:
    from dataclasses import replace

    tiles = "https://{s}.tile.example.org/{z}/{x}/{y}.png"
    app = FastAPI()
    light.mount(app, replace(settings, tiles=tiles))
    with TestClient(app) as client:
        data = {"place": "Grenoble", "need": ["violences", "logement"]}
        results = client.post("/m", data=data)
        # No Leaflet, no tiles, no map script on the list; a button offers the map.
        assert "leaflet" not in results.text.lower() and "tile.example.org/" not in results.text
        assert 'action="/m/carte"' in results.text and "tile.example.org" in results.text
        assert "*.tile.example.org" not in results.headers["content-security-policy"]
        page = client.post("/m/carte", data={"code": "38185", "need": ["violences", "logement"]})
        _check_headers(page)
        csp = page.headers["content-security-policy"]
        assert "img-src 'self' data: https://*.tile.example.org" in csp
        assert "style-src 'self' 'sha256-" in csp and "x-light-csp" not in page.headers
        assert '<script src="/m/leaflet.js" defer>' in page.text
        # The points travel as JSON in a single-quoted attribute: no raw quote or bracket.
        attr = re.search(r"data-map='([^']*)'", page.text)
        assert attr is not None and "<" not in attr.group(1)
        for path in ("/m/leaflet.js", "/m/leaflet.css", "/m/map.js"):
            r = client.get(path)
            assert r.status_code == 200 and len(r.content) > 500
            _check_headers(r)


def test_the_map_page_escapes_hostile_names(client: TestClient, settings: Settings) -> None:
    from mapapp.schema import actors_frame
    from mapapp.store import ParquetStore

    payload = "'><script>window.__pwned=1</script>{{7*7007}}\u2028"
    ParquetStore(settings.data_dir).write_actors(
        actors_frame(
            [
                {
                    "id": "t:1",
                    "nom": payload,
                    "obstacles": ["violences"],
                    "code_insee": "38185",
                    "latitude": 45.18,
                    "longitude": 5.72,
                }
            ]
        )
    )
    page = client.post("/m/carte", data={"code": "38185", "need": ["violences"]})
    assert page.status_code == 200
    assert "<script>window" not in page.text and "49049" not in page.text
    attr = re.search(r"data-map='([^']*)'", page.text)
    assert attr is not None
    import html as htmllib
    import json

    data = json.loads(htmllib.unescape(attr.group(1)))
    assert data["points"][0]["t"] == payload.strip()
