"""Coordinates as the field writes them, and the repairs real data needs.

Why: sources give points as numbers, as strings with a decimal comma, as
EWKT (``SRID=4326;POINT (lon lat)``), as GeoJSON geometries or in Lambert-93
metres; and they get them wrong in known ways (latitude and longitude
swapped, a lost minus sign, Lambert-93 metres in the degree columns).  This
module parses all forms into WGS84 degrees, flags what it had to
interpret, and proposes *candidate repairs*; :mod:`mapapp.ingest.clean`
accepts a candidate only when it falls inside the record's declared commune.

Examples
--------
>>> lat, lon, how = parse_coordinates(pd.DataFrame({"latitude": ["20,88"], "longitude": ["55,44"]}))
>>> float(lat[0]), float(lon[0]), how[0]
(20.88, 55.44, 'decimal comma')
>>> parse_point("SRID=4326;POINT (2.431955 48.88053)")
(48.88053, 2.431955, '')
>>> [name for name, _ in repair_candidates(np.array([20.9]), np.array([55.5]))][:3]
['swapped latitude and longitude', 'lost minus sign on latitude', 'lost minus sign on longitude']
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pyproj import Transformer

__all__ = ["lambert93_to_wgs84", "parse_coordinates", "parse_point", "repair_candidates"]

_POINT = re.compile(
    r"^\s*(?:SRID=(\d+)\s*;\s*)?POINT\s*Z?\s*\(\s*([-+0-9.eE]+)[\s,]+([-+0-9.eE]+)[^)]*\)\s*$",
    re.I,
)
_COMMA_NUMBER = re.compile(r"^\s*[-+]?\d+,\d+\s*$")
Floats = NDArray[np.float64]


@lru_cache(maxsize=1)
def _l93() -> Transformer:
    return Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)


def lambert93_to_wgs84(x: Any, y: Any) -> tuple[Floats, Floats]:
    """Lambert-93 metres (EPSG:2154) to ``(lat, lon)`` degrees.

    Examples
    --------
    >>> lat, lon = lambert93_to_wgs84([652469.0], [6862035.0])  # Paris, Notre-Dame
    >>> round(float(lat[0]), 2), round(float(lon[0]), 2)
    (48.86, 2.35)
    """
    lon, lat = _l93().transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)


def _is_l93(x: float, y: float) -> bool:
    return 50_000 <= x <= 1_300_000 and 6_000_000 <= y <= 7_200_000


def parse_point(value: Any) -> tuple[float, float, str]:
    """``(lat, lon, note)`` from EWKT/WKT text or a GeoJSON point (``nan`` if none)."""
    nan = float("nan")
    if value is None or (isinstance(value, float) and value != value):
        return nan, nan, ""
    geom: Any = value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return nan, nan, ""
        m = _POINT.match(text)
        if m:
            srid, a, b = m.group(1), float(m.group(2)), float(m.group(3))
            if srid == "2154" or (srid is None and _is_l93(a, b)):
                lat, lon = lambert93_to_wgs84([a], [b])
                return float(lat[0]), float(lon[0]), "Lambert-93 converted"
            return b, a, ""
        if text.startswith("{"):
            try:
                geom = json.loads(text)
            except ValueError:
                return nan, nan, "unreadable point"
        else:
            return nan, nan, "unreadable point"
    if isinstance(geom, Mapping):
        coords = geom.get("coordinates")
        if geom.get("type") == "Point" and isinstance(coords, (list, tuple)) and len(coords) >= 2:
            try:
                return float(coords[1]), float(coords[0]), ""
            except (TypeError, ValueError):
                return nan, nan, "unreadable point"
        if geom.get("type"):
            return nan, nan, f"geometry {geom.get('type')} is not a point"
    return nan, nan, "unreadable point"


def _numbers(values: pd.Series) -> tuple[Floats, NDArray[np.bool_]]:
    """Numbers of a column of text or numbers, and where a decimal comma was read.

    A column of text (a CSV's) is read column-wise; anything else cell by cell.

    >>> out, comma = _numbers(pd.Series(["45,5", " 2.25 ", "", None, "x"]))
    >>> out.tolist()[:2], np.isnan(out[2:]).all(), comma.tolist()
    ([45.5, 2.25], np.True_, [True, False, False, False, False])
    """
    raw = values.to_numpy(dtype=object)
    if len(raw) and pd.api.types.infer_dtype(raw, skipna=True) in ("string", "empty"):
        return _text_numbers(raw)
    return _cell_numbers(raw)


def _text_numbers(raw: NDArray[np.object_]) -> tuple[Floats, NDArray[np.bool_]]:
    """Numbers of a column of text, in plain Python loops (a third of pandas' string methods' cost).

    >>> out, comma = _text_numbers(np.array([" -1,5 ", "2", None, "1,2,3"], dtype=object))
    >>> out[:2].tolist(), np.isnan(out[2:]).tolist(), comma.tolist()
    ([-1.5, 2.0], [True, True], [True, False, False, False])
    """
    cells = raw.tolist()
    try:  # only strings (a CSV column): str.strip mapped at C speed
        text = list(map(str.strip, cells))
    except TypeError:
        text = pd.Series(raw, dtype=object).fillna("").astype(str).str.strip().tolist()
    comma = np.fromiter(
        ("," in t and _COMMA_NUMBER.match(t) is not None for t in text), dtype=bool, count=len(text)
    )
    for i in np.flatnonzero(comma).tolist():
        text[i] = text[i].replace(",", ".")
    cells = [t or "nan" for t in text]
    try:
        return np.fromiter(map(float, cells), dtype=float, count=len(cells)), comma
    except ValueError:  # a cell that is no number: one by one, as below
        out, _ = _cell_numbers(np.array(cells, dtype=object))
        return out, comma


def _cell_numbers(raw: NDArray[np.object_]) -> tuple[Floats, NDArray[np.bool_]]:
    out = np.full(len(raw), np.nan)
    comma = np.zeros(len(raw), dtype=bool)
    for i, v in enumerate(raw):
        if isinstance(v, str):
            text = v.strip()
            if _COMMA_NUMBER.match(text):
                text, comma[i] = text.replace(",", "."), True
            with contextlib.suppress(ValueError):
                out[i] = float(text)
        elif isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
            out[i] = float(v)
    return out, comma


def parse_coordinates(rows: pd.DataFrame) -> tuple[Floats, Floats, list[str]]:
    """Latitudes, longitudes and a note per row from every coordinate form present.

    Order of preference: ``latitude``/``longitude``, then ``coords``
    (EWKT/WKT/GeoJSON), then ``x_l93``/``y_l93``.  Notes say what was
    interpreted: ``decimal comma``, ``Lambert-93 converted``,
    ``Lambert-93 in the degree columns`` (only flagged here; the repair is
    accepted later), ``unreadable point``.
    """
    n = len(rows)
    lat = np.full(n, np.nan)
    lon = np.full(n, np.nan)
    notes = [""] * n
    if "latitude" in rows and "longitude" in rows:
        la, c1 = _numbers(rows["latitude"])
        lo, c2 = _numbers(rows["longitude"])
        lat, lon = la, lo
        for i in np.flatnonzero(c1 | c2):
            notes[i] = "decimal comma"
    if "coords" in rows:
        missing = np.flatnonzero(np.isnan(lat) | np.isnan(lon))
        values = rows["coords"].to_numpy(dtype=object)
        for i in missing:
            a, b, note = parse_point(values[i])
            lat[i], lon[i] = a, b
            if note:
                notes[i] = note
    if "x_l93" in rows and "y_l93" in rows:
        missing = np.isnan(lat) | np.isnan(lon)
        x, _ = _numbers(rows["x_l93"])
        y, _ = _numbers(rows["y_l93"])
        use = missing & ~np.isnan(x) & ~np.isnan(y)
        if use.any():
            la, lo = lambert93_to_wgs84(x[use], y[use])
            lat[use], lon[use] = la, lo
            for i in np.flatnonzero(use):
                notes[i] = "Lambert-93 converted"
    bad = ~(np.isfinite(lat) & np.isfinite(lon))
    lat[bad], lon[bad] = np.nan, np.nan
    return lat, lon, notes


def repair_candidates(lat: Floats, lon: Floats) -> list[tuple[str, tuple[Floats, Floats]]]:
    """Candidate repaired points, in order of likelihood, for known defects.

    Each candidate is ``(name, (lat, lon))`` arrays aligned with the input;
    a candidate that does not apply to a row is ``nan`` there.
    """
    with np.errstate(invalid="ignore"):
        l93 = (np.abs(lat) > 1000) | (np.abs(lon) > 1000)
    la93 = np.full(lat.shape, np.nan)
    lo93 = np.full(lat.shape, np.nan)
    if l93.any():
        # Lambert-93 metres written into the degree columns, in either order
        x = np.where(lon > lat, lat, lon)
        y = np.where(lon > lat, lon, lat)
        a, b = lambert93_to_wgs84(x[l93], y[l93])
        la93[l93], lo93[l93] = a, b
    return [
        ("swapped latitude and longitude", (lon, lat)),
        ("lost minus sign on latitude", (-lat, lon)),
        ("lost minus sign on longitude", (lat, -lon)),
        ("lost minus signs on latitude and longitude", (-lat, -lon)),
        ("swapped and lost minus sign", (-lon, lat)),
        ("swapped and lost minus sign on longitude", (lon, -lat)),
        ("Lambert-93 metres given as degrees", (la93, lo93)),
    ]
