"""Re-import of a quarantine file that a person fixed by hand.

Why: ``mapapp ingest --quarantine FILE.csv`` writes every quarantined row
with its reason, its origin and its staging columns (name, address,
postcode, commune, INSEE code, coordinates...).  A coordinator fixes the
cells in a spreadsheet and runs ``mapapp ingest FILE.csv``: this adapter
recognises the file by its ``quarantine_*`` columns and feeds the fixed
staging columns back through the same cleaning, with the same ids.

Examples
--------
>>> row = stage({"quarantine_reason": "no location", "quarantine_origin": "a.json#3",
...     "quarantine_adapter": "datainclusion", "source": "dora", "source_id": "s1",
...     "nom": "Atelier", "thematiques": '["numerique"]', "latitude": "", "original": "{}"})
>>> row
{'source': 'dora', 'source_id': 's1', 'nom': 'Atelier', 'thematiques': '["numerique"]'}
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mapapp.sources._base import STAGING_COLUMNS, Adapter, RawChunk, chunk_records
from mapapp.sources._io import Probe, iter_flat_records, probe

__all__ = ["QUARANTINE_COLUMNS", "QuarantineFile", "stage"]

#: Columns mapapp writes before the staging columns of a quarantine file.
QUARANTINE_COLUMNS = ("quarantine_reason", "quarantine_origin", "quarantine_adapter")


def stage(record: Mapping[str, Any]) -> dict[str, Any]:
    """The non-empty staging columns of a quarantine row."""
    out: dict[str, Any] = {}
    for col in STAGING_COLUMNS:
        value = record.get(col)
        if value is None or (isinstance(value, float) and value != value):
            continue
        if isinstance(value, str) and not value.strip():
            continue
        out[col] = value
    return out


class QuarantineFile(Adapter):
    """A quarantine file written by mapapp (CSV or JSON), possibly fixed by hand."""

    name = "quarantine"
    label = "mapapp quarantine file (fixed by hand)"

    def detect(self, p: Probe) -> bool:
        """The ``quarantine_*`` columns are present."""
        return all(c in p.columns for c in QUARANTINE_COLUMNS)

    def chunks(self, paths: list[Path]) -> Iterator[RawChunk]:
        """Stream the fixed rows."""
        return chunk_records(self._records(paths), adapter=self.name)

    def dataset(self, paths: list[Path]) -> str:
        """Fixed rows complete their original dataset; they never make others "gone"."""
        return ""

    def _records(
        self, paths: list[Path]
    ) -> Iterator[tuple[str, Mapping[str, Any], dict[str, Any] | str]]:
        for path in paths:
            for n, rec in iter_flat_records(probe(path)):
                origin = f"{path.name}#{n}"
                if not isinstance(rec, Mapping):
                    yield origin, {"value": rec}, "not a record"
                    continue
                staged = stage(rec)
                if not staged.get("source_id"):
                    yield (
                        origin,
                        rec,
                        (
                            "quarantine row without source_id; fill it (the id of the record in its source)"
                        ),
                    )
                else:
                    yield origin, rec, staged
