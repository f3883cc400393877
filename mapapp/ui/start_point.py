"""Where a search starts: the commune's centre, a point clicked on the map, or her position.

Why a module of its own: issue 12 item 2 says the start is what the person
chose, "used for that search only and never logged or stored".  Everything
about the start lives here, so that promise is checked in one place:

* the start is kept in this session's memory only (``st.session_state``),
  never in the URL, a log, a cache or a file;
* her position is asked for only when she taps "Utiliser ma position": a tiny
  component of our own (:data:`POSITION_DIR`, constant code, no other host,
  no inline script) calls ``navigator.geolocation`` in that tap's handler
  and sends back the position **rounded to 3 decimals (about 100 m)**,
  enough to find the nearest services; nothing is asked at load;
* a clicked point is kept to 4 decimals (about 10 m): she chose it on purpose.

The page says plainly where distances start (:func:`origin_note`).

Examples
--------
>>> start = Start("position", 45.18312, 5.72749)
>>> start.lat, start.lon
(45.183, 5.727)
>>> origin(start, None, "fr").label, origin(start, None, "en").label
('votre position', 'your position')
>>> origin_note(Start("point", 45.0, 5.0), None, "fr")
"Distances à vol d'oiseau depuis le point choisi sur la carte."
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from mapapp.i18n import t

if TYPE_CHECKING:
    from collections.abc import Callable

    from mapapp.geo.places import Place

# mapapp.geo.places (rapidfuzz, the geography) is imported when a start is
# made, so the empty first page draws without it.

__all__ = [
    "POINT_DECIMALS",
    "POSITION_DECIMALS",
    "POSITION_DIR",
    "START_KEY",
    "Start",
    "origin",
    "origin_note",
    "position_button",
    "start_status",
]

#: Session key of the chosen start (a :class:`Start`, or absent: the commune).
START_KEY = "search_start"
#: Her position is kept to this many decimals (about 100 m).
POSITION_DECIMALS = 3
#: A point clicked on the map, to this many decimals (about 10 m).
POINT_DECIMALS = 4

Kind = Literal["point", "position"]


@dataclass(frozen=True)
class Start:
    """A start she chose instead of the commune: a map point or her position (rounded here)."""

    kind: Kind
    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lat) and math.isfinite(self.lon)):
            raise ValueError("a start point needs finite coordinates")
        if abs(self.lat) > 90 or abs(self.lon) > 180:
            raise ValueError("a start point needs a latitude and a longitude in range")
        digits = POSITION_DECIMALS if self.kind == "position" else POINT_DECIMALS
        object.__setattr__(self, "lat", round(float(self.lat), digits))
        object.__setattr__(self, "lon", round(float(self.lon), digits))


@cache
def _start_place() -> type[Place]:
    from mapapp.geo.places import Place

    @dataclass(frozen=True)
    class StartPlace(Place):
        """A :class:`Place` whose label is what the start is ("votre position"), not a commune."""

        @property
        def label(self) -> str:
            return self.nom

    return StartPlace


def origin(start: Start | None, place: Place | None, lang: str) -> Place | None:
    """The point distances start from: her chosen start when there is one, else the commune."""
    if start is None:
        return place
    label = t("start_position_label" if start.kind == "position" else "start_point_label", lang)
    return _start_place()(place.code_insee if place else "", label, "", start.lat, start.lon)


def origin_note(start: Start | None, place: Place | None, lang: str) -> str:
    """The sentence saying where distances start (shown above the results)."""
    if start is not None:
        return t("start_from_position" if start.kind == "position" else "start_from_point", lang)
    return t("start_from_commune", lang, place=place.label if place else "")


#: The position button: a component of our own (``static/position``): constant
#: code, served by the app itself (script-src 'self'), in a frame that may ask
#: for the position (Streamlit's component frames allow ``geolocation``).
POSITION_DIR = Path(__file__).resolve().parent / "static" / "position"
#: Session key of the last tap answered (each tap sends a new ``n``).
_SEEN = "position_seen"


@cache
def _position_component() -> Callable[..., object]:
    import streamlit.components.v1 as components

    return components.declare_component("mapapp_position", path=str(POSITION_DIR))


def position_button(lang: str, *, note: bool = True) -> Start | None:
    """The "Utiliser ma position" button; her rounded position on the run after her tap.

    Returns None on every other run: each tap carries a new number ``n``, and
    an answer already used is not used again (so "Repartir de la commune"
    sticks).  A refusal or a failure shows a warning that says what to do
    instead.  ``note`` shows, under the button, what is done with the position.
    """
    import streamlit as st

    value = _position_component()(
        label=t("use_position", lang),
        locating=t("position_locating", lang),
        lang=lang,
        key="my_position",
        default=None,
    )
    if note:
        st.caption(t("position_note", lang))
    if not isinstance(value, dict) or value.get("n") == st.session_state.get(_SEEN):
        return None
    st.session_state[_SEEN] = value.get("n")
    if not value.get("failed"):
        try:
            return Start("position", float(value["lat"]), float(value["lon"]))
        except (KeyError, TypeError, ValueError):
            pass
    st.warning(t("position_failed", lang))
    return None


def _forget() -> None:
    import streamlit as st

    st.session_state.pop(START_KEY, None)


def start_status(start: Start, place: Place | None, lang: str, *, searched: bool) -> None:
    """What the start is, and the way back to the commune (or to no start)."""
    import streamlit as st

    back = t("start_back_commune", lang) if place is not None else t("start_forget", lang)
    if not searched:  # after a search, the line above the results says where they start
        st.caption(t("position_ready" if start.kind == "position" else "start_is_point", lang))
    st.button(back, on_click=_forget, key="start_forget")
