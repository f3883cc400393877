"""The app's pages show the register as it is now: a change appears on the next run (AppTest).

The app caches the public records and the coverage figures on the store's
stamp, which includes the register's (:func:`mapapp.catalog.store_stamp`):
a coordinator's change must be on the coordinator's page at the next click,
well within the minute the issue allows.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from mapapp.reserved.register import apply_change
from mapapp.settings import Settings
from mapapp.store import open_store
from tests.test_reserved_view import PARTNER, _actors

pytestmark = pytest.mark.slow  # runs the coverage page headless

APP = str(Path(__file__).parent / "fixtures" / "coverage" / "app_coverage.py")


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_coverage_page_counts_reserved_places_and_follows_a_change(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(settings)
    with store.writer():
        store.commit(_actors(), {})
    apply_change(
        settings, "t:free", {"partner": PARTNER, "places_reserved": 2, "places_free": 1}, by="a"
    )
    monkeypatch.setenv("MAPAPP_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("MAPAPP_CACHE_DIR", str(settings.cache_dir))
    monkeypatch.setenv("MAPAPP_TILES", "none")
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    next(w for w in at.selectbox if w.label == "Territoire").set_value("departement:93")
    next(w for w in at.multiselect if w.label == "Frein(s)").set_value(["garde-enfants"])
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert _metric(at, "Crèches partenaires") == "1"
    assert (_metric(at, "Places réservées"), _metric(at, "Places libres")) == ("2", "1")
    assert any("population totale" in c.value for c in at.caption)
    # the two other crèches are 0.7 and 0.9 km from the partner: within reach, nothing to propose
    assert any("Personne n'est hors de portée" in i.value for i in at.info)

    apply_change(settings, "t:full", {"places_reserved": 3, "places_free": 2}, by="a")
    at.run()  # the coordinator's next click
    assert not at.exception, [e.value for e in at.exception]
    assert _metric(at, "Crèches partenaires") == "2"
    assert (_metric(at, "Places réservées"), _metric(at, "Places libres")) == ("5", "3")
    page = "\n".join(str(e.value) for e in at.markdown) + str([d.value for d in at.dataframe])
    assert PARTNER not in page


def test_search_page_filter_and_line_follow_the_register(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Done means: a coordinator marks a place free; the social worker's next search shows it."""
    store = open_store(settings)
    with store.writer():
        store.commit(_actors(), {})
    apply_change(settings, "t:free", {"partner": PARTNER, "places_reserved": 2}, by="a")
    monkeypatch.setenv("MAPAPP_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("MAPAPP_CACHE_DIR", str(settings.cache_dir))
    monkeypatch.setenv("MAPAPP_TILES", "none")
    app = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
    at = AppTest.from_file(app, default_timeout=180)
    at.run()

    def search() -> str:
        if any(b.key == "edit_search" for b in at.button):  # the form folds after a search
            at.button(key="edit_search").click().run()
        at.text_input(key="f_place").input("93200")
        at.button_group(key="f_obstacles").set_value(["garde-enfants"])
        at.checkbox(key="f_reserved_free").check()
        next(b for b in at.button if b.proto.is_form_submitter).click().run()
        assert not at.exception, [e.value for e in at.exception]
        return "\n".join(m.value for m in at.markdown)

    page = search()
    assert "Crèche Libre" not in page  # reserved, but none free yet
    apply_change(settings, "t:free", {"places_free": 1}, by="a")
    page = search()
    assert "Crèche Libre" in page and "Crèche Proche" not in page
    assert "1 place réservée libre" in page
    assert PARTNER not in page
