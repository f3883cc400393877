"""The one CSV writer of mapapp: every export goes through it, so no cell runs as a formula.

Why one writer: a spreadsheet (Excel, LibreOffice, Google Sheets) treats a
cell starting with ``=``, ``+``, ``-`` or ``@`` as a formula, and a tab or
carriage return at the start can hide such a prefix ("CSV injection").
Service names, phones and hours come from imported data that anyone can
publish, so every text cell is *defused*: a leading apostrophe makes the
spreadsheet show it as text.  Numbers stay numbers (a negative distance
never happens, and a number is never run).

The app's downloads, ``mapapp search --format csv``, the coverage tables and
any later export (register, sheets) call :func:`csv_text` or
:func:`frame_csv`; a test runs every export path on the hostile corpus.

Examples
--------
>>> defuse_cell('=HYPERLINK("http://x")'), defuse_cell("+33 1 23"), defuse_cell(2.5)
('\\'=HYPERLINK("http://x")', "'+33 1 23", '2.5')
>>> print(csv_text(["nom", "km"], [["@SUM(1)", 1.5], ["Crèche", None]]), end="")
nom,km
'@SUM(1),1.5
Crèche,
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mapapp.render.text import plain_text

__all__ = ["FORMULA_START", "csv_text", "defuse_cell", "frame_csv"]

#: First characters a spreadsheet may run as (or hide in front of) a formula.
FORMULA_START: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float | np.floating):
        return not math.isfinite(float(value))
    return value is pd.NA or value is pd.NaT


def defuse_cell(value: Any) -> str:
    """``value`` as the text of one safe CSV cell.

    Missing values (None, NaN, infinite) give an empty cell.  Numbers
    (``int``, ``float``, not ``bool``) are written as they are.  Text loses
    its control and bidirectional characters, its tabs and line breaks become
    spaces, outer spaces are trimmed, and it gets a leading apostrophe when it
    starts with a formula character (after that cleaning: a hidden control or
    a space in front does not help).

    Examples
    --------
    >>> defuse_cell("\\u202e=1+1"), defuse_cell("-2"), defuse_cell(-2), defuse_cell(None)
    ("'=1+1", "'-2", '-2', '')
    >>> defuse_cell("ligne 1\\r\\nligne 2"), defuse_cell(" \\t=1"), defuse_cell(True)
    ('ligne 1 ligne 2', "'=1", 'True')
    """
    if _is_missing(value):
        return ""
    if isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    ):
        return str(value)
    if isinstance(value, list | tuple | np.ndarray):
        value = ", ".join(str(v) for v in value)
    text = plain_text(str(value))
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_text(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> str:
    """Rows as CSV text (``\\n`` line ends), every cell through :func:`defuse_cell`."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([defuse_cell(h) for h in header])
    for row in rows:
        writer.writerow([defuse_cell(v) for v in row])
    return buf.getvalue()


def frame_csv(frame: pd.DataFrame, *, index: bool = False, float_digits: int | None = None) -> str:
    """A DataFrame as safe CSV text.

    Parameters
    ----------
    frame : DataFrame
    index : bool, keyword-only
        Write the index as the first column (named after the index; a
        nameless index is written without a header).
    float_digits : int, keyword-only, optional
        Round float columns to this many decimals.

    Examples
    --------
    >>> f = pd.DataFrame({"nom": ["=A"], "d": [1.23456]}, index=pd.Index(["01001"], name="code"))
    >>> print(frame_csv(f, index=True, float_digits=2), end="")
    code,nom,d
    01001,'=A,1.23
    """
    out = frame.round(float_digits) if float_digits is not None else frame
    columns = [str(c) for c in out.columns]
    if index:
        header = [str(out.index.name or ""), *columns]
        rows: Iterable[Sequence[Any]] = (
            (key, *values)
            for key, values in zip(out.index, out.itertuples(index=False), strict=True)
        )
    else:
        header = columns
        rows = out.itertuples(index=False)
    return csv_text(header, rows)
