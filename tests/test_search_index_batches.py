"""The kept search index built a batch of rows at a time answers exactly like the whole-frame one.

Why these tests: at a million services the kept index used to be built from
the whole public frame (3.7 GB at its peak, issue 16).  It is now built from
the store a batch of rows at a time, each batch through the same public view.
Everything that links rows together must come out as if the layer had been
read whole: duplicates clustered across batches, a crèche's reserved places
shared with its duplicate in another batch, placeholder points shared by rows
of several batches, remote services ordered newest first across batches,
time zones met in different batches.  And the privacy rule must hold batch by
batch: a confidential record at its commune, its street nowhere in the files.

The batch size is set to 7 rows so that every one of these spans batches.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mapapp.catalog import load_public_actors, load_search_index
from mapapp.geo.communes import Geography
from mapapp.reserved.register import apply_change
from mapapp.schema import actors_frame
from mapapp.search import SearchIndex, SearchQuery
from mapapp.settings import Settings
from mapapp.store import ParquetStore
from mapapp.store import search_cache as cache

STREET = "12 impasse du Refuge"  # a shelter's street: must never be kept
PHONE = "04 76 11 22 33"  # typed into a shelter's description
PARIS = (48.8566, 2.3522)
BATCH = 7


def _records() -> list[dict[str, Any]]:
    rng = np.random.default_rng(11)
    out: list[dict[str, Any]] = []
    for i in range(90):
        overseas = i % 11 == 0
        out.append(
            {
                "id": f"t:{i}",
                "source": "t",
                "nom": f"Service {i} « é »",
                "actor_type": ["autre", "france-travail", "siae"][i % 3],
                "obstacles": [["mobilite"], ["numerique", "emploi"], ["logement"], []][i % 4],
                "publics": [["femmes"], ["tous-publics"], [], ["jeunes", "femmes"]][i % 4],
                "frais": [["gratuit"], [], ["adhesion"]][i % 3],
                "modes_accueil": [["en-presentiel"], ["a-distance"], []][i % 5 % 3],
                "latitude": (-21.0 if overseas else PARIS[0]) + rng.uniform(-0.05, 0.05),
                "longitude": (55.5 if overseas else PARIS[1]) + rng.uniform(-0.05, 0.05),
                "code_insee": "97411" if overseas else "75056",
                "code_postal": "97400" if overseas else "75001",
                "adresse": f"{i} rue de l'Essai",
                "horaires_accueil": ["Mo-Fr 09:00-17:00", "", "Sa 10:00-12:00"][i % 3],
                "date_maj": f"2026-{1 + i % 12:02d}-{1 + i % 27:02d}" if i % 4 else "",
                "capacite": float(i) if i % 5 == 0 else math.nan,
            }
        )
    # one placeholder point (the commune's) given to 4 rows of 4 batches, 4 streets
    for i, street in zip(
        (2, 20, 41, 60), ("1 rue A", "2 rue B", "3 rue Ç", "4 rue D"), strict=True
    ):
        out[i].update(latitude=48.8, longitude=2.3, adresse=street, modes_accueil=[])
    # two sources' records of one crèche, in different batches
    for i, primary in ((5, True), (80, False)):
        out[i].update(
            actor_type="creche",
            obstacles=["garde-enfants"],
            cluster_id="cluster:creche",
            duplicate=not primary,
            modes_accueil=["en-presentiel"],
        )
    # other duplicates: pairs across batches and within one
    for a, b, name in ((10, 50, "cluster:x"), (15, 16, "cluster:y"), (44, 85, "cluster:z")):
        out[a].update(cluster_id=name, latitude=out[b]["latitude"], longitude=out[b]["longitude"])
        out[b].update(cluster_id=name, duplicate=True, obstacles=out[a]["obstacles"])
    # shelters: flagged, named, typed with an unknown commune
    out[30].update(confidential=True, adresse=STREET, obstacles=["logement"])
    out[31].update(
        nom="CHRS Le Phare",
        adresse=STREET,
        telephone=PHONE,
        description=f"Appelez le {PHONE.replace(' ', '.')}, {STREET}",
    )
    out[32].update(actor_type="hebergement", code_insee="99999", adresse=STREET)
    return out


@pytest.fixture
def stored(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    ParquetStore(settings.data_dir).write_actors(actors_frame(_records()))
    apply_change(
        settings,
        "t:80",
        {"partner": "Entreprise Zéphyrine SARL", "places_reserved": 2, "places_free": 1},
        by="test",
    )
    monkeypatch.setattr(cache, "BATCH_ROWS", BATCH)
    return settings


def _queries() -> list[SearchQuery]:
    rng = np.random.default_rng(5)
    base = [
        SearchQuery(lat=PARIS[0], lon=PARIS[1]),
        SearchQuery(lat=-21.0, lon=55.5, limit=30),
        SearchQuery(lat=48.8, lon=2.3, obstacles=("garde-enfants",), limit=5),
        SearchQuery(lat=48.8, lon=2.3, obstacles=("logement",), limit=50),
        SearchQuery(lat=48.8, lon=2.3, reserved_free=True),
        SearchQuery(lat=48.85, lon=2.35, obstacles=("numerique", "emploi"), match="all"),
        SearchQuery(lat=48.85, lon=2.35, publics=("jeunes",), free_only=True, limit=20),
        SearchQuery(lat=48.85, lon=2.35, frais=("adhesion",), modes=("en-presentiel",)),
        SearchQuery(lat=48.85, lon=2.35, types=("france-travail",), radius_km=4.0, limit=40),
        SearchQuery(lat=48.85, lon=2.35, open_at=datetime(2026, 12, 8, 9, 30, tzinfo=UTC)),
        SearchQuery(lat=-21.0, lon=55.5, open_day=date(2026, 12, 12), limit=40),
    ]
    more = [
        SearchQuery(
            lat=float(PARIS[0] + rng.uniform(-0.1, 0.1)),
            lon=float(PARIS[1] + rng.uniform(-0.1, 0.1)),
            obstacles=(("mobilite",), ("logement", "numerique"), ())[k % 3],
            limit=int(rng.integers(1, 25)),
        )
        for k in range(30)
    ]
    return base + more


def _plain(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """NaN as None, so that equal records compare equal."""
    return [
        {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()}
        for r in records
    ]


def _same_frames(got: pd.DataFrame, want: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got, want, check_exact=True)


@pytest.mark.slow
def test_batched_index_is_the_whole_frame_index_byte_for_byte(
    stored: Settings, geo: Geography
) -> None:
    kept = load_search_index(stored, communes=geo.communes)
    assert kept.index._actors is None, "the kept index should be mapped from its files"
    reference = SearchIndex(load_public_actors(stored, communes=geo.communes).actors)
    meta, arrays, text = kept.index.arrays()
    want_meta, want_arrays, want_text = reference.arrays()
    assert meta == want_meta
    assert sorted(arrays) == sorted(want_arrays)
    for name, array in want_arrays.items():
        assert arrays[name].dtype == array.dtype, name
        assert arrays[name].tobytes() == array.tobytes(), name
    assert bytes(text) == bytes(want_text)
    for q in _queries():
        _same_frames(kept.index.nearest(q), reference.nearest(q))
        _same_frames(kept.index.remote(q), reference.remote(q))
        rows, _ = reference.query(q)
        assert _plain(kept.index.records(rows)) == _plain(reference.records(rows))


@pytest.mark.slow
def test_links_between_rows_of_different_batches_hold(stored: Settings, geo: Geography) -> None:
    """Expected values from the records as written above, not from the index."""
    index = load_search_index(stored, communes=geo.communes).index
    ids = index.text_column("id")
    row = {k: i for i, k in enumerate(ids)}
    # the crèche's places, registered on the record in a later batch, shown on both
    total = index._rows.whole("reserved_total")
    assert total is not None and total[row["t:5"]] == 2 and total[row["t:80"]] == 2
    # one card for the two records of the crèche: the nearest one (same point, first row)
    found = index.nearest(SearchQuery(lat=48.8, lon=2.3, obstacles=("garde-enfants",), limit=5))
    assert found["id"].tolist().count("t:5") + found["id"].tolist().count("t:80") == 1
    # each pair of duplicates shares one cluster code, and no other pair does
    cluster = index._a.cluster
    pairs = [("t:5", "t:80"), ("t:10", "t:50"), ("t:15", "t:16"), ("t:44", "t:85")]
    codes = [cluster[row[a]] for a, _ in pairs]
    assert all(cluster[row[a]] == cluster[row[b]] >= 0 for a, b in pairs)
    assert len(set(codes)) == len(pairs) and int((cluster >= 0).sum()) == 2 * len(pairs)
    # the shared placeholder point, rows in four batches
    approximate = {ids[i] for i in np.flatnonzero(index._a.approximate)}
    assert approximate == {"t:2", "t:20", "t:41", "t:60"}
    # remote-only services, newest first whatever their batch
    remote = index.remote(SearchQuery(lat=48.8, lon=2.3), limit=200)
    dates = remote["date_maj"].tolist()
    assert dates == sorted(dates, reverse=True) and len(remote) == int(index._a.remote.sum())
    assert len(remote) > BATCH
    # Réunion's services in their own time zone, Paris' in theirs
    zones = index._a.zone_names
    assert zones[index._a.zone_code[row["t:0"]]] == "Indian/Reunion"
    assert zones[index._a.zone_code[row["t:1"]]] == "Europe/Paris"


def test_confidential_records_are_public_view_only_in_every_batch(
    stored: Settings, geo: Geography
) -> None:
    index = load_search_index(stored, communes=geo.communes).index
    files = list(Path(stored.data_dir).rglob("search-*/*"))
    assert files, "the index was not kept with the store"
    for f in files:
        data = f.read_bytes()
        for secret in (STREET, PHONE, PHONE.replace(" ", "."), PHONE.replace(" ", "")):
            assert secret.encode() not in data, (f, secret)
    ids = index.text_column("id")
    paris = geo.communes.loc["75056", ["lat", "lon"]].to_numpy(dtype=float)
    for shelter in ("t:30", "t:31"):
        rec = index.records([ids.index(shelter)])[0]
        assert rec["confidential"] is True and rec["adresse"] == ""
        assert rec["precision"] == "commune"
        np.testing.assert_allclose([rec["latitude"], rec["longitude"]], paris)
    unknown = index.records([ids.index("t:32")])[0]
    assert unknown["precision"] == "none" and math.isnan(unknown["latitude"])
    named = index.records([ids.index("t:31")])[0]
    assert named["description"] == "Appelez le [confidentiel], [confidentiel]"
    assert named["telephone"] == "115"  # the shelter line, not its own


def test_the_kept_index_is_built_without_reading_the_whole_layer(
    stored: Settings, geo: Geography, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old build read the whole public frame (``read_actors``): 3.7 GB at 1M services."""

    def whole(self: ParquetStore) -> gpd.GeoDataFrame:
        raise AssertionError("the whole layer was read to build the kept index")

    monkeypatch.setattr(ParquetStore, "read_actors", whole)
    built = load_search_index(stored, communes=geo.communes)
    assert built.index._actors is None
    q = SearchQuery(lat=48.8, lon=2.3, obstacles=("garde-enfants",))
    assert built.index.nearest(q)["id"].tolist()[:1] == ["t:5"]
    monkeypatch.undo()
    later = dataclasses.replace(q, reserved_free=True)
    assert built.index.nearest(later)["id"].tolist() == ["t:5"]


def test_batches_are_typed_as_the_whole_file(tmp_path: Path) -> None:
    """An integer or boolean column missing a value in one batch only: every batch as whole."""
    path = tmp_path / "t.parquet"
    table = pa.table(
        {
            "id": ["a", "b", "c", "d", "e"],
            "n": pa.array([1, 2, 3, None, 5], pa.int64()),
            "flag": pa.array([True, False, True, True, None]),
            "ok": pa.array([True, False, True, True, False]),
        }
    )
    pq.write_table(table, path)
    whole = pq.read_table(path).to_pandas()
    batches = list(cache.read_batches(path, rows=2))
    assert [len(b) for b in batches] == [2, 2, 1]
    for b in batches:
        assert dict(b.dtypes) == dict(whole.dtypes)
    together = pd.concat(batches, ignore_index=True)
    pd.testing.assert_frame_equal(together, whole)
    assert whole["n"].dtype == np.float64 and whole["flag"].dtype == object  # the premise


def test_a_store_written_by_an_import_keeps_its_row_hashes_out_of_the_index(
    settings: Settings, tmp_path: Path
) -> None:
    """An import stores a row hash beside each record (the next import compares by it);
    the batched build must leave it out, as ``read_actors`` does for the whole-frame build."""
    from mapapp.ingest.pipeline import ingest
    from mapapp.store.base import ROW_HASH

    rows = [
        {
            "id": str(k),
            "nom": f"EPN {k}",
            "pivot": "0",
            "services": "Prendre en main un ordinateur",
            "adresse": f"{k} place de la Nation",
            "commune": "Paris",
            "code_postal": "75011",
            "latitude": 48.85 + k * 1e-3,
            "longitude": 2.39,
        }
        for k in range(12)
    ]
    source = tmp_path / "lieux.json"
    source.write_text(pd.Series(rows).to_json(orient="values"), encoding="utf-8")
    ingest([source], settings=settings, geocode=False, report_path=tmp_path / "r.json")
    store = ParquetStore(settings.data_dir)
    assert ROW_HASH in pq.read_schema(store.actors_path).names, "the import should keep hashes"

    kept = load_search_index(settings)
    reference = SearchIndex(load_public_actors(settings).actors)
    meta, _, text = kept.index.arrays()
    want_meta, _, want_text = reference.arrays()
    assert ROW_HASH not in meta["rows"]["columns"]
    assert meta == want_meta
    assert bytes(text) == bytes(want_text)


def test_shared_points_are_pandas_duplicated() -> None:
    """The rows whose point another row has: ``duplicated(keep=False)``'s, rows without a
    point left out (their group has no key, so they are never placeholders).

    Why: found by a sort instead of pandas' hash tables (400 MB at 2.2 million services);
    a row missed here would hide a placeholder point, one too many would only be checked.
    """
    from mapapp.search import _shared_points

    rng = np.random.default_rng(11)
    for _ in range(200):
        n = int(rng.integers(0, 120))
        lat = rng.integers(0, 6, n).astype(float) / 4
        lon = rng.integers(0, 3, n).astype(float) / 4
        lat[rng.random(n) < 0.1] = np.nan
        lon[rng.random(n) < 0.05] = np.nan
        lat[rng.random(n) < 0.05] = -0.0  # the same point as 0.0
        expected = np.flatnonzero(
            pd.DataFrame({"lat": lat, "lon": lon}).duplicated(keep=False).to_numpy()
            & ~(np.isnan(lat) | np.isnan(lon))
        )
        assert _shared_points(lat, lon).tolist() == expected.tolist()
