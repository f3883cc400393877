"""Load benchmark: the REST API under 50 and 200 concurrent clients, embedded store and PostGIS.

Run: ``python bench/run.py load`` (or ``python bench/bench_load.py``).  Prints
``name: value`` lines: p50 and p95 latency (ms), errors and requests per
second for each store × concurrency.

What it does, all on loopback:

1. writes ``BENCH_ACTORS`` (default 100,000) synthetic services to a fresh
   embedded store, and to PostGIS when ``MAPAPP_TEST_PG_URL`` is set (``bash
   tools/pg.sh start`` prints it; a ``mapapp_bench`` database is created);
2. starts ``mapapp api --workers 2`` on port ``BENCH_PORT`` (8610) with no
   rate limit, waits until both workers answer searches;
3. each client (one keep-alive connection, a bare asyncio HTTP/1.1 client so
   that the client's own CPU cost stays small) sends requests one after
   another (closed loop): a search of
   the 10 nearest services for one obstacle around a random commune of
   metropolitan France; ``BENCH_REQUESTS`` (default 3,000) requests in all per
   run; an error is a non-200 answer or a failed connection.

The machine is shared and has 2 cores for the server *and* the client, so
figures are an upper bound of what a dedicated server would show.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_search import synthetic_actors  # noqa: E402

from mapapp.geo.communes import analysis_units, load_geography  # noqa: E402
from mapapp.settings import Settings  # noqa: E402
from mapapp.store.parquet import ParquetStore  # noqa: E402
from mapapp.taxonomy import Obstacle  # noqa: E402

N_ACTORS = int(os.environ.get("BENCH_ACTORS", "100000"))
N_REQUESTS = int(os.environ.get("BENCH_REQUESTS", "3000"))
PORT = int(os.environ.get("BENCH_PORT", "8610"))
CLIENTS = tuple(int(c) for c in os.environ.get("BENCH_CLIENTS", "50,200").split(","))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
STORES = os.environ.get("BENCH_STORES", "embedded,postgis").split(",")


def _queries(n: int) -> list[dict[str, Any]]:
    geo = load_geography(Settings.from_env().cache_dir)
    units = analysis_units(geo.communes)
    metro = units[~units["departement"].str.startswith("97")]
    rng = np.random.default_rng(5)
    rows = metro.iloc[rng.integers(0, len(metro), n)]
    obstacles = rng.choice([o.value for o in Obstacle], n)
    return [
        {"lat": round(float(la), 5), "lon": round(float(lo), 5), "obstacles": o, "size": 10}
        for la, lo, o in zip(rows["lat"], rows["lon"], obstacles, strict=True)
    ]


def _start(env: dict[str, str]) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "mapapp", "api", "--host", "127.0.0.1", "--port", str(PORT)]
    cmd += ["--workers", str(WORKERS)]
    return subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _warm(base: str, queries: list[dict[str, Any]], timeout: float = 600.0) -> float:
    """Wait until searches answer fast (every worker built its index); seconds waited."""
    start = time.monotonic()
    fast = 0
    with httpx.Client(base_url=base, timeout=120) as client:
        k = 0
        while fast < 4 * WORKERS:
            if time.monotonic() - start > timeout:
                raise RuntimeError("the API never became ready")
            try:
                t = time.perf_counter()
                r = client.get("/api/v1/services", params=queries[k % len(queries)])
                took = time.perf_counter() - t
            except httpx.TransportError:
                time.sleep(0.5)
                continue
            k += 1
            fast = fast + 1 if r.status_code == 200 and took < 0.5 else 0
    return time.monotonic() - start


async def _get(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, target: bytes
) -> tuple[int, bytes]:
    """One HTTP/1.1 keep-alive GET on an open connection (uvicorn always sends Content-Length)."""
    writer.write(b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    return status, await reader.readexactly(length)


async def _load(base: str, queries: list[dict[str, Any]], clients: int) -> dict[str, float]:
    """``clients`` connections, each sending its next request when the previous one answered.

    A bare asyncio HTTP/1.1 client: on a 2-core machine shared by client and
    server, httpx's own CPU cost would be measured as much as the server's.
    """
    targets = [("/api/v1/services?" + str(httpx.QueryParams(q))).encode("ascii") for q in queries]
    latencies: list[float] = []
    errors = 0
    next_query = iter(range(N_REQUESTS))
    host, port = base.rsplit("/", 1)[1].split(":")

    async def one_client() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for k in next_query:
                t = time.perf_counter()
                try:
                    status, body = await asyncio.wait_for(
                        _get(reader, writer, targets[k % len(targets)]), 60
                    )
                    ok = status == 200 and body.startswith(b'{"items"')
                except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                    ok = False
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, int(port))
                latencies.append(time.perf_counter() - t)
                errors += 0 if ok else 1
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(clients)))
    wall = time.perf_counter() - start
    ms = np.array(latencies) * 1000
    return {
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "errors": float(errors),
        "requests": float(len(ms)),
        "rps": len(ms) / wall,
    }


def _pg_bench_url(admin: str) -> str:
    import psycopg

    name = "mapapp_bench"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    url = admin.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return url


def _run_store(name: str, env: dict[str, str], queries: list[dict[str, Any]]) -> None:
    base = f"http://127.0.0.1:{PORT}"
    proc = _start(env)
    try:
        print(f"load_{name}_ready_s: {_warm(base, queries):.1f}", flush=True)
        for clients in CLIENTS:
            res = asyncio.run(_load(base, queries, clients))
            for key, value in res.items():
                print(f"load_{name}_c{clients}_{key}: {value:.1f}", flush=True)
    finally:
        _stop(proc)


def main() -> int:
    queries = _queries(2000)
    actors = synthetic_actors(N_ACTORS)
    print(f"load_services: {len(actors)}", flush=True)
    base_env = {
        **os.environ,
        "MAPAPP_API_RATE_LIMIT": "0",
        "MAPAPP_TILES": "none",
        "PYTHONPATH": str(HERE.parent),
    }
    with tempfile.TemporaryDirectory(prefix="mapapp-load-") as tmp:
        ParquetStore(tmp).write_actors(actors)
        env = {**base_env, "MAPAPP_DATA_DIR": tmp}
        env.pop("MAPAPP_STORE_URL", None)
        if "embedded" in STORES:
            _run_store("embedded", env, queries)
        if "postgis" not in STORES:
            return 0
        admin = os.environ.get("MAPAPP_TEST_PG_URL")
        if not admin:
            print("load_postgis: skipped (set MAPAPP_TEST_PG_URL; bash tools/pg.sh start)")
            return 0
        from mapapp.store.postgis import PostgisStore

        url = _pg_bench_url(admin)
        t = time.perf_counter()
        PostgisStore(url).write_actors(actors)
        print(f"load_postgis_import_s: {time.perf_counter() - t:.1f}", flush=True)
        _run_store("postgis", {**env, "MAPAPP_STORE_URL": url}, queries)
    return 0


if __name__ == "__main__":
    sys.exit(main())
