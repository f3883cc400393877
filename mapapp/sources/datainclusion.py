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

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mapapp.sources._base import (
    Adapter,
    FrameRecords,
    Merged,
    RawChunk,
    chunk_records,
    norm_key,
)
from mapapp.sources._io import (
    TRUNCATED_REASON,
    Probe,
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
    """:func:`_blank` of every cell of a column, computed on the whole column."""
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
    rec = {norm_key(str(c)): frame[c] for c in frame.columns}  # the last of a name wins
    n = len(frame)
    out: dict[str, Any] = {}
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
    source = out.get("source")
    if source is not None:
        for row, src in zip(codes, source, strict=True):
            if isinstance(src, str) and src.strip():
                row.append(src.strip())
    staged = pd.DataFrame(out, index=range(n), dtype=object)
    staged["source_codes"] = pd.Series(codes, index=range(n), dtype=object)
    return staged


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
        return chunk_records(self._records(structures, services), adapter=self.name)

    def _table_chunks(self, services: list[Probe]) -> Iterator[RawChunk]:
        """Services CSV/Parquet files without structures, staged column by column.

        The same staging rows as :func:`stage` then :func:`join_service` give
        record by record, without building a dict per row: a national export
        of a million services is read in seconds, not minutes.
        """
        for p in services:
            n = 0
            for frame in iter_table_chunks(p.path, p.kind, chunk_rows=_CHUNK_ROWS):
                origins = [f"{p.path.name}#{i}" for i in range(n + 1, n + len(frame) + 1)]
                n += len(frame)
                yield RawChunk(stage_frame(frame), origins, FrameRecords(frame), self.name)
            tail = csv_layout(p.path).tail if p.kind == "csv" else None
            if tail is not None:
                cut = (f"{p.path.name}#{n + 1}", TRUNCATED_REASON, tail.original())
                yield RawChunk(pd.DataFrame(), [], [], self.name, [cut])

    def _records(
        self, structures: list[Probe], services: list[Probe]
    ) -> Iterator[tuple[str, Mapping[str, Any], dict[str, Any] | str | Merged]]:
        by_key: dict[tuple[str, str], tuple[str, dict[str, Any], dict[str, Any]]] = {}
        by_id: dict[str, tuple[str, str]] = {}
        bad: list[tuple[str, dict[str, Any], str]] = []
        for p in structures:
            for n, rec in iter_flat_records(p):
                origin = f"{p.path.name}#{n}"
                if not isinstance(rec, Mapping):
                    bad.append((origin, {"value": rec}, "not a record (expected a JSON object)"))
                    continue
                staged = stage(rec)
                sid = str(staged.get("source_id", "")).strip()
                if not sid:
                    bad.append((origin, dict(rec), "structure without id"))
                    continue
                staged["structure_id"] = sid
                key = (str(staged.get("source", "")).strip(), sid)
                if key in by_key:
                    bad.append((origin, dict(rec), f"structure id {sid!r} repeated"))
                    continue
                by_key[key] = (origin, dict(rec), staged)
                by_id.setdefault(sid, key)
        yield from ((o, r, reason) for o, r, reason in bad)
        used: dict[tuple[str, str], int] = {}
        for p in services:
            for n, rec in iter_flat_records(p):
                origin = f"{p.path.name}#{n}"
                if not isinstance(rec, Mapping):
                    yield origin, {"value": rec}, "not a record (expected a JSON object)"
                    continue
                staged = stage(rec)
                stid = str(staged.get("structure_id", "")).strip()
                key = (str(staged.get("source", "")).strip(), stid)
                if key not in by_key:
                    key = by_id.get(stid, key)
                found = by_key.get(key)
                if found is not None:
                    used[key] = used.get(key, 0) + 1
                yield origin, rec, join_service(staged, found[2] if found else None)
        for key, (origin, rec, staged) in by_key.items():
            if key in used:
                yield origin, rec, Merged("structure joined to its services")
            else:
                row = join_service(staged, None)
                row["structure_nom"] = row.get("nom", "")
                row["source_id"] = f"structure:{staged['source_id']}"
                yield origin, rec, row


def read(path_or_url: str | Path) -> Any:
    """Staging rows of an export file or folder (see :func:`mapapp.sources.read`)."""
    from mapapp.sources import read as _read

    return _read(path_or_url, fmt=DataInclusionExport.name)
