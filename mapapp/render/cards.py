"""Search results made ready to show: cards and resource sheets (text, CSV).

Why a pure module: pages stay thin (they only lay cards out), and everything
that decides *what* a person reads (labels in her language, distances "as the
crow flies", opening hours in words, phone links, the printable sheet) is
tested without Streamlit.  Inputs are rows of the public view
(:func:`mapapp.safety.public_view`): a confidential record arrives here
already without its street or own phone.

Text from data is never trusted: pages show card fields through
:func:`mapapp.render.text.escape_markdown`, links are made only by
:func:`mapapp.safety.safe_url` / :func:`mapapp.safety.tel_url`, and the CSV
is written by :mod:`mapapp.csv_export` (no cell runs as a formula).

Examples
--------
>>> format_hours("Mo-Fr 09:00-12:00,14:00-17:00; Sa 09:00-12:00", "fr")
'lun.-ven. 09:00-12:00, 14:00-17:00 ; sam. 09:00-12:00'
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from mapapp.csv_export import csv_text
from mapapp.emergency import Country
from mapapp.i18n import format_km, t, vocab_label
from mapapp.render.text import escape_markdown, plain_text
from mapapp.taxonomy import ActorType, Obstacle

__all__ = [
    "Card",
    "CardMarkdown",
    "card_markdown",
    "cards_from_frame",
    "format_hours",
    "sheet_csv",
    "sheet_text",
]

_DAYS = {
    "fr": {
        "Mo": "lun.",
        "Tu": "mar.",
        "We": "mer.",
        "Th": "jeu.",
        "Fr": "ven.",
        "Sa": "sam.",
        "Su": "dim.",
        "PH": "jours fériés",
        "off": "fermé",
    },
    "en": {
        "Mo": "Mon",
        "Tu": "Tue",
        "We": "Wed",
        "Th": "Thu",
        "Fr": "Fri",
        "Sa": "Sat",
        "Su": "Sun",
        "PH": "public holidays",
        "off": "closed",
    },
}
_DAY_TOKEN = re.compile(r"\b(Mo|Tu|We|Th|Fr|Sa|Su|PH|off)\b")


def format_hours(osm: Any, lang: str = "fr") -> str:
    """OpenStreetMap ``opening_hours`` in plainer words (days named in ``lang``).

    Not a full parser: day abbreviations, separators and ``24/7`` are made
    readable; anything else is shown as written, so nothing is lost.

    Examples
    --------
    >>> format_hours("Tu,Th 09:00-12:30; We 14:00-18:00", "en")
    'Tue, Thu 09:00-12:30 ; Wed 14:00-18:00'
    >>> format_hours("24/7", "fr"), format_hours("", "fr")
    ('24 h/24, 7 j/7', '')
    """
    if not isinstance(osm, str) or not osm.strip():
        return ""
    text = osm.strip()
    if text == "24/7":
        return "24 h/24, 7 j/7" if lang != "en" else "24/7"
    days = _DAYS["en" if lang == "en" else "fr"]
    text = _DAY_TOKEN.sub(lambda m: days[m.group(1)], text)
    text = re.sub(r"\s*;\s*", " ; ", text)
    text = re.sub(r",(?=\S)", ", ", text)
    return text


@dataclass(frozen=True)
class Card:
    """One service as a person reads it (plain text; escape where it is shown).

    ``*_href`` are links already checked by :mod:`mapapp.safety` (or None).
    ``distance`` is None for remote services.
    """

    id: str
    rank: int | None
    name: str
    type_label: str
    obstacles: tuple[str, ...]
    distance: str | None
    distance_km: float | None
    address: str
    phone: str
    phone_href: str | None
    hours: str
    email: str
    email_href: str | None
    website: str
    website_href: str | None
    publics: tuple[str, ...]
    frais: tuple[str, ...]
    modes: tuple[str, ...]
    description: str
    structure: str
    updated: str
    source: str
    confidential: bool
    lat: float
    lon: float
    #: reserved childcare places, e.g. "2 places réservées libres (confirmé hier)"
    reserved: str = ""


def _str(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _seq(value: Any) -> list[str]:
    if value is None or isinstance(value, str | float):
        return [value] if isinstance(value, str) and value else []
    return [str(v) for v in value]


def _type_label(code: str, lang: str) -> str:
    try:
        return ActorType(code).label(lang)
    except ValueError:
        return code


def _obstacle_labels(codes: Iterable[str], lang: str) -> tuple[str, ...]:
    out = []
    for code in codes:
        try:
            out.append(Obstacle(code).label(lang))
        except ValueError:
            out.append(code)
    return tuple(out)


def _address(row: pd.Series) -> str:
    street = ", ".join(
        p for p in (_str(row.get("adresse")), _str(row.get("complement_adresse"))) if p
    )
    town = " ".join(p for p in (_str(row.get("code_postal")), _str(row.get("commune"))) if p)
    return ", ".join(p for p in (street, town) if p)


def cards_from_frame(frame: pd.DataFrame, *, lang: str = "fr", ranked: bool = True) -> list[Card]:
    """Cards for rows of a (public) results frame, in order.

    Parameters
    ----------
    frame : DataFrame
        Rows of the public view, with ``distance_km`` for in-person results.
    lang : {"fr", "en"}, keyword-only
    ranked : bool, keyword-only
        Number the cards 1, 2, ... (the numbers drawn on the map).

    Examples
    --------
    >>> from mapapp.schema import actors_frame
    >>> f = actors_frame([{"id": "x:1", "nom": "CIDFF", "actor_type": "cidff",
    ...     "obstacles": ["violences"], "telephone": "01 99 00 00 01",
    ...     "adresse": "1 rue A", "code_postal": "93200", "commune": "Saint-Denis",
    ...     "horaires_accueil": "Mo 09:00-12:00"}])
    >>> f["distance_km"] = [2.25]
    >>> c = cards_from_frame(f, lang="fr")[0]
    >>> c.rank, c.type_label, c.obstacles, c.distance, c.phone_href, c.hours
    (1, 'CIDFF (droits des femmes)', ('Violences, séparation',), '2,2 km', 'tel:0199000001', 'lun. 09:00-12:00')
    >>> c.address
    '1 rue A, 93200 Saint-Denis'

    A record located only to its commune has no distance of its own:

    >>> f.loc[0, "precision"] = "commune"
    >>> c = cards_from_frame(f, lang="fr")[0]
    >>> c.distance, c.address
    (None, 'adresse précise non connue, dans la commune de Saint-Denis')
    """
    # Imported here so that the app's first page (no search yet) does not
    # wait for geopandas, which mapapp.safety needs.
    from mapapp.reserved_view import card_reserved
    from mapapp.safety import safe_url, tel_url
    from mapapp.servicecard import text as card_text

    now = datetime.now(UTC)
    out: list[Card] = []
    has_distance = "distance_km" in frame.columns
    for i, (_, row) in enumerate(frame.iterrows()):
        km = float(row["distance_km"]) if has_distance and pd.notna(row["distance_km"]) else None
        # located only to its commune: the commune's centre is not where it is
        precise = _str(row.get("precision")) in ("address", "")
        commune = _str(row.get("commune"))
        address = _address(row)
        if not precise and commune:
            address = card_text("commune_only", lang, commune=commune)
        phone = _str(row.get("telephone"))
        email = _str(row.get("courriel"))
        website = _str(row.get("site_web"))
        email_href = safe_url(f"mailto:{email}") if email else None
        out.append(
            Card(
                id=_str(row.get("id")),
                rank=i + 1 if ranked else None,
                name=_str(row.get("nom")) or _str(row.get("structure_nom")),
                type_label=_type_label(_str(row.get("actor_type")), lang),
                obstacles=_obstacle_labels(_seq(row.get("obstacles")), lang),
                distance=(
                    format_km(km, lang)
                    if precise and km is not None and math.isfinite(km)
                    else None
                ),
                distance_km=km,
                address=address,
                phone=phone,
                phone_href=tel_url(phone),
                hours=format_hours(row.get("horaires_accueil"), lang),
                email=email,
                email_href=email_href,
                website=website,
                website_href=safe_url(website),
                publics=tuple(vocab_label("publics", p, lang) for p in _seq(row.get("publics"))),
                frais=tuple(vocab_label("frais", p, lang) for p in _seq(row.get("frais"))),
                modes=tuple(
                    vocab_label("modes_accueil", p, lang) for p in _seq(row.get("modes_accueil"))
                ),
                description=_str(row.get("description")),
                structure=_str(row.get("structure_nom")),
                updated=_str(row.get("date_maj")),
                source=_str(row.get("source")),
                confidential=bool(row.get("confidential", False)),
                lat=float(row.get("latitude", math.nan)),
                lon=float(row.get("longitude", math.nan)),
                reserved=card_reserved(row, lang, now),
            )
        )
    return out


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


def _details_markdown(card: Card, lang: str) -> str:
    rows: list[tuple[str, str]] = [
        (t("field_type", lang), escape_markdown(card.type_label)),
        (t("field_obstacles", lang), escape_markdown(", ".join(card.obstacles))),
    ]
    if card.distance:
        rows.append((t("field_distance", lang), f"{card.distance} ({t('distance_note', lang)})"))
    rows += [
        (t("field_address", lang), escape_markdown(card.address)),
        (t("field_phone", lang), _link(card.phone, card.phone_href)),
        (t("field_hours", lang), escape_markdown(card.hours)),
        (t("field_email", lang), _link(card.email, card.email_href) if card.email_href else ""),
        (
            t("field_website", lang),
            _link(card.website_href or "", card.website_href) if card.website_href else "",
        ),
        (t("field_publics", lang), escape_markdown(", ".join(card.publics))),
        (t("field_frais", lang), escape_markdown(", ".join(card.frais))),
        (t("field_modes", lang), escape_markdown(", ".join(card.modes))),
        (t("field_structure", lang), escape_markdown(card.structure)),
        (t("field_description", lang), escape_markdown(card.description)),
        (t("field_updated", lang), escape_markdown(card.updated)),
        (t("field_source", lang), escape_markdown(card.source)),
        (t("field_ref", lang), escape_markdown(card.id)),
    ]
    return "  \n".join(f"**{label}** : {value}" for label, value in rows if value)


def card_markdown(card: Card, lang: str = "fr") -> CardMarkdown:
    """The Markdown a page shows for ``card`` (title, meta line, summary, all details).

    Examples
    --------
    >>> from mapapp.schema import actors_frame
    >>> f = actors_frame([{"id": "x:1", "nom": "<b>Crèche</b>", "telephone": "01 99 00 00 01"}])
    >>> md = card_markdown(cards_from_frame(f)[0])
    >>> md.title
    '**1. \\\\<b\\\\>Crèche\\\\<\\\\/b\\\\>**'
    >>> "[01 99 00 00 01](<tel:0199000001>)" in md.summary
    True
    """
    head = f"{card.rank}. " if card.rank is not None else ""
    meta = [escape_markdown(card.type_label)]
    if card.distance:
        meta.append(f"**{escape_markdown(card.distance)}** {t('distance_note', lang)}")
    lines = []
    if card.obstacles:
        lines.append(f":material/check_circle: {escape_markdown(', '.join(card.obstacles))}")
    if card.address:
        lines.append(f":material/location_on: {escape_markdown(card.address)}")
    phone = _link(card.phone, card.phone_href) if card.phone else t("no_phone", lang)
    lines.append(f":material/call: {phone}")
    hours = escape_markdown(card.hours) if card.hours else t("hours_unknown", lang)
    lines.append(f":material/schedule: {hours}")
    if card.reserved:
        lines.append(f":material/child_care: {escape_markdown(card.reserved)}")
    return CardMarkdown(
        title=f"**{head}{escape_markdown(card.name)}**",
        meta=" · ".join(meta),
        summary="  \n".join(lines),
        details=_details_markdown(card, lang),
    )


def _sheet_card(card: Card, lang: str) -> list[str]:
    head = f"{card.rank}. " if card.rank is not None else "- "
    lines = [f"{head}{plain_text(card.name)} ({plain_text(card.type_label)})"]
    pad = " " * len(head)
    if card.distance:
        lines.append(
            f"{pad}{t('field_distance', lang)} : {card.distance} ({t('distance_note', lang)})"
        )
    if card.obstacles:
        lines.append(f"{pad}{t('field_obstacles', lang)} : {', '.join(card.obstacles)}")
    if card.address:
        lines.append(f"{pad}{t('field_address', lang)} : {plain_text(card.address)}")
    if card.confidential:
        lines.append(f"{pad}{t('confidential_note', lang)}")
    if card.phone:
        lines.append(f"{pad}{t('field_phone', lang)} : {plain_text(card.phone)}")
    if card.hours:
        lines.append(f"{pad}{t('field_hours', lang)} : {plain_text(card.hours)}")
    if card.reserved:
        lines.append(f"{pad}{card.reserved}")
    if card.email_href:
        lines.append(f"{pad}{t('field_email', lang)} : {plain_text(card.email)}")
    if card.website_href:
        lines.append(f"{pad}{t('field_website', lang)} : {card.website_href}")
    return lines


def sheet_text(
    cards: Sequence[Card],
    *,
    lang: str = "fr",
    place: str = "",
    needs: Sequence[str] = (),
    remote: Sequence[Card] = (),
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


def sheet_csv(cards: Sequence[Card], *, lang: str = "fr") -> str:
    """The results as CSV (one row per card), safe to open in a spreadsheet.

    Examples
    --------
    >>> from mapapp.schema import actors_frame
    >>> f = actors_frame([{"id": "x:1", "nom": "=HYPERLINK(\\"http://x\\")"}])
    >>> print(sheet_csv(cards_from_frame(f, lang="en"), lang="en").splitlines()[1])
    1,"'=HYPERLINK(""http://x"")",Other,,,,,,,
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
    ]
    rows = (
        [
            c.rank if c.rank is not None else "",
            c.name,
            c.type_label,
            ", ".join(c.obstacles),
            f"{c.distance_km:.2f}" if c.distance_km is not None else "",
            c.address,
            c.phone,
            c.hours,
            c.email if c.email_href else "",
            c.website_href or "",
        ]
        for c in cards
    )
    return csv_text(head, rows)
