"""The app's caches follow what they depend on: the store's version and the settings given.

Before issue 18 the coverage page keyed its analysis on ``id()`` of the
catalogue (an address Python reuses once the old catalogue is dropped) and
its cached functions read the environment again instead of their arguments.
These tests call the cached functions as the pages do, outside a Streamlit
run (Streamlit caches work in bare mode).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mapapp.coverage import Territory, coverage_analysis
from mapapp.geo.communes import Geography
from mapapp.safety import public_view
from mapapp.schema import actors_frame
from mapapp.settings import Settings
from mapapp.store import ParquetStore, demo_actors
from mapapp.ui import coverage_page, resources

_PARAMS = coverage_page._Params(
    obstacles=("garde-enfants",),
    types=(),
    match="any",
    territory="departement:38",
    radius_km=10.0,
    measure="distance",
    catchment_km=10.0,
    compare="",
    suggest_n=0,
)


def _records(n: int) -> list[dict[str, object]]:
    """``n`` crèches in the Isère (distinct points), none in the demo data's places."""
    return [
        {
            "id": f"t:{i}",
            "nom": f"Crèche {i}",
            "obstacles": ["garde-enfants"],
            "latitude": 45.0 + i / 50,
            "longitude": 5.5 + i / 50,
            "code_insee": "38185",
        }
        for i in range(n)
    ]


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment points at another, empty store: a cached function reading it is wrong."""
    monkeypatch.setenv("MAPAPP_DATA_DIR", str(tmp_path / "not-this-one"))
    monkeypatch.setenv("MAPAPP_CACHE_DIR", str(tmp_path / "nor-this-cache"))


@pytest.mark.slow
def test_analysis_follows_the_settings_given_not_the_environment(
    settings: Settings, geo: Geography, elsewhere: None
) -> None:
    ParquetStore(settings.data_dir).write_actors(actors_frame(_records(3)))
    res = coverage_page.analysis(settings, _PARAMS)
    assert int(res.summary["services"]) == 3  # the demo data (env's empty store) has none here
    assert resources.public(settings).is_demo is False
    assert not (Path(str(settings.data_dir)).parent / "nor-this-cache").exists()


@pytest.mark.slow
def test_analysis_follows_each_import(settings: Settings, geo: Geography) -> None:
    store = ParquetStore(settings.data_dir)
    counts = []
    for n in (1, 4, 2, 5):  # more versions than the caches hold (2 catalogues)
        store.write_actors(actors_frame(_records(n)))
        res = coverage_page.analysis(settings, _PARAMS)
        expected = coverage_analysis(
            public_view(actors_frame(_records(n)), geo.communes),
            geo.communes,
            territory=Territory.parse("departement", "38"),
            obstacles=("garde-enfants",),
            radius_km=10.0,
        )
        assert res.summary.equals(expected.summary)
        counts.append(int(res.summary["services"]))
    assert counts == [1, 4, 2, 5]


@pytest.mark.slow
def test_two_stores_never_share_an_entry(tmp_path: Path, settings: Settings) -> None:
    other = Settings.from_env(
        {
            "MAPAPP_DATA_DIR": str(tmp_path / "other"),
            "MAPAPP_CACHE_DIR": str(settings.cache_dir),
        }
    )
    ParquetStore(settings.data_dir).write_actors(actors_frame(_records(2)))
    ParquetStore(other.data_dir).write_actors(actors_frame(_records(3)))
    assert resources.store_key(settings) != resources.store_key(other)
    assert len(resources.catalog(settings).actors) == 2
    assert len(resources.catalog(other).actors) == 3
    assert len(resources.public(settings).actors) == 2


@pytest.mark.slow
def test_empty_store_shows_the_demo(settings: Settings) -> None:
    assert resources.catalog(settings).is_demo
    assert len(resources.catalog(settings).actors) == len(demo_actors())
