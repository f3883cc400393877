"""Load benchmark: the REST API and the Streamlit app under concurrent users, embedded and PostGIS.

Run: ``python bench/run.py load`` (or ``python bench/bench_load.py [--actors N]
[--only api|app] [--stores embedded,postgis]``).  Prints ``name: value`` lines.

What it does, all on loopback, with ``--actors`` (default 100,000) services
drawn by ``bench/synthetic.py`` (clustered by population, wide text columns)
written to a fresh embedded store, and to PostGIS when ``MAPAPP_TEST_PG_URL``
is set (``MAPAPP_PG_PORT=55480 bash tools/pg.sh start`` prints it; a
``mapapp_bench`` database is created and dropped there):

**API** (``load_api_<store>_c<clients>_*``): ``mapapp api --workers 2`` (no
rate limit); 50 and 200 clients, each on one keep-alive connection (a bare
asyncio HTTP/1.1 client, so the client's own CPU stays small) sending its next
request when the previous one answered (closed loop): the 10 nearest services
for one obstacle around a random commune.  The baseline is interleaved in the
same run: every tenth request is ``GET /api/v1/types`` (no search: the
framework, middleware and JSON floor), reported as ``*_floor_p50_ms``.
``*_client_cpu_ms`` is the client's own CPU per request (it shares the 2
cores; its loop is uvloop when installed, ``*_client_loop``).  Before
measuring, the benchmark waits until every worker has built its index
(their CPU at rest): a worker accepts connections only then.
``*_server_cpu_split`` is each server process's share of the server CPU
(the workers' balance).  With PostGIS, ``*_db_cpu_ms`` is the CPU the
PostgreSQL server spent per request (the postmaster, found from a
backend's parent, its live children and those it reaped: connections,
autovacuum, checkpoints).  A second, clearly named figure follows the strict closed loop:
``*_c200_think1s_*``, 200 clients that each wait about a second (0.75-1 s)
between an answer and their next request, as locust's users do
(``BENCH_THINK_S``; 0 leaves it out).

**App** (``load_app_<store>_s<sessions>_*``): two ``streamlit run`` processes
(the hardened options of ``mapapp serve``) on two ports, sessions split
between them; each session speaks Streamlit's own websocket protocol
(``/_stcore/stream``, protobuf ``BackMsg`` up, ``ForwardMsg`` down, as the
browser does).  The sessions move in lock step (:func:`app_load`): all open
the page (a rerun with no widget state), then all search at the same moment
(a rerun carrying the form's widget state, a commune and one need, and the
submit button's trigger, timed until the server says the script finished),
then all press "modifier", then all search again.  The headline is the strict
reading of the goal: ``*_search_p95_ms``, every session searching at once.
Per kind of rerun (``search``, ``edit`` for "modifier", ``page``):
``*_<kind>_server_cpu_ms`` (server CPU of all app processes during that step,
per rerun: script, websocket, protobuf, garbage collection),
``*_<kind>_script_cpu_ms_median`` (the script's own thread, timed by the app
because the benchmark sets ``MAPAPP_PROFILE_RERUNS``) and
``*_<kind>_gc_ms_mean`` (wall time of the process's garbage collections
while a rerun ran; overlapping reruns count the same collection), and the
collections really spent per rerun, all processes, counted once each
(``*_<kind>_gc_total_ms``, ``*_<kind>_gc<generation>_per_rerun``);
``*_rss_mb_max`` is the largest app process's resident memory after the
step.  As the browser does, a rerun triggered by a widget drawn inside a
fragment (the search form, "modifier") names that fragment, and the server
reruns only it (``script_finished`` 3 instead of 0).  A rerun
counts as an error when it times out, raises, or does not end as expected
(the form after opening and "modifier", the results summary after a search).
``--profile DIR`` instead runs one app process under cProfile with six
sessions one after the other and writes each kind's merged profile there.

Each figure comes with ``*_loadavg`` (1-minute load average when it was
taken: the machine is shared by several people, and its 2 cores serve the
client and the server) and ``*_server_cpu_ms*`` (server CPU per request or
rerun, all its processes).  The whole run is bounded: a fixed number of
requests and searches, every wait has a timeout, a store's API or app stage
starts only with 150 s of ``BENCH_BUDGET_S`` (default 480 s) left, and a
concurrency level only within it.  On the shared machine both stores do not fit
in 8 minutes: run ``--stores embedded`` and ``--stores postgis`` one after the
other (each within 8 minutes; figures in docs/deployment.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from synthetic import clustered_points, synthetic_actors  # noqa: E402

from mapapp.geo.communes import analysis_units, load_geography  # noqa: E402
from mapapp.settings import Settings  # noqa: E402
from mapapp.store.parquet import ParquetStore  # noqa: E402
from mapapp.taxonomy import Obstacle  # noqa: E402

API_PORT = int(os.environ.get("BENCH_PORT", "8680"))
APP_PORTS = (API_PORT + 1, API_PORT + 2)
API_REQUESTS = int(os.environ.get("BENCH_REQUESTS", "3000"))
API_CLIENTS = (50, 200)
#: The open figure beside the strict one: 200 clients each waiting this long
#: between an answer and its next request (locust's users), seconds.
API_THINK_S = float(os.environ.get("BENCH_THINK_S", "1.0"))
API_WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
APP_SESSIONS = (20, 50)
APP_SEARCHES = 2  # per session
BUDGET_S = float(os.environ.get("BENCH_BUDGET_S", "480"))
T0 = time.monotonic()


def over_budget(margin: float = 0.0) -> bool:
    """Whether the run has spent its time budget, or will with ``margin`` more seconds."""
    return time.monotonic() - T0 + margin > BUDGET_S


def emit(name: str, value: float | str) -> None:
    text = f"{value:.1f}" if isinstance(value, float) else str(value)
    print(f"{name}: {text}", flush=True)


def percentiles(prefix: str, seconds: Sequence[float]) -> None:
    if seconds:
        ms = np.asarray(seconds) * 1000
        emit(f"{prefix}_p50_ms", float(np.percentile(ms, 50)))
        emit(f"{prefix}_p95_ms", float(np.percentile(ms, 95)))


# --------------------------------------------------------------------- processes


def group_cpu(pgid: int) -> dict[int, float]:
    """CPU seconds (user + system) of each live process in process group ``pgid``, by pid."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid:  # fields[0] is the state; pgrp is the 5th field overall
            out[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    return out


def group_cpu_s(pgid: int) -> float:
    """CPU seconds (user + system) of every live process in process group ``pgid``."""
    return sum(group_cpu(pgid).values())


def _stat(pid: int | str) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (None when gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def pg_server_pid(url: str) -> int | None:
    """The postmaster's pid of the PostgreSQL server at ``url`` when it runs on this machine.

    Asked to the server itself (its backend's parent), so no process name is guessed;
    None when the server is elsewhere or ``/proc`` does not show it.
    """
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
    fields = _stat(row[0]) if row else None
    return int(fields[1]) if fields else None


def pg_cpu_s(postmaster: int) -> float:
    """CPU seconds of a PostgreSQL server: the postmaster, its live children (backends,
    autovacuum, checkpointer...) and the children it has already reaped (a connection's
    backend that ended counts through the postmaster's ``cutime``/``cstime``)."""
    tick = os.sysconf("SC_CLK_TCK")
    own = _stat(postmaster)
    if own is None:
        return float("nan")
    total = sum(int(v) for v in own[11:15])  # utime stime cutime cstime
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(postmaster):
            fields = _stat(entry.name)
            if fields is not None and int(fields[1]) == postmaster:
                total += int(fields[11]) + int(fields[12])
    return total / tick


def rss_mb(pid: int) -> float:
    """Resident memory of process ``pid`` (MB), 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def ensure_free(*ports: int) -> None:
    """Stop with a clear message when a port is taken: a server left by an earlier run
    would answer in place of the one under test (its figures would be another's)."""
    import socket

    for port in ports:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                raise SystemExit(
                    f"port {port} is in use (a server left by an earlier run? "
                    f"'ss -ltnp | grep {port}'); set BENCH_PORT to another base port"
                )


def start(cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    ensure_free(
        *(int(cmd[i + 1]) for i, a in enumerate(cmd[:-1]) if a in ("--port", "--server.port"))
    )
    return subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


# --------------------------------------------------------------------- the API


def api_queries(units: Any, n: int) -> list[bytes]:
    """Request targets: nine searches around communes drawn by population, then the floor."""
    lat, lon, _ = clustered_points(units, n, seed=5)
    rng = np.random.default_rng(5)
    obstacles = rng.choice([o.value for o in Obstacle], n)
    out = []
    for k, (la, lo, o) in enumerate(zip(lat, lon, obstacles, strict=True)):
        if k % 10 == 9:
            out.append(b"/api/v1/types")
            continue
        q = {"lat": round(float(la), 5), "lon": round(float(lo), 5), "obstacles": o, "size": 10}
        out.append(("/api/v1/services?" + str(httpx.QueryParams(q))).encode("ascii"))
    return out


def api_warm(port: int, targets: list[bytes], timeout: float = 300.0) -> float:
    """Wait until searches answer fast (every worker built its index); seconds waited."""
    start_t = time.monotonic()
    fast = k = 0
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
        while fast < 4 * API_WORKERS:
            if time.monotonic() - start_t > timeout:
                raise RuntimeError("the API never became ready")
            try:
                t = time.perf_counter()
                r = client.get(targets[k % 9].decode())
                took = time.perf_counter() - t
            except httpx.TransportError:
                time.sleep(0.5)
                continue
            k += 1
            fast = fast + 1 if r.status_code == 200 and took < 0.5 else 0
    return time.monotonic() - start_t


def settle(pgid: int, timeout: float = 300.0) -> float:
    """Wait until the server's processes are idle (under 5 % of a core over a second).

    Why: :func:`api_warm` talks on one connection, so to one worker; another
    may still be building its index, and a worker only accepts connections
    once built, so a run started then would give all its connections to the
    first one (measured: a 100/0 CPU split at 50 clients).  Seconds waited.
    """
    t0 = time.monotonic()
    before = group_cpu_s(pgid)
    while time.monotonic() - t0 < timeout:
        time.sleep(1.0)
        now = group_cpu_s(pgid)
        if now - before < 0.05:
            break
        before = now
    return time.monotonic() - t0


def client_loop() -> str:
    """The client's event loop: uvloop when installed (the loop the server runs on;
    the client shares the 2 cores with it), else asyncio's.
    ``BENCH_CLIENT_LOOP=asyncio`` forces the plain one (``*_client_cpu_ms`` tells
    what the client costs either way)."""
    if os.environ.get("BENCH_CLIENT_LOOP", "uvloop") == "uvloop":
        try:
            import uvloop  # noqa: F401
        except ImportError:
            return "asyncio"
        return "uvloop"
    return "asyncio"


def run_client(coro: Any) -> Any:
    """Run the load client's coroutine on :func:`client_loop`'s loop."""
    if client_loop() == "uvloop":
        import uvloop

        return uvloop.run(coro)
    return asyncio.run(coro)


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


@dataclass
class ApiRun:
    search: list[float] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)
    errors: int = 0
    wall: float = 0.0


async def api_load(port: int, targets: list[bytes], clients: int, think: float = 0.0) -> ApiRun:
    """``clients`` connections, each sending its next request when the previous one answered.

    With ``think`` > 0, each waits that long first (a person reading), a
    quarter of it at random so the clients do not march in step.
    """
    rng = np.random.default_rng(7)
    run = ApiRun()
    next_k = iter(range(API_REQUESTS))

    async def one_client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for k in next_k:
                target = targets[k % len(targets)]
                t = time.perf_counter()
                try:
                    async with asyncio.timeout(60):  # no task per request, as wait_for makes
                        status, body = await _get(reader, writer, target)
                    ok = status == 200 and body[:1] in (b"{", b"[")
                except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                    ok = False
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                took = time.perf_counter() - t
                if think > 0:
                    await asyncio.sleep(think * (0.75 + 0.25 * rng.random()))
                (run.floor if target == b"/api/v1/types" else run.search).append(took)
                run.errors += 0 if ok else 1
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(one_client() for _ in range(clients)))
    run.wall = time.perf_counter() - t0
    return run


def bench_api(store: str, env: dict[str, str], targets: list[bytes]) -> None:
    cmd = [sys.executable, "-m", "mapapp", "api", "--host", "127.0.0.1"]
    cmd += ["--port", str(API_PORT), "--workers", str(API_WORKERS)]
    proc = start(cmd, env)
    name = f"load_api_{store}"
    db = pg_server_pid(env["MAPAPP_STORE_URL"]) if env.get("MAPAPP_STORE_URL") else None
    try:
        emit(f"{name}_ready_s", api_warm(API_PORT, targets) + settle(proc.pid))
        emit(f"{name}_client_loop", client_loop())
        for clients in API_CLIENTS:
            if over_budget():
                emit(f"{name}_c{clients}", "skipped (time budget spent)")
                continue
            cpu0, cpu_client0 = group_cpu(proc.pid), time.process_time()
            db0 = pg_cpu_s(db) if db else 0.0
            run = run_client(api_load(API_PORT, targets, clients))
            cpu1 = group_cpu(proc.pid)
            done = len(run.search) + len(run.floor)
            prefix = f"{name}_c{clients}"
            percentiles(prefix, run.search)
            percentiles(f"{prefix}_floor", run.floor)
            emit(f"{prefix}_errors", str(run.errors))
            emit(f"{prefix}_requests", str(done))
            emit(f"{prefix}_rps", done / run.wall)
            spent = {pid: cpu1[pid] - cpu0.get(pid, 0.0) for pid in cpu1}
            emit(f"{prefix}_server_cpu_ms", sum(spent.values()) / done * 1000)
            # Each process's share of the server CPU (the workers' balance: an uneven
            # accept leaves one worker with more connections, hence the tail).
            shares = sorted(
                (v / max(sum(spent.values()), 1e-9) for v in spent.values()), reverse=True
            )
            emit(
                f"{prefix}_server_cpu_split",
                "/".join(f"{100 * v:.0f}" for v in shares if v >= 0.005),
            )
            emit(
                f"{prefix}_client_cpu_ms",
                f"{(time.process_time() - cpu_client0) / done * 1000:.2f}",
            )
            if db:
                emit(f"{prefix}_db_cpu_ms", f"{(pg_cpu_s(db) - db0) / done * 1000:.3f}")
            emit(f"{prefix}_loadavg", f"{os.getloadavg()[0]:.2f}")
        if API_THINK_S > 0 and not over_budget():
            api_think(proc, name, targets, max(API_CLIENTS), db)
    finally:
        stop(proc)


def api_think(
    proc: subprocess.Popen[bytes],
    name: str,
    targets: list[bytes],
    clients: int,
    db: int | None = None,
) -> None:
    """The second figure: ``clients`` users who read for about :data:`API_THINK_S` between requests.

    Not the goal's strict reading (that is the closed loop above): what a
    locust run with a wait time would show, named ``*_think<S>s_*``.
    """
    cpu0, cpu_client0 = group_cpu_s(proc.pid), time.process_time()
    db0 = pg_cpu_s(db) if db else 0.0
    run = run_client(api_load(API_PORT, targets, clients, think=API_THINK_S))
    done = len(run.search) + len(run.floor)
    prefix = f"{name}_c{clients}_think{API_THINK_S:g}s"
    percentiles(prefix, run.search)
    emit(f"{prefix}_errors", str(run.errors))
    emit(f"{prefix}_rps", done / run.wall)
    emit(f"{prefix}_server_cpu_ms", (group_cpu_s(proc.pid) - cpu0) / done * 1000)
    emit(f"{prefix}_client_cpu_ms", f"{(time.process_time() - cpu_client0) / done * 1000:.2f}")
    if db:
        emit(f"{prefix}_db_cpu_ms", f"{(pg_cpu_s(db) - db0) / done * 1000:.3f}")
    emit(f"{prefix}_loadavg", f"{os.getloadavg()[0]:.2f}")


# --------------------------------------------------------------------- the app


def app_places(geo: Any, units: Any, n: int) -> list[str]:
    """``n`` commune names a person would type, drawn by population, each naming one commune."""
    from mapapp.geo.places import resolve_place

    _, _, rows = clustered_points(units, 4 * n, seed=9)
    out: list[str] = []
    for r in rows:
        text = f"{units['nom'].iloc[r]} {units['departement'].iloc[r]}"
        try:
            resolve_place(text, geo)
        except ValueError:  # ambiguous or unknown (both are ValueErrors): not a one-step search
            continue
        out.append(text)
        if len(out) == n:
            break
    return out


class Session:
    """One visitor on Streamlit's websocket: what a browser tab sends and waits for."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.widgets: dict[str, Any] = {}  # user key (or "submit") -> the widget's proto
        self.fragments: dict[str, str] = {}  # user key -> the fragment drawing it ("" if none)

    async def rerun(self, states: Iterable[tuple[str, str, Any]] = ()) -> tuple[float, bool]:
        """Send a rerun with ``(widget key, proto field, value)`` states; wait for its end.

        Returns the seconds until ``script_finished`` and whether the run ended
        cleanly (finished successfully, no exception element drawn).
        """
        # The client side of the protocol: the benchmark speaks it, the core never does.
        from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: TID251
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: TID251

        back = BackMsg()
        back.rerun_script.query_string = ""
        for key, kind, value in states:
            state = back.rerun_script.widget_states.widgets.add()
            state.id = self.widgets[key].id
            # As the browser does: a widget drawn by a fragment reruns that fragment only.
            if kind == "trigger_value" and self.fragments.get(key):
                back.rerun_script.fragment_id = self.fragments[key]
            if kind == "string_array_value":
                state.string_array_value.data.extend(value)
            else:
                setattr(state, kind, value)
        t = time.perf_counter()
        await self.ws.send(back.SerializeToString())
        self.widgets = {}
        clean = True
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(await self.ws.recv())
            what = msg.WhichOneof("type")
            if what == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                sub = getattr(element, element.WhichOneof("type") or "empty")
                wid = str(getattr(sub, "id", ""))
                if wid:
                    key = "submit" if "FormSubmitter" in wid else wid.rsplit("-", 1)[1]
                    self.widgets[key] = sub
                    self.fragments[key] = msg.delta.fragment_id
                clean = clean and element.WhichOneof("type") != "exception"
            elif what == "script_finished":
                # 0: the whole script ran; 3: a fragment's rerun ended (both successfully)
                return time.perf_counter() - t, clean and msg.script_finished in (0, 3)


#: The kinds of rerun a session makes, in order: open the page, search,
#: press "modifier", search again (``search`` is both searches).
APP_STEPS = ("page", "search", "edit", "search")


@dataclass
class AppRun:
    times: dict[str, list[float]] = field(default_factory=dict)  # kind -> seconds each
    cpu_s: dict[str, float] = field(default_factory=dict)  # kind -> server CPU, all processes
    gc: dict[str, Any] = field(default_factory=dict)  # kind -> collections and ms per generation
    errors: int = 0


async def app_step(s: Session, kind: str, place: str, need: int) -> tuple[float, bool]:
    """One rerun of ``kind`` for session ``s``; seconds and whether it ended as it should."""
    if kind == "page":
        took, clean = await asyncio.wait_for(s.rerun(), 180)
        return took, clean and "f_obstacles" in s.widgets
    if kind == "edit":
        took, clean = await asyncio.wait_for(s.rerun([("edit_search", "trigger_value", True)]), 180)
        return took, clean and "f_place" in s.widgets
    label = s.widgets["f_obstacles"].options[need].content
    states = [
        ("f_place", "string_value", place),
        ("f_obstacles", "string_array_value", [label]),
        ("submit", "trigger_value", True),
    ]
    took, clean = await asyncio.wait_for(s.rerun(states), 180)
    return took, clean and "edit_search" in s.widgets


async def _connect(port: int) -> Any:
    import websockets
    from websockets.typing import Subprotocol

    url = f"ws://127.0.0.1:{port}/_stcore/stream"
    return await asyncio.wait_for(
        websockets.connect(url, subprotocols=[Subprotocol("streamlit")], max_size=None), 60
    )


async def app_load(
    places: list[str],
    sessions: int,
    cpu: Any = None,
    ports: Sequence[int] = APP_PORTS,
    gc: Any = None,
) -> AppRun:
    """``sessions`` visitors in lock step: all open the page, then all search, and so on.

    Each step starts for every session at once and ends when the last one is
    answered, so the server CPU spent during a step (``cpu()``, seconds, all
    server processes) is that kind of rerun's cost; a search step is the
    strict reading of the goal: every session searches at the same moment.
    ``gc()`` (optional) gives the server processes' garbage collections so
    far (:func:`_gc_totals`): their difference over a step is that step's.
    A session that failed a step is counted once as an error and left out of
    the next steps.
    """
    run = AppRun()
    opened = await asyncio.gather(
        *(_connect(ports[i % len(ports)]) for i in range(sessions)), return_exceptions=True
    )
    alive: dict[int, Session] = {}
    for i, ws in enumerate(opened):
        if isinstance(ws, BaseException):
            run.errors += 1
        else:
            alive[i] = Session(ws)

    async def one(i: int, kind: str, place: str) -> None:
        try:
            took, ok = await app_step(alive[i], kind, place, i % len(Obstacle))
        except (TimeoutError, OSError, KeyError, IndexError, ValueError) as exc:
            took, ok = float("nan"), False
            print(f"# session error: {type(exc).__name__}", file=sys.stderr, flush=True)
        if ok:
            run.times.setdefault(kind, []).append(took)
        else:
            run.errors += 1
            await alive.pop(i).ws.close()

    try:
        searched = 0
        for kind in APP_STEPS:
            c0 = cpu() if cpu else 0.0
            g0 = gc() if gc else None
            await asyncio.gather(
                *(
                    one(i, kind, places[(i * APP_SEARCHES + searched) % len(places)])
                    for i in list(alive)
                )
            )
            searched += kind == "search"
            run.cpu_s[kind] = run.cpu_s.get(kind, 0.0) + ((cpu() - c0) if cpu else 0.0)
            if gc:
                run.gc[kind] = run.gc.get(kind, 0.0) + (gc() - g0)
    finally:
        await asyncio.gather(*(s.ws.close() for s in alive.values()), return_exceptions=True)
    return run


def app_ready(port: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the app on port {port} did not start within {timeout:.0f} s")


def _script_cpu(folder: Path) -> dict[str, list[tuple[float, float]]]:
    """Per kind, each rerun's (script-thread CPU ms, gc ms) the app wrote (then cleared)."""
    out: dict[str, list[tuple[float, float]]] = {}
    path = folder / "cpu.txt"
    if path.exists():
        for line in path.read_text().splitlines():
            kind, ms, gc_ms = line.split()
            out.setdefault(kind, []).append((float(ms), float(gc_ms)))
        path.unlink()
    return out


def _gc_totals(folder: Path) -> Any:
    """The app processes' collections so far: ``[n0, ms0, n1, ms1, n2, ms2]`` summed.

    Each process rewrites ``gc-<pid>.txt`` after every rerun
    (``mapapp/ui/profiling.py``): unlike ``*_gc_ms_mean`` (collections that
    happened while a rerun ran, counted once per overlapping rerun) these add
    up to the GC time the processes really spent.
    """
    total = np.zeros(6)
    for path in folder.glob("gc-*.txt"):
        try:
            total += np.asarray(path.read_text().split(), dtype=float)
        except (OSError, ValueError):  # being rewritten: read it at the next step
            continue
    return total


def bench_app(store: str, env: dict[str, str], places: list[str]) -> None:
    from mapapp.commands.serve import streamlit_command

    timing = Path(tempfile.mkdtemp(prefix="mapapp-load-cpu-"))
    env = {**env, PROFILE_ENV: str(timing), MODE_ENV: "cpu"}  # script CPU per rerun, no profiler
    procs = [start(streamlit_command(host="127.0.0.1", port=p), env) for p in APP_PORTS]
    name = f"load_app_{store}"
    try:
        t = time.monotonic()
        for port in APP_PORTS:
            app_ready(port)
        # One session per process pays the imports, the geography and the index.
        warm = asyncio.run(app_load(places, len(APP_PORTS)))
        if warm.errors:
            raise RuntimeError("the app did not answer a first search")
        emit(f"{name}_ready_s", time.monotonic() - t)
        _script_cpu(timing)
        for sessions in APP_SESSIONS:
            if over_budget():
                emit(f"{name}_s{sessions}", "skipped (time budget spent)")
                continue

            def cpu() -> float:
                return sum(group_cpu_s(p.pid) for p in procs)

            run = asyncio.run(app_load(places, sessions, cpu, gc=lambda: _gc_totals(timing)))
            prefix = f"{name}_s{sessions}"
            for kind in ("search", "edit", "page"):
                percentiles(f"{prefix}_{kind}", run.times.get(kind, []))
            emit(f"{prefix}_errors", str(run.errors))
            emit(f"{prefix}_searches", str(len(run.times.get("search", []))))
            script = _script_cpu(timing)
            for kind in ("search", "edit", "page"):
                n = len(run.times.get(kind, []))
                emit(f"{prefix}_{kind}_server_cpu_ms", run.cpu_s.get(kind, 0.0) / max(1, n) * 1000)
                rows = np.asarray(script.get(kind, [(np.nan, np.nan)]))
                emit(f"{prefix}_{kind}_script_cpu_ms_median", float(np.median(rows[:, 0])))
                emit(f"{prefix}_{kind}_gc_ms_mean", float(np.mean(rows[:, 1])))
                gens = run.gc.get(kind, np.zeros(6)) / max(1, n)
                emit(f"{prefix}_{kind}_gc_total_ms", float(gens[1] + gens[3] + gens[5]))
                for g in range(3):
                    emit(f"{prefix}_{kind}_gc{g}_per_rerun", f"{gens[2 * g]:.1f}")
            reruns = sum(len(v) for v in run.times.values())
            emit(
                f"{prefix}_server_cpu_ms_per_rerun", sum(run.cpu_s.values()) / max(1, reruns) * 1000
            )
            emit(f"{prefix}_rss_mb_max", max(rss_mb(p.pid) for p in procs))
            emit(f"{prefix}_loadavg", f"{os.getloadavg()[0]:.2f}")
    finally:
        for proc in procs:
            stop(proc)
        for f in timing.iterdir():
            f.unlink()
        timing.rmdir()


#: The app measures each rerun when this names a folder (mapapp/ui/profiling.py).
PROFILE_ENV = "MAPAPP_PROFILE_RERUNS"
#: ``cpu``: the app times its reruns without the profiler.
MODE_ENV = "MAPAPP_PROFILE_MODE"


def profile_app(env: dict[str, str], places: list[str], folder: Path, sessions: int = 6) -> None:
    """One app process, ``sessions`` visitors one after the other, every rerun profiled.

    The app writes a cProfile file per rerun into ``folder`` (only when
    ``MAPAPP_PROFILE_RERUNS`` is set, as here) and the server's main thread
    (the event loop: websocket, protobuf) is profiled as a whole; this prints
    each kind's median script CPU (profiler on: inflated) and writes
    ``<kind>.txt`` and ``server.txt``, the profiles sorted by time.
    """
    import pstats

    from mapapp.commands.serve import streamlit_command

    folder.mkdir(parents=True, exist_ok=True)
    cmd = streamlit_command(host="127.0.0.1", port=APP_PORTS[0])
    cmd[1:1] = ["-m", "cProfile", "-o", str(folder / "server.prof")]
    proc = start(cmd, {**env, PROFILE_ENV: str(folder)})
    try:
        app_ready(APP_PORTS[0])
        asyncio.run(app_load(places, 1, ports=APP_PORTS[:1]))
        for old in folder.glob("*.prof"):
            old.unlink()
        _script_cpu(folder)
        errors = 0
        for i in range(sessions):
            errors += asyncio.run(app_load(places[2 * i + 1 :], 1, ports=APP_PORTS[:1])).errors
        emit("profile_app_errors", str(errors))
    finally:
        stop(proc)
    for kind, rows in sorted(_script_cpu(folder).items()):
        emit(f"profile_app_{kind}_script_cpu_ms_median", float(np.median([r[0] for r in rows])))
        files = [str(f) for f in folder.glob(f"{kind}-*.prof")]
        with open(folder / f"{kind}.txt", "w", encoding="utf-8") as out:
            stats = pstats.Stats(*files, stream=out)
            stats.sort_stats("cumulative").print_stats(60)
            stats.sort_stats("tottime").print_stats(30)
    if (folder / "server.prof").exists():
        with open(folder / "server.txt", "w", encoding="utf-8") as out:
            stats = pstats.Stats(str(folder / "server.prof"), stream=out)
            stats.sort_stats("tottime").print_stats(40)
            stats.sort_stats("cumulative").print_stats(60)


# --------------------------------------------------------------------- stores


def pg_bench_url(admin: str) -> str:
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS mapapp_bench WITH (FORCE)")
        conn.execute("CREATE DATABASE mapapp_bench")
    url = admin.rsplit("/", 1)[0] + "/mapapp_bench"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return url


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actors", type=int, default=int(os.environ.get("BENCH_ACTORS", 100_000)))
    parser.add_argument("--only", choices=["api", "app"], default=None)
    parser.add_argument("--stores", default=os.environ.get("BENCH_STORES", "embedded,postgis"))
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="profile the app's reruns into this folder (one process, sessions one by one)",
    )
    args = parser.parse_args(argv)
    # bench/run.py stops an overrunning benchmark with SIGTERM first: exit through the
    # ``finally`` blocks so the servers (in process groups of their own) are stopped too
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    stores = args.stores.split(",")
    geo = load_geography(Settings.from_env().cache_dir)
    units = analysis_units(geo.communes)
    targets = api_queries(units, 2000)
    places = app_places(geo, units, 200)
    actors = synthetic_actors(units, args.actors)
    emit("load_services", str(len(actors)))
    emit("load_cpus", str(os.cpu_count()))
    base = {
        **os.environ,
        "MAPAPP_API_RATE_LIMIT": "0",
        "MAPAPP_TILES": "none",
        "PYTHONPATH": str(ROOT),
        "MAPAPP_CACHE_DIR": str(Settings.from_env().cache_dir),  # the geography, built once
    }
    base.pop("MAPAPP_STORE_URL", None)
    with tempfile.TemporaryDirectory(prefix="mapapp-load-") as tmp:
        envs: dict[str, dict[str, str]] = {}
        if "embedded" in stores:
            ParquetStore(tmp).write_actors(actors)
            envs["embedded"] = {**base, "MAPAPP_DATA_DIR": tmp}
        admin = os.environ.get("MAPAPP_TEST_PG_URL")
        if "postgis" in stores and not admin:
            emit("load_postgis", "skipped (set MAPAPP_TEST_PG_URL: bash tools/pg.sh start)")
        elif "postgis" in stores:
            from mapapp.store.postgis import PostgisStore

            url = pg_bench_url(admin or "")
            t = time.perf_counter()
            PostgisStore(url).write_actors(actors)
            emit("load_postgis_import_s", time.perf_counter() - t)
            pg_dir = Path(tmp) / "pg"
            pg_dir.mkdir()
            envs["postgis"] = {
                **base,
                "MAPAPP_DATA_DIR": str(pg_dir),
                "MAPAPP_STORE_URL": url,
            }
        del actors
        if args.profile is not None:
            for store, env in envs.items():
                profile_app(env, places, args.profile / store)
            return 0
        for store, env in envs.items():
            for part in ("api", "app"):
                if args.only not in (None, part):
                    continue
                if over_budget(margin=150):  # starting servers and warming them takes minutes
                    emit(f"load_{part}_{store}", "skipped (time budget spent)")
                elif part == "api":
                    bench_api(store, env, targets)
                else:
                    bench_app(store, env, places)
    emit("load_total_s", time.monotonic() - T0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
