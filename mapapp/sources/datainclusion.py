"""data·inclusion open-data export (v0 and v1): a structures file and a services file.

Why one adapter for many spellings: the national export is published as CSV,
JSON, Parquet and GeoJSON, in the v0 and v1 schemas, and re-published by
others with human column names ("Code Insee", "Service ID", "Lat"/"Long").
Column names are compared after :func:`~mapapp.sources._base.norm_key` and
through an alias table, so all of them read the same way.

Services are joined to their structure on ``(source, structure_id)`` (or on
``structure_id`` alone where the structures file has no ``source``): a
service takes the structure's address, coordinates, phone, SIRET and type
codes where it lacks its own.  A service whose structure is missing is kept.
A structure with no service becomes a record of its own; a structure that
has services is counted as *merged* into them (its data rides on each).

Examples
--------
>>> row = stage({"Service ID": "s1", "Structure ID": "t1", "Source": "dora", "Nom": "Aide",
...              "Lat": "20,9", "Long": "55,5", "Profils": "{jeunes}"})
>>> row["source_id"], row["structure_id"], row["latitude"], row["publics"]
('s1', 't1', '20,9', '{jeunes}')
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mapapp.sources._base import (
    Adapter,
    FrameRecords,
    RawChunk,
    norm_key,
)
from mapapp.sources._io import (
    TRUNCATED_REASON,
    Probe,
    TruncatedRow,
    csv_layout,
    iter_flat_records,
    iter_table_chunks,
    parse_list,
    probe,
)

__all__ = ["DataInclusionExport", "join_service", "read", "stage"]

#: staging column -> accepted keys (after norm_key), first found wins.
_ALIASES: dict[str, tuple[str, ...]] = {
    "source_id": ("id", "service_id", "structure.id_service"),
    "structure_id": ("structure_id", "id_structure"),
    "source": ("source",),
    "nom": ("nom", "name"),
    "description": ("description", "presentation_detail", "presentation_resume"),
    "thematiques": ("thematiques",),
    "publics": ("publics", "profils"),
    "frais": ("frais",),
    "modes_accueil": ("modes_accueil",),
    "zone_eligibilite": ("zone_eligibilite", "zone_diffusion_code"),
    "adresse": ("adresse",),
    "complement_adresse": ("complement_adresse",),
    "code_postal": ("code_postal",),
    "code_insee": ("code_insee",),
    "commune": ("commune",),
    "latitude": ("latitude", "lat"),
    "longitude": ("longitude", "long", "lon", "lng"),
    "telephone": ("telephone",),
    "courriel": ("courriel",),
    "site_web": ("site_web",),
    "lien_source": ("lien_source", "lien", "url_source"),
    "horaires_accueil": ("horaires_accueil", "horaires_ouverture"),
    "date_maj": ("date_maj",),
    "siret": ("siret",),
    "coords": ("geometry", "_geometry"),
}
_STRUCTURE_CODES = ("reseaux_porteurs", "typologie")
#: File kinds read as tables (column by column), and their chunk size in rows.
_TABLES = ("csv", "parquet")
_CHUNK_ROWS = 20_000
_SERVICE_HINTS = {"thematiques", "modes_accueil", "profils", "publics", "frais", "types"}
_STRUCTURE_HINTS = {"typologie", "reseaux_porteurs", "siret", "rna", "antenne", "labels_nationaux"}
#: Fields a service takes from its structure when it has none of its own.
_INHERITED = (
    "adresse",
    "complement_adresse",
    "code_postal",
    "code_insee",
    "commune",
    "telephone",
    "courriel",
    "site_web",
    "horaires_accueil",
    "siret",
    "lien_source",  # the structure's page when the service has none of its own
)


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return value != value
    if isinstance(value, str):
        return not value.strip()
    return False


def _normed(record: Mapping[str, Any]) -> dict[str, Any]:
    return {norm_key(k): v for k, v in record.items()}


def stage(record: Mapping[str, Any]) -> dict[str, Any]:
    """Staging row of one export record (service or structure), values untouched."""
    rec = _normed(record)
    out: dict[str, Any] = {}
    for col, keys in _ALIASES.items():
        for key in keys:
            if key in rec and not _blank(rec[key]):
                out[col] = rec[key]
                break
    codes: list[str] = []
    for key in _STRUCTURE_CODES:
        codes += parse_list(rec.get(key))
    if codes:
        out["source_codes"] = codes
    return out


def _blank_mask(column: pd.Series) -> np.ndarray:
    """:func:`_blank` of every cell of a column, computed on the whole column.

    A CSV column holds only strings: those are stripped by ``str.strip``
    mapped at C speed (three times cheaper than pandas' string methods, which
    copy the column into Arrow first); a column holding anything else (None,
    NaN, numbers) makes ``str.strip`` raise and goes the general way.

    >>> _blank_mask(pd.Series([" a ", "\u00a0", "", None, float("nan"), 0], dtype=object)).tolist()
    [False, True, True, True, True, False]
    """
    cells = column.tolist()
    try:
        kept = np.fromiter(map(str.strip, cells), dtype=bool, count=len(cells))
    except TypeError:
        pass
    else:
        return ~kept
    values = column.astype(object)
    text = values.astype(str).str.strip()
    return (values.isna() | (text == "")).to_numpy(dtype=bool)


def stage_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`stage` then :func:`join_service` (no structure) of every row of a table chunk.

    Examples
    --------
    >>> f = pd.DataFrame({"ID": ["s1", "s2"], "Nom": ["Aide", " "], "Name": ["x", "Autre"],
    ...                   "source": ["dora", ""], "typologie": ["CCAS", ""]})
    >>> out = stage_frame(f)
    >>> out["nom"].tolist(), out["source_codes"].tolist()
    (['Aide', 'Autre'], [['CCAS', 'dora'], []])
    """
    out, codes = _stage_columns(frame)
    _append_source(codes, out.get("source"))
    staged = pd.DataFrame(out, index=range(len(frame)), dtype=object)
    staged["source_codes"] = pd.Series(codes, index=range(len(frame)), dtype=object)
    return staged


def _stage_columns(frame: pd.DataFrame) -> tuple[dict[str, np.ndarray], list[list[str]]]:
    """:func:`stage` of every row: staging columns (NaN where blank) and each row's type codes."""
    rec = {norm_key(str(c)): frame[c] for c in frame.columns}  # the last of a name wins
    n = len(frame)
    out: dict[str, np.ndarray] = {}
    for col, keys in _ALIASES.items():
        value: np.ndarray | None = None
        todo = np.ones(n, dtype=bool)
        for key in keys:
            if key not in rec:
                continue
            cells = rec[key].to_numpy(dtype=object)
            take = todo & ~_blank_mask(rec[key])
            if value is None:
                value = np.full(n, np.nan, dtype=object)
            value[take] = cells[take]
            todo &= ~take
        if value is not None and not todo.all():
            out[col] = value
    codes: list[list[str]] = [[] for _ in range(n)]
    for key in _STRUCTURE_CODES:
        if key in rec:
            for row, cell in zip(codes, rec[key].to_numpy(dtype=object), strict=True):
                row += parse_list(cell)
    return out, codes


def _append_source(codes: list[list[str]], source: np.ndarray | None) -> None:
    """The source's own name as a type code of each row (:func:`join_service` does the same)."""
    if source is not None:
        for row, src in zip(codes, source, strict=True):
            if isinstance(src, str) and src.strip():
                row.append(src.strip())


def _key_text(values: np.ndarray | None, n: int) -> np.ndarray:
    """``str(value).strip()`` of each staged cell, '' where blank (a join key)."""
    if values is None:
        return np.full(n, "", dtype=object)
    text = pd.Series(values, dtype=object).astype(str).str.strip().to_numpy(dtype=object)
    text[pd.isna(values)] = ""
    return text


def join_service(service: dict[str, Any], structure: dict[str, Any] | None) -> dict[str, Any]:
    """A service's staging row completed from its structure's."""
    row = dict(service)
    if structure is None:
        codes = list(row.get("source_codes") or [])
    else:
        row["structure_nom"] = structure.get("nom", "")
        for col in _INHERITED:
            if _blank(row.get(col)) and not _blank(structure.get(col)):
                row[col] = structure[col]
        # coordinates come as a pair: never mix the service's and the structure's
        own = not (_blank(service.get("latitude")) or _blank(service.get("longitude")))
        if not own and _blank(service.get("coords")):
            for col in ("latitude", "longitude", "coords"):
                if not _blank(structure.get(col)):
                    row[col] = structure[col]
        codes = list(structure.get("source_codes") or []) + list(row.get("source_codes") or [])
    src = row.get("source")
    if isinstance(src, str) and src.strip():
        codes.append(src.strip())
    row["source_codes"] = codes
    return row


def _role(p: Probe) -> str:
    cols = {norm_key(c) for c in p.columns}
    name = p.path.name.lower()
    if "structure_id" in cols or "service" in name:
        return "services"
    if "structure" in name or cols & _STRUCTURE_HINTS:
        return "structures"
    return "services" if cols & _SERVICE_HINTS else "structures"


class DataInclusionExport(Adapter):
    """The data·inclusion flat export: structures and services files."""

    name = "datainclusion"
    label = "data·inclusion export (structures + services, v0/v1, CSV/JSON/Parquet/GeoJSON)"

    def detect(self, p: Probe) -> bool:
        """Records with an id and a name, and data·inclusion service or structure fields."""
        if p.shape in ("items", "object"):
            return False
        cols = {norm_key(c) for c in p.columns}
        if not ({"id", "service_id"} & cols) or not ({"nom", "name"} & cols):
            return False
        if "pivot" in cols:  # the digital-inclusion places standard
            return False
        return bool(cols & (_SERVICE_HINTS | {"structure_id", "typologie", "reseaux_porteurs"}))

    def dataset(self, paths: list[Path]) -> str:
        """``data-inclusion`` unless the folder says more (a regional extract)."""
        parent = paths[0].parent.name
        return parent if len(paths) > 1 and parent else super().dataset(paths)

    def chunks(self, paths: list[Path]) -> Iterator[RawChunk]:
        """Join services to structures and stream staging rows."""
        probes = [probe(p) for p in paths]
        structures = [p for p in probes if _role(p) == "structures"]
        services = [p for p in probes if _role(p) == "services"]
        if not structures and services and all(p.kind in _TABLES for p in services):
            return self._table_chunks(services)
        return _pair_chunks(structures, services, self.name)

    def _table_chunks(self, services: list[Probe]) -> Iterator[RawChunk]:
        """Services CSV/Parquet files without structures, staged column by column.

        The same staging rows as :func:`stage` then :func:`join_service` give
        record by record, without building a dict per row: a national export
        of a million services is read in seconds, not minutes.
        """
        for p in services:
            n = 0
            name = p.path.name  # once: a Path computes its name on every call
            for frame in iter_table_chunks(p.path, p.kind, chunk_rows=_CHUNK_ROWS):
                origins = [f"{name}#{i}" for i in range(n + 1, n + len(frame) + 1)]
                n += len(frame)
                yield RawChunk(stage_frame(frame), origins, FrameRecords(frame), self.name)
            tail = csv_layout(p.path).tail if p.kind == "csv" else None
            if tail is not None:
                cut = (f"{p.path.name}#{n + 1}", TRUNCATED_REASON, tail.original())
                yield RawChunk(pd.DataFrame(), [], [], self.name, [cut])


_NOT_A_RECORD = "not a record (expected a JSON object)"
_JOINED = "structure joined to its services"


def _not_a_record(origin: str, rec: Any) -> tuple[str, str, dict[str, Any]]:
    """The quarantine entry of something read that is no record (a row cut short, a number)."""
    if isinstance(rec, TruncatedRow):
        return origin, TRUNCATED_REASON, rec.original()
    return origin, _NOT_A_RECORD, {"value": rec}


def _record_batches(
    p: Probe, size: int
) -> Iterator[tuple[list[str], list[dict[str, Any]], list[tuple[str, str, dict[str, Any]]]]]:
    """``(origins, records, not records)`` of a file, ``size`` records at a time."""
    origins: list[str] = []
    records: list[dict[str, Any]] = []
    bad: list[tuple[str, str, dict[str, Any]]] = []
    for n, rec in iter_flat_records(p):
        origin = f"{p.path.name}#{n}"
        if isinstance(rec, Mapping):
            origins.append(origin)
            records.append(dict(rec))
        else:
            bad.append(_not_a_record(origin, rec))
        if len(records) + len(bad) >= size:
            yield origins, records, bad
            origins, records, bad = [], [], []
    if records or bad:
        yield origins, records, bad


def _records_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Records as one frame, keys spelled differently by different records in one column.

    Why: :func:`stage` reads each record's keys after :func:`norm_key`, the
    last of a record's keys with one normal form winning.  Records of one
    file may spell a key differently ("Structure ID", "structure_id"): in a
    frame they are two columns, so each row takes the value of the last of
    them that its record has.
    """
    frame = pd.DataFrame(records, dtype=object) if records else pd.DataFrame(index=range(0))
    groups: dict[str, list[Any]] = {}
    for c in frame.columns:
        groups.setdefault(norm_key(str(c)), []).append(c)
    for names in groups.values():
        if len(names) < 2:
            continue
        value = frame[names[0]].to_numpy(dtype=object).copy()
        for c in names[1:]:
            has = np.fromiter((c in r for r in records), dtype=bool, count=len(records))
            value[has] = frame[c].to_numpy(dtype=object)[has]
        frame = frame.drop(columns=names[:-1])
        frame[names[-1]] = value
    return frame


class _Structures:
    """Every structure, staged column by column, with its join keys.

    ``key`` is ``(source, id)``; the first structure of a key is kept (a
    repeated one is quarantined), and ``by_id`` is the first kept structure
    of each id (for services whose ``source`` differs from their structure's).
    """

    def __init__(self, probes: list[Probe]) -> None:
        origins: list[str] = []
        records: list[dict[str, Any]] = []
        # (position among everything read, entry): quarantined in the order read
        bad: list[tuple[int, tuple[str, str, dict[str, Any]]]] = []
        seq: list[int] = []
        for p in probes:
            for n, rec in iter_flat_records(p):
                origin = f"{p.path.name}#{n}"
                if isinstance(rec, Mapping):
                    seq.append(len(seq) + len(bad))
                    origins.append(origin)
                    records.append(dict(rec))
                else:
                    bad.append((len(seq) + len(bad), _not_a_record(origin, rec)))
        frame = _records_frame(records)
        n = len(records)
        out, codes = _stage_columns(frame)
        sid = _key_text(out.get("source_id"), n)
        src = _key_text(out.get("source"), n)
        no_id = sid == ""
        repeated = ~no_id & pd.DataFrame({"src": src, "sid": sid}).duplicated().to_numpy()
        for k in np.flatnonzero(no_id | repeated).tolist():
            why = "structure without id" if no_id[k] else f"structure id {sid[k]!r} repeated"
            bad.append((seq[k], (origins[k], why, records[k])))
        self.bad = [b for _, b in sorted(bad, key=lambda x: x[0])]
        kept = np.flatnonzero(~no_id & ~repeated)
        self.kept = kept
        self.origins, self.records = origins, records
        self.columns, self.codes = out, codes
        self.sid, self.src = sid, src
        self.index = pd.MultiIndex.from_arrays([src[kept], sid[kept]])
        first = pd.Series(kept).groupby(sid[kept], sort=False).first()
        self.by_id = pd.Index(first.index)
        self.by_id_row = first.to_numpy()
        self.used = np.zeros(n, dtype=bool)

    def find(self, src: np.ndarray, sid: np.ndarray) -> np.ndarray:
        """The structure row of each ``(source, structure id)``, else by id alone, else -1."""
        if not len(self.kept) or not len(src):
            return np.full(len(src), -1, dtype=np.int64)
        at = self.index.get_indexer(pd.MultiIndex.from_arrays([src, sid]))
        row = np.where(at >= 0, self.kept[np.maximum(at, 0)], -1)
        by_id = self.by_id.get_indexer(sid)
        alone = (row < 0) & (by_id >= 0)
        row[alone] = self.by_id_row[by_id[alone]]
        return row

    def alone_rows(self) -> tuple[pd.DataFrame, list[str], list[dict[str, Any]]]:
        """The structures no service named: records of their own (``structure:`` ids)."""
        rows = self.kept[~self.used[self.kept]]
        out = {c: v[rows] for c, v in self.columns.items()}
        out["structure_id"] = self.sid[rows].astype(object)
        codes = [list(self.codes[r]) for r in rows.tolist()]
        _append_source(codes, out.get("source"))
        nom = out.get("nom")
        out["structure_nom"] = (
            np.where(pd.isna(nom), "", nom).astype(object)
            if nom is not None
            else np.full(len(rows), "", dtype=object)
        )
        ids = out["source_id"] if "source_id" in out else np.full(len(rows), np.nan)
        out["source_id"] = np.array([f"structure:{v}" for v in ids.tolist()], dtype=object)
        frame = pd.DataFrame(out, index=range(len(rows)), dtype=object)
        frame["source_codes"] = pd.Series(codes, index=range(len(rows)), dtype=object)
        return frame, [self.origins[r] for r in rows.tolist()], [self.records[r] for r in rows]


def _join_frame(services: pd.DataFrame, structures: _Structures) -> pd.DataFrame:
    """:func:`stage` then :func:`join_service` of every service of a batch, as one join."""
    n = len(services)
    out, codes = _stage_columns(services)
    src = _key_text(out.get("source"), n)
    stid = _key_text(out.get("structure_id"), n)
    row = structures.find(src, stid)
    found = row >= 0
    structures.used[row[found]] = True
    take = np.maximum(row, 0)
    theirs = structures.columns

    def column(name: str) -> np.ndarray:
        return out[name] if name in out else np.full(n, np.nan, dtype=object)

    if found.any():
        nom = theirs.get("nom")
        struct_nom = np.full(n, np.nan, dtype=object)
        struct_nom[found] = (
            np.where(pd.isna(nom[take[found]]), "", nom[take[found]]) if nom is not None else ""
        )
        for col in _INHERITED:
            if col not in theirs:
                continue
            mine = column(col)
            given = found & pd.isna(mine) & ~pd.isna(theirs[col][take])
            if given.any():
                mine = mine.copy()
                mine[given] = theirs[col][take[given]]
                out[col] = mine
        # coordinates come as a pair: never mix the service's and the structure's
        own = ~(pd.isna(column("latitude")) | pd.isna(column("longitude")))
        borrow = found & ~own & pd.isna(column("coords"))
        for col in ("latitude", "longitude", "coords"):
            if col in theirs:
                mine = column(col).copy()
                given = borrow & ~pd.isna(theirs[col][take])
                mine[given] = theirs[col][take[given]]
                if given.any() or col in out:
                    out[col] = mine
        codes = [
            structures.codes[r] + c if r >= 0 else c
            for r, c in zip(row.tolist(), codes, strict=True)
        ]
        out["structure_nom"] = struct_nom
    _append_source(codes, out.get("source"))
    staged = pd.DataFrame(out, index=range(n), dtype=object)
    staged["source_codes"] = pd.Series(codes, index=range(n), dtype=object)
    return staged


def _service_batches(
    p: Probe,
) -> Iterator[
    tuple[list[str], pd.DataFrame, Sequence[dict[str, Any]], list[tuple[str, str, dict[str, Any]]]]
]:
    """``(origins, frame, originals, not records)`` of a services file, batch by batch.

    CSV and Parquet files are read as tables (no dict per row: the records
    are built only for the few rows the quarantine keeps); JSON records are
    read one by one, then put in one frame per batch.
    """
    if p.kind in _TABLES:
        n = 0
        name = p.path.name
        for frame in iter_table_chunks(p.path, p.kind, chunk_rows=_CHUNK_ROWS):
            frame = frame.reset_index(drop=True)
            origins = [f"{name}#{i}" for i in range(n + 1, n + len(frame) + 1)]
            n += len(frame)
            yield origins, frame, FrameRecords(frame), []
        tail = csv_layout(p.path).tail if p.kind == "csv" else None
        if tail is not None:
            yield [], pd.DataFrame(), [], [_not_a_record(f"{p.path.name}#{n + 1}", tail)]
        return
    for origins, records, not_records in _record_batches(p, _CHUNK_ROWS):
        yield origins, _records_frame(records), records, not_records


def _pair_chunks(
    structures: list[Probe], services: list[Probe], adapter: str
) -> Iterator[RawChunk]:
    """Services joined to their structures, column by column (one join per batch of rows).

    The same rows, quarantine and merges as :func:`stage` and
    :func:`join_service` give record by record (``DataInclusionExport._records``),
    a few times cheaper: a national export has hundreds of thousands of services.
    """
    known = _Structures(structures)
    bad = known.bad
    for p in services:
        for origins, frame, originals, not_records in _service_batches(p):
            rows = _join_frame(frame, known) if len(frame) else pd.DataFrame()
            yield RawChunk(rows, origins, originals, adapter, bad + not_records)
            bad = []
    frame, origins, records = known.alone_rows()
    merged = [(known.origins[r], _JOINED) for r in known.kept[known.used[known.kept]].tolist()]
    yield RawChunk(frame, origins, records, adapter, bad, merged)


def read(path_or_url: str | Path) -> Any:
    """Staging rows of an export file or folder (see :func:`mapapp.sources.read`)."""
    from mapapp.sources import read as _read

    return _read(path_or_url, fmt=DataInclusionExport.name)
