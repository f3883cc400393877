"""Benchmark: filtered k=10 nearest search at 100k actors, against two baselines.

Run: ``python bench/bench_search.py`` (or ``python bench/run.py`` for every benchmark).
Prints ``name: value`` lines.  Timings are medians over the same random queries;
the speed-ups are ratios measured in the same run, since this machine is noisy.

Baselines on the same data and queries:
- geopandas ``sjoin_nearest`` in Lambert-93 on the rows carrying the obstacle;
- a boolean filter plus a numpy haversine over every row (``argpartition`` for k).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mapapp.geo.communes import analysis_units, load_geography
from mapapp.geo.sphere import haversine_km
from mapapp.schema import actors_frame
from mapapp.search import SearchIndex, SearchQuery
from mapapp.settings import Settings
from mapapp.taxonomy import ActorType, Obstacle

N_ACTORS = int(os.environ.get("BENCH_ACTORS", "100000"))
N_QUERIES = int(os.environ.get("BENCH_QUERIES", "300"))
K = 10


def synthetic_actors(n: int, *, seed: int = 7) -> gpd.GeoDataFrame:
    """``n`` actors uniform over metropolitan France, 1-3 random obstacles each."""
    rng = np.random.default_rng(seed)
    obstacles = np.array([o.value for o in Obstacle])
    types = np.array([t.value for t in ActorType])
    counts = rng.integers(1, 4, n)
    frame = pd.DataFrame(
        {
            "id": [f"bench:{i}" for i in range(n)],
            "latitude": rng.uniform(42.5, 50.9, n),
            "longitude": rng.uniform(-4.5, 7.9, n),
            "actor_type": types[rng.integers(0, len(types), n)],
            "obstacles": [list(rng.choice(obstacles, c, replace=False)) for c in counts],
            "frais": [["gratuit"] if g else ["payant"] for g in rng.random(n) < 0.7],
        }
    )
    return actors_frame(frame)


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1e6, ordered[int(0.95 * (len(ordered) - 1))] * 1e6


def main() -> None:
    settings = Settings.from_env()
    geo = load_geography(settings.cache_dir)
    units = analysis_units(geo.communes)
    metro = units[~units["departement"].str.startswith("97")]
    rng = np.random.default_rng(11)
    qpts = metro.iloc[rng.integers(0, len(metro), N_QUERIES)][["lat", "lon"]].to_numpy()
    qobs = [Obstacle(o) for o in rng.choice([o.value for o in Obstacle], N_QUERIES)]

    actors = synthetic_actors(N_ACTORS)
    t0 = time.perf_counter()
    index = SearchIndex(actors)
    build_s = time.perf_counter() - t0

    queries = [
        SearchQuery(lat=float(la), lon=float(lo), obstacles=(o,), limit=K)
        for (la, lo), o in zip(qpts, qobs, strict=True)
    ]
    for q in queries[:20]:  # warm-up
        index.query(q)
    t_index: list[float] = []
    results = []
    for q in queries:
        t = time.perf_counter()
        rows, km = index.query(q)
        t_index.append(time.perf_counter() - t)
        results.append((rows, km))
    t_frame: list[float] = []
    for q in queries[:100]:
        t = time.perf_counter()
        index.nearest(q)
        t_frame.append(time.perf_counter() - t)

    # Baseline 1: filter + numpy haversine over all rows.
    lat = actors["latitude"].to_numpy()
    lon = actors["longitude"].to_numpy()
    masks = {o: actors["obstacles"].map(lambda v, o=o: o.value in v).to_numpy() for o in Obstacle}
    t_np: list[float] = []
    agree = True
    for q, (_rows, km) in zip(queries, results, strict=True):
        t = time.perf_counter()
        m = masks[Obstacle(q.obstacles[0])]
        d = haversine_km(q.lat, q.lon, lat[m], lon[m])
        part = np.argpartition(d, K)[:K]
        ref = np.sort(d[part])
        t_np.append(time.perf_counter() - t)
        agree &= bool(np.allclose(ref, km, atol=1e-6))

    # Baseline 2: geopandas sjoin_nearest (Lambert-93) on the filtered rows, nearest 1.
    projected = actors.to_crs(2154)
    subsets = {o: projected[masks[o]] for o in Obstacle}
    qgeo = gpd.GeoDataFrame(geometry=gpd.points_from_xy(qpts[:, 1], qpts[:, 0]), crs=4326).to_crs(
        2154
    )
    t_sj: list[float] = []
    n_sj = min(len(queries), 100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(n_sj):
            q = queries[i]
            t = time.perf_counter()
            sub = subsets[Obstacle(q.obstacles[0])]
            gpd.sjoin_nearest(qgeo.iloc[[i]], sub, distance_col="d")
            t_sj.append(time.perf_counter() - t)

    med, p95 = _ms(t_index)
    frame_med, _ = _ms(t_frame)
    np_med, _ = _ms(t_np)
    sj_med, _ = _ms(t_sj)
    print(f"search_actors: {N_ACTORS}")
    print(f"search_queries: {len(queries)}")
    print(f"search_index_build_s: {build_s:.3f}")
    print(f"search_k10_filtered_median_us: {med:.1f}")
    print(f"search_k10_filtered_p95_us: {p95:.1f}")
    print(f"search_k10_filtered_with_frame_median_us: {frame_med:.1f}")
    print(f"baseline_numpy_haversine_median_us: {np_med:.1f}")
    print(f"baseline_sjoin_nearest_median_us: {sj_med:.1f}")
    print(f"speedup_vs_numpy_haversine: {np_med / med:.1f}")
    print(f"speedup_vs_sjoin_nearest: {sj_med / med:.1f}")
    print(f"search_agrees_with_haversine: {int(agree)}")
    print(f"target_median_le_100us: {'PASS' if med <= 100 else 'FAIL'}")
    print(f"target_speedup_ge_20x: {'PASS' if sj_med / med >= 20 else 'FAIL'}")


if __name__ == "__main__":
    main()
