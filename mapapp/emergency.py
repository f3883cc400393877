"""Emergency numbers, from the one configuration file ``mapapp/emergency.toml``.

Why a file and a loader: the numbers are shown on every page (DOMAIN.md, safety
rule 4) and must be changed in one place only; the loader checks each entry
(digits only, known kind) so a typo fails in tests instead of showing a broken
link to someone in danger.

Examples
--------
>>> countries = load_emergency()
>>> [c.code for c in countries]
['FR', 'BE']
>>> [n.href for n in countries[0].numbers]
['tel:17', 'tel:15', 'tel:115', 'tel:112', 'sms:114', 'tel:3919']
>>> countries[1].numbers[1].href, countries[1].numbers[1].number
('tel:080030030', '0800 30 030')
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from mapapp.errors import ConfigurationError

__all__ = ["EMERGENCY_PATH", "Country", "EmergencyNumber", "load_emergency"]

#: The configuration file shipped with the package.
EMERGENCY_PATH = Path(__file__).resolve().parent / "emergency.toml"
_NUMBER = re.compile(r"^\d[\d ]*\d$|^\d$")


@dataclass(frozen=True)
class EmergencyNumber:
    """One number: what to dial, how (call or text) and what it is for."""

    number: str
    kind: Literal["tel", "sms"]
    fr: str
    en: str
    detail_fr: str = ""
    detail_en: str = ""

    @property
    def href(self) -> str:
        """``tel:``/``sms:`` link, digits only (``"tel:3919"``)."""
        return f"{self.kind}:{self.number.replace(' ', '')}"

    def label(self, lang: str = "fr") -> str:
        """Short label shown next to the number, in ``lang``."""
        return self.en if lang == "en" else self.fr

    def detail(self, lang: str = "fr") -> str:
        """What the number is for, in ``lang`` (the short label when not given)."""
        text = self.detail_en if lang == "en" else self.detail_fr
        return text or self.label(lang)


@dataclass(frozen=True)
class Country:
    """A country and its numbers, in the order of the file."""

    code: str
    fr: str
    en: str
    numbers: tuple[EmergencyNumber, ...]

    def label(self, lang: str = "fr") -> str:
        """Country name in ``lang``."""
        return self.en if lang == "en" else self.fr


def _text(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{where}: '{key}' must be a non-empty string")
    return value.strip()


def _optional(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str):
        raise ConfigurationError(f"{where}: '{key}' must be a string")
    return value.strip()


def _parse(data: dict[str, Any], path: Path) -> tuple[Country, ...]:
    countries = data.get("country")
    if not isinstance(countries, list) or not countries:
        raise ConfigurationError(f"{path}: no [[country]] table; see the comments at its top")
    out: list[Country] = []
    for i, c in enumerate(countries):
        where = f"{path}: country #{i + 1}"
        numbers: list[EmergencyNumber] = []
        raw_numbers = c.get("number")
        if not isinstance(raw_numbers, list) or not raw_numbers:
            raise ConfigurationError(f"{where} has no [[country.number]] entries")
        for j, n in enumerate(raw_numbers):
            nwhere = f"{where}, number #{j + 1}"
            number = _text(n, "number", nwhere)
            if not _NUMBER.match(number):
                raise ConfigurationError(
                    f"{nwhere}: {number!r} must hold digits and single spaces only"
                )
            kind = n.get("kind")
            if kind not in ("tel", "sms"):
                raise ConfigurationError(f"{nwhere}: kind must be 'tel' or 'sms', not {kind!r}")
            numbers.append(
                EmergencyNumber(
                    number=number,
                    kind=kind,
                    fr=_text(n, "fr", nwhere),
                    en=_text(n, "en", nwhere),
                    detail_fr=_optional(n, "detail_fr", nwhere),
                    detail_en=_optional(n, "detail_en", nwhere),
                )
            )
        out.append(
            Country(
                code=_text(c, "code", where),
                fr=_text(c, "fr", where),
                en=_text(c, "en", where),
                numbers=tuple(numbers),
            )
        )
    return tuple(out)


@cache
def _load_cached(path: Path) -> tuple[Country, ...]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"cannot read emergency numbers from {path} ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path} is not valid TOML ({exc}); fix the file") from exc
    return _parse(data, path)


def load_emergency(path: Path | None = None) -> tuple[Country, ...]:
    """Countries and their emergency numbers (read once per path, then cached).

    Raises
    ------
    ConfigurationError
        The file is missing, not TOML, or an entry breaks a rule.
    """
    return _load_cached(Path(path) if path is not None else EMERGENCY_PATH)
