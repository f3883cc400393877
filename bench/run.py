"""Run the benchmarks of ``bench/``, each in its own process, and judge them against the targets.

Usage::

    python bench/run.py                          # every bench_*.py, default sizes
    python bench/run.py coverage search          # bench_coverage.py and bench_search.py
    python bench/run.py --actors 1000000         # national scale (issue 16)
    python bench/run.py load                     # bench_load.py alone

Why one process per benchmark: one benchmark's caches, imports and memory
must not flatter (or burden) the next, and a benchmark that overruns its
budget can be stopped without losing the others' figures.

What it prints:

- a header with the machine (cores, RAM, Python) and its load average at the
  start, because this machine is shared and wall times mean little without it;
- every benchmark's own ``name: value`` lines as they come;
- ``<bench>_wall_s`` for each benchmark, and ``<bench>_timeout_s`` /
  ``<bench>_exit_code`` when one overran its budget or failed;
- the load average at the end, and a summary of every figure that ends in
  ``_<N>`` (N actors) with its target (:data:`TARGETS`) and PASS or MISS.

``--actors N`` is passed to every benchmark whose source declares an
``--actors`` option, except those of :data:`OWN_SIZE` (issue 14's load goals
are set at 100,000 services); the others run at their own size.  Each benchmark has a
budget (:data:`BUDGET_S`, 15 minutes in all at a million actors); one that
overruns is stopped, its process group killed, and reported.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent

#: Seconds each benchmark may take (at a million actors; smaller runs finish well within).
#: They add up to 15 minutes: the whole national run must fit in that.
BUDGET_S: dict[str, float] = {
    "ingest": 270.0,
    "search": 200.0,
    "coverage": 200.0,
    "app": 100.0,
    "first_load": 60.0,
    "load": 70.0,
}
DEFAULT_BUDGET_S = 60.0

#: Seconds a benchmark named on the command line may take (``python bench/run.py
#: load`` runs both stores, a few minutes each): the budgets above bound the
#: national run of every benchmark at once.
NAMED_BUDGET_S = 1200.0

#: Benchmarks measured at their own size whatever ``--actors`` says: issue 14's
#: goals (the API and the app under load) are set for 100,000 services.
OWN_SIZE: frozenset[str] = frozenset({"api_cpu", "load"})


class Target(NamedTuple):
    """A figure's bound: ``value <op> bound`` passes."""

    op: str  # "<=" or ">="
    bound: float
    source: str


#: The targets of issue 16 (national scale, at 1M services), by figure name
#: without its ``_<N>`` suffix.  Times in seconds unless the name says ms.
TARGETS: dict[str, Target] = {
    "app_search_speedup_vs_sjoin_nearest": Target(">=", 20.0, "issue 16"),
    "app_search_median_ms": Target("<=", 1.0, "issue 16"),
    "page_search_server_cpu_ms": Target("<=", 50.0, "issue 16"),
    "first_search_s": Target("<=", 3.0, "issue 16"),
    "rss_mb": Target("<=", 1024.0, "issue 16 (1 GiB)"),
    "ingest_s": Target("<=", 120.0, "issue 16 (wall)"),
    "ingest_peak_mb": Target("<=", 2048.0, "issue 16 (2 GiB)"),
    "reimport_speedup": Target(">=", 3.0, "issue 16"),
    "coverage_s": Target("<=", 0.5, "issue 16"),
    "coverage_speedup_vs_sjoin_nearest_cpu": Target(">=", 2.5, "issue 16"),
    "twosfca_s": Target("<=", 1.5, "issue 16 (10 km)"),
    "twosfca_fresh_s": Target("<=", 1.5, "issue 16 (10 km, pairs found again)"),
    "twosfca_speedup_vs_sjoin_nearest_cpu": Target(">=", 2.5, "issue 16"),
}

_LINE = re.compile(r"^([A-Za-z_][\w.-]*):\s*(\S.*)$")
_SIZED = re.compile(r"^(.*)_(\d+)$")


def machine() -> dict[str, str]:
    """Cores, RAM and Python of this machine, for the header."""
    ram = "?"
    try:
        ram_b = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        ram = f"{ram_b / 2**30:.1f} GiB"
    except (ValueError, OSError, AttributeError):
        pass
    return {
        "cores": str(os.cpu_count()),
        "ram": ram,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, or ``?`` where the system has none."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def takes_actors(script: Path) -> bool:
    """Whether a benchmark declares an ``--actors`` option (read from its source)."""
    return '"--actors"' in script.read_text(encoding="utf-8")


def judge(name: str, value: str) -> tuple[str, str] | None:
    """``(target, verdict)`` for a sized figure (``<base>_<N>``), None otherwise.

    Examples
    --------
    >>> judge("coverage_s_1000000", "0.31")
    ('<= 0.5', 'PASS')
    >>> judge("twosfca_speedup_vs_sjoin_nearest_cpu_1000000", "1.9")
    ('>= 2.5', 'MISS')
    >>> judge("coverage_prepare_s_1000000", "2.0")
    ('-', '')
    >>> judge("actors", "10") is None
    True
    """
    m = _SIZED.match(name)
    if not m:
        return None
    target = TARGETS.get(m.group(1))
    if target is None:
        return "-", ""
    try:
        v = float(value)
    except ValueError:
        return f"{target.op} {target.bound:g}", "MISS"
    ok = v <= target.bound if target.op == "<=" else v >= target.bound
    return f"{target.op} {target.bound:g}", "PASS" if ok else "MISS"


def run_one(script: Path, extra: list[str], budget: float) -> tuple[dict[str, str], str | None]:
    """Run one benchmark within its budget, echoing its lines; its figures and any failure."""
    figures: dict[str, str] = {}
    timed_out = threading.Event()
    with subprocess.Popen(
        [sys.executable, str(script), *extra],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: a timeout kills its servers too
    ) as proc:

        def stop() -> None:
            # SIGTERM first: a benchmark stops the servers it started in process groups
            # of their own (a SIGKILL of its group alone would leave them serving)
            timed_out.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(40)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(budget, stop)
        timer.start()
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                print(line, end="", flush=True)
                m = _LINE.match(line.strip())
                if m:
                    figures[m.group(1)] = m.group(2)
            code = proc.wait()
        finally:
            timer.cancel()
    if timed_out.is_set():
        return figures, "timeout"
    return figures, f"exit {code}" if code else None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="Benchmarks to run (e.g. search, coverage).")
    parser.add_argument("--actors", type=int, help="Actors for every benchmark that takes it.")
    args = parser.parse_args(argv)

    scripts = sorted(HERE.glob("bench_*.py"))
    known = {s.stem.removeprefix("bench_") for s in scripts}
    unknown = sorted(set(args.names) - known)
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose among {sorted(known)}")
    if args.names:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in args.names]

    info = machine()
    print(f"# machine: {info['cores']} cores, {info['ram']} RAM, {info['platform']}")
    print(f"# python: {info['python']}")
    print(f"# load_average_start: {load_average()}")
    print(f"# actors: {args.actors if args.actors else 'each benchmark default'}", flush=True)

    started = time.perf_counter()
    every: dict[str, str] = {}
    failures: list[str] = []
    for script in scripts:
        name = script.stem.removeprefix("bench_")
        budget = NAMED_BUDGET_S if args.names else BUDGET_S.get(name, DEFAULT_BUDGET_S)
        sized = args.actors and takes_actors(script) and name not in OWN_SIZE
        extra = ["--actors", str(args.actors)] if sized else []
        print(f"# {script.stem} {' '.join(extra)} (budget {budget:.0f} s)", flush=True)
        t0 = time.perf_counter()
        figures, failure = run_one(script, extra, budget)
        every.update(figures)
        print(f"{name}_wall_s: {time.perf_counter() - t0:.1f}")
        if failure == "timeout":
            print(f"{name}_timeout_s: {budget:.0f}")
        elif failure:
            print(f"{name}_exit_code: {failure.removeprefix('exit ')}")
        if failure:
            failures.append(f"{name} ({failure})")
    print(f"# load_average_end: {load_average()}")
    print(f"total_wall_s: {time.perf_counter() - started:.1f}")
    misses = summary(every)
    if failures:
        print(f"# failed: {', '.join(failures)}")
    print(f"# targets missed: {misses}", flush=True)
    return 1 if failures else 0


def summary(figures: dict[str, str]) -> int:
    """Print every sized figure with its target and verdict; the number of misses."""
    rows = [(k, v, *j) for k, v in figures.items() if (j := judge(k, v)) is not None]
    print("# summary")
    width = max((len(r[0]) for r in rows), default=10)
    print(f"# {'figure':<{width}}  {'value':>12}  {'target':>10}  verdict")
    for name, value, target, verdict in rows:
        print(f"# {name:<{width}}  {value:>12}  {target:>10}  {verdict}")
    return sum(1 for r in rows if r[3] == "MISS")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
