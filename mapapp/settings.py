"""Typed settings, read from the environment when asked, never at import time.

Why: the core is used from the CLI, the Streamlit app, notebooks and tests;
each passes a :class:`Settings` down explicitly so a test can point the store
at a temporary folder without touching global state.

Environment variables
---------------------
``MAPAPP_DATA_DIR``
    Folder of the store (GeoParquet files, import reports, quarantine).
    Default: ``$XDG_DATA_HOME/mapapp`` (``~/.local/share/mapapp``).
``MAPAPP_CACHE_DIR``
    Folder of derived caches (reference geography as GeoParquet, geocoder
    cache).  Default: ``$XDG_CACHE_HOME/mapapp`` (``~/.cache/mapapp``).
``MAPAPP_REALDATA``
    Folder of the real public samples used by tests and benchmarks.
    Default: ``../shared/realdata`` next to the project, when it exists.
``MAPAPP_TILES``
    Map tile URL template, or ``none`` for maps without a tile layer.
    Default: OpenStreetMap's standard tiles.
``MAPAPP_STORE_URL``
    A ``postgresql://`` URL to use PostGIS instead of GeoParquet files.
``MAPAPP_API_CORS_ORIGINS``
    Comma-separated origins whose pages may call the REST API from a browser.
    Default: none (CORS closed).
``MAPAPP_API_RATE_LIMIT``
    Requests per minute allowed to one client of the REST API (``0``: no
    limit, for a deployment whose proxy limits already).  Default: 120.

Examples
--------
>>> s = Settings.from_env({"MAPAPP_DATA_DIR": "/tmp/x", "MAPAPP_TILES": "none"})
>>> str(s.data_dir), s.tiles
('/tmp/x', None)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["DEFAULT_TILES", "PROJECT_ROOT", "Settings"]

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
DEFAULT_TILES_ATTRIBUTION = "© OpenStreetMap contributors"


def _xdg(env: Mapping[str, str], var: str, fallback: str) -> Path:
    base = env.get(var) or str(Path(env.get("HOME", str(Path.home()))) / fallback)
    return Path(base) / "mapapp"


@dataclass(frozen=True)
class Settings:
    """Where mapapp reads and writes, and which outside services it may use."""

    data_dir: Path
    cache_dir: Path
    realdata_dir: Path | None = None
    tiles: str | None = DEFAULT_TILES
    tiles_attribution: str = DEFAULT_TILES_ATTRIBUTION
    store_url: str | None = None
    geocoder_domain: str = "data.geopf.fr/geocodage"
    api_cors_origins: tuple[str, ...] = ()
    api_rate_limit: float = 120.0
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read settings from ``env`` (default: ``os.environ``)."""
        env = os.environ if env is None else env
        data_dir = Path(env["MAPAPP_DATA_DIR"]) if env.get("MAPAPP_DATA_DIR") else None
        cache_dir = Path(env["MAPAPP_CACHE_DIR"]) if env.get("MAPAPP_CACHE_DIR") else None
        realdata: Path | None
        if env.get("MAPAPP_REALDATA"):
            realdata = Path(env["MAPAPP_REALDATA"])
        else:
            candidate = PROJECT_ROOT.parent / "shared" / "realdata"
            realdata = candidate if candidate.is_dir() else None
        tiles_raw = env.get("MAPAPP_TILES", DEFAULT_TILES).strip()
        tiles = None if tiles_raw.lower() in {"", "none", "off"} else tiles_raw
        return cls(
            data_dir=data_dir or _xdg(env, "XDG_DATA_HOME", ".local/share"),
            cache_dir=cache_dir or _xdg(env, "XDG_CACHE_HOME", ".cache"),
            realdata_dir=realdata,
            tiles=tiles,
            tiles_attribution=env.get("MAPAPP_TILES_ATTRIBUTION", DEFAULT_TILES_ATTRIBUTION),
            store_url=env.get("MAPAPP_STORE_URL") or None,
            geocoder_domain=env.get("MAPAPP_GEOCODER_DOMAIN", "data.geopf.fr/geocodage"),
            api_cors_origins=tuple(
                o.strip() for o in env.get("MAPAPP_API_CORS_ORIGINS", "").split(",") if o.strip()
            ),
            api_rate_limit=_rate(env.get("MAPAPP_API_RATE_LIMIT", "120")),
        )


def _rate(text: str) -> float:
    """Requests per minute from ``MAPAPP_API_RATE_LIMIT`` (a clear error when not a number)."""
    from mapapp.errors import ConfigurationError

    try:
        value = float(text)
    except ValueError:
        raise ConfigurationError(
            f"MAPAPP_API_RATE_LIMIT={text!r} is not a number; give requests per minute, or 0"
        ) from None
    if value < 0 or value != value:
        raise ConfigurationError("MAPAPP_API_RATE_LIMIT must be 0 (no limit) or positive")
    return value
