"""Ingest throughput without network: 100k generated data·inclusion services.

Usage: ``python bench/bench_ingest.py [--rows 100000]``; prints ``name: value``
lines (``ingest_100k_s``, ``ingest_rows_per_s``, ``ingest_reimport_s``).
The rows are generated (no real data copied): points at random commune
representative points (a tenth with the Réunion-style lost minus sign or
decimal commas, a tenth without coordinates), v0/v1 thématiques, CSV lists
as Python literals like the national export.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mapapp.geo.communes import analysis_units, load_geography
from mapapp.ingest import ingest
from mapapp.settings import Settings

THEMATIQUES = [
    "famille--garde-denfants",
    "mobilite--preparer-un-permis",
    "numerique--prendre-en-main-un-ordinateur",
    "logement-hebergement--etre-accompagne-pour-se-loger",
    "trouver-un-emploi--rediger-cv",
    "sante--acces-aux-soins",
]


def make_services(n: int, cache_dir: Path, folder: Path, seed: int = 7) -> Path:
    rng = np.random.default_rng(seed)
    communes = analysis_units(load_geography(cache_dir).communes)
    pick = rng.integers(0, len(communes), n)
    c = communes.iloc[pick]
    lat = c["lat"].to_numpy().round(6)
    lon = c["lon"].to_numpy().round(6)
    lat_s = lat.astype(str).astype(object)
    lon_s = lon.astype(str).astype(object)
    kind = rng.random(n)
    comma = kind < 0.1
    lat_s[comma] = [s.replace(".", ",") for s in lat_s[comma]]
    lon_s[comma] = [s.replace(".", ",") for s in lon_s[comma]]
    south = (kind >= 0.1) & (kind < 0.2) & (lat < 0)
    lat_s[south] = [s.lstrip("-") for s in lat_s[south]]
    missing = (kind >= 0.2) & (kind < 0.3)
    lat_s[missing] = ""
    lon_s[missing] = ""
    them = [str([THEMATIQUES[i % 6], THEMATIQUES[(i * 7) % 6]]) for i in range(n)]
    frame = pd.DataFrame(
        {
            "id": [f"svc-{i}" for i in range(n)],
            "structure_id": [f"st-{i // 3}" for i in range(n)],
            "source": "bench",
            "nom": [f"Service {i}" for i in range(n)],
            "thematiques": them,
            "frais": "['gratuit']",
            "profils": "['femmes']",
            "modes_accueil": "['en-presentiel']",
            "code_insee": c.index.to_numpy(),
            "commune": c["nom"].to_numpy(),
            "latitude": lat_s,
            "longitude": lon_s,
            "telephone": "",
            "horaires_accueil": "Mo-Fr 09:00-12:00",
        }
    )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "services.csv"
    frame.to_csv(path, index=False)
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    cache = Path(os.environ.get("MAPAPP_CACHE_DIR") or Path.home() / ".cache" / "mapapp")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        path = make_services(args.rows, cache, root / "in")
        settings = Settings.from_env(
            {"MAPAPP_DATA_DIR": str(root / "data"), "MAPAPP_CACHE_DIR": str(cache)}
        )
        t0 = time.perf_counter()
        report = ingest([path], settings=settings, geocode=False, report_path=root / "r.json")
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = ingest([path], settings=settings, geocode=False, report_path=root / "r2.json")
        second = time.perf_counter() - t0
    label = f"{args.rows // 1000}k" if args.rows % 1000 == 0 else str(args.rows)
    print(f"ingest_{label}_s: {first:.2f}")
    print(f"ingest_rows_per_s: {args.rows / first:.0f}")
    print(f"ingest_reimport_s: {second:.2f}")
    print(f"ingest_loaded: {report['loaded']}")
    print(f"ingest_balanced: {report['balanced'] and again['balanced']}")
    print(f"ingest_reimport_changed: {again['store']['added'] + again['store']['updated']}")


if __name__ == "__main__":
    main()
