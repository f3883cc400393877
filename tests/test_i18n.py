"""UI strings: every key in French and English, placeholders alike, every used key defined."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from mapapp.i18n import LANGS, PUBLICS_CHOICES, STRINGS, VOCABULARIES, t, vocab_label

ROOT = Path(__file__).resolve().parents[1]


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


@pytest.mark.parametrize("key", sorted(STRINGS))
def test_every_key_has_french_and_english(key: str) -> None:
    fr, en = STRINGS[key]
    assert fr.strip() and en.strip(), key
    assert _fields(fr) == _fields(en), f"{key}: placeholders differ"


def test_french_is_first() -> None:
    assert LANGS[0] == "fr"
    assert t("search_button") == "Rechercher"
    assert t("search_button", "de") == "Rechercher", "unknown languages fall back to French"


def test_english_strings_are_not_french_copies() -> None:
    same = [k for k, (fr, en) in STRINGS.items() if fr == en and len(fr) > 12]
    assert same == ["language"], same


def test_every_key_used_in_the_ui_exists() -> None:
    used: set[str] = set()
    pages = [*(ROOT / "mapapp" / "ui").glob("*.py"), *(ROOT / "mapapp" / "render").glob("*.py")]
    for path in [*pages, ROOT / "mapapp" / "coverage" / "labels.py"]:
        used |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_]+)["']""", path.read_text()))
    used = {k for k in used if not k.endswith("_")}  # prefixes of keys built with "+"
    # Keys built with an f-string or "+": match_any / match_all and the coverage view's.
    used |= {"match_any", "match_all", "cov_match_any", "cov_match_all"}
    used |= {"cov_by_obstacle", "cov_by_type", "cov_m_distance", "cov_m_access"}
    used |= {"cov_kind_departement", "cov_kind_region", "cov_kind_epci"}
    assert used, "the scan found nothing: the pattern is wrong"
    missing = sorted(used - set(STRINGS))
    assert not missing, f"keys used but not defined: {missing}"


def test_unknown_key_fails_loudly() -> None:
    with pytest.raises(KeyError):
        t("no_such_key")


def test_vocabularies_have_both_languages() -> None:
    for vocab, table in VOCABULARIES.items():
        for code, (fr, en) in table.items():
            assert fr and en, (vocab, code)
    for code in PUBLICS_CHOICES:
        assert vocab_label("publics", code, "fr") != code
        assert vocab_label("publics", code, "en") != code
