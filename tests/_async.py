"""Run a coroutine to its end on an event loop of its own, whatever the calling thread runs.

Why a thread: in the full suite, tests that run before (a browser driver, a
doctest) can leave an event loop running in the main thread, and
``asyncio.run`` refuses to start inside one.  The coroutine is made in the
thread too, so none is left un-awaited when something fails first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_alone(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``asyncio.run(make())`` in a thread of its own; returns its result or raises its error."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()
