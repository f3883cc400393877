"""An import's records as Parquet parts on disk; only what the merge needs stays in memory.

Why: a national import held every cleaned row until the merge (about 1 GB
per million rows of wide text), then built one frame of all the records to
write them (another gigabyte).  Here each cleaned, bounded chunk is written
at once to a Parquet *part* in a staging folder, and the merge keeps a
*narrow* frame per row: the columns the duplicate search reads, a content
hash (:func:`row_hash`: old and new records are compared by id and hash)
and the filled-field flags of the degraded check (:func:`filled_mask`).
The new actors file is then assembled row group by row group from the parts
and the old generation's kept rows (:class:`AssembledActors`), never as one
frame.  Memory grows with the narrow columns only.

The staging folder lives under ``generations/.tmp-parts-*`` of the embedded
store: like a generation being written, it is invisible to readers and a
crash leaves nothing visible (the next commit's clean-up removes it).

Examples
--------
>>> t = pa.table({"nom": ["EPN", "EPN", ""], "obstacles": [["emploi"], ["emploi"], []]})
>>> h = row_hash(t)
>>> bool(h[0] == h[1]), bool(h[0] == h[2])
(True, False)
>>> [lost_fields(m, 0) for m in filled_mask(t)]  # a bit per column of DEGRADABLE
[['nom', 'obstacles'], ['nom', 'obstacles'], []]
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pandas.api.types import union_categoricals

from mapapp.ingest.dedupe import THEMATIQUES_COUNT, list_lengths
from mapapp.ingest.heap import release_memory
from mapapp.schema import COLUMNS
from mapapp.store.base import ROW_HASH
from mapapp.store.merge import NOT_DEGRADING
from mapapp.store.parquet import GENERATIONS, geoarrow_table

__all__ = [
    "CATEGORIES",
    "DEGRADABLE",
    "DERIVED",
    "HASHED",
    "NARROW",
    "OBSTACLE_SEP",
    "AssembledActors",
    "CellReader",
    "Parts",
    "concat_narrow",
    "filled_mask",
    "lost_fields",
    "narrow_frame",
    "old_batches",
    "release_memory",
    "row_hash",
    "staging_folder",
    "take_old",
    "with_hashes",
]

#: Columns recomputed by every import (duplicate clusters): not a record's content.
DERIVED = ("cluster_id", "duplicate", "sources")
#: Columns whose content the row hash covers (what :func:`~mapapp.store.merge.diff_actors` compares).
HASHED = tuple(c for c in COLUMNS if c != "id" and c not in DERIVED)
#: Columns whose emptying is a loss (:func:`~mapapp.store.merge.degraded_updates`); one bit each.
DEGRADABLE = tuple(c for c in COLUMNS if c not in NOT_DEGRADING and c != "precision")
#: Columns the merge keeps per row in memory: what ``dedupe.cluster_actors`` reads for
#: every row, and what the report counts (``obstacles``).  The names, addresses,
#: SIRET and contacts it compares (:data:`~mapapp.ingest.dedupe.LAZY_COLUMNS`) are
#: read back from the parts for the few rows compared (:class:`CellReader`), and
#: ``thematiques`` is kept as its counts (:data:`~mapapp.ingest.dedupe.THEMATIQUES_COUNT`).
NARROW = (
    "id",
    "source",
    "actor_type",
    "latitude",
    "longitude",
    "precision",
    "confidential",
    "obstacles",
    THEMATIQUES_COUNT,
)
#: Narrow columns with a few distinct values: held as categories (a byte or two a row).
CATEGORIES = ("source", "actor_type", "precision")
#: Between a row's obstacles in the narrow frame (one category per distinct set).
OBSTACLE_SEP = "\x1f"
#: Rows per row group of the assembled actors file (and per batch read from the old one).
BATCH_ROWS = 65_536
_MIX = np.uint64(0x100000001B3)


def _texts(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """A column as text, empty where :func:`mapapp.store.merge.diff_actors` sees "".

    Lists are joined with ``\\x1f``; floats rounded to 7 decimals (NaN is
    empty); booleans ``true``/``false``.
    """
    kind = column.type
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        column = pc.binary_join(column.cast(pa.list_(pa.string())), "\x1f")
    elif pa.types.is_floating(kind):
        rounded = pc.round(column, 7)
        column = pc.if_else(pc.is_nan(rounded), pa.scalar(None, kind), rounded).cast(pa.string())
    elif not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        column = column.cast(pa.string())
    return pc.fill_null(column, "")


def row_hash(table: pa.Table) -> np.ndarray:
    """A 64-bit hash of each row's content (:data:`HASHED` columns; a missing column is empty).

    Why: the import compares a million new records with the stored ones
    without holding either: equal hashes mean no field changed (the chance
    that a changed record keeps its hash is 2**-64).  Computed column by
    column (C loops), so it costs about a second per million rows.
    """
    n = table.num_rows
    out = np.zeros(n, dtype=np.uint64)
    empty = pd.util.hash_array(np.array([""], dtype=object))[0]
    for name in HASHED:
        if name in table.column_names:
            text = _texts(table.column(name)).to_numpy(zero_copy_only=False)
            col = pd.util.hash_array(np.asarray(text, dtype=object), categorize=False)
        else:
            col = np.full(n, empty, dtype=np.uint64)
        out = out * _MIX ^ col
    return out


def filled_mask(table: pa.Table) -> np.ndarray:
    """Per row, one bit per :data:`DEGRADABLE` column: set when the field holds something."""
    out = np.zeros(table.num_rows, dtype=np.uint64)
    for bit, name in enumerate(DEGRADABLE):
        if name in table.column_names:
            filled = pc.greater(pc.utf8_length(_texts(table.column(name))), 0)
            out |= filled.to_numpy(zero_copy_only=False).astype(np.uint64) << np.uint64(bit)
    return out


def lost_fields(old: int, new: int) -> list[str]:
    """The degradable fields set in ``old``'s mask and empty in ``new``'s.

    >>> lost_fields(1 << DEGRADABLE.index("telephone"), 0)
    ['telephone']
    """
    gone = int(old) & ~int(new)
    return [name for bit, name in enumerate(DEGRADABLE) if gone >> bit & 1]


def narrow_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns of :data:`NARROW` that ``frame`` has, in their lightest form.

    Sources, types and precisions as categories; obstacles as one category
    per distinct set (joined with :data:`OBSTACLE_SEP`: only counted, never
    compared); ``thematiques`` as how many each row has.  About 60 bytes a
    row in all, where the names, addresses and contacts weighed 200 more.

    >>> f = narrow_frame(pd.DataFrame({"id": ["a:1"], "nom": ["EPN"], "source": ["a"],
    ...                                "thematiques": [["numerique", "emploi"]]}))
    >>> list(f.columns), f["source"].dtype.name, int(f[THEMATIQUES_COUNT].iloc[0])
    (['id', 'source', '_thematiques_n'], 'category', 2)
    >>> o = narrow_frame(pd.DataFrame({"obstacles": [["emploi", "mobilite"]]}))["obstacles"]
    >>> o.dtype.name, o.iloc[0].split(OBSTACLE_SEP)
    ('category', ['emploi', 'mobilite'])
    """
    out = frame[[c for c in NARROW if c in frame.columns]].copy(deep=False)
    for c in CATEGORIES:
        if c in out:
            out[c] = out[c].astype("category")
    if "obstacles" in out:
        joined = [OBSTACLE_SEP.join(v) if v is not None else "" for v in out["obstacles"]]
        out["obstacles"] = pd.Categorical(joined)
    if "thematiques" in frame.columns:
        out[THEMATIQUES_COUNT] = list_lengths(frame["thematiques"]).astype(np.int16)
    return out.reset_index(drop=True)


def concat_narrow(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Narrow frames one after the other, categories kept as categories.

    Why: ``pd.concat`` turns a categorical column whose categories differ
    from one frame to the next into Python strings, a row each.

    >>> a = pd.DataFrame({"source": pd.Categorical(["x"])})
    >>> b = pd.DataFrame({"source": pd.Categorical(["y", "x"])})
    >>> c = concat_narrow([a, b])["source"]
    >>> c.dtype.name, c.tolist()
    ('category', ['x', 'y', 'x'])
    """
    frames = [f for f in frames if len(f.columns)]
    if not frames:
        return pd.DataFrame()
    columns = list(dict.fromkeys(c for f in frames for c in f.columns))
    # categories are put together apart: pd.concat would first turn the column into
    # one Python string per row (110 MB a column at 2.2 million rows)
    together = {c: _union([f[c] for f in frames if c in f.columns], len(frames)) for c in columns}
    rest = [c for c in columns if together[c] is None]
    out = pd.concat([f[[c for c in rest if c in f.columns]] for f in frames], ignore_index=True)
    for c in columns:
        got = together[c]
        if got is not None:
            out[c] = got
        elif isinstance(out[c].dtype, pd.CategoricalDtype) or any(
            isinstance(f[c].dtype, pd.CategoricalDtype) for f in frames if c in f.columns
        ):
            out[c] = out[c].astype(object).astype("category")
    return out[columns]


def _union(parts: list[pd.Series], n_frames: int) -> pd.Categorical | None:
    """The categorical pieces of one column as one categorical (None unless every frame
    has the column as a category, with categories of one kind)."""
    if len(parts) < n_frames or not all(isinstance(p.dtype, pd.CategoricalDtype) for p in parts):
        return None
    try:
        return union_categoricals([p.array for p in parts])
    except TypeError:  # categories of different kinds (text here, numbers there)
        return None


def staging_folder(store: Any) -> Path:
    """A fresh folder for an import's parts, invisible to the store's readers.

    The embedded store's ``generations/.tmp-parts-<pid>-<n>`` (removed by the
    import, or by the next commit after a crash); elsewhere a temporary folder.
    """
    data_dir = getattr(store, "data_dir", None)
    if data_dir is not None and getattr(store, "actors_path", None) is not None:
        root = Path(data_dir) / GENERATIONS
        root.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".tmp-parts-{os.getpid()}-", dir=root))
    return Path(tempfile.mkdtemp(prefix="mapapp-parts-"))


class Parts:
    """The Parquet parts of one import, in reading order; rows numbered across parts.

    Parameters
    ----------
    folder : Path
        Where the parts go (:func:`staging_folder`); removed by :meth:`close`.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.paths: list[Path] = []
        self.starts: list[int] = [0]
        self.schema: pa.Schema | None = None

    def __len__(self) -> int:
        return self.starts[-1]

    def add(self, stored: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Write one chunk in its stored form; return its rows' hashes and filled masks."""
        table = geoarrow_table(stored)
        hashes = row_hash(table)
        filled = filled_mask(table)
        table = table.append_column(ROW_HASH, pa.array(hashes, type=pa.uint64()))
        if self.schema is None:
            self.schema = table.schema
        path = self.folder / f"part-{len(self.paths):05d}.parquet"
        pq.write_table(table, path)
        self.paths.append(path)
        self.starts.append(self.starts[-1] + table.num_rows)
        return hashes, filled

    def spans(self) -> Iterator[tuple[int, int, Path]]:
        """Each part's first row number, the number after its last, and its file."""
        return zip(self.starts[:-1], self.starts[1:], self.paths, strict=True)

    def tables(self) -> Iterator[tuple[int, pa.Table]]:
        """Each part (its first row's number and its rows), one at a time."""
        for start, path in zip(self.starts, self.paths, strict=False):
            yield start, pq.read_table(path)

    def take(self, rows: np.ndarray) -> pa.Table | None:
        """The rows numbered ``rows`` (ascending), read part by part; None when none."""
        rows = np.asarray(rows, dtype=np.int64)
        out = []
        for start, path in zip(self.starts, self.paths, strict=False):
            end = start + pq.ParquetFile(path).metadata.num_rows
            mine = rows[(rows >= start) & (rows < end)] - start
            if len(mine):
                out.append(pq.read_table(path).take(pa.array(mine)))
        return pa.concat_tables(out, promote_options="permissive") if out else None

    def close(self) -> None:
        """Remove the parts and their folder."""
        shutil.rmtree(self.folder, ignore_errors=True)


def old_batches(old: Path | pa.Table | None) -> Iterator[pa.Table]:
    """The old generation's records, :data:`BATCH_ROWS` at a time (a file, or a table)."""
    if old is None:
        return
    if isinstance(old, pa.Table):
        for batch in old.to_batches(max_chunksize=BATCH_ROWS):
            yield pa.Table.from_batches([batch])
        return
    for batch in pq.ParquetFile(old).iter_batches(batch_size=BATCH_ROWS):
        yield pa.Table.from_batches([batch])


def take_old(old: Path | pa.Table | None, rows: np.ndarray) -> pa.Table | None:
    """The old records numbered ``rows`` (any order; returned ascending), None when none."""
    wanted = np.sort(np.asarray(rows, dtype=np.int64))
    out, at = [], 0
    for table in old_batches(old):
        mine = wanted[(wanted >= at) & (wanted < at + table.num_rows)] - at
        at += table.num_rows
        if len(mine):
            out.append(table.take(pa.array(mine)))
    return pa.concat_tables(out, promote_options="permissive") if out else None


class CellReader:
    """The cells the duplicate search asks for, read back from the parts and the old file.

    Rows are numbered as in the merge's combined frame: first the old
    generation's kept records (``old_rows``: their numbers in the old file),
    then this import's (``new_rows``: their numbers across the parts).  Each
    call reads one column of the files that hold asked rows, never a whole
    record (see :data:`~mapapp.ingest.dedupe.Cells`).

    Parameters
    ----------
    old : Path, Table or None
        The old generation's records.
    old_rows : array
        Old-file row numbers of the combined frame's first rows.
    parts : Parts or None
        This import's parts.
    new_rows : array
        Part row numbers of the combined frame's other rows.
    """

    def __init__(
        self,
        old: Path | pa.Table | None,
        old_rows: np.ndarray,
        parts: Parts | None,
        new_rows: np.ndarray,
    ) -> None:
        self.old = old
        self.old_rows = np.asarray(old_rows, dtype=np.int64)
        self.parts = parts
        self.new_rows = np.asarray(new_rows, dtype=np.int64)

    def __call__(self, name: str, rows: np.ndarray) -> list[Any]:
        rows = np.asarray(rows, dtype=np.int64)
        out: list[Any] = [None] * len(rows)
        k = len(self.old_rows)
        is_old = rows < k
        for mask, values in (
            (is_old, lambda pick: self._old(name, self.old_rows[pick])),
            (~is_old, lambda pick: self._new(name, self.new_rows[pick - k])),
        ):
            at = np.flatnonzero(mask)
            if len(at):
                for i, v in zip(at.tolist(), values(rows[at]), strict=True):
                    out[i] = v
        return out

    def _old(self, name: str, rows: np.ndarray) -> list[Any]:
        if isinstance(self.old, pa.Table):
            table = self.old
        elif self.old is not None and name in pq.read_schema(self.old).names:
            table = pq.read_table(self.old, columns=[name])
        else:
            return [None] * len(rows)
        if name not in table.column_names:
            return [None] * len(rows)
        return table.column(name).take(pa.array(rows)).to_pylist()

    def _new(self, name: str, rows: np.ndarray) -> list[Any]:
        out: list[Any] = [None] * len(rows)
        if self.parts is None:
            return out
        for start, end, path in self.parts.spans():
            at = np.flatnonzero((rows >= start) & (rows < end))
            if not len(at):
                continue
            column = pq.read_table(path, columns=[name]).column(0)
            values = column.take(pa.array(rows[at] - start)).to_pylist()
            for i, v in zip(at.tolist(), values, strict=True):
                out[i] = v
        return out


def with_hashes(table: pa.Table) -> pa.Table:
    """``table`` with a complete :data:`~mapapp.store.base.ROW_HASH` column.

    Generations written before the hash existed (or records added by hand)
    have none, or nulls: the hash is computed from their columns.
    """
    if ROW_HASH in table.column_names:
        if table.column(ROW_HASH).null_count == 0:
            return table
        table = table.drop_columns([ROW_HASH])
    return table.append_column(ROW_HASH, pa.array(row_hash(table), type=pa.uint64()))


@dataclass
class AssembledActors:
    """The new records: the old generation's kept rows, then this import's, with clusters.

    Written row group by row group (:meth:`write_parquet`), so no frame of
    all the wide rows ever exists.  ``clusters`` holds ``cluster_id``,
    ``duplicate`` and ``sources`` for the records in that order.

    Attributes
    ----------
    parts : Parts
        This import's rows; ``new_keep`` says which are records (repeated ids
        and held degraded updates are not).
    old : Path, Table or None
        The old generation's records; ``old_keep`` says which stay.
    clusters : DataFrame
        One row per record, in writing order.
    bbox : list of float or None
        The records' bounding box (lon/lat), for the GeoParquet metadata.
    """

    parts: Parts
    new_keep: np.ndarray
    old: Path | pa.Table | None
    old_keep: np.ndarray
    clusters: pd.DataFrame
    bbox: list[float] | None

    def __len__(self) -> int:
        return int(self.new_keep.sum() + self.old_keep.sum())

    def schema(self) -> pa.Schema:
        """The file's schema: the parts' (else the old file's), with the records' bbox."""
        schema = self.parts.schema
        if schema is None:
            first = next(old_batches(self.old), None)
            schema = with_hashes(first if first is not None else pa.table({})).schema
        meta = dict(schema.metadata or {})
        if b"geo" in meta:
            geo = json.loads(meta[b"geo"])
            for column in geo.get("columns", {}).values():
                column.pop("bbox", None)
                if self.bbox is not None:
                    column["bbox"] = self.bbox
            meta[b"geo"] = json.dumps(geo).encode()
        return schema.with_metadata(meta)

    def batches(self) -> Iterator[pa.Table]:
        """The records in writing order, in the file's schema, cluster columns set."""
        schema = self.schema()
        done = 0
        for part in self._kept():
            yield self._conform(part, schema, done)
            done += part.num_rows

    def _kept(self) -> Iterator[pa.Table]:
        at = 0
        for table in old_batches(self.old):
            keep = self.old_keep[at : at + table.num_rows]
            at += table.num_rows
            if keep.any():
                yield with_hashes(table.filter(pa.array(keep)))
        for start, table in self.parts.tables():
            keep = self.new_keep[start : start + table.num_rows]
            if keep.any():
                yield table.filter(pa.array(keep))

    def _conform(self, table: pa.Table, schema: pa.Schema, at: int) -> pa.Table:
        rows = self.clusters.iloc[at : at + table.num_rows]
        arrays = []
        for f in schema:
            if f.name == "cluster_id":
                arrays.append(pa.array(rows["cluster_id"].astype(str).tolist(), type=f.type))
            elif f.name == "duplicate":
                arrays.append(pa.array(rows["duplicate"].astype(bool).to_numpy(), type=f.type))
            elif f.name == "sources":
                arrays.append(pa.array([list(s) for s in rows["sources"]], type=f.type))
            elif f.name in table.column_names:
                arrays.append(table.column(f.name).cast(f.type))
            else:  # a column older generations lack
                arrays.append(pa.nulls(table.num_rows, f.type))
        return pa.Table.from_arrays(arrays, schema=schema)

    def write_parquet(self, path: Any) -> None:
        """Write the GeoParquet file, one row group per batch."""
        with pq.ParquetWriter(path, self.schema()) as writer:
            for table in self.batches():
                writer.write_table(table, row_group_size=BATCH_ROWS)
                del table
                release_memory()

    def to_frame(self) -> gpd.GeoDataFrame:
        """All the records as one frame (for a backend that needs one: PostGIS)."""
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "actors.parquet"
            self.write_parquet(path)
            frame = gpd.read_parquet(path)
        with contextlib.suppress(KeyError):
            frame = frame.drop(columns=[ROW_HASH])
        return frame
