"""The search view: a place and needs in, the nearest services out (list and map).

Thin by design: places are resolved by :mod:`mapapp.geo.places`, services found
by :class:`mapapp.search.SearchIndex` built on the public view, cards written
by :mod:`mapapp.render.cards`, the map built by :mod:`mapapp.render.search_map`.  This module
only lays them out.

Privacy: the inputs sit in an ``st.form`` (nothing is sent before "Search"),
the submitted search lives only in this session's memory (``st.session_state``),
never in the URL, a log, a cache or a file; the place box asks the browser not
to remember entries (``autocomplete="off"``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import streamlit as st
from streamlit_folium import st_folium

from mapapp.emergency import load_emergency
from mapapp.errors import AmbiguousPlaceError, UnknownPlaceError
from mapapp.i18n import PUBLICS_CHOICES, t, vocab_label
from mapapp.render.cards import (
    Card,
    CardMarkdown,
    card_markdown,
    cards_from_frame,
    sheet_csv,
    sheet_text,
)
from mapapp.render.search_map import MapPoint, results_map
from mapapp.render.text import escape_markdown
from mapapp.settings import Settings
from mapapp.taxonomy import ActorType, Obstacle
from mapapp.ui import plan_view, profiling, resources, start_point
from mapapp.ui.assets import leaflet_base
from mapapp.ui.chrome import current_lang, show_errors
from mapapp.ui.start_point import START_KEY, Start
from mapapp.vocabulary import DEFAULT_RADIUS_KM

if TYPE_CHECKING:
    from mapapp.geo.communes import Geography
    from mapapp.geo.places import Place
    from mapapp.search import SearchQuery

# mapapp.geo.places and mapapp.search (geopandas, scipy, rapidfuzz) are imported
# where a search needs them, so the empty first page draws without them.

__all__ = ["DEFAULT_RADIUS_KM", "LIMIT_CHOICES", "RADIUS_CHOICES", "render"]

#: Result counts offered; the largest bounds the map payload (tested).
LIMIT_CHOICES = (10, 20, 50)
#: Radius choices in km; 0 means no limit.  The default keeps an overseas
#: search from listing services on another continent.
RADIUS_CHOICES = (2, 5, 10, 20, 50, 100, 200, 0)
_QUERY = "search_query"
_EDIT = "search_editing"
_CHOICE = "place_choice"
_RESULTS = "search_results"
_MAP_HEIGHT = 440


@dataclass(frozen=True)
class _Submitted:
    place_text: str
    obstacles: tuple[str, ...]
    match: str
    types: tuple[str, ...]
    publics: tuple[str, ...]
    free_only: bool
    radius_km: int
    limit: int
    extra: dict[str, object] = field(default_factory=dict)  # plan_view.filter_values()


_FIELDS = (
    "f_place",
    "f_obstacles",
    "f_match",
    "f_types",
    "f_publics",
    "f_free",
    "f_radius",
    "f_limit",
)


def _submit() -> None:
    """Form callback (runs before the page): the search to show in this run.

    A new commune typed replaces a chosen start (map point, position): she
    changed where she searches from.
    """
    place_text = str(st.session_state.get("f_place") or "").strip()
    old: _Submitted | None = st.session_state.get(_QUERY)
    if place_text and place_text != (old.place_text if old else ""):
        st.session_state.pop(START_KEY, None)
    st.session_state[_QUERY] = _Submitted(
        place_text=place_text,
        obstacles=tuple(st.session_state.get("f_obstacles") or ()),
        match=str(st.session_state.get("f_match") or "any"),
        types=tuple(st.session_state.get("f_types") or ()),
        publics=tuple(st.session_state.get("f_publics") or ()),
        free_only=bool(st.session_state.get("f_free")),
        radius_km=int(st.session_state.get("f_radius", DEFAULT_RADIUS_KM)),
        limit=int(st.session_state.get("f_limit") or LIMIT_CHOICES[0]),
        extra=plan_view.filter_values(),
    )
    st.session_state[_EDIT] = False
    st.session_state.pop(_CHOICE, None)


def _edit() -> None:
    """ "Modifier": unfold the form, filled with the search shown."""
    sub: _Submitted | None = st.session_state.get(_QUERY)
    st.session_state[_EDIT] = True
    if sub is not None:
        values = (
            sub.place_text,
            list(sub.obstacles),
            sub.match,
            list(sub.types),
            list(sub.publics),
            sub.free_only,
            sub.radius_km,
            sub.limit,
        )
        for key, value in zip(_FIELDS, values, strict=True):
            st.session_state[key] = value


def _summary(sub: _Submitted, place: Place, lang: str) -> None:
    """The folded form: one line saying what was searched, and "modifier"."""
    needs = ", ".join(Obstacle(o).label(lang) for o in sub.obstacles) or t("needs_any", lang)
    radius = t("radius_none", lang) if sub.radius_km == 0 else f"{sub.radius_km} km"
    with st.container(border=True, key="search_summary"):
        text, button = st.columns([4, 1], vertical_alignment="center")
        text.markdown(f"**{escape_markdown(place.label)}** · {escape_markdown(needs)} · {radius}")
        button.button(t("edit_search", lang), on_click=_edit, key="edit_search")


def _form(lang: str) -> None:
    st.session_state.setdefault("f_radius", DEFAULT_RADIUS_KM)
    with st.form("search", border=True, enter_to_submit=True):
        st.text_input(
            t("place_label", lang),
            placeholder=t("place_placeholder", lang),
            help=t("place_help", lang),
            max_chars=80,
            autocomplete="off",
            key="f_place",
        )
        st.pills(
            t("obstacles_label", lang),
            options=[o.value for o in Obstacle],
            format_func=lambda v: Obstacle(v).label(lang),
            selection_mode="multi",
            key="f_obstacles",
        )
        st.radio(
            t("match_label", lang),
            options=["any", "all"],
            format_func=lambda v: t(f"match_{v}", lang),
            horizontal=True,
            key="f_match",
        )
        with st.expander(t("more_filters", lang)):
            st.multiselect(
                t("types_label", lang),
                options=[a.value for a in ActorType],
                format_func=lambda v: ActorType(v).label(lang),
                placeholder=t("types_placeholder", lang),
                key="f_types",
            )
            st.multiselect(
                t("publics_label", lang),
                options=list(PUBLICS_CHOICES),
                format_func=lambda v: vocab_label("publics", v, lang),
                placeholder=t("publics_placeholder", lang),
                key="f_publics",
            )
            st.checkbox(t("free_only", lang), key="f_free")
            plan_view.filter_widgets(lang)
            st.select_slider(
                t("radius_label", lang),
                options=list(RADIUS_CHOICES),
                format_func=lambda r: t("radius_none", lang) if r == 0 else f"{r} km",
                key="f_radius",
            )
            st.selectbox(t("limit_label", lang), options=list(LIMIT_CHOICES), key="f_limit")
        st.form_submit_button(t("search_button", lang), type="primary", on_click=_submit)


def _choose(geo: Geography, choices: list[tuple[str, str]], title: str, lang: str) -> Place | None:
    labels = dict(choices)
    code = st.radio(
        title,
        options=list(labels),
        format_func=lambda c: labels.get(c, c),
        index=None,
        key=_CHOICE,
    )
    from mapapp.geo.places import place_of

    return place_of(geo, code) if code in labels else None


def _resolve(geo: Geography, text: str, lang: str) -> Place | None:
    """The place to search around, asking the person to choose when needed."""
    from mapapp.geo.places import resolve_place

    if not text:
        st.info(t("place_missing", lang))
        return None
    try:
        return resolve_place(text, geo)
    except AmbiguousPlaceError as exc:
        return _choose(geo, exc.choices[:30], t("place_choose", lang), lang)
    except UnknownPlaceError:
        from mapapp.geo.places import suggest_places

        close = suggest_places(text, geo, limit=8)
        if not close:
            st.warning(t("place_unknown", lang))
            return None
        st.warning(t("place_unknown", lang))
        return _choose(geo, close, t("place_did_you_mean", lang), lang)


def _query(sub: _Submitted, place: Place) -> SearchQuery:
    from mapapp.search import SearchQuery

    return SearchQuery(
        lat=place.lat,
        lon=place.lon,
        obstacles=sub.obstacles,
        match="all" if sub.match == "all" else "any",
        types=sub.types,
        publics=sub.publics,
        free_only=sub.free_only,
        radius_km=float(sub.radius_km) if sub.radius_km > 0 else None,
        limit=sub.limit,
        **sub.extra,  # type: ignore[arg-type]
    )


def _card(card: Card, lang: str, md: CardMarkdown) -> None:
    plan_view.show_card(card, lang, details=True, md=md)


def _tiles_host(tiles: str) -> str:
    host = tiles.split("//", 1)[-1].split("/", 1)[0]
    return host.replace("{s}.", "")


def _background_switch(s: Settings, lang: str) -> bool:
    """The map-background switch, above the map.

    Off until she asks: the tile server learns nothing before a tap, and the
    choice lasts for this session only (server memory, no cookie).  Outside
    the map's fragment: switching it redraws the map from scratch.
    """
    if not s.tiles:
        return False
    return st.toggle(
        t("map_background", lang),
        value=False,
        key="map_tiles",
        help=t("map_background_help", lang, host=_tiles_host(s.tiles)),
    )


@st.fragment
def _map_panel(
    cards: list[Card], place: Place | None, s: Settings, lang: str, show_tiles: bool
) -> None:
    """The map (reruns alone: panning never reruns the page, a click shows details)."""
    points = [
        MapPoint(c.lat, c.lon, f"{c.rank}. {c.name}", c.rank)
        for c in cards
        if math.isfinite(c.lat) and math.isfinite(c.lon)
    ]
    home = (
        MapPoint(place.lat, place.lon, t("map_search_point", lang, place=place.label))
        if place is not None
        else None
    )
    fmap = results_map(
        points,
        tiles=s.tiles if show_tiles else None,
        attribution=s.tiles_attribution,
        search_point=home,
        leaflet_base=leaflet_base(),
    )
    out = st_folium(
        fmap,
        key="results_map",
        height=_MAP_HEIGHT,
        use_container_width=True,
        returned_objects=["last_object_clicked", "last_clicked"],
    )
    if cards:
        st.caption(t("map_caption", lang) + " " + t("map_click_hint", lang))
    _offer_point((out or {}).get("last_clicked"), lang)
    clicked = (out or {}).get("last_object_clicked")
    if isinstance(clicked, dict) and cards:
        lat, lng = clicked.get("lat"), clicked.get("lng")
        if isinstance(lat, int | float) and isinstance(lng, int | float):
            best = min(cards, key=lambda c: (c.lat - lat) ** 2 + (c.lon - lng) ** 2)
            if abs(best.lat - lat) < 1e-6 and abs(best.lon - lng) < 1e-6:
                with st.container(border=True):
                    st.markdown(
                        "**"
                        + escape_markdown(t("details_of", lang, name=f"{best.rank}. {best.name}"))
                        + "**"
                    )
                    st.markdown(card_markdown(best, lang).details)


def _offer_point(clicked: object, lang: str) -> None:
    """A point clicked on the map: offer "partir de ce point" (re-runs the search from it)."""
    if not isinstance(clicked, dict):
        return
    lat, lng = clicked.get("lat"), clicked.get("lng")
    if not (isinstance(lat, int | float) and isinstance(lng, int | float)):
        return
    try:
        point = Start("point", float(lat), float(lng))
    except ValueError:
        return
    if st.session_state.get(START_KEY) == point:
        return
    with st.container(border=True, key="map_point"):
        text, button = st.columns([3, 2], vertical_alignment="center")
        text.markdown(t("map_clicked", lang, lat=f"{point.lat:.4f}", lon=f"{point.lon:.4f}"))
        if button.button(t("start_here", lang), type="primary", key="start_here"):
            st.session_state[START_KEY] = point
            st.rerun()  # the whole page: the search and the plan from this point


@dataclass(frozen=True)
class _Results:
    """One search's cards, kept in this session while they stay the same.

    The sheets (text, CSV) are not here: they are written only when she asks
    for one (:meth:`sheet_text`, :meth:`sheet_csv`, called by the download
    button on her click), not on every rerun of every session.
    """

    key: tuple[object, ...]
    cards: list[Card]
    remote: list[Card]
    cards_md: list[CardMarkdown]
    remote_md: list[CardMarkdown]
    place: str
    needs: tuple[str, ...]
    demo: bool
    lang: str

    def sheet_text(self) -> bytes:
        """The plain-text sheet of these results (written on the download's click)."""
        return sheet_text(
            self.cards,
            lang=self.lang,
            place=self.place,
            needs=[Obstacle(o).label(self.lang) for o in self.needs],
            remote=self.remote,
            demo=self.demo,
            emergency=load_emergency(),
        ).encode("utf-8")

    def sheet_csv(self) -> bytes:
        """The CSV sheet of these results, with a BOM for spreadsheets (written on click)."""
        return ("\ufeff" + sheet_csv(self.cards + self.remote, lang=self.lang)).encode("utf-8")


def _results(
    cat: resources.Catalog, sub: _Submitted, place: Place, query: SearchQuery, lang: str
) -> _Results:
    """The search's results, computed once per search, place, store version, language and hour.

    Why: "modifier", the map switch or a click on the map rerun the page
    without changing the search; searching and writing the cards again would
    cost each of those reruns as much as the search itself.
    Kept only in this session's memory (``st.session_state``), like the search.
    The hour is part of the key: a card says today's hours.
    """
    from datetime import UTC, datetime

    key = (sub, place, cat.stamp, lang, datetime.now(UTC).strftime("%Y-%m-%dT%H"))
    kept: _Results | None = st.session_state.get(_RESULTS)
    if kept is not None and kept.key == key:
        return kept
    cards = cards_from_frame(cat.index.nearest(query), lang=lang)
    remote = cards_from_frame(cat.index.remote(query, limit=20), lang=lang, ranked=False)
    found = _Results(
        key,
        cards,
        remote,
        [card_markdown(c, lang) for c in cards],
        [card_markdown(c, lang) for c in remote],
        place.label,
        sub.obstacles,
        cat.is_demo,
        lang,
    )
    st.session_state[_RESULTS] = found
    return found


def _sheets(found: _Results, lang: str) -> None:
    """The two downloads, each written only when clicked (Streamlit's deferred data)."""
    st.subheader(t("sheet_header", lang))
    col1, col2 = st.columns(2)
    col1.download_button(
        t("sheet_text", lang),
        data=found.sheet_text,
        file_name="fiche-ressources.txt",
        mime="text/plain",
        on_click="ignore",
        icon=":material/print:",
    )
    col2.download_button(
        t("sheet_csv", lang),
        data=found.sheet_csv,
        file_name="fiche-ressources.csv",
        mime="text/csv",
        on_click="ignore",
        icon=":material/table:",
    )
    st.caption(t("sheet_note", lang))


def render(s: Settings) -> None:
    """Draw the search view (``s``: the settings the app read for this run).

    Before a search: the form.  After one: the form folds to a one-line
    summary with "modifier", so on a phone the results come first; the map
    is drawn only when asked for ("Voir la carte").
    """
    lang = current_lang()
    shared = plan_view.shared_ids()
    if shared is not None:  # opened from a share link: that list only
        plan_view.render_shared(shared, resources.catalog(s).actors, lang=lang)
        return
    st.header(t("search_header", lang))
    _view(s, lang)


@st.fragment
def _view(s: Settings, lang: str) -> None:
    """The form (or its summary), the start point and the results: a fragment.

    Why: "Rechercher", "modifier", the map switch and the start buttons sit
    in here, so each of them reruns only this part; the frame (quick exit,
    language, emergency numbers, navigation, title) stays as drawn, not built,
    serialised and sent again to each of fifty sessions searching at once
    (issue 14).  A language switch, outside, reruns the whole page.
    """
    profiling.fragment_run(lambda: show_errors(lambda: _view_body(s, lang), lang))


def _view_body(s: Settings, lang: str) -> None:
    top = st.container()
    sub: _Submitted | None = st.session_state.get(_QUERY)
    # asks the browser only on her tap
    tapped = start_point.position_button(lang, note=START_KEY not in st.session_state)
    if tapped is not None:
        st.session_state[START_KEY] = tapped
    start: Start | None = st.session_state.get(START_KEY)
    commune: Place | None = None
    if sub is not None and (sub.place_text or start is None):
        commune = _resolve(resources.geography(s), sub.place_text, lang)
    place = start_point.origin(start, commune, lang)  # where distances start
    if start is not None:
        start_point.start_status(start, commune, lang, searched=sub is not None)
    with top:
        if sub is not None and place is not None and not st.session_state.get(_EDIT):
            _summary(sub, place, lang)
        else:
            _form(lang)
    if sub is None or place is None:
        if sub is None:
            st.caption(t("results_hint", lang))
        return
    cat = resources.catalog(s)
    query = _query(sub, place)
    found = _results(cat, sub, place, query, lang)
    cards, remote = found.cards, found.remote
    st.subheader(t("results_header", lang, place=escape_markdown(place.label)))
    st.caption(escape_markdown(start_point.origin_note(start, commune, lang)))
    if len(sub.obstacles) >= 2:  # several needs: the plan, grouped by need, on top
        nothing = sub.match == "all" and not cards
        plan_view.show(
            cat.index,
            query,
            lang=lang,
            place_label=place.label,
            demo=cat.is_demo,
            nothing_at_once=nothing,
        )
    if cards:
        count = (
            t("results_count_one", lang)
            if len(cards) == 1
            else t("results_count", lang, n=len(cards))
        )
        st.caption(count + " · " + t("distance_note", lang))
    else:
        st.info(t("results_none", lang))
    show_map = bool(cards) and st.toggle(t("map_show", lang), key="show_map")
    if show_map:
        col_map, col_list = st.columns([4, 5], gap="medium")
        with col_map:
            _map_panel(cards, place, s, lang, _background_switch(s, lang))
    else:
        col_list = st.container()
    with col_list:
        for card, md in zip(cards, found.cards_md, strict=True):
            _card(card, lang, md)
    if remote:
        st.subheader(t("remote_header", lang))
        st.caption(t("remote_note", lang))
        for card, md in zip(remote, found.remote_md, strict=True):
            _card(card, lang, md)
    _sheets(found, lang)
