"""The obstacle taxonomy and the actor types, as string enums.

Why enums: every layer (import, search, coverage, UI) speaks of the same twelve
obstacles and the same dozen actor types; a ``StrEnum`` keeps the slug as the
stored value (so Parquet files stay plain strings) while giving each member its
French and English labels and its mappings from the data·inclusion
vocabularies (v1, and v0 for older exports).

Examples
--------
>>> Obstacle.GARDE_ENFANTS.label("fr"), Obstacle.GARDE_ENFANTS.label("en")
("Garde d'enfants", 'Childcare')
>>> sorted(o.value for o in obstacles_for_thematique("mobilite--preparer-un-permis"))
['mobilite']
>>> sorted(o.value for o in obstacles_for_thematique("apprendre-francais--communiquer-vie-tous-les-jours"))
['langue']
>>> actor_type_for_code("ACI") is ActorType.SIAE
True
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from enum import StrEnum
from functools import lru_cache

from mapapp.errors import UnknownVocabularyError

__all__ = [
    "ActorType",
    "Obstacle",
    "actor_type_for_code",
    "actor_type_for_codes",
    "default_obstacles",
    "obstacles_for_thematique",
    "obstacles_for_thematiques",
    "parse_actor_type",
    "parse_obstacle",
    "record_obstacles",
    "shelter_codes",
    "split_codes",
    "type_code_key",
]


class Obstacle(StrEnum):
    """An obstacle to (re)employment ("frein périphérique à l'emploi")."""

    GARDE_ENFANTS = "garde-enfants"
    VIOLENCES = "violences"
    DROITS = "droits"
    LOGEMENT = "logement"
    MOBILITE = "mobilite"
    NUMERIQUE = "numerique"
    LANGUE = "langue"
    SANTE = "sante"
    FINANCES = "finances"
    CONFIANCE = "confiance"
    EMPLOI = "emploi"
    BESOINS = "besoins"

    def label(self, lang: str = "fr") -> str:
        """The label in ``lang`` ("fr" or "en"; anything else falls back to French)."""
        fr, en = _OBSTACLE_LABELS[self]
        return en if lang == "en" else fr

    @property
    def thematiques_v1(self) -> tuple[str, ...]:
        """data·inclusion v1 thématiques (or ``category--*`` patterns) mapped here."""
        return _V1[self]

    @property
    def thematiques_v0(self) -> tuple[str, ...]:
        """data·inclusion v0 thématiques (or ``category--*`` patterns) mapped here."""
        return _V0[self]


_OBSTACLE_LABELS: dict[Obstacle, tuple[str, str]] = {
    Obstacle.GARDE_ENFANTS: ("Garde d'enfants", "Childcare"),
    Obstacle.VIOLENCES: ("Violences, séparation", "Violence, separation"),
    Obstacle.DROITS: ("Droits et démarches", "Rights and paperwork"),
    Obstacle.LOGEMENT: ("Logement, hébergement", "Housing"),
    Obstacle.MOBILITE: ("Mobilité", "Mobility"),
    Obstacle.NUMERIQUE: ("Numérique", "Digital skills"),
    Obstacle.LANGUE: ("Français, savoirs de base", "Language, basic skills"),
    Obstacle.SANTE: ("Santé", "Health"),
    Obstacle.FINANCES: ("Budget, dettes", "Money, debt"),
    Obstacle.CONFIANCE: ("Confiance, remobilisation", "Confidence"),
    Obstacle.EMPLOI: ("Emploi, formation", "Jobs, training"),
    Obstacle.BESOINS: ("Alimentation, équipement", "Food, basic needs"),
}

_EMPLOI_V1 = (
    "trouver-un-emploi--*",
    "preparer-sa-candidature--*",
    "choisir-un-metier--*",
    "se-former--*",
    "creer-une-entreprise--*",
)

# Patterns ending in "--*" match the category and any of its sub-thématiques;
# the others match exactly.
_V1: dict[Obstacle, tuple[str, ...]] = {
    Obstacle.GARDE_ENFANTS: ("famille--garde-denfants",),
    Obstacle.VIOLENCES: ("famille--surmonter-conflits-separation-violence",),
    Obstacle.DROITS: ("difficultes-administratives-ou-juridiques--*",),
    Obstacle.LOGEMENT: ("logement-hebergement--*",),
    Obstacle.MOBILITE: ("mobilite--*",),
    Obstacle.NUMERIQUE: ("numerique--*",),
    Obstacle.LANGUE: ("lecture-ecriture-calcul--*",),
    Obstacle.SANTE: ("sante--*",),
    Obstacle.FINANCES: ("difficultes-financieres--*",),
    Obstacle.CONFIANCE: ("remobilisation--*",),
    Obstacle.EMPLOI: _EMPLOI_V1,
    Obstacle.BESOINS: ("equipement-et-alimentation--*",),
}

_V0: dict[Obstacle, tuple[str, ...]] = {
    Obstacle.GARDE_ENFANTS: ("famille--garde-denfants",),
    Obstacle.VIOLENCES: ("famille--violences-intrafamiliales",),
    Obstacle.DROITS: (
        "acces-aux-droits-et-citoyennete--*",
        "difficultes-administratives-ou-juridiques--*",
    ),
    Obstacle.LOGEMENT: ("logement-hebergement--*",),
    Obstacle.MOBILITE: ("mobilite--*",),
    Obstacle.NUMERIQUE: ("numerique--*",),
    Obstacle.LANGUE: ("apprendre-francais--*", "illettrisme--*"),
    Obstacle.SANTE: ("sante--*", "handicap--*"),
    Obstacle.FINANCES: ("gestion-financiere--*", "difficultes-financieres--*"),
    Obstacle.CONFIANCE: ("remobilisation--*",),
    Obstacle.EMPLOI: (
        *_EMPLOI_V1,
        "accompagnement-social-et-professionnel-personnalise--*",
        "creation-activite--*",
    ),
    Obstacle.BESOINS: ("equipement-et-alimentation--*",),
}


def _build_lookup() -> tuple[dict[str, set[Obstacle]], dict[str, set[Obstacle]]]:
    exact: dict[str, set[Obstacle]] = {}
    prefix: dict[str, set[Obstacle]] = {}
    for table in (_V1, _V0):
        for obstacle, patterns in table.items():
            for pattern in patterns:
                if pattern.endswith("--*"):
                    prefix.setdefault(pattern[:-3], set()).add(obstacle)
                else:
                    exact.setdefault(pattern, set()).add(obstacle)
    return exact, prefix


_EXACT, _PREFIX = _build_lookup()


def obstacles_for_thematique(thematique: str) -> frozenset[Obstacle]:
    """Obstacles a data·inclusion thématique (v0 or v1) maps to.

    A bare category (``"mobilite"``) counts as its whole category.  A thématique
    that maps to nothing returns an empty set; the importer keeps it on the
    record and reports it rather than dropping it.

    Examples
    --------
    >>> sorted(obstacles_for_thematique("famille--garde-denfants"))
    [<Obstacle.GARDE_ENFANTS: 'garde-enfants'>]
    >>> obstacles_for_thematique("famille--soutien-aidants")
    frozenset()
    >>> sorted(obstacles_for_thematique("handicap"))
    [<Obstacle.SANTE: 'sante'>]
    """
    t = thematique.strip().lower()
    found = set(_EXACT.get(t, ()))
    category = t.split("--", 1)[0]
    found |= _PREFIX.get(category, set())
    return frozenset(found)


def obstacles_for_thematiques(thematiques: Iterable[str]) -> frozenset[Obstacle]:
    """Union of :func:`obstacles_for_thematique` over several thématiques."""
    out: set[Obstacle] = set()
    for t in thematiques:
        out |= obstacles_for_thematique(t)
    return frozenset(out)


class ActorType(StrEnum):
    """The short list of actor types the UI filters on."""

    CIDFF = "cidff"
    MISSION_LOCALE = "mission-locale"
    CRECHE = "creche"
    CRECHE_AVIP = "creche-avip"
    SIAE = "siae"
    FRANCE_TRAVAIL = "france-travail"
    FRANCE_SERVICES = "france-services"
    MEDIATION_NUMERIQUE = "mediation-numerique"
    CCAS = "ccas"
    HEBERGEMENT = "hebergement"
    CAP_EMPLOI = "cap-emploi"
    AUTRE = "autre"

    def label(self, lang: str = "fr") -> str:
        """The label in ``lang`` ("fr" or "en")."""
        fr, en = _TYPE_LABELS[self]
        return en if lang == "en" else fr

    @property
    def default_obstacles(self) -> frozenset[Obstacle]:
        """Every obstacle of the type: the defining ones, and those assumed without thématiques."""
        return _TYPE_DEFAULTS[self]

    @property
    def defining_obstacles(self) -> frozenset[Obstacle]:
        """Obstacles that define the type and apply to every record of it.

        A CIDFF is always found for violence and rights, whatever thématiques
        its services list; a crèche for childcare; France Services for rights
        and digital skills; a shelter for housing.
        """
        return _TYPE_DEFINING[self]


_TYPE_LABELS: dict[ActorType, tuple[str, str]] = {
    ActorType.CIDFF: ("CIDFF (droits des femmes)", "CIDFF (women's rights centre)"),
    ActorType.MISSION_LOCALE: ("Mission locale (16-25 ans)", "Mission locale (ages 16-25)"),
    ActorType.CRECHE: ("Crèche, multi-accueil", "Nursery, day care"),
    ActorType.CRECHE_AVIP: ("Crèche AVIP (insertion)", "AVIP nursery (job seekers)"),
    ActorType.SIAE: ("Insertion par l'activité (SIAE)", "Work-integration enterprise"),
    ActorType.FRANCE_TRAVAIL: ("France Travail", "France Travail (job centre)"),
    ActorType.FRANCE_SERVICES: ("France Services", "France Services (public services hub)"),
    ActorType.MEDIATION_NUMERIQUE: ("Médiation numérique", "Digital inclusion place"),
    ActorType.CCAS: ("CCAS / CIAS (action sociale)", "CCAS (municipal social services)"),
    ActorType.HEBERGEMENT: ("Hébergement, mise à l'abri", "Shelter, housing"),
    ActorType.CAP_EMPLOI: ("Cap emploi (handicap)", "Cap emploi (disability)"),
    ActorType.AUTRE: ("Autre structure", "Other"),
}

_O = Obstacle
_TYPE_DEFAULTS: dict[ActorType, frozenset[Obstacle]] = {
    ActorType.CIDFF: frozenset({_O.DROITS, _O.VIOLENCES, _O.EMPLOI}),
    ActorType.MISSION_LOCALE: frozenset(
        {_O.EMPLOI, _O.MOBILITE, _O.LOGEMENT, _O.SANTE, _O.CONFIANCE}
    ),
    ActorType.CRECHE: frozenset({_O.GARDE_ENFANTS}),
    ActorType.CRECHE_AVIP: frozenset({_O.GARDE_ENFANTS, _O.EMPLOI}),
    ActorType.SIAE: frozenset({_O.EMPLOI}),
    ActorType.FRANCE_TRAVAIL: frozenset({_O.EMPLOI}),
    ActorType.FRANCE_SERVICES: frozenset({_O.DROITS, _O.NUMERIQUE}),
    ActorType.MEDIATION_NUMERIQUE: frozenset({_O.NUMERIQUE}),
    ActorType.CCAS: frozenset({_O.DROITS, _O.FINANCES, _O.LOGEMENT}),
    ActorType.HEBERGEMENT: frozenset({_O.LOGEMENT}),
    ActorType.CAP_EMPLOI: frozenset({_O.EMPLOI, _O.SANTE}),
    ActorType.AUTRE: frozenset(),
}

# The first obstacle(s) of each row of DOMAIN.md's table: what the type *is*.
# Crèche AVIP and Cap emploi keep both of theirs: a crèche AVIP exists to let
# a parent look for work, and Cap emploi serves only people with a disability.
_TYPE_DEFINING: dict[ActorType, frozenset[Obstacle]] = {
    ActorType.CIDFF: frozenset({_O.DROITS, _O.VIOLENCES}),
    ActorType.MISSION_LOCALE: frozenset({_O.EMPLOI}),
    ActorType.CRECHE: frozenset({_O.GARDE_ENFANTS}),
    ActorType.CRECHE_AVIP: frozenset({_O.GARDE_ENFANTS, _O.EMPLOI}),
    ActorType.SIAE: frozenset({_O.EMPLOI}),
    ActorType.FRANCE_TRAVAIL: frozenset({_O.EMPLOI}),
    ActorType.FRANCE_SERVICES: frozenset({_O.DROITS, _O.NUMERIQUE}),
    ActorType.MEDIATION_NUMERIQUE: frozenset({_O.NUMERIQUE}),
    ActorType.CCAS: frozenset({_O.DROITS}),
    ActorType.HEBERGEMENT: frozenset({_O.LOGEMENT}),
    ActorType.CAP_EMPLOI: frozenset({_O.EMPLOI, _O.SANTE}),
    ActorType.AUTRE: frozenset(),
}

# Source codes seen in the field, by type: data·inclusion v1 réseaux porteurs
# and labels nationaux, v0 typologies (``RS_FJT``...), source names, and the
# words people write in spreadsheets.  Keys are compared after
# :func:`type_code_key` (no accents, lower case, ``-`` between words), so
# ``"RS_FJT"``, ``"France Services"`` and ``"Hébergement"`` all match.
_CODES_BY_TYPE: dict[ActorType, tuple[str, ...]] = {
    ActorType.CIDFF: ("cidff",),
    ActorType.MISSION_LOCALE: ("mission-locale", "missions-locales", "ml"),
    ActorType.CRECHE: (
        "monenfant",
        "creche",
        "creches",
        "multi-accueil",
        "eaje",
        "micro-creche",
        "halte-garderie",
    ),
    ActorType.CRECHE_AVIP: ("creches-avip", "creche-avip", "avip"),
    ActorType.SIAE: ("ei", "aci", "aciphc", "ai", "etti", "eiti", "geiq", "siae"),
    ActorType.FRANCE_TRAVAIL: (
        "france-travail",
        "ft",
        "pe",
        "pole-emploi",
        "pole-emploi-agence",
        "agence-france-travail",
    ),
    ActorType.FRANCE_SERVICES: (
        "france-service",
        "france-services",
        "label-france-services",
        "espace-france-services",
        "maison-france-services",
        "rfs",
        "msap",
    ),
    ActorType.MEDIATION_NUMERIQUE: (
        "mediation-numerique",
        "conseillers-numeriques",
        "conseiller-numerique",
        "cnfs",
        "espaces-publics-numeriques",
        "epn",
        "epi",
        "enm",
        "aidants-connect",
        "fabrique-de-territoire",
    ),
    ActorType.CCAS: ("ccas-cias", "ccas", "cias"),
    ActorType.HEBERGEMENT: (
        "chrs",
        "chu",
        "chrs-chu",
        "cada",
        "huda",
        "cph",
        "prahda",
        "caes",
        "siao",
        "hebergement",
        "hebergement-d-urgence",
        "centre-d-hebergement",
        "mise-a-l-abri",
        "accueil-de-jour",
        "accueil-de-nuit",
        "rs-fjt",
        "fjt",
        "residences-fjt",
        "foyer-de-jeunes-travailleurs",
        "residence-sociale",
        "residences-sociales",
        "pension",
        "pension-de-famille",
        "maison-relais",
    ),
    ActorType.CAP_EMPLOI: ("cap-emploi-reseau-cheops", "cap-emploi", "cap-emploi-reseau"),
}
_TYPE_CODES: dict[str, ActorType] = {
    code: actor_type for actor_type, codes in _CODES_BY_TYPE.items() for code in codes
}

# When a record carries codes of several types: a shelter code decides
# (fail-safe), and a France Services label wins over the digital-mediation
# codes it often comes with ("France Services;CNFS").
_PRIORITY = (ActorType.HEBERGEMENT, ActorType.FRANCE_SERVICES)


def shelter_codes() -> tuple[str, ...]:
    """The source codes that make a shelter (compared after :func:`type_code_key`).

    Examples
    --------
    >>> "rs-fjt" in shelter_codes() and "chrs" in shelter_codes()
    True
    """
    return _CODES_BY_TYPE[ActorType.HEBERGEMENT]


@lru_cache(maxsize=65536)
def type_code_key(code: str) -> str:
    """A source code as compared with the tables: ASCII, lower case, ``-`` between words.

    Examples
    --------
    >>> type_code_key("RS_FJT"), type_code_key(" Hébergement d'urgence ")
    ('rs-fjt', 'hebergement-d-urgence')
    """
    text = unicodedata.normalize("NFKD", code).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


#: Separators between several codes written in one cell ("France Services;CNFS").
_CODE_SEPARATORS = re.compile(r"[;,|/+]")


def split_codes(codes: Iterable[str | None]) -> list[str]:
    """Codes as written, one cell possibly holding several (``"France Services;CNFS"``).

    Examples
    --------
    >>> split_codes(["France Services;CNFS", "", None, "RS_FJT"])
    ['France Services', 'CNFS', 'RS_FJT']
    """
    out: list[str] = []
    for cell in codes:
        if not cell:
            continue
        out += [c.strip() for c in _CODE_SEPARATORS.split(str(cell)) if c.strip()]
    return out


def actor_type_for_codes(codes: Iterable[str | None]) -> ActorType:
    """The actor type several source codes point to together.

    A shelter code anywhere makes a shelter (fail-safe: its address is then
    hidden); a France Services label wins over the digital-mediation codes it
    comes with; otherwise the first code that names a type decides.

    Examples
    --------
    >>> actor_type_for_codes(["France Services;CNFS"]).value
    'france-services'
    >>> actor_type_for_codes(["CNFS"]).value, actor_type_for_codes(["ASSO", "CHRS"]).value
    ('mediation-numerique', 'hebergement')
    >>> actor_type_for_codes(["PIMMS", "bibliotheque"]).value
    'autre'
    """
    found = [actor_type_for_code(c) for c in split_codes(codes)]
    known = [t for t in found if t is not ActorType.AUTRE]
    for preferred in _PRIORITY:
        if preferred in known:
            return preferred
    return known[0] if known else ActorType.AUTRE


def _norm_code(code: str) -> str:
    text = unicodedata.normalize("NFKD", code).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", "-", text.strip().lower())


@lru_cache(maxsize=65536)
def actor_type_for_code(code: str | None) -> ActorType:
    """Actor type for a source code (réseau porteur, typologie, source name).

    Unknown or empty codes give :attr:`ActorType.AUTRE`; the importer keeps the
    original code on the record.

    Examples
    --------
    >>> actor_type_for_code("ccas-cias").value, actor_type_for_code("CCAS").value
    ('ccas', 'ccas')
    >>> actor_type_for_code("Crèche").value, actor_type_for_code("bibliotheque").value
    ('creche', 'autre')
    """
    if not code:
        return ActorType.AUTRE
    return _TYPE_CODES.get(type_code_key(code), ActorType.AUTRE)


def default_obstacles(actor_type: ActorType | str) -> frozenset[Obstacle]:
    """Every default obstacle of an actor type (all apply only without thématiques)."""
    return parse_actor_type(actor_type).default_obstacles


def record_obstacles(
    actor_type: ActorType | str,
    thematiques: Iterable[str],
    explicit: Iterable[Obstacle | str] = (),
) -> frozenset[Obstacle]:
    """A record's obstacles: its type's defining ones, its thématiques', and explicit ones.

    Why: DOMAIN.md's rule.  A type's *defining* obstacles always apply (a
    CIDFF service listing only a rights thématique is still found for
    violence); its other default obstacles apply only to a record that carries
    no thématique at all, since thématiques say what a service does better
    than its type.  ``explicit`` are slugs a mapping file sets; unknown slugs
    are ignored (the mapping loader reports them).

    Examples
    --------
    >>> def show(s): return sorted(o.value for o in s)
    >>> show(record_obstacles("cidff", ["difficultes-administratives-ou-juridiques--x"]))
    ['droits', 'violences']
    >>> show(record_obstacles("cidff", []))
    ['droits', 'emploi', 'violences']
    >>> show(record_obstacles("autre", ["mobilite"], ["sante", "nope"]))
    ['mobilite', 'sante']
    """
    kind = actor_type if isinstance(actor_type, ActorType) else parse_actor_type(actor_type)
    them = [t for t in thematiques if t and str(t).strip()]
    found = set(kind.defining_obstacles) | set(obstacles_for_thematiques(them))
    if not them:
        found |= kind.default_obstacles
    valid = {o.value for o in Obstacle}
    found |= {Obstacle(v) for v in (str(x).strip().lower() for x in explicit) if v in valid}
    return frozenset(found)


def parse_obstacle(value: Obstacle | str) -> Obstacle:
    """An :class:`Obstacle` from its slug, or a clear error listing the valid slugs.

    Examples
    --------
    >>> parse_obstacle("Mobilite")
    <Obstacle.MOBILITE: 'mobilite'>
    """
    try:
        return Obstacle(_norm_code(str(value)))
    except ValueError:
        valid = ", ".join(o.value for o in Obstacle)
        raise UnknownVocabularyError(f"unknown obstacle {value!r}; use one of: {valid}") from None


def parse_actor_type(value: ActorType | str) -> ActorType:
    """An :class:`ActorType` from its slug, or a clear error listing the valid slugs."""
    try:
        return ActorType(_norm_code(str(value)))
    except ValueError:
        valid = ", ".join(t.value for t in ActorType)
        raise UnknownVocabularyError(f"unknown actor type {value!r}; use one of: {valid}") from None
