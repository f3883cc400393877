"""Cards rendered: Streamlit Markdown for the pages, plain text and CSV for the sheets.

Why a pure module: pages stay thin (they only lay cards out), and how a card
is written for each medium is tested without Streamlit.  *What* a card says
is decided once, in :mod:`mapapp.servicecard` (:class:`ServiceCard` and
:func:`~mapapp.servicecard.card_lines`); this module only dresses those
lines: icons and links for the page, labels for the text sheet.  The PDF
sheet (:mod:`mapapp.render.sheet`) writes the same :func:`card_text` rows.
Inputs are rows of the public view (:func:`mapapp.safety.public_view`): a
confidential record arrives here already without its street or own phone.

Text from data is never trusted: pages show card fields through
:func:`mapapp.render.text.escape_markdown`, links are made only by
:func:`mapapp.safety.safe_url` / :func:`mapapp.safety.tel_url`, and the CSV
is written by :mod:`mapapp.csv_export` (no cell runs as a formula).

Examples
--------
>>> from mapapp.schema import actors_frame
>>> f = actors_frame([{"id": "x:1", "nom": "CIDFF", "telephone": "01 99 00 00 01",
...     "adresse": "1 rue A", "commune": "Saint-Denis"}])
>>> f["distance_km"] = [2.25]
>>> print("\\n".join(card_text(cards_from_frame(f, lang="en")[0], "en")))
1. CIDFF
2.2 km as the crow flies · 1 rue A, Saint-Denis
Phone: 01 99 00 00 01
hours not given
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

import pandas as pd

from mapapp.csv_export import csv_text
from mapapp.emergency import Country
from mapapp.i18n import t
from mapapp.render.text import escape_markdown, plain_text
from mapapp.servicecard import CardLine, ServiceCard, card_lines, card_title, format_hours
from mapapp.servicecard import service_cards as _service_cards

__all__ = [
    "Card",
    "CardMarkdown",
    "card_markdown",
    "card_meta",
    "card_text",
    "cards_from_frame",
    "format_hours",
    "sheet_csv",
    "sheet_text",
]

#: The one card model (see :mod:`mapapp.servicecard`).
Card = ServiceCard

#: Material icon of each kind of line on a page.
_ICONS = {
    "needs": "check_circle",
    "where": "location_on",
    "confidential": "lock",
    "phone": "call",
    "email": "mail",
    "website": "language",
    "source": "open_in_new",
    "contact_unknown": "help",
    "hours": "schedule",
    "today": "today",
    "conditions": "info",
    "reserved": "child_care",
}


def cards_from_frame(
    frame: pd.DataFrame, *, lang: str = "fr", ranked: bool = True, when: datetime | None = None
) -> list[ServiceCard]:
    """Cards for rows of a (public) results frame, in order, with today's hours.

    Parameters
    ----------
    frame : DataFrame
        Rows of the public view, with ``distance_km`` for in-person results.
    lang : {"fr", "en"}, keyword-only
    ranked : bool, keyword-only
        Number the cards 1, 2, ... (the numbers drawn on the map).
    when : datetime, optional, keyword-only
        "Now" for today's hours, read in each service's own time zone; the
        present moment when not given (a search is about today).

    Examples
    --------
    >>> from mapapp.schema import actors_frame
    >>> f = actors_frame([{"id": "x:1", "nom": "CIDFF", "actor_type": "cidff",
    ...     "obstacles": ["violences"], "telephone": "01 99 00 00 01",
    ...     "adresse": "1 rue A", "code_postal": "93200", "commune": "Saint-Denis",
    ...     "horaires_accueil": "Mo 09:00-12:00"}])
    >>> f["distance_km"] = [2.25]
    >>> monday = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    >>> c = cards_from_frame(f, lang="fr", when=monday)[0]
    >>> c.rank, c.type_label, c.needs, c.distance, c.phone_href, c.hours, c.today
    (1, 'CIDFF (droits des femmes)', ('Violences, séparation',), '2,2 km', 'tel:0199000001', 'lun. 09:00-12:00', "aujourd'hui : 09:00-12:00")
    >>> c.where
    '1 rue A, 93200 Saint-Denis'

    A record located only to its commune has no distance of its own:

    >>> f.loc[0, "precision"] = "commune"
    >>> c = cards_from_frame(f, lang="fr")[0]
    >>> c.distance, c.where
    (None, 'adresse précise non connue, dans la commune de Saint-Denis (centre à environ 2,2 km)')
    """
    now = when if when is not None else datetime.now(UTC)
    return _service_cards(frame, lang=lang, when=now, ranked=ranked)


def card_meta(card: ServiceCard, lang: str = "fr") -> str:
    """The line under a card's title: organisation, kind, where the record comes from.

    >>> from mapapp.schema import actors_frame
    >>> c = cards_from_frame(actors_frame([{"id": "a", "nom": "Permis", "source": "dora",
    ...     "structure_nom": "Asso 974", "actor_type": "cidff"}]), lang="en")[0]
    >>> card_meta(c, "en")
    "Asso 974 · CIDFF (women's rights centre) · Source: DORA"
    """
    meta = [m for m in (card.organisation, card.type_label) if m]
    if card.source_name:
        meta.append(f"{t('field_source', lang)}{t('colon', lang)}{card.source_name}")
    return " · ".join(meta)


def card_text(card: ServiceCard, lang: str = "fr") -> list[str]:
    """The card as plain-text rows (title, meta, then :func:`card_lines`): sheets and the PDF.

    Text from data is left as it is (it is plain text); callers that print it
    strip control characters (:func:`mapapp.render.text.plain_text`).
    """
    rows = [card_title(card)]
    meta = card_meta(card, lang)
    if meta:
        rows.append(meta)
    for line in card_lines(card, lang):
        label = f"{line.label}{t('colon', lang)}" if line.label else ""
        if line.kind == "source" and line.href:
            rows.append(f"{line.text}{t('colon', lang)}{line.href}")
        else:
            rows.append(label + line.text)
    return rows


@dataclass(frozen=True)
class CardMarkdown:
    """A card as Streamlit Markdown: every piece of data escaped, links checked."""

    title: str
    meta: str
    summary: str
    details: str


def _link(label: str, href: str | None) -> str:
    # ``href`` comes from mapapp.safety (checked scheme, no spaces, quotes or
    # angle brackets); the <...> form keeps parentheses inside it harmless.
    text = escape_markdown(label)
    return f"[{text}](<{href}>)" if href else text


#: Lines written once per server process and reused (see :func:`_line_markdown`).
#: Their text is the service's own public record (phone, hours, conditions...):
#: never a distance, which says where the person searched from.
_SHARED_LINES = frozenset({"needs", "phone", "email", "website", "source", "hours", "conditions"})


@lru_cache(maxsize=8192)
def _shared_line(kind: str, text: str, href: str | None) -> str:
    return f":material/{_ICONS.get(kind, 'info')}: {_link(text, href)}"


def _line_markdown(card: ServiceCard, line: CardLine) -> str:
    """One summary line with its icon.

    Why a cache for some: fifty sessions searching at once show many of the
    same services, and escaping every line again was a tenth of a search's
    server CPU (issue 14).  Only lines holding nothing but the record's own
    text are kept (:data:`_SHARED_LINES`); the address line starts with the
    distance from her place and is written for her alone.
    """
    if line.kind in _SHARED_LINES:
        return _shared_line(line.kind, line.text, line.href)
    text = _link(line.text, line.href)
    if line.kind == "where" and card.distance and line.text.startswith(card.distance):
        rest = escape_markdown(line.text[len(card.distance) :])
        text = f"**{escape_markdown(card.distance)}** {rest}"
    elif line.kind == "today":
        text = f"**{text}**"
    return f":material/{_ICONS.get(line.kind, 'info')}: {text}"


def _details_markdown(card: ServiceCard, lang: str) -> str:
    """The card's details; all but the address written once per process and reused.

    The address stays out of the cache: for a record known only to its
    commune it says how far the commune's centre is from her place.
    """
    rows = _detail_rows(
        (
            card.type_label,
            ", ".join(card.needs),
            card.hours,
            ", ".join(card.publics),
            ", ".join(card.frais),
            ", ".join(card.modes),
            card.structure,
            card.description,
            card.updated,
            card.source_name,
            card.id,
        ),
        lang,
    )
    address = _detail_row(t("field_address", lang), card.where)
    return "  \n".join(row for row in (*rows[:2], address, *rows[2:]) if row)


#: The details' labels in order, the address (written apart) left out.
_DETAIL_LABELS = (
    "field_type",
    "field_obstacles",
    "field_hours",
    "field_publics",
    "field_frais",
    "field_modes",
    "field_structure",
    "field_description",
    "field_updated",
    "field_source",
    "field_ref",
)


def _detail_row(label: str, value: str) -> str:
    return f"**{escape_markdown(label)}** : {escape_markdown(value)}" if value else ""


@lru_cache(maxsize=4096)
def _detail_rows(values: tuple[str, ...], lang: str) -> tuple[str, ...]:
    """One record's detail rows ("" where empty), keyed on the values themselves.

    Why: the same services come back in many sessions' results; the key being
    the values, a new import that changes a field gets its rows written anew.
    """
    labels = (t(k, lang) for k in _DETAIL_LABELS)
    return tuple(_detail_row(label, value) for label, value in zip(labels, values, strict=True))


def card_markdown(card: ServiceCard, lang: str = "fr") -> CardMarkdown:
    """The Markdown a page shows for ``card`` (title, meta line, summary, all details).

    Examples
    --------
    >>> from mapapp.schema import actors_frame
    >>> f = actors_frame([{"id": "x:1", "nom": "<b>Crèche</b>", "telephone": "01 99 00 00 01"}])
    >>> md = card_markdown(cards_from_frame(f)[0])
    >>> md.title
    '**1\\\\. \\\\<b\\\\>Crèche\\\\<\\\\/b\\\\>**'
    >>> "[01 99 00 00 01](<tel:0199000001>)" in md.summary
    True
    """
    return CardMarkdown(
        title=f"**{escape_markdown(card_title(card))}**",
        meta=escape_markdown(card_meta(card, lang)),
        summary="  \n".join(_line_markdown(card, line) for line in card_lines(card, lang)),
        details=_details_markdown(card, lang),
    )


def _sheet_card(card: ServiceCard, lang: str) -> list[str]:
    rows = [plain_text(row) for row in card_text(card, lang)]
    head = rows[0] if card.rank is not None else f"- {rows[0]}"
    pad = " " * (len(f"{card.rank}. ") if card.rank is not None else 2)
    return [head, *(pad + row for row in rows[1:])]


def sheet_text(
    cards: Sequence[ServiceCard],
    *,
    lang: str = "fr",
    place: str = "",
    needs: Sequence[str] = (),
    remote: Sequence[ServiceCard] = (),
    demo: bool = False,
    emergency: Sequence[Country] = (),
) -> str:
    """A plain-text resource sheet to print or send (no markup, so nothing can run).

    Examples
    --------
    >>> from mapapp.emergency import load_emergency
    >>> text = sheet_text([], lang="en", place="Saint-Denis (93)", demo=True,
    ...                   emergency=load_emergency())
    >>> print(text.splitlines()[0]); "3919" in text, "demonstration" in text
    Resource sheet
    (True, True)
    """
    lines = [t("sheet_title", lang), "=" * len(t("sheet_title", lang))]
    if demo:
        lines.append(t("sheet_demo", lang))
    if place:
        lines.append(t("sheet_around", lang, place=plain_text(place)))
    if needs:
        lines.append(t("sheet_needs", lang, needs=", ".join(needs)))
    lines.append("")
    for card in cards:
        lines.extend(_sheet_card(card, lang))
        lines.append("")
    if remote:
        lines.append(t("remote_header", lang))
        for card in remote:
            lines.extend(_sheet_card(card, lang))
        lines.append("")
    if emergency:
        lines.append(t("emergency_title", lang))
        for country in emergency:
            numbers = " · ".join(
                f"{n.number}{' (SMS)' if n.kind == 'sms' else ''} : {n.label(lang)}"
                for n in country.numbers
            )
            lines.append(f"{country.label(lang)} : {numbers}")
    return "\n".join(lines).rstrip() + "\n"


def sheet_csv(cards: Sequence[ServiceCard], *, lang: str = "fr") -> str:
    """The results as CSV (one row per card), safe to open in a spreadsheet.

    Examples
    --------
    >>> from mapapp.schema import actors_frame
    >>> f = actors_frame([{"id": "x:1", "nom": "=HYPERLINK(\\"http://x\\")"}])
    >>> print(sheet_csv(cards_from_frame(f, lang="en"), lang="en").splitlines()[1])
    1,"'=HYPERLINK(""http://x"")",,,,,,,,,,,
    """
    head = [
        "#",
        t("field_structure", lang),
        t("field_type", lang),
        t("field_obstacles", lang),
        t("field_distance", lang) + " (km)",
        t("field_address", lang),
        t("field_phone", lang),
        t("field_hours", lang),
        t("field_email", lang),
        t("field_website", lang),
        t("field_today", lang),
        t("field_conditions", lang),
        t("card_source_page", lang),
    ]
    rows = (
        [
            c.rank if c.rank is not None else "",
            c.name,
            c.type_label,
            ", ".join(c.needs),
            f"{c.distance_km:.2f}" if c.distance_km is not None else "",
            c.where,
            c.phone,
            c.hours,
            c.email,
            c.website_href or "",
            c.today,
            c.conditions,
            c.source_href or "",
        ]
        for c in cards
    )
    return csv_text(head, rows)
