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


def blank_mask(column: pd.Series) -> np.ndarray:
    """``mapapp.sources.datainclusion._blank_mask`` before the plain-string path."""
    values = column.astype(object)
    text = values.astype(str).str.strip()
    return (values.isna() | (text == "")).to_numpy(dtype=bool)
