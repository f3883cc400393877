"""Vocabularies at import: thématiques, publics, type codes → obstacles and actor types.

Why a layer over :mod:`mapapp.taxonomy`: real exports mix v0 and v1
vocabularies and carry codes the taxonomy does not list (v0 typologies such
as ``MDS`` or ``PIMMS``, source names such as ``fredo``).  Here a thématique
is *known* when its category belongs to the data·inclusion v0 or v1
vocabularies (v1 values come from the ``data-inclusion-schema`` package);
unknown ones are kept on the record and counted in the report, never
dropped.  Type codes are looked up in the taxonomy's one table.

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

from mapapp.taxonomy import (
    ActorType,
    actor_type_for_code,
    actor_type_for_codes,
    split_codes,
    type_code_key,
)

__all__ = ["known_thematique", "publics_v1", "resolve_type", "unknown_codes"]

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


def resolve_type(explicit: str, codes: Iterable[str]) -> tuple[str, str]:
    """``(actor type slug, source_type text)`` from an explicit type or the source's codes.

    An explicit type other than ``autre`` (set by a mapping file) wins; else
    the codes decide together (:func:`mapapp.taxonomy.actor_type_for_codes`:
    a shelter code anywhere makes a shelter).  The codes are kept, one per
    cell value, joined by commas, as ``source_type``.

    Examples
    --------
    >>> resolve_type("", ["France Services;CNFS"])
    ('france-services', 'France Services,CNFS')
    >>> resolve_type("autre", ["RS_FJT"])[0], resolve_type("siae", ["CHRS"])[0]
    ('hebergement', 'siae')
    """
    code_list = split_codes(str(x) for x in codes)
    source_type = ",".join(dict.fromkeys(code_list))
    if explicit:
        try:
            chosen = ActorType(explicit.strip().lower())
        except ValueError:
            chosen = ActorType.AUTRE
        if chosen is not ActorType.AUTRE:
            return chosen.value, source_type
    return actor_type_for_codes(code_list).value, source_type


def unknown_codes(codes: Iterable[str], source: str = "") -> list[str]:
    """The codes that name no actor type, for the report (the source's own name aside).

    Examples
    --------
    >>> unknown_codes(["ASSO", "ACI", "fredo", "MDS;CCAS"], source="fredo")
    ['ASSO', 'MDS']
    """
    skip = type_code_key(source) if source else ""
    return [
        c
        for c in dict.fromkeys(split_codes(codes))
        if actor_type_for_code(c) is ActorType.AUTRE and type_code_key(c) != skip
    ]
