"""A service as a person can act on it: who, where (honestly), how to reach it, when, on what terms.

Why a module of its own: the plan (:mod:`mapapp.plan`), its command, the
printable sheet (:mod:`mapapp.render.sheet`), the plan view and the REST API
all show the same facts, in French or English, from rows of the public view
(:func:`mapapp.catalog.load_public_actors`).  Every value is plain text;
whoever shows it escapes it for its medium.  Links come only from
:func:`mapapp.safety.safe_url` / :func:`mapapp.safety.tel_url`.

Honesty rules:

* a record located only to its commune (``precision`` ``commune``: a
  confidential shelter, or a record without an address) has no distance of
  its own: it says "adresse précise non connue, dans la commune de …" and,
  when that commune's centre is 1 km away or more, how far that centre is;
* a confidential record never shows a link to its source page (which may
  show its street) and gives its referral phone;
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
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from mapapp.hours import day_hours, local_time, time_zone
from mapapp.i18n import format_km, vocab_label
from mapapp.render.cards import format_hours
from mapapp.taxonomy import ActorType, Obstacle

__all__ = ["SOURCE_NAMES", "ServiceCard", "service_cards", "text"]

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

_TEXT: dict[str, tuple[str, str]] = {
    "commune_only": (
        "adresse précise non connue, dans la commune de {commune}",
        "exact address unknown, in the commune of {commune}",
    ),
    "approximate": (
        "position approximative, distance non connue",
        "approximate position, distance unknown",
    ),
    "commune_unknown": ("adresse et commune non connues", "address and commune unknown"),
    "centre_at": ("centre à environ {km}", "its centre about {km} away"),
    "crow": ("à vol d'oiseau", "as the crow flies"),
    "contact_unknown": ("contact inconnu", "contact unknown"),
    "hours_unknown": ("horaires non renseignés", "hours not given"),
    "today": ("aujourd'hui : {hours}", "today: {hours}"),
    "closed_today": ("fermé aujourd'hui", "closed today"),
    "publics": ("Public", "For"),
    "frais": ("Frais", "Fees"),
    "modes": ("Accueil", "Reception"),
    "source": ("Source", "Source"),
    "org_unknown": ("organisation non précisée", "organisation not given"),
    "confidential": (
        "Adresse confidentielle : appelez le {phone} pour être orientée.",
        "Confidential address: call {phone} to be referred.",
    ),
}


def text(key: str, lang: str = "fr", **kw: Any) -> str:
    """A string of this module in ``lang`` (French unless ``"en"``)."""
    fr, en = _TEXT[key]
    return (en if lang == "en" else fr).format(**kw)


@dataclass(frozen=True)
class ServiceCard:
    """One service, ready to read.  Plain text; ``*_href`` are checked links or None."""

    id: str
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
    conditions: str
    contact_unknown: bool
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
        out["needs"], out["need_codes"] = list(self.needs), list(self.need_codes)
        return out


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


def _where(row: pd.Series, km: float | None, lang: str) -> tuple[str, bool]:
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
        return f"{street}, {town} ({text('approximate', lang)})", False
    if not commune:
        return text("commune_unknown", lang), False
    note = text("commune_only", lang, commune=commune)
    if km is not None and math.isfinite(km) and km >= 1:
        note += " (" + text("centre_at", lang, km=format_km(km, lang)) + ")"
    return note, False


def _today(hours: str, row: pd.Series, when: datetime | None, lang: str) -> str:
    if not hours or when is None:
        return ""
    zone = time_zone(_str(row.get("code_insee")), _str(row.get("code_postal")))
    spans = day_hours(hours, local_time(when, zone).date())
    if spans is None:
        return ""
    if not spans:
        return text("closed_today", lang)
    return text("today", lang, hours=", ".join(spans))


def _conditions(row: pd.Series, lang: str) -> str:
    parts = []
    for key, vocab in (("publics", "publics"), ("frais", "frais"), ("modes", "modes_accueil")):
        values = [vocab_label(vocab, v, lang) for v in _seq(row.get(vocab))]
        if key == "modes" and values == [vocab_label(vocab, "en-presentiel", lang)]:
            continue  # the default says nothing
        if values:
            sep = ": " if lang == "en" else " : "
            parts.append(f"{text(key, lang)}{sep}{', '.join(values)}")
    return " · ".join(parts)


def _type_label(code: str, lang: str) -> str:
    if not code or code == ActorType.AUTRE.value:
        return ""
    try:
        return ActorType(code).label(lang)
    except ValueError:
        return ""


def service_cards(
    frame: pd.DataFrame, *, lang: str = "fr", when: datetime | None = None
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
    """
    from mapapp.reserved_view import card_reserved
    from mapapp.safety import safe_url, tel_url

    now = when or datetime.now(UTC)
    out: list[ServiceCard] = []
    has_km = "distance_km" in frame.columns
    for _, row in frame.iterrows():
        raw_km = row["distance_km"] if has_km else None
        km = float(raw_km) if raw_km is not None and pd.notna(raw_km) else None
        where, precise = _where(row, km, lang)
        confidential = bool(row.get("confidential", False))
        source = _str(row.get("source"))
        structure = _str(row.get("structure_nom"))
        nom = _str(row.get("nom"))
        # the organisation, unless the service's name already says it
        organisation = structure if structure.split(" (")[0] not in nom else ""
        if not structure:
            organisation = _SOURCE_IS_ORGANISATION.get(source, "")
        phone, email = _str(row.get("telephone")), _str(row.get("courriel"))
        hours_raw = _str(row.get("horaires_accueil"))
        phone_href = tel_url(phone)
        email_href = safe_url(f"mailto:{email}") if email else None
        website_href = safe_url(_str(row.get("site_web")))
        # A source page may show a confidential record's street: never link it.
        source_href = None if confidential else safe_url(_str(row.get("lien_source")))
        codes = tuple(_seq(row.get("obstacles")))
        out.append(
            ServiceCard(
                id=_str(row.get("id")),
                name=nom or structure or text("org_unknown", lang),
                organisation=organisation,
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
                confidential_note=text("confidential", lang, phone=phone) if confidential else "",
                phone=phone,
                phone_href=phone_href,
                email=email if email_href else "",
                email_href=email_href,
                website_href=website_href,
                source_href=source_href,
                hours=format_hours(hours_raw, lang),
                today=_today(hours_raw, row, when, lang),
                conditions=_conditions(row, lang),
                contact_unknown=not (phone_href or email_href or website_href or source_href),
                lat=float(row.get("latitude", math.nan)),
                lon=float(row.get("longitude", math.nan)),
                reserved=card_reserved(row, lang, now),
            )
        )
    return out
