"""Safety rules that protect the people in the data and the people using the app.

Why one module: a shelter's street, its exact coordinates and its private
phone must never reach a browser, whatever the page, the map, an export or a
shared link shows.  Every path from the store to the user goes through
:func:`public_view`, so the rule is enforced in one place instead of being
remembered in each page.  The same goes for links: :func:`safe_url` is the one
gate that turns a URL from data into something a page may link to.

Rules enforced here (see ``docs/safety.md``):

* a confidential record (``confidential=True``) is moved to its commune's
  representative point (or loses its coordinates when the commune is
  unknown), its street, complement, SIRET and private phone/e-mail are
  removed, and the public referral contact (``referral_phone``, default
  ``3919``) is shown instead;
* shelters (:attr:`ActorType.HEBERGEMENT`) are confidential unless a source
  explicitly says otherwise (:func:`apply_confidentiality_defaults`);
* only ``http``, ``https``, ``tel`` and ``mailto`` links are allowed.

Important: build search indexes and compute distances on the *public* view.
A distance computed from the true point and shown to a user lets anyone
triangulate the hidden address from three searches.

Examples
--------
>>> import pandas as pd
>>> from mapapp.schema import actors_frame
>>> communes = pd.DataFrame({"lat": [45.0], "lon": [5.0]}, index=pd.Index(["38185"]))
>>> actors = actors_frame([{"id": "s:1", "nom": "Abri", "confidential": True,
...     "adresse": "3 rue Cachée", "telephone": "04 00 00 00 00",
...     "code_insee": "38185", "latitude": 45.123, "longitude": 5.456}])
>>> shown = public_view(actors, communes)
>>> shown.loc[0, ["adresse", "telephone", "precision"]].tolist()
['', '3919', 'commune']
>>> float(shown.loc[0, "latitude"]), float(shown.loc[0, "longitude"])
(45.0, 5.0)
>>> safe_url("javascript:alert(1)") is None, safe_url("https://example.org/a?b=1")
(True, 'https://example.org/a?b=1')
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mapapp.schema import LIST_COLUMNS
from mapapp.taxonomy import ActorType

__all__ = [
    "CONFIDENTIAL_BY_DEFAULT",
    "HIDDEN_COLUMNS",
    "REFERRAL_PHONE",
    "SAFE_SCHEMES",
    "apply_confidentiality_defaults",
    "public_view",
    "safe_url",
    "tel_url",
]

#: Public referral line shown for a confidential record without its own.
#: 3919: Violences Femmes Info, free, anonymous, 24/7.
REFERRAL_PHONE = "3919"

#: Actor types whose records are confidential unless a source says otherwise.
CONFIDENTIAL_BY_DEFAULT: frozenset[ActorType] = frozenset({ActorType.HEBERGEMENT})

#: Columns emptied on confidential records (the phone is replaced, not emptied).
#: ``siret`` is included because the public SIRENE registry maps an
#: establishment's SIRET to its street address.
HIDDEN_COLUMNS = ("adresse", "complement_adresse", "siret", "courriel")

#: The only URL schemes a page may link to.
SAFE_SCHEMES = frozenset({"http", "https", "tel", "mailto"})

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_BARE_HOST = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?::\d{1,5})?(?:[/?#]\S*)?$"
)
_HOST = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?(?::\d{1,5})?$"
)
_PHONE = re.compile(r"^\+?[0-9]{2,15}$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,63}$")
# Characters that have a meaning in HTML, JavaScript or a template engine, and
# have no business in a link taken from data: refuse rather than guess.
_UNSAFE_CHARS = frozenset("<>\"'`\\{}|^")
_MAX_URL = 2048


def _has_control_or_space(text: str) -> bool:
    for ch in text:
        cat = unicodedata.category(ch)
        # Cc control (NUL, CR, LF, tab), Cf format (zero-width, RTL override),
        # Z* separators (spaces of every kind).
        if cat in {"Cc", "Cf", "Zs", "Zl", "Zp"}:
            return True
    return False


def tel_url(phone: Any) -> str | None:
    """A ``tel:`` link for a phone number as written in data, or ``None``.

    Spaces, dots, dashes and brackets are dropped; anything else (letters,
    markup) makes the number unusable as a link.

    Examples
    --------
    >>> tel_url("04 76 00 00 00"), tel_url("+33 (0)4.76.00.00.00"), tel_url("3919")
    ('tel:0476000000', 'tel:+330476000000', 'tel:3919')
    >>> tel_url("<b>12</b>") is None, tel_url("") is None
    (True, True)
    """
    if not isinstance(phone, str):
        return None
    digits = re.sub(r"[\s.\-()/\u00a0]", "", phone)
    return f"tel:{digits}" if _PHONE.match(digits) else None


def safe_url(url: Any) -> str | None:
    """Return ``url`` if a page may link to it, else ``None``.

    Why: ``site_web``, ``courriel`` and any link in imported data may be
    hostile (``javascript:``, ``data:``, ``vbscript:``, scheme hidden behind
    control characters or entities).  Only ``http``, ``https``, ``tel`` and
    ``mailto`` pass; a bare host such as ``www.example.org`` (common in
    source data) becomes ``https://www.example.org``.  URLs carrying
    characters that are markup or template syntax (``< > " ' ` { } \\``),
    whitespace, control or invisible format characters are refused, never
    repaired.

    Examples
    --------
    >>> safe_url("HTTPS://Example.org/x"), safe_url("www.cidff.fr")
    ('HTTPS://Example.org/x', 'https://www.cidff.fr')
    >>> safe_url("mailto:contact@cidff.fr"), safe_url("tel:+33476000000")
    ('mailto:contact@cidff.fr', 'tel:+33476000000')
    >>> [safe_url(u) for u in ["java\\tscript:alert(1)", "data:text/html,x", "//evil.org", ""]]
    [None, None, None, None]
    """
    if not isinstance(url, str):
        return None
    text = url.strip()
    if not text or len(text) > _MAX_URL:
        return None
    if _has_control_or_space(text) or any(ch in _UNSAFE_CHARS for ch in text):
        return None
    match = _SCHEME.match(text)
    if match is None:
        # No scheme: accept a plain host name (with optional path) as https.
        return f"https://{text}" if _BARE_HOST.match(text) else None
    scheme = match.group(1).lower()
    if scheme not in SAFE_SCHEMES:
        return None
    rest = text[match.end() :]
    if scheme in {"http", "https"}:
        if not rest.startswith("//"):
            return None
        authority = re.split(r"[/?#]", rest[2:], maxsplit=1)[0]
        host = authority.rsplit("@", 1)[-1]
        return text if host and _HOST.match(host) else None
    if scheme == "tel":
        return text if _PHONE.match(rest) else None
    address = rest.split("?", 1)[0]
    return text if _EMAIL.match(address) else None


def apply_confidentiality_defaults(
    frame: pd.DataFrame,
    *,
    explicit: pd.Series | None = None,
    types: Iterable[ActorType | str] = CONFIDENTIAL_BY_DEFAULT,
) -> pd.DataFrame:
    """Flag shelters confidential unless a source said otherwise; return a copy.

    Why: a shelter's address is secret by nature (an aggressor looks for it),
    and a source forgetting the flag must not publish it.  A source that
    *explicitly* marks a shelter as public (e.g. a day centre of a CHRS with a
    public reception desk) keeps its value.

    Parameters
    ----------
    frame : DataFrame
        Actors with ``actor_type`` and ``confidential`` columns.
    explicit : Series of bool, optional
        Aligned with ``frame``: True where a source (field or import mapping)
        set ``confidential`` itself.  Those rows keep their value.  Default:
        no row is explicit, so every record of ``types`` becomes confidential.
    types : iterable of ActorType
        Types confidential by default (shelters).

    Examples
    --------
    >>> from mapapp.schema import actors_frame
    >>> f = actors_frame([{"id": "a:1", "actor_type": "hebergement"},
    ...                   {"id": "a:2", "actor_type": "hebergement"},
    ...                   {"id": "a:3", "actor_type": "cidff"}])
    >>> apply_confidentiality_defaults(f)["confidential"].tolist()
    [True, True, False]
    >>> said = pd.Series([False, True, False])
    >>> apply_confidentiality_defaults(f, explicit=said)["confidential"].tolist()
    [True, False, False]
    """
    out = frame.copy()
    slugs = {str(ActorType(t).value) for t in types}
    by_type = out["actor_type"].astype(str).isin(slugs)
    if explicit is None:
        decided = pd.Series(False, index=out.index)
    else:
        decided = explicit.reindex(out.index).fillna(False).astype(bool)
    current = out["confidential"].fillna(False).astype(bool)
    out["confidential"] = current | (by_type & ~decided)
    return out


def _secret_pattern(record: Mapping[str, Any]) -> re.Pattern[str] | None:
    """One regex matching the record's street, complement, phone, e-mail or SIRET.

    Phone numbers match whatever separators they are written with
    (``04 76 00 00 00``, ``04.76.00.00.00``, ``0476000000``).
    """
    parts: list[str] = []
    for col in ("adresse", "complement_adresse", "courriel", "siret"):
        value = record.get(col)
        if isinstance(value, str) and len(value.strip()) >= 4:
            parts.append(re.escape(value.strip()))
    phone = record.get("telephone")
    if isinstance(phone, str):
        digits = re.sub(r"\D", "", phone)
        if len(digits) >= 6:
            parts.append(r"[\s.\-]?".join(digits))
    if not parts:
        return None
    # Longest first, so a street is removed before a shorter part of it.
    parts.sort(key=len, reverse=True)
    return re.compile("|".join(parts), flags=re.IGNORECASE)


def _scrub(value: Any, pattern: re.Pattern[str]) -> Any:
    """``value`` with every secret replaced by a neutral placeholder."""
    if isinstance(value, str) and value:
        return pattern.sub("[confidentiel]", value)
    if isinstance(value, list | tuple | np.ndarray):
        return [_scrub(v, pattern) for v in value]
    return value


#: Identifier and vocabulary columns: never free text, never scrubbed.
_NOT_FREE_TEXT = frozenset(
    {
        *HIDDEN_COLUMNS,
        *LIST_COLUMNS,
        "id",
        "source",
        "source_id",
        "structure_id",
        "actor_type",
        "source_type",
        "code_insee",
        "code_postal",
        "precision",
        "date_maj",
        "telephone",
        "referral_phone",
    }
)


def public_view(
    actors: gpd.GeoDataFrame,
    communes: pd.DataFrame,
    *,
    referral_phone: str = REFERRAL_PHONE,
) -> gpd.GeoDataFrame:
    """What may be shown to a browser: confidential records at their commune only.

    Why: safety rule 1 (``DOMAIN.md``).  The result is the only frame pages,
    maps, exports, search indexes and shared links should see.  The input is
    never modified.

    For each record with ``confidential=True``:

    * ``latitude``/``longitude``/geometry become the representative point of
      its commune (``communes.loc[code_insee, ["lat", "lon"]]``) and
      ``precision`` becomes ``"commune"``; if the commune is unknown, the
      coordinates are dropped (NaN, empty point) and ``precision`` is
      ``"none"``;
    * ``adresse``, ``complement_adresse``, ``siret`` and ``courriel`` are
      emptied;
    * ``telephone`` becomes the record's public ``referral_phone``, or
      ``referral_phone`` (3919) when it has none;
    * the hidden street, phone and e-mail are also removed from the other
      free-text fields (``nom``, ``description``...), where a social worker
      may have typed them.

    Parameters
    ----------
    actors : GeoDataFrame
        Actors as stored (:func:`mapapp.schema.actors_frame` columns).
    communes : DataFrame
        Indexed by ``code_insee``, with ``lat`` and ``lon`` columns (the
        reference geography's representative points).
    referral_phone : str
        Contact shown for confidential records lacking their own public line.

    Examples
    --------
    >>> from mapapp.schema import actors_frame
    >>> communes = pd.DataFrame({"lat": [45.0], "lon": [5.0]}, index=pd.Index(["38185"]))
    >>> actors = actors_frame([
    ...     {"id": "a:1", "confidential": True, "code_insee": "99999",
    ...      "adresse": "1 rue X", "latitude": 45.1, "longitude": 5.1},
    ...     {"id": "a:2", "adresse": "2 rue Y", "latitude": 45.2, "longitude": 5.2,
    ...      "telephone": "0400000000"}])
    >>> v = public_view(actors, communes)
    >>> v["precision"].tolist(), v["adresse"].tolist(), v["telephone"].tolist()
    (['none', 'address'], ['', '2 rue Y'], ['3919', '0400000000'])
    >>> bool(np.isnan(v.loc[0, "latitude"])), bool(v.geometry[0].is_empty)
    (True, True)
    """
    out = actors.copy()
    if "confidential" not in out.columns or len(out) == 0:
        return out
    mask = out["confidential"].fillna(False).astype(bool).to_numpy()
    if not mask.any():
        return out
    rows = out.index[mask]

    # Free text first, while the secrets are still known.
    geometry_name = out.geometry.name if isinstance(out, gpd.GeoDataFrame) else None
    text_cols = [
        c
        for c in out.columns
        if c not in _NOT_FREE_TEXT
        and c != geometry_name
        and (out[c].dtype == object or pd.api.types.is_string_dtype(out[c]))
    ]
    secret_cols = [c for c in (*HIDDEN_COLUMNS, "complement_adresse", "telephone") if c in out]
    records = out.loc[rows, list(dict.fromkeys([*secret_cols, *text_cols]))].to_dict("records")
    for idx, record in zip(rows, records, strict=True):
        pattern = _secret_pattern(record)
        if pattern is None:
            continue
        for col in text_cols:
            value = record[col]
            cleaned = _scrub(value, pattern)
            if isinstance(value, str) and cleaned == value:
                continue
            if cleaned is not value:
                out.at[idx, col] = cleaned

    for col in HIDDEN_COLUMNS:
        if col in out.columns:
            out.loc[rows, col] = ""
    own = (
        out.loc[rows, "referral_phone"].fillna("").astype(str).str.strip()
        if "referral_phone" in out.columns
        else pd.Series("", index=rows)
    )
    out.loc[rows, "telephone"] = own.where(own != "", referral_phone)

    codes = out.loc[rows, "code_insee"].fillna("").astype(str)
    known = codes.isin(communes.index)
    lat = pd.Series(np.nan, index=rows)
    lon = pd.Series(np.nan, index=rows)
    if known.any():
        ref = communes.loc[codes[known].to_numpy(), ["lat", "lon"]]
        lat[known] = ref["lat"].to_numpy(dtype=float)
        lon[known] = ref["lon"].to_numpy(dtype=float)
    out["latitude"] = out["latitude"].astype(float)
    out["longitude"] = out["longitude"].astype(float)
    out.loc[rows, "latitude"] = lat.to_numpy()
    out.loc[rows, "longitude"] = lon.to_numpy()
    out.loc[rows, "precision"] = np.where(known.to_numpy(), "commune", "none")

    if isinstance(out, gpd.GeoDataFrame) and out.geometry.name in out.columns:
        # An unknown commune gets an empty point (not POINT (NaN NaN), which
        # some writers serialise as invalid JSON).
        points = [
            shapely.Point() if np.isnan(y) or np.isnan(x) else shapely.Point(x, y)
            for x, y in zip(lon.to_numpy(), lat.to_numpy(), strict=True)
        ]
        geom = out.geometry.copy()
        geom.loc[rows] = gpd.GeoSeries(points, index=rows, crs=out.crs)
        out = out.set_geometry(geom)
    return out
