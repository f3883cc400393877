"""``ingest()``: read → normalise → validate → geocode → tag → bound → dedupe → merge → commit.

Why one entry point: the CLI, the fetch command, the tests and the
benchmark all import the same way, and the accounting ("nothing lost") is
done once, here.  Rows flow in chunks: each cleaned chunk is written at once
to a Parquet part (:mod:`mapapp.ingest.parts`), and only narrow columns, a
content hash and filled-field flags per row stay in memory for the merge;
the new records file is assembled from the parts row group by row group.

Why the whole import runs under the store's writer lock: two imports that
each read the old records and write their merge lose one of them.  The lock
is taken once the inputs are recognised (a bad file fails at once, without
waiting), and everything the import changes (records, import history,
duplicate clusters, quarantine, report) is published by one
:meth:`~mapapp.store.base.Store.commit`: all of it or none of it.

An import whose result is already the store's (same file bytes, options,
duplicate overrides and cleaning code as the import that made the current
generation: :mod:`mapapp.ingest.fingerprint`) reads nothing: it commits a
generation that carries the records over and says "inchangé / unchanged".

An update that would lose what the store knew (a point degraded to its
commune, a field emptied: typically a truncated or half-filled export) is
not applied unless ``accept_degraded``; it is quarantined with the reason
``degraded`` and listed in the report.

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

import contextlib
import json
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from mapapp.errors import StoreError
from mapapp.geo.communes import load_geography
from mapapp.geo.geocode import AddressGeocoder
from mapapp.ingest.bounds import bound_chunk, bound_original
from mapapp.ingest.clean import CleanedChunk, clean_chunk
from mapapp.ingest.dedupe import MergeRule, cluster_actors, clusters_differ, text_array
from mapapp.ingest.fingerprint import file_digest, import_fingerprint
from mapapp.ingest.locate import Locator
from mapapp.ingest.overrides import OVERRIDES_FILE, Overrides, load_overrides
from mapapp.ingest.parts import (
    NARROW,
    OBSTACLE_SEP,
    AssembledActors,
    CellReader,
    Parts,
    concat_narrow,
    filled_mask,
    lost_fields,
    narrow_frame,
    old_batches,
    release_memory,
    staging_folder,
    take_old,
    with_hashes,
)
from mapapp.ingest.report import bump, new_report, repair_kinds, write_report
from mapapp.schema import COLUMNS, LIST_COLUMNS, validate_actors
from mapapp.settings import Settings
from mapapp.sources import InputGroup, resolve_inputs
from mapapp.sources._base import STAGING_COLUMNS
from mapapp.sources.quarantine import QUARANTINE_COLUMNS
from mapapp.store import open_store
from mapapp.store.base import ROW_HASH
from mapapp.store.merge import diff_actors, read_ledger
from mapapp.store.parquet import geoarrow_table

__all__ = ["DEGRADED", "TRUNCATED", "ingest", "write_quarantine"]

#: ``progress(rows_read_since_last_call, stage)``; stage is a short bilingual label.
Progress = Callable[[int, str], None]
#: Quarantine reason of an update that would lose data (see the module docstring).
DEGRADED = "degraded"
#: Quarantine reasons of rows cut by the end of their file start with this.
TRUNCATED = "truncated"
STAGE_READ = "lecture / reading"
STAGE_MERGE = "fusion / merging"
STAGE_COMMIT = "écriture / writing"
STAGE_UNCHANGED = "inchangé / unchanged"


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
    """Accumulates one import's counts; its rows go to Parquet parts, a narrow copy stays.

    Each cleaned chunk is written at once in its stored form to a part
    (:class:`~mapapp.ingest.parts.Parts`); what the merge needs per row
    stays in memory: the columns the duplicate search reads, the content
    hash, the filled-field flags, and the cleaning's notes.
    """

    def __init__(self, parts: Parts | None = None) -> None:
        self.report = new_report()
        self.parts = parts
        self.narrow: list[pd.DataFrame] = []
        self.infos: list[pd.DataFrame] = []
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
            q["original"] = bound_original(q["original"])
            q["adapter"] = group.adapter.name
            q["dataset"] = ds
            self.quarantine.append(q)
            bump(r["quarantined_by_reason"], q.get("reason_kind") or _reason_kind(q["reason"]))
            bump(r["by_dataset"], ds, "quarantined")
            r["quarantined"] += 1
        actors, info = cleaned.actors, cleaned.info
        if len(actors) == 0:
            return
        if self.parts is None:
            raise StoreError("internal: an import's rows need a staging folder")
        compact = _compact(actors)
        stored = _stored_frame(compact)
        # checked here, chunk by chunk (a repeated id is dropped later: see `rows`)
        validate_actors(stored[~stored["id"].duplicated()])
        hashes, filled = self.parts.add(stored)
        del stored
        self.narrow.append(narrow_frame(compact).assign(_hash=hashes, _filled=filled))
        notes = _compact_info(info)
        notes["dataset"] = pd.Categorical([ds] * len(notes))
        self.infos.append(notes)

    def rows(self) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
        """Every cleaned row (narrow) and its notes; a repeated id keeps its first row.

        The later rows of an id are counted as merged (same id) in their
        dataset, as the reading order met them.  Also returns the part row
        number of each row kept.
        """
        if not self.narrow:
            empty = pd.DataFrame({c: pd.Series([], dtype=object) for c in NARROW})
            empty = empty.assign(_hash=np.zeros(0, np.uint64), _filled=np.zeros(0, np.uint64))
            return empty, pd.DataFrame({"dataset": []}), np.zeros(0, dtype=np.int64)
        # each list is let go once put together: the chunks and the whole are not held twice over
        new = concat_narrow(self.narrow)
        self.narrow = []
        info = concat_narrow(self.infos)
        self.infos = []
        # the ids in one piece: every later look-up takes them as they are, without a copy
        ids = text_array(new["id"])
        new["id"] = pd.array(ids, dtype="str")
        again = ~_first_seen(ids)
        del ids
        if again.any():
            label = MergeRule.SAME_ID.label("en")
            for ds in info["dataset"].to_numpy()[again].tolist():
                self._merged(ds, label)
            new = new[~again].reset_index(drop=True)
            info = info[~again].reset_index(drop=True)
        return new, info, np.flatnonzero(~again)

    def _merged(self, ds: str, reason: str) -> None:
        r = self.report
        r["merged"] += 1
        bump(r["merged_by_reason"], reason)
        bump(r["by_dataset"], ds, "merged")


def _first_seen(ids: pa.Array) -> np.ndarray:
    """Whether each id is met for the first time (reading order), found by sorting.

    Why not ``Series.duplicated``: on Arrow strings it makes a Python string
    per row (2.2 million ids: 200 MB at the import's peak); Arrow's hash
    table (``unique``, ``dictionary_encode``) weighs 270 MB more.  Arrow's
    sort is stable, so equal ids sit together in reading order: every id
    after the first of its run is a repeat (50 MB, a third of a second).

    >>> _first_seen(pa.array(["a", "b", "a", "c", "b"])).tolist()
    [True, True, False, True, False]
    """
    seen = np.ones(len(ids), dtype=bool)
    if len(ids) < 2:
        return seen
    order = pc.sort_indices(ids)
    ordered = ids.take(order)
    same = pc.equal(ordered.slice(1), ordered.slice(0, len(ordered) - 1))
    del ordered
    repeat = np.asarray(same.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
    seen[order.to_numpy()[1:][repeat]] = False
    return seen


#: Text columns of the records, held as Arrow strings between cleaning and commit.
_TEXT_COLUMNS = [c for c, (kind, _) in COLUMNS.items() if kind == "str"]
#: The Arrow type every list column (obstacles, publics...) is held as.
_LIST_TYPE = pa.list_(pa.string())
LIST_DTYPE = pd.ArrowDtype(_LIST_TYPE)
#: The info columns that hold a (mostly empty) list per row.
_INFO_LISTS = ("repairs", "unknown_thematiques", "unknown_codes", "confidential_reasons")
_EMPTY: tuple[()] = ()


def _as_strings(value: Any) -> list[str]:
    """A list cell as a list of strings (None, NaN and "" are empty)."""
    if value is None or (isinstance(value, float) and value != value):
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value]


def arrow_lists(values: Any, *, default: list[str] | None = None) -> pd.Series:
    """A list column as one Arrow ``list<string>`` array instead of a Python list per row.

    Why: a Python list of two slugs costs about 200 bytes; Arrow holds the
    same in about 20 (offsets and text).  A million rows of seven list
    columns weigh a gigabyte less.  ``default`` replaces empty lists (the
    ``modes_accueil`` rule of :func:`mapapp.schema.actors_frame`).

    >>> arrow_lists(pd.Series([["a", "b"], None, "c"])).tolist()
    [['a', 'b'], [], ['c']]
    >>> arrow_lists(pd.Series([[]]), default=["en-presentiel"]).tolist()
    [['en-presentiel']]
    """
    index = values.index if isinstance(values, pd.Series) else None
    if isinstance(values, pd.Series) and values.dtype == LIST_DTYPE and default is None:
        return values
    cells = values.tolist() if isinstance(values, pd.Series) else list(values)
    array = _lists_at_once(cells, default)
    if array is None:
        array = pa.array([_as_strings(v) or default or [] for v in cells], type=_LIST_TYPE)
    return pd.Series(pd.array(array, dtype=LIST_DTYPE), index=index)


def _lists_at_once(cells: list[Any], default: list[str] | None) -> pa.Array | None:
    """The cells converted by Arrow in one call, or None where only :func:`_as_strings` knows.

    Why: cleaned list cells are lists of strings or None, and Arrow converts
    a million of them in C; a Python call per cell cost a fifth of an
    import.  A text cell (Arrow would split ``"abc"`` into letters), a
    number, NaN or a None item inside a list go the slow way, so the result
    is always the slow way's.

    >>> _lists_at_once([["a"], None, []], ["d"]).to_pylist()
    [['a'], ['d'], ['d']]
    >>> _lists_at_once([["a"], "b"], None) is None
    True
    """
    if any(isinstance(v, str) for v in cells):
        return None
    try:
        array = pa.array(cells, type=_LIST_TYPE)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        return None
    if not isinstance(array, pa.ListArray) or array.values.null_count:
        return None
    empty = pc.fill_null(pc.equal(pc.list_value_length(array), 0), True)
    if array.null_count or (default and pc.any(empty).as_py()):
        array = pc.if_else(empty, pa.scalar(default or [], type=_LIST_TYPE), array)
    return array


def _compact(actors: pd.DataFrame) -> pd.DataFrame:
    """A cleaned chunk with Arrow strings and Arrow lists, not Python objects.

    Why: the import holds every cleaned row until the merge; a Python string
    costs about 50 bytes more than its text and a Python list about 150, so a
    million rows weigh gigabytes less this way.

    >>> _compact(pd.DataFrame({"nom": pd.Series(["EPN"], dtype=object)}))["nom"].dtype
    <StringDtype(na_value=nan)>
    >>> _compact(pd.DataFrame({"obstacles": [["emploi"]]}))["obstacles"].dtype
    list<item: string>[pyarrow]
    """
    out = actors.copy(deep=False)  # copy-on-write: only the converted columns are new
    for col in _TEXT_COLUMNS:
        if col in out and out[col].dtype == object:
            out[col] = out[col].astype("str")
    for col in LIST_COLUMNS:
        if col in out:
            default = ["en-presentiel"] if col == "modes_accueil" else None
            out[col] = arrow_lists(out[col], default=default)
    return out


def _compact_info(info: pd.DataFrame) -> pd.DataFrame:
    """The cleaning's per-row notes in their lightest form (a few bytes a row).

    Why: most rows have no repair, no unknown code, no confidentiality
    reason, and a national import holds these notes until the report is
    written.  Lists of text become one category per distinct list (joined
    with :data:`~mapapp.ingest.parts.OBSTACLE_SEP`; :func:`_info_lists`
    splits them back), the confidentiality reasons (dicts) share one empty
    tuple, and ``origin`` ("file.csv#12") is kept as its file (a category)
    and its line number.

    >>> i = _compact_info(pd.DataFrame({"repairs": [[], ["x", "y"]], "origin": ["a.csv#2", "a.csv#3"]}))
    >>> i["repairs"].dtype.name, _info_lists(i, "repairs"), _origins(i)
    ('category', [[], ['x', 'y']], ['a.csv#2', 'a.csv#3'])
    """
    out = info.copy(deep=False)
    for col in _INFO_LISTS:
        if col not in out:
            continue
        if col in _JOINED_INFO:
            out[col] = pd.Categorical([OBSTACLE_SEP.join(map(str, v)) for v in out[col]])
        else:
            out[col] = pd.Series(
                [v if len(v) else _EMPTY for v in out[col]], index=out.index, dtype=object
            )
    if "origin" in out:
        out = _split_origin(out)
    for col in ("insee_how", "invalid_hours"):  # a few distinct values: one byte a row
        if col in out:
            out[col] = out[col].fillna("").astype(str).astype("category")
    return out


#: The info columns of lists of text, held joined (see :func:`_compact_info`).
_JOINED_INFO = ("repairs", "unknown_thematiques", "unknown_codes")


def _split_origin(info: pd.DataFrame) -> pd.DataFrame:
    """``origin`` as ``origin_file`` (category) and ``origin_line`` when all are "name#n"."""
    text = pa.array(info["origin"].fillna("").astype(str).tolist(), type=pa.string())
    parts = pc.extract_regex(text, r"^(?P<file>.*)#(?P<line>[0-9]{1,18})$")
    if parts.null_count:
        info["origin"] = info["origin"].fillna("").astype("str")
        return info
    file = parts.field("file").dictionary_encode()
    out = info.drop(columns="origin")
    out["origin_file"] = pd.Categorical.from_codes(
        file.indices.to_numpy(zero_copy_only=False).astype(np.int32),
        categories=pd.Index(file.dictionary.to_pylist(), dtype=object),
    )
    out["origin_line"] = pc.cast(parts.field("line"), pa.int64()).to_numpy()
    return out


def _origins(info: pd.DataFrame, rows: Any = None) -> list[str]:
    """The ``origin`` of ``rows`` (all rows by default) as "file.csv#12"."""
    pick = slice(None) if rows is None else rows
    if "origin" in info:
        return [str(v) for v in info["origin"].iloc[pick].tolist()]
    if "origin_file" not in info:
        return [""] * (len(info) if rows is None else len(rows))
    files = info["origin_file"].iloc[pick].astype(str).tolist()
    lines = info["origin_line"].iloc[pick].tolist()
    return [f"{f}#{n}" for f, n in zip(files, lines, strict=True)]


def _info_lists(info: pd.DataFrame, col: str, rows: list[int] | None = None) -> list[list[str]]:
    """A list column of the notes, one list per row (split back when held joined).

    ``rows``: only these rows (a list per row of 2.2 million weighs 100 MB).
    """
    n = len(info) if rows is None else len(rows)
    if col not in info:
        return [[] for _ in range(n)]
    column = info[col] if rows is None else info[col].iloc[rows]
    if isinstance(column.dtype, pd.CategoricalDtype):
        cats = [str(c).split(OBSTACLE_SEP) if c else _NONE for c in column.cat.categories]
        cats.append(_NONE)  # code -1: a missing cell
        return [cats[k] for k in column.cat.codes.tolist()]
    return [list(v) if v is not None else _NONE for v in column.tolist()]


def _filled_rows(info: pd.DataFrame, col: str) -> list[int]:
    """The rows whose list of notes ``col`` is not empty, found through its categories.

    >>> _filled_rows(_compact_info(pd.DataFrame({"repairs": [[], ["x"], [], ["y", "z"]]})), "repairs")
    [1, 3]
    """
    if col not in info:
        return []
    column = info[col]
    if not isinstance(column.dtype, pd.CategoricalDtype):
        return [i for i, v in enumerate(column.tolist()) if v is not None and len(v)]
    full = np.array([bool(c) for c in column.cat.categories] + [False], dtype=bool)
    return np.flatnonzero(full[column.cat.codes.to_numpy()]).tolist()


def _equals(column: pd.Series, value: str) -> np.ndarray:
    """Which rows of a text column hold ``value`` (compared on the categories, no text per row).

    >>> _equals(pd.Series(pd.Categorical(["commune", None, "address"])), "commune").tolist()
    [True, False, False]
    """
    cat = column.astype("category")
    hit = np.array([str(c) == value for c in cat.cat.categories] + [False], dtype=bool)
    return hit[cat.cat.codes.to_numpy()]


#: One shared empty list for every row without notes (never modified).
_NONE: list[str] = []


def _isin(column: pd.Series, values: Any) -> np.ndarray:
    """``column.isin(values)`` for text, through Arrow's hash table.

    Why: on pandas' Arrow-backed strings, ``isin`` turns every wanted value
    into an Arrow scalar one by one (seconds for a million ids), and going
    through Python objects costs a string per row (a million ids: 60 MB).
    ``values``: any collection of text, or an Arrow array.

    >>> _isin(pd.Series(["a", "b", None], dtype=object), {"b"}).tolist()
    [False, True, False]
    >>> _isin(pd.Series(["a", "b"]), pa.array(["a"])).tolist()
    [True, False]
    """
    if not len(column):
        return np.zeros(0, dtype=bool)
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        wanted = values.cast(pa.large_string())
    else:
        wanted = pa.array([str(v) for v in values], type=pa.large_string())
    found = pc.is_in(text_array(column), value_set=wanted)
    hit = np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)
    hit &= column.notna().to_numpy()  # an empty cell is no text (not "nan", not "None")
    return hit


def _reason_kind(reason: str) -> str:
    """The report's key for a reason an adapter wrote as text (cleaning reasons are typed)."""
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
    accept_degraded: bool = False,
    report_path: Path | None = None,
    quarantine_path: Path | None = None,
    progress: Progress | None = None,
    wait: bool = True,
    on_wait: Callable[[str], None] | None = None,
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
        Remove from the store the records gone from their dataset (never
        when an input was cut short: its missing rows are not gone).
    accept_degraded : bool, keyword-only
        Apply updates that lower a record's location precision or empty a
        field it had (default: keep the old record, quarantine the update).
    report_path, quarantine_path : Path, keyword-only
        Where to write the JSON report (plus ``.md``) and the quarantine CSV;
        defaults under ``settings.data_dir / "reports"``.
    progress : callable, keyword-only
        Called with the number of rows read since the last call and the stage.
    wait : bool, keyword-only
        Wait for another import to finish (default); when False, raise
        :class:`~mapapp.errors.StoreBusyError` if one is running.
    on_wait : callable, keyword-only
        Told (once) what the import waits for.
    """
    run = _Run()
    r = run.report
    groups = resolve_inputs(
        list(sources),
        fmt=fmt,
        mapping=mapping,
        download_dir=settings.cache_dir / "downloads",
        dataset=dataset,
    )
    store = open_store(settings)
    options = {
        "fmt": fmt,
        "mapping": _mapping_key(mapping),
        "geocode": geocode,
        "prune": prune,
        "accept_degraded": accept_degraded,
    }
    fingerprint = import_fingerprint(
        [(g.adapter.name, g.dataset, g.paths) for g in groups],
        options=options,
        overrides=settings.data_dir / OVERRIDES_FILE,
        geography=str(settings.cache_dir),
    )
    with store.writer(wait=wait, on_wait=on_wait), _system_memory_pool():
        r["started"] = _now()
        r["fingerprint"] = fingerprint
        previous = _same_import(store, fingerprint)
        if previous is not None:
            if progress is not None:
                progress(0, STAGE_UNCHANGED)
            return _unchanged(store, previous, r, report_path, quarantine_path, settings)
        run.parts = Parts(staging_folder(store))
        try:
            _read_inputs(
                run, groups, settings, geocode=geocode, geocoder=geocoder, progress=progress
            )
            release_memory(collect=True)  # the geography, the last chunk's leftovers
            if progress is not None:
                progress(0, STAGE_MERGE)
            overrides = load_overrides(settings.data_dir / OVERRIDES_FILE)
            actors, tables = _merge(
                run, store, groups, overrides, prune=prune, accept_degraded=accept_degraded
            )
            release_memory(collect=True)  # the merge's narrow frames
            r["finished"] = _now()
            r["balanced"] = r["read"] == r["loaded"] + r["merged"] + r["quarantined"]
            r["quarantine"] = [
                {k: q[k] for k in ("origin", "dataset", "adapter", "reason", "original", "staging")}
                for q in run.quarantine
            ]
            rpath, qpath = _report_paths(settings, report_path, quarantine_path)
            if progress is not None:
                progress(0, STAGE_COMMIT)
            tables["history"] = _history(store, r)
            tables["quarantine"] = _quarantine_table(run.quarantine)
            r["store"]["generation"] = store.commit(actors, tables, report=r)
            del actors, tables
        finally:
            run.parts.close()
    return _write_files(r, run.quarantine, rpath, qpath, quarantine_path is not None)


def _write_files(
    r: dict[str, Any], quarantine: list[dict[str, Any]], rpath: Path, qpath: Path, force: bool
) -> dict[str, Any]:
    """Write the quarantine CSV (when there is one to write) and the report files."""
    if quarantine or force:
        r["quarantine_file"] = str(write_quarantine(quarantine, qpath))
    # named before writing, so the report (a few hundred MB of JSON at a million
    # repaired rows) is encoded once, with its own file names in it
    r["report_files"] = [str(Path(rpath)), str(Path(rpath).with_suffix(".md"))]
    write_report(r, rpath)
    return r


def _mapping_key(mapping: str | Path | None) -> str:
    """A mapping as the fingerprint sees it: a file's content hash, else its name."""
    if mapping is None:
        return ""
    path = Path(mapping)
    return f"file:{file_digest(path)}" if path.is_file() else f"name:{mapping}"


def _same_import(store: Any, fingerprint: str) -> dict[str, Any] | None:
    """The current generation's report when it came from exactly this import, else None.

    Not when the store is empty, when the generation was written by anything
    but an import (no report), or when that import could not reach the
    geocoder (running again may place more rows).
    """
    read_report = getattr(store, "read_report", None)
    if read_report is None or store.is_empty():
        return None
    previous = read_report()
    if not isinstance(previous, dict) or previous.get("fingerprint") != fingerprint:
        return None
    geo = previous.get("geocoding") or {}
    if geo.get("unavailable") or geo.get("failures"):
        return None
    return previous


def _unchanged(
    store: Any,
    previous: dict[str, Any],
    r: dict[str, Any],
    report_path: Path | None,
    quarantine_path: Path | None,
    settings: Settings,
) -> dict[str, Any]:
    """Commit a no-op generation that says the import was unchanged ("inchangé").

    Nothing is re-read: the files, options, overrides and code are those of the
    import that made the current generation, so its result would be the same.
    The records and side tables are carried over (hard links); the import
    history gains a row, and the report repeats the previous counts.
    """
    for key in ("read", "loaded", "merged", "quarantined", "inputs", "quarantine"):
        r[key] = previous.get(key, r[key])
    for key in ("quarantined_by_reason", "by_dataset", "merged_by_reason", "warnings"):
        r[key] = previous.get(key, r[key])
    total = int((previous.get("store") or {}).get("total", 0))
    since = previous.get("started", "")
    r["unchanged_input"] = True
    r["notes"] = [
        f"Inchangé / unchanged: mêmes fichiers, options et code que l'import du {since}; "
        f"rien n'est relu, les {total} fiches restent telles quelles / same files, options and "
        f"code as the import of {since}; nothing re-read, the {total} records are kept as they are."
    ]
    r["store"] = {"added": 0, "updated": 0, "unchanged": total, "degraded": 0, "gone": 0}
    r["store"] |= {"pruned": 0, "total": total, "written": False, "unchanged_input": True}
    r["finished"] = _now()
    r["balanced"] = r["read"] == r["loaded"] + r["merged"] + r["quarantined"]
    r["store"]["generation"] = store.commit(None, {"history": _history(store, r)}, report=r)
    rpath, qpath = _report_paths(settings, report_path, quarantine_path)
    return _write_files(r, r["quarantine"], rpath, qpath, quarantine_path is not None)


def _report_paths(
    settings: Settings, report_path: Path | None, quarantine_path: Path | None
) -> tuple[Path, Path]:
    """Where the report and the quarantine file go (defaults under the data folder)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    rpath = Path(report_path or settings.data_dir / "reports" / f"ingest-{stamp}.json")
    return rpath, Path(quarantine_path or rpath.with_name(rpath.stem + "-quarantine.csv"))


def _read_inputs(
    run: _Run,
    groups: list[InputGroup],
    settings: Settings,
    *,
    geocode: bool,
    geocoder: AddressGeocoder | None,
    progress: Progress | None,
) -> None:
    """Read, clean and bound every chunk of every input into ``run``."""
    r = run.report
    locator = Locator(load_geography(settings.cache_dir))
    if geocode and geocoder is None:
        geocoder = AddressGeocoder(
            domain=settings.geocoder_domain, cache_path=settings.cache_dir / "geocode.sqlite"
        )
    if not geocode:
        geocoder = None
    if progress is not None:  # said at once: the first chunk takes seconds to read and clean
        progress(0, STAGE_READ)
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
                cleaned, cut = bound_chunk(cleaned)
                for col, n in cut.items():
                    bump(r["cut_fields"], col, by=n)
                run.add(group, cleaned, chunk.merged, len(chunk))
                del cleaned
                release_memory()
                if progress is not None:
                    progress(len(chunk), STAGE_READ)
            warnings = getattr(group.adapter, "warnings", None) or []
            r["warnings"] = list(dict.fromkeys([*r["warnings"], *warnings]))
            r.setdefault("notes", []).extend(group.notes)  # e.g. ids derived from content
    finally:
        if geocoder is not None:
            r["geocoding"] = vars(geocoder.stats) | {}
            geocoder.close()


@contextlib.contextmanager
def _system_memory_pool() -> Iterator[None]:
    """Arrow allocates from the C heap while an import runs (then as before).

    Why: Arrow's default allocator (mimalloc) keeps the pages of freed
    buffers for reuse; an import frees tens of megabytes per chunk, and at
    a million rows the process kept about 40 MB more per 300,000 rows than
    with the C heap, which :func:`~mapapp.ingest.parts.release_memory` trims back.
    """
    before = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(before)


def _history(store: Any, r: dict[str, Any]) -> pd.DataFrame:
    """The import history with this import appended (one row per import)."""
    old = store.read_table("history")
    row = pd.DataFrame(
        [
            {
                "started": r["started"],
                "finished": r["finished"],
                "datasets": json.dumps(sorted({i["dataset"] for i in r["inputs"]})),
                "files": json.dumps([f for i in r["inputs"] for f in i["files"]]),
                "read": r["read"],
                "loaded": r["loaded"],
                "merged": r["merged"],
                "quarantined": r["quarantined"],
                "added": r["store"].get("added", 0),
                "updated": r["store"].get("updated", 0),
                "total": r["store"].get("total", 0),
            }
        ]
    )
    return row if old is None or not len(old) else pd.concat([old, row], ignore_index=True)


def _quarantine_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """This import's quarantined rows, as stored with its generation."""
    return pd.DataFrame(
        {
            "origin": [str(q["origin"]) for q in rows],
            "dataset": [str(q.get("dataset", "")) for q in rows],
            "adapter": [str(q.get("adapter", "")) for q in rows],
            "reason": [str(q["reason"]) for q in rows],
            "original": [json.dumps(q["original"], ensure_ascii=False, default=str) for q in rows],
            "staging": [json.dumps(q["staging"], ensure_ascii=False, default=str) for q in rows],
        }
    )


def _merge(
    run: _Run,
    store: Any,
    groups: list[InputGroup],
    overrides: Overrides,
    *,
    prune: bool,
    accept_degraded: bool,
) -> tuple[AssembledActors | gpd.GeoDataFrame | None, dict[str, pd.DataFrame]]:
    """Merge this import into the store's records (held under the writer lock).

    Works on narrow frames (:data:`~mapapp.ingest.parts.NARROW`, hashes,
    filled flags); the records themselves stay in the parts and the old
    generation's file until :class:`~mapapp.ingest.parts.AssembledActors`
    writes them, and the duplicate search reads back the few cells it
    compares (:class:`~mapapp.ingest.parts.CellReader`).  No Python set or
    list of every id is built: ids stay Arrow strings, rows are positions.
    Returns the records to commit (None when no record changed) and the
    ledger and clusters tables.
    """
    r = run.report
    new, info, rows = run.rows()
    release_memory(collect=True)  # the chunks' frames, now put together
    old, old_source = _read_old(store)
    if not accept_degraded:
        new, info, rows = _hold_degraded(run, old, new, info, rows)
    is_added, is_updated, unchanged = _diff(old, new)
    # the hashes and flags have done their work: 16 bytes a row less during the merge
    new, old = _without_checks(new), _without_checks(old)
    n_added, n_updated = int(is_added.sum()), int(is_updated.sum())
    # the report lists at most 500 of each
    added = _first_ids(new["id"], is_added)
    updated = _first_ids(new["id"], is_updated)
    del is_added, is_updated
    ledger = read_ledger(store)
    datasets = {g.dataset for g in groups if g.dataset}
    new_ids = text_array(new["id"])
    gone = _gone(run, ledger, datasets, new_ids)
    # combined store: the records of this import replace their old versions
    old_keep = ~_isin(old["id"], new_ids) if len(old) else np.zeros(0, dtype=bool)
    pruned: list[str] = []
    cut_short = sorted(
        {q["origin"].split("#")[0] for q in run.quarantine if q["reason"].startswith(TRUNCATED)}
    )
    if prune and gone and cut_short:
        r["prune_skipped"] = (
            "fichier(s) coupé(s) avant la fin, rien n'est supprimé / input cut short, "
            f"nothing pruned: {', '.join(cut_short)}"
        )
    elif prune and gone:
        pruned = gone
        old_keep &= ~_isin(old["id"], gone)
    del new_ids
    combined = _combined(old, old_keep, new)
    n_old = int(old_keep.sum())
    cells = CellReader(old_source, np.flatnonzero(old_keep), run.parts, rows)
    files = _files(ledger, old, old_keep, info)
    clusters = cluster_actors(combined, files=files, overrides=overrides, cells=cells)
    del files
    release_memory(collect=True)
    clusters_changed = clusters_differ(
        old[[c for c in ("id", "cluster_id", "duplicate") if c in old]],
        clusters[["id", "cluster_id", "duplicate"]],
    )
    is_new = np.zeros(len(clusters), dtype=bool)
    is_new[n_old:] = True
    _report_merges(r, clusters, is_new, overrides)
    # accounting: rows of this import that are not their cluster's primary are "merged"
    new_dup = clusters["duplicate"].to_numpy(dtype=bool)[n_old:]
    # the rules of the merged rows only (a text per row of a million would weigh 60 MB)
    _count_loaded(r, info, new_dup, clusters["rule"].iloc[np.flatnonzero(new_dup) + n_old].tolist())
    _describe(r, new, info, new_dup, lambda pick: cells("nom", pick + n_old))
    release_memory(collect=True)
    changed = bool(
        n_added or n_updated or pruned or (old.empty and len(combined)) or clusters_changed
    )
    ledger_rows = _ledger_rows(ledger, datasets, pruned, info, new)
    dup_clusters = clusters.loc[clusters["duplicate"].to_numpy(dtype=bool), "cluster_id"]
    r["store"] = {
        "added": n_added,
        "updated": n_updated,
        "unchanged": unchanged,
        "degraded": r["quarantined_by_reason"].get(DEGRADED, 0),
        "gone": len(gone),
        "pruned": len(pruned),
        "total": len(combined),
        # every cluster of several records has a duplicate
        "clusters_with_several_records": int(dup_clusters.nunique()),
        "written": changed,
    }
    fields = _updated_fields(run, old, old_source, new, rows, updated)
    r["changes"] = {
        "added": added,
        "updated": [{"id": k, "fields": fields.get(k, [])} for k in updated],
        "gone": gone,
    }
    tables = {"ledger": ledger_rows, "clusters": clusters}
    if not (changed or store.is_empty()):
        return None, tables
    if run.parts is None or (run.parts.schema is None and old_source is None):
        # nothing read, nothing kept: a records file with every column and no row
        return _stored_frame(pd.DataFrame(columns=list(COLUMNS))), tables
    keep = np.zeros(len(run.parts), dtype=bool)
    keep[rows] = True
    actors = AssembledActors(
        run.parts,
        keep,
        old_source,
        old_keep,
        clusters[["cluster_id", "duplicate", "sources"]],
        _bbox(combined),
    )
    return actors, tables


def _first_ids(ids: pd.Series, mask: np.ndarray, limit: int = 500) -> list[str]:
    """The first ``limit`` ids where ``mask`` is set (what the report lists)."""
    return [str(i) for i in ids.iloc[np.flatnonzero(mask)[:limit]].tolist()]


def _gone(run: _Run, ledger: pd.DataFrame, datasets: set[str], new_ids: pa.Array) -> list[str]:
    """Ids this import's datasets had before and no longer have (read nor quarantined)."""
    quarantined_ids = {
        f"{q['staging'].get('source', '')}:{q['staging'].get('source_id', '')}"
        for q in run.quarantine
    } | {q["id"] for q in run.quarantine if "id" in q}
    past = ledger.loc[_isin(ledger["dataset"], datasets), "id"]
    past = past[~_isin(past, new_ids)]
    return sorted(set(past.astype(str).tolist()) - quarantined_ids)


def _combined(old: pd.DataFrame, old_keep: np.ndarray, new: pd.DataFrame) -> pd.DataFrame:
    """The narrow records after this import: the old ones kept, then this import's."""
    narrow = [c for c in NARROW if c in new.columns or c in old.columns]
    mine = new[[c for c in narrow if c in new]]
    if not old_keep.any():  # a fresh store: no copy of the new rows
        return mine
    kept = old.loc[old_keep, [c for c in narrow if c in old]]
    return concat_narrow([kept.reset_index(drop=True), mine])


def _without_checks(frame: pd.DataFrame) -> pd.DataFrame:
    """A narrow frame without its content hashes and filled-field flags (used up by the diff)."""
    return frame.drop(columns=[c for c in ("_hash", "_filled") if c in frame.columns])


def _files(
    ledger: pd.DataFrame, old: pd.DataFrame, old_keep: np.ndarray, info: pd.DataFrame
) -> np.ndarray:
    """Each combined row's file as a number (equal numbers, same file).

    The file is the row's dataset: the ledger's last for an old record (else
    ``source:<its source>``), this import's for its rows.  Why numbers: a
    file name per row is a Python string per row, 120 MB at 2.2 million rows
    alive during the whole duplicate search; the names are numbered through
    their categories.

    >>> ledger = pd.DataFrame({"dataset": ["d1"], "id": ["a:1"]})
    >>> old = pd.DataFrame({"id": ["a:1", "b:2"], "source": ["a", "b"]})
    >>> info = pd.DataFrame({"dataset": pd.Categorical(["d1", "d2"])})
    >>> pd.factorize(_files(ledger, old, np.array([True, True]), info))[0].tolist()
    [0, 1, 0, 2]
    """
    number: dict[str, int] = {}

    def numbered(column: pd.Series, prefix: str = "") -> np.ndarray:
        # each row's name's number ("" is -1), worked out once per distinct name
        cat = column.astype("category")
        names = [prefix + str(c) if str(c) else "" for c in cat.cat.categories]
        table = np.array(
            [number.setdefault(x, len(number)) if x else -1 for x in names] + [-1], dtype=np.int32
        )
        return table[cat.cat.codes.to_numpy()]  # code -1 (missing) takes the last entry

    pieces: list[np.ndarray] = []
    if old_keep.any():
        kept_ids = text_array(old["id"][old_keep])
        # the ledger's last row of an id decides, as a mapping built in order would
        last = ledger.iloc[::-1]
        at = pc.index_in(kept_ids, value_set=text_array(last["id"]))
        at = np.asarray(at.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
        dataset = numbered(last["dataset"])
        known = np.where(at >= 0, dataset[np.maximum(at, 0)] if len(dataset) else -1, -1)
        source = numbered(old["source"][old_keep], "source:")
        pieces.append(np.where(known >= 0, known, source))
    if len(info):
        pieces.append(numbered(info["dataset"]))
    if len(pieces) == 1:
        return pieces[0]
    return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int32)


def _count_loaded(r: dict[str, Any], info: pd.DataFrame, dup: np.ndarray, rules: list[str]) -> None:
    """Count this import's rows as loaded or merged (``rules``: of the merged rows), per dataset."""
    for reason, count in Counter(rules).items():
        r["merged"] += count
        bump(r["merged_by_reason"], MergeRule(str(reason)).label("en"), by=count)
    r["loaded"] += int((~dup).sum())
    if "dataset" not in info:
        return
    for ds, merged, count in _tally(info["dataset"], dup):
        bump(r["by_dataset"], ds, "merged" if merged else "loaded", by=count)


def _ledger_rows(
    ledger: pd.DataFrame,
    datasets: set[str],
    pruned: list[str],
    info: pd.DataFrame,
    new: pd.DataFrame,
) -> pd.DataFrame:
    """The import ledger after this import: (dataset, id) once each, pruned ids gone."""
    mine = _isin(ledger["dataset"], datasets)
    others = ledger[~mine]
    kept = ledger[mine & ~_isin(ledger["id"], pruned)] if pruned else ledger[mine]
    dataset = info["dataset"].astype("category")
    # a pair already in the ledger stays where it was
    seen = np.zeros(len(new), dtype=bool)
    if len(kept):
        for code, ds in enumerate(dataset.cat.categories.astype(str).tolist()):
            at = (dataset.cat.codes == code).to_numpy()
            before = kept.loc[(kept["dataset"].astype(str) == ds).to_numpy(), "id"]
            if len(before) and at.any():
                seen[at] = _isin(new["id"][at], text_array(before))
    fresh = pd.DataFrame(
        {
            "dataset": pd.array(text_array(dataset[~seen]), dtype="str"),
            "id": pd.array(text_array(new["id"][~seen]), dtype="str"),
        }
    )
    if not len(others) and not len(kept):
        return fresh
    return pd.concat([others, kept, fresh], ignore_index=True)


def _diff(old: pd.DataFrame, new: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, int]:
    """Which new rows are added, which updated (content hash differs), how many unchanged.

    >>> old = pd.DataFrame({"id": ["a:1", "a:2"], "_hash": np.array([1, 2], np.uint64)})
    >>> new = pd.DataFrame({"id": ["a:1", "a:2", "a:3"], "_hash": np.array([1, 5, 7], np.uint64)})
    >>> added, updated, unchanged = _diff(old, new)
    >>> added.tolist(), updated.tolist(), unchanged
    ([False, False, True], [False, True, False], 1)
    """
    if not len(old):
        return np.ones(len(new), dtype=bool), np.zeros(len(new), dtype=bool), 0
    at = pc.index_in(text_array(new["id"]), value_set=text_array(old["id"]))
    pos = np.asarray(at.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
    common = pos >= 0
    same = np.zeros(len(new), dtype=bool)
    same[common] = old["_hash"].to_numpy()[pos[common]] == new["_hash"].to_numpy()[common]
    return ~common, common & ~same, int(same.sum())


def _updated_fields(
    run: _Run,
    old: pd.DataFrame,
    old_source: Path | pa.Table | None,
    new: pd.DataFrame,
    rows: np.ndarray,
    ids: list[str],
) -> dict[str, list[str]]:
    """Which fields changed, for the updated records the report lists (at most 500).

    Only those records are read back, from the parts and the old file.
    """
    if not ids or run.parts is None:
        return {}
    wanted = set(ids)
    new_rows = rows[_isin(new["id"], wanted)]
    old_rows = np.flatnonzero(_isin(old["id"], wanted))
    b = run.parts.take(np.sort(new_rows))
    a = take_old(old_source, old_rows)
    if a is None or b is None:
        return {}
    drop = ["geometry", ROW_HASH]
    a_frame = a.drop_columns([c for c in drop if c in a.column_names]).to_pandas()
    b_frame = b.drop_columns([c for c in drop if c in b.column_names]).to_pandas()
    return diff_actors(a_frame, b_frame).updated


def _bbox(combined: pd.DataFrame) -> list[float] | None:
    """The records' bounding box (lon/lat), None when none is located."""
    if "longitude" not in combined or "latitude" not in combined:
        return None
    lon = np.asarray(combined["longitude"], dtype=float)
    lat = np.asarray(combined["latitude"], dtype=float)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return None
    x, y = lon[ok], lat[ok]
    return [float(x.min()), float(y.min()), float(x.max()), float(y.max())]


def _hold_degraded(
    run: _Run, old: pd.DataFrame, new: pd.DataFrame, info: pd.DataFrame, rows: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Take out of ``new`` the updates that would lose data; quarantine them (reason ``degraded``).

    Lost is a location less precise than before (address -> commune) or a
    field that had a value and is now empty (the filled-field flags of
    :func:`~mapapp.ingest.parts.filled_mask`).
    """
    if not len(old) or not len(new):
        return new, info, rows
    pos = pd.Index(old["id"].astype(str)).get_indexer(pd.Index(new["id"].astype(str)))
    common = pos >= 0
    at = pos[common]
    old_prec = old["precision"].astype(object).to_numpy()[at]
    new_prec = new["precision"].astype(object).to_numpy()[common]
    ra = pd.Series(old_prec).map(_RANK).fillna(0).to_numpy()
    rb = pd.Series(new_prec).map(_RANK).fillna(0).to_numpy()
    fo = old["_filled"].to_numpy(dtype=np.uint64)[at]
    fn = new["_filled"].to_numpy(dtype=np.uint64)[common]
    lost_here = (rb < ra) | ((fo & ~fn) != 0)
    if not lost_here.any():
        return new, info, rows
    hold = np.zeros(len(new), dtype=bool)
    hold[np.flatnonzero(common)[lost_here]] = True
    lost: dict[int, list[str]] = {}
    for k in np.flatnonzero(lost_here).tolist():
        what = [f"{f} emptied" for f in lost_fields(fo[k], fn[k])]
        if rb[k] < ra[k]:
            what.insert(0, f"precision {old_prec[k]} -> {new_prec[k] or 'none'}")
        lost[int(np.flatnonzero(common)[k])] = what
    _quarantine_degraded(run, new, info, rows, lost)
    keep = ~hold
    return new[keep].reset_index(drop=True), info[keep].reset_index(drop=True), rows[keep]


def _quarantine_degraded(
    run: _Run, new: pd.DataFrame, info: pd.DataFrame, rows: np.ndarray, lost: dict[int, list[str]]
) -> None:
    """Quarantine the held updates, each with its record as read back from its part."""
    r = run.report
    held = sorted(lost)
    table = run.parts.take(rows[held]) if run.parts is not None else None
    drop = ["geometry", ROW_HASH, "cluster_id", "duplicate", "sources"]
    records = (
        table.drop_columns([c for c in drop if c in table.column_names]).to_pylist()
        if table is not None
        else [{} for _ in held]
    )
    datasets = info["dataset"].tolist() if "dataset" in info else [""] * len(new)
    origins = dict(zip(held, _origins(info, held), strict=True))
    for i, rec in zip(held, records, strict=True):
        rid = str(new["id"].iat[i])
        reason = f"{DEGRADED}: {'; '.join(lost[i])} (old record kept; --accept-degraded applies it)"
        staging = {k: _plain(v) for k, v in rec.items() if k in STAGING_COLUMNS and _filled(v)}
        run.quarantine.append(
            {
                "origin": origins[i],
                "reason": reason,
                "original": bound_original({k: _plain(v) for k, v in rec.items()}),
                "staging": staging,
                "adapter": "",
                "dataset": datasets[i],
                "id": rid,
            }
        )
        r["quarantined"] += 1
        bump(r["quarantined_by_reason"], DEGRADED)
        bump(r["by_dataset"], datasets[i], "quarantined")
        if len(r["degraded"]) < 500:
            r["degraded"].append({"id": rid, "origin": origins[i], "lost": lost[i]})


_RANK = {"address": 2, "commune": 1}


def _filled(value: Any) -> bool:
    if isinstance(value, (list, tuple, np.ndarray)):
        return len(value) > 0
    if isinstance(value, float):
        return value == value
    return value is not None and str(value) != ""


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.bool_, np.floating, np.integer)):
        return value.item()
    return value


def _report_merges(
    r: dict[str, Any], clusters: pd.DataFrame, is_new: np.ndarray, overrides: Overrides
) -> None:
    """Every duplicate in a cluster this import touches: rule, match, distance, name score.

    A record imported earlier may become a duplicate of a richer new one: it is
    listed too (``this_import`` False), so no merge goes unexplained.  Only the
    clusters of the duplicates are looked up (no table of every cluster).
    """
    dup = clusters["duplicate"].to_numpy(dtype=bool)
    cluster_id = clusters["cluster_id"]
    of_dups = text_array(cluster_id[dup])
    touched = pc.unique(
        text_array(cluster_id[is_new]).filter(pc.is_in(text_array(cluster_id[is_new]), of_dups))
    )
    listed = dup & _isin(cluster_id, touched)
    mine = clusters[listed].assign(this_import=is_new[listed])

    r["merges"] = [
        {
            "id": row.id,
            "cluster_id": row.cluster_id,
            "linked_to": row.linked_to,
            "this_import": bool(row.this_import),
            "rule": row.rule,
            "reason_fr": MergeRule(str(row.rule)).label("fr"),
            "reason_en": MergeRule(str(row.rule)).label("en"),
            "distance_m": _number(row.distance_m),
            "name_score": _number(row.name_score),
        }
        for row in mine.itertuples()
    ]
    if overrides.path:
        r["duplicate_overrides"] = {
            "file": overrides.path,
            "joins": len(overrides.joins),
            "splits": len(overrides.splits),
            "unknown_ids": overrides.unknown_ids(clusters["id"]),
        }


def _read_old(store: Any) -> tuple[pd.DataFrame, Path | pa.Table | None]:
    """The store's records, narrow (see :func:`_Run.add`), and where to read them whole.

    Read batch by batch from the generation's Parquet file when the store has
    one (its rows are written again from there); a backend without files
    (PostGIS) gives its records as one table, as it always did.
    """
    if store.is_empty():
        empty = pd.DataFrame({c: pd.Series([], dtype=object) for c in NARROW})
        return empty.assign(_hash=np.zeros(0, np.uint64), _filled=np.zeros(0, np.uint64)), None
    path = getattr(store, "actors_path", None)
    source: Path | pa.Table
    if path is None:  # PostGIS: its own reader
        frame = pd.DataFrame(store.read_actors().drop(columns="geometry"))
        source = geoarrow_table(_stored_frame(_compact(frame)))
    else:
        source = Path(path)
    try:
        pieces = [_narrow_old(table) for table in old_batches(source)]
    except (OSError, pa.ArrowException) as exc:
        raise StoreError(
            f"cannot read the records in {path} ({exc}); "
            "'mapapp store rollback' goes back to the previous import"
        ) from exc
    return concat_narrow(pieces), source


def _narrow_old(table: pa.Table) -> pd.DataFrame:
    """One batch of old records as the merge keeps them (narrow, cluster columns, hash, flags)."""
    table = with_hashes(table)
    wanted = [
        c for c in (*NARROW, "thematiques", "cluster_id", "duplicate") if c in table.column_names
    ]
    part = table.select(wanted)
    for i, name in enumerate(part.column_names):
        if pa.types.is_list(part.schema.field(name).type):
            part = part.set_column(i, name, part.column(name).cast(_LIST_TYPE))
    frame = _compact(part.to_pandas(types_mapper=lambda t: LIST_DTYPE if t == _LIST_TYPE else None))
    out = narrow_frame(frame)
    for col in ("cluster_id", "duplicate"):
        if col in frame:
            out[col] = frame[col].to_numpy()
    out["_hash"] = table.column(ROW_HASH).to_numpy()
    out["_filled"] = filled_mask(table)
    return out


def _stored_frame(combined: pd.DataFrame) -> gpd.GeoDataFrame:
    """The records as the store keeps them: :func:`mapapp.schema.actors_frame`'s rules.

    The same defaults and types column by column, but list columns stay
    Arrow lists (the store writes them as Parquet lists either way): no
    Python list per row and column at the end of a national import.

    >>> f = _stored_frame(pd.DataFrame({"id": ["a:1"], "latitude": [45.0], "longitude": [5.0]}))
    >>> f["modes_accueil"].tolist(), f["actor_type"].tolist(), f.geometry.x.tolist()
    ([['en-presentiel']], ['autre'], [5.0])
    """
    df = combined.reset_index(drop=True)
    n = len(df)
    out: dict[str, Any] = {}
    for col, (kind, default) in COLUMNS.items():
        present = col in df
        if kind == "list":
            fill = ["en-presentiel"] if col == "modes_accueil" else None
            out[col] = arrow_lists(df[col] if present else pd.Series([None] * n), default=fill)
        elif kind == "float":
            out[col] = pd.to_numeric(df[col], errors="coerce") if present else default
        elif kind == "bool":
            out[col] = df[col].fillna(default).astype(bool) if present else default
        else:
            out[col] = df[col].fillna(default).astype("str") if present else default
    frame = pd.DataFrame(out, index=pd.RangeIndex(n))
    points = gpd.points_from_xy(frame["longitude"], frame["latitude"], crs="EPSG:4326")
    return gpd.GeoDataFrame(frame, geometry=points, crs="EPSG:4326")


def _confidential(r: dict[str, Any], rid: str, nom: str, why: list[dict[str, str]]) -> None:
    """Every record made confidential is listed with its reasons (never its address)."""
    section = r["confidential"]
    section["rows"] += 1
    for code in dict.fromkeys(w["reason"] for w in why):
        bump(section["by_reason"], code)
    section["records"].append({"id": rid, "nom": nom, "reasons": why})


def _describe(
    r: dict[str, Any],
    new: pd.DataFrame,
    info: pd.DataFrame,
    dup: np.ndarray,
    noms: Callable[[np.ndarray], list[Any]],
) -> None:
    """Per source / type / obstacle counts, repairs, precision, vocabularies, hours.

    Counted column by column (a million rows in a second); only the rows with
    something to list (confidential, repaired, invalid hours) are visited.
    ``dup`` flags the rows merged into another record; ``noms`` reads the
    names of given rows (the narrow frame holds none).
    """
    if len(new) == 0:
        return
    # a few distinct sources and precisions: as categories, a row costs a reference,
    # not a string of its own (a million rows: ~100 MB less at the merge's peak)
    ids = new["id"]
    commune_only = _equals(new["precision"], "commune")
    reasons = info["confidential_reasons"].to_numpy()
    hidden = np.flatnonzero(np.fromiter(map(bool, reasons), dtype=bool, count=len(reasons)))
    for i, nom in zip(hidden.tolist(), noms(hidden) if len(hidden) else [], strict=True):
        _confidential(r, cast(str, ids.iat[i]), "" if nom is None else str(nom), reasons[i])
    for source, merged, count in _tally(new["source"], dup):
        bump(r["by_source"], source, "merged" if merged else "loaded", by=count)
    for kind, _, count in _tally(new["actor_type"]):
        bump(r["by_actor_type"], kind, by=count)
    _add_joined(r["by_obstacle"], new["obstacles"])
    for precision, _, count in _tally(new["precision"]):
        bump(r["precision"], precision, by=count)
    for source, _, count in _tally(new["source"][commune_only]):
        bump(r["by_source"], source, "commune_precision", by=count)
    for how, _, count in _tally(info["insee_how"]):
        if how:
            bump(r["insee_from"], how, by=count)
    for col, key in (
        ("unknown_thematiques", "unknown_thematiques"),
        ("unknown_codes", "unknown_type_codes"),
    ):
        if col in info:
            _add_joined(r[key], info[col].astype("category"))
    kinds: Counter[str] = Counter()
    repaired = _filled_rows(info, "repairs")
    origins = _origins(info, repaired)
    for i, reps, origin in zip(
        repaired, _info_lists(info, "repairs", repaired), origins, strict=True
    ):
        r["repaired"]["rows"] += 1
        kinds.update(set(repair_kinds(reps)))
        r["repairs"].append({"id": ids.iat[i], "origin": origin, "repairs": list(reps)})
    r["repaired"]["by_kind"] = dict(kinds)
    for source, _, count in _tally(new["source"].iloc[repaired]):
        bump(r["by_source"], source, "repaired", by=count)
    hours = r["opening_hours"]
    bad_hours = info["invalid_hours"].astype("category")  # "" where the hours are valid
    bad = ~_equals(bad_hours, "") & (bad_hours.cat.codes.to_numpy() >= 0)
    warned = info["hours_warnings"].to_numpy(dtype=bool)
    for i in np.flatnonzero(bad)[: max(0, 50 - len(hours["invalid_examples"]))].tolist():
        hours["invalid_examples"].append({"id": ids.iat[i], "horaires": bad_hours.iat[i]})
    hours["invalid"] += int(bad.sum())
    hours["valid"] += int((~bad).sum())
    hours["with_warnings"] += int((warned & ~bad).sum())


def _tally(column: pd.Series, flags: np.ndarray | None = None) -> Iterator[tuple[str, bool, int]]:
    """``(value, flag, count)`` for each pair met, in the order first met (as a Counter).

    Why: counting a million rows through Python tuples costs ~50 MB of
    short-lived objects at the merge's peak; category codes are counted in C.

    >>> list(_tally(pd.Series(["b", "a", "b"]), np.array([True, False, True])))
    [('b', True, 2), ('a', False, 1)]
    """
    cat = column.astype("category")
    names = [str(c) for c in cat.cat.categories] + [""]  # the last: a missing cell
    key = cat.cat.codes.to_numpy().astype(np.int32)
    key[key < 0] = len(names) - 1
    key *= 2
    if flags is not None:
        key += flags.astype(np.int32)
    counts = np.bincount(key, minlength=2 * len(names))
    present = np.flatnonzero(counts)
    if len(present) <= 64:  # the usual few values: a pass each finds where it first is
        first = np.array([int(np.argmax(key == k)) for k in present], dtype=np.int64)
    else:
        first = np.unique(key, return_index=True)[1]
    for k in present[np.argsort(first, kind="stable")].tolist():
        code, on = divmod(k, 2)
        yield names[code], bool(on), int(counts[k])


def _add_joined(table: dict[str, Any], joined: pd.Series) -> None:
    """Count the items of a column of lists held joined (:data:`OBSTACLE_SEP`), one category each.

    >>> t = {}
    >>> _add_joined(t, pd.Series(pd.Categorical(["a\x1fb", "a", ""])))
    >>> t
    {'a': 2, 'b': 1}
    """
    for value, count in joined.value_counts().items():
        for item in str(value).split(OBSTACLE_SEP) if value else ():
            bump(table, item, by=int(count))


def _number(value: Any) -> float | None:
    """A report figure: None where the merge rule measured nothing."""
    return None if pd.isna(value) else float(value)
