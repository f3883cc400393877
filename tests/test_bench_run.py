"""``bench/run.py``: figures collected, targets judged, an overrunning benchmark stopped."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
import time
from pathlib import Path
from types import ModuleType

import pytest

RUN = Path(__file__).resolve().parents[1] / "bench" / "run.py"


@pytest.fixture(scope="module")
def run() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", RUN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module
    spec.loader.exec_module(module)
    return module


def _script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "bench_fake.py"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def test_figures_are_collected_and_judged(run: ModuleType, tmp_path: Path) -> None:
    script = _script(
        tmp_path,
        """
        import sys
        print("actors: 10")
        print("coverage_s_10: 0.7")
        print("twosfca_speedup_vs_sjoin_nearest_cpu_10: 3.1")
        print("# a comment, not a figure")
        print("argv:", " ".join(sys.argv[1:]))
        """,
    )
    figures, failure = run.run_one(script, ["--actors", "10"], budget=60)
    assert failure is None
    assert figures["coverage_s_10"] == "0.7" and figures["argv"] == "--actors 10"
    assert run.judge("coverage_s_10", figures["coverage_s_10"]) == ("<= 0.5", "MISS")
    assert run.judge("twosfca_speedup_vs_sjoin_nearest_cpu_10", "3.1") == (">= 2.5", "PASS")
    assert run.summary(figures) == 1


@pytest.mark.slow
def test_an_overrunning_benchmark_and_its_children_are_stopped(
    run: ModuleType, tmp_path: Path
) -> None:
    flag = tmp_path / "child-alive"
    script = _script(
        tmp_path,
        f"""
        import subprocess, sys, time
        # A child that would write a file after 3 s, like a server left behind.
        subprocess.Popen([sys.executable, "-c",
            "import time, pathlib; time.sleep(3); pathlib.Path({str(flag)!r}).write_text('x')"])
        print("started: 1", flush=True)
        time.sleep(30)
        """,
    )
    t0 = time.perf_counter()
    figures, failure = run.run_one(script, [], budget=1.0)
    assert failure == "timeout" and figures == {"started": "1"}
    assert time.perf_counter() - t0 < 10
    time.sleep(4)
    assert not flag.exists(), "the benchmark's child outlived the timeout"


def test_a_failing_benchmark_is_reported(run: ModuleType, tmp_path: Path) -> None:
    script = _script(tmp_path, "raise SystemExit(3)\n")
    assert run.run_one(script, [], budget=60) == ({}, "exit 3")


def test_unknown_benchmark_names_are_a_usage_error(run: ModuleType) -> None:
    with pytest.raises(SystemExit) as exc:
        run.main(["no-such-bench"])
    assert exc.value.code == 2


def test_actors_is_passed_only_to_benchmarks_that_take_it(run: ModuleType, tmp_path: Path) -> None:
    assert run.takes_actors(RUN.parent / "bench_coverage.py")
    assert not run.takes_actors(_script(tmp_path, "print('x: 1')\n"))
