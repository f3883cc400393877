"""Synthetic actors clustered like the real thing, shared by the benchmarks.

Real services sit where people live: a city of 100,000 inhabitants has
dozens of them, a hamlet none.  Uniformly spread points flatter some
algorithms (trees are balanced, few ties) and punish others, so every
benchmark of ``bench/`` draws its layers here:

- each actor picks a commune with a probability proportional to its
  population (communes with no known population weigh as 50 inhabitants),
- then lands at a normal offset of about 1 km around that commune's start
  point (a fifth of them at 100 m, as in a town centre),
- and carries the wide set of text columns the stored layer has (names,
  addresses, phones, hours...), so that a benchmark copying rows pays what the
  app pays.

Examples
--------
>>> import pandas as pd
>>> communes = pd.DataFrame({"lat": [48.85, 45.76], "lon": [2.35, 4.83],
...                          "population": [2_100_000, 0], "code": ["75056", "69123"],
...                          "nom": ["Paris", "Lyon"], "departement": ["75", "69"]})
>>> frame = synthetic_actors(communes, 50, seed=1)
>>> len(frame), frame["id"].is_unique
(50, True)
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from mapapp.schema import actors_frame, in_france
from mapapp.taxonomy import ActorType, Obstacle

__all__ = ["clustered_points", "synthetic_actors", "synthetic_queries"]

_HOURS = ["Mo-Fr 09:00-12:00,14:00-17:00", "Mo-Th 08:30-17:30; Fr 08:30-12:00", ""]


def _weights(communes: pd.DataFrame) -> np.ndarray:
    pop = pd.to_numeric(communes.get("population"), errors="coerce")
    pop = pop.fillna(0).to_numpy(dtype=float) if pop is not None else np.zeros(len(communes))
    w = np.maximum(pop, 50.0)
    return w / w.sum()


def clustered_points(
    communes: pd.DataFrame, n: int, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` points around communes drawn by population: ``(lat, lon, commune_row)``."""
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(communes), size=n, p=_weights(communes))
    spread_km = np.where(rng.random(n) < 0.2, 0.1, 1.0)
    dlat = rng.normal(0.0, 1.0, n) * spread_km / 111.2
    lat0 = communes["lat"].to_numpy(dtype=float)[rows]
    lon0 = communes["lon"].to_numpy(dtype=float)[rows]
    dlon = rng.normal(0.0, 1.0, n) * spread_km / (111.2 * np.cos(np.radians(lat0)))
    lat, lon = lat0 + dlat, lon0 + dlon
    # a border commune's offset can leave France's boxes: the store would refuse it
    out = ~in_france(lat, lon)
    lat[out], lon[out] = lat0[out], lon0[out]
    return lat, lon, rows


def _obstacle_lists(rng: np.random.Generator, slugs: np.ndarray, n: int) -> list[list[str]]:
    """1-3 distinct obstacles per actor, drawn without a Python call per row.

    Each row ranks the obstacles by a random key and keeps its first k; the
    lists are then cut from one flat array (a per-row ``rng.choice`` took
    about 20 s at a million rows).
    """
    order = np.argsort(rng.random((n, len(slugs))), axis=1)[:, :3]
    k = rng.integers(1, 4, n)
    flat = slugs[order].ravel()[(np.arange(3)[None, :] < k[:, None]).ravel()].tolist()
    ends = np.cumsum(k).tolist()
    starts = [0, *ends[:-1]]
    return [flat[a:b] for a, b in zip(starts, ends, strict=True)]


def synthetic_actors(communes: pd.DataFrame, n: int, *, seed: int = 0) -> gpd.GeoDataFrame:
    """``n`` actors clustered by population, each with 1-3 obstacles and full text columns."""
    rng = np.random.default_rng(seed)
    lat, lon, rows = clustered_points(communes, n, seed=seed)
    slugs = np.array([o.value for o in Obstacle])
    types = np.array([t.value for t in ActorType])
    obstacles = _obstacle_lists(rng, slugs, n)
    codes = communes["code"] if "code" in communes else communes.index.to_series()
    codes = codes.astype(str).to_numpy()[rows]
    names = communes["nom"].astype(str).to_numpy()[rows]
    ids = np.arange(n).astype(str)
    frame = pd.DataFrame(
        {
            "id": np.char.add("bench:", ids),
            "source": "bench",
            "source_id": ids,
            "structure_nom": np.char.add("Structure ", ids),
            "nom": np.char.add("Service d'accompagnement ", ids),
            "description": "Accueil, information et accompagnement vers l'emploi.",
            "actor_type": rng.choice(types, n),
            "obstacles": obstacles,
            "publics": [["femmes"] if r < 0.3 else ["tous-publics"] for r in rng.random(n)],
            "adresse": np.char.add(np.char.add(ids, " rue de la République, "), names),
            "code_insee": codes,
            "commune": names,
            "latitude": lat,
            "longitude": lon,
            "telephone": "01 23 45 67 89",
            "courriel": "contact@example.org",
            "horaires_accueil": rng.choice(np.array(_HOURS), n),
            "capacite": np.where(rng.random(n) < 0.3, rng.integers(10, 60, n), np.nan),
        }
    )
    return actors_frame(frame)


def synthetic_queries(communes: pd.DataFrame, n: int, *, seed: int = 1) -> pd.DataFrame:
    """``n`` search start points, drawn by population like the people who search."""
    lat, lon, _ = clustered_points(communes, n, seed=seed)
    return pd.DataFrame({"lat": lat, "lon": lon})
