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

from mapapp.errors import UnknownVocabularyError

__all__ = [
    "ActorType",
    "Obstacle",
    "actor_type_for_code",
    "default_obstacles",
    "obstacles_for_thematique",
    "obstacles_for_thematiques",
    "parse_actor_type",
    "parse_obstacle",
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
        """Obstacles assumed when a record carries no thématiques."""
        return _TYPE_DEFAULTS[self]

    @property
    def confidential_by_default(self) -> bool:
        """Whether records of this type hide their address unless told otherwise."""
        return self is ActorType.HEBERGEMENT


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

# Source codes seen in the field (data·inclusion v1 réseaux porteurs, v0
# typologies, sources, and the codes of other national lists), normalised to
# lower case without accents.
_TYPE_CODES: dict[str, ActorType] = {
    "cidff": ActorType.CIDFF,
    "mission-locale": ActorType.MISSION_LOCALE,
    "ml": ActorType.MISSION_LOCALE,
    "monenfant": ActorType.CRECHE,
    "creche": ActorType.CRECHE,
    "multi-accueil": ActorType.CRECHE,
    "eaje": ActorType.CRECHE,
    "creches-avip": ActorType.CRECHE_AVIP,
    "avip": ActorType.CRECHE_AVIP,
    "ei": ActorType.SIAE,
    "aci": ActorType.SIAE,
    "aciphc": ActorType.SIAE,
    "ai": ActorType.SIAE,
    "etti": ActorType.SIAE,
    "eiti": ActorType.SIAE,
    "geiq": ActorType.SIAE,
    "siae": ActorType.SIAE,
    "france-travail": ActorType.FRANCE_TRAVAIL,
    "ft": ActorType.FRANCE_TRAVAIL,
    "pe": ActorType.FRANCE_TRAVAIL,
    "pole-emploi": ActorType.FRANCE_TRAVAIL,
    "france-service": ActorType.FRANCE_SERVICES,
    "france-services": ActorType.FRANCE_SERVICES,
    "rfs": ActorType.FRANCE_SERVICES,
    "msap": ActorType.FRANCE_SERVICES,
    "mediation-numerique": ActorType.MEDIATION_NUMERIQUE,
    "conseillers-numeriques": ActorType.MEDIATION_NUMERIQUE,
    "espaces-publics-numeriques": ActorType.MEDIATION_NUMERIQUE,
    "epn": ActorType.MEDIATION_NUMERIQUE,
    "ccas-cias": ActorType.CCAS,
    "ccas": ActorType.CCAS,
    "cias": ActorType.CCAS,
    "chrs": ActorType.HEBERGEMENT,
    "siao": ActorType.HEBERGEMENT,
    "chu": ActorType.HEBERGEMENT,
    "huda": ActorType.HEBERGEMENT,
    "cada": ActorType.HEBERGEMENT,
    "cph": ActorType.HEBERGEMENT,
    "cap-emploi-reseau-cheops": ActorType.CAP_EMPLOI,
    "cap-emploi": ActorType.CAP_EMPLOI,
    "cap_emploi": ActorType.CAP_EMPLOI,
}


def _norm_code(code: str) -> str:
    text = unicodedata.normalize("NFKD", code).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", "-", text.strip().lower())


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
    return _TYPE_CODES.get(_norm_code(code), ActorType.AUTRE)


def default_obstacles(actor_type: ActorType | str) -> frozenset[Obstacle]:
    """Default obstacles of an actor type (used only without thématiques)."""
    return parse_actor_type(actor_type).default_obstacles


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
