"""Text normalisation for place names and free-text matching.

Why: people type "st denis", "SAINT-DENIS", "Saint Denis"; sources write
"ST DENIS CEDEX 9".  One normal form (lower case, no accents, single spaces,
"st"/"ste" expanded, Cedex dropped) makes them compare equal.

Examples
--------
>>> normalize_place("Saint-Étienne-du-Rouvray")
'saint etienne du rouvray'
>>> normalize_place("ST DENIS CEDEX 9")
'saint denis'
>>> normalize_place("L'Haÿ-les-Roses")
'l hay les roses'
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalize_place", "strip_accents"]

_ABBREV = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}
_CEDEX = re.compile(r"\bcedex\b(\s*\d+)?")


def strip_accents(text: str) -> str:
    """``text`` without diacritics (é → e, œ → oe)."""
    text = text.replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalize_place(text: str) -> str:
    """Comparable form of a commune name (see module docstring)."""
    t = strip_accents(text).lower()
    t = _CEDEX.sub(" ", t)
    t = re.sub(r"[^a-z0-9]+", " ", t)
    words = [_ABBREV.get(w, w) for w in t.split()]
    return " ".join(words)
