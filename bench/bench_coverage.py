"""Benchmark of coverage: distance matrix, 2SFCA, against geopandas, in one run.

Prints ``name: value`` lines.  Run: ``python bench/bench_coverage.py``
(``MAPAPP_CACHE_DIR`` for the reference geography; ``--actors N`` to change
the synthetic layer size, default 100,000).

What is measured, with 100k synthetic actors spread uniformly over
metropolitan France, each covering one to three random obstacles:

- ``coverage_matrix_s``: :func:`mapapp.coverage.distance_matrix`, every
  analysis unit (communes + PLM arrondissements, overseas included) × every
  obstacle, including reading the obstacle lists and building the trees;
- ``sjoin_nearest_s``: geopandas ``sjoin_nearest`` in Lambert-93 on the
  metropolitan communes, one join per obstacle, on layers already projected
  (the projection is not timed: this favours the baseline);
- ``coverage_speedup_vs_sjoin``: their ratio (target ≥ 2.5), both timed
  alternately ``--repeat`` times (medians), so they see the same load;
- ``coverage_max_abs_err_km``: largest gap against a brute-force haversine on
  a sample of communes (target: floating-point noise);
- ``twosfca_10km_s``: :func:`mapapp.coverage.accessibility_matrix` at a 10 km
  catchment, every obstacle;
- ``coverage_map_bytes_<dep>`` and ``coverage_map_build_s_<dep>``: the
  coverage map of the département with the most communes (the Pas-de-Calais),
  built as the page builds it (target ≤ 3 MB);
- ``coverage_page_render_s_<dep>``: the whole coverage view for that
  département driven by AppTest on the demo data, shared layers warm
  (target ≤ 2 s).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from mapapp.coverage import (
    Territory,
    accessibility_matrix,
    coverage_analysis,
    distance_matrix,
    obstacle_membership,
)
from mapapp.coverage.classes import distance_classes
from mapapp.geo.communes import analysis_units, load_geography
from mapapp.geo.shapes import display_geometry
from mapapp.geo.sphere import haversine_km, km_to_chord, to_unit_xyz
from mapapp.render.choropleth import coverage_map
from mapapp.render.search_map import map_html_bytes
from mapapp.schema import FRANCE_BOXES, actors_frame
from mapapp.settings import Settings
from mapapp.taxonomy import Obstacle


def synthetic_actors(communes: pd.DataFrame, n: int, *, seed: int = 0) -> gpd.GeoDataFrame:
    """``n`` actors uniform over metropolitan land, each with 1-3 random obstacles.

    Points are drawn uniformly in the metropolitan box and kept when a commune
    point lies within 4 km (a cheap test of "on land, in France").
    """
    rng = np.random.default_rng(seed)
    metro = communes[communes["departement"].str.len() == 2]
    tree = cKDTree(to_unit_xyz(metro["lat"], metro["lon"]))
    x0, y0, x1, y1 = FRANCE_BOXES["metropole"]
    lat_parts, lon_parts, total = [], [], 0
    while total < n:
        lon = rng.uniform(x0, x1, 4 * n)
        # uniform on the sphere: sin(lat) uniform
        lat = np.degrees(
            np.arcsin(rng.uniform(np.sin(np.radians(y0)), np.sin(np.radians(y1)), 4 * n))
        )
        d, _ = tree.query(to_unit_xyz(lat, lon), k=1, distance_upper_bound=km_to_chord(4.0))
        keep = np.isfinite(d)
        lat_parts.append(lat[keep])
        lon_parts.append(lon[keep])
        total += int(keep.sum())
    lat = np.concatenate(lat_parts)[:n]
    lon = np.concatenate(lon_parts)[:n]
    slugs = np.array([o.value for o in Obstacle])
    k = rng.integers(1, 4, n)
    obstacles = [list(rng.choice(slugs, size=int(m), replace=False)) for m in k]
    frame = pd.DataFrame(
        {
            "id": [f"bench:{i}" for i in range(n)],
            "obstacles": obstacles,
            "latitude": lat,
            "longitude": lon,
            "capacite": np.where(rng.random(n) < 0.3, rng.integers(10, 60, n), np.nan),
        }
    )
    return actors_frame(frame)


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median wall time of ``repeat`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def sjoin_baseline(
    communes_l93: gpd.GeoDataFrame, actors_l93: gpd.GeoDataFrame, member: pd.DataFrame
) -> pd.DataFrame:
    out = {}
    for slug in member.columns:
        svc = actors_l93.loc[member[slug].to_numpy(), ["geometry"]]
        joined = gpd.sjoin_nearest(communes_l93, svc, distance_col="d")
        out[slug] = joined.groupby(level=0)["d"].min() / 1000.0
    return pd.DataFrame(out)


def brute_force(
    units: pd.DataFrame, actors: gpd.GeoDataFrame, member: pd.DataFrame, sample: pd.Index
) -> pd.DataFrame:
    lat = actors["latitude"].to_numpy()
    lon = actors["longitude"].to_numpy()
    rows = {}
    for code in sample:
        u = units.loc[code]
        d = haversine_km(u["lat"], u["lon"], lat, lon)
        rows[code] = {slug: float(d[member[slug].to_numpy()].min()) for slug in member.columns}
    return pd.DataFrame.from_dict(rows, orient="index")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actors", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--no-app", action="store_true", help="Skip the AppTest page timing.")
    args = parser.parse_args()

    settings = Settings.from_env()
    geo = load_geography(Path(os.environ.get("MAPAPP_CACHE_DIR") or settings.cache_dir))
    communes = geo.communes
    units = analysis_units(communes)
    actors = synthetic_actors(units, args.actors)
    print(f"actors: {len(actors)}")
    print(f"communes: {len(units)}")
    print(f"obstacles: {len(Obstacle)}")

    member = obstacle_membership(actors)
    metro = units[units["departement"].str.len() == 2]
    communes_l93 = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(metro["lon"], metro["lat"]), index=metro.index, crs="EPSG:4326"
    ).to_crs("EPSG:2154")
    actors_l93 = actors[["geometry"]].to_crs("EPSG:2154")
    # Interleaved, so that both see the same load on a shared machine.
    ours, theirs = [], []
    for _ in range(args.repeat):
        t, matrix = timed(lambda: distance_matrix(actors, communes), 1)
        ours.append(t)
        t, base = timed(lambda: sjoin_baseline(communes_l93, actors_l93, member), 1)
        theirs.append(t)
    t_ours, t_sjoin = statistics.median(ours), statistics.median(theirs)
    print(f"coverage_matrix_s: {t_ours:.4f}")
    print(f"coverage_matrix_best_s: {min(ours):.4f}")
    print(f"sjoin_nearest_s: {t_sjoin:.4f}")
    print(f"coverage_speedup_vs_sjoin: {t_sjoin / t_ours:.2f}")
    rel = (matrix.loc[base.index, base.columns] - base).abs() / base.clip(lower=1.0)
    print(f"sjoin_lambert93_max_rel_diff: {float(rel.to_numpy().max()):.4f}")

    rng = np.random.default_rng(1)
    sample = pd.Index(
        rng.choice(units.index.to_numpy(), size=min(args.sample, len(units)), replace=False)
    )
    sample = sample[units.loc[sample, "departement"].str.len() == 2]
    truth = brute_force(units, actors, member, sample)
    err = (matrix.loc[truth.index, truth.columns] - truth).abs().to_numpy().max()
    print(f"coverage_max_abs_err_km: {err:.2e}")

    t_fca, _ = timed(lambda: accessibility_matrix(actors, communes, catchment_km=10.0), args.repeat)
    print(f"twosfca_10km_s: {t_fca:.4f}")

    largest = str(units["departement"].value_counts().idxmax())
    t_map, size = timed(lambda: map_bytes(actors, communes, largest), args.repeat)
    print(f"coverage_map_build_s_{largest}: {t_map:.4f}")
    print(f"coverage_map_bytes_{largest}: {size}")
    if not args.no_app:
        print(f"coverage_page_render_s_{largest}: {page_render_s(largest):.3f}")


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
