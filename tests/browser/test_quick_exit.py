"""Quick exit (DOMAIN.md safety rule 3), in a real browser.

One action, by click or by keyboard, must: show a neutral site, leave no way
Back to the app, and leave none of the app's keys in the browser's storage.
The control must be first in keyboard order and visible on a phone, on every
view.
"""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import urlsplit

import pytest

from . import appdriver as drv
from .harness import AppServer, Recorder

pytestmark = pytest.mark.browser

VIEWS = ("", "securite", "couverture")
_APP_KEY = "mapapp-test-key"


def _views(server: AppServer, page: Any) -> list[str]:
    """The app's views that exist (the coverage page may not be installed)."""
    drv.open_app(page, server.url)
    hrefs = page.evaluate("Array.from(document.querySelectorAll('a')).map(a => a.href)")
    return [v for v in VIEWS if not v or any(h.rstrip("/").endswith("/" + v) for h in hrefs)]


@pytest.mark.parametrize("view", VIEWS)
def test_quick_exit_first_in_keyboard_order_and_visible_on_a_phone(
    app_server: AppServer, session: Recorder, view: str
) -> None:
    page = session.page
    if view not in _views(app_server, page):
        pytest.skip(f"the app has no '{view}' view")
    drv.open_app(page, app_server.url, view)
    control = page.locator(f"#{drv.QUICK_EXIT_ID}")
    assert control.inner_text().strip() == drv.QUICK_EXIT_NAME
    assert page.get_by_role("link", name=drv.QUICK_EXIT_NAME).count() == 1
    # Visible, inside a 390 x 844 phone screen, without scrolling.
    box = control.bounding_box()
    assert box is not None and control.is_visible()
    assert box["x"] >= 0 and box["y"] >= 0
    assert box["x"] + box["width"] <= 390 and box["y"] + box["height"] <= 844
    # Not covered by anything else at its centre.
    on_top = page.evaluate(
        "([x, y]) => document.elementFromPoint(x, y)?.closest('#mapapp-quick-exit') !== null",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )
    assert on_top, "the quick exit is hidden under another element"
    # First in keyboard order: one Tab from a fresh page lands on it.
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == drv.QUICK_EXIT_ID


def _prepare(server: AppServer, session: Recorder) -> Any:
    """Open the app, search (so there is something to hide), store a test key."""
    context = session.page.context
    drv.route_neutral_site(context)
    session.expected_hosts.add(urlsplit(drv.NEUTRAL_PREFIX).hostname or "")
    page = session.page
    drv.open_app(page, server.url)
    drv.search(page, "Voiron")
    page.evaluate(
        "k => { localStorage.setItem(k, 'x'); sessionStorage.setItem(k, 'x'); }", _APP_KEY
    )
    before = drv.storage_items(context, page, server.url)
    assert any(k == _APP_KEY for k, _ in before["local"]), "the test key was not stored"
    return page


def _assert_exited(server: AppServer, session: Recorder) -> None:
    page = session.page
    page.wait_for_url(f"{drv.NEUTRAL_PREFIX}**", timeout=10_000)
    assert "Prévisions météo" in page.inner_text("body")
    assert page.title() == "Météo"
    # Nothing of the app left in this browser's storage or cookies.
    left = drv.storage_items(page.context, page, server.url)
    assert left == {"local": [], "session": []}, f"storage left after exit: {left}"
    cookies = page.context.cookies(server.url)
    assert cookies == [], f"cookies left after exit: {[c['name'] for c in cookies]}"
    # Back never returns to the app (whatever the number of presses).
    app_host = urlsplit(server.url).netloc
    for _ in range(3):
        # Nothing to go back to (an error or a no-op) is fine.
        with contextlib.suppress(Exception):
            page.go_back(wait_until="commit", timeout=5_000)
        page.wait_for_timeout(300)
        assert urlsplit(page.url).netloc != app_host, f"Back returned to the app: {page.url}"


def test_quick_exit_by_click(app_server: AppServer, session: Recorder) -> None:
    page = _prepare(app_server, session)
    page.get_by_role("link", name=drv.QUICK_EXIT_NAME).click()
    _assert_exited(app_server, session)


def test_quick_exit_by_keyboard_tab_enter(app_server: AppServer, session: Recorder) -> None:
    """A keyboard user arriving on the page: Tab, Enter."""
    drv.route_neutral_site(session.page.context)
    session.expected_hosts.add(urlsplit(drv.NEUTRAL_PREFIX).hostname or "")
    page = session.page
    drv.open_app(page, app_server.url)
    page.evaluate("k => localStorage.setItem(k, 'x')", _APP_KEY)
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    _assert_exited(app_server, session)


def test_quick_exit_by_keyboard_after_a_search(app_server: AppServer, session: Recorder) -> None:
    """After a search, focus moved back to the control (Shift+Tab...), then Enter."""
    page = _prepare(app_server, session)
    page.focus(f"#{drv.QUICK_EXIT_ID}")
    page.keyboard.press("Enter")
    _assert_exited(app_server, session)


def test_quick_exit_by_shortcut(app_server: AppServer, session: Recorder) -> None:
    page = _prepare(app_server, session)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    for _ in range(3):
        page.keyboard.press("Shift")
    _assert_exited(app_server, session)


def test_quick_exit_after_moving_between_views(
    app_server: AppServer, desktop_session: Recorder
) -> None:
    """Views reached inside the app must not stay behind the neutral site in history."""
    session = desktop_session
    page = _prepare(app_server, session)
    page.get_by_role("link", name="Naviguer en sécurité").first.click()
    page.wait_for_url("**/securite")
    drv.wait_idle(page)
    page.get_by_role("link", name="Rechercher").first.click()
    page.wait_for_url(lambda u: not u.rstrip("/").endswith("securite"))
    drv.wait_idle(page)
    page.get_by_role("link", name=drv.QUICK_EXIT_NAME).click()
    _assert_exited(app_server, session)


def test_exit_leaves_no_search_to_restore(app_server: AppServer, session: Recorder) -> None:
    """Opening the app again after an exit shows an empty form, not her search."""
    page = _prepare(app_server, session)
    page.get_by_role("link", name=drv.QUICK_EXIT_NAME).click()
    page.wait_for_url(f"{drv.NEUTRAL_PREFIX}**")
    again = page.context.new_page()
    drv.open_app(again, app_server.url)
    assert drv.place_box(again).input_value() == ""
    assert "Voiron" not in again.inner_text("body")


def test_safety_page_tells_what_the_exit_cannot_erase(
    app_server: AppServer, session: Recorder
) -> None:
    page = session.page
    drv.open_app(page, app_server.url, "securite")
    text = page.inner_text("body").lower()
    for words in ("historique", "appels", "navigation privée"):
        assert words in text, f"the safety page does not mention '{words}'"
