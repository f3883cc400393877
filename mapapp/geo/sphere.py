"""Great-circle distances through 3D unit vectors.

Why 3D unit vectors: a k-d tree on (x, y, z) points of the unit sphere finds
nearest neighbours by chord length, which is a monotonic function of the
great-circle distance; converting chord to arc gives exact spherical distances
everywhere, overseas départements included, where Lambert-93 is invalid.

Examples
--------
>>> import numpy as np
>>> round(float(haversine_km(48.8566, 2.3522, 45.7640, 4.8357)), 0)  # Paris-Lyon
391.0
>>> xyz = to_unit_xyz(np.array([0.0]), np.array([0.0]))
>>> xyz.round(6).tolist()
[[1.0, 0.0, 0.0]]
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "EARTH_RADIUS_KM",
    "chord_to_km",
    "haversine_km",
    "km_to_chord",
    "to_unit_xyz",
]

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius


def to_unit_xyz(lat: ArrayLike, lon: ArrayLike) -> NDArray[np.float64]:
    """Points (degrees) as an ``(n, 3)`` array of unit vectors."""
    la = np.radians(np.asarray(lat, dtype=float))
    lo = np.radians(np.asarray(lon, dtype=float))
    cos_la = np.cos(la)
    return np.column_stack([cos_la * np.cos(lo), cos_la * np.sin(lo), np.sin(la)])


def chord_to_km(chord: ArrayLike) -> NDArray[np.float64]:
    """Great-circle distance (km) for chord lengths on the unit sphere.

    ``inf`` (a k-d tree's "nothing found") stays ``inf``.
    """
    c = np.asarray(chord, dtype=float)
    with np.errstate(invalid="ignore"):
        arc = 2.0 * np.arcsin(np.clip(c / 2.0, 0.0, 1.0))
    return np.where(np.isfinite(c), arc * EARTH_RADIUS_KM, np.inf)


def km_to_chord(km: float) -> float:
    """Chord length on the unit sphere for a great-circle distance in km."""
    arc = min(km / EARTH_RADIUS_KM, np.pi)
    return float(2.0 * np.sin(arc / 2.0))


def haversine_km(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike
) -> NDArray[np.float64]:
    """Great-circle distance in km by the haversine formula (the reference)."""
    p1, p2 = np.radians(np.asarray(lat1, float)), np.radians(np.asarray(lat2, float))
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2, float) - np.asarray(lon1, float))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1))))
