"""What every view shows: quick exit, emergency numbers, demo banner, language switch.

Why here and called from the entry point: ``st.navigation`` runs the entry
script before the page on every rerun, so whatever it draws is on every view,
including pages written by others (coverage).

Quick exit (DOMAIN.md, safety rule 3): a small constant script, run by
``st.html(..., unsafe_allow_javascript=True)``, puts a link as the *first*
element of the page body (first in keyboard order, fixed at the top of the
screen).  A click, or pressing Shift three times outside a text field, clears
what the site stored in this browser (localStorage, sessionStorage, readable
cookies), hides the page and replaces it with a neutral site through
``location.replace`` (so Back does not return to it; moving between views
replaces the history entry instead of adding one, so no earlier view of the
app stays behind Back either).  The script holds only
constant strings of :mod:`mapapp.i18n`, JSON-encoded: no data, no user input.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import streamlit as st

from mapapp.emergency import Country, load_emergency
from mapapp.errors import ConfigurationError, MapappError, StoreError
from mapapp.i18n import LANGS, Lang, parse_lang, t
from mapapp.render.text import escape_markdown

__all__ = [
    "QUICK_EXIT_URL",
    "current_lang",
    "demo_banner",
    "emergency_bar",
    "emergency_markdown",
    "language_switch",
    "quick_exit",
    "quick_exit_html",
    "show_errors",
]

#: Where the quick exit goes: a neutral page that raises no question.
QUICK_EXIT_URL = "https://www.google.com/search?q=meteo"
_LANG_KEY = "lang"
_LANG_NAMES = {"fr": "Français", "en": "English"}

_QUICK_EXIT_JS = """<script>
(function () {
  var LABEL = __LABEL__, HELP = __HELP__, URL = __URL__, ID = "mapapp-quick-exit";
  var LANG = __LANG__, SOS = __SOS__, SOS_LABEL = __SOS_LABEL__, WORDS = __WORDS__;
  var d = document;
  // The page's language, for screen readers and translation tools (Streamlit
  // declares English on the root element whatever the page says).
  d.documentElement.lang = LANG;
  window.__mapappWords = WORDS;
  function translate(root) {
    var words = window.__mapappWords || {};
    if (!root || !root.querySelectorAll) { return; }
    var els = [root].concat(Array.prototype.slice.call(root.querySelectorAll("*")));
    els.forEach(function (el) {
      ["aria-label", "title", "placeholder"].forEach(function (attr) {
        var v = el.getAttribute && el.getAttribute(attr);
        if (v && Object.prototype.hasOwnProperty.call(words, v)) { el.setAttribute(attr, words[v]); }
        if (v && v.indexOf("Help for ") === 0 && words["Help for "]) {
          el.setAttribute(attr, words["Help for "] + v.slice(9));
        }
      });
      if (el.childNodes.length === 1 && el.firstChild.nodeType === 3 &&
          !(el.closest && el.closest("[data-testid=stMarkdownContainer]"))) {
        var text = el.firstChild.nodeValue;
        if (Object.prototype.hasOwnProperty.call(words, text)) { el.firstChild.nodeValue = words[text]; }
      }
    });
  }
  translate(d.body);
  if (!window.__mapappObserver) {
    window.__mapappObserver = new MutationObserver(function (records) {
      records.forEach(function (r) {
        if (r.type === "attributes") { translate(r.target); }
        r.addedNodes && r.addedNodes.forEach(function (n) { if (n.nodeType === 1) { translate(n); } });
      });
    });
    window.__mapappObserver.observe(d.body, {
      subtree: true, childList: true, attributes: true,
      attributeFilter: ["aria-label", "title", "placeholder"]
    });
  }
  var bar = d.getElementById("mapapp-sos");
  if (!bar) {
    bar = d.createElement("nav");
    bar.id = "mapapp-sos";
    d.body.insertBefore(bar, d.body.firstChild);
  }
  bar.setAttribute("aria-label", SOS_LABEL);
  bar.textContent = "";
  var head = d.createElement("span");
  head.textContent = SOS_LABEL + " :";
  bar.appendChild(head);
  SOS.forEach(function (n) {
    var link = d.createElement("a");
    link.href = n[1];
    link.textContent = n[0];
    link.title = n[2];
    link.setAttribute("aria-label", n[0] + " : " + n[2]);
    bar.appendChild(link);
  });
  function leave(ev) {
    if (ev) { ev.preventDefault(); }
    try { window.localStorage.clear(); } catch (e) {}
    try { window.sessionStorage.clear(); } catch (e) {}
    try {
      d.cookie.split(";").forEach(function (c) {
        var name = c.split("=")[0].trim();
        if (name) { d.cookie = name + "=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/"; }
      });
    } catch (e) {}
    try { d.title = ""; d.body.style.visibility = "hidden"; } catch (e) {}
    window.location.replace(URL);
  }
  if (!d.getElementById(ID + "-style")) {
    var s = d.createElement("style");
    s.id = ID + "-style";
    s.textContent = "#" + ID + "{position:fixed;top:.55rem;right:3.6rem;z-index:1000020;" +
      "background:#b91c1c;color:#fff;font:600 15px/1.2 system-ui,sans-serif;" +
      "padding:.5rem .9rem;border-radius:.45rem;text-decoration:none;" +
      "box-shadow:0 1px 4px rgba(0,0,0,.35)}" +
      "#" + ID + ":hover{background:#991b1b}" +
      "#" + ID + ":focus-visible{outline:3px solid #facc15;outline-offset:2px}" +
      "#mapapp-sos{position:fixed;top:3.75rem;left:0;right:0;z-index:1000010;" +
      "display:flex;flex-wrap:wrap;align-items:center;gap:.15rem .8rem;" +
      "padding:.3rem 1rem;background:#fff7ed;border-bottom:1px solid #fdba74;" +
      "font:600 15px/1.4 system-ui,sans-serif;color:#7c2d12}" +
      "#mapapp-sos a{color:#9a3412;text-decoration:underline}" +
      // Streamlit's grey captions (#828180) fall short of WCAG AA contrast (3.9:1).
      "[data-testid=stCaptionContainer],[data-testid=stCaptionContainer] *{color:#4d4d4d;opacity:1}" +
      "#mapapp-sos a:focus-visible{outline:3px solid #1d4ed8;outline-offset:2px}" +
      "[data-testid=stMainBlockContainer]{padding-top:6.5rem}" +
      "@media (max-width:640px){.st-key-emergency_full{display:none}" +
      "[data-testid=stMainBlockContainer]{padding-top:7rem}}";
    d.head.appendChild(s);
  }
  var a = d.getElementById(ID);
  if (!a) {
    a = d.createElement("a");
    a.id = ID;
    a.href = URL;
    a.rel = "noreferrer noopener";
    a.addEventListener("click", leave);
    d.body.insertBefore(a, d.body.firstChild);
    // Moving between views replaces the history entry instead of adding one:
    // location.replace then leaves no page of the app behind the Back button.
    try {
      var H = window.history;
      H.pushState = function (s, t, u) { return History.prototype.replaceState.call(H, s, t, u); };
    } catch (e) {}
    var presses = [];
    d.addEventListener("keydown", function (e) {
      if (e.key !== "Shift" || e.repeat) { return; }
      var el = d.activeElement, tag = el && el.tagName;
      if (tag === "INPUT" || tag === "TEXTAREA" || (el && el.isContentEditable)) { return; }
      var now = Date.now();
      presses = presses.filter(function (x) { return now - x < 2000; });
      presses.push(now);
      if (presses.length >= 3) { leave(); }
    }, true);
  }
  a.textContent = LABEL;
  a.title = HELP;
})();
</script>"""


def _js_string(text: str) -> str:
    # JSON is a JavaScript string literal; "<", ">" and "&" are escaped too so
    # the text can never close the <script> element.
    return (
        json.dumps(text, ensure_ascii=True)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )


def _js_value(value: object) -> str:
    """A JSON value safe inside a <script> element (same escaping as :func:`_js_string`)."""
    return (
        json.dumps(value, ensure_ascii=True)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )


#: Streamlit's own English labels, in French (those no API lets the app set).
STREAMLIT_FR: dict[str, str] = {
    "Skip to main content": "Aller au contenu principal",
    "Choose an option": "Choisir",
    "Choose options": "Choisir",
    "Open": "Ouvrir",
    "Close": "Fermer",
    "Clear all": "Tout effacer",
    "Clear value": "Effacer",
    "Main menu": "Menu principal",
    "Open sidebar": "Ouvrir le menu",
    "Close sidebar": "Fermer le menu",
    "Expand sidebar": "Ouvrir le menu",
    "Collapse sidebar": "Fermer le menu",
    "Running...": "Calcul en cours…",
    "Help for ": "Aide : ",
    "No results": "Aucun résultat",
    "Press Enter to apply": "Appuyez sur Entrée pour valider",
    "Press Enter to submit form": "Appuyez sur Entrée pour envoyer",
}


def _bar_numbers(lang: str) -> list[list[str]]:
    """``[text, href, what it is for]`` for the pinned bar: every number, once.

    Every country's numbers stay visible (safety rule 4), the first country's
    bare and the others' after their country code ("BE 0800 30 030"); a number
    two countries share (112) is shown once.

    Examples
    --------
    >>> [text for text, _, _ in _bar_numbers("fr")][-1]
    'BE 0800 30 030'
    """
    seen: set[str] = set()
    out: list[list[str]] = []
    for i, country in enumerate(load_emergency()):
        for n in country.numbers:
            if n.href in seen:
                continue
            seen.add(n.href)
            text = n.number + (" (SMS)" if n.kind == "sms" else "")
            out.append([text if i == 0 else f"{country.code} {text}", n.href, n.label(lang)])
    return out


def quick_exit_html(lang: str) -> str:
    """The quick-exit script for ``lang`` (constant strings only).

    Examples
    --------
    >>> html = quick_exit_html("en")
    >>> '"Quick exit"' in html, "location.replace" in html
    (True, True)
    """
    help_text = t("quick_exit_help", lang) + " (Shift ×3)"
    sos = _bar_numbers(lang)
    words = STREAMLIT_FR if lang == "fr" else {}
    return (
        _QUICK_EXIT_JS.replace("__LABEL__", _js_string(t("quick_exit", lang)))
        .replace("__HELP__", _js_string(help_text))
        .replace("__URL__", _js_string(QUICK_EXIT_URL))
        .replace("__LANG__", _js_string(lang))
        .replace("__SOS_LABEL__", _js_string(t("emergency_title", lang)))
        .replace("__SOS__", _js_value(sos))
        .replace("__WORDS__", _js_value(words))
    )


def quick_exit(lang: str) -> None:
    """Draw the quick exit, the pinned emergency bar and the page's ``lang`` (every view)."""
    st.html(quick_exit_html(lang), unsafe_allow_javascript=True)


def current_lang() -> Lang:
    """The language chosen with :func:`language_switch` (French by default)."""
    return parse_lang(st.session_state.get(_LANG_KEY, "fr"))


def language_switch() -> Lang:
    """French/English switch; its value is kept for the session (never in the URL)."""
    st.radio(
        t("language", current_lang()),
        options=list(LANGS),
        format_func=lambda code: _LANG_NAMES[code],
        horizontal=True,
        key=_LANG_KEY,
        label_visibility="collapsed",
    )
    return current_lang()


def emergency_markdown(countries: tuple[Country, ...], lang: str) -> str:
    """One Markdown line of ``tel:``/``sms:`` links for every configured number.

    Examples
    --------
    >>> md = emergency_markdown(load_emergency(), "fr")
    >>> "[**3919**](tel:3919)" in md, "[**114**](sms:114)" in md
    (True, True)
    """
    parts = []
    for country in countries:
        links = " · ".join(
            f"[**{n.number}**]({n.href}) {escape_markdown(n.label(lang))}" for n in country.numbers
        )
        parts.append(f"{escape_markdown(country.label(lang))} : {links}")
    return f":material/emergency: **{t('emergency_title', lang)}** — " + " — ".join(parts)


def emergency_bar(lang: str) -> None:
    """Emergency numbers with what each is for, on every view (phones: the pinned bar only)."""
    with st.container(key="emergency_full"):
        st.markdown(emergency_markdown(load_emergency(), lang))


def demo_banner(lang: str) -> None:
    """The demonstration-data warning."""
    st.warning(t("demo_banner", lang), icon=":material/science:")


def show_errors(run: Callable[[], None], lang: str) -> None:
    """Call ``run`` (a page, or a part of one rerun alone), showing a mapapp error as a message.

    Never logged: a message may quote what the person typed.  Only operator
    problems (configuration, store), which quote no user input, are shown in
    full so that whoever deploys the app can fix them.
    """
    try:
        run()
    except MapappError as exc:
        st.error(t("error_generic", lang))
        if isinstance(exc, ConfigurationError | StoreError):
            st.caption(str(exc))
