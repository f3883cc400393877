"""data·inclusion API answers saved to files: search responses and list pages.

Why: a coordinator may save what the data·inclusion API answered (v0 or v1
field names, one page or several files) and import it as is.  The API
answers in two shapes:

- the *search* response (``/search/services``):
  ``{"items": [{"service": {..., "structure": {...}}, "distance": 12}]}``;
  each item's service nests its structure; the pair is staged like the flat
  export (:func:`mapapp.sources.datainclusion.join_service`).  The
  ``distance`` is relative to the query point, so it is dropped.
- the *list* pages (``/structures``, ``/services``):
  ``{"items": [{...}, ...], "total": 1234, "page": 1, "size": 500}`` whose
  items are flat structure or service objects, the same records as the
  open-data export.  They are read by the export's adapter
  (:class:`~mapapp.sources.datainclusion.DataInclusionExport`), so a
  structures page and a services page imported together are joined the
  same way.

Examples
--------
>>> from mapapp.sources.datainclusion_api import stage_item
>>> item = {"service": {"id": "s1", "source": "dora", "nom": "Atelier", "structure_id": "t1",
...         "structure": {"id": "t1", "nom": "Asso", "latitude": 45.1, "longitude": 5.7,
...                       "reseaux_porteurs": ["cidff"]}}, "distance": 3}
>>> row = stage_item(item)
>>> row["structure_nom"], row["latitude"], row["source_codes"]
('Asso', 45.1, ['cidff', 'dora'])
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mapapp.sources._base import Adapter, RawChunk, chunk_records, norm_key
from mapapp.sources._io import Probe, flatten, iter_json_records, probe
from mapapp.sources.datainclusion import DataInclusionExport, join_service, stage

__all__ = ["DataInclusionApi", "is_list_page", "is_search_response", "stage_item"]


def stage_item(item: Mapping[str, Any]) -> dict[str, Any] | str:
    """Staging row of one API item, or the reason it cannot be read."""
    service = item.get("service")
    if not isinstance(service, Mapping):
        return "API item without a 'service' object"
    structure = service.get("structure")
    flat_service = flatten({k: v for k, v in service.items() if k != "structure"})
    staged = stage(flat_service)
    staged_structure = None
    if isinstance(structure, Mapping):
        staged_structure = stage(flatten(structure))
        if not staged.get("structure_id") and staged_structure.get("source_id"):
            staged["structure_id"] = staged_structure["source_id"]
    return join_service(staged, staged_structure)


#: Fields that make a flat list-page item a data·inclusion structure or service.
_ITEM_FIELDS = frozenset(
    {
        "structure_id",
        "thematiques",
        "modes_accueil",
        "frais",
        "publics",
        "profils",
        "typologie",
        "reseaux_porteurs",
        "siret",
        "labels_nationaux",
    }
)


def is_search_response(p: Probe) -> bool:
    """A JSON object whose ``items`` hold ``service`` objects."""
    return p.shape == "items" and any(k.startswith("service.") for k in p.columns)


def is_list_page(p: Probe) -> bool:
    """A JSON object whose ``items`` are flat data·inclusion structures or services."""
    if p.shape != "items" or is_search_response(p):
        return False
    cols = {norm_key(c) for c in p.columns}
    return "id" in cols and "nom" in cols and bool(cols & _ITEM_FIELDS)


class DataInclusionApi(Adapter):
    """Saved answers of the data·inclusion API: search responses and list pages."""

    name = "datainclusion-api"
    label = "data·inclusion API: search response (items[].service) or list page (items[], total)"

    def detect(self, p: Probe) -> bool:
        """A search response or a list page."""
        return is_search_response(p) or is_list_page(p)

    def dataset(self, paths: list[Path]) -> str:
        """API extracts are partial by nature: name them after the file."""
        return "data-inclusion-api:" + super().dataset(paths)

    def chunks(self, paths: list[Path]) -> Iterator[RawChunk]:
        """Stream the items of every file: search responses, then list pages (joined)."""
        search = [path for path in paths if is_search_response(probe(path))]
        pages = [path for path in paths if path not in search]
        if search:
            yield from chunk_records(self._records(search), adapter=self.name)
        if pages:
            for chunk in DataInclusionExport().chunks(pages):
                chunk.adapter = self.name
                yield chunk

    def _records(
        self, paths: list[Path]
    ) -> Iterator[tuple[str, Mapping[str, Any], dict[str, Any] | str]]:
        for path in paths:
            for n, item in enumerate(iter_json_records(path, key="items"), start=1):
                origin = f"{path.name}#{n}"
                if not isinstance(item, Mapping):
                    yield origin, {"value": item}, "not a record (expected a JSON object)"
                    continue
                yield origin, item, stage_item(item)
