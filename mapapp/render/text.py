"""Text from data made inert for where it is shown: Streamlit Markdown, HTML/JS, plain text.

Why one module: a service name travels to a card (Markdown), a map tooltip
(HTML inside a JavaScript template literal, rendered through Jinja2) and a
printed sheet (plain text).  Each destination has one escaping function here;
nothing else in mapapp escapes text (DOMAIN.md, safety rule 5).

Examples
--------
>>> escape_markdown("**gras** [lien](javascript:x) :red[rouge] $x$")
'\\\\*\\\\*gras\\\\*\\\\* \\\\[lien\\\\]\\\\(javascript\\\\:x\\\\) \\\\:red\\\\[rouge\\\\] \\\\$x\\\\$'
>>> escape_text('<b>"Crèche" ${x} {{7*7}}</b>')
'&lt;b&gt;&quot;Crèche&quot; &#36;&#123;x&#125; &#123;&#123;7*7&#125;&#125;&lt;/b&gt;'
>>> plain_text("Crèche\\u202e du\\nparc ")
'Crèche du parc'
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["escape_markdown", "escape_text", "plain_text"]

# Every ASCII punctuation character may be backslash-escaped in CommonMark;
# escaping them all leaves no Markdown, HTML, link, emoji shortcode
# (":smile:"), colour directive (":red[...]") or math ("$...$") syntax alive.
_MD_SPECIAL = re.compile(r"([!-/:-@\[-`{-~])")
#: The same escaping as one table (``str.translate``): a card's Markdown escapes
#: about 30 strings, and a regular expression's replacement template cost
#: ten times more per string (issue 14).  A test checks both agree.
_MD_TABLE = {
    c: "\\" + chr(c) for c in range(0x21, 0x7F) if _MD_SPECIAL.fullmatch(chr(c)) is not None
}
_CONTROLS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufeff\u200e\u200f"
    "\u202a-\u202e\u2066-\u2069\u061c]"
)
_LINE_BREAKS = re.compile("[\t\n\r\u2028\u2029\x85]+")


def escape_markdown(text: Any) -> str:
    """``text`` shown literally by Streamlit's Markdown (one line, no markup).

    Controls and bidirectional overrides are dropped, line breaks become
    spaces, and every ASCII punctuation character is backslash-escaped.

    Examples
    --------
    >>> print(escape_markdown("<b>alert(1)</b>"))
    \\<b\\>alert\\(1\\)\\<\\/b\\>
    >>> escape_markdown(None), escape_markdown("Crèche\\u202e du\\nparc")
    ('', 'Crèche du parc')
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    clean = _LINE_BREAKS.sub(" ", _CONTROLS.sub("", str(text))).strip()
    return clean.translate(_MD_TABLE)


# C0/C1 controls (but tab/newlines, handled below), lone surrogates, byte-order
# mark, and the bidirectional controls that can make a text display as
# something else ("RTL override" spoofing).
_DROP = _CONTROLS
_SPACE = re.compile("[\t\n\r\u2028\u2029\x85]+")
_ENTITIES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&#39;",
    "`": "&#96;",  # ends a JavaScript template literal
    "$": "&#36;",  # starts ${...} in a template literal
    "\\": "&#92;",  # escapes in JavaScript strings
    "{": "&#123;",  # Jinja2 {{ }}, {% %}, {# #}
    "}": "&#125;",
}
_ESCAPE = re.compile("[&<>\"'`$\\\\{}]")


def escape_text(s: str | None, *, max_len: int | None = None) -> str:
    """Text made inert for HTML, JavaScript template literals and Jinja2 at once.

    Control characters, lone surrogates and bidirectional overrides are
    dropped; tabs and line breaks (``\\n``, ``\\u2028``...) become one space.
    The special characters of the three contexts become numeric or named
    HTML entities, which a browser shows as the original characters, so
    ``html.unescape(escape_text(s))`` gives back the cleaned text.

    Parameters
    ----------
    s : str or None
        Any text (None gives ``""``).
    max_len : int, keyword-only, optional
        Cut the cleaned text to this many characters (an ellipsis included)
        *before* escaping, so an entity is never cut in half.

    Examples
    --------
    >>> escape_text("a`b\\u2028c\\u202ed\\x00e")
    'a&#96;b cde'
    >>> escape_text("Épicerie solidaire du quartier", max_len=10)
    'Épicerie …'
    """
    if s is None:
        return ""
    text = _SPACE.sub(" ", _DROP.sub("", str(s)))
    if max_len is not None and len(text) > max_len:
        text = text[: max(max_len - 1, 0)] + "…"
    return _ESCAPE.sub(lambda m: _ENTITIES[m.group(0)], text)


def plain_text(text: str) -> str:
    """``text`` on one line, without control or bidirectional characters."""
    return _LINE_BREAKS.sub(" ", _CONTROLS.sub("", text)).strip()
