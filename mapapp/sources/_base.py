"""What every source adapter produces: chunks of *staging* rows.

Why a staging layer: each input format names things its own way ("Code
Insee", ``insee_city``, ``fields.post_code``); an adapter only *renames* and
*reshapes* (join, unnest, split) into the staging columns below and keeps the
original record next to each row.  All cleaning (coordinates, INSEE codes,
vocabularies, hours) happens once, in :mod:`mapapp.ingest`, whatever the
format, so every format gets the same repairs and the same report.

Staging columns are the columns of :data:`mapapp.schema.COLUMNS` with values
still raw (strings, numbers, lists in any spelling), plus:

``coords``
    a point as EWKT/WKT text (``SRID=4326;POINT (lon lat)``) or a GeoJSON
    geometry mapping;
``x_l93``, ``y_l93``
    Lambert-93 metres (EPSG:2154);
``source_codes``
    list of the source's type codes (réseaux porteurs, typologie, kind) that
    map to an actor type;
``obstacles``
    obstacle slugs a mapping file sets directly.

Examples
--------
>>> norm_key("Code Insee"), norm_key("Année-creation"), norm_key("Service ID")
('code_insee', 'annee_creation', 'service_id')
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from mapapp.schema import COLUMNS
from mapapp.sources._io import TRUNCATED_REASON, Probe, TruncatedRow

__all__ = [
    "STAGING_COLUMNS",
    "Adapter",
    "FrameRecords",
    "Merged",
    "RawChunk",
    "chunk_records",
    "norm_key",
]

STAGING_COLUMNS: tuple[str, ...] = (
    *(c for c in COLUMNS if c not in ("demo",)),
    "coords",
    "x_l93",
    "y_l93",
    "source_codes",
)


@lru_cache(maxsize=8192)
def norm_key(name: str) -> str:
    """A column name as a comparable key: ASCII, lower case, ``_`` between words."""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9.]+", "_", text.lower()).strip("_")


@dataclass
class RawChunk:
    """Staging rows with, for each, where it came from and what it was.

    Attributes
    ----------
    rows : DataFrame
        Staging columns (any subset of :data:`STAGING_COLUMNS`).
    origins : list of str
        ``"file.json#12"`` (1-based record number) for each row.
    originals : list of dict
        The record as read, for the quarantine and the report.
    adapter : str
        Name of the adapter.
    quarantined : list of (origin, reason, original)
        Rows the adapter could not read at all.
    merged : list of (origin, reason)
        Rows the adapter folded into other rows (a structure joined to its
        services): read, not lost, not a record of their own.
    """

    rows: pd.DataFrame
    origins: list[str]
    originals: Sequence[dict[str, Any]]
    adapter: str
    quarantined: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    merged: list[tuple[str, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows) + len(self.quarantined) + len(self.merged)


def chunk_records(
    records: Iterable[tuple[str, Mapping[str, Any], dict[str, Any] | str | Merged]],
    *,
    adapter: str,
    size: int = 20_000,
) -> Iterator[RawChunk]:
    """Group ``(origin, original, staging-or-reason)`` triples into chunks.

    A triple whose third item is a string is a row the adapter could not
    read: it goes to the chunk's ``quarantined`` list with that reason.  A row
    cut by the end of its file (a :class:`~mapapp.sources._io.TruncatedRow`,
    which adapters pass on as ``{"value": row}``) is quarantined as truncated.  A
    :class:`Merged` marks a row folded into others.
    """
    rows: list[dict[str, Any]] = []
    origins: list[str] = []
    originals: list[dict[str, Any]] = []
    bad: list[tuple[str, str, dict[str, Any]]] = []
    merged: list[tuple[str, str]] = []
    for origin, original, staged in records:
        cut = original.get("value") if isinstance(original, Mapping) else None
        if isinstance(cut, TruncatedRow):  # whatever the adapter said, the row was cut
            staged, original = TRUNCATED_REASON, cut.original()
        if isinstance(staged, Merged):
            merged.append((origin, staged.reason))
        elif isinstance(staged, str):
            bad.append((origin, staged, dict(original)))
        else:
            rows.append(staged)
            origins.append(origin)
            originals.append(dict(original))
        if len(rows) + len(bad) + len(merged) >= size:
            yield RawChunk(
                pd.DataFrame(rows, dtype=object), origins, originals, adapter, bad, merged
            )
            rows, origins, originals, bad, merged = [], [], [], [], []
    if rows or bad or merged:
        yield RawChunk(pd.DataFrame(rows, dtype=object), origins, originals, adapter, bad, merged)


class FrameRecords(Sequence[dict[str, Any]]):
    """The rows of a DataFrame as records, each built only when asked for.

    Why: a chunk keeps every row as read, for the quarantine; building a dict
    per row up front costs more than cleaning it, and only the quarantined
    few are ever looked at.

    Examples
    --------
    >>> recs = FrameRecords(pd.DataFrame({"id": ["1", "2"], "nom": ["A", "B"]}))
    >>> len(recs), recs[1]
    (2, {'id': '2', 'nom': 'B'})
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame.reset_index(drop=True)

    def __len__(self) -> int:
        return len(self.frame)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return {str(k): v for k, v in self.frame.iloc[int(i)].items()}


@dataclass(frozen=True)
class Merged:
    """Marks a row an adapter folded into other rows, with the reason."""

    reason: str


class Adapter:
    """Base class of source adapters.

    Subclasses set :attr:`name` and :attr:`label`, and implement
    :meth:`detect` and :meth:`chunks`.
    """

    name: str = ""
    label: str = ""

    def detect(self, probe: Probe) -> bool:  # pragma: no cover - overridden
        """Whether this adapter reads the file ``probe`` describes."""
        raise NotImplementedError

    def chunks(self, paths: list[Path]) -> Iterator[RawChunk]:  # pragma: no cover
        """Staging rows of the input files, chunk by chunk."""
        raise NotImplementedError

    def dataset(self, paths: list[Path]) -> str:
        """Default name of the dataset these files are a version of.

        Records that were in the previous import of the same dataset and are
        missing now are reported as gone.
        """
        first = paths[0]
        stem = first.parent.name if len(paths) > 1 else first.stem
        return re.sub(r"[-_.]?\d{4}-?\d{2}-?\d{2}.*$", "", stem) or stem
