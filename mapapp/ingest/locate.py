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

Two checks guard against a commune taken on weak evidence:

- a commune found from the postcode alone while the row names another
  place (:data:`POSTCODE_NAME_DIFFERS`) is kept with a repair note, unless the
  point or the address puts the row clearly elsewhere
  (:meth:`Locator.postcode_only_verdict`): "1500 Valencia Street, San
  Francisco 94110" is not in Arcueil (94110);
- a point that lies in no commune, for a row without a declared commune, is
  tried with the known repairs (swapped latitude and longitude, lost minus
  sign...), accepted only when the repaired point falls in a commune that
  agrees with the row's postcode or commune name
  (:meth:`Locator.repair_from_point`); otherwise the row is *outside France*.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from rapidfuzz import fuzz, process

from mapapp.geo.communes import PLM_CITY_CODES, Geography
from mapapp.geo.places import _ARR_BASE, arrondissement_code
from mapapp.geo.sphere import haversine_km
from mapapp.geo.text import normalize_place
from mapapp.ingest.coords import repair_candidates

__all__ = [
    "OUTSIDE_FRANCE",
    "POSTCODE_NAME_DIFFERS",
    "Locator",
    "arrondissement_code",
    "normalize_insee",
    "normalize_postcode",
]

#: ``how`` of :meth:`Locator.resolve_name` when the postcode alone gave the commune
#: and the row's commune name is another (a lieu-dit, an old commune... or abroad).
POSTCODE_NAME_DIFFERS = "postcode (name differs)"
#: Start of the quarantine reason of a row whose point lies in no French commune.
OUTSIDE_FRANCE = "outside France"
#: Words that only a foreign address carries (an English street, a country).
_FOREIGN = re.compile(
    r"\b(street|road|usa|united states|united kingdom|england|belgique|belgie|belgium|suisse|"
    r"schweiz|switzerland|deutschland|germany|espana|spain|italia|italy|portugal|"
    r"nederland|netherlands|luxembourg|canada)\b"
)
#: A point this far (km) from the postcode's commune is not an address in it.
_FAR_KM = 30.0
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

    def _positions(self, codes: NDArray[Any]) -> NDArray[np.intp]:
        """Row of each code in :attr:`communes` (-1 where unknown), each distinct code looked up once.

        Why: a chunk names a few thousand communes for 20,000 rows; looking
        up the distinct codes only is four times cheaper.  Only an array of
        plain strings takes that way (``1`` and ``1.0`` are one key to
        :func:`pandas.factorize` but two texts).

        >>> import geopandas as gpd
        >>> loc = Locator.__new__(Locator)
        >>> loc.communes = gpd.GeoDataFrame(index=pd.Index(["69123", "75056"]))
        >>> loc._positions(np.array(["75056", "x", "75056", ""], dtype=object)).tolist()
        [1, -1, 1, -1]
        >>> loc._positions(np.array([75056, None], dtype=object)).tolist()
        [1, -1]
        """
        cells = np.asarray(codes, dtype=object)
        if len(cells) and all(type(c) is str for c in cells.tolist()):
            keys, distinct = pd.factorize(cells)
            return np.asarray(self._code_index.get_indexer(pd.Index(distinct, dtype=object)))[keys]
        return np.asarray(self.communes.index.get_indexer(cells.astype(str)))

    @cached_property
    def _code_index(self) -> pd.Index:
        """The commune codes as a plain object index (an Arrow-backed one looks up twice slower)."""
        return pd.Index(self.communes.index.to_numpy(dtype=object), dtype=object)

    def known(self, codes: NDArray[np.object_]) -> NDArray[np.bool_]:
        """Which codes are communes (or arrondissements) of the reference (a hash lookup)."""
        return np.asarray(self._positions(codes) >= 0)

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
        # prefer arrondissements over their city-wide polygon: the first of each point
        order = np.lexsort((self._plm[gi], pi))
        pi, gi = pi[order], gi[order]
        first = np.ones(len(pi), dtype=bool)
        first[1:] = pi[1:] != pi[:-1]
        out[idx[pi[first]]] = self._codes[gi[first]]
        found = np.zeros(len(idx), dtype=bool)
        found[pi[first]] = True
        missing = np.flatnonzero(~found)
        if len(missing):
            qi, gj = self._tree.query_nearest(points[missing], max_distance=0.01, all_matches=False)
            city = self._plm[gj]
            out[idx[missing[qi[~city]]]] = self._codes[gj[~city]]
        return out

    def in_communes(
        self, codes: NDArray[np.object_], lat: NDArray[np.float64], lon: NDArray[np.float64]
    ) -> NDArray[np.bool_]:
        """Whether each point lies in (or within ~500 m of) the commune of its code."""
        return self.in_communes_strictly(codes, lat, lon)[0]

    def in_communes_strictly(
        self, codes: NDArray[np.object_], lat: NDArray[np.float64], lon: NDArray[np.float64]
    ) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
        """``(in or near, strictly in)``: :meth:`in_communes`, and which points lie inside the polygon.

        The second mask lets the caller skip the point-in-polygon search for
        those points: their commune is known.
        """
        n = len(codes)
        result = np.zeros(n, dtype=bool)
        strictly = np.zeros(n, dtype=bool)
        pos = self._positions(codes)
        ok = (pos >= 0) & np.isfinite(lat) & np.isfinite(lon)
        if not ok.any():
            return result, strictly
        idx = np.flatnonzero(ok)
        polys = self._polys[pos[idx]]
        x, y = lon[idx], lat[idx]
        # a point off its commune's bounding box (widened beyond the tolerance) is neither
        # in nor near it: the exact tests run on the others only (most tried repairs are off)
        box = self._bounds[pos[idx]]
        m = 2 * _TOLERANCE_DEG
        near = (
            (x >= box[:, 0] - m)
            & (x <= box[:, 2] + m)
            & (y >= box[:, 1] - m)
            & (y <= box[:, 3] + m)
        )
        inside = np.zeros(len(idx), dtype=bool)
        inside[near] = shapely.contains_xy(polys[near], x[near], y[near])
        strictly[idx] = inside
        rest = near & ~inside
        if rest.any():
            pts = shapely.points(x[rest], y[rest])
            inside[rest] = shapely.dwithin(polys[rest], pts, _TOLERANCE_DEG)
        result[idx] = inside
        return result, strictly

    @cached_property
    def _bounds(self) -> NDArray[np.float64]:
        """``(minx, miny, maxx, maxy)`` of each commune polygon (NaN for an empty one)."""
        return np.asarray(shapely.bounds(self._polys), dtype=float)

    def representative(
        self, codes: NDArray[np.object_]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Representative points (inside the polygon) of communes; nan for unknown codes."""
        pos = self._positions(codes)
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

    def are_plm_cities(self, codes: NDArray[np.object_]) -> NDArray[np.bool_]:
        """:meth:`is_plm_city` of each code, column-wise.

        >>> Locator.are_plm_cities(None, np.array(["75056", "75111", ""], dtype=object)).tolist()  # type: ignore[arg-type]
        [True, False, False]
        """
        return np.isin(codes.astype(str), sorted(PLM_CITY_CODES))

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
                return candidates[0], POSTCODE_NAME_DIFFERS
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

    # -- checks on weak evidence ----------------------------------------------------

    def _name_matches(self, code: str, name: str) -> bool:
        """Whether ``name`` (normalised) is the name of commune ``code``, typos aside."""
        if not name or code not in self.communes.index:
            return False
        row = self.communes.loc[code]
        names = {str(row["name_key"]), str(row.get("name_key_bare", row["name_key"]))}
        if name in names or arrondissement_code(name) == code:
            return True
        return any(fuzz.ratio(name, n) >= 88 for n in names)

    def postcode_only_verdict(
        self, code: str, postcode: str, name: str, address: str, lat: float, lon: float
    ) -> tuple[bool, str]:
        """Keep a commune found from the postcode alone, or not; and the note saying why.

        The row names another place than the postcode's commune.  Kept (with
        a repair note) when nothing contradicts the postcode: a lieu-dit or a
        former commune often stands where the commune's name should be.
        Refused when the row is clearly elsewhere: its point (or a known
        repair of it) lies far from that commune, or its address reads as a
        foreign one.

        Returns
        -------
        (keep, message)
            ``message`` is the repair note when kept, the reason when refused.
        """
        label = str(self.communes.at[code, "nom"]) if code in self.communes.index else code
        given = f"commune name {name!r} is not {label} ({code}), the commune of postcode {postcode}"
        if np.isfinite(lat) and np.isfinite(lon):
            if self._point_in(code, lat, lon):
                return True, f"{given}; kept: the point lies in {label}"
            clat, clon = self.communes.at[code, "lat"], self.communes.at[code, "lon"]
            km = float(haversine_km(lat, lon, clat, clon))
            if km > _FAR_KM:
                return False, (
                    f"{given}, and the point ({lat:.5f}, {lon:.5f}) lies {km:,.0f} km away: "
                    "the row is elsewhere"
                )
        text = normalize_place(f"{address} {name}")
        foreign = _FOREIGN.search(text)
        if foreign:
            return False, f"{given}, and the address reads as a foreign one ({foreign.group(1)!r})"
        return True, f"{given}; placed in {label} on the postcode alone"

    def _point_in(self, code: str, lat: float, lon: float) -> bool:
        """The point, or one of its known repairs, lies in commune ``code``."""
        la, lo = np.array([lat]), np.array([lon])
        codes = np.array([code], dtype=object)
        if self.in_communes(codes, la, lo)[0]:
            return True
        for _, (clat, clon) in repair_candidates(la, lo):
            if np.isfinite(clat[0]) and self.in_communes(codes, clat, clon)[0]:
                return True
        return False

    def repair_from_point(
        self,
        lat: NDArray[np.float64],
        lon: NDArray[np.float64],
        postcodes: list[str],
        names: list[str],
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.object_], list[str]]:
        """Known repairs of points that lie in no commune, for rows without a declared one.

        A repaired point is accepted when it falls in a commune that agrees
        with the row: the postcode serves it, or the commune name is its
        name.  A row that gives neither accepts the first repair that lands
        in a commune (a swapped French point lands in the sea or on another
        continent, never in another French commune).

        Returns
        -------
        lat, lon, code, repair
            Repaired points, their commune (``""`` where no repair applies)
            and the repair's name.
        """
        n = len(lat)
        out_lat, out_lon = np.full(n, np.nan), np.full(n, np.nan)
        out_code = np.full(n, "", dtype=object)
        out_name = [""] * n
        todo = np.isfinite(lat) & np.isfinite(lon)
        keys = [normalize_place(x or "") for x in names]
        for repair, (clat, clon) in repair_candidates(lat, lon):
            cand = todo & np.isfinite(clat) & np.isfinite(clon)
            cand &= (np.abs(clat) <= 90) & (np.abs(clon) <= 180)
            if not cand.any():
                continue
            idx = np.flatnonzero(cand)
            found = self.commune_of_points(clat[idx], clon[idx])
            for j, code in zip(idx, found, strict=True):
                if not code:
                    continue
                pc, key = postcodes[j], keys[j]
                agrees = (not pc and not key) or (pc and code in self.postcode_communes(pc))
                agrees = agrees or self._name_matches(str(code), key)
                if agrees:
                    out_lat[j], out_lon[j], out_code[j] = clat[j], clon[j], code
                    out_name[j] = repair
                    todo[j] = False
        return out_lat, out_lon, out_code, out_name
