"""One rule for modes and filters: the search and the coverage count the same services."""

from __future__ import annotations

import geopandas as gpd
import pytest

from mapapp.coverage import select_services
from mapapp.filters import ReceptionMode, reception_flags, service_mask
from mapapp.geo.communes import Geography
from mapapp.schema import actors_frame
from mapapp.search import SearchIndex, SearchQuery
from mapapp.taxonomy import Obstacle


def test_modes_by_hand() -> None:
    a = actors_frame(
        [
            {"id": "x:1", "modes_accueil": ["en-presentiel", "a-distance"]},
            {"id": "x:2", "modes_accueil": ["a-distance"]},
            {"id": "x:3", "modes_accueil": []},
            {"id": "x:4", "modes_accueil": ["en-presentiel"]},
        ]
    )
    in_person, remote = reception_flags(a["modes_accueil"])
    assert in_person.tolist() == [True, False, True, True]
    assert remote.tolist() == [False, True, False, False]
    assert [m.value for m in ReceptionMode] == ["en-presentiel", "a-distance"]


def test_unknown_match_is_refused() -> None:
    with pytest.raises(ValueError, match="match"):
        service_mask(actors_frame([{"id": "x:1"}]), match="some")  # type: ignore[arg-type]


@pytest.mark.slow
@pytest.mark.parametrize("obstacle", [o.value for o in Obstacle])
def test_search_and_coverage_agree(obstacle: str, demo: gpd.GeoDataFrame, geo: Geography) -> None:
    public = demo[~demo["confidential"].astype(bool)]
    index = SearchIndex(public)
    query = SearchQuery(lat=46.5, lon=2.5, obstacles=(obstacle,), limit=len(public))
    found = set(index.nearest(query)["id"])
    remote = set(index.remote(query, limit=len(public))["id"])
    sp = select_services(public, geo.communes, obstacles=(obstacle,))
    assert remote == set(sp.remote["id"])
    # Every service the search lists in person is a point of the coverage.
    assert found <= set(sp.points["id"]), found - set(sp.points["id"])
    assert found, f"the demo has no {obstacle} service: the check is empty"
