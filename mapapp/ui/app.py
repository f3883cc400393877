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

from mapapp.errors import ConfigurationError, MapappError, StoreError
from mapapp.i18n import t
from mapapp.ui import resources, safety_page, search_page
from mapapp.ui.chrome import (
    current_lang,
    demo_banner,
    emergency_bar,
    language_switch,
    quick_exit,
)

__all__ = ["main"]


_COVERAGE = "mapapp.ui.coverage_page"


def _coverage_page() -> None:
    """Run the coverage page, imported only when it is opened (it is heavy)."""
    importlib.import_module(_COVERAGE).render()


def _coverage_render() -> Callable[[], None] | None:
    """A runner for the coverage page if that page is installed."""
    return _coverage_page if importlib.util.find_spec(_COVERAGE) is not None else None


def _pages(lang: str) -> list[st.Page]:
    # No page icons: Streamlit fetches navigation icons from fonts.gstatic.com,
    # a third party that would learn someone opened the app.
    pages = [
        st.Page(
            search_page.render,
            title=t("nav_search", lang),
            url_path="recherche",
            default=True,
        )
    ]
    coverage = _coverage_render()
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
            safety_page.render,
            title=t("nav_safety", lang),
            url_path="securite",
        )
    )
    return pages


def main() -> None:
    """Run one pass of the app (Streamlit reruns it on every interaction)."""
    st.set_page_config(
        page_title=t("app_title", "fr"),
        layout="wide",
        initial_sidebar_state="collapsed",
        menu_items={"Get help": None, "Report a bug": None, "About": None},
    )
    lang = current_lang()
    quick_exit(lang)
    page = st.navigation(_pages(lang), position="top")
    s = resources.settings()
    head, switch = st.columns([4, 1], vertical_alignment="center")
    with switch:
        lang = language_switch()
    head.markdown(f"### {t('app_title', lang)}")
    emergency_bar(lang)
    # The banner's place is kept at the top, filled once the page is drawn:
    # knowing whether the data is the demo means reading the store, which the
    # first page should not wait for.
    banner = st.empty()
    try:
        page.run()
        if resources.demo_shown(s):
            with banner:
                demo_banner(lang)
        # Build the search index now, after the page is on screen, so the
        # first search does not wait for it.
        resources.catalog(s)
    except MapappError as exc:
        # Never logged: a message may quote what the person typed.  Only
        # operator problems (configuration, store), which quote no user input,
        # are shown in full so that whoever deploys the app can fix them.
        st.error(t("error_generic", lang))
        if isinstance(exc, ConfigurationError | StoreError):
            st.caption(str(exc))
