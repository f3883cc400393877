"""The confidentiality rule gives exactly the decisions of its previous implementation.

Why: the rule was made cheaper (the text's separators are folded to one
space before matching, so pyarrow no longer compiles a Unicode-class pattern
on every call).  A cheaper rule that hid one shelter less would be a safety
bug, so the previous implementation is kept here, verbatim, as the reference,
and both are run on a varied frame (every actor type, typed and untyped
flags, odd spellings and separators, other scripts) and on every text column
of the real files.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pytest

from mapapp import safety
from mapapp.safety import _strings, confidentiality
from mapapp.taxonomy import ActorType, shelter_codes

# --- the previous implementation (reference) ------------------------------------

_OLD_NOT_WORD = r"[^\p{L}\p{N}]"


def _old_pattern(terms: Any) -> str:
    alternatives = sorted(set(terms), key=len, reverse=True)
    body = "|".join(f"{_OLD_NOT_WORD}+".join(re.escape(w) for w in t.split()) for t in alternatives)
    return rf"(?:^|{_OLD_NOT_WORD})(?P<term>{body})(?:$|{_OLD_NOT_WORD})"


def _old_terms_found(values: pd.Series, pattern: str) -> np.ndarray:
    encoded = pc.dictionary_encode(pc.fill_null(_strings(values), ""))
    distinct = pc.utf8_normalize(encoded.dictionary, form="NFKD")
    distinct = pc.utf8_lower(pc.replace_substring_regex(distinct, r"\p{M}+", ""))
    found = pc.struct_field(pc.extract_regex(distinct, pattern), "term")
    valid = pc.is_valid(found).to_numpy(zero_copy_only=False)
    terms = np.full(len(found), None, dtype=object)
    for i in np.flatnonzero(valid):
        terms[i] = re.sub(r"[^a-z0-9]+", " ", str(found[i].as_py())).strip()
    return terms[encoded.indices.to_numpy(zero_copy_only=False)]


_WORDS = (*safety._SHELTER_ACRONYMS, *safety._SHELTER_PHRASES, *safety._VIOLENCE_PHRASES)
_OLD = {
    "name": _old_pattern(_WORDS),
    "violence": _old_pattern(safety._VIOLENCE_PHRASES),
    "code": _old_pattern((*(c.replace("-", " ") for c in shelter_codes()), *_WORDS)),
}
_NEW = {"name": safety._NAME_MARKS, "violence": safety._VIOLENCE_MARKS, "code": safety._CODE_MARKS}


def _old_flag(values: pd.Series) -> pd.Series:
    if values.dtype == bool:
        return values
    text = values.map(lambda v: "" if v is None or v is False else str(v).strip().lower())
    return (text != "") & ~text.isin(safety._FALSE_FLAGS)


def _old_decisions(frame: pd.DataFrame) -> list[list[tuple[str, str, str]]]:
    """``confidentiality`` as it was, as (reason, field, term) triples per row."""
    col = safety._column
    flag = _old_flag(col(frame, "confidential")).to_numpy(dtype=bool)
    kind = col(frame, "actor_type").fillna("").astype(str).str.strip().str.lower()
    rows: list[list[tuple[str, str, str]]] = [[] for _ in range(len(frame))]
    found = [
        ("source-flag", "confidential", np.where(flag, "", None)),
        ("shelter-type", "actor_type", np.where(kind == "hebergement", "hebergement", None)),
        ("shelter-code", "source_type", _old_terms_found(col(frame, "source_type"), _OLD["code"])),
        ("shelter-name", "nom", _old_terms_found(col(frame, "nom"), _OLD["name"])),
        (
            "shelter-name",
            "structure_nom",
            _old_terms_found(col(frame, "structure_nom"), _OLD["name"]),
        ),
    ]
    for reason, field, terms in found:
        for i in np.flatnonzero(pd.notna(terms)):
            rows[i].append((reason, field, str(terms[i])))
    return rows


def _decisions(frame: pd.DataFrame) -> list[list[tuple[str, str, str]]]:
    return [[(f.reason.value, f.field, f.term) for f in row] for row in confidentiality(frame)]


# --- a varied frame ---------------------------------------------------------------

NAMES = [
    "Mise à l'abri",
    "MISE-A-L-ABRI",
    "mise  à\u00a0l’abri",
    "Mise\u2003à\tl'abri\n(24h)",
    "CHU Les Lilas",
    "CHUV Lausanne",
    "chute libre",
    "C.H.R.S. du Port",
    "chrs",
    "«CHRS»",
    "Centre d'HÉBERGEMENT d'urgence",
    "Hebergement",
    "hébergements",
    "Accueil de jour — Samu social",
    "accueil-de-jour",
    "Femmes victimes de violences",
    "VIOLENCES_CONJUGALES",
    "violences_conjugales",
    "Refuge",
    "refuges",
    "Résidence sociale Ⅳ",
    "Foyer de Jeunes Travailleurs",
    "FJT²",
    "Ｃｈｒｓ pleine chasse",
    "Приют chrs",
    "庇护所 chu",
    "Crèche Les Petits",
    "EPN",
    "",
    "   ",
    "123 chu 456",
    "chu1",
    "x_chu_x",
    "Maison relais/pension de famille",
    "e\u0301\u0301hebergement",
]
CODES = ["", "RS_FJT", "rs-fjt", "CHRS;CADA", "France Services", "HUDA", "Hébergement", "PRAHDA,x"]
FLAGS: list[Any] = [
    *["", "oui", "non", "0", "1", "?", "FALSE", " Non ", "public", "NaN", "none", " "],
    *[None, np.nan, pd.NA, pd.NaT, 0, 1, 0.0, 1.0, True, False, np.float64("nan"), ["x"]],
]


def _varied(n: int = 4000, seed: int = 3, flags: list[Any] = FLAGS) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    types = [t.value for t in ActorType] + ["Hebergement ", "HEBERGEMENT", ""]

    def pick(values: list[Any]) -> list[Any]:
        return [values[i] for i in rng.integers(0, len(values), n)]

    return pd.DataFrame(
        {
            "confidential": pd.Series(pick(flags), dtype=object),
            "actor_type": pick(types),
            "source_type": pick(CODES),
            "nom": pick(NAMES),
            "structure_nom": pick([*NAMES, None]),
        }
    )


@pytest.mark.parametrize("flags", [FLAGS, FLAGS[:-1]], ids=["with-a-list", "hashable"])
def test_varied_frame_same_decisions(flags: list[Any]) -> None:
    frame = _varied(flags=flags)
    new = _decisions(frame)
    assert new == _old_decisions(frame)
    assert sum(map(bool, new)) > len(frame) // 2  # the frame does exercise the rule
    assert any(not row for row in new)


@pytest.mark.parametrize("kind", ["name", "violence", "code"])
def test_each_pattern_same_terms_on_names(kind: str) -> None:
    values = pd.Series([*NAMES, *CODES, None], dtype=object)
    new = safety._terms_found(values, _NEW[kind])
    assert new.tolist() == _old_terms_found(values, _OLD[kind]).tolist()


def test_no_unicode_class_left_in_the_patterns() -> None:
    # what made the rule slow: pyarrow compiles the pattern on every call
    assert all(r"\p" not in p for p in _NEW.values())


# --- the real files ---------------------------------------------------------------


def _real_text_columns(realdata: Path, tmp: Path) -> list[pd.Series]:
    from mapapp.sources import resolve_inputs

    folders = [p for p in sorted(realdata.iterdir()) if p.is_dir() and "referentials" not in p.name]
    columns: list[pd.Series] = []
    for folder in folders:
        for group in resolve_inputs([folder], download_dir=tmp):
            for chunk in group.chunks():
                for col in chunk.rows.columns:
                    values = chunk.rows[col]
                    if values.map(lambda v: isinstance(v, str)).any():
                        columns.append(values.map(lambda v: v if isinstance(v, str) else None))
    return columns


@pytest.mark.realdata
def test_real_files_same_terms_in_every_text_column(realdata: Path, tmp_path: Path) -> None:
    columns = _real_text_columns(realdata, tmp_path)
    assert len(columns) > 20
    values = pd.concat(columns, ignore_index=True)
    hits = 0
    for kind in _NEW:
        new = safety._terms_found(values, _NEW[kind])
        assert new.tolist() == _old_terms_found(values, _OLD[kind]).tolist()
        hits += int(pd.notna(new).sum())
    assert hits > 50  # real shelters, violence services, "hébergement" in descriptions


@pytest.mark.realdata
def test_real_files_same_decisions(realdata: Path, tmp_path: Path) -> None:
    from mapapp.sources import resolve_inputs

    checked = 0
    for folder in sorted(realdata.iterdir()):
        if not folder.is_dir() or "referentials" in folder.name:
            continue
        for group in resolve_inputs([folder], download_dir=tmp_path):
            for chunk in group.chunks():
                wanted = ["confidential", "actor_type", "source_type", "nom", "structure_nom"]
                frame = chunk.rows[[c for c in wanted if c in chunk.rows]]
                assert _decisions(frame) == _old_decisions(frame)
                checked += len(frame)
    assert checked > 8000
