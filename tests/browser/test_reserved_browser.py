"""The woman's light page in Chromium: a crèche with a free reserved place, who can refer her, never the partner.

Done means (issue 17): a coordinator marks a place free; a search near that
crèche shows it within the same minute.  Here the register is changed while
the server runs, and the next search, in a real browser, shows the change.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from mapapp.reserved.register import apply_change
from mapapp.settings import Settings
from mapapp.store import open_store
from tests.test_reserved_view import PARTNER, _actors

from .test_light import _search, phone, start_light

pytestmark = pytest.mark.browser

BUTTON = "Voir l'aide près de chez moi"
REFERRAL = "Demandez à une travailleuse sociale ou au CIDFF de vous orienter."


def test_free_reserved_place_shows_with_referral_and_follows_a_change(
    browser: Any, tmp_path: Path
) -> None:
    from tests.conftest import _cache_dir

    data = tmp_path / "data"
    settings = Settings.from_env(
        {"MAPAPP_DATA_DIR": str(data), "MAPAPP_CACHE_DIR": str(_cache_dir())}
    )
    store = open_store(settings)
    with store.writer():
        store.commit(_actors(), {})
    apply_change(
        settings, "t:free", {"partner": PARTNER, "places_reserved": 2, "places_free": 1}, by="alice"
    )
    server = start_light(tmp_path / "light", data)
    try:
        with phone(browser) as (rec, _net):
            page = rec.page
            page.goto(f"{server.url}/m")
            _search(page, "93200", ("Garde d'enfants",), button=BUTTON)
            card = page.locator("li", has_text="Crèche Libre")
            card.wait_for()
            assert "1 place réservée libre" in card.inner_text()
            assert REFERRAL in card.inner_text()
            # the crèche whose reserved places are all taken says nothing to her
            assert "réservée" not in page.locator("li", has_text="Crèche Complète").inner_text()
            html = page.content()
            assert PARTNER not in html and "alice" not in html

            changed = time.monotonic()
            apply_change(settings, "t:free", {"places_free": 2}, by="alice")
            # a server keeps answering from its current version while it builds the
            # next one in the background: the change shows within seconds, not at once
            text = ""
            while "2 places réservées libres" not in text and time.monotonic() - changed < 60:
                page.goto(f"{server.url}/m")
                _search(page, "93200", ("Garde d'enfants",), button=BUTTON)
                text = page.locator("li", has_text="Crèche Libre").inner_text()
            assert "2 places réservées libres" in text
            assert time.monotonic() - changed < 60
            assert PARTNER not in page.content()
        assert PARTNER not in server.log_text()
    finally:
        server.stop()
