"""Compact rows for result cards, and the search index's arrays on disk.

Why: a search answers with ten rows, but a pandas frame of a million wide
rows costs milliseconds to slice (``iloc`` on 38 Arrow-string columns) and
gigabytes to hold, and a fresh process took 15 s to rebuild it before its
first answer.  Here:

* :class:`RowStore` keeps every text and list column of a row as ONE string
  (fields joined by a unit separator, list items by a record separator),
  in one UTF-8 buffer with int64 offsets (Arrow's own layout, built by
  Arrow's C++ kernels), and the numeric and boolean columns as 2-D numpy
  blocks.  Taking ``k`` rows decodes ``k`` strings and builds the frame from
  ready-made blocks: no type inference, no per-column copies.
* :func:`save` writes those arrays (and the index's) as plain ``.npy`` and
  ``.bin`` files into a folder, atomically (a temporary folder renamed);
  :func:`load` maps them back read-only (``mmap``): a fresh process pays
  for the pages it touches, not for the whole layer.

What is stored is the *public* view only (the catalog builds the index on
:func:`mapapp.catalog.load_public_actors`): a confidential street cannot be
read back from these files.  The two separator characters are control
characters that no text of the layer should contain; any found are shown
as a space (a display cache, the store keeps the record as it came).

Examples
--------
>>> from mapapp.schema import actors_frame
>>> f = actors_frame([{"id": "a:1", "nom": "Crèche", "obstacles": ["garde-enfants"],
...                    "latitude": 45.0, "longitude": 5.0}])
>>> rows = RowStore.from_frame(f)
>>> out = rows.take([0], extra={"distance_km": np.array([1.5])})
>>> out.loc[0, "nom"], out.loc[0, "obstacles"], out.loc[0, "latitude"], out.loc[0, "distance_km"]
('Crèche', ['garde-enfants'], np.float64(45.0), np.float64(1.5))
"""

from __future__ import annotations

import contextlib
import json
import mmap
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray
from pandas.api.internals import create_dataframe_from_blocks

from mapapp.schema import LIST_COLUMNS

__all__ = ["FORMAT", "RowStore", "load", "save"]

#: Bumped whenever the layout below changes: an older folder is then rebuilt.
FORMAT = 1
_FIELD = "\x1f"  # unit separator: between the fields of a row
_ITEM = "\x1e"  # record separator: between the items of a list field
_META = "meta.json"
_TEXT = "rows.bin"


class RowStore:
    """The non-geometry columns of a layer, ready to hand out a few rows at a time.

    Parameters
    ----------
    columns : list of str
        Column order of the frames :meth:`take` returns.
    text_columns : list of str
        Columns stored in the joined text (strings and lists), in field order.
    list_columns : set of str
        Which of ``text_columns`` are lists.
    data, offsets
        The joined text of every row (UTF-8) and where each row starts.
    blocks : mapping of dtype name to (column names, 2-D array)
        Numeric and boolean columns, one ``(n_columns, n_rows)`` array per dtype.
    """

    def __init__(
        self,
        columns: Sequence[str],
        text_columns: Sequence[str],
        list_columns: set[str],
        data: bytes | mmap.mmap,
        offsets: NDArray[np.int64],
        blocks: Mapping[str, tuple[list[str], NDArray[Any]]],
    ) -> None:
        self.columns = list(columns)
        self.text_columns = list(text_columns)
        self.list_columns = set(list_columns)
        self._data = data
        self._offsets = offsets
        self._blocks = dict(blocks)
        where = {c: i for i, c in enumerate(self.columns)}
        self._text_place = np.array([where[c] for c in self.text_columns], dtype=np.intp)
        self._list_fields = [i for i, c in enumerate(self.text_columns) if c in self.list_columns]
        self._block_place = {
            k: np.array([where[c] for c in names], dtype=np.intp)
            for k, (names, _) in self._blocks.items()
        }
        # column labels per set of extra columns: building an Index infers its dtype (slow)
        self._labels: dict[tuple[str, ...], pd.Index] = {}

    def __len__(self) -> int:
        return len(self._offsets) - 1

    # -- building ----------------------------------------------------------------
    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> RowStore:
        """Pack ``frame`` (its geometry column left out) column-wise, with Arrow kernels."""
        columns = [str(c) for c in frame.columns if c != "geometry"]
        blocks: dict[str, tuple[list[str], list[NDArray[Any]]]] = {}
        text_columns: list[str] = []
        lists: set[str] = set()
        parts: list[pa.Array] = []
        for c in columns:
            s = frame[c]
            if s.dtype.kind in "biuf":
                names, arrays = blocks.setdefault(s.dtype.name, ([], []))
                names.append(c)
                arrays.append(s.to_numpy())
                continue
            text_columns.append(c)
            if c in LIST_COLUMNS or _holds_lists(s):
                lists.add(c)
                items = _arrow(s, pa.list_(pa.large_string()), lambda v: _items(v))
                items = pa.ListArray.from_arrays(
                    items.offsets, _clean(items.values), mask=items.is_null()
                )
                joined = pc.binary_join(items, pa.scalar(_ITEM, pa.large_string()))
            else:
                joined = _clean(_arrow(s, pa.large_string(), lambda v: str(v)))
            parts.append(pc.fill_null(joined, ""))
        if parts:
            rows = pc.binary_join_element_wise(*parts, pa.scalar(_FIELD, pa.large_string()))
            rows = rows.combine_chunks() if isinstance(rows, pa.ChunkedArray) else rows
            buffers = rows.buffers()
            n = len(rows)
            offsets = np.frombuffer(buffers[1], dtype=np.int64, count=n + 1, offset=rows.offset * 8)
            offsets = offsets - offsets[0]
            start = int(
                np.frombuffer(buffers[1], dtype=np.int64, count=1, offset=rows.offset * 8)[0]
            )
            data = buffers[2].to_pybytes()[start : start + int(offsets[-1])] if n else b""
        else:
            offsets, data = np.zeros(len(frame) + 1, dtype=np.int64), b""
        packed = {k: (names, np.vstack(arrays)) for k, (names, arrays) in blocks.items()}
        return cls(columns, text_columns, lists, data, offsets.astype(np.int64), packed)

    # -- reading -----------------------------------------------------------------
    def fields(self, rows: Sequence[int] | NDArray[np.intp]) -> list[list[Any]]:
        """The text fields of ``rows``, each row a list in :attr:`text_columns` order."""
        idx = np.asarray(rows, dtype=np.intp)
        starts = self._offsets[idx].tolist()
        ends = self._offsets[idx + 1].tolist()
        data = self._data
        out: list[list[Any]] = [
            data[a:b].decode("utf-8").split(_FIELD) for a, b in zip(starts, ends, strict=True)
        ]
        for f in self._list_fields:
            for row in out:
                v = row[f]
                row[f] = v.split(_ITEM) if v else []
        return out

    def records(self, rows: Sequence[int] | NDArray[np.intp]) -> list[dict[str, Any]]:
        """``rows`` as mappings of column to value (no geometry), read in one pass.

        What a JSON answer needs for a handful of rows: one decode per row and
        one fancy-index per numeric block, not a frame.

        >>> from mapapp.schema import actors_frame
        >>> f = actors_frame([{"id": "a:1", "nom": "Crèche", "obstacles": ["garde-enfants"],
        ...                    "latitude": 45.0, "longitude": 5.0}])
        >>> r = RowStore.from_frame(f).records([0])[0]
        >>> r["nom"], r["obstacles"], r["latitude"]
        ('Crèche', ['garde-enfants'], 45.0)
        """
        idx = np.asarray(rows, dtype=np.intp)
        out = [dict(zip(self.text_columns, row, strict=True)) for row in self.fields(idx)]
        for names, block in self._blocks.values():
            for record, values in zip(out, block[:, idx].T.tolist(), strict=True):
                record.update(zip(names, values, strict=True))
        return out

    def text_column(self, name: str) -> list[str]:
        """A text column for every row, cut from the joined text by Arrow's kernels.

        Why: an id → row table for a million rows, built without decoding a
        million rows in Python (a worker's start).

        >>> from mapapp.schema import actors_frame
        >>> f = actors_frame([{"id": f"a:{k}", "nom": "N", "latitude": 45.0, "longitude": 5.0}
        ...                   for k in range(3)])
        >>> RowStore.from_frame(f).text_column("id")
        ['a:0', 'a:1', 'a:2']
        """
        j = self.text_columns.index(name)
        n = len(self)
        if n == 0:
            return []
        rows = pa.LargeStringArray.from_buffers(
            n, pa.py_buffer(self._offsets), pa.py_buffer(self._data)
        )
        parts = pc.split_pattern(rows, _FIELD, max_splits=j + 1)
        return list(pc.list_element(parts, j).to_pylist())

    def column(self, name: str, rows: Sequence[int] | NDArray[np.intp]) -> list[Any]:
        """One column's values for ``rows`` (any kind of column)."""
        idx = np.asarray(rows, dtype=np.intp)
        for names, block in self._blocks.values():
            if name in names:
                return list(block[names.index(name), idx].tolist())
        j = self.text_columns.index(name)
        return [row[j] for row in self.fields(idx)]

    def whole(self, name: str) -> NDArray[Any] | None:
        """A numeric or boolean column for every row (None for a text column or none)."""
        for names, block in self._blocks.values():
            if name in names:
                return block[names.index(name)]
        return None

    def take(
        self,
        rows: Sequence[int] | NDArray[np.intp],
        *,
        extra: Mapping[str, NDArray[Any]] | None = None,
    ) -> pd.DataFrame:
        """A frame of ``rows`` (in that order, index 0..k-1), plus ``extra`` columns at the end.

        Text columns come back as ``object`` columns of ``str``, list columns
        as Python lists, numbers and flags with their own dtype.
        """
        idx = np.asarray(rows, dtype=np.intp)
        k = len(idx)
        blocks: list[tuple[NDArray[Any], NDArray[np.intp]]] = []
        if self.text_columns:
            flat = [v for row in self.fields(idx) for v in row]
            obj = np.fromiter(flat, dtype=object, count=len(flat))
            blocks.append((obj.reshape(k, len(self.text_columns)).T.copy(), self._text_place))
        for key, (_, block) in self._blocks.items():
            blocks.append((block[:, idx], self._block_place[key]))
        more = tuple(extra or ())
        for i, values in enumerate((extra or {}).values()):
            place = np.array([len(self.columns) + i], dtype=np.intp)
            blocks.append((np.asarray(values).reshape(1, k), place))
        labels = self._labels.get(more)
        if labels is None:
            labels = self._labels[more] = pd.Index([*self.columns, *more], dtype=object)
        return create_dataframe_from_blocks(blocks, index=pd.RangeIndex(k), columns=labels)

    # -- files ---------------------------------------------------------------------
    def arrays(self) -> tuple[dict[str, Any], dict[str, NDArray[Any]], bytes | mmap.mmap]:
        """``(meta, arrays, text)``: what :func:`save` writes and :meth:`from_arrays` reads."""
        meta = {
            "columns": self.columns,
            "text_columns": self.text_columns,
            "list_columns": sorted(self.list_columns),
            "blocks": {k: names for k, (names, _) in self._blocks.items()},
        }
        arrays = {"rows_offsets": self._offsets}
        arrays.update({f"rows_block_{k}": block for k, (_, block) in self._blocks.items()})
        return meta, arrays, self._data

    @classmethod
    def from_arrays(
        cls, meta: Mapping[str, Any], arrays: Mapping[str, NDArray[Any]], text: bytes | mmap.mmap
    ) -> RowStore:
        """The inverse of :meth:`arrays`."""
        blocks = {
            k: (list(names), arrays[f"rows_block_{k}"]) for k, names in meta["blocks"].items()
        }
        return cls(
            meta["columns"],
            meta["text_columns"],
            set(meta["list_columns"]),
            text,
            arrays["rows_offsets"],
            blocks,
        )


def _arrow(s: pd.Series, kind: pa.DataType, convert: Callable[[Any], Any]) -> pa.Array:
    """``s`` as an Arrow array of ``kind``: in C++ when its values allow, else value by value."""
    try:
        out = pa.array(s, type=kind, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        out = pa.array([None if _missing(v) else convert(v) for v in s], type=kind)
    return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and v != v)


def _items(v: Any) -> list[str] | None:
    if v is None or isinstance(v, float | str):
        return None if v is None or isinstance(v, float) else [v]
    return [str(x) for x in v]


def _holds_lists(s: pd.Series) -> bool:
    if s.dtype != object:
        return False
    first = next((v for v in s if not _missing(v)), None)
    return isinstance(first, list | tuple | np.ndarray)


def _clean(values: pa.Array) -> pa.Array:
    """Separators inside the text itself become spaces (they are control characters)."""
    for sep in (_FIELD, _ITEM):
        values = pc.replace_substring(values, sep, " ")
    return values


# -- the folder ------------------------------------------------------------------------
def save(
    folder: Path, meta: Mapping[str, Any], arrays: Mapping[str, NDArray[Any]], text: bytes
) -> bool:
    """Write a complete cache folder atomically; False (and nothing left) when it cannot.

    A reader sees the folder whole or not at all: everything is written into
    a temporary sibling that is renamed last.  Failing to write (read-only
    store, disk full) costs the next process a rebuild, nothing else.
    """
    tmp = folder.with_name(f".tmp-{folder.name}-{os.getpid()}")
    try:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for name, array in arrays.items():
            np.save(tmp / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)
        (tmp / _TEXT).write_bytes(text)
        (tmp / _META).write_text(json.dumps({**meta, "format": FORMAT}), "utf-8")
        if folder.exists():
            shutil.rmtree(tmp, ignore_errors=True)  # another process was first: same content
            return True
        tmp.rename(folder)
        return True
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        return False


def load(
    folder: Path, expect: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, NDArray[Any]], bytes | mmap.mmap] | None:
    """Map a cache folder read-only; None when absent, of another format, or not ``expect``.

    ``expect`` holds meta values that must match (the store stamp, the
    geography key): a folder written for another version is never used.
    """
    try:
        meta: dict[str, Any] = json.loads((folder / _META).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("format") != FORMAT or any(meta.get(k) != v for k, v in expect.items()):
        return None
    try:
        arrays = {
            # plain ndarray views of the maps: numpy's memmap subclass slows every indexing
            p.stem: np.load(p, mmap_mode="r", allow_pickle=False).view(np.ndarray)
            for p in folder.glob("*.npy")
        }
        size = (folder / _TEXT).stat().st_size
        text: bytes | mmap.mmap = b""
        if size:
            with (folder / _TEXT).open("rb") as fh:
                text = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None
    return meta, arrays, text


def prune_siblings(folder: Path) -> None:
    """Remove the other ``search-*`` copies beside ``folder`` (same store version, older register).

    Only folders named like a copy are touched: the store version's own
    files sit in the same parent.
    """
    with contextlib.suppress(OSError):
        for p in folder.parent.glob("search-*"):
            if p.is_dir() and p.name != folder.name:
                shutil.rmtree(p, ignore_errors=True)


def prune(parent: Path, keep: str) -> None:
    """Remove the cache folders of ``parent`` other than ``keep`` (older store versions)."""
    with contextlib.suppress(OSError):
        for p in parent.iterdir():
            if p.is_dir() and p.name != keep and not p.name.startswith(".tmp-"):
                shutil.rmtree(p, ignore_errors=True)
