"""Moved to :mod:`mapapp.render.cards` and :mod:`mapapp.render.text` (issue 18).

Kept as a re-export only so that branches written before the move still
import; new code imports from :mod:`mapapp.render`.
"""

from mapapp.i18n import format_km
from mapapp.render.cards import Card, cards_from_frame, format_hours, sheet_csv, sheet_text
from mapapp.render.text import escape_markdown

__all__ = [
    "Card",
    "cards_from_frame",
    "escape_markdown",
    "format_hours",
    "format_km",
    "sheet_csv",
    "sheet_text",
]
