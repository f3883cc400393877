"""Coverage: where each obstacle is badly covered, for how many people, and where to add a service.

Pure functions returning Series/DataFrames indexed by INSEE code (or by
département code once aggregated).  A typical analysis:

1. :func:`select_services` turns the actors layer into the points that count
   (in-person; confidential ones at their commune; remote ones counted apart);
2. :func:`coverage_table` gives, per commune, the great-circle distance to the
   nearest service and who it is; :func:`coverage_summary` the territory
   totals; :func:`worst_covered` the ranked list; :func:`by_departement` the
   national aggregate;
3. :func:`two_step_fca` weighs supply against demand (2SFCA);
4. :func:`suggest_sites` proposes where one more service would help most.

:func:`coverage_analysis` chains them for one territory (what the CLI, the
app and the notebook call); :func:`distance_matrix` and
:func:`accessibility_matrix` do steps 2 and 3 for every obstacle at once.

Examples
--------
>>> import pandas as pd
>>> from mapapp.schema import actors_frame
>>> communes = pd.DataFrame({"nom": ["A", "B"], "departement": ["24", "24"],
...     "population": [500, 1500], "plm_city": False,
...     "lat": [45.0, 45.0], "lon": [0.0, 0.5]}, index=["24001", "24002"])
>>> actors = actors_frame([{"id": "x:1", "nom": "Crèche", "obstacles": ["garde-enfants"],
...     "latitude": 45.0, "longitude": 0.01, "capacite": 20}])
>>> services = select_services(actors, communes, obstacles=["garde-enfants"])
>>> table = coverage_table(communes, services, radius_km=10)
>>> table["distance_km"].round(1).tolist()
[0.8, 38.5]
>>> summary = coverage_summary(table, radius_km=10)
>>> int(summary["population_beyond_radius"]), round(float(summary["mean_distance_km"]), 1)
(1500, 29.1)
>>> suggest_sites(communes, services, radius_km=10, n=1)["code_insee"].tolist()
['24002']
"""

from mapapp.coverage.analysis import (
    PER_INHABITANTS,
    CoverageAnalysis,
    compare_summaries,
    coverage_analysis,
)
from mapapp.coverage.distance import (
    DEFAULT_THRESHOLDS_KM,
    by_departement,
    coverage_summary,
    coverage_table,
    distance_matrix,
    nearest_service,
    weighted_quantile,
    worst_covered,
)
from mapapp.coverage.export import (
    coverage_layer,
    layer_to_geojson,
    layer_to_gpkg,
    table_to_csv,
    with_sites,
)
from mapapp.coverage.index import CoverageIndex
from mapapp.coverage.labels import format_value, summary_frame, summary_label
from mapapp.coverage.services import (
    ZONES,
    ServicePoints,
    obstacle_membership,
    select_services,
    zone_of_departement,
    zone_of_points,
)
from mapapp.coverage.suggest import suggest_sites
from mapapp.coverage.territory import (
    TERRITORY_KINDS,
    Territory,
    territory_label,
    territory_units,
)
from mapapp.coverage.twosfca import accessibility_matrix, catchment_pairs, two_step_fca

__all__ = [
    "DEFAULT_THRESHOLDS_KM",
    "PER_INHABITANTS",
    "TERRITORY_KINDS",
    "ZONES",
    "CoverageAnalysis",
    "CoverageIndex",
    "ServicePoints",
    "Territory",
    "accessibility_matrix",
    "by_departement",
    "catchment_pairs",
    "compare_summaries",
    "coverage_analysis",
    "coverage_layer",
    "coverage_summary",
    "coverage_table",
    "distance_matrix",
    "format_value",
    "layer_to_geojson",
    "layer_to_gpkg",
    "nearest_service",
    "obstacle_membership",
    "select_services",
    "suggest_sites",
    "summary_frame",
    "summary_label",
    "table_to_csv",
    "territory_label",
    "territory_units",
    "two_step_fca",
    "weighted_quantile",
    "with_sites",
    "worst_covered",
    "zone_of_departement",
    "zone_of_points",
]
