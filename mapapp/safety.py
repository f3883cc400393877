"""Safety rules that protect the people in the data and the people using the app.

Why one module: a shelter's street, its exact coordinates and its private
phone must never reach a browser, whatever the page, the map, an export or a
shared link shows.  Every path from the store to the user goes through
:func:`public_view`, so the rule is enforced in one place instead of being
remembered in each page.  The same goes for links: :func:`safe_url` is the one
gate that turns a URL from data into something a page may link to.

Rules enforced here (see ``docs/safety.md``):

* :func:`confidentiality` is the one rule deciding which records are
  confidential (a source flag; a shelter by its type, its codes or its name),
  fail-safe, with a typed reason for the import report; the import and
  :func:`public_view` both call it;
* a confidential record is moved to its commune's representative point (or
  loses its coordinates when the commune is unknown), its street,
  complement, SIRET and private phone/e-mail are removed, and a referral
  line is shown instead (:func:`referral_lines`: its own, else 3919 for a
  violence service, else 115);
* only ``http``, ``https``, ``tel`` and ``mailto`` links are allowed.

Important: build search indexes and compute distances on the *public* view.
A distance computed from the true point and shown to a user lets anyone
triangulate the hidden address from three searches.

Examples
--------
>>> import pandas as pd
>>> from mapapp.schema import actors_frame
>>> communes = pd.DataFrame({"lat": [45.0], "lon": [5.0]}, index=pd.Index(["38185"]))
>>> actors = actors_frame([{"id": "s:1", "nom": "Abri", "actor_type": "hebergement",
...     "adresse": "3 rue Cachée", "telephone": "04 00 00 00 00",
...     "code_insee": "38185", "latitude": 45.123, "longitude": 5.456}])
>>> shown = public_view(actors, communes)
>>> shown.loc[0, ["adresse", "telephone", "precision"]].tolist()
['', '115', 'commune']
>>> float(shown.loc[0, "latitude"]), float(shown.loc[0, "longitude"])
(45.0, 5.0)
>>> safe_url("javascript:alert(1)") is None, safe_url("https://example.org/a?b=1")
(True, 'https://example.org/a?b=1')
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from mapapp.schema import LIST_COLUMNS
from mapapp.taxonomy import ActorType, shelter_codes

__all__ = [
    "HIDDEN_COLUMNS",
    "SAFE_SCHEMES",
    "SHELTER_LINE",
    "VIOLENCE_LINE",
    "ConfidentialReason",
    "Finding",
    "confidential_mask",
    "confidentiality",
    "public_view",
    "referral_lines",
    "safe_url",
    "tel_url",
]


#: Columns emptied on confidential records (the phone is replaced, not emptied).
#: ``siret`` is included because the public SIRENE registry maps an
#: establishment's SIRET to its street address.
#: ``lien_source`` too: a shelter's page at its source may show its street.
HIDDEN_COLUMNS = ("adresse", "complement_adresse", "siret", "courriel", "lien_source")

#: The only URL schemes a page may link to.
SAFE_SCHEMES = frozenset({"http", "https", "tel", "mailto"})

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_BARE_HOST = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?::\d{1,5})?(?:[/?#]\S*)?$"
)
_HOST = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?(?::\d{1,5})?$"
)
_PHONE = re.compile(r"^\+?[0-9]{2,15}$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,63}$")
# Characters that have a meaning in HTML, JavaScript or a template engine, and
# have no business in a link taken from data: refuse rather than guess.
_UNSAFE_CHARS = frozenset("<>\"'`\\{}|^")
_MAX_URL = 2048


def _has_control_or_space(text: str) -> bool:
    for ch in text:
        cat = unicodedata.category(ch)
        # Cc control (NUL, CR, LF, tab), Cf format (zero-width, RTL override),
        # Z* separators (spaces of every kind).
        if cat in {"Cc", "Cf", "Zs", "Zl", "Zp"}:
            return True
    return False


def tel_url(phone: Any) -> str | None:
    """A ``tel:`` link for a phone number as written in data, or ``None``.

    Spaces, dots, dashes and brackets are dropped; anything else (letters,
    markup) makes the number unusable as a link.

    Examples
    --------
    >>> tel_url("04 76 00 00 00"), tel_url("+33 (0)4.76.00.00.00"), tel_url("3919")
    ('tel:0476000000', 'tel:+330476000000', 'tel:3919')
    >>> tel_url("<b>12</b>") is None, tel_url("") is None
    (True, True)
    """
    if not isinstance(phone, str):
        return None
    digits = re.sub(r"[\s.\-()/\u00a0]", "", phone)
    return f"tel:{digits}" if _PHONE.match(digits) else None


def safe_url(url: Any) -> str | None:
    """Return ``url`` if a page may link to it, else ``None``.

    Why: ``site_web``, ``courriel`` and any link in imported data may be
    hostile (``javascript:``, ``data:``, ``vbscript:``, scheme hidden behind
    control characters or entities).  Only ``http``, ``https``, ``tel`` and
    ``mailto`` pass; a bare host such as ``www.example.org`` (common in
    source data) becomes ``https://www.example.org``.  URLs carrying
    characters that are markup or template syntax (``< > " ' ` { } \\``),
    whitespace, control or invisible format characters are refused, never
    repaired.

    Examples
    --------
    >>> safe_url("HTTPS://Example.org/x"), safe_url("www.cidff.fr")
    ('HTTPS://Example.org/x', 'https://www.cidff.fr')
    >>> safe_url("mailto:contact@cidff.fr"), safe_url("tel:+33476000000")
    ('mailto:contact@cidff.fr', 'tel:+33476000000')
    >>> [safe_url(u) for u in ["java\\tscript:alert(1)", "data:text/html,x", "//evil.org", ""]]
    [None, None, None, None]
    """
    if not isinstance(url, str):
        return None
    text = url.strip()
    if not text or len(text) > _MAX_URL:
        return None
    if _has_control_or_space(text) or any(ch in _UNSAFE_CHARS for ch in text):
        return None
    match = _SCHEME.match(text)
    if match is None:
        # No scheme: accept a plain host name (with optional path) as https.
        return f"https://{text}" if _BARE_HOST.match(text) else None
    scheme = match.group(1).lower()
    if scheme not in SAFE_SCHEMES:
        return None
    rest = text[match.end() :]
    if scheme in {"http", "https"}:
        if not rest.startswith("//"):
            return None
        authority = re.split(r"[/?#]", rest[2:], maxsplit=1)[0]
        host = authority.rsplit("@", 1)[-1]
        return text if host and _HOST.match(host) else None
    if scheme == "tel":
        return text if _PHONE.match(rest) else None
    address = rest.split("?", 1)[0]
    return text if _EMAIL.match(address) else None


# --- the one confidentiality rule -------------------------------------------

#: Referral line shown for a shelter without its own public line: 115, the
#: emergency shelter number (SAMU social), free, 24/7.
SHELTER_LINE = "115"
#: Referral line shown for a violence service without its own public line:
#: 3919, Violences Femmes Info, free, anonymous, 24/7.
VIOLENCE_LINE = "3919"


class ConfidentialReason(StrEnum):
    """Why a record's address is hidden (the import report lists each one)."""

    SOURCE_FLAG = "source-flag"
    SHELTER_TYPE = "shelter-type"
    SHELTER_CODE = "shelter-code"
    SHELTER_NAME = "shelter-name"

    def message(self, lang: str = "fr") -> str:
        """What the reason means, in ``lang`` ("fr" or "en")."""
        fr, en = _REASON_TEXTS[self]
        return en if lang == "en" else fr


_REASON_TEXTS: dict[ConfidentialReason, tuple[str, str]] = {
    ConfidentialReason.SOURCE_FLAG: (
        "la source le signale confidentiel",
        "the source flags it confidential",
    ),
    ConfidentialReason.SHELTER_TYPE: (
        "son type est un hébergement",
        "its type is a shelter",
    ),
    ConfidentialReason.SHELTER_CODE: (
        "sa typologie, son label ou son réseau désigne un hébergement",
        "its typology, label or network names a shelter",
    ),
    ConfidentialReason.SHELTER_NAME: (
        "son nom désigne un hébergement ou un service aux victimes",
        "its name names a shelter or a service for victims",
    ),
}


@dataclass(frozen=True)
class Finding:
    """One reason a record is confidential, with what triggered it.

    Attributes
    ----------
    reason : ConfidentialReason
    field : str
        The column that said so (``confidential``, ``actor_type``,
        ``source_type``, ``nom``, ``structure_nom``).
    term : str
        The word or phrase found, as compared (no accents, lower case).
    """

    reason: ConfidentialReason
    field: str
    term: str

    def as_dict(self) -> dict[str, str]:
        """The finding for a JSON report, with its French and English messages."""
        return {
            "reason": self.reason.value,
            "field": self.field,
            "term": self.term,
            "fr": self.reason.message("fr"),
            "en": self.reason.message("en"),
        }


# Words and phrases that mark a shelter, compared on text without accents,
# in lower case, words apart by anything but letters and digits, and only
# as whole words: "chu" matches "CHU Les Lilas" but not "CHUV" or "chute".
# When in doubt, confidential: a hospital called "CHU ..." is shown at its
# commune, which costs a little precision and never exposes a shelter.
_SHELTER_ACRONYMS = ("chrs", "chu", "cada", "huda", "cph", "prahda", "caes", "siao", "fjt")
_SHELTER_PHRASES = (
    "hebergement",
    "abri",
    "mise a l abri",
    "sans abri",
    "accueil de jour",
    "accueil de nuit",
    "halte de nuit",
    "foyer d accueil",
    "maison d urgence",
    "logement d urgence",
    "accueil d urgence",
    "centre maternel",
    "foyer maternel",
    "maison maternelle",
    "residence sociale",
    "residences sociales",
    "jeunes travailleurs",
    "pension de famille",
    "maison relais",
    "refuge",
    "samu social",
)
#: Phrases that mark a service for victims of violence (confidential too,
#: and referred to 3919 rather than 115).
_VIOLENCE_PHRASES = (
    "femmes victimes",
    "victimes de violence",
    "victimes de violences",
    "violences conjugales",
    "violences intrafamiliales",
    "violences faites aux femmes",
    "femmes battues",
)


#: Anything but a letter or a digit, in any script: what separates words.
_NOT_WORD = r"[^\p{L}\p{N}]"


def _word_pattern(terms: Iterable[str]) -> str:
    """An RE2 pattern finding any of ``terms`` as whole words, in :func:`_words` text.

    RE2 (through pyarrow) runs in linear time over a column, so the rule
    stays cheap on a million records.  The text has its separators already
    folded to one space (:func:`_words`), so the pattern holds no Unicode
    class: pyarrow compiles a pattern on every call, and one with a
    ``\\p{L}`` class per phrase took 0.1 s to compile, as long as matching
    20,000 names ("mise à l'abri" and "mise-a-l-abri" still both match).

    >>> _word_pattern(["mise a l abri", "chu"])
    '(?:^| )(?P<term>mise a l abri|chu)(?:$| )'
    """
    alternatives = sorted(set(terms), key=len, reverse=True)
    body = "|".join(" ".join(re.escape(w) for w in t.split()) for t in alternatives)
    return rf"(?:^| )(?P<term>{body})(?:$| )"


_NAME_MARKS = _word_pattern((*_SHELTER_ACRONYMS, *_SHELTER_PHRASES, *_VIOLENCE_PHRASES))
_VIOLENCE_MARKS = _word_pattern(_VIOLENCE_PHRASES)
#: In type fields, every shelter code of the taxonomy counts too ("RS_FJT").
_CODE_MARKS = _word_pattern(
    (
        *(c.replace("-", " ") for c in shelter_codes()),
        *_SHELTER_ACRONYMS,
        *_SHELTER_PHRASES,
        *_VIOLENCE_PHRASES,
    )
)
#: Values of a source's ``confidential`` field that clearly mean "no".
#: Anything else that is not blank (``oui``, ``1``, ``?``...) means yes.
_FALSE_FLAGS = frozenset(
    {"0", "0.0", "false", "non", "no", "faux", "n", "f", "public", "nan", "none"}
)


def _strings(values: pd.Series) -> pa.Array:
    """A column as an Arrow string array, blanks as nulls, whatever it held."""
    try:
        return pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        text = values.map(lambda v: None if _blank(v) else str(v))
        return pa.array(text.to_numpy(dtype=object), type=pa.string(), from_pandas=True)


def _words(text: pa.Array) -> pa.Array:
    """Text as the shelter words are compared: no accents, lower case, one space between words.

    Decomposed (NFKD), stripped of its combining marks, in lower case, and
    every run of characters that are neither letters nor digits (in any
    script) folded to one space.  Plain ASCII values (most names) take a
    shortcut giving the same text (:func:`_ascii_words`).

    >>> _words(pa.array(["Mise à l'Abri", "  CHU\u00a0—\tLilas ", "CHRS -- l'Ilot", ""])).to_pylist()
    ['mise a l abri', ' chu lilas ', 'chrs l ilot', '']
    """
    if text.null_count or not isinstance(text, pa.StringArray) or not len(text):
        return _unicode_words(text)
    ascii_ = pc.string_is_ascii(text).to_numpy(zero_copy_only=False)
    if ascii_.all():
        return _ascii_words(text)
    if not ascii_.any():
        return _unicode_words(text)
    first, rest = np.flatnonzero(ascii_), np.flatnonzero(~ascii_)
    both = pa.concat_arrays([_ascii_words(text.take(first)), _unicode_words(text.take(rest))])
    order = np.empty(len(text), dtype=np.int64)
    order[np.concatenate([first, rest])] = np.arange(len(text))
    return both.take(order)


#: ASCII byte -> its :func:`_words` form: letters in lower case, digits kept, the rest a space.
_ASCII_FOLD = np.array(
    [
        ord(chr(b).lower()) if chr(b).isascii() and chr(b).isalnum() else ord(" ")
        for b in range(256)
    ],
    dtype=np.uint8,
)


def _ascii_words(text: pa.StringArray) -> pa.StringArray:
    """:func:`_words` of ASCII values without nulls, byte-wise in numpy.

    Why: folding separators with RE2 costs about a microsecond per value (a
    fifth of the import's confidentiality rule); for ASCII text, NFKD and
    the combining marks change nothing, ASCII letters and digits are the
    only letters and digits, so a byte table and dropping each space that
    follows a space in the same value give the same text.

    >>> _ascii_words(pa.array(["  A--b ", "", "x", "C.H.R.S.", "\t"])).to_pylist()
    [' a b ', '', 'x', 'c h r s ', ' ']
    """
    n = len(text)
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32)[text.offset : text.offset + n + 1]
    folded = _ASCII_FOLD[np.frombuffer(text.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]]
    starts = offsets - offsets[0]
    space = folded == ord(" ")
    keep = np.ones(len(folded), dtype=bool)
    keep[1:] = ~(space[1:] & space[:-1])
    firsts = starts[:-1][starts[:-1] < len(folded)]
    keep[firsts] = True  # a value's first byte never merges with the previous value's last
    ends = np.concatenate([[0], np.cumsum(keep)])[starts].astype(np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(ends), pa.py_buffer(folded[keep]))


def _unicode_words(text: pa.Array) -> pa.Array:
    """:func:`_words` of any text, with Arrow's Unicode kernels."""
    text = pc.utf8_normalize(text, form="NFKD")
    text = pc.utf8_lower(pc.replace_substring_regex(text, r"\p{M}+", ""))
    return pc.replace_substring_regex(text, rf"{_NOT_WORD}+", " ")


def _terms_found(values: pd.Series, pattern: str) -> np.ndarray:
    """The first term of ``pattern`` in each value (``None`` where none), accents and case aside.

    Each distinct value is put in :func:`_words` form once; the words are
    then looked for with RE2.  The term is returned with single spaces
    between its words.
    """
    encoded = pc.dictionary_encode(pc.fill_null(_strings(values), ""))
    found = pc.struct_field(pc.extract_regex(_words(encoded.dictionary), pattern), "term")
    valid = pc.is_valid(found).to_numpy(zero_copy_only=False)
    terms = np.full(len(found), None, dtype=object)
    for i in np.flatnonzero(valid):
        terms[i] = re.sub(r"[^a-z0-9]+", " ", str(found[i].as_py())).strip()
    return terms[encoded.indices.to_numpy(zero_copy_only=False)]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _flag_one(value: Any) -> bool:
    text = "" if value is None or value is False else str(value).strip().lower()
    return text != "" and text not in _FALSE_FLAGS


def _flag(values: pd.Series) -> pd.Series:
    """A source's confidentiality flag, fail-safe: only a clear "no" or a blank is False.

    Decided once per distinct value (a column holds a handful), and for a
    missing value once per kind of missing value: ``None`` and NaN are
    blank, pandas' ``NA`` is not ("<na>": when in doubt, confidential).

    >>> _flag(pd.Series(["oui", " Non ", "", None, float("nan"), pd.NA, 0, "?"], dtype=object)).tolist()
    [True, False, False, False, False, True, False, True]
    """
    if values.dtype == bool:
        return values
    cells = values.to_numpy(dtype=object)
    out = np.zeros(len(cells), dtype=bool)
    missing = pd.isna(cells)
    by_kind: dict[type, bool] = {}
    for i in np.flatnonzero(missing).tolist():
        kind = type(cells[i])
        if kind not in by_kind:
            by_kind[kind] = _flag_one(cells[i])
        out[i] = by_kind[kind]
    present = np.flatnonzero(~missing)
    try:
        codes, uniques = pd.factorize(cells[present])
    except TypeError:  # unhashable cells: one by one
        out[present] = [_flag_one(v) for v in cells[present]]
    else:
        out[present] = np.array([_flag_one(v) for v in uniques], dtype=bool)[codes]
    return pd.Series(out, index=values.index)


def _column(frame: pd.DataFrame, col: str) -> pd.Series:
    if col in frame.columns:
        return frame[col]
    return pd.Series("", index=frame.index, dtype=object)


def _matches(frame: pd.DataFrame, col: str, pattern: str) -> np.ndarray:
    """The first term of ``pattern`` found in ``col`` (``None`` where none)."""
    return _terms_found(_column(frame, col), pattern)


def _where(mask: np.ndarray, term: str) -> np.ndarray:
    """``term`` where ``mask`` holds, ``None`` elsewhere."""
    out = np.full(len(mask), None, dtype=object)
    out[mask] = term
    return out


def _findings(frame: pd.DataFrame) -> list[tuple[ConfidentialReason, str, np.ndarray]]:
    """``(reason, column, term per row or None)`` for every way a record may be marked."""
    flag = _flag(_column(frame, "confidential")).to_numpy(dtype=bool)
    kind = _column(frame, "actor_type").fillna("").astype(str).str.strip().str.lower()
    shelter = (kind == ActorType.HEBERGEMENT.value).to_numpy()
    out = [
        (ConfidentialReason.SOURCE_FLAG, "confidential", _where(flag, "")),
        (ConfidentialReason.SHELTER_TYPE, "actor_type", _where(shelter, "hebergement")),
        (
            ConfidentialReason.SHELTER_CODE,
            "source_type",
            _matches(frame, "source_type", _CODE_MARKS),
        ),
    ]
    for col in ("nom", "structure_nom"):
        out.append((ConfidentialReason.SHELTER_NAME, col, _matches(frame, col, _NAME_MARKS)))
    return out


def confidentiality(frame: pd.DataFrame) -> pd.Series:
    """Why each record must hide its address: a list of :class:`Finding` (empty: public).

    Why one function: safety rule 1 (``DOMAIN.md``).  The import calls it on
    every row, and :func:`public_view` calls it again on whatever it is given,
    so a record typed anyhow (an old store, a hand-made frame) is still
    protected.  A record is confidential when

    * a source flags it (``confidential`` is anything but blank or a clear
      "no": ``oui``, ``1``, ``?`` all count);
    * its ``actor_type`` is ``hebergement``;
    * its ``source_type`` (the source's typologies, labels and networks)
      holds a shelter code or phrase (CHRS, CHU, CADA, HUDA, CPH, SIAO,
      RS_FJT, "Hébergement", "mise à l'abri"...);
    * its ``nom`` or ``structure_nom`` holds one of those words or phrases,
      or one that names a service for victims of violence ("femmes
      victimes", "violences conjugales"...).

    Words are compared without accents or case, as whole words ("CHUV" and
    "chute" do not match "CHU").  There is no way to turn a shelter public:
    when in doubt, confidential.

    Examples
    --------
    >>> f = pd.DataFrame({"nom": ["Mise à l'abri — femmes", "CHUV Lausanne", "EPN"],
    ...                   "source_type": ["", "", "RS_FJT"], "actor_type": ["autre"] * 3})
    >>> [[(x.reason.value, x.field, x.term) for x in row] for row in confidentiality(f)]
    [[('shelter-name', 'nom', 'mise a l abri')], [], [('shelter-code', 'source_type', 'rs fjt')]]
    """
    found: list[list[Finding]] = [[] for _ in range(len(frame))]
    if len(frame):
        for reason, col, terms in _findings(frame):
            for i in np.flatnonzero(pd.notna(terms)):
                found[i].append(Finding(reason, col, str(terms[i])))
    return pd.Series(found, index=frame.index, dtype=object)


def confidential_mask(frame: pd.DataFrame) -> np.ndarray:
    """Boolean array: which records :func:`confidentiality` hides.

    Examples
    --------
    >>> confidential_mask(pd.DataFrame({"nom": ["CHRS Le Phare", "Crèche"],
    ...                                 "confidential": ["", "oui"]})).tolist()
    [True, True]
    """
    mask = np.zeros(len(frame), dtype=bool)
    if len(frame):
        for _, _, terms in _findings(frame):
            mask |= pd.notna(terms)
    return mask


def referral_lines(frame: pd.DataFrame) -> pd.Series:
    """The public line each record would show if it were hidden.

    The record's own ``referral_phone`` when its source gives one; else 3919
    for a violence service (a CIDFF, a record tagged ``violences``, or one
    whose name or codes name victims of violence); else 115, the emergency
    shelter line, for shelters and every other hidden record.

    Examples
    --------
    >>> f = pd.DataFrame({"actor_type": ["hebergement", "cidff", "hebergement"],
    ...                   "referral_phone": ["", "", "04 00 00 00 00"],
    ...                   "nom": ["CHRS", "CIDFF", "Abri"]})
    >>> referral_lines(f).tolist()
    ['115', '3919', '04 00 00 00 00']
    """
    own = _column(frame, "referral_phone").fillna("").astype(str).str.strip()
    kind = _column(frame, "actor_type").fillna("").astype(str).str.strip().str.lower()
    violence = (kind == ActorType.CIDFF.value).to_numpy(copy=True)
    if "obstacles" in frame.columns:
        violence |= np.fromiter(
            (_has_violence(v) for v in frame["obstacles"]), dtype=bool, count=len(frame)
        )
    for col in ("nom", "structure_nom", "source_type"):
        violence |= pd.notna(_matches(frame, col, _VIOLENCE_MARKS))
    default = np.where(violence, VIOLENCE_LINE, SHELTER_LINE)
    return own.where(own != "", pd.Series(default, index=frame.index))


def _has_violence(obstacles: Any) -> bool:
    if isinstance(obstacles, str):
        return obstacles == "violences"
    if isinstance(obstacles, list | tuple | np.ndarray):
        return any(str(o) == "violences" for o in obstacles)
    return False


def _secret_pattern(record: Mapping[str, Any]) -> re.Pattern[str] | None:
    """One regex matching the record's street, complement, phone, e-mail or SIRET.

    Phone numbers match whatever separators they are written with
    (``04 76 00 00 00``, ``04.76.00.00.00``, ``0476000000``).
    """
    parts: list[str] = []
    for col in ("adresse", "complement_adresse", "courriel", "siret"):
        value = record.get(col)
        if isinstance(value, str) and len(value.strip()) >= 4:
            parts.append(re.escape(value.strip()))
    phone = record.get("telephone")
    if isinstance(phone, str):
        digits = re.sub(r"\D", "", phone)
        if len(digits) >= 6:
            parts.append(r"[\s.\-]?".join(digits))
    if not parts:
        return None
    # Longest first, so a street is removed before a shorter part of it.
    parts.sort(key=len, reverse=True)
    return re.compile("|".join(parts), flags=re.IGNORECASE)


def _scrub(value: Any, pattern: re.Pattern[str]) -> Any:
    """``value`` with every secret replaced by a neutral placeholder."""
    if isinstance(value, str) and value:
        return pattern.sub("[confidentiel]", value)
    if isinstance(value, list | tuple | np.ndarray):
        return [_scrub(v, pattern) for v in value]
    return value


#: Identifier and vocabulary columns: never free text, never scrubbed.
_NOT_FREE_TEXT = frozenset(
    {
        *HIDDEN_COLUMNS,
        *LIST_COLUMNS,
        "id",
        "source",
        "source_id",
        "structure_id",
        "actor_type",
        "source_type",
        "code_insee",
        "code_postal",
        "precision",
        "date_maj",
        "telephone",
        "referral_phone",
    }
)


def public_view(actors: gpd.GeoDataFrame, communes: pd.DataFrame) -> gpd.GeoDataFrame:
    """What may be shown to a browser: confidential records at their commune only.

    Why: safety rule 1 (``DOMAIN.md``).  The result is the only frame pages,
    maps, exports, search indexes and shared links should see.  The input is
    never modified.

    A record is hidden when its ``confidential`` flag is set *or* when
    :func:`confidentiality` finds it is a shelter (its type, codes or name),
    whatever the store says: the last guard for a record typed anyhow.  For
    each hidden record:

    * ``confidential`` becomes True;
    * ``latitude``/``longitude``/geometry become the representative point of
      its commune (``communes.loc[code_insee, ["lat", "lon"]]``) and
      ``precision`` becomes ``"commune"``; if the commune is unknown, the
      coordinates are dropped (NaN, empty point) and ``precision`` is
      ``"none"``;
    * ``adresse``, ``complement_adresse``, ``siret`` and ``courriel`` are
      emptied;
    * ``telephone`` becomes its referral line (:func:`referral_lines`: its
      source's ``referral_phone``, else 3919 for a violence service, else
      115);
    * the hidden street, phone and e-mail are also removed from the other
      free-text fields (``nom``, ``description``...), where a social worker
      may have typed them.

    Parameters
    ----------
    actors : GeoDataFrame
        Actors as stored (:func:`mapapp.schema.actors_frame` columns).
    communes : DataFrame
        Indexed by ``code_insee``, with ``lat`` and ``lon`` columns (the
        reference geography's representative points).

    Examples
    --------
    >>> from mapapp.schema import actors_frame
    >>> communes = pd.DataFrame({"lat": [45.0], "lon": [5.0]}, index=pd.Index(["38185"]))
    >>> actors = actors_frame([
    ...     {"id": "a:1", "confidential": True, "code_insee": "99999",
    ...      "adresse": "1 rue X", "latitude": 45.1, "longitude": 5.1},
    ...     {"id": "a:2", "adresse": "2 rue Y", "latitude": 45.2, "longitude": 5.2,
    ...      "telephone": "0400000000"},
    ...     {"id": "a:3", "nom": "CHRS Le Phare", "adresse": "3 rue Z", "code_insee": "38185",
    ...      "latitude": 45.3, "longitude": 5.3}])
    >>> v = public_view(actors, communes)
    >>> v["precision"].tolist(), v["adresse"].tolist(), v["telephone"].tolist()
    (['none', 'address', 'commune'], ['', '2 rue Y', ''], ['115', '0400000000', '115'])
    >>> bool(np.isnan(v.loc[0, "latitude"])), bool(v.geometry[0].is_empty), bool(v.loc[2, "confidential"])
    (True, True, True)
    """
    out = actors.copy()
    if len(out) == 0:
        return out
    mask = confidential_mask(out)
    if not mask.any():
        return out
    rows = out.index[mask]
    out["confidential"] = mask if "confidential" not in out.columns else out["confidential"]
    out.loc[rows, "confidential"] = True

    # Free text first, while the secrets are still known.
    geometry_name = out.geometry.name if isinstance(out, gpd.GeoDataFrame) else None
    text_cols = [
        c
        for c in out.columns
        if c not in _NOT_FREE_TEXT
        and c != geometry_name
        and (out[c].dtype == object or pd.api.types.is_string_dtype(out[c]))
    ]
    secret_cols = [c for c in (*HIDDEN_COLUMNS, "complement_adresse", "telephone") if c in out]
    records = out.loc[rows, list(dict.fromkeys([*secret_cols, *text_cols]))].to_dict("records")
    for idx, record in zip(rows, records, strict=True):
        pattern = _secret_pattern(record)
        if pattern is None:
            continue
        for col in text_cols:
            value = record[col]
            cleaned = _scrub(value, pattern)
            if isinstance(value, str) and cleaned == value:
                continue
            if cleaned is not value:
                out.at[idx, col] = cleaned

    for col in HIDDEN_COLUMNS:
        if col in out.columns:
            out.loc[rows, col] = ""
    out.loc[rows, "telephone"] = referral_lines(out.loc[rows]).to_numpy()

    codes = out.loc[rows, "code_insee"].fillna("").astype(str)
    known = codes.isin(communes.index)
    lat = pd.Series(np.nan, index=rows)
    lon = pd.Series(np.nan, index=rows)
    if known.any():
        ref = communes.loc[codes[known].to_numpy(), ["lat", "lon"]]
        lat[known] = ref["lat"].to_numpy(dtype=float)
        lon[known] = ref["lon"].to_numpy(dtype=float)
    out["latitude"] = out["latitude"].astype(float)
    out["longitude"] = out["longitude"].astype(float)
    out.loc[rows, "latitude"] = lat.to_numpy()
    out.loc[rows, "longitude"] = lon.to_numpy()
    out.loc[rows, "precision"] = np.where(known.to_numpy(), "commune", "none")

    if isinstance(out, gpd.GeoDataFrame) and out.geometry.name in out.columns:
        # An unknown commune gets an empty point (not POINT (NaN NaN), which
        # some writers serialise as invalid JSON).
        points = [
            shapely.Point() if np.isnan(y) or np.isnan(x) else shapely.Point(x, y)
            for x, y in zip(lon.to_numpy(), lat.to_numpy(), strict=True)
        ]
        geom = out.geometry.copy()
        geom.loc[rows] = gpd.GeoSeries(points, index=rows, crs=out.crs)
        out = out.set_geometry(geom)
    return out
