"""« Naviguer en sécurité »: what the app does to protect a person, and what it cannot erase.

Why a page: the quick exit and the absence of server-side traces help, but the
browser history and the phone's call log are out of the app's reach.  Saying so
plainly (DOMAIN.md, safety rule 3) lets a person decide what to clean herself.
"""

from __future__ import annotations

import streamlit as st

from mapapp.emergency import load_emergency
from mapapp.i18n import t
from mapapp.render.text import escape_markdown
from mapapp.ui.chrome import current_lang

__all__ = ["render"]


def render() -> None:
    """Draw the safety page."""
    lang = current_lang()
    st.header(t("safety_title", lang))
    st.markdown(t("safety_intro", lang))
    st.subheader(t("safety_exit_title", lang))
    st.markdown(t("safety_exit", lang))
    st.subheader(t("safety_does_title", lang))
    st.markdown(t("safety_does", lang))
    st.subheader(t("safety_cannot_title", lang))
    st.markdown(t("safety_cannot", lang))
    st.subheader(t("safety_private_title", lang))
    st.markdown(t("safety_private", lang))
    st.subheader(t("safety_numbers_title", lang))
    for country in load_emergency():
        lines = [
            f"- [**{n.number}**]({n.href}){' (SMS)' if n.kind == 'sms' else ''} : "
            f"{escape_markdown(n.detail(lang))}"
            for n in country.numbers
        ]
        st.markdown(f"**{escape_markdown(country.label(lang))}**\n\n" + "\n".join(lines))
