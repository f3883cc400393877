"""Giving freed memory back to the system during a long import.

Why a module of its own: the import's stages (reading, the merge, the
duplicate search) all free large arrays they no longer need, and both
Arrow's pool and the C heap keep the freed pages for reuse; the peak a
national import reaches depends on trimming them between stages.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
from typing import Any

import pyarrow as pa

__all__ = ["release_memory"]


def release_memory(*, collect: bool = False) -> None:
    """Give the memory a chunk freed back to the system: Arrow's pool's, then the C heap's.

    Why: each chunk allocates and frees tens of megabytes (cleaning, the
    part's Arrow table); both allocators keep freed pages for reuse, so the
    process's resident memory crept up with every chunk (about 60 MB per
    100,000 rows of issue 10's CSV) although nothing was held.  With
    ``collect``, Python's cycle collector runs first (between stages: frames
    that refer to themselves are freed only by it).
    """
    if collect:
        gc.collect()
    pa.default_memory_pool().release_unused()
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is not None:
        trim(0)


@functools.cache
def _libc() -> Any:
    """The C library (None where it cannot be loaded, e.g. not glibc)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
