"""``ingest()``: read → normalise → validate → geocode → tag → dedupe → merge → report.

Why one entry point: the CLI, the fetch command, the tests and the
benchmark all import the same way, and the accounting ("nothing lost") is
done once, here.  Rows flow in chunks (memory bounded by the chunk size,
not the file size); the store is rewritten only when something changed.

Examples
--------
>>> import tempfile, pathlib, json, os
>>> from mapapp.settings import Settings
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "lieux.json").write_text(json.dumps([{"id": "1", "nom": "EPN", "pivot": "0",
...     "services": "Prendre en main un ordinateur", "adresse": "1 place", "commune": "Paris",
...     "code_postal": "75011", "latitude": 48.858, "longitude": 2.38}]))
>>> s = Settings.from_env({**os.environ, "MAPAPP_DATA_DIR": str(folder / "d")})
>>> r = ingest([folder / "lieux.json"], settings=s, geocode=False, report_path=folder / "r.json")
>>> r["read"], r["loaded"], r["balanced"]
(1, 1, True)
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mapapp.geo.communes import load_geography
from mapapp.geo.geocode import AddressGeocoder
from mapapp.ingest.clean import CleanedChunk, clean_chunk
from mapapp.ingest.dedupe import cluster_actors
from mapapp.ingest.locate import Locator
from mapapp.ingest.report import bump, new_report, repair_kinds, write_report
from mapapp.schema import COLUMNS, actors_frame
from mapapp.settings import Settings
from mapapp.sources import InputGroup, resolve_inputs
from mapapp.sources._base import STAGING_COLUMNS
from mapapp.sources.quarantine import QUARANTINE_COLUMNS
from mapapp.store import open_store
from mapapp.store.merge import (
    CLUSTERS_FILE,
    LEDGER_FILE,
    diff_actors,
    read_ledger,
    write_table,
)

__all__ = ["ingest", "write_quarantine"]

Progress = Callable[[int], None]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_quarantine(rows: list[dict[str, Any]], path: Path) -> Path:
    """Write quarantined rows as a CSV (or JSON) a person can fix and re-import.

    Columns: ``quarantine_reason``, ``quarantine_origin``,
    ``quarantine_adapter``, the staging columns (lists as JSON arrays), and
    ``original`` (the row as read, JSON).
    """
    records = []
    for r in rows:
        rec: dict[str, Any] = {
            "quarantine_reason": r["reason"],
            "quarantine_origin": r["origin"],
            "quarantine_adapter": r.get("adapter", ""),
        }
        for col in STAGING_COLUMNS:
            v = r["staging"].get(col)
            if isinstance(v, (list, tuple, np.ndarray, dict)):
                v = json.dumps(list(v) if not isinstance(v, dict) else v, ensure_ascii=False)
            rec[col] = "" if v is None else v
        rec["original"] = json.dumps(r["original"], ensure_ascii=False, default=str)
        records.append(rec)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = [*QUARANTINE_COLUMNS, *STAGING_COLUMNS, "original"]
    frame = pd.DataFrame(records, columns=columns)
    if path.suffix.lower() == ".json":
        path.write_text(frame.to_json(orient="records", force_ascii=False, indent=1), "utf-8")
    else:
        frame.to_csv(path, index=False)
    return path


class _Run:
    """Accumulates one import's rows and counts."""

    def __init__(self) -> None:
        self.report = new_report()
        self.frames: list[pd.DataFrame] = []
        self.infos: list[pd.DataFrame] = []
        self.datasets: list[str] = []
        self.seen: dict[str, str] = {}
        self.quarantine: list[dict[str, Any]] = []

    def add(
        self, group: InputGroup, cleaned: CleanedChunk, merged: list[tuple[str, str]], size: int
    ) -> None:
        r = self.report
        ds = group.dataset or group.adapter.name
        r["read"] += size
        bump(r["by_dataset"], ds, "read", size)
        for _origin, reason in merged:
            self._merged(ds, reason)
        for q in cleaned.quarantined:
            q["adapter"] = group.adapter.name
            q["dataset"] = ds
            self.quarantine.append(q)
            bump(r["quarantined_by_reason"], _reason_kind(q["reason"]))
            bump(r["by_dataset"], ds, "quarantined")
            r["quarantined"] += 1
        actors, info = cleaned.actors, cleaned.info
        if len(actors) == 0:
            return
        keep = np.ones(len(actors), dtype=bool)
        for i, rid in enumerate(actors["id"].tolist()):
            if rid in self.seen:
                keep[i] = False
                self._merged(ds, "same id read again (first occurrence kept)")
            else:
                self.seen[rid] = ds
        self.frames.append(actors[keep])
        self.infos.append(info[keep].assign(dataset=ds))

    def _merged(self, ds: str, reason: str) -> None:
        r = self.report
        r["merged"] += 1
        bump(r["merged_by_reason"], reason)
        bump(r["by_dataset"], ds, "merged")


def _reason_kind(reason: str) -> str:
    return (
        reason.split(";")[0].split(" (")[0] if reason.startswith("no usable location") else reason
    )


def ingest(
    sources: list[str | Path],
    *,
    settings: Settings,
    fmt: str | None = None,
    mapping: str | Path | None = None,
    dataset: str | None = None,
    geocode: bool = True,
    geocoder: AddressGeocoder | None = None,
    prune: bool = False,
    report_path: Path | None = None,
    quarantine_path: Path | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Import files, folders or URLs into the store and return the report.

    Parameters
    ----------
    sources : list of str or Path
        Files, folders (every data file inside) or URLs.
    settings : Settings
        Where the store, caches and geocoder are.
    fmt, mapping : str, keyword-only
        Force a format (``--format``) or a mapping file (``--mapping``).
    dataset : str, keyword-only
        Name under which the ids are remembered (default from the input).
    geocode : bool, keyword-only
        Geocode public addresses of rows without usable coordinates.
    geocoder : AddressGeocoder, keyword-only
        A ready geocoder (tests pass one replaying recorded answers).
    prune : bool, keyword-only
        Remove from the store the records gone from their dataset.
    report_path, quarantine_path : Path, keyword-only
        Where to write the JSON report (plus ``.md``) and the quarantine CSV;
        defaults under ``settings.data_dir / "reports"``.
    progress : callable, keyword-only
        Called with the number of rows read after each chunk.
    """
    run = _Run()
    r = run.report
    r["started"] = _now()
    groups = resolve_inputs(
        list(sources),
        fmt=fmt,
        mapping=mapping,
        download_dir=settings.cache_dir / "downloads",
        dataset=dataset,
    )
    locator = Locator(load_geography(settings.cache_dir))
    if geocode and geocoder is None:
        geocoder = AddressGeocoder(
            domain=settings.geocoder_domain, cache_path=settings.cache_dir / "geocode.sqlite"
        )
    if not geocode:
        geocoder = None
    try:
        for group in groups:
            r["inputs"].append(
                {
                    "dataset": group.dataset,
                    "format": group.adapter.name,
                    "files": [str(p) for p in group.paths],
                }
            )
            source_name = group.dataset or group.adapter.name
            for chunk in group.chunks():
                cleaned = clean_chunk(
                    chunk, locator=locator, geocoder=geocoder, default_source=source_name
                )
                run.add(group, cleaned, chunk.merged, len(chunk))
                if progress is not None:
                    progress(len(chunk))
            r.setdefault("notes", []).extend(group.notes)  # e.g. ids derived from content
    finally:
        if geocoder is not None:
            r["geocoding"] = vars(geocoder.stats) | {}
            geocoder.close()
    _merge_and_write(run, settings, groups, prune=prune)
    r["finished"] = _now()
    r["balanced"] = r["read"] == r["loaded"] + r["merged"] + r["quarantined"]
    r["quarantine"] = [
        {k: q[k] for k in ("origin", "dataset", "adapter", "reason", "original", "staging")}
        for q in run.quarantine
    ]
    reports = settings.data_dir / "reports"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    rpath = report_path or reports / f"ingest-{stamp}.json"
    qpath = quarantine_path or Path(rpath).with_name(Path(rpath).stem + "-quarantine.csv")
    if run.quarantine or quarantine_path is not None:
        r["quarantine_file"] = str(write_quarantine(run.quarantine, qpath))
    json_path, md_path = write_report(r, Path(rpath))
    r["report_files"] = [str(json_path), str(md_path)]
    json_path.write_text(json.dumps(r, ensure_ascii=False, indent=1, default=str), "utf-8")
    return r


def _merge_and_write(
    run: _Run, settings: Settings, groups: list[InputGroup], *, prune: bool
) -> None:
    r = run.report
    new = (
        pd.concat(run.frames, ignore_index=True)
        if run.frames
        else pd.DataFrame(columns=list(COLUMNS))
    )
    info = pd.concat(run.infos, ignore_index=True) if run.infos else pd.DataFrame()
    store = open_store(settings)
    old = store.read_actors() if not store.is_empty() else None
    old_plain = (
        pd.DataFrame(old.drop(columns="geometry"))
        if old is not None
        else pd.DataFrame(columns=list(COLUMNS))
    )
    diff = diff_actors(old_plain, new)
    ledger = read_ledger(settings.data_dir)
    datasets = {g.dataset for g in groups if g.dataset}
    new_ids = set(new["id"].astype(str))
    quarantined_ids = {
        f"{q['staging'].get('source', '')}:{q['staging'].get('source_id', '')}"
        for q in run.quarantine
    }
    past = ledger[ledger["dataset"].isin(datasets)]
    gone = sorted(set(past["id"]) - new_ids - quarantined_ids)
    # combined store: the records of this import replace their old versions
    kept = old_plain[~old_plain["id"].isin(new_ids)] if len(old_plain) else old_plain
    combined = pd.concat([kept, new], ignore_index=True) if len(kept) else new.copy()
    pruned: list[str] = []
    if prune and gone:
        pruned = gone
        combined = combined[~combined["id"].isin(gone)].reset_index(drop=True)
    clusters = cluster_actors(combined)
    dup_ids = set(clusters.loc[clusters["duplicate"], "id"])
    combined = _with_clusters(combined, clusters)
    # accounting: rows of this import that duplicate another group's place are "merged"
    for ds, rid in zip(info.get("dataset", []), new["id"], strict=False):
        if rid in dup_ids:
            r["merged"] += 1
            bump(
                r["merged_by_reason"], "duplicate of a place another source gives (clustered, kept)"
            )
            bump(r["by_dataset"], ds, "merged")
        else:
            r["loaded"] += 1
            bump(r["by_dataset"], ds, "loaded")
    _describe(r, new, info, dup_ids)
    changed = bool(diff.added or diff.updated or pruned or (old is None and len(combined)))
    if changed:
        store.write_actors(actors_frame(combined))
    ledger_rows = pd.concat(
        [
            ledger[~ledger["dataset"].isin(datasets)],
            ledger[ledger["dataset"].isin(datasets) & ~ledger["id"].isin(pruned)],
            pd.DataFrame(
                {"dataset": [run.seen[i] for i in new["id"]], "id": new["id"].astype(str)}
            ),
        ],
        ignore_index=True,
    ).drop_duplicates()
    write_table(settings.data_dir, LEDGER_FILE, ledger_rows.reset_index(drop=True))
    write_table(settings.data_dir, CLUSTERS_FILE, clusters)
    r["store"] = {
        "added": len(diff.added),
        "updated": len(diff.updated),
        "unchanged": len(diff.unchanged),
        "gone": len(gone),
        "pruned": len(pruned),
        "total": len(combined),
        "clusters_with_several_records": int((clusters.groupby("cluster_id").size() > 1).sum())
        if len(clusters)
        else 0,
        "written": changed,
    }
    r["changes"] = {
        "added": diff.added[:500],
        "updated": [{"id": k, "fields": v} for k, v in list(diff.updated.items())[:500]],
        "gone": gone,
    }


def _with_clusters(combined: pd.DataFrame, clusters: pd.DataFrame) -> pd.DataFrame:
    """``combined`` with its cluster columns (``cluster_id``, ``duplicate``, ``sources``)."""
    if not len(clusters):
        return combined
    by_id = clusters.set_index("id")
    out = combined.copy()
    out["cluster_id"] = out["id"].map(by_id["cluster_id"]).fillna("").astype(str)
    out["duplicate"] = out["id"].map(by_id["duplicate"]).fillna(False).astype(bool)
    out["sources"] = [
        sorted({str(x) for x in v}) if isinstance(v, (list, np.ndarray)) else []
        for v in out["id"].map(by_id["sources"])
    ]
    return out


def _describe(r: dict[str, Any], new: pd.DataFrame, info: pd.DataFrame, dup_ids: set[str]) -> None:
    """Per source / type / obstacle counts, repairs, precision, vocabularies, hours."""
    if len(new) == 0:
        return
    kinds: Counter[str] = Counter()
    for rid, src, atype, obst, prec, reps, how, unk, codes, bad_hours, warn, origin in zip(
        new["id"],
        new["source"],
        new["actor_type"],
        new["obstacles"],
        new["precision"],
        info["repairs"],
        info["insee_how"],
        info["unknown_thematiques"],
        info["unknown_codes"],
        info["invalid_hours"],
        info["hours_warnings"],
        info["origin"],
        strict=True,
    ):
        bump(r["by_source"], src, "merged" if rid in dup_ids else "loaded")
        bump(r["by_actor_type"], atype)
        for o in obst:
            bump(r["by_obstacle"], o)
        bump(r["precision"], prec)
        if prec == "commune":
            bump(r["by_source"], src, "commune_precision")
        if how:
            bump(r["insee_from"], how)
        if reps:
            r["repaired"]["rows"] += 1
            bump(r["by_source"], src, "repaired")
            for k in set(repair_kinds(reps)):
                kinds[k] += 1
            r["repairs"].append({"id": rid, "origin": origin, "repairs": list(reps)})
        for t in unk:
            bump(r["unknown_thematiques"], t)
        for c in codes:
            bump(r["unknown_type_codes"], c)
        hours = r["opening_hours"]
        if bad_hours:
            hours["invalid"] += 1
            if len(hours["invalid_examples"]) < 50:
                hours["invalid_examples"].append({"id": rid, "horaires": bad_hours})
        else:
            hours["valid"] += 1
            hours["with_warnings"] += int(bool(warn))
    r["repaired"]["by_kind"] = dict(kinds)
