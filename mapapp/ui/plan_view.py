"""The plan on the search page: its summary on top, services grouped by need, the sheet, a share link.

Thin by design: the plan is :func:`mapapp.plan.build_plan` (the same as
``mapapp plan`` and the API), its cards :mod:`mapapp.servicecard`, its PDF
:mod:`mapapp.render.sheet`.  This module only lays them out.

Privacy: the share link carries service ids only
(:func:`mapapp.plan.share_query`), never the place, the needs or the
filters; opening it shows that list, without distances (the link knows no
start point).  Printing (Ctrl+P) prints the plan, not the interface
(:data:`PRINT_CSS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING

import streamlit as st

from mapapp.i18n import LANGS, t
from mapapp.render.text import escape_markdown
from mapapp.taxonomy import Obstacle

if TYPE_CHECKING:
    import pandas as pd

    from mapapp.plan import Plan
    from mapapp.render.cards import CardMarkdown
    from mapapp.search import SearchIndex, SearchQuery
    from mapapp.servicecard import ServiceCard

__all__ = [
    "PRINT_CSS",
    "PRINT_KEY",
    "filter_values",
    "filter_widgets",
    "filters_text",
    "render_plan",
    "render_shared",
    "shared_ids",
    "show",
    "show_card",
]

#: Streamlit key of the container that printing keeps (class ``st-key-plan_print``).
PRINT_KEY = "plan_print"
#: Print only the plan: everything else is hidden, the plan flows over pages.
PRINT_CSS = f"""<style>
@media print {{
  [data-testid="stSidebar"], [data-testid="stHeader"], [data-testid="stToolbar"],
  [data-testid="stForm"], [data-testid="stDecoration"], iframe, #mapapp-quick-exit {{
    display: none !important;
  }}
  html, body, [data-testid="stApp"], [data-testid="stAppViewContainer"],
  [data-testid="stMain"], [data-testid="stMainBlockContainer"] {{
    overflow: visible !important; height: auto !important;
  }}
  body * {{ visibility: hidden; }}
  .st-key-{PRINT_KEY}, .st-key-{PRINT_KEY} * {{ visibility: visible; color: #000 !important; }}
  .st-key-{PRINT_KEY} {{ position: absolute; left: 0; top: 0; width: 100%; }}
  .st-key-{PRINT_KEY} button {{ display: none !important; }}
  .st-key-{PRINT_KEY} [data-testid="stVerticalBlockBorderWrapper"] {{ break-inside: avoid; }}
}}
</style>"""


def show_card(
    card: ServiceCard, lang: str, *, details: bool = False, md: CardMarkdown | None = None
) -> None:
    """One card in a bordered box: what :func:`mapapp.render.cards.card_markdown` writes.

    The search page and the plan show cards through this one function, so a
    card reads the same wherever it appears.  ``md``: the card's Markdown when
    the page kept it from an earlier run (written here otherwise).
    """
    from mapapp.render.cards import card_markdown

    if md is None:
        md = card_markdown(card, lang)
    # One Markdown element for the title, the meta line and the summary: each
    # element is a message the server builds, serialises and sends, and fifty
    # sessions searching at once pay for every one (issue 14).
    head = f"{md.title}  \n:small[{md.meta}]" if md.meta else md.title
    with st.container(border=True):
        st.markdown(f"{head}\n\n{md.summary}")
        if details and md.details:
            with st.expander(t("details", lang)):
                st.markdown(md.details)


def _share_url(ids: list[str]) -> str:
    from mapapp.plan import share_query

    base = ""
    try:
        base = str(st.context.url or "").split("?", 1)[0].split("#", 1)[0]
    except Exception:  # outside a browser session (tests): a relative link
        base = ""
    return f"{base}?{share_query(ids)}"


def render_plan(
    plan: Plan, *, lang: str, place_label: str = "", demo: bool = False, filters: str = ""
) -> None:
    """Draw the plan: summary and places on top, then each need's services; PDF and share link."""
    from mapapp.render.sheet import SheetOptions, sheet_pdf, stop_lines

    now = datetime.now(UTC)
    cards = plan.cards(lang=lang, when=now)
    st.html(PRINT_CSS)
    with st.container(key=PRINT_KEY):
        st.subheader(t("plan_title", lang))
        st.markdown(f"**{escape_markdown(plan.explanation(lang))}**")
        if plan.stops:
            # "1. " unescaped: an ordered list (read as one by screen readers)
            rows = stop_lines(plan, cards, lang)
            lines = [f"{k}. {escape_markdown(row)}" for k, row in enumerate(rows, 1)]
            st.markdown(f"**{t('plan_places', lang)}**  \n" + "  \n".join(lines))
        for need in plan.needs:
            st.markdown(f"#### {escape_markdown(Obstacle(need.need).label(lang))}")
            note = need.note(lang, plan.radius_km)
            if note:
                st.warning(escape_markdown(note))
                if need.beyond is not None:
                    show_card(cards[need.beyond.id], lang)
            for k, p in enumerate(need.services, 1):
                show_card(replace(cards[p.id], rank=k), lang)
    options = SheetOptions(lang=lang, when=now, place=place_label, filters=filters, demo=demo)
    col_pdf, col_share = st.columns([2, 3])
    col_pdf.download_button(
        t("plan_pdf", lang),
        # Written when she clicks (Streamlit's deferred data), not on every rerun.
        data=partial(sheet_pdf, plan, options),
        file_name="fiche-plan.pdf" if lang != "en" else "plan-sheet.pdf",
        mime="application/pdf",
        on_click="ignore",
        icon=":material/picture_as_pdf:",
        key="plan_pdf",
    )
    with col_share:
        st.markdown(f"**{t('plan_share', lang)}**")
        st.code(_share_url(plan.service_ids()), language=None, wrap_lines=True)
        st.caption(t("plan_share_help", lang) + " " + t("plan_print_note", lang))


def shared_ids() -> list[str] | None:
    """The ids of a share link this page was opened with (None when not opened from one)."""
    from mapapp.plan import SHARE_PARAM

    value = st.query_params.get(SHARE_PARAM)
    return None if value is None else [v for v in str(value).split(",") if v]


def render_shared(ids: list[str], actors: pd.DataFrame, *, lang: str) -> None:
    """The list a share link names (known ids only), without distances."""
    from mapapp.plan import parse_share
    from mapapp.servicecard import service_cards

    known = parse_share(ids, actors["id"].tolist())
    rows = actors.set_index("id", drop=False).loc[known].drop(columns="geometry")
    st.html(PRINT_CSS)
    with st.container(key=PRINT_KEY):
        st.subheader(t("plan_shared_title", lang))
        if not known:
            st.info(t("plan_shared_none", lang))
        else:
            st.caption(t("plan_shared_count", lang, n=len(known)))
        for card in service_cards(rows, lang=lang, when=datetime.now(UTC), ranked=True):
            show_card(card, lang)
    if st.button(t("plan_shared_close", lang), key="shared_close"):
        st.query_params.clear()
        st.rerun()


def _ft(key: str, lang: str) -> str:
    return t(f"filter_{key}", lang)


def _days(lang: str) -> tuple[str, ...]:
    return tuple(t(f"weekday_{d}", lang) for d in range(7))


def filter_widgets(lang: str) -> None:
    """The extra filters (open now / on a day, fees, reception), drawn inside the search form."""
    from mapapp.i18n import VOCABULARIES, t, vocab_label

    days = _days(lang)
    st.checkbox(
        t("reserved_filter", lang), key="f_reserved_free", help=t("reserved_filter_help", lang)
    )
    st.checkbox(_ft("open_now", lang), key="f_open_now")
    st.selectbox(
        _ft("open_day", lang),
        options=[-1, 0, 1, 2, 3, 4, 5, 6],
        format_func=lambda d: _ft("any_day", lang) if d < 0 else days[d],
        key="f_open_day",
        help=_ft("hours_note", lang),
    )
    st.multiselect(
        _ft("frais", lang),
        options=list(VOCABULARIES["frais"]),
        format_func=lambda v: vocab_label("frais", v, lang),
        key="f_frais",
    )
    st.multiselect(
        _ft("modes", lang),
        options=list(VOCABULARIES["modes_accueil"]),
        format_func=lambda v: vocab_label("modes_accueil", v, lang),
        key="f_modes",
    )


def _day_choice(value: object) -> int:
    """The day index a ``f_open_day`` value stands for (-1: any day).

    Why: after a language switch Streamlit may hand back the option's label in
    the other language (« n'importe quel jour », « lundi ») instead of the
    option itself; both languages' labels are read back, anything else is
    "any day".

    Examples
    --------
    >>> _day_choice(3), _day_choice("lundi"), _day_choice("Sunday")
    (3, 0, 6)
    >>> _day_choice("n'importe quel jour"), _day_choice("any day"), _day_choice("zzz")
    (-1, -1, -1)
    """
    if isinstance(value, int) and -1 <= value <= 6:
        return value
    for lang in LANGS:
        days = _days(lang)
        if value == _ft("any_day", lang):
            return -1
        if value in days:
            return days.index(str(value))
    return -1


def filter_values() -> dict[str, object]:
    """The extra filters as :class:`~mapapp.search.SearchQuery` keywords (read at submit)."""
    from datetime import date, timedelta
    from zoneinfo import ZoneInfo

    now = datetime.now(UTC)
    day = _day_choice(st.session_state.get("f_open_day", -1))
    open_day: date | None = None
    if day >= 0:
        today = now.astimezone(ZoneInfo("Europe/Paris")).date()
        open_day = today + timedelta(days=(day - today.weekday()) % 7)
    return {
        "open_at": now if st.session_state.get("f_open_now") else None,
        "open_day": open_day,
        "frais": tuple(st.session_state.get("f_frais") or ()),
        "modes": tuple(st.session_state.get("f_modes") or ()),
        "reserved_free": bool(st.session_state.get("f_reserved_free")),
    }


def filters_text(values: Mapping[str, object], lang: str) -> str:
    """The extra filters in words, for the sheet."""
    from mapapp.i18n import t, vocab_label

    parts = []
    if values.get("reserved_free"):
        parts.append(t("reserved_filter", lang))
    if values.get("open_at") is not None:
        parts.append(_ft("open_now", lang))
    day = values.get("open_day")
    if day is not None:
        parts.append(f"{_ft('open_day', lang)} {day}")
    for key, vocab in (("frais", "frais"), ("modes", "modes_accueil")):
        chosen = values.get(key)
        if isinstance(chosen, tuple | list) and chosen:
            labels = ", ".join(vocab_label(vocab, str(v), lang) for v in chosen)
            parts.append(f"{_ft(key, lang)}{t('colon', lang)}{labels}")
    return "; ".join(parts)


def show(
    index: SearchIndex,
    query: SearchQuery,
    *,
    lang: str,
    place_label: str,
    demo: bool,
    nothing_at_once: bool = False,
) -> None:
    """The plan for the search page's query (several needs), offered when "all at once" found nothing."""
    from mapapp.plan import plan_for_query

    if nothing_at_once:
        st.info(t("plan_offer", lang))
    extra = {
        "open_at": query.open_at,
        "open_day": query.open_day,
        "frais": query.frais,
        "modes": query.modes,
        "reserved_free": query.reserved_free,
    }
    render_plan(
        plan_for_query(index, query),
        lang=lang,
        place_label=place_label,
        demo=demo,
        filters=filters_text(extra, lang),
    )
