"""Per-rerun measurement for the load benchmark only (``bench/bench_load.py``).

Why: the server's CPU per rerun (page open, search, "modifier") is what holds
50 sessions on two cores, and only the script's own thread tells which part
of a rerun costs it.  Nothing is measured unless the benchmark sets
:data:`PROFILE_ENV`; then each rerun appends ``<kind> <script CPU ms> <gc ms>``
to ``cpu.txt`` in that folder and, unless :data:`MODE_ENV` is ``cpu``, writes
its cProfile file there too.  Nothing about a search (place, needs) is
written: only the kind of rerun and its timings.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import streamlit as st

__all__ = ["MODE_ENV", "PROFILE_ENV", "fragment_run", "measured"]

#: A folder: set only by ``bench/bench_load.py``; unset, nothing is measured.
PROFILE_ENV = "MAPAPP_PROFILE_RERUNS"
#: ``cpu``: timings only (no profiler, cheap enough for the load run itself).
MODE_ENV = "MAPAPP_PROFILE_MODE"

_gc_lock = threading.Lock()
_gc_ms = [0.0]
_gc_started = [0.0]
#: Per generation: collections and their milliseconds, since the process started.
_gc_gen = [[0, 0.0], [0, 0.0], [0, 0.0]]


def _gc_clock(phase: str, info: dict[str, int]) -> None:
    """Add up the process's garbage-collection time (any thread), in all and per generation."""
    if phase == "start":
        _gc_started[0] = time.perf_counter()
    else:
        took = (time.perf_counter() - _gc_started[0]) * 1000
        with _gc_lock:
            _gc_ms[0] += took
            gen = _gc_gen[min(2, max(0, info.get("generation", 0)))]
            gen[0] += 1
            gen[1] += took


def rerun_kind() -> str:
    """What started this rerun: ``page`` (no search yet), ``edit`` ("modifier") or ``search``."""
    if st.session_state.get("edit_search") is True:
        return "edit"
    return "search" if "search_query" in st.session_state else "page"


def measured(run: Callable[[], None]) -> None:
    """Call ``run`` (one pass of the app), measured when the benchmark asked for it."""
    folder = os.environ.get(PROFILE_ENV)
    if not folder:
        run()
        return
    if _gc_clock not in gc.callbacks:
        gc.callbacks.append(_gc_clock)
    kind, cpu, gc0 = rerun_kind(), time.thread_time(), _gc_ms[0]
    prof = None
    if os.environ.get(MODE_ENV) != "cpu":
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    try:
        run()
    finally:
        took = (time.thread_time() - cpu) * 1000
        if prof is not None:
            prof.disable()
            prof.dump_stats(Path(folder) / f"{kind}-{os.getpid()}-{time.monotonic_ns()}.prof")
        with open(Path(folder) / "cpu.txt", "a", encoding="utf-8") as out:
            out.write(f"{kind} {took:.1f} {_gc_ms[0] - gc0:.1f}\n")
        # The process's collections so far, per generation (count, ms): overwritten each rerun.
        gens = " ".join(f"{n} {ms:.1f}" for n, ms in _gc_gen)
        (Path(folder) / f"gc-{os.getpid()}.txt").write_text(gens + "\n", encoding="utf-8")


def fragment_run(run: Callable[[], None]) -> None:
    """Call ``run``, the body of a fragment, measured when it reruns alone.

    A fragment's own rerun (a search, "modifier") does not pass through the
    app's entry point, so :func:`measured` would not see it; within a whole
    run, :func:`measured` already counts it.
    """
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is not None and ctx.fragment_ids_this_run:
        measured(run)
    else:
        run()
