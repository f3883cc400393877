"""The hardened configuration, as the running app serves it; emergency numbers on every view.

``tests/test_config_hardening.py`` reads the file; this module checks what a
browser actually gets from the app started with it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from . import appdriver as drv
from .harness import AppServer, Recorder

pytestmark = pytest.mark.browser

VIEWS = ("", "securite", "couverture")


def _get(url: str, *, method: str = "GET", data: bytes | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, method=method, data=data)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


def test_no_static_files_are_served(app_server: AppServer) -> None:
    status, body = _get(f"{app_server.url}/app/static/streamlit_app.py")
    _, index = _get(f"{app_server.url}/")
    # Streamlit answers unknown paths with its page, never with a file.
    assert status == 404 or body == index


def test_uploads_need_the_xsrf_token(app_server: AppServer) -> None:
    status, _ = _get(f"{app_server.url}/_stcore/upload_file/x/y", method="PUT", data=b"x")
    assert status == 403


def test_no_other_site_may_drive_the_app_from_a_frame(app_server: AppServer) -> None:
    _, body = _get(f"{app_server.url}/_stcore/host-config")
    origins = json.loads(body).get("allowedOrigins")
    assert origins == [], f"these sites may embed and drive the app (postMessage): {origins}"


def test_agent_api_is_off(app_server: AppServer) -> None:
    status, _ = _get(f"{app_server.url}/_stcore/agent/interact", method="POST", data=b"{}")
    assert status in {403, 404, 405}


def test_viewer_menu_has_no_developer_options(app_server: AppServer, session: Recorder) -> None:
    page = session.page
    drv.open_app(page, app_server.url)
    assert page.get_by_test_id("stAppDeployButton").count() == 0
    menu = page.get_by_test_id("stMainMenuButton")
    if menu.count():
        menu.click()
        items = (
            page.get_by_test_id("stMainMenuList").inner_text()
            if page.get_by_test_id("stMainMenuList").count()
            else page.inner_text("body")
        )
        for developer in ("Rerun", "Clear cache", "Deploy", "Relancer", "Vider le cache"):
            assert developer not in items


@pytest.mark.parametrize("view", VIEWS)
def test_emergency_numbers_on_every_view_as_links(
    app_server: AppServer, session: Recorder, view: str
) -> None:
    page = session.page
    drv.open_app(page, app_server.url, view)
    if view and not page.url.rstrip("/").endswith(view):
        pytest.skip(f"the app has no '{view}' view")
    for href in drv.EMERGENCY_HREFS:
        link = page.locator(f'a[href="{href}"]').first
        assert link.count() == 1, f"{href} missing on view '{view or 'accueil'}'"
        assert link.is_visible()
    # 3919 is on the first screen of a phone, without scrolling.
    box = page.locator('a[href="tel:3919"]').first.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 844
