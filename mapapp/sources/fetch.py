"""Download the national data·inclusion open-data export (structures + services).

Why through the dataset's metadata: the files on data.gouv.fr are renamed
at each weekly publication (``structures-inclusion-2026-06-29.parquet``);
the dataset API lists the current resources, and we pick the structures and
services files in the wanted format.  Offline, a clear :class:`OfflineError`
says so and what to do instead.

Examples
--------
>>> meta = {"resources": [
...     {"title": "structures-inclusion-2026-06-29.parquet", "format": "parquet", "url": "https://x/s.parquet"},
...     {"title": "services-inclusion-2026-06-29.parquet", "format": "parquet", "url": "https://x/v.parquet"},
...     {"title": "services-inclusion-2026-06-29.csv", "format": "csv", "url": "https://x/v.csv"}]}
>>> pick_resources(meta, fmt="parquet")
{'structures': 'https://x/s.parquet', 'services': 'https://x/v.parquet'}
"""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from mapapp.errors import InputFormatError, OfflineError

__all__ = ["DATASET_API", "fetch_data_inclusion", "pick_resources"]

DATASET_API = "https://www.data.gouv.fr/api/1/datasets/6233723c2c1e4a54af2f6b2d/"
Opener = Callable[[str], IO[bytes]]


def _default_opener(url: str) -> IO[bytes]:
    request = urllib.request.Request(url, headers={"User-Agent": "mapapp (fetch)"})
    response: IO[bytes] = urllib.request.urlopen(request, timeout=60)
    return response


def pick_resources(meta: dict[str, Any], *, fmt: str) -> dict[str, str]:
    """URLs of the structures and services files in format ``fmt`` (json/csv fallback)."""
    out: dict[str, str] = {}
    resources = meta.get("resources") or []
    for wanted in (fmt, "json", "csv"):
        for kind in ("structures", "services"):
            if kind in out:
                continue
            for res in resources:
                title = str(res.get("title") or "").lower()
                rfmt = str(res.get("format") or "").lower()
                if title.startswith(f"{kind}-inclusion") and rfmt == wanted and res.get("url"):
                    out[kind] = str(res["url"])
                    break
    if "services" not in out:
        raise InputFormatError(
            "the data·inclusion dataset lists no services file any more; "
            "download the export by hand and run 'mapapp ingest FOLDER'"
        )
    return out


def _get(url: str, opener: Opener) -> IO[bytes]:
    try:
        return opener(url)
    except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
        raise OfflineError(
            f"cannot reach {url.split('/')[2]} ({getattr(exc, 'reason', exc)}): this machine "
            "looks offline. Connect it, or download the data·inclusion structures and services "
            "files from data.gouv.fr on another machine and run 'mapapp ingest FOLDER'."
        ) from None


def fetch_data_inclusion(
    folder: Path, *, fmt: str = "parquet", opener: Opener | None = None, api_url: str = DATASET_API
) -> Path:
    """Download the current export into ``folder`` and return it (ready for ingest)."""
    opener = opener or _default_opener
    with _get(api_url, opener) as resp:
        try:
            meta = json.loads(resp.read().decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise InputFormatError(
                f"{api_url} did not answer JSON; try again later or download the files by hand"
            ) from None
    urls = pick_resources(meta, fmt=fmt)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        if old.is_file():
            old.unlink()
    for kind, url in urls.items():
        suffix = Path(url.split("?", 1)[0]).suffix or f".{fmt}"
        target = folder / f"{kind}{suffix}"
        tmp = target.with_suffix(target.suffix + ".part")
        with _get(url, opener) as resp, tmp.open("wb") as fh:
            shutil.copyfileobj(resp, fh)
        tmp.replace(target)
    return folder
