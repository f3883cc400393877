"""A first visit within budget, and nothing asked of another host (issue 13, bench/)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

from .harness import AppServer

pytestmark = pytest.mark.browser

_BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_first_load.py"


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_first_load", _BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("width", [375, 1366])
def test_first_load_within_budget(tiles_server: AppServer, browser: Any, width: int) -> None:
    bench = _bench()
    bench.measure(browser, tiles_server.url, width)  # warm: the server's first session
    load = bench.measure(browser, tiles_server.url, width)
    assert load.other_hosts == 0, f"asked of other hosts before she did anything: {load.hosts}"
    assert load.requests <= bench.BUDGET.requests, load
    assert load.bytes <= bench.BUDGET.bytes, load
    assert load.bytes_gzip <= bench.BUDGET.bytes_gzip, load  # behind the documented proxy
