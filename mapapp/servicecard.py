"""What a card says: one model of a service as a person can act on it, for every rendering.

Why one model: the search page, the plan, the printed sheet (PDF), the
plain-text sheet, the plan's command and the light page all tell the same
facts about a service: who it is, where it is (honestly), how to reach it,
when it opens (today too, in its own time zone), on what terms.  They are
decided here once, in French or English, from rows of the public view
(:func:`mapapp.catalog.load_public_actors`), as :class:`ServiceCard`; and
:func:`card_lines` says, once, which lines a card shows and in what order.
Renderers (:mod:`mapapp.render.cards` for Markdown and plain text,
:mod:`mapapp.render.sheet` for the PDF) only dress those lines for their
medium.  Every value is plain text; whoever shows it escapes it for its
medium.  Links come only from :func:`mapapp.safety.safe_url` /
:func:`mapapp.safety.tel_url`.

Honesty rules:

* a record located only to its commune (``precision`` ``commune``: a
  confidential shelter, or a record without an address) has no distance of
  its own: it says "adresse précise non connue, dans la commune de …" and,
  when that commune's centre is 1 km away or more, how far that centre is;
* a confidential record gives its referral phone; its street and its
  source page (which may show the street) never arrive here: the one
  privacy rule is :func:`mapapp.safety.public_view`;
* a service whose organisation is missing from the source shows its own
  name and where the record comes from, never a generic "other structure";
* no phone, e-mail, website or source page: "contact inconnu".

Examples
--------
>>> from mapapp.schema import actors_frame
>>> f = actors_frame([{"id": "fredo:1", "source": "fredo", "nom": "Aide au permis",
...     "code_insee": "97411", "commune": "Saint-Denis", "precision": "commune",
...     "obstacles": ["mobilite"], "frais": ["gratuit"]}])
>>> f["distance_km"] = [0.0]
>>> c = service_cards(f, lang="fr")[0]
>>> c.name, c.organisation, c.distance, c.where
('Aide au permis', '', None, 'adresse précise non connue, dans la commune de Saint-Denis')
>>> c.contact_unknown, c.conditions
(True, 'Frais : Gratuit')
>>> service_cards(f, lang="en")[0].where
'exact address unknown, in the commune of Saint-Denis'
>>> [(line.kind, line.text) for line in card_lines(c, "fr")]  # doctest: +NORMALIZE_WHITESPACE
[('needs', 'Mobilité'),
 ('where', 'adresse précise non connue, dans la commune de Saint-Denis'),
 ('contact_unknown', 'contact inconnu'), ('hours', 'horaires non renseignés'),
 ('conditions', 'Frais : Gratuit')]
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, cast

import pandas as pd

from mapapp.hours import day_hours, local_time, time_zone
from mapapp.i18n import format_km, t, vocab_label
from mapapp.taxonomy import ActorType, Obstacle

#: One row of the public view, as the card builders read it (a plain dict per row).
Row = Mapping[str, Any]

__all__ = [
    "LINE_KINDS",
    "SOURCE_NAMES",
    "CardLine",
    "ServiceCard",
    "card_lines",
    "card_title",
    "format_hours",
    "service_cards",
]

#: Where a record comes from, as people know it (data·inclusion ``source`` slugs).
SOURCE_NAMES: dict[str, str] = {
    "dora": "DORA",
    "fredo": "Fredo (annuaire de La Réunion)",
    "monenfant": "monenfant.fr (CAF)",
    "france-travail": "France Travail",
    "mediation-numerique": "Cartographie nationale de la médiation numérique",
    "action-logement": "Action Logement",
    "mes-aides": "Mes Aides",
    "odspep": "ODSPEP",
    "soliguide": "Soliguide",
    "emplois-de-linclusion": "Les emplois de l'inclusion",
    "lemarche": "Le marché de l'inclusion",
    "datainclusion": "data·inclusion",
    "demo": "démonstration / demo",
}
#: Sources that are themselves the organisation of their services.
_SOURCE_IS_ORGANISATION = {"france-travail": "France Travail", "action-logement": "Action Logement"}

#: The lines a card may show, in the order it shows them.
LINE_KINDS: tuple[str, ...] = (
    "needs",
    "where",
    "confidential",
    "phone",
    "email",
    "website",
    "source",
    "contact_unknown",
    "hours",
    "today",
    "conditions",
    "reserved",
)

_DAY_TOKEN = re.compile(r"\b(Mo|Tu|We|Th|Fr|Sa|Su|PH|off)\b")


def format_hours(osm: Any, lang: str = "fr") -> str:
    """OpenStreetMap ``opening_hours`` in plainer words (days named in ``lang``).

    Not a full parser: day abbreviations, separators and ``24/7`` are made
    readable; anything else is shown as written, so nothing is lost.

    Examples
    --------
    >>> format_hours("Mo-Fr 09:00-12:00,14:00-17:00; Sa 09:00-12:00", "fr")
    'lun.-ven. 09:00-12:00, 14:00-17:00 ; sam. 09:00-12:00'
    >>> format_hours("Tu,Th 09:00-12:30; We 14:00-18:00", "en")
    'Tue, Thu 09:00-12:30 ; Wed 14:00-18:00'
    >>> format_hours("24/7", "fr"), format_hours("", "fr")
    ('24 h/24, 7 j/7', '')
    """
    if not isinstance(osm, str) or not osm.strip():
        return ""
    text = osm.strip()
    if text == "24/7":
        return t("osm_24_7", lang)
    text = _DAY_TOKEN.sub(lambda m: t(f"osm_{m.group(1)}", lang), text)
    text = re.sub(r"\s*;\s*", " ; ", text)
    return re.sub(r",(?=\S)", ", ", text)


@dataclass(frozen=True)
class ServiceCard:
    """One service, ready to read.  Plain text; ``*_href`` are checked links or None.

    ``rank`` is the number drawn on the search map (None elsewhere);
    ``distance`` is None for a remote service and for one located only to its
    commune (``where`` then says so); ``today`` is empty when today's hours are
    unknown or no "now" was given.
    """

    id: str
    rank: int | None
    name: str
    organisation: str
    type_label: str
    source_name: str
    needs: tuple[str, ...]
    need_codes: tuple[str, ...]
    distance_km: float | None
    distance: str | None
    where: str
    commune: str
    precise: bool
    confidential: bool
    confidential_note: str
    phone: str
    phone_href: str | None
    email: str
    email_href: str | None
    website_href: str | None
    source_href: str | None
    hours: str
    today: str
    publics: tuple[str, ...]
    frais: tuple[str, ...]
    modes: tuple[str, ...]
    conditions: str
    contact_unknown: bool
    structure: str
    description: str
    updated: str
    source: str
    lat: float
    lon: float
    #: reserved childcare places, e.g. "2 places réservées libres (confirmé hier)"
    reserved: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN coordinates become None)."""
        out = asdict(self)
        for k in ("lat", "lon", "distance_km"):
            v = out[k]
            out[k] = None if v is None or not math.isfinite(v) else round(float(v), 6)
        for k in ("needs", "need_codes", "publics", "frais", "modes"):
            out[k] = list(out[k])
        return out


@dataclass(frozen=True)
class CardLine:
    """One line of a card: its kind (:data:`LINE_KINDS`), its text, its link, its label.

    ``label`` names the field for renderings without icons (the sheets:
    "Téléphone : …"); empty when the text speaks for itself.
    """

    kind: str
    text: str
    href: str | None = None
    label: str = ""


def card_title(card: ServiceCard) -> str:
    """The card's heading: its number on the map, if any, and its name.

    >>> from mapapp.schema import actors_frame
    >>> card_title(service_cards(actors_frame([{"id": "a", "nom": "CIDFF"}]), ranked=True)[0])
    '1. CIDFF'
    """
    return f"{card.rank}. {card.name}" if card.rank is not None else card.name


def card_lines(card: ServiceCard, lang: str = "fr") -> list[CardLine]:
    """What ``card`` says below its title, in :data:`LINE_KINDS` order (plain text).

    Every rendering (search page, plan, PDF sheet, text sheet) shows exactly
    these lines; only the dressing differs (icons, labels, escaping).
    """
    where = card.where
    if card.distance:
        where = f"{card.distance} {t('distance_note', lang)} · {where}" if where else card.distance
    lines = [CardLine("needs", ", ".join(card.needs), label=t("field_obstacles", lang))]
    lines.append(CardLine("where", where))
    lines.append(CardLine("confidential", card.confidential_note))
    lines.append(CardLine("phone", card.phone, card.phone_href, t("field_phone", lang)))
    lines.append(CardLine("email", card.email, card.email_href, t("field_email", lang)))
    website = card.website_href or ""
    lines.append(CardLine("website", website, card.website_href, t("field_website", lang)))
    source_label = t("card_source_page", lang)
    lines.append(CardLine("source", source_label if card.source_href else "", card.source_href))
    unknown = t("card_contact_unknown", lang) if card.contact_unknown else ""
    lines.append(CardLine("contact_unknown", unknown))
    hours_label = t("field_hours", lang) if card.hours else ""
    lines.append(CardLine("hours", card.hours or t("hours_unknown", lang), label=hours_label))
    lines.append(CardLine("today", card.today))
    lines.append(CardLine("conditions", card.conditions))
    lines.append(CardLine("reserved", card.reserved))
    return [line for line in lines if line.text]


def _str(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return " ".join(str(value).split())


def _seq(value: Any) -> list[str]:
    if value is None or isinstance(value, float):
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value]


def _labels(codes: Iterable[str], lang: str) -> tuple[str, ...]:
    out = []
    for code in codes:
        try:
            out.append(Obstacle(code).label(lang))
        except ValueError:
            out.append(code)
    return tuple(out)


def _where(row: Row, km: float | None, lang: str) -> tuple[str, bool]:
    precision = _str(row.get("precision"))
    commune = _str(row.get("commune"))
    street = ", ".join(
        p for p in (_str(row.get("adresse")), _str(row.get("complement_adresse"))) if p
    )
    town = " ".join(p for p in (_str(row.get("code_postal")), commune) if p)
    if precision in ("address", ""):
        return ", ".join(p for p in (street, town) if p), True
    if precision == "approximate" and street:
        # the street is known, the point is not (see SearchIndex.approximate)
        return f"{street}, {town} ({t('card_approximate', lang)})", False
    if not commune:
        return t("card_commune_unknown", lang), False
    note = t("card_commune_only", lang, commune=commune)
    if km is not None and math.isfinite(km) and km >= 1:
        note += " (" + t("card_centre_at", lang, km=format_km(km, lang)) + ")"
    return note, False


def _today(hours: str, row: Row, when: datetime | None, lang: str) -> str:
    if not hours or when is None:
        return ""
    zone = time_zone(_str(row.get("code_insee")), _str(row.get("code_postal")))
    spans = day_hours(hours, local_time(when, zone).date())
    if spans is None:
        return ""
    if not spans:
        return t("card_closed_today", lang)
    return t("card_today", lang, hours=", ".join(spans))


def _vocab(row: Row, vocab: str, lang: str) -> tuple[str, ...]:
    return tuple(vocab_label(vocab, v, lang) for v in _seq(row.get(vocab)))


def _conditions(
    publics: tuple[str, ...], frais: tuple[str, ...], modes: tuple[str, ...], lang: str
) -> str:
    if modes == (vocab_label("modes_accueil", "en-presentiel", lang),):
        modes = ()  # the default says nothing
    parts = [
        f"{t(key, lang)}{t('colon', lang)}{', '.join(values)}"
        for key, values in (("card_publics", publics), ("card_frais", frais), ("card_modes", modes))
        if values
    ]
    return " · ".join(parts)


def _type_label(code: str, lang: str) -> str:
    if not code or code == ActorType.AUTRE.value:
        return ""
    try:
        return ActorType(code).label(lang)
    except ValueError:
        return ""


def _organisation(structure: str, nom: str, source: str) -> str:
    """The organisation, unless the service's name already says it."""
    if not structure:
        return _SOURCE_IS_ORGANISATION.get(source, "")
    return structure if structure.split(" (")[0] not in nom else ""


def _distance(row: Row, has_km: bool) -> float | None:
    raw = row["distance_km"] if has_km else None
    km = float(raw) if raw is not None and pd.notna(raw) else None
    return km if km is not None and math.isfinite(km) else None


def _card(
    row: Row, rank: int | None, km: float | None, lang: str, when: datetime | None
) -> ServiceCard:
    from mapapp.reserved_view import card_reserved
    from mapapp.safety import safe_url, tel_url

    where, precise = _where(row, km, lang)
    confidential = bool(row.get("confidential", False))
    source, structure, nom = (
        _str(row.get("source")),
        _str(row.get("structure_nom")),
        _str(row.get("nom")),
    )
    phone, email = _str(row.get("telephone")), _str(row.get("courriel"))
    hours_raw = _str(row.get("horaires_accueil"))
    phone_href = tel_url(phone)
    email_href = safe_url(f"mailto:{email}") if email else None
    website_href = safe_url(_str(row.get("site_web")))
    # public_view (mapapp.safety) already blanked a confidential record's source page
    source_href = safe_url(_str(row.get("lien_source")))
    codes = tuple(_seq(row.get("obstacles")))
    publics, frais = _vocab(row, "publics", lang), _vocab(row, "frais", lang)
    modes = _vocab(row, "modes_accueil", lang)
    return ServiceCard(
        id=_str(row.get("id")),
        rank=rank,
        name=nom or structure or t("card_org_unknown", lang),
        organisation=_organisation(structure, nom, source),
        type_label=_type_label(_str(row.get("actor_type")), lang),
        source_name=SOURCE_NAMES.get(source, source),
        needs=_labels(codes, lang),
        need_codes=codes,
        distance_km=km,
        distance=format_km(km, lang) if precise and km is not None else None,
        where=where,
        commune=_str(row.get("commune")),
        precise=precise,
        confidential=confidential,
        confidential_note=t("card_confidential", lang, phone=phone) if confidential else "",
        phone=phone,
        phone_href=phone_href,
        email=email if email_href else "",
        email_href=email_href,
        website_href=website_href,
        source_href=source_href,
        hours=format_hours(hours_raw, lang),
        today=_today(hours_raw, row, when, lang),
        publics=publics,
        frais=frais,
        modes=modes,
        conditions=_conditions(publics, frais, modes, lang),
        contact_unknown=not (phone_href or email_href or website_href or source_href),
        structure=structure,
        description=_str(row.get("description")),
        updated=_str(row.get("date_maj")),
        source=source,
        lat=float(row.get("latitude", math.nan)),
        lon=float(row.get("longitude", math.nan)),
        reserved=card_reserved(row, lang, when or datetime.now(UTC)),
    )


def service_cards(
    frame: pd.DataFrame,
    *,
    lang: str = "fr",
    when: datetime | None = None,
    ranked: bool = False,
) -> list[ServiceCard]:
    """Cards for rows of the public view (``distance_km`` optional), in order.

    Parameters
    ----------
    frame : DataFrame
        Rows of the public view.
    lang : {"fr", "en"}, keyword-only
    when : datetime, optional, keyword-only
        "Now" for today's hours (an aware datetime, read in each service's
        time zone); no today's hours when not given.
    ranked : bool, keyword-only
        Number the cards 1, 2, ... (the numbers drawn on the search map).

    Examples
    --------
    >>> from mapapp.schema import actors_frame
    >>> f = actors_frame([{"id": "x:1", "nom": "Permanence", "code_insee": "97411",
    ...     "horaires_accueil": "Mo 09:00-12:00"}])
    >>> from datetime import UTC
    >>> late_sunday_in_paris = datetime(2026, 12, 6, 22, 30, tzinfo=UTC)  # Monday in Réunion
    >>> service_cards(f, when=late_sunday_in_paris)[0].today
    "aujourd'hui : 09:00-12:00"
    """
    has_km = "distance_km" in frame.columns
    # Plain dicts, not ``iterrows`` (a Series per row was half of a search's
    # card cost), and read block by block: ``to_dict("records")`` takes each
    # column apart (3.7 ms for 10 rows of 41 columns, against 0.1 ms here);
    # ``object`` turns numbers and flags into Python values, as it does.
    columns = [str(c) for c in frame.columns]
    rows = [dict(zip(columns, r, strict=True)) for r in frame.to_numpy(dtype=object).tolist()]
    return [
        _card(row, i + 1 if ranked else None, _distance(row, has_km), lang, when)
        for i, row in enumerate(cast(list[Row], rows))
    ]
