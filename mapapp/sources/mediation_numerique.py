"""The national standard for digital-inclusion places (lieux de médiation numérique).

Why its own adapter: the standard (published by the ANCT "cartographie
nationale") names its fields in French and uses free-text French
vocabularies for services, publics and conditions; its early form stored
multi-valued fields as ``;``-separated strings, later ones as ``|``-separated
strings or lists.  This adapter maps the services to data·inclusion
``numerique--*`` thématiques (and adds the obstacles some services clearly
address), the publics and access conditions to data·inclusion slugs, and the
``pivot`` (SIRET, or zeros when unknown) to ``siret``.

Examples
--------
>>> row = stage({"id": "0", "nom": "MSAP d'Abondance", "pivot": "00000000000000",
...     "services": "Accéder à du matériel;Réaliser des démarches administratives avec un accompagnement",
...     "conditions_acces": "Gratuit : Je peux accéder gratuitement au lieu",
...     "publics_accueillis": "Jeunes (16-26 ans);Familles/enfants", "source": "Hinaura"})
>>> row["thematiques"]
['numerique--acceder-a-du-materiel', 'numerique--realiser-des-demarches-administratives-avec-un-accompagnement']
>>> row["obstacles"], row["frais"], row["publics"], row["siret"], row["source"]
(['numerique', 'droits'], ['gratuit'], ['jeunes', 'familles'], '', 'hinaura')
>>> row["source_codes"][:2]
['france-services', 'mediation-numerique']
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mapapp.sources._base import Adapter, RawChunk, chunk_records, norm_key
from mapapp.sources._io import Probe, iter_flat_records, parse_list, probe

__all__ = ["MediationNumerique", "stage"]


def _slug(text: str) -> str:
    return norm_key(text).replace("_", "-").replace(".", "-")


_PUBLICS = {
    "jeunes-16-26-ans": "jeunes",
    "jeunes": "jeunes",
    "familles-enfants": "familles",
    "familles": "familles",
    "seniors-65-ans": "seniors",
    "seniors": "seniors",
    "adultes": "adultes",
    "uniquement-femmes": "femmes",
    "femmes": "femmes",
    "personnes-en-situation-d-illettrisme": "personnes-en-situation-illettrisme",
    "personnes-en-situation-de-handicap": "personnes-en-situation-de-handicap",
    "personnes-exilees": "personnes-exilees",
    "surdite": "surdite",
    "deficience-visuelle": "deficience-visuelle",
    "tout-public": "tous-publics",
    "tous-publics": "tous-publics",
}
_FRAIS = {
    "gratuit": "gratuit",
    "gratuit-sous-condition": "gratuit-sous-conditions",
    "gratuit-sous-conditions": "gratuit-sous-conditions",
    "payant": "payant",
    "adhesion": "adhesion",
    "accepte-le-pass-numerique": "pass-numerique",
    "pass-numerique": "pass-numerique",
}
#: words in a service label -> extra obstacle it addresses besides "numerique"
_EXTRA_OBSTACLES = (
    ("demarches-administratives", "droits"),
    ("insertion-professionnelle", "emploi"),
    ("materiel-informatique-a-prix-solidaire", "besoins"),
)
_FRANCE_SERVICES = re.compile(
    r"france\s*services?|maison\s+de(s)?\s+services?\s+au\s+public|\bmsap\b", re.I
)


def _list(value: Any) -> list[str]:
    if isinstance(value, str) and "|" in value and ";" not in value:
        return parse_list(value, sep="|")
    return parse_list(value, sep=";") if isinstance(value, str) else parse_list(value)


def stage(record: Mapping[str, Any]) -> dict[str, Any]:
    """Staging row of one digital-inclusion place."""
    rec = {norm_key(k): v for k, v in record.items()}
    out: dict[str, Any] = {}
    for col, keys in {
        "source_id": ("id",),
        "nom": ("nom",),
        "adresse": ("adresse",),
        "complement_adresse": ("complement_adresse",),
        "code_postal": ("code_postal",),
        "code_insee": ("code_insee",),
        "commune": ("commune",),
        "latitude": ("latitude",),
        "longitude": ("longitude",),
        "telephone": ("telephone",),
        "courriel": ("courriel", "courriels"),
        "site_web": ("site_web",),
        "horaires_accueil": ("horaires",),
        "date_maj": ("date_maj",),
        "description": ("presentation_detail", "presentation_resume"),
        "coords": ("geometry", "_geometry"),
    }.items():
        for key in keys:
            value = rec.get(key)
            if value is not None and value == value and str(value).strip() != "":
                out[col] = value if col != "courriel" else _list(value)[0] if _list(value) else ""
                break
    for multi in ("site_web",):
        if isinstance(out.get(multi), str):
            out[multi] = _list(out[multi])[0] if _list(out[multi]) else ""
    services = _list(rec.get("services"))
    out["thematiques"] = ["numerique--" + _slug(s) for s in services]
    obstacles = ["numerique"]
    for s in services:
        for words, obstacle in _EXTRA_OBSTACLES:
            if words in _slug(s) and obstacle not in obstacles:
                obstacles.append(obstacle)
    out["obstacles"] = obstacles
    publics = _list(rec.get("publics_accueillis") or rec.get("publics_specifiquement_adresses"))
    out["publics"] = list(dict.fromkeys(_PUBLICS.get(_slug(p), _slug(p)) for p in publics))
    conditions = _list(rec.get("conditions_acces") or rec.get("frais_a_charge"))
    out["frais"] = [_FRAIS.get(_slug(c.split(":")[0]), _slug(c.split(":")[0])) for c in conditions]
    pivot = re.sub(r"\D", "", str(rec.get("pivot") or ""))
    out["siret"] = pivot if pivot.strip("0") else ""
    source = str(rec.get("source") or "mediation-numerique").strip()
    out["source"] = _slug(source) or "mediation-numerique"
    codes = _list(rec.get("typologie"))
    if _FRANCE_SERVICES.search(str(rec.get("nom") or "")):
        codes.insert(0, "france-services")
    out["source_codes"] = [*codes, "mediation-numerique"]
    return out


class MediationNumerique(Adapter):
    """Lieux de médiation numérique (ANCT standard, early ``;`` form and later ones)."""

    name = "mediation-numerique"
    label = "lieux de médiation numérique (national standard, incl. early ';' form)"

    def detect(self, p: Probe) -> bool:
        """A ``pivot`` and ``services`` next to ``nom`` and an address field."""
        cols = {norm_key(c) for c in p.columns}
        return {"pivot", "services", "nom"} <= cols and bool(cols & {"adresse", "commune"})

    def chunks(self, paths: list[Path]) -> Iterator[RawChunk]:
        """Stream staging rows of every file."""
        return chunk_records(self._records(paths), adapter=self.name)

    def _records(
        self, paths: list[Path]
    ) -> Iterator[tuple[str, Mapping[str, Any], dict[str, Any] | str]]:
        for path in paths:
            for n, rec in iter_flat_records(probe(path)):
                origin = f"{path.name}#{n}"
                if not isinstance(rec, Mapping):
                    yield origin, {"value": rec}, "not a record (expected a JSON object)"
                else:
                    yield origin, rec, stage(rec)
