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
import codecs
import csv
import io
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
    "MAX_DEPTH",
    "TRUNCATED_REASON",
    "Probe",
    "TruncatedRow",
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

#: Quarantine reason of a row cut by the end of its file.
TRUNCATED_REASON = "truncated (the file ends in the middle of this row; the file was cut short?)"
#: Deepest JSON nesting read (a record is a few levels deep; thousands is an attack or a bug).
MAX_DEPTH = 64


@dataclass(frozen=True)
class TruncatedRow:
    """The last row of a file that ends in the middle of it (yielded instead of a record).

    Adapters pass it on as "not a record"; :func:`mapapp.sources._base.chunk_records`
    quarantines it with :data:`TRUNCATED_REASON`, so it never replaces a stored record.
    """

    raw: str

    def original(self) -> dict[str, Any]:
        """What the quarantine keeps of it: its text (the first 10,000 characters)."""
        return {"truncated_row": self.raw[:10_000]}


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


def _too_deep(path: Path) -> InputFormatError:
    return InputFormatError(
        f"{path}: JSON imbriqué sur plus de {MAX_DEPTH} niveaux (fichier abîmé ?) / JSON "
        f"nested deeper than {MAX_DEPTH} levels; a directory record is a few levels deep, so "
        "this file is damaged or not a directory export: check its source"
    )


def _check_depth(obj: Any, path: Path) -> Any:
    """``obj`` itself, once checked to be nested at most :data:`MAX_DEPTH` levels.

    Iterative (no recursion), so a hostile file cannot exhaust the stack.
    """
    stack: list[tuple[Any, int]] = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > MAX_DEPTH:
            raise _too_deep(path)
        stack.extend((child, depth + 1) for child in children)
    return obj


def _decode(decoder: json.JSONDecoder, buf: str, pos: int, path: Path) -> tuple[Any, int]:
    try:
        return decoder.raw_decode(buf, pos)
    except RecursionError:
        raise _too_deep(path) from None


def _cut_at_end(buf: str, exc: json.JSONDecodeError) -> bool:
    """Whether a decoding error at end of file comes from the file being cut there."""
    return exc.msg.startswith("Unterminated string") or exc.pos >= len(buf.rstrip())


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
        if pos >= len(buf):  # cut between two records: say so, nothing else is lost
            yield TruncatedRow("")
            return
        if buf[pos] == "]":
            return
        while True:
            try:
                obj, end = _decode(decoder, buf, pos, path)
                # a number or literal cut at the buffer's end may decode wrongly
                if end == len(buf) and not eof:
                    raise json.JSONDecodeError("need more", buf, end)
                break
            except json.JSONDecodeError as exc:
                if eof:
                    if _cut_at_end(buf, exc):
                        yield TruncatedRow(buf[pos:])
                        return
                    raise _decode_error(path, exc, offset) from None
                more = fh.read(_CHUNK_BYTES)
                offset += pos
                buf, pos = buf[pos:] + more, 0
                eof = not more
        yield _check_depth(obj, path)
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
                            yield _check_depth(json.loads(line), path)
                        except RecursionError:
                            raise _too_deep(path) from None
                        except json.JSONDecodeError as exc:
                            if not line.endswith("\n") and _cut_at_end(line, exc):
                                yield TruncatedRow(line)
                                return
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
        obj = _check_depth(json.loads(rest), path)
    except RecursionError:
        raise _too_deep(path) from None
    except json.JSONDecodeError as exc:
        raise _decode_error(path, exc, offset) from None
    if key is not None and isinstance(obj, dict) and isinstance(obj.get(key), list):
        yield from obj[key]
    elif isinstance(obj, dict) and obj.get("type") == "FeatureCollection":
        yield from obj.get("features") or []
    else:
        yield obj


_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
#: Bytes cp1252 leaves undefined: a file holding them is read as latin-1.
_NOT_CP1252 = re.compile(b"[\x81\x8d\x8f\x90\x9d]")


def csv_encoding(path: Path) -> tuple[str, int]:
    r"""The text encoding of a CSV file and the length of its byte-order mark.

    Why before anything else: a BOM left in front of the first column name
    (``\ufeffid``, or ``ï»¿id`` when the rest is read as Windows-1252) makes a
    mapped column silently "not found".  The BOM is recognised first and
    skipped, whatever the encoding of the rest; then the whole file is checked
    to be UTF-8 (an accented letter far down a Windows-1252 export is found,
    not replaced by ``�``), else Windows-1252, else latin-1.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.csv"
    >>> _ = p.write_bytes(b"\xef\xbb\xbfid,nom\n1,M\xe9diath\xe8que\n")
    >>> csv_encoding(p)
    ('cp1252', 3)
    >>> _ = p.write_bytes("id,nom\n1,Médiathèque\n".encode())
    >>> csv_encoding(p)
    ('utf-8', 0)
    """
    with path.open("rb") as fh:
        head = fh.read(4)
        bom_len, encoding = 0, ""
        for bom, name in _BOMS:
            if head.startswith(bom):
                bom_len, encoding = len(bom), name
        if encoding.startswith("utf-16"):
            return encoding, bom_len
        fh.seek(bom_len)
        decoder = codecs.getincrementaldecoder("utf-8")()
        legacy = False
        latin1 = False
        while block := fh.read(_CHUNK_BYTES):
            if not legacy:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    legacy = True
            if legacy and _NOT_CP1252.search(block):
                latin1 = True
                break
    if not legacy:
        return "utf-8", bom_len
    return ("latin-1" if latin1 else "cp1252"), bom_len


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


#: Lines an unterminated quote may swallow at the end of a file before it is an error.
_TAIL_LINES = 5


@dataclass(frozen=True)
class CsvLayout:
    """How to read a CSV file: encoding, where its rows are, and a cut last row.

    Attributes
    ----------
    encoding : str
    start, end : int
        Byte range handed to the CSV parser (after the BOM; before a cut last row).
    delimiter : str
    tail : TruncatedRow or None
        The last row, when the file ends in the middle of it: no final newline
        and fewer fields than the header, or a quote never closed.
    """

    encoding: str
    start: int
    end: int
    delimiter: str
    tail: TruncatedRow | None = None


def csv_layout(path: Path) -> CsvLayout:
    """The :class:`CsvLayout` of ``path`` (cached while the file is unchanged)."""
    st = path.stat()
    return _csv_layout(path, st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=16)
def _csv_layout(path: Path, size: int, mtime_ns: int) -> CsvLayout:
    encoding, bom = csv_encoding(path)
    with path.open("rb") as fh:
        fh.seek(bom)
        head = fh.read(1 << 16)
    sample = head.decode(encoding, errors="replace")
    delimiter = "\t" if path.suffix.lower() == ".tsv" else _csv_delimiter(sample)
    whole = CsvLayout(encoding, bom, size, delimiter)
    if encoding.startswith("utf-16") or size <= bom:
        return whole
    quotes = 0
    with path.open("rb") as fh:
        while block := fh.read(_CHUNK_BYTES):
            quotes += block.count(b'"')
        fh.seek(size - 1)
        ends_line = fh.read(1) in (b"\n", b"\r")
        if ends_line and quotes % 2 == 0:
            return whole
        length = min(size - bom, _CHUNK_BYTES)
        fh.seek(size - length)
        tail = fh.read(length)
    start = _last_record_start(path, tail, quotes, size - length)
    header_end = bom + head.find(b"\n") + 1 if b"\n" in head else size
    if start < header_end:  # only a header: nothing was cut
        return whole
    text = tail[start - (size - length) :].decode(encoding, errors="replace")
    if quotes % 2 == 0:
        fields = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
        names = next(csv.reader(io.StringIO(sample), delimiter=delimiter), [])
        if len(fields) >= len(names):
            return whole  # a complete row that only lacks its final newline
    return CsvLayout(encoding, bom, start, delimiter, TruncatedRow(text))


def _last_record_start(path: Path, tail: bytes, quotes: int, offset: int) -> int:
    """Byte offset where the file's last record starts (a newline outside quotes)."""
    j = len(tail.rstrip(b"\r\n")) if quotes % 2 == 0 else len(tail)
    after = tail.count(b'"', j)
    inside = 0
    while True:
        k = tail.rfind(b"\n", 0, j)
        if k < 0:
            if offset == 0:
                return 0
            break
        after += tail.count(b'"', k + 1, j)
        if (quotes - after) % 2 == 0:
            return offset + k + 1
        inside += 1
        if inside > _TAIL_LINES:
            break
        j = k
    raise InputFormatError(
        f"{path}: broken CSV (guillemet jamais fermé / a quote opened near the end of the "
        f"file is never closed and swallows more than {_TAIL_LINES} lines); check the quotes "
        "of the last rows"
    )


class _Window(io.RawIOBase):
    """The bytes ``[start, end)`` of a file, as a readable stream."""

    def __init__(self, path: Path, start: int, end: int) -> None:
        self._fh = path.open("rb")
        self._fh.seek(start)
        self._left = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self._left)
        if n <= 0:
            return 0
        data = self._fh.read(n)
        buffer[: len(data)] = data
        self._left -= len(data)
        return len(data)

    def close(self) -> None:
        self._fh.close()
        super().close()


def iter_table_chunks(path: Path, kind: str, *, chunk_rows: int = 50_000) -> Iterator[pd.DataFrame]:
    """Stream a CSV or Parquet file as DataFrames of strings (no type guessing).

    A CSV row cut by the end of the file is left out here; :func:`csv_layout`
    gives it (``tail``) so the caller can quarantine it.
    """
    if kind == "parquet":
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(path)
            for batch in pf.iter_batches(batch_size=chunk_rows):
                yield batch.to_pandas()
        except Exception as exc:  # pyarrow raises several unrelated types
            raise InputFormatError(f"{path}: unreadable Parquet file ({exc})") from None
        return
    layout = csv_layout(path)
    try:
        with io.BufferedReader(_Window(path, layout.start, layout.end), _CHUNK_BYTES) as raw:
            reader = pd.read_csv(
                raw,
                sep=layout.delimiter,
                dtype=object,
                keep_default_na=False,
                encoding=layout.encoding,
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
    tail = csv_layout(path).tail if kind == "csv" else None
    if tail is not None and not p.sample:
        p.sample = [tail.original()]  # a cut row is still a row: it gets quarantined
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
    tail = csv_layout(p.path).tail if p.kind == "csv" else None
    if tail is not None:
        yield n + 1, tail
