"""REFERENCE ONLY: ingest cleaning and reading helpers as they stood on main (2026-12-07, 628dddc).

Why kept: issue 16 asks for a cheaper ingest with the same results, byte for
byte.  Each helper below was replaced by a cheaper one in the application;
``tests/test_ingest_cpu_same.py`` runs the old and the new on odd inputs and
on the real files and requires identical results.  Never import this from
the application.
"""

# ruff: noqa
# mypy: ignore-errors

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def blank_mask(column: pd.Series) -> np.ndarray:
    """``mapapp.sources.datainclusion._blank_mask`` before the plain-string path."""
    values = column.astype(object)
    text = values.astype(str).str.strip()
    return (values.isna() | (text == "")).to_numpy(dtype=bool)


def text(frame: pd.DataFrame, col: str) -> pd.Series:
    """``mapapp.ingest.clean._text`` before ``str.strip`` was mapped."""
    if col not in frame:
        return pd.Series([""] * len(frame), index=frame.index, dtype=object)
    cells = frame[col].to_numpy(dtype=object).tolist()
    if all(type(v) is str for v in cells):
        return pd.Series([v.strip() for v in cells], index=frame.index, dtype=object)
    s = frame[col].astype(object)
    missing = s.isna().to_numpy()
    out = s.astype(str).str.strip().astype(object)
    if missing.any():
        out[missing] = ""
    return out


def positions(communes: pd.DataFrame, codes: np.ndarray) -> np.ndarray:
    """How ``Locator.known``, ``in_communes_strictly`` and ``representative`` found rows before."""
    return communes.index.get_indexer(codes.astype(str))


def words(text: pa.Array) -> pa.Array:
    """``mapapp.safety._words`` before the ASCII shortcut."""
    text = pc.utf8_normalize(text, form="NFKD")
    text = pc.utf8_lower(pc.replace_substring_regex(text, r"\p{M}+", ""))
    return pc.replace_substring_regex(text, r"[^\p{L}\p{N}]+", " ")


def text_numbers(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``mapapp.ingest.coords._text_numbers`` before ``str.strip`` and ``float`` were mapped."""
    from mapapp.ingest.coords import _COMMA_NUMBER, _cell_numbers

    cells = raw.tolist()
    if all(type(v) is str for v in cells):
        text = [v.strip() for v in cells]
    else:
        text = pd.Series(raw, dtype=object).fillna("").astype(str).str.strip().tolist()
    comma = np.fromiter(
        ("," in t and _COMMA_NUMBER.match(t) is not None for t in text), dtype=bool, count=len(text)
    )
    for i in np.flatnonzero(comma).tolist():
        text[i] = text[i].replace(",", ".")
    cells = [t or "nan" for t in text]
    try:
        return np.array([float(t) for t in cells], dtype=float), comma
    except ValueError:
        out, _ = _cell_numbers(np.array(cells, dtype=object))
        return out, comma


def in_communes_strictly(locator, codes: np.ndarray, lat: np.ndarray, lon: np.ndarray):
    """``Locator.in_communes_strictly`` before the bounding-box filter."""
    import shapely

    from mapapp.ingest.locate import _TOLERANCE_DEG

    n = len(codes)
    result = np.zeros(n, dtype=bool)
    strictly = np.zeros(n, dtype=bool)
    pos = locator.communes.index.get_indexer(codes.astype(str))
    ok = (pos >= 0) & np.isfinite(lat) & np.isfinite(lon)
    if not ok.any():
        return result, strictly
    idx = np.flatnonzero(ok)
    polys = locator._polys[pos[idx]]
    inside = shapely.contains_xy(polys, lon[idx], lat[idx])
    strictly[idx] = inside
    rest = ~inside
    if rest.any():
        pts = shapely.points(lon[idx[rest]], lat[idx[rest]])
        inside[rest] = shapely.dwithin(polys[rest], pts, _TOLERANCE_DEG)
    result[idx] = inside
    return result, strictly


def stage_obstacles(actor_types, thematiques, explicit):
    """``mapapp.ingest.clean.stage_obstacles`` before rows sharing list objects were done once."""
    from mapapp.ingest.clean import _lists_each, _obstacles
    from mapapp.ingest.vocab import known_thematique

    shared = {}
    obstacles = [
        shared.setdefault(found, list(found))
        for found in (
            _obstacles(t, tuple(them), tuple(given))
            for t, them, given in zip(actor_types, thematiques, explicit, strict=True)
        )
    ]
    unknown = _lists_each(thematiques, lambda v: [t for t in v if not known_thematique(t)])
    return obstacles, unknown


def list_items(column: pd.Series) -> set:
    """How ``mapapp.schema.validate_actors`` gathered the obstacles before reading Arrow lists."""
    return set().union(*column.tolist())
