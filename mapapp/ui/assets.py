"""Serve Leaflet from the app itself, so a map loads no script from a CDN.

Why a component: Streamlit serves the files of a declared component folder at
``<base>/component/<name>/<file>`` even with ``server.enableStaticServing``
off.  The map iframe of ``streamlit-folium`` lives at
``<base>/component/streamlit_folium.st_folium/index.html``, so a *relative*
URL (``../<name>/leaflet``) reaches our folder under any ``server.baseUrlPath``.
The component is declared at import time (declaring it during a script run is
deprecated) and never rendered: only its files are used.
"""

from __future__ import annotations

from pathlib import Path

import streamlit.components.v1 as components

__all__ = ["LEAFLET_DIR", "leaflet_base"]

_STATIC = Path(__file__).resolve().parent / "static"
#: Vendored Leaflet (see its README.md for the version and licence).
LEAFLET_DIR = _STATIC / "leaflet"

_COMPONENT = components.declare_component("static", path=str(_STATIC))
_NAME = f"{__name__}.static"


def leaflet_base() -> str:
    """URL folder of ``leaflet.js``/``leaflet.css``, relative to the map iframe."""
    return f"../{_NAME}/leaflet"
