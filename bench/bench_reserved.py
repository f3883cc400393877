"""What attaching reserved places costs each load of the public view (issue 17).

Every catalog load (app, API snapshot, light page, CLI) now runs
:func:`mapapp.reserved_view.attach_reserved`.  Measured against its baseline,
the frame copy a load makes anyway (``actors.copy()``), and with an empty
register (the common case), interleaved in the same run, on clustered synthetic actors with one reserved entry per 100
actors (a generous register: the network has a few hundred crèches).

Prints ``name: value`` lines (wall and CPU time, median and p95, in ms).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from synthetic import synthetic_actors

from mapapp.geo.communes import analysis_units, load_geography
from mapapp.reserved_view import attach_reserved, places_frame
from mapapp.settings import Settings


def _stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1e3, ordered[int(0.95 * (len(ordered) - 1))] * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--actors", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    units = analysis_units(load_geography(Settings.from_env().cache_dir).communes)
    communes = units.reset_index().rename(columns={"index": "code"})
    actors = synthetic_actors(communes, args.actors, seed=3)
    rng = np.random.default_rng(5)
    chosen = actors["id"].to_numpy()[
        rng.choice(len(actors), max(1, args.actors // 100), replace=False)
    ]
    now = pd.Timestamp.now(tz="UTC")
    reserved = rng.integers(1, 6, len(chosen))
    places = places_frame(
        pd.DataFrame(
            {
                "actor_id": chosen,
                "places_reserved": reserved,
                "places_free": rng.integers(0, 6, len(chosen)) % (reserved + 1),
                "confirmed_at": now - pd.to_timedelta(rng.integers(0, 60, len(chosen)), unit="D"),
            }
        )
    )
    empty = places_frame()
    names = ("baseline", "attach_empty", "attach")
    wall: dict[str, list[float]] = {k: [] for k in names}
    cpu: dict[str, list[float]] = {k: [] for k in names}
    for _ in range(args.repeat):  # interleaved: both see the same machine load
        for name, run in (
            ("baseline", lambda: actors.copy()),
            ("attach_empty", lambda: attach_reserved(actors, empty, now)),
            ("attach", lambda: attach_reserved(actors, places, now)),
        ):
            w, c = time.perf_counter(), time.process_time()
            run()
            wall[name].append(time.perf_counter() - w)
            cpu[name].append(time.process_time() - c)
    print(f"reserved_actors: {len(actors)}")
    print(f"reserved_entries: {len(places)}")
    for name in names:
        med, p95 = _stats(wall[name])
        cmed, cp95 = _stats(cpu[name])
        print(f"reserved_{name}_wall_median_ms: {med:.1f}")
        print(f"reserved_{name}_wall_p95_ms: {p95:.1f}")
        print(f"reserved_{name}_cpu_median_ms: {cmed:.1f}")
        print(f"reserved_{name}_cpu_p95_ms: {cp95:.1f}")


if __name__ == "__main__":
    main()
