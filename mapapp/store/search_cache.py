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
rows shown through :func:`mapapp.catalog.public_rows`, the function
:func:`mapapp.catalog.load_public_actors` uses, whether the layer comes
whole or in batches read by :func:`read_batches`): a confidential street
cannot be read back from these files.  :class:`FolderWriter` and
:class:`RowsBuilder` let the index be written a batch of rows at a time.  The two separator characters are control
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
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray
from pandas.api.internals import create_dataframe_from_blocks

from mapapp.schema import LIST_COLUMNS
from mapapp.store.base import ROW_HASH

__all__ = ["FORMAT", "FolderWriter", "RowStore", "RowsBuilder", "load", "read_batches", "save"]

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


class RowsBuilder:
    """A :class:`RowStore`'s arrays built batch after batch of rows.

    Each batch is packed by :meth:`RowStore.from_frame` and its joined text
    handed to ``sink`` at once (written to the kept file, or collected), so
    the text of the whole layer is never held twice.  :meth:`arrays` then
    gives what :meth:`RowStore.arrays` gives for all the rows at once.

    >>> from mapapp.schema import actors_frame
    >>> f = actors_frame([{"id": f"a:{k}", "nom": "N" * k, "latitude": 45.0, "longitude": 5.0}
    ...                   for k in range(4)])
    >>> chunks: list[bytes] = []
    >>> b = RowsBuilder(chunks.append)
    >>> b.add(f.iloc[:3]); b.add(f.iloc[3:])
    >>> meta, arrays = b.arrays()
    >>> whole_meta, whole_arrays, whole_text = RowStore.from_frame(f).arrays()
    >>> meta == whole_meta, b"".join(chunks) == whole_text
    (True, True)
    >>> all(arrays[k].tobytes() == whole_arrays[k].tobytes() for k in whole_arrays)
    True
    """

    def __init__(self, sink: Callable[[bytes], object]) -> None:
        self._sink = sink
        self._meta: dict[str, Any] | None = None
        self._offsets: list[NDArray[np.int64]] = [np.zeros(1, dtype=np.int64)]
        self._end = 0
        self._blocks: dict[str, list[NDArray[Any]]] = {}

    def add(self, frame: pd.DataFrame) -> None:
        """Pack ``frame``'s rows after the ones added before."""
        meta, arrays, text = RowStore.from_frame(frame).arrays()
        if self._meta is None:
            self._meta = meta
        elif meta != self._meta:
            raise ValueError(f"a batch has other columns or types: {meta} != {self._meta}")
        offsets = arrays["rows_offsets"]
        self._offsets.append(offsets[1:] + self._end)
        self._end += int(offsets[-1])
        self._sink(bytes(text))
        for k in meta["blocks"]:
            self._blocks.setdefault(k, []).append(arrays[f"rows_block_{k}"])

    def arrays(self) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
        """``(meta, arrays)`` of every row added, as :meth:`RowStore.arrays` (text aside)."""
        if self._meta is None:
            raise ValueError("no rows added: add at least one (possibly empty) frame")
        arrays = {"rows_offsets": np.concatenate(self._offsets)}
        arrays.update({f"rows_block_{k}": np.hstack(v) for k, v in self._blocks.items()})
        return self._meta, arrays


def _arrow(s: pd.Series, kind: pa.DataType, convert: Callable[[Any], Any]) -> pa.Array:
    """``s`` as an Arrow array of ``kind``: in C++ when its values allow, else value by value."""
    try:
        out = pa.array(s, type=kind, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        try:  # each distinct value converted once (a date column: a handful for 1M rows)
            codes, uniques = pd.factorize(s, use_na_sentinel=False)
        except TypeError:  # unhashable cells (lists): value by value
            out = pa.array([None if _missing(v) else convert(v) for v in s], type=kind)
        else:
            distinct = pa.array([None if _missing(v) else convert(v) for v in uniques], type=kind)
            out = distinct.take(pa.array(codes)) if len(s) else distinct.slice(0, 0)
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
    data = values.buffers()[2]
    # both separators are 0x1E/0x1F: one pass over the bytes, far cheaper than a copy
    if data is None or not ((np.frombuffer(data, dtype=np.uint8) | 1) == 0x1F).any():
        return values
    for sep in (_FIELD, _ITEM):
        values = pc.replace_substring(values, sep, " ")
    return values


# -- the store's records, a batch at a time ---------------------------------------------
#: Rows per batch read by :func:`read_batches`: a few dozen megabytes of wide rows.
BATCH_ROWS = 25_000


def read_batches(
    path: Path, *, rows: int | None = None, columns: Sequence[str] | None = None
) -> Iterator[pd.DataFrame]:
    """The raw records of a GeoParquet actors file, ``rows`` at a time, without their geometry.

    Nor the import's row hashes (:data:`mapapp.store.base.ROW_HASH`), which
    :func:`mapapp.store.parquet.read_actors` leaves out too.

    ``rows`` defaults to :data:`BATCH_ROWS` (read when called).

    Why: the search index needs every row once but never all of them at
    once; a million wide rows read whole cost gigabytes.  Each batch is
    typed exactly as the same rows of the whole file read by
    ``gpd.read_parquet`` (the file's pandas metadata applies; an integer or
    boolean column with a missing value anywhere in the file comes back as
    it would whole, ``float64`` or ``object``, in every batch), indexed from
    0.  At least one frame is yielded, empty for an empty file.  Raw
    records: the caller applies the public view before anything leaves it.

    Examples
    --------
    >>> import tempfile
    >>> from mapapp.schema import actors_frame
    >>> from mapapp.store.parquet import write_geoparquet
    >>> path = Path(tempfile.mkdtemp()) / "actors.parquet"
    >>> write_geoparquet(actors_frame([{"id": f"a:{k}", "latitude": 45.0, "longitude": 5.0}
    ...                                for k in range(5)]), path)
    >>> [b["id"].tolist() for b in read_batches(path, rows=2)]
    [['a:0', 'a:1'], ['a:2', 'a:3'], ['a:4']]
    """
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as source:
        schema = source.schema_arrow
        geo = json.loads((schema.metadata or {}).get(b"geo", b"{}") or b"{}")
        geometry = set(geo.get("columns", {})) or {"geometry"}
        # the import's row hashes are the store's own bookkeeping, not a record's field
        names = [c for c in (columns or schema.names) if c not in geometry and c != ROW_HASH]
        widen = _widened(source, names)
        empty = True
        for batch in source.iter_batches(batch_size=max(1, rows or BATCH_ROWS), columns=names):
            empty = False
            yield _frame(batch, schema.metadata, widen)
        if empty:
            yield _frame(schema.empty_table().select(names), schema.metadata, widen)


def _widened(source: Any, names: Sequence[str]) -> dict[str, str]:
    """Integer and boolean columns holding a missing value: the dtype the whole file gives them."""
    fields = {f.name: f.type for f in source.schema_arrow}
    kinds = {
        c: "float64" if pa.types.is_integer(fields[c]) else "object"
        for c in names
        if pa.types.is_integer(fields[c]) or pa.types.is_boolean(fields[c])
    }
    if not kinds:
        return {}
    table = source.read(columns=list(kinds))
    return {c: k for c, k in kinds.items() if table.column(c).null_count}


def _frame(
    batch: pa.RecordBatch | pa.Table, metadata: Any, widen: Mapping[str, str]
) -> pd.DataFrame:
    table = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
    frame = table.replace_schema_metadata(metadata).to_pandas()
    for c, kind in widen.items():
        frame[c] = frame[c].astype(kind)
    return frame.reset_index(drop=True)


# -- the folder ------------------------------------------------------------------------
def save(
    folder: Path, meta: Mapping[str, Any], arrays: Mapping[str, NDArray[Any]], text: bytes
) -> bool:
    """Write a complete cache folder atomically; False (and nothing left) when it cannot.

    A reader sees the folder whole or not at all: everything is written into
    a temporary sibling that is renamed last.  Failing to write (read-only
    store, disk full) costs the next process a rebuild, nothing else.
    """
    try:
        writer = FolderWriter(folder)
    except OSError:
        return False
    try:
        writer.write_text(text)
    except OSError:
        writer.discard()
        return False
    return writer.commit(meta, arrays)


class FolderWriter:
    """A cache folder written piece by piece: the rows' text as it comes, the arrays last.

    Why: the joined text of a million rows is hundreds of megabytes; written
    batch by batch it never has to be held whole.  Everything goes into a
    temporary sibling folder, renamed to ``folder`` by :meth:`commit`, so a
    reader sees the folder whole or not at all (as with :func:`save`).

    Raises
    ------
    OSError
        When the temporary folder cannot be created (read-only store...).

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp()) / "search-x"
    >>> w = FolderWriter(folder)
    >>> w.write_text(b"ab"); w.write_text(b"c")
    >>> w.commit({"stamp": "x"}, {"rows_offsets": np.array([0, 3])})
    True
    >>> meta, arrays, text = load(folder, {"stamp": "x"})
    >>> bytes(text), arrays["rows_offsets"].tolist()
    (b'abc', [0, 3])
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._tmp = folder.with_name(f".tmp-{folder.name}-{os.getpid()}")
        shutil.rmtree(self._tmp, ignore_errors=True)
        self._tmp.mkdir(parents=True)
        try:
            self._text = (self._tmp / _TEXT).open("wb")
        except OSError:
            shutil.rmtree(self._tmp, ignore_errors=True)
            raise

    def write_text(self, data: bytes) -> None:
        """Append ``data`` to the rows' text."""
        self._text.write(data)

    def commit(self, meta: Mapping[str, Any], arrays: Mapping[str, NDArray[Any]]) -> bool:
        """Write the arrays and meta, then rename the folder in; False (nothing left) on failure."""
        try:
            self._text.close()
            for name, array in arrays.items():
                np.save(self._tmp / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)
            (self._tmp / _META).write_text(json.dumps({**meta, "format": FORMAT}), "utf-8")
            if self.folder.exists():
                shutil.rmtree(self._tmp, ignore_errors=True)  # another process was first
                return True
            self._tmp.rename(self.folder)
            return True
        except OSError:
            self.discard()
            return False

    def discard(self) -> None:
        """Leave nothing behind (the folder is not written)."""
        with contextlib.suppress(OSError):
            self._text.close()
        shutil.rmtree(self._tmp, ignore_errors=True)


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
