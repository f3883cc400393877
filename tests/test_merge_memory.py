"""What the merge of a national import allocates per row, in Python and NumPy (issue 10).

Why these checks: issue 10's 2.2-million-row CSV went over 1 GiB in the
merge, where a few innocent-looking steps made one Python object per row:
each row's file name as a string (about 60 bytes a row), ``duplicated`` and
``tolist`` on two million ids or codes, every record sorted to rank clusters
that mostly hold one record.  ``tracemalloc`` sees Python objects and NumPy
arrays, and a pool of Arrow's own counts its buffers: a step that makes a
Python object per row, or an Arrow hash table of every id, cannot stay
under these bounds, whatever the machine.  Each bound is derived from what the step must hold, not from the
code's own output.
"""

from __future__ import annotations

import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from mapapp.ingest.dedupe import THEMATIQUES_COUNT, cluster_actors
from mapapp.ingest.parts import concat_narrow
from mapapp.ingest.pipeline import _files, _first_seen, _tally

N = 200_000


def _peak_per_row(step: Callable[[], Any], n: int) -> float:
    """Bytes per row that ``step`` allocates at its highest: Python objects and NumPy
    (``tracemalloc``) plus Arrow's buffers (a pool of its own; the two highs added, so
    never less than the true high)."""
    default = pa.default_memory_pool()
    arrow = pa.proxy_memory_pool(default)
    pa.set_memory_pool(arrow)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        kept = step()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        pa.set_memory_pool(default)
    del kept
    return (peak - base + arrow.max_memory()) / n


def _narrow(n: int, seed: int = 0) -> pd.DataFrame:
    """Rows as the merge holds them (Arrow ids, categories), in towns like the real ones:
    a few hundred clusters of points, some records twice at one address."""
    rng = np.random.default_rng(seed)
    towns = rng.random((300, 2)) * [5.0, 7.0] + [43.0, -1.0]
    at = rng.integers(0, len(towns), n)
    lat = towns[at, 0] + rng.normal(0, 0.02, n)
    lon = towns[at, 1] + rng.normal(0, 0.03, n)
    twin = rng.random(n) < 0.01  # placed on the row before it
    lat[1:][twin[1:]], lon[1:][twin[1:]] = lat[:-1][twin[1:]], lon[:-1][twin[1:]]
    return pd.DataFrame(
        {
            "id": pd.array([f"reseau:b{i}" for i in range(n)], dtype="str"),
            "source": pd.Categorical(["reseau"] * n),
            "actor_type": pd.Categorical(rng.choice(["mission-locale", "ccas", "autre"], n)),
            "latitude": lat,
            "longitude": lon,
            "precision": pd.Categorical(rng.choice(["address", "commune"], n, p=[0.85, 0.15])),
            "confidential": np.zeros(n, dtype=bool),
            "obstacles": pd.Categorical(rng.choice(["emploi", "emploi\x1fmobilite", ""], n)),
            THEMATIQUES_COUNT: rng.integers(0, 4, n).astype(np.int16),
        }
    )


def test_duplicate_search_allocates_no_object_per_row() -> None:
    """Under 250 bytes a row at the duplicate search's highest, answer columns included.

    What it must hold per row: the point on the sphere (24 bytes), its file
    and union-find parent (16), the answer's columns (flags, distances,
    scores, the sources' reference: about 35; the ids are Arrow's).  The
    k-d tree's answers are asked by slices of a fixed size, so they weigh
    the same whatever the import's size (about 12 MB: 60 bytes a row
    here).  A text per row (60 bytes or more), the answers of every point
    at once (17 neighbours x 16 bytes = 272) or a sort of every row's keys
    (four int64 keys and their order: 40) on top do not fit.
    """
    frame = _narrow(N)
    files = np.zeros(N, dtype=np.int32)
    per_row = _peak_per_row(lambda: cluster_actors(frame, files=files), N)
    assert per_row < 250, per_row
    got = cluster_actors(frame, files=files)
    assert got["duplicate"].sum() > 0  # the twins were found: the search ran for real


def test_files_are_numbers_not_names() -> None:
    """Each row's file as a small number: under 16 bytes a row, where a name was over 60."""
    n = 100_000
    info = pd.DataFrame({"dataset": pd.Categorical(["reseau-2026"] * (n - 1) + ["autre"])})
    empty = pd.DataFrame({"id": pd.array([], dtype="str"), "source": pd.Categorical([])})
    ledger = pd.DataFrame({"dataset": pd.array([], dtype="str"), "id": pd.array([], dtype="str")})
    per_row = _peak_per_row(lambda: _files(ledger, empty, np.zeros(0, dtype=bool), info), n)
    assert per_row < 16, per_row
    got = _files(ledger, empty, np.zeros(0, dtype=bool), info)
    assert got.dtype.kind == "i"
    assert len(set(got[:-1].tolist())) == 1 and got[-1] != got[0]


def test_first_seen_is_pandas_duplicated() -> None:
    """Repeated ids found through Arrow: exactly ``~Series.duplicated(keep="first")``."""
    rng = np.random.default_rng(7)
    for _ in range(100):
        values = rng.integers(0, 40, rng.integers(1, 400)).astype(str)
        got = _first_seen(pa.array(values, type=pa.large_string()))
        assert got.tolist() == (~pd.Series(values).duplicated(keep="first")).tolist()


def test_first_seen_allocates_no_object_per_row() -> None:
    """Under 60 bytes a row: the sort's order (8) and the ids in that order (their own
    25 here: 16-byte texts and 8-byte offsets).  ``duplicated`` on Arrow strings made
    a Python string per row (over 60); Arrow's hash table of every id weighs 100."""
    ids = pa.array([f"reseau:b{i:08d}" for i in range(N)], type=pa.large_string())
    per_row = _peak_per_row(lambda: _first_seen(ids), N)
    assert per_row < 60, per_row


def _counter(values: list[str], flags: list[bool]) -> Iterator[tuple[str, bool, int]]:
    counts = Counter(zip(values, flags, strict=True))
    return ((v, f, c) for (v, f), c in counts.items())


def test_tally_is_a_counter_in_first_met_order() -> None:
    """``_tally`` counts as a Counter of (value, flag) would, in the order first met."""
    rng = np.random.default_rng(3)
    for size in (0, 1, 50, 5000):
        values = rng.choice(["a", "b", "c", ""], size).tolist()
        flags = (rng.random(size) < 0.3).tolist()
        got = list(_tally(pd.Series(values, dtype="str"), np.array(flags, dtype=bool)))
        assert got == list(_counter(values, flags))
    many = [f"v{i % 300}" for i in range(3000)]  # more values than the quick path takes
    got = list(_tally(pd.Series(many), None))
    assert got == list(_counter(many, [False] * len(many)))


def test_concat_keeps_categories_without_a_string_per_row() -> None:
    """Chunks whose categories differ are put together as categories, values kept.

    Under 30 bytes a row (codes and the other columns' arrays); going
    through ``pd.concat`` first made a Python string per row.
    """
    chunks = []
    for k in range(10):
        notes = [f"note {k} {i % 700}" if i % 4 else "" for i in range(20_000)]
        chunks.append(
            pd.DataFrame(
                {
                    "repairs": pd.Categorical(pd.array(notes, dtype="str")),
                    "origin_line": np.arange(20_000, dtype=np.int64),
                }
            )
        )
    per_row = _peak_per_row(lambda: concat_narrow(chunks), N)
    assert per_row < 30, per_row
    out = concat_narrow(chunks)
    assert out["repairs"].dtype == "category"
    expected = [v for c in chunks for v in c["repairs"].astype(object).tolist()]
    assert out["repairs"].astype(object).tolist() == expected
