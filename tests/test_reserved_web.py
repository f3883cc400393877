"""Who may change the register, through the real app (TestClient over ``create_app``).

One test per boundary of issue 17, each failing without its check: scope,
signed-out visitor, forged or replayed form, foreign origin, wrong password
(same answer, same time, account or not), expired and signed-out sessions;
and the issue's "done means": a coordinator marks a place free and
:func:`mapapp.reserved.free_places` shows it at once.
"""

from __future__ import annotations

import re
import shutil
import statistics
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

from mapapp.reserved import free_places, register_stamp
from mapapp.reserved.accounts import Role, add_user, authenticate
from mapapp.reserved.register import history, read_entry
from mapapp.schema import actors_frame
from mapapp.settings import Settings
from mapapp.store import open_store
from mapapp.store.reserved_db import now_iso, open_register
from mapapp.web.app import create_app
from mapapp.web.reserved import FAIL_SECONDS
from tests.conftest import _cache_dir

pytestmark = pytest.mark.slow  # password hashing and the deliberately slow wrong-password answer

with warnings.catch_warnings():
    # starlette warns that its TestClient will move to another httpx package.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PASSWORD = "correct horse battery staple"
C93 = "t:creche-93"  # Saint-Denis (93066)
C95 = "t:creche-95"  # Cergy (95127)
TOKEN = re.compile(r'name="token" value="([^"]+)"')


def _records() -> Any:
    return actors_frame(
        [
            {
                "id": C93,
                "source": "t",
                "nom": "Crèche Les Lucioles",
                "actor_type": "creche",
                "code_insee": "93066",
                "commune": "Saint-Denis",
                "latitude": 48.936,
                "longitude": 2.357,
            },
            {
                "id": C95,
                "source": "t",
                "nom": "Crèche AVIP Les Étoiles",
                "actor_type": "creche-avip",
                "code_insee": "95127",
                "commune": "Cergy",
                "latitude": 49.036,
                "longitude": 2.076,
            },
            {
                "id": "t:cidff-93",
                "source": "t",
                "nom": "CIDFF 93",
                "actor_type": "cidff",
                "code_insee": "93066",
                "commune": "Saint-Denis",
                "latitude": 48.937,
                "longitude": 2.358,
            },
        ]
    )


def make_settings(tmp_path: Path, base: Settings, store_url: str | None = None) -> Settings:
    """Settings on a store holding two crèches (93, 95) and one other record, and two accounts."""
    env = {
        "MAPAPP_DATA_DIR": str(tmp_path / "data"),
        "MAPAPP_CACHE_DIR": str(base.cache_dir),
        "MAPAPP_API_RATE_LIMIT": "0",
    }
    if store_url:
        env["MAPAPP_STORE_URL"] = store_url
    s = Settings.from_env(env)
    store = open_store(s)
    with store.writer():
        store.commit(_records(), {})
    add_user(s, "amina", PASSWORD, Role.COORDINATOR, ["dep:93"])
    add_user(s, "root", PASSWORD, Role.ADMIN)
    return s


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder made once (accounts cost two argon2 hashes), copied for each test."""
    folder = tmp_path_factory.mktemp("template")
    base = Settings.from_env({"MAPAPP_CACHE_DIR": str(_cache_dir())})
    make_settings(folder, base)
    return folder / "data"


@pytest.fixture
def rs(tmp_path: Path, settings: Settings, template: Path) -> Settings:
    shutil.copytree(template, tmp_path / "data")
    return Settings.from_env(
        {
            "MAPAPP_DATA_DIR": str(tmp_path / "data"),
            "MAPAPP_CACHE_DIR": str(settings.cache_dir),
            "MAPAPP_API_RATE_LIMIT": "0",
        }
    )


@pytest.fixture
def client(rs: Settings) -> TestClient:
    return TestClient(create_app(rs))


def sign_in(client: TestClient, name: str = "amina", password: str = PASSWORD) -> Any:
    page = client.get("/registre/connexion")
    token = TOKEN.search(page.text)
    assert token is not None
    return client.post(
        "/registre/connexion",
        data={"name": name, "password": password, "token": token.group(1)},
        follow_redirects=False,
    )


def form_token(client: TestClient, actor_id: str) -> str:
    page = client.get(f"/registre/creche/{actor_id}")
    assert page.status_code == 200, page.text
    return TOKEN.findall(page.text)[-1]


def post_change(client: TestClient, actor_id: str, token: str, **fields: str) -> Any:
    data = {"token": token, "action": "save", "places_reserved": "2", "places_free": "1"}
    data.update(fields)
    return client.post(f"/registre/creche/{actor_id}", data=data, follow_redirects=False)


def test_done_means_a_coordinator_marks_a_place_free_and_the_public_view_shows_it(
    client: TestClient, rs: Settings
) -> None:
    assert sign_in(client).status_code == 303
    before = register_stamp(rs)
    answer = post_change(
        client, C93, form_token(client, C93), ages="0-3 ans", who_may_refer="CIDFF"
    )
    assert answer.status_code == 303
    shown = free_places(rs)
    assert shown.set_index("actor_id").loc[C93, "places_free"] == 1
    assert shown.set_index("actor_id").loc[C93, "who_may_refer"] == "CIDFF"
    assert register_stamp(rs) != before  # consumers' caches see it at once
    assert {h["changed_by"] for h in history(rs, C93)} == {"amina"}
    page = client.get(answer.headers["location"])
    assert "Enregistré" in page.text and "1 libre(s) sur 2" not in page.text


def test_a_coordinator_of_the_93_cannot_change_a_crèche_of_the_95(
    client: TestClient, rs: Settings
) -> None:
    sign_in(client)
    assert client.get(f"/registre/creche/{C95}").status_code == 403
    token = form_token(client, C93)  # a valid token of her own session
    answer = post_change(client, C95, token)
    assert answer.status_code == 403
    assert "périmètre" in answer.text
    assert read_entry(rs, C95) is None and history(rs, C95) == []
    listing = client.get("/registre")
    assert "Les Lucioles" in listing.text and "Les Étoiles" not in listing.text


def test_an_admin_may_change_any_crèche(client: TestClient, rs: Settings) -> None:
    sign_in(client, "root")
    assert post_change(client, C95, form_token(client, C95)).status_code == 303
    assert read_entry(rs, C95) is not None


def test_a_coordinator_scoped_to_one_crèche_changes_only_that_one(
    client: TestClient, rs: Settings
) -> None:
    add_user(rs, "louise", PASSWORD, Role.COORDINATOR, [f"creche:{C95}"])
    sign_in(client, "louise")
    assert post_change(client, C95, form_token(client, C95)).status_code == 303
    assert client.get(f"/registre/creche/{C93}").status_code == 403


def test_a_record_that_is_not_a_crèche_cannot_get_reserved_places(
    client: TestClient, rs: Settings
) -> None:
    sign_in(client, "root")
    token = form_token(client, C93)
    assert post_change(client, "t:cidff-93", token).status_code == 404
    assert read_entry(rs, "t:cidff-93") is None


def test_a_signed_out_visitor_cannot_change_anything(client: TestClient, rs: Settings) -> None:
    page = client.get(f"/registre/creche/{C93}", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/registre/connexion")
    # Even with a token a signed-in coordinator was given (stolen from her page).
    other = TestClient(create_app(rs))
    sign_in(other)
    stolen = form_token(other, C93)
    answer = post_change(client, C93, stolen)
    assert answer.status_code == 401
    assert read_entry(rs, C93) is None
    # A made-up session cookie is no better.
    client.cookies.set("mapapp_registre", "forged.0000", path="/registre")
    assert post_change(client, C93, stolen).status_code == 401
    assert read_entry(rs, C93) is None


def test_a_forged_request_is_refused(client: TestClient, rs: Settings) -> None:
    sign_in(client)
    assert post_change(client, C93, "").status_code == 403
    assert post_change(client, C93, "made-up-token").status_code == 403
    # A token of another session (another coordinator's page) is refused too.
    other = TestClient(create_app(rs))
    sign_in(other)
    assert post_change(client, C93, form_token(other, C93)).status_code == 403
    assert read_entry(rs, C93) is None


def test_a_replayed_request_is_refused(client: TestClient, rs: Settings) -> None:
    sign_in(client)
    token = form_token(client, C93)
    assert post_change(client, C93, token, places_free="1").status_code == 303
    replay = post_change(client, C93, token, places_free="0")
    assert replay.status_code == 403
    entry = read_entry(rs, C93)
    assert entry is not None and entry.places_free == 1


def test_a_post_from_another_site_is_refused(client: TestClient, rs: Settings) -> None:
    sign_in(client)
    token = form_token(client, C93)
    answer = client.post(
        f"/registre/creche/{C93}",
        data={"token": token, "places_reserved": "1", "places_free": "1"},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert answer.status_code == 403
    cross_site = client.post(
        f"/registre/creche/{C93}",
        data={"token": token, "places_reserved": "1", "places_free": "1"},
        headers={"Sec-Fetch-Site": "cross-site", "Origin": "null"},
        follow_redirects=False,
    )
    assert cross_site.status_code == 403
    assert read_entry(rs, C93) is None


def test_the_sign_in_form_itself_needs_its_token(client: TestClient) -> None:
    client.get("/registre/connexion")
    answer = client.post(
        "/registre/connexion",
        data={"name": "amina", "password": PASSWORD, "token": "made-up"},
        follow_redirects=False,
    )
    assert answer.status_code == 403
    assert "mapapp_registre=" not in answer.headers.get("set-cookie", "")


def _timed_failure(client: TestClient, name: str) -> tuple[float, int, str]:
    page = client.get("/registre/connexion")
    token = TOKEN.search(page.text)
    assert token is not None
    started = time.perf_counter()
    answer = client.post(
        "/registre/connexion",
        data={"name": name, "password": "wrong password here", "token": token.group(1)},
        follow_redirects=False,
    )
    elapsed = time.perf_counter() - started
    return elapsed, answer.status_code, TOKEN.sub("", answer.text)


def test_a_wrong_password_gets_the_same_slow_answer_whether_the_account_exists(
    client: TestClient,
) -> None:
    exists = [_timed_failure(client, "amina") for _ in range(2)]
    missing = [_timed_failure(client, "nobody-here") for _ in range(2)]
    assert {status for _, status, _ in exists + missing} == {401}
    assert len({body for _, _, body in exists + missing}) == 1  # word for word
    times_exists = [s for s, _, _ in exists]
    times_missing = [s for s, _, _ in missing]
    assert min(times_exists + times_missing) >= FAIL_SECONDS
    assert abs(statistics.median(times_exists) - statistics.median(times_missing)) < 0.4


def test_an_unknown_account_costs_a_password_check_too(rs: Settings) -> None:
    """Without the page's padding: a missing account still verifies a (dummy) hash."""
    authenticate(rs, "amina", "warm-up wrong")
    authenticate(rs, "nobody", "warm-up wrong")

    def cost(name: str) -> float:
        started = time.process_time()
        assert authenticate(rs, name, "wrong password here") is None
        return time.process_time() - started

    existing = statistics.median(cost("amina") for _ in range(3))
    missing = statistics.median(cost("nobody") for _ in range(3))
    assert missing > 0.5 * existing


def test_the_password_is_stored_as_an_argon2_hash(rs: Settings) -> None:
    rows = open_register(rs).query(
        "SELECT password_hash FROM mapapp_reserved_users WHERE name = %s", ("amina",)
    )
    assert rows[0][0].startswith("$argon2id$") and PASSWORD not in rows[0][0]
    assert authenticate(rs, "amina", PASSWORD) is not None
    assert authenticate(rs, "AMINA ", PASSWORD) is not None  # names are case-insensitive


def test_an_expired_session_is_refused_by_the_server(client: TestClient, rs: Settings) -> None:
    sign_in(client)
    token = form_token(client, C93)
    with open_register(rs).transaction() as tx:
        tx.execute("UPDATE mapapp_reserved_sessions SET expires_at = %s", (now_iso(),))
    page = client.get(f"/registre/creche/{C93}", follow_redirects=False)
    assert page.status_code == 303 and "connexion" in page.headers["location"]
    assert post_change(client, C93, token).status_code == 401
    assert read_entry(rs, C93) is None


def test_signing_out_ends_the_session_even_if_the_cookie_is_kept(
    client: TestClient, rs: Settings
) -> None:
    sign_in(client)
    kept = client.cookies.get("mapapp_registre")
    listing = client.get("/registre")
    out = client.post(
        "/registre/deconnexion",
        data={"token": TOKEN.findall(listing.text)[0]},
        follow_redirects=False,
    )
    assert out.status_code == 303
    client.cookies.set("mapapp_registre", str(kept), path="/registre")
    token = form_token_or_none(client)
    assert token is None
    assert post_change(client, C93, "whatever").status_code == 401


def form_token_or_none(client: TestClient) -> str | None:
    page = client.get(f"/registre/creche/{C93}", follow_redirects=False)
    return None if page.status_code != 200 else TOKEN.findall(page.text)[-1]


def test_the_session_cookie_is_httponly_strict_and_scoped(client: TestClient) -> None:
    answer = sign_in(client)
    cookie = answer.headers["set-cookie"].lower()
    session = next(c for c in cookie.split(", mapapp") if c.startswith("mapapp_registre="))
    assert "httponly" in session and "samesite=strict" in session and "path=/registre" in session
    assert "max-age=28800" in session


def test_pages_escape_what_coordinators_type_and_run_no_script(
    client: TestClient, rs: Settings
) -> None:
    sign_in(client)
    post_change(client, C93, form_token(client, C93), ages='<script>alert("x")</script>')
    page = client.get(f"/registre/creche/{C93}")
    assert "<script" not in page.text and "&lt;script&gt;" in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src" not in csp and "default-src 'none'" in csp  # no script may run at all
    assert page.headers["cache-control"] == "no-store" and page.headers["x-frame-options"] == "DENY"


def test_english_pages_and_clear_errors(client: TestClient) -> None:
    assert "Sign in" in client.get("/registre/connexion?lang=en").text
    sign_in(client)
    answer = post_change(client, C93, form_token(client, C93), places_free="5")
    assert answer.status_code == 422
    assert "plus de places libres que de places réservées" in answer.text


def test_sign_in_attempts_are_limited_per_account_even_with_the_right_password(
    client: TestClient,
) -> None:
    from mapapp.web.reserved import SignInLimits

    for _ in range(SignInLimits.PER_NAME_BURST):
        assert sign_in(client, "amina", "wrong password here").status_code == 401
    blocked = sign_in(client, "amina")  # the right password, too late
    assert blocked.status_code == 429 and "attendez quelques minutes" in blocked.text
    assert "mapapp_registre=" not in blocked.headers.get("set-cookie", "")
    # Another account from the same client is not locked out by her name.
    assert sign_in(client, "root").status_code == 303
