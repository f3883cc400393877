"""What a coverage map or export shows: its rows, its polygons, and the key of a selection.

Why here: the app and ``mapapp coverage`` both turn one analysis into a
table at some level (communes, or départements) joined to polygons, and
both compare selections named ``"<obstacle>"`` or ``"type:<actor type>"``.
Written once, the page and the command line cannot drift apart.

Examples
--------
>>> selection_key(obstacle="garde-enfants"), selection_key(actor_type="creche")
('garde-enfants', 'type:creche')
>>> parse_selection_key("type:creche"), parse_selection_key("mobilite")
(((), ('creche',)), (('mobilite',), ()))
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import geopandas as gpd
import pandas as pd

from mapapp.coverage.analysis import CoverageAnalysis
from mapapp.coverage.territory import territory_units
from mapapp.geo.communes import analysis_units
from mapapp.geo.shapes import departement_shapes
from mapapp.taxonomy import parse_actor_type, parse_obstacle

__all__ = [
    "TYPE_PREFIX",
    "Level",
    "level_shapes",
    "level_table",
    "map_rows",
    "parse_selection_key",
    "selection_key",
]

Level = Literal["commune", "departement"]
#: Prefix of a selection key naming an actor type rather than an obstacle.
TYPE_PREFIX = "type:"


def selection_key(*, obstacle: str | None = None, actor_type: str | None = None) -> str:
    """The key of a one-obstacle or one-type selection (give exactly one)."""
    if (obstacle is None) == (actor_type is None):
        raise ValueError("give an obstacle or an actor type")
    if obstacle is not None:
        return parse_obstacle(obstacle).value
    return TYPE_PREFIX + parse_actor_type(str(actor_type)).value


def parse_selection_key(key: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(obstacles, types)`` of a key made by :func:`selection_key` (checked)."""
    if key.startswith(TYPE_PREFIX):
        return (), (parse_actor_type(key.removeprefix(TYPE_PREFIX)).value,)
    return (parse_obstacle(key).value,), ()


def level_table(result: CoverageAnalysis, level: Level | str) -> pd.DataFrame:
    """The analysis' rows at ``level``: one per commune, or one per département."""
    return result.departements if level == "departement" else result.table


def level_shapes(level: Level | str, communes: gpd.GeoDataFrame, cache_dir: Path) -> gpd.GeoSeries:
    """Polygons of every unit at ``level``, indexed like :func:`level_table`'s rows."""
    if level == "departement":
        return departement_shapes(Path(cache_dir)).geometry
    return analysis_units(communes).geometry


def map_rows(
    result: CoverageAnalysis, communes: gpd.GeoDataFrame, cache_dir: Path
) -> tuple[pd.DataFrame, gpd.GeoSeries]:
    """Rows a map of ``result`` draws, at its territory's map level, and their polygons.

    Communes of a département or an EPCI; départements (those with a
    polygon) for a région or France.
    """
    level = result.territory.map_level
    if level == "commune":
        units = territory_units(analysis_units(communes), result.territory)
        return result.table, units.geometry.loc[result.table.index]
    shapes = level_shapes(level, communes, cache_dir)
    rows = result.departements.loc[result.departements.index.intersection(shapes.index)]
    return rows, shapes.loc[rows.index]
