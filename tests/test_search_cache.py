"""The search index kept with the store: same answers, public view only, never stale.

Why these tests: a fresh server maps the index's arrays from disk instead of
rebuilding them (issue 16).  A copy that answered differently, that held a
confidential street, or that outlived its store version would be worse than
no copy at all.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mapapp.catalog import load_public_actors, load_search_index
from mapapp.geo.communes import Geography
from mapapp.geo.sphere import haversine_km
from mapapp.schema import actors_frame
from mapapp.search import SearchIndex, SearchQuery
from mapapp.settings import Settings
from mapapp.store import ParquetStore
from mapapp.store.search_cache import RowStore

SECRET = "12 impasse du Refuge"


def _records() -> list[dict[str, object]]:
    rng = np.random.default_rng(3)
    out: list[dict[str, object]] = []
    for i in range(60):
        out.append(
            {
                "id": f"t:{i}",
                "source": "t",
                "nom": f"Service {i} \x1f\x1e « é »",  # separators inside text survive as spaces
                "obstacles": [["mobilite"], ["numerique", "emploi"], ["logement"]][i % 3],
                "publics": ["femmes"] if i % 4 == 0 else ["tous-publics"],
                "frais": ["gratuit"] if i % 2 else [],
                "latitude": 48.80 + rng.uniform(0, 0.1),
                "longitude": 2.30 + rng.uniform(0, 0.1),
                "code_insee": "75056",
                "commune": "Paris",
                "adresse": f"{i} rue Test",
                "horaires_accueil": "Mo-Fr 09:00-17:00" if i % 2 else "",
                "capacite": float(i) if i % 5 == 0 else math.nan,
            }
        )
    out.append(
        {
            "id": "t:refuge",
            "source": "t",
            "nom": "Hébergement",
            "actor_type": "hebergement",
            "confidential": True,
            "obstacles": ["logement"],
            "latitude": 48.85,
            "longitude": 2.35,
            "code_insee": "75056",
            "commune": "Paris",
            "adresse": SECRET,
        }
    )
    return out


@pytest.fixture
def stored(settings: Settings) -> Settings:
    ParquetStore(settings.data_dir).write_actors(actors_frame(_records()))
    return settings


QUERIES = [
    SearchQuery(lat=48.85, lon=2.34, obstacles=("logement",), limit=5),
    SearchQuery(lat=48.83, lon=2.36, obstacles=("numerique", "mobilite"), limit=7),
    SearchQuery(lat=48.86, lon=2.31, publics=("femmes",), free_only=True, limit=10),
    SearchQuery(lat=48.86, lon=2.31, radius_km=2.0, limit=50),
]


@pytest.mark.slow
def test_mapped_index_answers_like_a_fresh_build_and_reads_no_frame(
    stored: Settings, geo: Geography
) -> None:
    first = load_search_index(stored, communes=geo.communes)
    second = load_search_index(stored, communes=geo.communes)
    assert second.index._actors is None  # mapped: the frame was not read
    reference = SearchIndex(load_public_actors(stored, communes=geo.communes).actors)
    for q in QUERIES:
        want = reference.nearest(q)
        for got in (first.index.nearest(q), second.index.nearest(q)):
            assert got["id"].tolist() == want["id"].tolist()
            np.testing.assert_allclose(got["distance_km"], want["distance_km"], atol=1e-9)
            # every field a card reads, value for value (text now object columns)
            for col in ("nom", "adresse", "obstacles", "publics", "horaires_accueil", "capacite"):
                for a, b in zip(got[col], want[col], strict=True):
                    if isinstance(b, float) and math.isnan(b):
                        assert math.isnan(a)
                    else:
                        assert list(a) == list(b) if col in ("obstacles", "publics") else a == b
    assert second.index._actors is None
    assert len(second.actors) == len(reference.actors)  # read on demand


def test_distances_are_great_circle_km(stored: Settings, geo: Geography) -> None:
    """Checked against an independent haversine, not against the index itself."""
    load_search_index(stored, communes=geo.communes)
    found = load_search_index(stored, communes=geo.communes).index
    q = SearchQuery(lat=48.84, lon=2.33, obstacles=("mobilite",), limit=5)
    got = found.nearest(q)
    km = haversine_km(q.lat, q.lon, got["latitude"].to_numpy(), got["longitude"].to_numpy())
    np.testing.assert_allclose(got["distance_km"].to_numpy(), km, atol=1e-6)
    assert (np.diff(got["distance_km"].to_numpy()) >= 0).all()


def test_the_copy_holds_the_public_view_only(stored: Settings, geo: Geography) -> None:
    load_search_index(stored, communes=geo.communes)
    files = list(Path(stored.data_dir).rglob("search-*/*"))
    assert files, "the index was not kept with the store"
    for f in files:
        assert SECRET.encode() not in f.read_bytes(), f
    refuge = load_search_index(stored, communes=geo.communes).index.nearest(
        SearchQuery(lat=48.85, lon=2.35, obstacles=("logement",), limit=100)
    )
    row = refuge[refuge["id"] == "t:refuge"].iloc[0]
    assert row["adresse"] == "" and row["precision"] != "address"


@pytest.mark.slow
def test_a_new_import_is_never_served_from_the_old_copy(stored: Settings, geo: Geography) -> None:
    before = load_search_index(stored, communes=geo.communes)
    extra = actors_frame(
        [*_records(), {"id": "t:new", "obstacles": ["sante"], "latitude": 48.9, "longitude": 2.4}]
    )
    ParquetStore(stored.data_dir).write_actors(extra)
    after = load_search_index(stored, communes=geo.communes)
    assert after.stamp != before.stamp
    q = SearchQuery(lat=48.9, lon=2.4, obstacles=("sante",), limit=3)
    assert before.index.nearest(q).empty
    assert after.index.nearest(q)["id"].tolist() == ["t:new"]
    mapped = load_search_index(stored, communes=geo.communes)  # now from the new copy
    assert mapped.index._actors is None and mapped.index.nearest(q)["id"].tolist() == ["t:new"]


@pytest.mark.slow
def test_a_copy_for_another_geography_is_not_used(stored: Settings, geo: Geography) -> None:
    load_search_index(stored, communes=geo.communes)
    moved = geo.communes.copy()
    moved["lat"] = moved["lat"] + 0.01
    other = load_search_index(stored, communes=moved)
    assert other.index._actors is not None  # rebuilt, not mapped


def test_rowstore_round_trip_keeps_kinds_and_order() -> None:
    f = actors_frame(_records()[:5])
    f["note"] = pd.Series([None, "a", "b", None, "c"], dtype=object)
    rows = RowStore.from_frame(f)
    got = rows.take([4, 0, 2], extra={"distance_km": np.array([1.0, 2.0, 3.0])})
    assert got["id"].tolist() == ["t:4", "t:0", "t:2"]
    assert got["nom"].iloc[1] == "Service 0    « é »"
    assert got["note"].tolist() == ["c", "", "b"]
    assert got["obstacles"].tolist() == [["numerique", "emploi"], ["mobilite"], ["logement"]]
    assert got["confidential"].dtype == bool and got["latitude"].dtype == float
    assert list(got.columns)[-1] == "distance_km"
    assert rows.take([]).empty


@pytest.mark.slow
def test_background_trees_answer_like_trees_built_on_demand(
    stored: Settings, geo: Geography
) -> None:
    load_search_index(stored, communes=geo.communes)
    lazy = load_search_index(stored, communes=geo.communes).index
    warm = load_search_index(stored, communes=geo.communes, background=True).index
    assert len(lazy._trees) == 0  # nothing built before a search asks
    for thread in threading.enumerate():
        if thread.name == "mapapp-trees":
            thread.join(timeout=60)
    assert None in warm._trees and all(o in warm._trees for o in ("logement", "mobilite"))
    for q in QUERIES:
        assert warm.nearest(q)["id"].tolist() == lazy.nearest(q)["id"].tolist()


def test_a_register_change_reaches_a_mapped_index_and_old_copies_go(
    settings: Settings, geo: Geography
) -> None:
    """Issue 17: the kept copy is keyed on the register too, and never serves an older state."""
    from mapapp.render.cards import cards_from_frame
    from mapapp.reserved.register import apply_change
    from tests.test_reserved_view import PARTNER, SAINT_DENIS, _actors

    ParquetStore(settings.data_dir).write_actors(actors_frame(_actors()))
    apply_change(settings, "t:free", {"partner": PARTNER, "places_reserved": 2}, by="a")
    q = SearchQuery(lat=SAINT_DENIS[0], lon=SAINT_DENIS[1], obstacles=("garde-enfants",))
    free_only = dataclasses.replace(q, reserved_free=True)
    before = load_search_index(settings, communes=geo.communes)
    assert load_search_index(settings, communes=geo.communes).index._actors is None  # mapped
    assert before.index.nearest(free_only).empty  # reserved, none free

    apply_change(settings, "t:free", {"places_free": 1}, by="a")
    built = load_search_index(settings, communes=geo.communes)
    mapped = load_search_index(settings, communes=geo.communes)
    assert built.stamp != before.stamp and mapped.stamp == built.stamp
    assert mapped.index._actors is None
    for shown in (built, mapped):
        found = shown.index.nearest(free_only)
        assert found["id"].tolist() == ["t:free"]
        line = cards_from_frame(found, lang="fr")[0].reserved
        assert "1 place réservée libre" in line, line
    generation = Path(ParquetStore(settings.data_dir).actors_path).parent
    assert len(list(generation.glob("search-*"))) == 1  # the older register state's copy is gone
