"""Vocabularies at import: thématiques, publics, type codes → obstacles and actor types.

Why a layer over :mod:`mapapp.taxonomy`: real exports mix v0 and v1
vocabularies and carry codes the taxonomy does not list (v0 typologies such
as ``MDS`` or ``PIMMS``, source names such as ``fredo``).  Here a thématique
is *known* when its category belongs to the data·inclusion v0 or v1
vocabularies (v1 values come from the ``data-inclusion-schema`` package);
unknown ones are kept on the record and counted in the report, never
dropped.  Type codes are looked up in the taxonomy, then in a small table of
extra codes seen in real data.

Examples
--------
>>> known_thematique("famille--garde-denfants"), known_thematique("cuisine--recettes")
(True, False)
>>> publics_v1(["familles-enfants", "jeunes-16-26", "femmes", "autre-chose"])
['familles', 'jeunes', 'femmes', 'autre-chose']
>>> resolve_type("", ["Autre", "monenfant"])
('creche', 'Autre,monenfant')
>>> resolve_type("", ["MDS"])[0]
'autre'
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from mapapp.taxonomy import ActorType, actor_type_for_code

__all__ = ["known_thematique", "publics_v1", "resolve_type"]

#: Categories of data·inclusion thématiques, v0 and v1.
_CATEGORIES_V0_V1 = frozenset(
    {
        "acces-aux-droits-et-citoyennete",
        "accompagnement-social-et-professionnel-personnalise",
        "apprendre-francais",
        "choisir-un-metier",
        "creation-activite",
        "creer-une-entreprise",
        "difficultes-administratives-ou-juridiques",
        "difficultes-financieres",
        "equipement-et-alimentation",
        "famille",
        "gestion-financiere",
        "handicap",
        "illettrisme",
        "lecture-ecriture-calcul",
        "logement-hebergement",
        "mobilite",
        "numerique",
        "preparer-sa-candidature",
        "remobilisation",
        "sante",
        "se-former",
        "souvrir-a-linternational",
        "trouver-un-emploi",
    }
)

#: v0 profils -> v1 publics (values already v1 pass through).
_PUBLICS_V0 = {
    "familles-enfants": "familles",
    "jeunes-16-26": "jeunes",
    "seniors-65": "seniors",
    "demandeurs-demploi": "demandeurs-emploi",
    "beneficiaires-rsa": "beneficiaires-des-minimas-sociaux",
    "personnes-handicapees": "personnes-en-situation-de-handicap",
    "personnes-de-nationalite-etrangere": "personnes-exilees",
    "sans-domicile-fixe": "personnes-en-situation-durgence",
    "salaries": "actifs",
    "etudiants": "etudiants",
}

#: Type codes seen in real data and absent from the taxonomy's table.
_EXTRA_TYPE_CODES: dict[str, ActorType] = {
    "espace-france-services": ActorType.FRANCE_SERVICES,
    "maison-france-services": ActorType.FRANCE_SERVICES,
    "pole-emploi-agence": ActorType.FRANCE_TRAVAIL,
    "agence-france-travail": ActorType.FRANCE_TRAVAIL,
    "cap-emploi-reseau": ActorType.CAP_EMPLOI,
    "creche-avip": ActorType.CRECHE_AVIP,
    "micro-creche": ActorType.CRECHE,
    "halte-garderie": ActorType.CRECHE,
    "chrs-chu": ActorType.HEBERGEMENT,
    "hebergement": ActorType.HEBERGEMENT,
    "aidants-connect": ActorType.MEDIATION_NUMERIQUE,
    "fabrique-de-territoire": ActorType.MEDIATION_NUMERIQUE,
}


@lru_cache(maxsize=4096)
def _v1_values() -> frozenset[str]:
    try:
        from data_inclusion.schema import v1

        return frozenset(str(t.value) for t in v1.Thematique)
    except Exception:  # the package moved its enums: fall back on categories
        return frozenset()


@lru_cache(maxsize=65536)
def known_thematique(value: str) -> bool:
    """Whether ``value`` belongs to the data·inclusion v0 or v1 thématiques."""
    t = value.strip().lower()
    if t in _v1_values():
        return True
    category, _, sub = t.partition("--")
    return category in _CATEGORIES_V0_V1 and ("--" not in sub)


def publics_v1(values: Iterable[str]) -> list[str]:
    """Publics in the v1 vocabulary where a v0 profil has an equivalent; others kept."""
    out: list[str] = []
    for v in values:
        mapped = _PUBLICS_V0.get(v.strip().lower(), v.strip().lower())
        if mapped and mapped not in out:
            out.append(mapped)
    return out


@lru_cache(maxsize=65536)
def _type_of(code: str) -> ActorType:
    t = actor_type_for_code(code)
    if t is ActorType.AUTRE:
        key = code.strip().lower().replace(" ", "-").replace("_", "-")
        t = _EXTRA_TYPE_CODES.get(key, actor_type_for_code(key))
    return t


def resolve_type(explicit: str, codes: Iterable[str]) -> tuple[str, str]:
    """``(actor type slug, source_type text)`` from an explicit type or the source's codes.

    An explicit valid type (set by a mapping file) wins; else the first code
    that maps to a type other than ``autre``; else ``autre``.  The codes are
    kept, joined by commas, as ``source_type``.
    """
    code_list = [c for c in (str(x).strip() for x in codes) if c]
    source_type = ",".join(dict.fromkeys(code_list))
    if explicit:
        try:
            return ActorType(explicit.strip().lower()).value, source_type
        except ValueError:
            pass
    for code in code_list:
        t = _type_of(code)
        if t is not ActorType.AUTRE:
            return t.value, source_type
    return ActorType.AUTRE.value, source_type
