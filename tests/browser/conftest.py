"""Fixtures of the browser suite: one app server per session, one Chromium, fresh contexts.

* ``app_server``: the app with the hostile store and no tile layer
  (``MAPAPP_TILES=none``); ``tiles_server``: the same with the default tile
  server, for the outbound-hosts test.  Started once per session.
* ``browser``: one headless Chromium (Debian's ``/usr/bin/chromium``) per session.
* ``session`` / ``desktop_session``: a fresh context (empty storage) and a
  recorded page, phone-sized or desktop-sized.

Chromium missing: the tests are skipped, except where ``CI`` is set, where
they fail (CI installs it: ``tools/test.sh``).  The suite's figures are
printed at the end of the run (``SAFETY: ...``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from .harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    FIGURES,
    AppServer,
    Recorder,
    build_test_store,
    count_hosts,
    start_app,
)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if FIGURES.maps_checked or FIGURES.payloads_tried or FIGURES.hosts or FIGURES.bytes_scanned:
        terminalreporter.write_sep("=", "browser safety figures")
        terminalreporter.write_line(FIGURES.line())
        for note in FIGURES.notes:
            terminalreporter.write_line(f"SAFETY-NOTE: {note}")


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is absent: install Debian's 'chromium' package (tools/test.sh does)"
    if os.environ.get("CI"):
        pytest.fail(message + " and CI is set: the browser tests must run in CI")
    pytest.skip(message)


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The app with the hostile store, no tile layer (``MAPAPP_TILES=none``)."""
    _require_chromium()
    work = tmp_path_factory.mktemp("app")
    build_test_store(work / "data")
    server = start_app(work, tiles="none", data_dir=work / "data")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tiles_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The app with the default tile server (for the outbound-hosts test)."""
    _require_chromium()
    from mapapp.settings import DEFAULT_TILES

    work = tmp_path_factory.mktemp("app-tiles")
    build_test_store(work / "data")
    server = start_app(work, tiles=DEFAULT_TILES, data_dir=work / "data")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole run (tests get fresh contexts)."""
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _recorded(browser: Any, width: int, height: int) -> Iterator[Recorder]:
    context = browser.new_context(
        viewport={"width": width, "height": height},
        locale="fr-FR",
        accept_downloads=True,
        service_workers="block",
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    rec = Recorder(page)
    rec.attach()
    yield rec
    count_hosts(rec)
    context.close()


@pytest.fixture
def session(browser: Any) -> Iterator[Recorder]:
    """A fresh browser context and page (phone-sized), recorded."""
    yield from _recorded(browser, 390, 844)


@pytest.fixture
def desktop_session(browser: Any) -> Iterator[Recorder]:
    """Like :func:`session`, on a desktop-sized window."""
    yield from _recorded(browser, 1280, 900)
