"""Service records in data·inclusion v1 shape, as the field's tools expect them.

Why a mapping layer: the store keeps what sources said (``frais`` as a list,
v0 and v1 vocabularies side by side, ``zone_eligibilite`` empty when unknown),
while data·inclusion v1 is stricter: one ``frais`` value among ``gratuit`` and
``payant``; ``publics`` with ``tous-publics`` alone; optional fields absent
rather than empty; codes matching their patterns.  This module turns one
record of the **public view** (:func:`mapapp.catalog.load_public_actors`) into
a v1 ``Service`` dictionary, and :func:`validate_services` checks a batch
against the ``data-inclusion-schema`` package's own pydantic model.

Rules (each keeps the meaning, nothing is invented):

* ``frais``: ``gratuit`` when every value is free (``gratuit``,
  ``gratuit-sous-conditions``), ``payant`` when one is not (``payant``,
  ``adhesion``, ``pass-numerique``); the original values go to
  ``frais_precisions`` when they say more than the single v1 value;
* ``publics``: a service open to everyone (``tous-publics``) is exported as
  ``["tous-publics"]`` and the other publics it names go to
  ``publics_precisions`` (v1 forbids mixing); unknown (v0) codes are dropped;
* ``thematiques``, ``modes_accueil``: values outside the v1 vocabularies are
  dropped (they stay in the store);
* empty strings and empty lists become absent (``None``);
* ``zone_eligibilite``: codes that are not INSEE/EPCI/country codes are dropped;
* mapapp's own fields (obstacles, actor type, confidentiality, precision)
  ride along under ``"mapapp"``, which v1 consumers ignore.

A confidential record arrives here already at its commune (the public view):
no street, its commune's point, the referral phone.

Examples
--------
>>> from mapapp.schema import actors_frame
>>> row = actors_frame([{"id": "demo:1", "source": "demo", "structure_id": "s1",
...     "nom": "Atelier de français", "description": "Cours de français pour adultes.",
...     "frais": ["gratuit", "adhesion"], "publics": ["tous-publics", "personnes-exilees"],
...     "code_insee": "38185", "latitude": 45.19, "longitude": 5.72,
...     "date_maj": "2026-11-01"}]).iloc[0]
>>> svc = to_v1_service(row)
>>> svc["frais"], svc["frais_precisions"], svc["publics"], svc["publics_precisions"]
('payant', 'gratuit, adhesion', ['tous-publics'], 'Notamment : personnes-exilees')
>>> svc["zone_eligibilite"] is None, svc["adresse"] is None
(True, True)
>>> validate_services([svc]).valid
1
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "V1_FIELDS",
    "ValidationReport",
    "services_v1",
    "to_v1_service",
    "validate_services",
]

_FREE = frozenset({"gratuit", "gratuit-sous-conditions"})
_ALL = "tous-publics"
_NOM_MAX = 150
_ZONE = re.compile(r"^(?:\d[0-9AB]\d{3}|\d{2,3}|2[AB]|\d{9}|99\d{3}|france)$")
_CODE_INSEE = re.compile(r"^(?:\d{2}|2A|2B)\d{3}$")
_CODE_POSTAL = re.compile(r"^\d{5}$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,63}$")

#: Fields of a v1 ``Service`` this module fills (in output order).
V1_FIELDS = (
    "id",
    "source",
    "structure_id",
    "nom",
    "description",
    "date_maj",
    "thematiques",
    "frais",
    "frais_precisions",
    "publics",
    "publics_precisions",
    "commune",
    "code_postal",
    "code_insee",
    "adresse",
    "complement_adresse",
    "longitude",
    "latitude",
    "telephone",
    "courriel",
    "modes_accueil",
    "zone_eligibilite",
    "horaires_accueil",
)


def _vocab() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    from data_inclusion.schema import v1

    return (
        frozenset(t.value for t in v1.Thematique),
        frozenset(p.value for p in v1.Public),
        frozenset(m.value for m in v1.ModeAccueil),
    )


_THEMATIQUES, _PUBLICS, _MODES = _vocab()


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _strings(value: Any) -> list[str]:
    if value is None or isinstance(value, str | float):
        return [value] if isinstance(value, str) and value else []
    return [str(v) for v in value]


def _frais(values: list[str]) -> tuple[str | None, str | None]:
    if not values:
        return None, None
    single = "gratuit" if all(v in _FREE for v in values) else "payant"
    precision = None if values == [single] else ", ".join(values)
    return single, precision


def _publics(values: list[str]) -> tuple[list[str] | None, str | None]:
    known = [p for p in dict.fromkeys(values) if p in _PUBLICS]
    if _ALL in known:
        others = [p for p in known if p != _ALL]
        return [_ALL], ("Notamment : " + ", ".join(others)) if others else None
    return known or None, None


def _float(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _nom(row: Mapping[str, Any]) -> str:
    nom = _text(row.get("nom")) or _text(row.get("structure_nom")) or str(row.get("id", ""))
    if len(nom) > _NOM_MAX:
        nom = nom[: _NOM_MAX - 1].rstrip() + "…"
    return nom


def to_v1_service(row: Mapping[str, Any] | pd.Series) -> dict[str, Any]:
    """One public-view record as a data·inclusion v1 ``Service`` dictionary.

    Parameters
    ----------
    row : mapping
        A row of the public view (never a raw store record: confidential
        records must already be at their commune).
    """
    from mapapp.reserved_view import api_fields

    r: Mapping[str, Any] = (
        {str(k): v for k, v in row.items()} if isinstance(row, pd.Series) else row
    )
    frais, frais_precisions = _frais(_strings(r.get("frais")))
    publics, publics_precisions = _publics(_strings(r.get("publics")))
    thematiques = [t for t in dict.fromkeys(_strings(r.get("thematiques"))) if t in _THEMATIQUES]
    modes = [m for m in dict.fromkeys(_strings(r.get("modes_accueil"))) if m in _MODES]
    zone = [z for z in _strings(r.get("zone_eligibilite")) if _ZONE.match(z)]
    code_insee = _text(r.get("code_insee"))
    code_postal = _text(r.get("code_postal"))
    courriel = _text(r.get("courriel"))
    description = _text(r.get("description"))
    nom = _nom(r)
    out: dict[str, Any] = {
        "id": str(r.get("id", "")),
        "source": _text(r.get("source")) or "mapapp",
        "structure_id": _text(r.get("structure_id")) or str(r.get("id", "")),
        "nom": nom,
        "description": description if description and len(description) >= 5 else nom,
        "date_maj": _text(r.get("date_maj")),
        "thematiques": thematiques or None,
        "frais": frais,
        "frais_precisions": frais_precisions,
        "publics": publics,
        "publics_precisions": publics_precisions,
        "commune": _text(r.get("commune")),
        "code_postal": code_postal if code_postal and _CODE_POSTAL.match(code_postal) else None,
        "code_insee": code_insee if code_insee and _CODE_INSEE.match(code_insee) else None,
        "adresse": _text(r.get("adresse")),
        "complement_adresse": _text(r.get("complement_adresse")),
        "longitude": _float(r.get("longitude")),
        "latitude": _float(r.get("latitude")),
        "telephone": _text(r.get("telephone")),
        "courriel": courriel if courriel and _EMAIL.match(courriel) else None,
        "modes_accueil": modes or None,
        "zone_eligibilite": zone or None,
        "horaires_accueil": _text(r.get("horaires_accueil")),
    }
    out["mapapp"] = {
        "obstacles": _strings(r.get("obstacles")),
        "actor_type": str(r.get("actor_type", "")),
        "structure_nom": _text(r.get("structure_nom")),
        "site_web": _text(r.get("site_web")),
        "confidential": bool(r.get("confidential", False)),
        "precision": str(r.get("precision", "")),
        "demo": bool(r.get("demo", False)),
        "places_reservees": api_fields(r),
    }
    return out


def services_v1(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Every record of a public-view frame as v1 ``Service`` dictionaries."""
    columns = [c for c in frame.columns if c != "geometry"]
    records = frame[columns].to_dict(orient="records")
    return [to_v1_service({str(k): _plain(v) for k, v in rec.items()}) for rec in records]


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, np.ndarray) else value


@dataclass
class ValidationReport:
    """How many services validate against data·inclusion v1, and why the others do not."""

    valid: int = 0
    invalid: int = 0
    errors: dict[str, list[str]] = field(default_factory=dict)


def validate_services(services: Iterable[Mapping[str, Any]]) -> ValidationReport:
    """Validate with ``data_inclusion.schema.v1.Service`` (the package's own model).

    ``errors`` maps an invalid service's id to its messages (``field: reason``).
    """
    import pydantic
    from data_inclusion.schema import v1

    report = ValidationReport()
    for svc in services:
        try:
            v1.Service.model_validate({k: v for k, v in svc.items() if k != "mapapp"})
        except pydantic.ValidationError as exc:
            report.invalid += 1
            report.errors[str(svc.get("id"))] = [
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            ]
        else:
            report.valid += 1
    return report
