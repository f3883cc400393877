"""Input formats: one adapter per format, and detection from the content.

Why detection from the content: coordinators pass files as the field
publishes them, often renamed; the first records tell more than the file
name.  Each adapter has a ``detect(probe)`` test; shipped mapping files carry
a ``[detect]`` signature and are tried first (they are the most specific),
then the quarantine format, the data·inclusion API (search responses and
list pages), the digital-inclusion places standard, and the data·inclusion
flat export.

Rows without an id (a source whose ``id`` is null everywhere) get one
derived from their content (:func:`content_id`), the same on every import of
the same row, and the group counts them so the report can say so.

Examples
--------
>>> [a.name for a in builtin_adapters()][:4]
['quarantine', 'datainclusion-api', 'mediation-numerique', 'datainclusion']
"""

from __future__ import annotations

import gc
import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from mapapp.errors import InputFormatError
from mapapp.sources._base import STAGING_COLUMNS, Adapter, RawChunk
from mapapp.sources._io import DATA_SUFFIXES, Probe, download, is_url, probe
from mapapp.sources.datainclusion import DataInclusionExport
from mapapp.sources.datainclusion_api import DataInclusionApi
from mapapp.sources.mapping import MappedAdapter, load_mapping, shipped_mappings
from mapapp.sources.mediation_numerique import MediationNumerique
from mapapp.sources.quarantine import QuarantineFile

__all__ = [
    "STAGING_COLUMNS",
    "Adapter",
    "InputGroup",
    "RawChunk",
    "builtin_adapters",
    "content_id",
    "format_names",
    "read",
    "resolve_inputs",
]


def builtin_adapters() -> list[Adapter]:
    """The format adapters, in detection order (shipped mappings excluded)."""
    return [QuarantineFile(), DataInclusionApi(), MediationNumerique(), DataInclusionExport()]


def _all_adapters() -> list[Adapter]:
    mapped: list[Adapter] = [MappedAdapter(m) for m in shipped_mappings()]
    return [*mapped, *builtin_adapters()]


def format_names() -> list[str]:
    """Values accepted by ``--format``."""
    return [a.name for a in builtin_adapters()]


#: Staging fields left out of a derived id: they change without the place changing.
_VOLATILE = frozenset({"source_id", "date_maj"})


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return value != value
    return isinstance(value, str) and not value.strip()


def content_id(row: Mapping[str, Any]) -> str:
    """An id for a row that has none, derived from what the row says.

    Why from the content: the id must be the same when the same file (or a
    newer version where this row did not change) is imported again, so the
    record is updated rather than duplicated, and it must differ between
    distinct rows.  The update date is left out (a re-publication bumps it).
    Two rows saying exactly the same thing get the same id: the second is
    then reported as "same id read again".

    Examples
    --------
    >>> a = content_id({"nom": "EPN", "commune": "Nouméa", "date_maj": "2024-01-01"})
    >>> a == content_id({"commune": "Nouméa", "nom": "EPN", "date_maj": "2025-06-30"})
    True
    >>> a == content_id({"nom": "EPN", "commune": "Dumbéa"}), a[:1], len(a)
    (False, 'h', 17)
    """
    fields = {str(k): v for k, v in row.items() if k not in _VOLATILE and not k.startswith("_")}
    fields = {k: v for k, v in fields.items() if not _blank(v)}
    payload = json.dumps(fields, sort_keys=True, default=str, ensure_ascii=False)
    return "h" + hashlib.sha1(payload.encode("utf-8")).hexdigest()[:16]


#: Collector thresholds while a file streams (Python's defaults: 700, 10, 10).
STREAM_GC_THRESHOLDS = (50_000, 20, 10)


@contextmanager
def fewer_collections(thresholds: tuple[int, int, int] = STREAM_GC_THRESHOLDS) -> Iterator[None]:
    """Run the cyclic garbage collector less often inside the block, then as before.

    Why: reading and cleaning a chunk allocates millions of short-lived
    lists, tuples and strings (freed by reference counting, not by the
    collector), and each 700 allocations started a collection that walked
    the young objects, and now and then every object held: 5 % of the CPU
    of a 200,000-row import, 1.2 s, for almost no cycle found.  Collections
    still happen (the young objects every 50,000 allocations, all of them
    now and then), so cyclic garbage does not pile up; the peak memory of
    that import was unchanged (GC time 1.24 -> 0.2 s).

    >>> before = gc.get_threshold()
    >>> with fewer_collections((5000, 10, 10)):
    ...     gc.get_threshold()
    (5000, 10, 10)
    >>> gc.get_threshold() == before
    True
    """
    before = gc.get_threshold()
    gc.set_threshold(*thresholds)
    try:
        yield
    finally:
        gc.set_threshold(*before)


@dataclass
class InputGroup:
    """Files read together by one adapter (a structures and a services file...).

    Attributes
    ----------
    derived_ids : int
        Rows read so far that had no id and were given :func:`content_id`.
    """

    adapter: Adapter
    paths: list[Path]
    dataset: str
    derived_ids: int = field(default=0, compare=False)

    def chunks(self) -> Iterator[RawChunk]:
        """Staging rows, chunk by chunk (rows without an id get one from their content).

        While the rows stream (and the caller cleans each chunk), the cyclic
        garbage collector runs less often (:func:`fewer_collections`).
        """
        with fewer_collections():
            for chunk in self.adapter.chunks(self.paths):
                yield self._with_ids(chunk)

    def _with_ids(self, chunk: RawChunk) -> RawChunk:
        rows = chunk.rows
        if len(rows) == 0:
            return chunk
        if "source_id" not in rows:
            rows["source_id"] = None
        ids = rows["source_id"].tolist()
        missing = [i for i, value in enumerate(ids) if _blank(value)]
        if missing:
            records = rows.iloc[missing].to_dict(orient="records")
            for i, record in zip(missing, records, strict=True):
                ids[i] = content_id({str(k): v for k, v in record.items()})
            rows["source_id"] = pd.Series(ids, index=rows.index, dtype=object)
            self.derived_ids += len(missing)
        return chunk

    @property
    def notes(self) -> list[str]:
        """What the import report should say about this group (French, then English)."""
        if not self.derived_ids:
            return []
        n = self.derived_ids
        return [
            f"{self.dataset or self.adapter.name} : {n} ligne(s) sans identifiant ; chacune a "
            "reçu un identifiant calculé à partir de son contenu (stable tant que la ligne ne "
            f"change pas). / {n} row(s) had no id; each was given one derived from its content "
            "(stable while the row is unchanged)."
        ]


def _expand(source: str, download_dir: Path) -> list[Path]:
    if is_url(source):
        return [download(source, download_dir)]
    path = Path(source).expanduser()
    if path.is_dir():
        files = sorted(
            p
            for p in path.iterdir()
            if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in DATA_SUFFIXES
        )
        if not files:
            raise InputFormatError(
                f"{path}: no data file in this folder (looked for "
                f"{', '.join(DATA_SUFFIXES)}); pass the file itself"
            )
        return files
    if not path.exists():
        raise InputFormatError(f"{path}: no such file or folder; check the path")
    if not path.is_file():
        raise InputFormatError(f"{path}: not a regular file")
    return [path]


def _check_probe(p: Probe) -> None:
    if p.kind == "empty":
        raise InputFormatError(
            f"{p.path}: the file is empty; nothing to import (export the data again)"
        )
    if p.kind in ("json", "jsonl") and not p.sample and p.shape != "object":
        raise InputFormatError(
            f"{p.path}: the JSON holds no record (expected a list of objects); nothing to import"
        )
    if p.kind in ("csv", "parquet") and not p.columns:
        raise InputFormatError(f"{p.path}: no header line; the first line must name the columns")
    if p.kind in ("csv", "parquet") and not p.sample:
        raise InputFormatError(f"{p.path}: a header but no rows; nothing to import")


def resolve_inputs(
    sources: list[str | Path],
    *,
    fmt: str | None = None,
    mapping: str | Path | None = None,
    download_dir: Path,
    dataset: str | None = None,
) -> list[InputGroup]:
    """Expand files, folders and URLs and pick an adapter for each file.

    Files of one argument (a folder) read by the same adapter form one group,
    so a structures file and a services file are joined.

    Raises
    ------
    InputFormatError
        A path is missing, a file is empty or its format is not recognised
        (the message names the file and suggests ``--format`` / ``--mapping``).
    """
    if not sources:
        raise InputFormatError("give at least one file, folder or URL to import")
    forced: Adapter | None = None
    if mapping is not None:
        forced = MappedAdapter(load_mapping(mapping))
    elif fmt is not None:
        by_name = {a.name: a for a in builtin_adapters()}
        if fmt not in by_name:
            raise InputFormatError(f"unknown format {fmt!r}; use one of {', '.join(by_name)}")
        forced = by_name[fmt]
    adapters = _all_adapters()
    groups: list[InputGroup] = []
    for source in sources:
        by_adapter: dict[str, tuple[Adapter, list[Path]]] = {}
        for path in _expand(str(source), download_dir):
            p = probe(path)
            _check_probe(p)
            chosen = forced or next((a for a in adapters if a.detect(p)), None)
            if chosen is None:
                cols = ", ".join(sorted(p.columns)[:12])
                raise InputFormatError(
                    f"{path}: format not recognised (columns: {cols or 'none'}); "
                    "pass --format (" + ", ".join(format_names()) + ") or --mapping FILE.toml "
                    "describing its columns (see docs/mapping.md)"
                )
            by_adapter.setdefault(chosen.name, (chosen, []))[1].append(path)
        for adapter, paths in by_adapter.values():
            groups.append(InputGroup(adapter, paths, dataset or adapter.dataset(paths)))
    return groups


def read(
    path_or_url: str | Path,
    *,
    fmt: str | None = None,
    mapping: str | Path | None = None,
    download_dir: Path | None = None,
) -> pd.DataFrame:
    """All staging rows of a file, folder or URL in one frame.

    Columns are staging columns plus ``_origin`` (``file#record``) and
    ``_adapter``.  Rows an adapter could not read are left out; the ingest
    pipeline (:func:`mapapp.ingest.ingest`) reports them.
    """
    import tempfile

    folder = download_dir or Path(tempfile.mkdtemp(prefix="mapapp-dl-"))
    frames: list[pd.DataFrame] = []
    for group in resolve_inputs([path_or_url], fmt=fmt, mapping=mapping, download_dir=folder):
        for chunk in group.chunks():
            rows = chunk.rows.copy()
            rows["_origin"] = chunk.origins
            rows["_adapter"] = chunk.adapter
            frames.append(rows)
    out: Any = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return out
