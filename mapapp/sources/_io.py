"""Low-level readers shared by the source adapters: files, URLs, JSON, CSV, lists.

Why one place: every adapter meets the same real-world mess (a BOM, a ``;``
delimiter, a Windows-1252 export, a 2 GB JSON array, a list stored as a
Postgres array literal) and must fail with the same kind of clear message
naming the file and the row.  Readers here *stream*: a JSON array is decoded
one element at a time and a CSV file is read in chunks, so memory stays
bounded by the chunk size, not by the file size.

Examples
--------
>>> parse_list("{numerique,sante--acces-aux-soins}")
['numerique', 'sante--acces-aux-soins']
>>> parse_list("['a', 'b']"), parse_list('["a"]'), parse_list("a;b"), parse_list("")
(['a', 'b'], ['a'], ['a', 'b'], [])
>>> flatten({"pk": 1, "fields": {"name": "X", "tags": ["a"]}})
{'pk': 1, 'fields.name': 'X', 'fields.tags': ['a']}
"""

from __future__ import annotations

import ast
import csv
import json
import re
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from mapapp.errors import InputFormatError

__all__ = [
    "DATA_SUFFIXES",
    "Probe",
    "download",
    "feature_record",
    "flatten",
    "is_url",
    "iter_flat_records",
    "iter_json_records",
    "iter_table_chunks",
    "parse_list",
    "probe",
    "sniff_kind",
]

#: File name endings read as data; anything else in a folder is ignored.
DATA_SUFFIXES = (".json", ".geojson", ".csv", ".tsv", ".parquet", ".jsonl", ".ndjson")
_CHUNK_BYTES = 1 << 20
_PROBE_RECORDS = 50


def is_url(text: str | Path) -> bool:
    """True for ``http://`` and ``https://`` addresses."""
    return str(text).lower().startswith(("http://", "https://"))


def download(url: str, folder: Path, *, timeout: float = 60.0, name: str | None = None) -> Path:
    """Download ``url`` into ``folder`` and return the file's path.

    Raises
    ------
    InputFormatError
        The machine is offline or the server refused: the message says so.
    """
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (name or Path(url.split("?", 1)[0]).name or "download")
    request = urllib.request.Request(url, headers={"User-Agent": "mapapp (ingest)"})
    try:
        with (
            urllib.request.urlopen(request, timeout=timeout) as resp,
            tempfile.NamedTemporaryFile(dir=folder, delete=False) as tmp,
        ):
            while block := resp.read(_CHUNK_BYTES):
                tmp.write(block)
        Path(tmp.name).replace(target)
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise InputFormatError(
            f"cannot download {url} ({exc}); check the address, or that this machine is "
            "online, or download the file yourself and pass its path"
        ) from None
    return target


def flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects as dotted keys (``{"a": {"b": 1}}`` → ``{"a.b": 1}``); lists kept."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value and name not in ("geometry", "_geometry"):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


_PG_ITEM = re.compile(r'"((?:[^"\\]|\\.)*)"|([^,]+)')


def parse_list(value: Any, *, sep: str | None = None) -> list[str]:
    """A list of strings from whatever a source stored.

    Accepts real lists (and numpy arrays), JSON arrays, Python list literals
    (pandas' CSV export), Postgres array literals (``{a,b}``), and strings
    separated by ``sep`` (default: ``;``, then ``|``, then ``,``).  Empty items
    are dropped; order is kept; duplicates are removed.
    """
    if value is None:
        return []
    if isinstance(value, float) and np.isnan(value):
        return []
    if isinstance(value, str):
        return list(_parse_text(value, sep))
    multi = isinstance(value, (list, tuple, np.ndarray, set, frozenset))
    items = list(value) if multi else [value]
    out: list[str] = []
    for item in items:
        if item is None or (isinstance(item, float) and np.isnan(item)):
            continue
        s = str(item).strip()
        if s and s.upper() != "NULL" and s not in out:
            out.append(s)
    return out


_PY_ITEM = re.compile(r"'((?:[^'\\]|\\.)*)'")


@lru_cache(maxsize=65536)
def _parse_text(value: str, sep: str | None) -> tuple[str, ...]:
    text = value.strip()
    if not text:
        return ()
    items: list[Any]
    if text.startswith("[") and text.endswith("]"):
        if '"' not in text and "'" in text:
            items = _PY_ITEM.findall(text[1:-1])
        else:
            try:
                items = list(json.loads(text))
            except (ValueError, TypeError):
                try:
                    items = list(ast.literal_eval(text))
                except (ValueError, SyntaxError, TypeError):
                    items = [t.strip(" '\"") for t in text[1:-1].split(",")]
    elif text.startswith("{") and text.endswith("}"):
        items = [a if a else b for a, b in _PG_ITEM.findall(text[1:-1])]
    else:
        if sep is None:
            sep = next((s for s in (";", "|", ",") if s in text), ";")
        items = text.split(sep)
    out: list[str] = []
    for item in items:
        if item is None:
            continue
        s = str(item).strip()
        if s and s.upper() != "NULL" and s not in out:
            out.append(s)
    return tuple(out)


def sniff_kind(path: Path) -> str:
    """``"json"``, ``"jsonl"``, ``"csv"``, ``"parquet"`` or ``"empty"``, from the content.

    The extension is only a tie-breaker: a ``.csv`` holding JSON is read as JSON.
    """
    with path.open("rb") as fh:
        head = fh.read(4096)
    if head.startswith(b"PAR1"):
        return "parquet"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text:
        return "empty"
    if text[:1] in (b"[", b"{"):
        if path.suffix.lower() in (".jsonl", ".ndjson"):
            return "jsonl"
        return "json"
    if b"\x00" in head:
        raise InputFormatError(
            f"{path}: this is a binary file, not CSV, JSON, GeoJSON or Parquet; "
            "export it as one of those formats"
        )
    return "csv"


def _decode_error(path: Path, exc: json.JSONDecodeError, offset: int) -> InputFormatError:
    return InputFormatError(
        f"{path}: broken JSON near character {offset + exc.pos} ({exc.msg}); "
        "fix the file (a validator such as 'python -m json.tool FILE' shows where) and retry"
    )


def _iter_array(fh: IO[str], path: Path, buf: str, offset: int) -> Iterator[Any]:
    """Decode the elements of the JSON array whose ``[`` starts ``buf``."""
    decoder = json.JSONDecoder()
    pos = 1
    eof = False
    while True:
        # skip whitespace and one comma
        while True:
            while pos < len(buf) and buf[pos] in " \t\r\n,":
                pos += 1
            if pos < len(buf) or eof:
                break
            more = fh.read(_CHUNK_BYTES)
            offset += pos
            buf, pos = buf[pos:] + more, 0
            eof = not more
        if pos >= len(buf):
            raise InputFormatError(f"{path}: the JSON array is not closed (file cut short?)")
        if buf[pos] == "]":
            return
        while True:
            try:
                obj, end = decoder.raw_decode(buf, pos)
                # a number or literal cut at the buffer's end may decode wrongly
                if end == len(buf) and not eof:
                    raise json.JSONDecodeError("need more", buf, end)
                break
            except json.JSONDecodeError as exc:
                if eof:
                    raise _decode_error(path, exc, offset) from None
                more = fh.read(_CHUNK_BYTES)
                offset += pos
                buf, pos = buf[pos:] + more, 0
                eof = not more
        yield obj
        pos = end


def iter_json_records(path: Path, *, key: str | None = None) -> Iterator[Any]:
    """Stream the records of a JSON file without loading it whole.

    A top-level array yields its elements.  An object yields the elements of
    its array ``key`` (``features`` for GeoJSON when ``key`` is None and the
    object is a FeatureCollection); any other object is yielded as one record.
    JSON Lines (``.jsonl``) yields one record per line.
    """
    try:
        fh = path.open("r", encoding="utf-8-sig")
    except OSError as exc:
        raise InputFormatError(f"cannot open {path} ({exc.strerror}); check the path") from None
    with fh:
        try:
            if path.suffix.lower() in (".jsonl", ".ndjson"):
                for n, line in enumerate(fh, start=1):
                    if line.strip():
                        try:
                            yield json.loads(line)
                        except json.JSONDecodeError as exc:
                            raise InputFormatError(
                                f"{path}, line {n}: broken JSON ({exc.msg}); fix that line"
                            ) from None
                return
            buf = fh.read(_CHUNK_BYTES)
            stripped = buf.lstrip()
            offset = len(buf) - len(stripped)
            buf = stripped
            if buf.startswith("["):
                yield from _iter_array(fh, path, buf, offset)
                return
            # An object: find the array to stream in its first megabyte.
            wanted = key or "features"
            m = re.search(r'"' + re.escape(wanted) + r'"\s*:\s*\[', buf)
            if m and (key or '"FeatureCollection"' in buf[: m.start()] or '"type"' not in buf):
                yield from _iter_array(fh, path, buf[m.end() - 1 :], offset + m.end() - 1)
                return
            rest = buf + fh.read()
        except UnicodeDecodeError:
            raise InputFormatError(
                f"{path}: not UTF-8 text; JSON files must be UTF-8 (re-save it as UTF-8)"
            ) from None
    try:
        obj = json.loads(rest)
    except json.JSONDecodeError as exc:
        raise _decode_error(path, exc, offset) from None
    if key is not None and isinstance(obj, dict) and isinstance(obj.get(key), list):
        yield from obj[key]
    elif isinstance(obj, dict) and obj.get("type") == "FeatureCollection":
        yield from obj.get("features") or []
    else:
        yield obj


def _csv_encoding(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    try:
        head.decode("utf-8")
        return "utf-8-sig"
    except UnicodeDecodeError as exc:
        if exc.start > len(head) - 4:  # a character cut at the sample's end
            return "utf-8-sig"
        return "cp1252"


def _csv_delimiter(sample: str) -> str:
    lines = [ln for ln in sample.splitlines()[:20] if ln.strip()]
    if not lines:
        return ","
    best, best_score = ",", -1.0
    for d in (",", ";", "\t", "|"):
        counts = [ln.count(d) for ln in lines]
        if counts[0] == 0:
            continue
        same = sum(1 for c in counts if c == counts[0]) / len(counts)
        score = same * 10 + counts[0] / 100
        if score > best_score:
            best, best_score = d, score
    return best


def iter_table_chunks(path: Path, kind: str, *, chunk_rows: int = 50_000) -> Iterator[pd.DataFrame]:
    """Stream a CSV or Parquet file as DataFrames of strings (no type guessing)."""
    if kind == "parquet":
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(path)
            for batch in pf.iter_batches(batch_size=chunk_rows):
                yield batch.to_pandas()
        except Exception as exc:  # pyarrow raises several unrelated types
            raise InputFormatError(f"{path}: unreadable Parquet file ({exc})") from None
        return
    encoding = _csv_encoding(path)
    with path.open("r", encoding=encoding, errors="replace", newline="") as fh:
        sample = fh.read(1 << 16)
    delimiter = "\t" if path.suffix.lower() == ".tsv" else _csv_delimiter(sample)
    try:
        reader = pd.read_csv(
            path,
            sep=delimiter,
            dtype=object,
            keep_default_na=False,
            encoding=encoding,
            encoding_errors="replace",
            chunksize=chunk_rows,
            on_bad_lines="error",
            engine="c",
        )
        yield from reader
    except pd.errors.EmptyDataError:
        return
    except (pd.errors.ParserError, csv.Error, ValueError) as exc:
        raise InputFormatError(
            f"{path}: broken CSV ({str(exc).strip()}); check quotes and the number of "
            "columns on that line"
        ) from None


@dataclass
class Probe:
    """What a detector needs to know about one input file.

    Attributes
    ----------
    path : Path
    kind : str
        ``json``, ``jsonl``, ``csv``, ``parquet`` or ``empty``.
    shape : str
        For JSON: ``list``, ``items`` (an API response), ``features``
        (GeoJSON) or ``object``; ``table`` otherwise.
    columns : set of str
        Flattened keys (or CSV headers) of the first records.
    sample : list of dict
        The first records, flattened.
    """

    path: Path
    kind: str
    shape: str = "table"
    columns: set[str] = field(default_factory=set)
    sample: list[dict[str, Any]] = field(default_factory=list)

    def has(self, *names: str) -> bool:
        """True when every name is among the columns."""
        return all(n in self.columns for n in names)


def _json_shape(path: Path) -> str:
    with path.open("r", encoding="utf-8-sig", errors="replace") as fh:
        head = fh.read(1 << 16).lstrip()
    if head.startswith("["):
        return "list"
    if re.search(r'"items"\s*:\s*\[', head):
        return "items"
    if '"FeatureCollection"' in head or re.search(r'"features"\s*:\s*\[', head):
        return "features"
    return "object"


def probe(path: Path) -> Probe:
    """Look at the start of ``path``: format, shape, columns, first records."""
    kind = sniff_kind(path)
    p = Probe(path=path, kind=kind)
    if kind == "empty":
        return p
    if kind in ("json", "jsonl"):
        p.shape = "list" if kind == "jsonl" else _json_shape(path)
        key = "items" if p.shape == "items" else None
        for n, rec in enumerate(iter_json_records(path, key=key)):
            if n >= _PROBE_RECORDS:
                break
            if isinstance(rec, dict):
                flat = flatten(rec)
                if p.shape == "features":
                    flat = feature_record(rec)
                p.sample.append(flat)
                p.columns.update(flat)
        return p
    first = next(iter_table_chunks(path, kind, chunk_rows=_PROBE_RECORDS), None)
    if first is not None:
        p.columns = {str(c) for c in first.columns}
        p.sample = [
            {str(k): v for k, v in rec.items()}
            for rec in first.head(_PROBE_RECORDS).to_dict(orient="records")
        ]
    return p


def feature_record(feature: Mapping[str, Any]) -> dict[str, Any]:
    """A GeoJSON feature as one flat record: its properties plus ``_geometry``."""
    props = feature.get("properties") or {}
    out = flatten(props) if isinstance(props, Mapping) else {}
    out["_geometry"] = feature.get("geometry")
    if "id" in feature and "id" not in out:
        out["id"] = feature["id"]
    return out


def iter_flat_records(p: Probe, *, key: str | None = None) -> Iterator[tuple[int, Any]]:
    """``(record number, flat record)`` for every record of the probed file.

    JSON objects are flattened (:func:`flatten`), GeoJSON features become
    :func:`feature_record`; CSV and Parquet rows are dicts of their cells.
    Anything that is not an object (a bare number in a JSON list) is yielded
    as is, so the caller can quarantine it.
    """
    if p.kind == "empty":
        return
    if p.kind in ("json", "jsonl"):
        if key is None and p.shape == "items":
            key = "items"
        for n, rec in enumerate(iter_json_records(p.path, key=key), start=1):
            if isinstance(rec, Mapping):
                if p.shape == "features" or rec.get("type") == "Feature":
                    yield n, feature_record(rec)
                else:
                    yield n, flatten(rec)
            else:
                yield n, rec
        return
    n = 0
    for chunk in iter_table_chunks(p.path, p.kind):
        for rec in chunk.to_dict(orient="records"):
            n += 1
            yield n, rec
