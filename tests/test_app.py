"""The Streamlit app, driven headless with ``streamlit.testing.v1.AppTest``.

The expected results are computed here, independently of :mod:`mapapp.search`:
a brute-force haversine over the demo records (confidential ones moved to
their commune's point, as the public view does), filtered by obstacle.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from mapapp.commands.serve import FILE_ONLY, HARDENED, streamlit_command
from mapapp.geo.communes import Geography
from mapapp.geo.sphere import haversine_km
from mapapp.schema import actors_frame
from mapapp.store import ParquetStore
from mapapp.ui.search_page import DEFAULT_RADIUS_KM, LIMIT_CHOICES

pytestmark = pytest.mark.slow  # spawns the app or the CLI; see README, Tests

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")
TIMEOUT = 60  # the first run loads the geography and builds the index


@pytest.fixture
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, geo: Geography) -> Path:
    """An empty store (so the demo data is shown) and no map tiles."""
    data = tmp_path / "data"
    monkeypatch.setenv("MAPAPP_DATA_DIR", str(data))
    monkeypatch.setenv("MAPAPP_TILES", "none")
    from tests.conftest import _cache_dir

    monkeypatch.setenv("MAPAPP_CACHE_DIR", str(_cache_dir()))
    return data


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _search(
    place: str,
    obstacles: list[str],
    *,
    limit: int | None = None,
    radius_km: int | None = None,
    at: AppTest | None = None,
) -> AppTest:
    at = at or _run(AppTest.from_file(APP, default_timeout=TIMEOUT))
    at.text_input(key="f_place").input(place)
    at.button_group(key="f_obstacles").set_value(obstacles)
    if limit is not None:
        at.selectbox(key="f_limit").set_value(limit)
    if radius_km is not None:
        at.select_slider(key="f_radius").set_value(radius_km)
    submit = next(b for b in at.button if b.proto.is_form_submitter)
    submit.click()
    return _run(at)


def _unescape_md(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _listed_refs(at: AppTest) -> list[str]:
    """Actor ids of the cards, in page order (from each card's details)."""
    refs = []
    for md in at.markdown:
        m = re.search(r"\*\*(?:Référence|Reference)\*\* : (.+)$", md.value, flags=re.M)
        if m:
            refs.append(_unescape_md(m.group(1)).strip())
    return refs


def _all_text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown]
    parts += [w.value for w in at.warning] + [i.value for i in at.info]
    parts += [c.value for c in at.caption] + [h.value for h in at.subheader]
    return "\n".join(parts)


def _map_args(at: AppTest) -> str:
    """The map's arguments, once "Voir la carte" is switched on (the map is drawn on demand)."""
    if not at.toggle(key="show_map").value:
        at.toggle(key="show_map").set_value(True)
        _run(at)
    maps = [
        e
        for e in at.get("component_instance")
        if e.proto.component_name == "streamlit_folium.st_folium"
    ]
    assert len(maps) == 1, "exactly one map on the search page"
    return str(maps[0].proto.json_args)


def _brute_force_nearest(
    demo: gpd.GeoDataFrame,
    geo: Geography,
    code: str,
    obstacle: str,
    k: int,
    radius_km: float = DEFAULT_RADIUS_KM,
) -> list[str]:
    lat = demo["latitude"].to_numpy(dtype=float).copy()
    lon = demo["longitude"].to_numpy(dtype=float).copy()
    hidden = demo["confidential"].to_numpy(dtype=bool)
    lat[hidden] = geo.communes.loc[demo.loc[hidden, "code_insee"], "lat"].to_numpy()
    lon[hidden] = geo.communes.loc[demo.loc[hidden, "code_insee"], "lon"].to_numpy()
    in_person = np.array(["en-presentiel" in m for m in demo["modes_accueil"]])
    has = np.array([obstacle in list(o) for o in demo["obstacles"]])
    keep = in_person & has & np.isfinite(lat)
    here = geo.communes.loc[code]
    d = haversine_km(here["lat"], here["lon"], lat[keep], lon[keep])
    ids = demo["id"].to_numpy()[keep]
    order = np.argsort(d, kind="stable")
    order = order[d[order] <= radius_km]
    return [str(i) for i in ids[order[:k]]]


def test_search_lists_the_nearest_matching_services(
    app_env: Path, demo: gpd.GeoDataFrame, geo: Geography
) -> None:
    at = _search("Saint-Denis 93", ["garde-enfants"])
    expected = _brute_force_nearest(demo, geo, "93066", "garde-enfants", 10)
    assert _listed_refs(at) == expected
    assert any("Saint-Denis (93)" in _unescape_md(h.value) for h in at.subheader)
    text = _all_text(at)
    assert "à vol d'oiseau" in text
    assert not at.query_params, "the search must never go into the URL"


def test_limit_50_lists_fifty_and_the_map_stays_small(
    app_env: Path, demo: gpd.GeoDataFrame, geo: Geography
) -> None:
    limit = max(LIMIT_CHOICES)
    at = _search("93200", ["emploi"], limit=limit)
    refs = _listed_refs(at)
    assert refs[:limit] == _brute_force_nearest(demo, geo, "93066", "emploi", limit)
    args = _map_args(at)
    assert len(args.encode()) <= 1_500_000
    assert args.count("mapapp-pin") == limit
    assert "cdn." not in args and "cdnjs" not in args, "Leaflet is served by the app"


def test_radius_limits_the_results(app_env: Path, demo: gpd.GeoDataFrame, geo: Geography) -> None:
    at = _search("Saint-Denis 93", ["violences"], radius_km=5)
    expected = _brute_force_nearest(demo, geo, "93066", "violences", 10, radius_km=5)
    assert 0 < len(expected) < 10, "the demo needs fewer than 10 such services within 5 km"
    remote = set(demo.loc[[list(m) == ["a-distance"] for m in demo["modes_accueil"]], "id"])
    listed = _listed_refs(at)
    assert [r for r in listed if r not in remote] == expected
    assert set(listed) - set(expected) <= remote, "remote services have no distance to limit"


def test_ambiguous_name_offers_choices_then_searches(app_env: Path) -> None:
    at = _search("st denis", ["garde-enfants"])
    choice = at.radio(key="place_choice")
    labels = [choice.format_func(o) for o in choice.options]
    assert "Saint-Denis (93)" in labels and "Saint-Denis (974)" in labels
    assert not _listed_refs(at), "nothing is searched before a commune is chosen"
    code = next(o for o in choice.options if choice.format_func(o) == "Saint-Denis (974)")
    choice.set_value(code)
    _run(at)
    assert any("Saint-Denis (974)" in _unescape_md(h.value) for h in at.subheader)
    assert len(_listed_refs(at)) == 10


def test_unknown_name_suggests_close_communes(app_env: Path) -> None:
    at = _search("Saint-Deniss 93", [])
    assert any("Aucune commune" in w.value for w in at.warning)
    choice = at.radio(key="place_choice")
    assert any("Saint-Denis" in choice.format_func(o) for o in choice.options)


def test_remote_services_are_listed_apart_without_distance(
    app_env: Path, demo: gpd.GeoDataFrame
) -> None:
    remote = demo[
        [
            ("a-distance" in m) and ("violences" in list(o))
            for m, o in zip(demo["modes_accueil"], demo["obstacles"], strict=True)
        ]
    ]
    assert len(remote) >= 1, "the demo data has a remote violence helpline"
    at = _search("Lyon", ["violences"])
    headers = [_unescape_md(h.value) for h in at.subheader]
    assert any("Services à distance" in h for h in headers)
    refs = _listed_refs(at)
    assert refs[10:] == remote["id"].tolist(), "remote services come after the 10 nearest"
    md = [m.value for m in at.markdown]
    # The card's title (bold), not the emergency line that names a Belgian helpline.
    at_card = next(i for i, v in enumerate(md) if v.startswith("**") and "Écoute violences" in v)
    name = _unescape_md(md[at_card])
    meta = md[at_card + 1]  # the card's type line: a distance would follow the type
    assert "km" not in meta and "vol d'oiseau" not in meta, name


def test_english_switch_changes_labels(app_env: Path) -> None:
    at = _run(AppTest.from_file(APP, default_timeout=TIMEOUT))
    assert at.text_input(key="f_place").label == "Commune ou code postal"
    at.radio(key="lang").set_value("en")
    _run(at)
    assert at.text_input(key="f_place").label == "Town or postcode"
    assert any("Emergency" in m.value for m in at.markdown)
    assert any("Demonstration data" in w.value for w in at.warning)
    assert any(b.label == "Search" for b in at.button)
    quick_exit = at.get("html")[0].proto.body
    assert '"Quick exit"' in quick_exit


def test_frame_on_every_view(app_env: Path) -> None:
    at = _run(AppTest.from_file(APP, default_timeout=TIMEOUT))
    url_paths = [p.get("url_pathname") for p in at._registered_pages.values()]
    assert {"", "securite"} <= set(url_paths), url_paths
    for url_path in url_paths:
        _open_page(at, str(url_path))
        _run(at)
        assert at.main.children[0].type == "html", "quick exit is the first element"
        html = at.get("html")[0].proto.body
        assert "location.replace" in html and '"Quitter vite"' in html
        md = "\n".join(m.value for m in at.markdown)
        for link in ("(tel:17)", "(tel:112)", "(sms:114)", "(tel:3919)", "(tel:080030030)"):
            assert link in md, f"{link} missing on page {url_path!r}"
        assert any("Données de démonstration" in w.value for w in at.warning)


def _open_page(at: AppTest, url_path: str) -> None:
    # AppTest.switch_page only knows file pages; our pages are callables
    # registered by st.navigation, so select the registered page by URL path.
    pages = at._registered_pages  # private: no public API for callable pages
    at._page_hash = next(h for h, p in pages.items() if p.get("url_pathname") == url_path)


def test_no_demo_banner_for_real_data(app_env: Path) -> None:
    real = actors_frame(
        [
            {
                "id": "x:1",
                "nom": "Crèche réelle",
                "actor_type": "creche",
                "obstacles": ["garde-enfants"],
                "latitude": 48.936,
                "longitude": 2.357,
                "code_insee": "93066",
            }
        ]
    )
    ParquetStore(app_env).write_actors(real)
    at = _search("93200", ["garde-enfants"])
    assert not any("démonstration" in w.value for w in at.warning)
    assert _listed_refs(at) == ["x:1"]
    assert any(c.value.startswith("1 service trouvé ·") for c in at.caption)


HOSTILE = "<script>alert(1)</script> ${alert(2)} {{7*191}} `x` [clic](javascript:alert(3)) :red[x]"


def test_hostile_and_confidential_records_stay_inert(app_env: Path) -> None:
    records = [
        {
            "id": "x:hostile",
            "nom": HOSTILE,
            "description": '"><img src=x onerror=alert(4)>',
            "actor_type": "autre",
            "obstacles": ["logement"],
            "site_web": "javascript:alert(5)",
            "telephone": "<b>01</b>",
            "horaires_accueil": "{% for x in y %}",
            "latitude": 48.937,
            "longitude": 2.358,
            "code_insee": "93066",
        },
        {
            "id": "x:shelter",
            "nom": "Abri",
            "actor_type": "hebergement",
            "obstacles": ["logement"],
            "confidential": True,
            "adresse": "7 impasse Secrète",
            "telephone": "01 99 12 34 56",
            "latitude": 48.9451,
            "longitude": 2.3712,
            "code_insee": "93066",
        },
    ]
    ParquetStore(app_env).write_actors(actors_frame(records))
    at = _search("93200", ["logement"])
    assert sorted(_listed_refs(at)) == ["x:hostile", "x:shelter"]
    text = _all_text(at)
    # Every "<" left unescaped opens one of our own link destinations...
    assert re.search(r"(?<!\\)<(?!(?:tel|sms|mailto|https?):)", text) is None
    # ...and every Markdown link goes to an allowed scheme.
    for target in re.findall(r"(?<!\\)\]\(<?([^)>]*)", text):
        assert target.startswith(("tel:", "sms:", "mailto:", "https:", "http:")), target
    assert "javascript:" not in text  # only ever shown escaped: "javascript\\:"
    assert "impasse Secrète" not in text and "99 12 34 56" not in text
    assert "[115](<tel:115>)" in text  # a shelter without its own line: 115 (DOMAIN.md)
    args = _map_args(at)
    assert "<script>alert" not in args and "${alert" not in args and "{{7*191}}" not in args
    assert "1337" not in args  # {{7*191}} was never evaluated
    assert "48.9451" not in args and "2.3712" not in args, "a shelter's true point leaked"
    assert "Secrète" not in args


def test_serve_passes_the_same_hardened_options_as_the_config_file() -> None:
    with (ROOT / ".streamlit" / "config.toml").open("rb") as fh:
        raw = tomllib.load(fh)
    flat = {
        f"{section}.{key}": value
        for section, table in raw.items()
        if section != "theme"
        for key, value in table.items()
    }
    file_only = {k: flat.pop(k) for k in list(flat) if k in FILE_ONLY}
    assert file_only == FILE_ONLY
    as_text = {k: json.dumps(v) if not isinstance(v, str) else v for k, v in flat.items()}
    assert as_text == HARDENED
    cmd = streamlit_command(host="127.0.0.1", port=8501)
    for option, value in HARDENED.items():
        i = cmd.index(f"--{option}")
        assert cmd[i + 1] == value


def test_map_background_is_off_until_asked(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAPAPP_TILES", "https://tiles.example.org/{z}/{x}/{y}.png")
    at = _search("93200", ["numerique"])
    assert "tiles.example.org" not in _map_args(at), "the background is off until she asks"
    toggle = at.toggle(key="map_tiles")
    assert toggle.value is False and "tiles.example.org" in toggle.help
    toggle.set_value(True)
    _run(at)
    assert "tiles.example.org" in _map_args(at)
    assert len(_listed_refs(at)) >= 10, "turning the background on keeps the results"


def test_form_folds_after_a_search_and_unfolds_filled(app_env: Path) -> None:
    at = _search("93200", ["numerique"])
    assert not at.text_input, "after a search the form folds: the results come first"
    summary = "\n".join(m.value for m in at.markdown)
    assert "Saint\\-Denis" in summary or "Saint-Denis" in summary
    at.button(key="edit_search").click()
    _run(at)
    assert at.text_input(key="f_place").value == "93200"
    assert at.button_group(key="f_obstacles").value == ["numerique"]


def test_mapapp_serve_starts_the_app_from_any_folder(app_env: Path, tmp_path: Path) -> None:
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "mapapp", "serve", "--port", str(port)],
        cwd=tmp_path,  # no .streamlit/config.toml here: the options come from the command
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health") as r:
                    assert r.read() == b"ok"
                    break
            except OSError:
                assert time.monotonic() < deadline, "mapapp serve did not start"
                assert proc.poll() is None, "mapapp serve exited"
                time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_a_broken_store_shows_a_clear_error_and_keeps_the_frame(app_env: Path) -> None:
    app_env.mkdir(parents=True)
    (app_env / "actors.parquet").write_bytes(b"not a parquet file")
    at = _run(AppTest.from_file(APP, default_timeout=TIMEOUT))
    assert any("Une erreur est survenue" in e.value for e in at.error)
    assert any("cannot read" in c.value for c in at.caption), "the operator learns what to fix"
    assert any("(tel:3919)" in m.value for m in at.markdown)
    assert '"Quitter vite"' in at.get("html")[0].proto.body
