"""Why a row is quarantined at import: a typed reason with French and English messages.

Why typed: the report counts quarantined rows by reason, the quarantine file
tells a person what to fix, and tests check the reason.  Building English
sentences and parsing them back (``reason.split(";")``) broke as soon as a
message changed; a :class:`Quarantine` keeps the kind of reason, the
row-specific detail and the hint apart, and renders them in either language.

The English texts are those the import has always written, so existing
reports and quarantine files read the same.

Examples
--------
>>> q = Quarantine(QuarantineReason.NO_LOCATION, "ambiguous commune", "fix code_insee")
>>> q.text()
'no usable location: ambiguous commune; fix code_insee'
>>> q.kind()
'no usable location: ambiguous commune'
>>> Quarantine(QuarantineReason.NO_NAME).text("fr")
"pas de nom (nom) dans l'enregistrement"
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["Quarantine", "QuarantineReason"]


class QuarantineReason(StrEnum):
    """The kinds of reasons the cleaning stage quarantines a row for."""

    NO_ID = "no-id"
    NO_NAME = "no-name"
    NO_LOCATION = "no-location"
    OUTSIDE_FRANCE = "outside-france"

    def message(self, lang: str = "en") -> str:
        """The reason in ``lang`` ("fr" or "en"; anything else gives English)."""
        fr, en = _MESSAGES[self]
        return fr if lang == "fr" else en


_MESSAGES: dict[QuarantineReason, tuple[str, str]] = {
    QuarantineReason.NO_ID: (
        "pas d'identifiant (source_id) dans l'enregistrement",
        "no id (source_id) in the record",
    ),
    QuarantineReason.NO_NAME: (
        "pas de nom (nom) dans l'enregistrement",
        "no name (nom) in the record",
    ),
    QuarantineReason.NO_LOCATION: ("aucune localisation utilisable", "no usable location"),
    QuarantineReason.OUTSIDE_FRANCE: ("hors de France", "outside France"),
}


@dataclass(frozen=True)
class Quarantine:
    """One row's quarantine reason.

    Attributes
    ----------
    reason : QuarantineReason
    detail : str
        What was found in this row (``"ambiguous commune"``), in English
        (it comes from the geography's messages).
    hint : str
        What to fix, in English.
    """

    reason: QuarantineReason
    detail: str = ""
    hint: str = ""

    def kind(self, lang: str = "en") -> str:
        """The reason and its detail, without the hint: the report groups rows by it."""
        message = self.reason.message(lang)
        return f"{message}: {self.detail}" if self.detail else message

    def text(self, lang: str = "en") -> str:
        """The full sentence for the quarantine file."""
        return f"{self.kind(lang)}; {self.hint}" if self.hint else self.kind(lang)

    def as_dict(self) -> dict[str, Any]:
        """The fields a quarantined row carries in the report and the pipeline."""
        return {
            "reason": self.text("en"),
            "reason_fr": self.text("fr"),
            "reason_code": self.reason.value,
            "reason_kind": self.kind("en"),
        }
