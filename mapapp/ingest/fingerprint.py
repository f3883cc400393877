"""What an import depends on, as one hash: an unchanged re-import need not run again.

Why: a nightly cron re-imports the same national export most days.  Reading,
cleaning and deduplicating a million rows again to find that nothing changed
costs minutes; hashing the file costs a second.  The import's result depends
only on:

* the bytes of every input file (and its name: origins say ``file.csv#12``),
  with the adapter and dataset each group was read as;
* the options that change the result (format, mapping, ``--prune``,
  ``--accept-degraded``, geocoding on or off);
* the duplicate overrides file (it changes the clusters);
* the reference geography version and the cleaning code itself (a hash of
  the source of the modules that decide what a record becomes), so an
  upgraded mapapp never trusts an old result.

The pipeline records this fingerprint in the report kept with the
generation it commits; when the current generation's report carries the
same fingerprint, the import is a no-op commit that says so ("inchangé").

Examples
--------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> f = folder / "a.csv"
>>> _ = f.write_text("id,nom\\n1,EPN\\n")
>>> one = file_digest(f)
>>> _ = f.write_text("id,nom\\n1,EPN Nord\\n")
>>> one == file_digest(f), len(one)
(False, 32)
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import mapapp

__all__ = ["code_digest", "file_digest", "import_fingerprint"]

#: Read files in blocks of this many bytes (a 1 GB export never sits in memory).
_BLOCK = 1 << 20
_PACKAGE = Path(mapapp.__file__).resolve().parent
#: Sources of the code that decides what a record becomes (relative to the package).
_CODE = (
    "ingest",
    "sources",
    "mappings",
    "geo",
    "schema.py",
    "taxonomy.py",
    "safety.py",
    "vocabulary.py",
    "hours.py",
)


def file_digest(path: Path) -> str:
    """BLAKE2b (128-bit) of a file's bytes, read block by block."""
    h = hashlib.blake2b(digest_size=16)
    with Path(path).open("rb") as fh:
        while block := fh.read(_BLOCK):
            h.update(block)
    return h.hexdigest()


@lru_cache(maxsize=1)
def code_digest() -> str:
    """Hash of mapapp's version and of the cleaning code's source files."""
    h = hashlib.blake2b(mapapp.__version__.encode(), digest_size=16)
    for item in _CODE:
        base = _PACKAGE / item
        files = sorted(base.rglob("*")) if base.is_dir() else [base]
        for f in files:
            if f.is_file() and f.suffix in (".py", ".toml", ".yaml", ".yml", ".json"):
                h.update(str(f.relative_to(_PACKAGE)).encode())
                h.update(f.read_bytes())
    return h.hexdigest()


def import_fingerprint(
    groups: list[tuple[str, str, list[Path]]],
    *,
    options: dict[str, Any],
    overrides: Path | None,
    geography: str,
) -> str:
    """One hash of everything an import's result depends on (see the module docstring).

    Parameters
    ----------
    groups : list of (adapter name, dataset, paths)
        The inputs as :func:`mapapp.sources.resolve_inputs` grouped them.
    options : dict
        The options that change the result (JSON-serialisable).
    overrides : Path or None
        The duplicate overrides file, when there is one.
    geography : str
        Where the reference geography comes from (its cache folder; its
        version is in the code hashed by :func:`code_digest`).
    """
    parts: dict[str, Any] = {
        "code": code_digest(),
        "geography": geography,
        "options": options,
        "inputs": [
            [adapter, dataset, [[p.name, file_digest(p)] for p in paths]]
            for adapter, dataset, paths in groups
        ],
        "overrides": file_digest(overrides) if overrides and overrides.is_file() else "",
    }
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
