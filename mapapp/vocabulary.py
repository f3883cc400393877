"""What a person may type for an obstacle, an actor type or a public, and the search defaults.

Why: a person types what she knows: "childcare", "Garde d'enfants",
"femme", "France Services".  A silent miss (``--public zzz`` returning
every service) is worse than an error: she believes the filter applied.
Each value is therefore read as the slug itself, or as one of its French
or English labels (or a part of one: "violence", "housing"), singular or
plural, accents and case ignored.  Anything else is refused with a message
that lists the valid values, in French and in English.  When a value is
*read as* another (``femme`` → ``femmes``), the caller shows a note, so the
person sees what was searched.

This module stays light (no pandas, no geopandas): the app's first page and
``mapapp --help`` import it.

Examples
--------
>>> parse_obstacle_text("childcare")
(<Obstacle.GARDE_ENFANTS: 'garde-enfants'>, "« childcare » lu comme « garde-enfants » / read as 'garde-enfants'")
>>> parse_public_text("femmes")
('femmes', '')
>>> parse_public_text("femme")[0]
'femmes'
>>> parse_actor_type_text("France Services")[0]
<ActorType.FRANCE_SERVICES: 'france-services'>
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import cache
from typing import Final, TypeVar

from mapapp.errors import UnknownVocabularyError
from mapapp.i18n import VOCABULARIES
from mapapp.taxonomy import ActorType, Obstacle

__all__ = [
    "DEFAULT_RADIUS_KM",
    "PUBLICS",
    "parse_actor_type_text",
    "parse_obstacle_text",
    "parse_public_text",
    "valid_values",
]

#: Default search radius in km, for the app, the command line and the API alike.
#: It keeps a search from an overseas commune (or near a border) from listing
#: services on another continent; 0 (or ``None`` in code) means no limit.
DEFAULT_RADIUS_KM: Final[int] = 100

#: The data·inclusion v1 publics, with their labels (French, English).
PUBLICS: Final[dict[str, tuple[str, str]]] = {
    **VOCABULARIES["publics"],
    "personnes-en-situation-juridique-specifique": (
        "Personnes en situation juridique spécifique",
        "People under a specific legal status",
    ),
    "residents-qpv-frr": ("Résidents en QPV ou FRR", "Residents of priority neighbourhoods"),
}

#: data·inclusion v0 profils a person may still type, read as their v1 public.
_PUBLICS_V0: Final[dict[str, str]] = {
    "familles-enfants": "familles",
    "jeunes-16-26": "jeunes",
    "seniors-65": "seniors",
    "demandeurs-demploi": "demandeurs-emploi",
    "beneficiaires-rsa": "beneficiaires-des-minimas-sociaux",
    "personnes-handicapees": "personnes-en-situation-de-handicap",
    "handicap": "personnes-en-situation-de-handicap",
    "personnes-de-nationalite-etrangere": "personnes-exilees",
    "refugies": "personnes-exilees",
    "sans-domicile-fixe": "personnes-en-situation-durgence",
    "salaries": "actifs",
}

#: Everyday words (French and English) for obstacles, beyond their labels.
_OBSTACLE_WORDS: Final[dict[str, Obstacle]] = {
    "child-care": Obstacle.GARDE_ENFANTS,
    "creche": Obstacle.GARDE_ENFANTS,
    "nursery": Obstacle.GARDE_ENFANTS,
    "violences-conjugales": Obstacle.VIOLENCES,
    "domestic-violence": Obstacle.VIOLENCES,
    "rights": Obstacle.DROITS,
    "papers": Obstacle.DROITS,
    "hebergement": Obstacle.LOGEMENT,
    "shelter": Obstacle.LOGEMENT,
    "transport": Obstacle.MOBILITE,
    "numerique": Obstacle.NUMERIQUE,
    "digital": Obstacle.NUMERIQUE,
    "internet": Obstacle.NUMERIQUE,
    "francais": Obstacle.LANGUE,
    "french": Obstacle.LANGUE,
    "illettrisme": Obstacle.LANGUE,
    "dette": Obstacle.FINANCES,
    "budget": Obstacle.FINANCES,
    "finance": Obstacle.FINANCES,
    "remobilisation": Obstacle.CONFIANCE,
    "employment": Obstacle.EMPLOI,
    "work": Obstacle.EMPLOI,
    "job": Obstacle.EMPLOI,
    "formation": Obstacle.EMPLOI,
    "alimentation": Obstacle.BESOINS,
    "food": Obstacle.BESOINS,
}

T = TypeVar("T")


def _key(text: str) -> str:
    """Accents, case and punctuation ignored: ``"Garde d'enfants"`` → ``garde-d-enfants``."""
    plain = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")


def _parts(label: str) -> list[str]:
    """A label and its pieces: ``"Violences, séparation"`` → whole, violences, séparation.

    What stands in brackets only qualifies the label ("Crèche AVIP
    (insertion)"): it is left out, so "insertion" alone designates nothing.
    """
    main = re.sub(r"\([^)]*\)", " ", label)
    pieces = re.split(r",|/| and | et ", main)
    return [label, main, *(p for p in pieces if p.strip())]


def _variants(key: str) -> list[str]:
    """The key, singular and plural (``femme`` ↔ ``femmes``)."""
    out = [key]
    out.append(key[:-1] if key.endswith("s") else key + "s")
    return out


def _index(entries: Iterable[tuple[str, T]]) -> dict[str, T]:
    """Keys that designate exactly one value (ambiguous keys are dropped)."""
    seen: dict[str, set[T]] = {}
    for text, value in entries:
        key = _key(text)
        if key:
            seen.setdefault(key, set()).add(value)
    return {k: next(iter(v)) for k, v in seen.items() if len(v) == 1}


def _lookup(strong: dict[str, T], weak: dict[str, T], text: str) -> T | None:
    key = _key(text)
    for table in (strong, weak):
        for variant in _variants(key):
            if variant in table:
                return table[variant]
    return None


@cache
def _obstacle_tables() -> tuple[dict[str, Obstacle], dict[str, Obstacle]]:
    strong = _index(
        (text, o) for o in Obstacle for text in (o.value, o.name, o.label("fr"), o.label("en"))
    )
    weak = _index(
        [
            *(
                (part, o)
                for o in Obstacle
                for lang in ("fr", "en")
                for part in _parts(o.label(lang))
            ),
            *_OBSTACLE_WORDS.items(),
        ]
    )
    return strong, weak


@cache
def _type_tables() -> tuple[dict[str, ActorType], dict[str, ActorType]]:
    strong = _index(
        (text, t) for t in ActorType for text in (t.value, t.name, t.label("fr"), t.label("en"))
    )
    weak = _index(
        (part, t) for t in ActorType for lang in ("fr", "en") for part in _parts(t.label(lang))
    )
    return strong, weak


@cache
def _public_tables() -> tuple[dict[str, str], dict[str, str]]:
    strong = _index((text, p) for p, (fr, en) in PUBLICS.items() for text in (p, fr, en))
    weak = _index([*_PUBLICS_V0.items(), *((en, p) for p, (_, en) in PUBLICS.items())])
    return strong, weak


def valid_values(kind: str, lang: str = "fr") -> list[str]:
    """``slug (label)`` for each valid value of ``kind`` (obstacle, type, public).

    Examples
    --------
    >>> valid_values("obstacle", "en")[0]
    'garde-enfants (Childcare)'
    """
    pick = 1 if lang == "en" else 0
    if kind == "public":
        return [f"{p} ({labels[pick]})" for p, labels in PUBLICS.items()]
    if kind == "obstacle":
        return [f"{o.value} ({o.label(lang)})" for o in Obstacle]
    return [f"{t.value} ({t.label(lang)})" for t in ActorType]


_WHAT = {
    "obstacle": ("obstacle inconnu", "unknown obstacle"),
    "type": ("type de structure inconnu", "unknown actor type"),
    "public": ("public inconnu", "unknown public"),
}


def _parse(
    kind: str,
    text: str,
    tables: tuple[dict[str, T], dict[str, T]],
    slug: Callable[[T], str],
) -> tuple[T, str]:
    found = _lookup(*tables, text)
    if found is not None:
        value = slug(found)
        note = (
            ""
            if value == str(text).strip()
            else f"« {text} » lu comme « {value} » / read as {value!r}"
        )
        return found, note
    fr, en = _WHAT[kind]
    known = sorted({*tables[0], *tables[1]})
    close = difflib.get_close_matches(_key(text), known, n=3, cutoff=0.75)
    hint = ""
    if close:
        guesses = ", ".join(dict.fromkeys(slug(_lookup(*tables, c)) for c in close))  # type: ignore[arg-type]
        hint = f" Vouliez-vous dire / did you mean: {guesses}?"
    valid = "\n  ".join(valid_values(kind))
    raise UnknownVocabularyError(
        f"{fr} « {text} » / {en} {text!r}.{hint}\nValeurs possibles / valid values:\n  {valid}"
    )


def parse_obstacle_text(text: str) -> tuple[Obstacle, str]:
    """The obstacle ``text`` designates, and a note when it was read as another spelling.

    Raises
    ------
    UnknownVocabularyError
        Nothing matches; the message lists the valid obstacles.
    """
    return _parse("obstacle", text, _obstacle_tables(), lambda o: o.value)


def parse_actor_type_text(text: str) -> tuple[ActorType, str]:
    """The actor type ``text`` designates, and a note when it was read as another spelling."""
    return _parse("type", text, _type_tables(), lambda t: t.value)


def parse_public_text(text: str) -> tuple[str, str]:
    """The data·inclusion v1 public ``text`` designates, and a note when it was reread.

    Examples
    --------
    >>> parse_public_text("Young people")[0], parse_public_text("jeunes-16-26")[0]
    ('jeunes', 'jeunes')
    """
    return _parse("public", text, _public_tables(), lambda p: p)
