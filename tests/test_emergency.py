"""Emergency numbers: one config file, every required number, tel:/sms: links only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mapapp.emergency import EMERGENCY_PATH, load_emergency
from mapapp.errors import ConfigurationError

FIXTURES = Path(__file__).parent / "fixtures" / "emergency"


def _numbers(code: str) -> dict[str, str]:
    country = next(c for c in load_emergency() if c.code == code)
    return {n.number: n.href for n in country.numbers}


def test_france_numbers_are_all_there() -> None:
    assert _numbers("FR") == {
        "17": "tel:17",
        "15": "tel:15",
        "115": "tel:115",
        "112": "tel:112",
        "114": "sms:114",
        "3919": "tel:3919",
    }


def test_belgium_numbers_are_all_there() -> None:
    assert _numbers("BE") == {"112": "tel:112", "0800 30 030": "tel:080030030"}


def test_every_link_is_tel_or_sms_with_digits_only() -> None:
    for country in load_emergency():
        for n in country.numbers:
            assert re.fullmatch(r"(tel|sms):\d+", n.href), n.href
            assert n.label("fr") and n.label("en") and n.detail("fr") and n.detail("en")


def test_115_and_15_say_what_they_are_for() -> None:
    numbers = {n.number: n for c in load_emergency() for n in c.numbers if c.code == "FR"}
    assert "dormir" in numbers["115"].detail("fr") and "sleep" in numbers["115"].detail("en")
    assert "Hébergement" in numbers["115"].label("fr")
    assert "médicale" in numbers["15"].detail("fr") and "medical" in numbers["15"].label("en")


def test_3919_says_free_anonymous_24_7() -> None:
    n = next(n for c in load_emergency() for n in c.numbers if n.number == "3919")
    assert all(w in n.detail("fr") for w in ("gratuit", "anonyme", "24 h/24"))


def test_the_config_is_the_shipped_file() -> None:
    assert EMERGENCY_PATH.name == "emergency.toml"
    assert EMERGENCY_PATH.parent.name == "mapapp"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("bad_kind.toml", "kind must be 'tel' or 'sms'"),
        ("letters_in_number.toml", "digits and single spaces"),
        ("missing_label.toml", "'en' must be a non-empty string"),
        ("no_country.toml", "no [[country]] table"),
        ("no_numbers.toml", "no [[country.number]] entries"),
        ("not_toml.toml", "not valid TOML"),
    ],
)
def test_broken_config_fails_with_a_clear_message(name: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_emergency(FIXTURES / name)
    assert message in str(info.value)
    assert name in str(info.value), "the message names the file to fix"


def test_missing_file() -> None:
    with pytest.raises(ConfigurationError, match="cannot read emergency numbers"):
        load_emergency(FIXTURES / "absent.toml")
