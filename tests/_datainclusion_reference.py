"""REFERENCE ONLY: the record-by-record data·inclusion pair reader as it stood on main (2026-12-07).

Why kept: ``DataInclusionExport.chunks`` now joins services to structures
column by column; ``tests/test_datainclusion_pair.py`` checks it gives the
same staging rows, quarantine and merges as this one.  Never import this
from the application.
"""

# ruff: noqa
# mypy: ignore-errors

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from mapapp.sources._base import Merged, RawChunk, chunk_records
from mapapp.sources._io import Probe, iter_flat_records
from mapapp.sources.datainclusion import join_service, stage


def reference_chunks(structures: list[Probe], services: list[Probe]) -> Iterator[RawChunk]:
    return chunk_records(_records(None, structures, services), adapter="datainclusion")


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
