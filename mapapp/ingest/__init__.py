"""Import the real world: read, clean, tag, dedupe, merge and report, losing nothing.

The pipeline is :func:`ingest`; each step has its module: :mod:`.clean`
(ids, vocabularies, hours, location), :mod:`.coords` (coordinate forms and
repairs), :mod:`.locate` (INSEE codes), :mod:`.vocab` (vocabularies),
:mod:`.dedupe` (clusters of duplicates) and :mod:`.report`.
"""

from __future__ import annotations

from mapapp.ingest.pipeline import ingest, write_quarantine

__all__ = ["ingest", "write_quarantine"]
