"""Add by hand a crèche no source lists (a company crèche), so it can hold reserved places.

Why a record of the actors layer: a company crèche that reserves places must
show up in searches, on the map and in the plan like any crèche.  It is
written as a record of source ``manuel`` (id ``manuel:<slug>-<code INSEE>``)
in a new generation of the store, under the import lock; imports keep records
they did not bring (see :mod:`mapapp.ingest.pipeline`), so it stays.

It is located with the reference geography: the commune is resolved like a
search's place (name, name and département, postcode or INSEE code); a
point, when given, must fall in France, else the record sits at its commune
(``precision="commune"``) and says so.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from mapapp.errors import DataValidationError
from mapapp.settings import Settings
from mapapp.taxonomy import ActorType

__all__ = ["ManualCreche", "add_creche", "slug"]


def slug(text: str) -> str:
    """A short id-safe form of a name.

    Examples
    --------
    >>> slug("Crèche d'entreprise « Les P'tits Loups »")
    'creche-d-entreprise-les-p-tits-loups'
    """
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:60]


@dataclass(frozen=True)
class ManualCreche:
    """What :func:`add_creche` wrote: the new record's id and where it sits."""

    actor_id: str
    commune: str
    code_insee: str
    precision: str


def add_creche(
    settings: Settings,
    name: str,
    commune: str,
    *,
    address: str = "",
    postcode: str = "",
    lat: float | None = None,
    lon: float | None = None,
    phone: str = "",
) -> ManualCreche:
    """Write a crèche record of source ``manuel`` into the store (a new generation).

    Raises
    ------
    DataValidationError
        No name, a point outside France, an id already in the store.
    UnknownPlaceError, AmbiguousPlaceError
        The commune is not found, or several match (the error lists them).
    StoreError
        The store holds no import yet (the demonstration data would disappear).
    """
    import numpy as np
    import pandas as pd

    from mapapp.geo.places import resolve_place
    from mapapp.reserved.creches import _geography
    from mapapp.schema import actors_frame, in_france
    from mapapp.store.append import append_records

    name = " ".join(name.split())
    if not name or len(name) > 200:
        raise DataValidationError("un nom de 1 à 200 caractères / a name of 1 to 200 characters")
    place = resolve_place(commune, _geography(str(settings.cache_dir)))
    precision = "commune"
    if lat is not None and lon is not None:
        if not bool(in_france(np.array([lat]), np.array([lon]))[0]):
            raise DataValidationError(
                "ce point n'est pas en France (latitude puis longitude, en degrés) / "
                "this point is not in France (latitude then longitude, in degrees)"
            )
        precision = "address"
    else:
        lat, lon = place.lat, place.lon
    actor_type = ActorType.CRECHE
    actor_id = f"manuel:{slug(name)}-{place.code_insee}"
    record = {
        "id": actor_id,
        "source": "manuel",
        "source_id": actor_id.split(":", 1)[1],
        "nom": name,
        "actor_type": actor_type.value,
        "source_type": "creche-entreprise",
        "thematiques": ["famille--garde-denfants"],
        "obstacles": sorted(o.value for o in actor_type.default_obstacles),
        "adresse": " ".join(address.split()),
        "code_postal": postcode.strip(),
        "code_insee": place.code_insee,
        "commune": place.nom,
        "latitude": float(lat),
        "longitude": float(lon),
        "precision": precision,
        "telephone": " ".join(phone.split()),
        "date_maj": pd.Timestamp.now(tz="UTC").date().isoformat(),
    }
    append_records(settings, actors_frame([record]))
    return ManualCreche(actor_id, place.nom, place.code_insee, precision)
