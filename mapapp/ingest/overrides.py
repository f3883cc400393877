"""A coordinator's corrections to the duplicate clusters: ``duplicates.toml``.

Why a file a person edits: no automatic rule is right every time.  Two
agencies of one network may sit in the same building and be distinct; one
place may be pinned 400 m apart by two producers.  The person who knows says
so once, in a small TOML file kept in the data folder
(``$MAPAPP_DATA_DIR/duplicates.toml``); every import applies it.  The format
is described in ``docs/duplicates.md``:

.. code-block:: toml

    [[join]]      # these records are one place
    ids = ["lesemplois:12", "hinaura:40"]
    note = "Même agence, deux pointages"

    [[split]]     # these records are never in one cluster (one id: never merged)
    ids = ["fs-bus:1", "fs-bus:2"]

Examples
--------
>>> o = parse_overrides('[[join]]\\nids = ["a:1", "b:2"]\\nnote = "same"\\n')
>>> o.joins[0].ids, o.joins[0].note, o.splits
(('a:1', 'b:2'), 'same', ())
>>> parse_overrides('[[join]]\\nids = "a:1"\\n')
Traceback (most recent call last):
...
mapapp.errors.ConfigurationError: duplicates.toml: join #1: 'ids' must be a list of at least 2 record ids (see docs/duplicates.md)
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mapapp.errors import ConfigurationError

__all__ = [
    "OVERRIDES_FILE",
    "OverrideGroup",
    "Overrides",
    "load_overrides",
    "parse_overrides",
]

#: Name of the overrides file in the data folder (``MAPAPP_DATA_DIR``).
OVERRIDES_FILE = "duplicates.toml"


@dataclass(frozen=True)
class OverrideGroup:
    """Record ids a person joined or split, with an optional note saying why."""

    ids: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class Overrides:
    """The ``[[join]]`` and ``[[split]]`` groups of one overrides file."""

    joins: tuple[OverrideGroup, ...] = ()
    splits: tuple[OverrideGroup, ...] = ()
    path: str = ""

    def unknown_ids(self, known: Iterable[str]) -> list[str]:
        """Ids named in the file that no stored record has (typos, pruned records)."""
        have = set(known)
        named = [i for g in (*self.joins, *self.splits) for i in g.ids]
        return sorted({i for i in named if i not in have})


def _groups(raw: Any, kind: str, minimum: int) -> tuple[OverrideGroup, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigurationError(
            f"duplicates.toml: '{kind}' must be a list of tables ([[{kind}]]); "
            "see docs/duplicates.md"
        )
    out = []
    for n, item in enumerate(raw, start=1):
        ids = item.get("ids") if isinstance(item, dict) else None
        if (
            not isinstance(ids, list)
            or len(ids) < minimum
            or not all(isinstance(i, str) and i for i in ids)
        ):
            raise ConfigurationError(
                f"duplicates.toml: {kind} #{n}: 'ids' must be a list of at least {minimum} "
                "record ids (see docs/duplicates.md)"
            )
        note = item.get("note", "")
        out.append(OverrideGroup(tuple(dict.fromkeys(ids)), str(note)))
    return tuple(out)


def parse_overrides(text: str, path: str = "") -> Overrides:
    """Parse the overrides TOML text; a clear :class:`ConfigurationError` when malformed."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(
            f"{path or OVERRIDES_FILE} is not valid TOML ({exc}); fix it (see "
            "docs/duplicates.md) or remove it"
        ) from None
    unknown = sorted(set(data) - {"join", "split"})
    if unknown:
        raise ConfigurationError(
            f"duplicates.toml: unknown section(s) {', '.join(unknown)}; "
            "only [[join]] and [[split]] exist (see docs/duplicates.md)"
        )
    return Overrides(
        joins=_groups(data.get("join"), "join", 2),
        splits=_groups(data.get("split"), "split", 1),
        path=path,
    )


def load_overrides(path: Path) -> Overrides:
    """The overrides in ``path``; none when the file does not exist."""
    path = Path(path)
    if not path.is_file():
        return Overrides()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read {path} ({exc}); fix or remove it") from None
    return parse_overrides(text, str(path))
