"""INSEE codes for records: from the code given, from the point, or from postcode and name.

Why: coverage counts people per commune, so every record needs a commune,
and the code a source gives must be checked (old codes, lost leading zeros,
the city-wide codes of Paris, Lyon and Marseille).  Records without a code
get one from their point (point in commune polygon), else from their
postcode and commune name compared accent-, case- and hyphen-insensitively,
with "Cedex" dropped, arrondissements spelled out ("PARIS 11", "Lyon 3ème")
and a fuzzy match for typos.

Examples
--------
>>> normalize_insee(1001), normalize_insee("2a004"), normalize_insee("97411.0")
('01001', '2A004', '97411')
>>> arrondissement_code("PARIS 11EME"), arrondissement_code("Marseille 1er"), arrondissement_code("Lyon")
('75111', '13201', None)
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from rapidfuzz import fuzz, process

from mapapp.geo.communes import PLM_CITY_CODES, Geography
from mapapp.geo.text import normalize_place

__all__ = ["Locator", "arrondissement_code", "normalize_insee", "normalize_postcode"]

_ARR = re.compile(r"^(paris|lyon|marseille)\s+(\d{1,2})\s*(?:e|er|eme|ere|ieme|em)?(?:\s+arr\w*)?$")
_ARR_BASE = {"paris": 75100, "lyon": 69380, "marseille": 13200}
_ARR_MAX = {"paris": 20, "lyon": 9, "marseille": 16}
#: tolerance (degrees, ~500 m) for "inside the declared commune": polygons are
#: simplified (~50 m) and addresses on a boundary street fall either side
_TOLERANCE_DEG = 0.005
#: overseas collectivities without communes in the reference geography
_OUTSIDE = {
    "975": "Saint-Pierre-et-Miquelon",
    "977": "Saint-Barthélemy or Saint-Martin",
    "978": "Saint-Martin",
    "986": "Wallis-et-Futuna",
    "987": "French Polynesia",
    "988": "New Caledonia",
}


def normalize_insee(value: Any) -> str:
    """An INSEE code as a 5-character string ('' when it cannot be one)."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = str(value).strip().upper()
    if text.endswith(".0"):
        text = text[:-2]
    if re.fullmatch(r"\d{4}", text):
        text = "0" + text
    return text if re.fullmatch(r"\d{5}|2[AB]\d{3}", text) else ""


def normalize_postcode(value: Any) -> str:
    """A postcode as 5 digits ('' when it cannot be one)."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = re.sub(r"\s", "", str(value))
    if text.endswith(".0"):
        text = text[:-2]
    if re.fullmatch(r"\d{4}", text):
        text = "0" + text
    return text if re.fullmatch(r"\d{5}", text) else ""


def arrondissement_code(name: str) -> str | None:
    """INSEE code of "Paris 11", "Lyon 3e", "Marseille 13ème arrondissement"."""
    m = _ARR.match(normalize_place(name))
    if not m:
        return None
    city, n = m.group(1), int(m.group(2))
    if not 1 <= n <= _ARR_MAX[city]:
        return None
    return str(_ARR_BASE[city] + n)


def _departement_of_postcode(pc: str) -> list[str]:
    if pc.startswith("97") or pc.startswith("98"):
        return [pc[:3]]
    if pc.startswith("20"):
        return ["2A", "2B"]
    return [pc[:2]]


class Locator:
    """Commune lookups on one :class:`~mapapp.geo.communes.Geography`."""

    def __init__(self, geo: Geography) -> None:
        self.geo = geo
        self.communes = geo.communes
        self._codes = self.communes.index.to_numpy(dtype=str)
        self._kind_arm = (self.communes["kind"] == "ARM").to_numpy()
        self._plm = self.communes["plm_city"].to_numpy(dtype=bool)
        self._polys = self.communes.geometry.to_numpy()
        self._name_cache: dict[tuple[str, str], tuple[str, str]] = {}

    @cached_property
    def _tree(self) -> shapely.STRtree:
        return shapely.STRtree(self._polys)

    @cached_property
    def _by_dep(self) -> dict[str, dict[str, list[str]]]:
        out: dict[str, dict[str, list[str]]] = {}
        c = self.communes.sort_values("population", ascending=False, kind="stable")
        for code, dep, key, bare in zip(
            c.index,
            c["departement"],
            c["name_key"],
            c.get("name_key_bare", c["name_key"]),
            strict=True,
        ):
            names = out.setdefault(str(dep), {})
            names.setdefault(str(key), []).append(str(code))
            if bare != key:
                names.setdefault(str(bare), []).append(str(code))
        return out

    def known(self, codes: NDArray[np.object_]) -> NDArray[np.bool_]:
        """Which codes are communes (or arrondissements) of the reference."""
        return np.isin(codes.astype(str), self._codes)

    def commune_of_points(
        self, lat: NDArray[np.float64], lon: NDArray[np.float64]
    ) -> NDArray[np.object_]:
        """INSEE code of the commune (arrondissement in Paris, Lyon, Marseille) of each point.

        Points just off a simplified coastline are given the nearest commune
        within about a kilometre; points elsewhere get ''.
        """
        n = len(lat)
        out = np.full(n, "", dtype=object)
        ok = np.isfinite(lat) & np.isfinite(lon)
        if not ok.any():
            return out
        idx = np.flatnonzero(ok)
        points = shapely.points(lon[idx], lat[idx])
        pi, gi = self._tree.query(points, predicate="intersects")
        # prefer arrondissements over their city-wide polygon
        order = np.lexsort((self._plm[gi], pi))
        best: dict[int, int] = {}
        for p, g in zip(pi[order], gi[order], strict=True):
            best.setdefault(int(p), int(g))
        for p, g in best.items():
            out[idx[p]] = self._codes[g]
        missing = [i for i in range(len(idx)) if i not in best]
        if missing:
            mp = np.asarray(missing)
            qi, gj = self._tree.query_nearest(points[mp], max_distance=0.01, all_matches=False)
            for q, g in zip(qi, gj, strict=True):
                if not self._plm[g]:
                    out[idx[mp[q]]] = self._codes[g]
        return out

    def in_communes(
        self, codes: NDArray[np.object_], lat: NDArray[np.float64], lon: NDArray[np.float64]
    ) -> NDArray[np.bool_]:
        """Whether each point lies in (or within ~500 m of) the commune of its code."""
        n = len(codes)
        result = np.zeros(n, dtype=bool)
        pos = self.communes.index.get_indexer(codes.astype(str))
        ok = (pos >= 0) & np.isfinite(lat) & np.isfinite(lon)
        if not ok.any():
            return result
        idx = np.flatnonzero(ok)
        polys = self._polys[pos[idx]]
        inside = shapely.contains_xy(polys, lon[idx], lat[idx])
        rest = ~inside
        if rest.any():
            pts = shapely.points(lon[idx[rest]], lat[idx[rest]])
            inside[rest] = shapely.dwithin(polys[rest], pts, _TOLERANCE_DEG)
        result[idx] = inside
        return result

    def representative(
        self, codes: NDArray[np.object_]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Representative points (inside the polygon) of communes; nan for unknown codes."""
        pos = self.communes.index.get_indexer(codes.astype(str))
        lat = np.full(len(codes), np.nan)
        lon = np.full(len(codes), np.nan)
        ok = pos >= 0
        lat[ok] = self.communes["lat"].to_numpy()[pos[ok]]
        lon[ok] = self.communes["lon"].to_numpy()[pos[ok]]
        return lat, lon

    def _kind(self, code: str) -> str:
        return str(self.communes.at[code, "kind"]) if code in self.communes.index else ""

    def postcode_communes(self, postcode: str) -> list[str]:
        """INSEE codes a postcode serves (empty for unknown and CEDEX codes)."""
        return self.geo.by_postcode.get(postcode, [])

    def is_plm_city(self, code: str) -> bool:
        """True for the city-wide codes of Paris, Lyon and Marseille."""
        return code in PLM_CITY_CODES

    def resolve_name(self, postcode: str, name: str) -> tuple[str, str]:
        """``(code_insee, how)`` from a postcode and a commune name; ``("", reason)`` if none.

        ``how`` is ``"postcode"``, ``"postcode+name"``, ``"arrondissement"``,
        ``"departement+name"``, ``"fuzzy name"`` or ``"name"``.
        """
        key = (postcode, name)
        if key not in self._name_cache:
            self._name_cache[key] = self._resolve_name(postcode, normalize_place(name or ""))
        return self._name_cache[key]

    def _resolve_name(self, pc: str, name: str) -> tuple[str, str]:
        arr = arrondissement_code(name) if name else None
        if arr and arr in self.communes.index:
            return arr, "arrondissement"
        candidates = self.postcode_communes(pc) if pc else []
        if len(candidates) == 1 and not name:
            return candidates[0], "postcode"
        if candidates and name:
            keys = {c: str(self.communes.at[c, "name_key"]) for c in candidates}
            bare = (
                {c: str(self.communes.at[c, "name_key_bare"]) for c in candidates}
                if ("name_key_bare" in self.communes)
                else keys
            )
            exact = [c for c in candidates if name in (keys[c], bare[c])]
            if exact:
                return exact[0], "postcode+name"
            city = _ARR_BASE.get(name)
            if city is not None:
                arrs = [
                    c for c in candidates if c.startswith(str(city)[:3]) and self._kind(c) == "ARM"
                ]
                if len(arrs) == 1:
                    return arrs[0], "postcode+name"
            choices = {c: keys[c] for c in candidates}
            hit = process.extractOne(name, choices, scorer=fuzz.WRatio, score_cutoff=85)
            if hit is not None:
                return str(hit[2]), "postcode+fuzzy name"
            if len(candidates) == 1:
                elsewhere = self.geo.by_name_key.get(name, [])
                if elsewhere and candidates[0] not in elsewhere:
                    return "", (
                        f"postcode {pc} and commune name {name!r} designate different communes"
                    )
                return candidates[0], "postcode (name differs)"
        if not name:
            return "", "postcode serves several communes and no commune name is given"
        deps = _departement_of_postcode(pc) if pc else []
        for dep in deps:
            codes = self._by_dep.get(dep, {}).get(name, [])
            if codes:
                return codes[0], "departement+name"
        for dep in deps:
            names = self._by_dep.get(dep, {})
            near = process.extractOne(name, list(names), scorer=fuzz.ratio, score_cutoff=88)
            if near is not None:
                return names[near[0]][0], "departement+fuzzy name"
        if pc in ("97150", "97133"):
            where = "Saint-Martin" if pc == "97150" else "Saint-Barthélemy"
            return "", f"postcode {pc} is in {where}, outside the reference geography"
        if pc[:3] in _OUTSIDE:
            return "", f"postcode {pc} is in {_OUTSIDE[pc[:3]]}, outside the reference geography"
        national = self.geo.by_name_key.get(name, [])
        if len(national) == 1:
            return national[0], "name"
        if len(national) > 1:
            return "", f"commune name {name!r} is ambiguous without a valid postcode"
        return "", f"no commune matches postcode {pc or '-'} and name {name!r}"
