"""The coordinators' pages in real Chromium, against ``mapapp api``'s app started as documented.

Why a browser on top of the TestClient suite: the session cookie is
``SameSite=Strict`` and the pages run under ``default-src 'none'``; only a
real browser shows that sign-in, the 303 redirects and the form still work
under those rules, that no resource is blocked, and what the browser keeps.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mapapp.reserved import free_places
from mapapp.reserved.accounts import Role, add_user
from mapapp.schema import actors_frame
from mapapp.settings import Settings
from mapapp.store import open_store

pytestmark = pytest.mark.browser

PORT = 8612  # this feature's port range: 8610-8619
PASSWORD = "correct horse battery staple"
CRECHE = "t:creche-93"


def _cache_dir() -> Path:
    return Path(os.environ.get("MAPAPP_CACHE_DIR") or Path.home() / ".cache" / "mapapp")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    work = tmp_path_factory.mktemp("registre")
    settings = Settings.from_env(
        {"MAPAPP_DATA_DIR": str(work / "data"), "MAPAPP_CACHE_DIR": str(_cache_dir())}
    )
    store = open_store(settings)
    with store.writer():
        store.commit(
            actors_frame(
                [
                    {
                        "id": CRECHE,
                        "source": "t",
                        "nom": "Crèche Les Lucioles",
                        "actor_type": "creche",
                        "code_insee": "93066",
                        "commune": "Saint-Denis",
                        "latitude": 48.936,
                        "longitude": 2.357,
                    }
                ]
            ),
            {},
        )
    add_user(settings, "amina", PASSWORD, Role.COORDINATOR, ["dep:93"])
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAPAPP_")}
    env.update(
        {
            "MAPAPP_DATA_DIR": str(settings.data_dir),
            "MAPAPP_CACHE_DIR": str(settings.cache_dir),
            "MAPAPP_TILES": "none",
        }
    )
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "mapapp.web.app:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        str(PORT),
        "--no-access-log",
    ]
    log = work / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{PORT}"
    try:
        deadline = time.time() + 120
        while True:
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("the app did not start:\n" + log.read_text(errors="replace"))
            try:
                with urllib.request.urlopen(url + "/registre/connexion", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        yield url, settings
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_a_coordinator_signs_in_marks_a_place_free_and_signs_out(
    browser: Any, server: tuple[str, Settings]
) -> None:
    url, settings = server
    context = browser.new_context(locale="fr-FR")
    context.set_default_timeout(60_000)
    page = context.new_page()
    blocked: list[str] = []
    page.on(
        "console",
        lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None,
    )
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    try:
        page.goto(url + "/registre")
        assert page.url.endswith("/registre/connexion")
        page.fill("input[name=name]", "amina")
        page.fill("input[name=password]", "wrong password here")
        page.click("button[type=submit]")
        assert "incorrect" in page.inner_text("main")
        page.fill("input[name=name]", "amina")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(url + "/registre")
        page.click("text=Modifier")
        page.fill("input[name=places_reserved]", "3")
        page.fill("input[name=places_free]", "2")
        page.fill("input[name=ages]", "0-3 ans")
        used = page.locator("form:has(input[name=places_free]) input[name=token]")
        token = used.get_attribute("value")
        page.click("text=Enregistrer")
        assert "Enregistré" in page.inner_text("main")
        shown = free_places(settings).set_index("actor_id")
        assert shown.loc[CRECHE, "places_free"] == 2
        cookies = {c["name"]: c for c in context.cookies()}
        session = cookies["mapapp_registre"]
        assert session["httpOnly"] and session["sameSite"] == "Strict"
        assert session["path"] == "/registre"
        # The same request sent again, with her cookies, is refused (its token was used).
        replay = context.request.post(
            url + f"/registre/creche/{CRECHE}",
            form={"token": str(token), "places_reserved": "3", "places_free": "0"},
            max_redirects=0,
        )
        assert replay.status == 403 and "déjà été envoyé" in replay.text()
        assert free_places(settings).set_index("actor_id").loc[CRECHE, "places_free"] == 2
        page.goto(url + "/registre")
        page.click("text=Se déconnecter")
        page.wait_for_url(url + "/registre/connexion")
        page.goto(url + f"/registre/creche/{CRECHE}")
        assert page.url.endswith("/registre/connexion")
        assert blocked == [] and failed == []  # nothing blocked by the CSP, nothing failed
    finally:
        context.close()
