"""Import and export the register as CSV, under the nothing-lost rule of every import.

Why: a consortium starts from the spreadsheet it already keeps (one line per
crèche and partner), and wants a copy back for its partners' meetings.  An
import loads every row or quarantines it with a reason a person can act on;
the counts add up (``read == loaded + quarantined``), and the quarantined rows
are written to a CSV of their own with the reason in French and English.

The file: one row per crèche, columns ``actor_id`` (the directory's id, as the
export writes it), ``places_reserved`` and ``places_free`` (required), and any
of ``partner``, ``valid_from``, ``valid_until`` (``YYYY-MM-DD``), ``ages``,
``hours``, ``who_may_refer``; a column the file lacks leaves that field as it
is.  Separator ``,`` or ``;``, UTF-8 (with or without BOM) or Windows-1252.
The whole file is one transaction: a failure midway writes nothing.

The export goes through :mod:`mapapp.csv_export` (no cell runs as a
formula); the import removes the apostrophe that export put in front of such
a cell, so an export imports back unchanged.

Examples
--------
>>> import tempfile
>>> from mapapp.settings import Settings
>>> s = Settings.from_env({"MAPAPP_DATA_DIR": tempfile.mkdtemp()})
>>> text = "actor_id;places_reserved;places_free\\nc:1;2;1\\nc:9;1;0\\nc:1;3;3\\n"
>>> result = import_text(s, text, known={"c:1"}, by="import:test.csv")
>>> result.read, result.loaded, len(result.quarantined)
(3, 1, 2)
>>> [q["reason_code"] for q in result.quarantined]
['unknown-creche', 'duplicate-row']
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from mapapp.csv_export import FORMULA_START, csv_text
from mapapp.errors import DataValidationError, InputFormatError
from mapapp.reserved.register import EDITABLE, apply_change, read_entries
from mapapp.settings import Settings
from mapapp.store.reserved_db import open_register

__all__ = [
    "EXPORT_COLUMNS",
    "ImportResult",
    "RowReason",
    "export_text",
    "import_file",
    "import_text",
]

#: Columns of the export (the import reads the same names).
EXPORT_COLUMNS: tuple[str, ...] = (
    "actor_id",
    "nom",
    "commune",
    *EDITABLE,
    "confirmed_at",
)
_REQUIRED = ("actor_id", "places_reserved", "places_free")
MAX_BYTES = 20_000_000


class RowReason(StrEnum):
    """Why a row of a register file is quarantined."""

    NO_ID = "no-id"
    UNKNOWN_CRECHE = "unknown-creche"
    DUPLICATE_ROW = "duplicate-row"
    BAD_VALUE = "bad-value"
    BAD_SHAPE = "bad-shape"

    def message(self, lang: str = "en") -> str:
        """The reason in ``lang`` ("fr" or "en")."""
        fr, en = _MESSAGES[self]
        return fr if lang == "fr" else en


_MESSAGES: dict[RowReason, tuple[str, str]] = {
    RowReason.NO_ID: ("pas d'identifiant de crèche (actor_id)", "no crèche id (actor_id)"),
    RowReason.UNKNOWN_CRECHE: (
        "identifiant inconnu ou pas une crèche de l'annuaire (voir mapapp reserved export)",
        "id unknown or not a crèche of the directory (see mapapp reserved export)",
    ),
    RowReason.DUPLICATE_ROW: (
        "la même crèche figure déjà plus haut dans le fichier (la première ligne compte)",
        "the same crèche is on an earlier row of the file (the first row counts)",
    ),
    RowReason.BAD_VALUE: ("valeur refusée", "value refused"),
    RowReason.BAD_SHAPE: (
        "nombre de cellules différent de l'en-tête",
        "number of cells differs from the header",
    ),
}


@dataclass
class ImportResult:
    """What an import did: ``read == loaded + len(quarantined)``, always."""

    read: int = 0
    loaded: int = 0
    #: Loaded rows that matched the register already (nothing written, not a confirmation).
    unchanged: int = 0
    quarantined: list[dict[str, Any]] = field(default_factory=list)

    def quarantine_csv(self) -> str:
        """The quarantined rows with their line and reason (formula-safe)."""
        keys: list[str] = []
        for row in self.quarantined:
            for key in row["row"]:
                if key not in keys:
                    keys.append(key)
        header = ["line", "reason_code", "reason_fr", "reason_en", *keys]
        rows = [
            [q["line"], q["reason_code"], q["reason_fr"], q["reason_en"]]
            + [q["row"].get(k, "") for k in keys]
            for q in self.quarantined
        ]
        return csv_text(header, rows)


def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise InputFormatError(
            f"fichier trop gros (plus de {MAX_BYTES // 1_000_000} Mo) / "
            f"file too large (over {MAX_BYTES // 1_000_000} MB)"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _undefuse(text: str) -> str:
    """Remove the apostrophe :func:`~mapapp.csv_export.defuse_cell` put before a formula start."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_START) else text


def _rows(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise InputFormatError("fichier vide / empty file") from None
    missing = [c for c in _REQUIRED if c not in header]
    if missing:
        raise InputFormatError(
            f"colonnes manquantes / missing columns: {', '.join(missing)} "
            f"(attendu / expected: {', '.join(EXPORT_COLUMNS)})"
        )
    body = []
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                body.append((reader.line_num, row))
    except csv.Error as exc:
        raise InputFormatError(f"CSV illisible / unreadable CSV: {exc}") from None
    return header, body


def _quarantine(
    result: ImportResult, line: int, row: Mapping[str, str], reason: RowReason, detail: str = ""
) -> None:
    fr, en = reason.message("fr"), reason.message("en")
    result.quarantined.append(
        {
            "line": line,
            "reason_code": reason.value,
            "reason_fr": f"{fr} : {detail}" if detail else fr,
            "reason_en": f"{en}: {detail}" if detail else en,
            "row": dict(row),
        }
    )


def import_text(settings: Settings, text: str, *, known: Collection[str], by: str) -> ImportResult:
    """Load the rows of ``text`` into the register (see the module docstring).

    Parameters
    ----------
    settings : Settings
    text : str
        The CSV file's text.
    known : collection of str
        The ids of the directory's crèches; a row naming another id is quarantined.
    by : str
        Who imports, as the history records it (``import:<file>``).

    Raises
    ------
    InputFormatError
        An empty file, a required column missing, unreadable CSV: nothing is loaded.
    """
    header, body = _rows(text)
    result = ImportResult(read=len(body))
    seen: dict[str, int] = {}
    with open_register(settings).transaction() as tx:
        for line, cells in body:
            row = {h: _undefuse(c.strip()) for h, c in zip(header, cells, strict=False)}
            if len(cells) != len(header):
                _quarantine(result, line, row, RowReason.BAD_SHAPE, f"{len(cells)}/{len(header)}")
                continue
            actor_id = row.get("actor_id", "")
            if not actor_id:
                _quarantine(result, line, row, RowReason.NO_ID)
                continue
            if actor_id not in known:
                _quarantine(result, line, row, RowReason.UNKNOWN_CRECHE, actor_id)
                continue
            if actor_id in seen:
                _quarantine(
                    result,
                    line,
                    row,
                    RowReason.DUPLICATE_ROW,
                    f"{actor_id} (ligne / line {seen[actor_id]})",
                )
                continue
            changes = {k: row[k] for k in EDITABLE if k in row}
            try:
                changed = apply_change(
                    settings, actor_id, changes, by=by, tx=tx, confirm_unchanged=False
                )
            except DataValidationError as exc:
                _quarantine(result, line, row, RowReason.BAD_VALUE, str(exc))
                continue
            seen[actor_id] = line
            result.loaded += 1
            result.unchanged += not changed
    assert result.read == result.loaded + len(result.quarantined)
    return result


def import_file(settings: Settings, path: Path, *, known: Collection[str]) -> ImportResult:
    """:func:`import_text` on a file; the history names the file."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputFormatError(f"impossible de lire / cannot read {path}: {exc.strerror}") from None
    return import_text(settings, _decode(data), known=known, by=f"import:{Path(path).name}")


def export_text(settings: Settings, names: Mapping[str, tuple[str, str]] | None = None) -> str:
    """The whole register as CSV (:data:`EXPORT_COLUMNS`; formula-safe).

    It names the partners: for the consortium, never for the public.
    ``names`` maps an id to its crèche's (name, commune) for readers.
    """
    names = names or {}
    rows = []
    for e in read_entries(settings):
        nom, commune = names.get(e.actor_id, ("", ""))
        rows.append(
            [
                e.actor_id,
                nom,
                commune,
                e.partner,
                e.places_reserved,
                e.places_free,
                e.valid_from.isoformat() if e.valid_from else "",
                e.valid_until.isoformat() if e.valid_until else "",
                e.ages,
                e.hours,
                e.who_may_refer,
                e.confirmed_at.isoformat() if e.confirmed_at else "",
            ]
        )
    return csv_text(EXPORT_COLUMNS, rows)
