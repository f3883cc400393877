"""Server CPU per API request, in process: what one worker spends on a search.

Run: ``python bench/bench_api_cpu.py [--actors N] [--requests N] [--profile]``.
Prints ``name: value`` lines.

Why in process: on a loaded, shared machine wall times say more about the
neighbours than about the server; the CPU time (``time.process_time``) of
one request through the whole ASGI stack (middleware, routing, parameter
validation, search, JSON) is what caps the requests a core can answer.  The
ASGI application is called directly with a hand-built HTTP scope, so no
HTTP client's CPU is counted; uvicorn's own parsing (a few tens of µs with
``httptools``) is not counted either.

With ``--actors`` (default 100,000) services drawn by ``bench/synthetic.py``
written to a fresh embedded store, it reports:

* ``api_cpu_start_s_<N>``: CPU seconds to build the app and answer the first
  search (a worker's start; the kept index is written by a warm-up first);
* ``api_cpu_search_p50_ms_<N>`` / ``_p95_ms``: CPU per search (the 10 nearest
  for one obstacle around a point drawn by population, as ``bench_load.py``);
* ``api_cpu_floor_p50_ms_<N>``: the baseline, interleaved (every tenth request
  is ``GET /api/v1/types``: framework, middleware and JSON, no search);
* ``api_cpu_rss_mb_<N>``: the process's resident memory after the run (the
  synthetic frame dropped).

``--profile`` prints the 25 costliest functions of the searches (cProfile).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from synthetic import clustered_points, synthetic_actors  # noqa: E402

from mapapp.geo.communes import analysis_units, load_geography  # noqa: E402
from mapapp.settings import Settings  # noqa: E402
from mapapp.store.parquet import ParquetStore  # noqa: E402
from mapapp.taxonomy import Obstacle  # noqa: E402


def emit(name: str, value: float | str) -> None:
    text = f"{value:.3f}" if isinstance(value, float) else str(value)
    print(f"{name}: {text}", flush=True)


def rss_mb() -> float:
    """Resident memory now (MB): what the worker holds, not the peak of writing the store."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def targets(units: Any, n: int) -> list[tuple[str, bytes]]:
    """``(path, query string)``: nine searches, then the vocabulary floor."""
    lat, lon, _ = clustered_points(units, n, seed=5)
    obstacles = np.random.default_rng(5).choice([o.value for o in Obstacle], n)
    out = []
    for k, (la, lo, o) in enumerate(zip(lat, lon, obstacles, strict=True)):
        if k % 10 == 9:
            out.append(("/api/v1/types", b""))
        else:
            q = f"lat={la:.5f}&lon={lo:.5f}&obstacles={o}&size=10"
            out.append(("/api/v1/services", q.encode()))
    return out


async def call(app: Any, path: str, query: bytes) -> tuple[int, bytes]:
    """One GET through the ASGI app, as uvicorn would hand it over."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8730),
        "state": {},
    }
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def run(app: Any, plan: list[tuple[str, bytes]], profile: bool) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"search": [], "floor": []}
    prof = cProfile.Profile() if profile else None
    for path, query in plan:
        kind = "floor" if path.endswith("/types") else "search"
        if prof is not None and kind == "search":
            prof.enable()
        t = time.process_time()
        status, body = await call(app, path, query)
        out[kind].append(time.process_time() - t)
        if prof is not None:
            prof.disable()
        if status != 200 or body[:1] not in (b"{", b"["):
            raise RuntimeError(f"{path} answered {status}")
    if prof is not None:
        text = io.StringIO()
        pstats.Stats(prof, stream=text).sort_stats(
            os.environ.get("BENCH_SORT", "cumulative")
        ).print_stats(40)
        print(text.getvalue(), file=sys.stderr)
    return out


async def lifespan_start(app: Any) -> asyncio.Task[None]:
    """Run the app's startup (the lifespan builds or maps the index); the task to cancel."""
    messages = [{"type": "lifespan.startup"}]
    done = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # never: the app stays up until the loop ends
        return {}

    async def send(message: dict[str, Any]) -> None:
        if message["type"].startswith("lifespan.startup"):
            done.set()

    task = asyncio.get_running_loop().create_task(app({"type": "lifespan"}, receive, send))
    await done.wait()
    return task


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actors", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--warm",
        action="store_true",
        help="answer every request once before measuring (each record's JSON cached): "
        "the cost of the HTTP stack and the search alone",
    )
    args = parser.parse_args(argv)
    cache_dir = Settings.from_env().cache_dir
    units = analysis_units(load_geography(cache_dir).communes)
    plan = targets(units, args.requests)
    with tempfile.TemporaryDirectory(prefix="mapapp-apicpu-") as tmp:
        ParquetStore(tmp).write_actors(synthetic_actors(units, args.actors))
        gc.collect()
        env = {
            "MAPAPP_DATA_DIR": tmp,
            "MAPAPP_CACHE_DIR": str(cache_dir),
            "MAPAPP_API_RATE_LIMIT": "0",
        }
        settings = Settings.from_env(env)
        from mapapp.catalog import warm_search_cache
        from mapapp.web.app import create_app

        warm_search_cache(settings)  # what an import leaves for the workers

        async def measure() -> dict[str, list[float]]:
            t = time.process_time()
            app = create_app(settings)
            lifespan = await lifespan_start(app)
            await call(app, *plan[0])
            emit(f"api_cpu_start_s_{args.actors}", time.process_time() - t)
            # every obstacle's tree; with --warm every answer's records too
            await run(app, plan if args.warm else plan[: min(200, len(plan))], False)
            try:
                return await run(app, plan, args.profile)
            finally:
                lifespan.cancel()

        got = asyncio.run(measure())
    for kind, cpu in got.items():
        ms = np.asarray(cpu) * 1000
        tag = f"{kind}_warm" if args.warm else kind
        emit(f"api_cpu_{tag}_p50_ms_{args.actors}", float(np.percentile(ms, 50)))
        emit(f"api_cpu_{tag}_p95_ms_{args.actors}", float(np.percentile(ms, 95)))
    emit(f"api_cpu_rss_mb_{args.actors}", rss_mb())
    emit("api_cpu_loadavg", f"{os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
