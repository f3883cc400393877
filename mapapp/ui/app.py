"""The app: page config, the frame drawn on every view, and the navigation.

``streamlit_app.py`` (what ``streamlit run`` and ``mapapp serve`` start) only
calls :func:`main`.  The frame (quick exit, language, emergency numbers, demo
banner) is drawn *before* the page runs, so no view can lack it.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable

import streamlit as st

from mapapp.i18n import t
from mapapp.settings import Settings
from mapapp.ui import profiling, resources, safety_page, search_page
from mapapp.ui.chrome import (
    current_lang,
    demo_banner,
    emergency_bar,
    language_switch,
    quick_exit,
    show_errors,
)

__all__ = ["main"]


_COVERAGE = "mapapp.ui.coverage_page"


def _coverage_render(s: Settings) -> Callable[[], None] | None:
    """A runner for the coverage page (imported only when opened: it is heavy), if installed."""
    if importlib.util.find_spec(_COVERAGE) is None:
        return None

    def coverage() -> None:
        importlib.import_module(_COVERAGE).render(s)

    return coverage


def _pages(lang: str, s: Settings) -> list[st.Page]:
    """The views, each given the settings read once for this run."""

    def search() -> None:
        search_page.render(s)

    def safety() -> None:
        safety_page.render()

    # No page icons: Streamlit fetches navigation icons from fonts.gstatic.com,
    # a third party that would learn someone opened the app.
    pages = [
        st.Page(
            search,
            title=t("nav_search", lang),
            url_path="recherche",
            default=True,
        )
    ]
    coverage = _coverage_render(s)
    if coverage is not None:
        pages.append(
            st.Page(
                coverage,
                title=t("nav_coverage", lang),
                url_path="couverture",
            )
        )
    pages.append(
        st.Page(
            safety,
            title=t("nav_safety", lang),
            url_path="securite",
        )
    )
    return pages


def main() -> None:
    """Run one pass of the app (Streamlit reruns it on every interaction)."""
    profiling.measured(_run)


def _run() -> None:
    st.set_page_config(
        page_title=t("app_title", "fr"),
        layout="wide",
        initial_sidebar_state="collapsed",
        menu_items={"Get help": None, "Report a bug": None, "About": None},
    )
    lang = current_lang()
    quick_exit(lang)
    s = resources.settings()  # read once per run, passed down
    pages = _pages(lang, s)
    page = st.navigation(pages, position="top")
    head, safety, switch = st.columns([4, 2, 2], vertical_alignment="center")
    with switch:
        lang = language_switch()
    head.markdown(f"### {t('app_title', lang)}")
    # A visible, labelled link: on a phone the navigation folds behind an icon.
    safety.page_link(pages[-1], label=t("safety_link", lang))
    emergency_bar(lang)
    # The banner's place is kept at the top, filled once the page is drawn:
    # knowing whether the data is the demo means reading the store, which the
    # first page should not wait for.
    banner = st.empty()

    def page_then_index() -> None:
        page.run()
        if resources.demo_shown(s):
            with banner:
                demo_banner(lang)
        # Build the search index now, after the page is on screen, so the
        # first search does not wait for it.
        resources.catalog(s)

    show_errors(page_then_index, lang)
