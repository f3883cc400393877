"""Territories a coordinator looks at: France, a région, a département, an EPCI.

Why a small value type: the CLI, the app and the notebook all say "this
département" or "this EPCI"; one place parses the code (``"1"`` is ``"01"``,
``"2a"`` is ``"2A"``), checks it exists, selects the analysis units and says
at which level a map can be drawn (communes within a département or an EPCI,
départements for a région or the whole country: 35,000 communes never fit on
a page).

Examples
--------
>>> import pandas as pd
>>> units = pd.DataFrame({"departement": ["01", "93"], "region": ["84", "11"],
...     "epci": ["200029999", "200054781"], "departement_nom": ["Ain", "Seine-Saint-Denis"],
...     "region_nom": ["Auvergne-Rhône-Alpes", "Île-de-France"],
...     "epci_nom": ["CC X", "Métropole du Grand Paris"]}, index=["01001", "93001"])
>>> t = Territory.parse("departement", "93")
>>> territory_units(units, t).index.tolist(), t.map_level, territory_label(units, t)
(['93001'], 'commune', 'Seine-Saint-Denis (93)')
>>> Territory.parse("departement", "1").code
'01'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeVar

import pandas as pd

from mapapp.errors import UnknownPlaceError

__all__ = [
    "OVERSEAS_REGIONS",
    "TERRITORY_KINDS",
    "Territory",
    "territory_label",
    "territory_units",
]

TerritoryKind = Literal["france", "region", "departement", "epci"]
TERRITORY_KINDS: tuple[TerritoryKind, ...] = ("france", "region", "departement", "epci")
_COLUMN = {"region": "region", "departement": "departement", "epci": "epci"}
_HINT = {
    "region": "a région code such as 11 (Île-de-France) or 84",
    "departement": "a département code such as 93, 2A or 974",
    "epci": "an EPCI SIREN code (9 digits) such as 200054781",
}
_Frame = TypeVar("_Frame", bound=pd.DataFrame)
#: Régions that are one overseas département each (Guadeloupe, Martinique,
#: Guyane, La Réunion, Mayotte).
OVERSEAS_REGIONS = frozenset({"01", "02", "03", "04", "06"})


@dataclass(frozen=True)
class Territory:
    """A territory: ``kind`` and its INSEE/SIREN ``code`` (empty for France)."""

    kind: TerritoryKind = "france"
    code: str = ""

    def __post_init__(self) -> None:
        if self.kind not in TERRITORY_KINDS:
            raise UnknownPlaceError(
                f"unknown territory kind {self.kind!r}; use one of {', '.join(TERRITORY_KINDS)}"
            )
        if self.kind != "france" and not self.code:
            raise UnknownPlaceError(f"a {self.kind} needs a code: {_HINT[self.kind]}")

    @classmethod
    def parse(cls, kind: str, code: str | int | None = None) -> Territory:
        """A territory from user input, normalising the code."""
        text = "" if code is None else str(code).strip().upper()
        if kind == "departement" and text.isdigit() and len(text) == 1:
            text = "0" + text
        if kind == "region" and text.isdigit() and len(text) == 1:
            text = "0" + text
        if kind not in TERRITORY_KINDS:
            raise UnknownPlaceError(
                f"unknown territory kind {kind!r}; use one of {', '.join(TERRITORY_KINDS)}"
            )
        return cls(kind, "" if kind == "france" else text)

    @property
    def map_level(self) -> Literal["commune", "departement"]:
        """Polygons a map of this territory shows.

        Communes within a département, an EPCI or an overseas région (each is
        a single département: drawn by département it would be one shape);
        départements for a metropolitan région or France.

        Examples
        --------
        >>> Territory.parse("region", "04").map_level, Territory.parse("region", "11").map_level
        ('commune', 'departement')
        """
        if self.kind in ("departement", "epci"):
            return "commune"
        if self.kind == "region" and self.code in OVERSEAS_REGIONS:
            return "commune"
        return "departement"


def territory_units(units: _Frame, territory: Territory) -> _Frame:
    """The rows of ``units`` (communes) inside ``territory``.

    Raises
    ------
    UnknownPlaceError
        When no commune carries the code.
    """
    if territory.kind == "france":
        return units
    col = _COLUMN[territory.kind]
    sub = units[units[col] == territory.code]
    if sub.empty:
        raise UnknownPlaceError(
            f"no commune belongs to {territory.kind} {territory.code!r}; "
            f"give {_HINT[territory.kind]}"
        )
    return sub


def territory_label(units: pd.DataFrame, territory: Territory) -> str:
    """A readable name: ``"Seine-Saint-Denis (93)"``, ``"France"``."""
    if territory.kind == "france":
        return "France"
    sub = territory_units(units, territory)
    name = str(sub[f"{_COLUMN[territory.kind]}_nom"].iloc[0])
    return f"{name} ({territory.code})"
