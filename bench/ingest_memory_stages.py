"""Where an import's memory goes: resident memory before, after and at its highest per stage.

Run: ``python bench/ingest_memory_stages.py FILE [--mapping TOML]`` (for
example the services CSV ``bench_ingest.py`` writes).  Prints one line per
stage of :func:`mapapp.ingest.ingest` (reading, which writes each chunk to
a Parquet part; the merge's steps on narrow columns; the duplicate search's
steps; the actors file assembled from the parts, ``write_parquet``; the rest
of the commit is in ``outside the stages``)::

    _read_inputs: 173->674 MB, highest 683 MB
    _merge/cluster_actors/_candidate_edges/_near_pairs: 788->809 MB, highest 899 MB

Why sampled: the peak of a stage is what decides whether a national import
fits in memory, and ``ru_maxrss`` only gives the peak of the whole process.
A thread reads ``/proc/self/statm`` every 20 ms and keeps the highest value
seen under the current stack of stages (a stage shorter than that may be
missed).  The import runs in this process on an empty temporary store,
without geocoding.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mapapp.ingest.dedupe as dedupe
import mapapp.ingest.parts as parts
import mapapp.ingest.pipeline as pipeline
from mapapp.settings import Settings

PAGE = os.sysconf("SC_PAGE_SIZE")
STAGES = {
    pipeline: [
        "_read_inputs",
        "_merge",
        "_read_old",
        "_hold_degraded",
        "_diff",
        "cluster_actors",
        "_report_merges",
        "_describe",
        "_updated_fields",
    ],
    pipeline._Run: ["rows"],
    parts.AssembledActors: ["write_parquet"],
    dedupe: ["_candidate_edges", "_near_pairs", "_identical_edges", "_assemble"],
}


def rss_mb() -> int:
    """This process's resident memory now, in MB."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE // 2**20


class Sampler:
    """The highest resident memory seen under each stack of stages."""

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.highest: dict[str, int] = {}
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            key = "/".join(self.stack)
            self.highest[key] = max(self.highest.get(key, 0), rss_mb())
            time.sleep(0.02)

    def wrap(self, owner: Any, name: str) -> None:
        """Replace ``owner.name`` by a function that reports its stage's memory."""
        inner = getattr(owner, name)

        @functools.wraps(inner)
        def staged(*args: Any, **kwargs: Any) -> Any:
            self.stack.append(name)
            before = rss_mb()
            try:
                return inner(*args, **kwargs)
            finally:
                key = "/".join(self.stack)
                self.stack.pop()
                top = max(self.highest.get(key, 0), rss_mb())
                print(f"{key}: {before}->{rss_mb()} MB, highest {top} MB", flush=True)

        setattr(owner, name, staged)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--mapping", type=Path, default=None)
    args = parser.parse_args()
    sampler = Sampler()
    for module, names in STAGES.items():
        for name in names:
            sampler.wrap(module, name)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env({**os.environ, "MAPAPP_DATA_DIR": tmp})
        t0 = time.process_time()
        report = pipeline.ingest(
            [args.file],
            settings=settings,
            mapping=args.mapping,
            geocode=False,
            report_path=Path(tmp) / "r.json",
        )
    print(f"cpu_s: {time.process_time() - t0:.1f}")
    print(f"read: {report['read']}, balanced: {report['balanced']}")
    print(f"outside the stages: highest {sampler.highest.get('', 0)} MB")
    print(f"peak_mb: {max(sampler.highest.values())}")


if __name__ == "__main__":
    main()
