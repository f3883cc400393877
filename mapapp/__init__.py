"""mapapp: a map of the actors who help people back to work, by obstacle.

The public API is re-exported here and imported lazily, so ``import mapapp``
(and the ``mapapp`` command's ``--help``) stay instant.

Examples
--------
>>> import mapapp
>>> mapapp.Obstacle.MOBILITE.label("en")
'Mobility'
>>> sorted(mapapp.__all__)[:3]
['ActorType', 'Geography', 'MapappError']
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "ActorType": "mapapp.taxonomy",
    "Obstacle": "mapapp.taxonomy",
    "obstacles_for_thematiques": "mapapp.taxonomy",
    "actors_frame": "mapapp.schema",
    "validate_actors": "mapapp.schema",
    "Settings": "mapapp.settings",
    "MapappError": "mapapp.errors",
    "Geography": "mapapp.geo.communes",
    "load_geography": "mapapp.geo.communes",
    "analysis_units": "mapapp.geo.communes",
    "Place": "mapapp.geo.places",
    "resolve_place": "mapapp.geo.places",
    "suggest_places": "mapapp.geo.places",
    "SearchIndex": "mapapp.search",
    "SearchQuery": "mapapp.search",
    "PublicActors": "mapapp.catalog",
    "load_public_actors": "mapapp.catalog",
    "Territory": "mapapp.coverage",
    "coverage_analysis": "mapapp.coverage",
    "distance_matrix": "mapapp.coverage",
    "nearest_service": "mapapp.coverage",
    "accessibility_matrix": "mapapp.coverage",
    "suggest_sites": "mapapp.coverage",
    "ingest": "mapapp.ingest",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mapapp' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
