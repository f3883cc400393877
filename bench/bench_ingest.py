"""Benchmark: ``mapapp ingest`` of a data·inclusion services CSV, first import and re-import.

Run: ``python bench/bench_ingest.py [--actors 100000] [--repeats R]`` (or
``python bench/run.py ingest``).  Prints ``name: value`` lines:

- ``ingest_s_<N>`` / ``ingest_cpu_s_<N>``: wall and CPU seconds of the first
  import of ``N`` services into an empty store (median, and ``_p95``);
- ``ingest_peak_mb_<N>``: peak resident memory of that ``mapapp ingest``
  process (its high-water mark as GNU ``time`` reports it);
- ``prepare_index_s_<N>``, ``prepare_index_cpu_s_<N>``,
  ``prepare_index_peak_mb_<N>``: the search index ``mapapp ingest`` prepares
  right after committing, in a child process of its own (timed apart with
  ``--no-index`` on the import and ``mapapp store prepare-index``);
- ``reimport_s_<N>``, ``reimport_cpu_s_<N>``, ``reimport_peak_mb_<N>``: the
  same file imported again, unchanged;
- ``reimport_speedup_<N>``: first import wall time / re-import wall time
  (same run, interleaved);
- ``ingest_rows_per_s_<N>``, and checks that the accounting balances.

``--issue10-csv [ROWS]`` (default 2,200,000) measures issue 10's case
instead: a generic CSV of about 200 MB with few regular columns
(``id,nom,adresse,code_postal,commune,lat,lon,type``) imported through a
mapping file (:mod:`mapapp.sources.mapping`), once, into an empty store.
It prints ``issue10_file_mb_<ROWS>``, ``ingest_peak_mb_<ROWS>`` (target:
under 1 GiB), ``ingest_s_<ROWS>``, ``ingest_cpu_s_<ROWS>``,
``ingest_rows_per_s_<ROWS>`` and whether the accounting balances.

Why a real source file and a real process: the operator runs ``mapapp
ingest services.csv``; the file is written in the data·inclusion export's
services layout (the adapter, the chunked CSV reader and the cleaning all
run), and each import is a fresh ``python -m mapapp ingest`` process so its
peak memory and CPU are measured by the kernel (``os.wait4``), not guessed.

The rows are placed by :func:`synthetic.clustered_points` (clustered around
communes by population) and carry the wide text columns of
:func:`synthetic.synthetic_actors`.  A tenth carry decimal commas, a tenth no
coordinates (placed at their commune), so the repair stages work too.

Baseline: the previous importer is gone, so the first import (what the
re-import must beat) is timed interleaved with the re-import, ``R`` times
(each pair on a fresh store).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from synthetic import clustered_points

from mapapp.geo.communes import analysis_units, load_geography
from mapapp.settings import Settings

#: Opening hours as the shared generator draws them (valid OSM syntax, or none).
HOURS = ["Mo-Fr 09:00-12:00,14:00-17:00", "Mo-Th 08:30-17:30; Fr 08:30-12:00", ""]
#: data·inclusion v1 thématiques, one or two per service (drawn, not copied from data).
THEMATIQUES = np.array(
    [
        "famille--garde-denfants",
        "mobilite--preparer-un-permis",
        "numerique--prendre-en-main-un-ordinateur",
        "logement-hebergement--etre-accompagne-pour-se-loger",
        "trouver-un-emploi--rediger-cv",
        "sante--acces-aux-soins",
        "acces-aux-droits-et-citoyennete--accompagnement-juridique",
    ]
)


def write_services(n: int, communes: pd.DataFrame, path: Path, *, seed: int = 7) -> Path:
    """A data·inclusion services CSV of ``n`` rows placed by :func:`synthetic.clustered_points`.

    The points (and their commune) come from the shared generator; the text
    columns are the wide ones :func:`synthetic.synthetic_actors` gives, built
    column-wise here because its per-row obstacle draw takes minutes at 1M.
    """
    lat0, lon0, rows = clustered_points(communes, n, seed=seed)
    rng = np.random.default_rng(seed)
    codes = (communes["code"] if "code" in communes else communes.index.to_series()).astype(str)
    insee = codes.to_numpy()[rows]
    names = communes["nom"].astype(str).to_numpy()[rows]
    ids = np.arange(n).astype(str)
    lat = np.round(lat0, 6).astype(str).astype(object)
    lon = np.round(lon0, 6).astype(str).astype(object)
    kind = rng.random(n)
    comma = kind < 0.1
    lat[comma] = np.char.replace(lat[comma].astype(str), ".", ",")
    lon[comma] = np.char.replace(lon[comma].astype(str), ".", ",")
    missing = (kind >= 0.1) & (kind < 0.2)
    lat[missing] = ""
    lon[missing] = ""
    first = THEMATIQUES[rng.integers(0, len(THEMATIQUES), n)]
    second = THEMATIQUES[rng.integers(0, len(THEMATIQUES), n)]
    them = np.char.add(np.char.add(np.char.add("['", first), "', '"), np.char.add(second, "']"))
    frame = pd.DataFrame(
        {
            "id": np.char.add("svc-", ids),
            "structure_id": np.char.add("st-", ids),
            "source": "bench",
            "nom": np.char.add("Service d'accompagnement ", ids),
            "description": "Accueil, information et accompagnement vers l'emploi.",
            "thematiques": them,
            "frais": "['gratuit']",
            "profils": np.where(rng.random(n) < 0.3, "['femmes']", "['tous-publics']"),
            "modes_accueil": "['en-presentiel']",
            "adresse": np.char.add(np.char.add(ids, " rue de la République, "), names),
            "code_insee": insee,
            "commune": names,
            "latitude": lat,
            "longitude": lon,
            "telephone": "01 23 45 67 89",
            "courriel": "contact@example.org",
            "horaires_accueil": rng.choice(np.array(HOURS), n),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


#: Issue 10's generic file: a network's own codes in its ``type`` column.
GENERIC_TYPES = {
    "ML": "mission-locale",
    "FT": "france-travail",
    "CE": "cap-emploi",
    "SIAE": "siae",
    "EPN": "mediation-numerique",
    "FS": "france-services",
    "CCAS": "ccas",
}
#: How such a file names its places (a label, then the commune).
GENERIC_LABELS = {
    "ML": "Mission locale",
    "FT": "France Travail",
    "CE": "Cap emploi",
    "SIAE": "Chantier d'insertion",
    "EPN": "Espace numérique",
    "FS": "France services",
    "CCAS": "CCAS",
}
#: The mapping an operator would write for that file (docs/mapping.md).
GENERIC_MAPPING = """name = "bench-generic"
source = "reseau"
dataset = "reseau"

[columns]
source_id = "id"
nom = "nom"
adresse = "adresse"
code_postal = "code_postal"
commune = "commune"
latitude = "lat"
longitude = "lon"
source_type = "type"

[constants]
modes_accueil = ["en-presentiel"]

[actor_type]
from = "type"
default = "autre"
map = {{ {} }}
""".format(", ".join(f'{k} = "{v}"' for k, v in GENERIC_TYPES.items()))


def write_generic(n: int, communes: pd.DataFrame, postcodes: pd.DataFrame, path: Path) -> Path:
    """Issue 10's CSV: ``n`` regular rows of eight short columns, about 95 bytes each.

    Points and communes from :func:`synthetic.clustered_points`; each row's
    postcode is one its commune really has (the geography's postcode table),
    a tenth of the rows have no coordinates (placed from the postcode and
    commune).  Written in 200,000-row slices so the writer stays small.
    """
    lat0, lon0, rows = clustered_points(communes, n, seed=10)
    rng = np.random.default_rng(10)
    codes = (communes["code"] if "code" in communes else communes.index.to_series()).astype(str)
    first_pc = postcodes.drop_duplicates("code_insee").set_index("code_insee")["code_postal"]
    pcs = codes.map(first_pc).fillna("").astype(str).to_numpy()
    names = communes["nom"].astype(str).to_numpy()
    kinds = np.array(list(GENERIC_TYPES))
    labels = np.array([GENERIC_LABELS[k] + " " for k in kinds])
    streets = np.array(["rue de la République", "avenue Jean Jaurès", "place de la Mairie"])
    path.parent.mkdir(parents=True, exist_ok=True)
    step = 200_000
    for start in range(0, n, step):
        sl = slice(start, min(n, start + step))
        r = rows[sl]
        m = len(r)
        ids = np.arange(start, start + m).astype(str)
        pick = rng.integers(0, len(kinds), m)
        kind = kinds[pick]
        lat = np.round(lat0[sl], 5).astype(str).astype(object)
        lon = np.round(lon0[sl], 5).astype(str).astype(object)
        missing = rng.random(m) < 0.1
        lat[missing], lon[missing] = "", ""
        number = rng.integers(1, 200, m).astype(str)
        frame = pd.DataFrame(
            {
                "id": np.char.add("b", ids),
                "nom": np.char.add(labels[pick], names[r]),
                "adresse": np.char.add(np.char.add(number, " "), streets[rng.integers(0, 3, m)]),
                "code_postal": pcs[r],
                "commune": names[r],
                "lat": lat,
                "lon": lon,
                "type": kind,
            }
        )
        frame.to_csv(path, index=False, header=start == 0, mode="w" if start == 0 else "a")
    return path


def issue10(n: int, settings: Settings) -> None:
    """Issue 10's case: one import of a ~200 MB generic CSV; peak memory and speed."""
    geography = load_geography(settings.cache_dir)
    communes = analysis_units(geography.communes)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        mapping = root / "reseau.toml"
        mapping.write_text(GENERIC_MAPPING, "utf-8")
        path = write_generic(n, communes, geography.postcodes, root / "in" / "reseau.csv")
        print(f"issue10_file_mb_{n}: {path.stat().st_size / 2**20:.1f}")
        wall, cpu, peak = run_ingest(path, root / "data", root / "r.json", mapping=mapping)
        report = json.loads((root / "r.json").read_text("utf-8"))
    print(f"ingest_peak_mb_{n}: {peak:.0f}")
    print(f"ingest_s_{n}: {wall:.1f}")
    print(f"ingest_cpu_s_{n}: {cpu:.1f}")
    print(f"ingest_rows_per_s_{n}: {n / wall:.0f}")
    print(
        f"ingest_loaded_{n}: {report['loaded']} loaded, {report['merged']} merged, "
        f"{report['quarantined']} quarantined"
    )
    print(f"ingest_balanced_{n}: {bool(report['balanced']) and report['read'] == n}")


def run_ingest(
    path: Path, data_dir: Path, report: Path, *, mapping: Path | None = None
) -> tuple[float, float, float]:
    """``(wall s, CPU s, peak MB)`` of one ``python -m mapapp ingest`` process.

    With ``--no-index``: the search index the command prepares afterwards, in
    a child process of its own, is timed apart (:func:`run_prepare_index`).
    """
    args = ["ingest", str(path), "--no-geocode", "--quiet", "--no-index", "--report", str(report)]
    if mapping is not None:
        args += ["--mapping", str(mapping)]
    return run_mapapp(args, data_dir)


def run_prepare_index(data_dir: Path) -> tuple[float, float, float]:
    """``(wall s, CPU s, peak MB)`` of ``mapapp store prepare-index`` (what an import runs next)."""
    return run_mapapp(["store", "prepare-index"], data_dir)


def run_mapapp(args: list[str], data_dir: Path) -> tuple[float, float, float]:
    """``(wall s, CPU s, peak MB)`` of one ``python -m mapapp ARGS`` process."""
    env = {**os.environ, "MAPAPP_DATA_DIR": str(data_dir)}
    # GNU time forks the command from a small process: a child forked from this
    # one would count this process's pages in its peak until it execs.
    cmd = ["/usr/bin/time", "-f", "peak_kb=%M", sys.executable, "-m", "mapapp", *args]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)  # CPU of the command (a waited-for descendant)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    peak = [line for line in err.splitlines() if line.startswith("peak_kb=")]
    if proc.returncode or not peak:
        raise SystemExit(f"mapapp {args[0]} failed ({proc.returncode}): {err[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, int(peak[-1].split("=")[1]) / 1024


def _stats(name: str, values: list[float]) -> None:
    """Median and 95th percentile (nearest rank: the largest of fewer than 20 runs)."""
    ordered = sorted(values)
    print(f"{name}: {statistics.median(ordered):.2f}")
    print(f"{name}_p95: {ordered[math.ceil(0.95 * len(ordered)) - 1]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actors", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=0, help="default: 3, 1 above 200k")
    parser.add_argument(
        "--issue10-csv",
        type=int,
        nargs="?",
        const=2_200_000,
        default=None,
        metavar="ROWS",
        help="issue 10's case instead: a ~200 MB generic CSV (default 2,200,000 rows)",
    )
    args = parser.parse_args()
    if args.issue10_csv:
        issue10(args.issue10_csv, Settings.from_env())
        return
    n = args.actors
    repeats = args.repeats or (3 if n <= 200_000 else 1)
    settings = Settings.from_env()
    communes = analysis_units(load_geography(settings.cache_dir).communes)
    first: list[tuple[float, float, float]] = []
    again: list[tuple[float, float, float]] = []
    checks: list[bool] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        path = write_services(n, communes, root / "in" / "services.csv")
        print(f"ingest_file_mb_{n}: {path.stat().st_size / 2**20:.1f}")
        print(f"ingest_write_file_s_{n}: {time.perf_counter() - t0:.1f}")
        for rep in range(repeats):
            data = root / f"data{rep}"
            first.append(run_ingest(path, data, root / f"r{rep}.json"))
            if rep == 0:
                index = run_prepare_index(data)
            again.append(run_ingest(path, data, root / f"r{rep}b.json"))
            r1 = json.loads((root / f"r{rep}.json").read_text("utf-8"))
            r2 = json.loads((root / f"r{rep}b.json").read_text("utf-8"))
            checks.append(
                bool(r1["balanced"])
                and bool(r2["balanced"])
                and r1["read"] == n
                and r2["store"]["added"] + r2["store"]["updated"] == 0
                and r2["store"]["total"] == r1["store"]["total"]
            )
    _stats(f"ingest_s_{n}", [w for w, _, _ in first])
    _stats(f"ingest_cpu_s_{n}", [c for _, c, _ in first])
    print(f"ingest_peak_mb_{n}: {max(m for _, _, m in first):.0f}")
    print(f"prepare_index_s_{n}: {index[0]:.2f}")
    print(f"prepare_index_cpu_s_{n}: {index[1]:.2f}")
    print(f"prepare_index_peak_mb_{n}: {index[2]:.0f}")
    _stats(f"reimport_s_{n}", [w for w, _, _ in again])
    _stats(f"reimport_cpu_s_{n}", [c for _, c, _ in again])
    print(f"reimport_peak_mb_{n}: {max(m for _, _, m in again):.0f}")
    speedups = [a[0] / b[0] for a, b in zip(first, again, strict=True)]
    print(f"reimport_speedup_{n}: {statistics.median(speedups):.1f}")
    print(f"ingest_rows_per_s_{n}: {n / statistics.median([w for w, _, _ in first]):.0f}")
    print(f"ingest_loaded_{n}: {r1['loaded']} loaded, {r1['quarantined']} quarantined")
    print(f"ingest_balanced_{n}: {all(checks)}")
    print(f"ingest_repeats_{n}: {repeats}")


if __name__ == "__main__":
    main()
