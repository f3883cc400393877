"""No third party learns someone uses the app (DOMAIN.md safety rule 2), in a real browser.

During a session the browser may contact only the app and, when one is
configured, the map-tile server.  Every request of every frame (page, map
iframe, component iframes) is recorded; the test machine has no internet, so
requests to other hosts fail, but they are *attempted* and recorded all the
same, which is what matters here.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from mapapp.settings import DEFAULT_TILES

from . import appdriver as drv
from .harness import ALLOWED_HOSTS_NO_TILES, AppServer, Recorder

pytestmark = pytest.mark.browser

TILE_HOST = urlsplit(DEFAULT_TILES.replace("{s}.", "")).hostname or ""


def _tour(page: Any, server: AppServer, *, background: bool = False) -> None:
    """Every view, a search with results and the map drawn (its background if asked)."""
    drv.open_app(page, server.url)
    drv.search(page, "Grenoble", expect=10)
    drv.map_frame(page, markers=11)
    if background:
        drv.map_background_on(page)
        drv.map_frame(page, markers=11)
    page.wait_for_timeout(1_000)  # let the map ask for its tiles
    drv.open_app(page, server.url, "securite")
    drv.open_app(page, server.url, "couverture")


def test_without_tiles_only_the_app_is_contacted(
    app_server: AppServer, desktop_session: Recorder
) -> None:
    _tour(desktop_session.page, app_server)
    hosts = set(desktop_session.hosts)
    assert hosts, "no request recorded: the recorder is broken"
    assert hosts <= ALLOWED_HOSTS_NO_TILES, (
        f"third-party hosts contacted: {hosts - ALLOWED_HOSTS_NO_TILES}"
    )


def test_no_tile_request_until_she_asks(tiles_server: AppServer, session: Recorder) -> None:
    """Every view, a search, the map opened: still nothing to the tile server."""
    _tour(session.page, tiles_server)
    assert TILE_HOST not in set(session.hosts), "tiles were fetched before she asked"


def test_the_switch_loads_the_background(tiles_server: AppServer, session: Recorder) -> None:
    page = session.page
    drv.open_app(page, tiles_server.url)
    drv.search(page, "Grenoble", expect=10)
    drv.map_frame(page, markers=11)
    drv.map_background_on(page)
    drv.map_frame(page, markers=11)
    page.wait_for_timeout(1_000)
    assert TILE_HOST in set(session.hosts), "the switch did not load the background"


def test_with_default_tiles_only_the_tile_server_is_added(
    tiles_server: AppServer, desktop_session: Recorder
) -> None:
    desktop_session.allowed_hosts.add(TILE_HOST)
    _tour(desktop_session.page, tiles_server, background=True)
    hosts = set(desktop_session.hosts)
    assert TILE_HOST in hosts, "the map asked for no tile: the tiles setting is not applied"
    off_list = hosts - ALLOWED_HOSTS_NO_TILES - {TILE_HOST}
    assert not off_list, f"hosts other than the app and {TILE_HOST}: {off_list}"
    # Tile URLs carry only z/x/y: never her place or search.
    for url in desktop_session.urls:
        if urlsplit(url).hostname == TILE_HOST:
            assert not urlsplit(url).query, url
