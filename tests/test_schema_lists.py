"""``actors_frame`` keeps list cells that are already lists of strings, and rebuilds the rest.

Why: rebuilding a million lists cost a sixth of the import; the fast path
must give exactly what the per-row conversion gave, whatever the cells hold.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from mapapp.schema import LIST_COLUMNS, actors_frame


def _per_row(value: Any) -> list[str]:
    """The per-row conversion the fast path replaces (the reference)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value]


ODD: list[Any] = [
    ["a", "b"],
    [],
    "mobilite",
    "",
    None,
    np.nan,
    ("x", "y"),
    np.array(["n1", "n2"], dtype=object),
    ["ok", 3],
    [np.str_("numpy")],
    [None],
    [["nested"]],
]


@pytest.mark.parametrize("cells", [ODD, [["a"], ["b", "c"], []], [ODD[i % 3] for i in range(50)]])
def test_list_columns_as_the_per_row_conversion(cells: list[Any]) -> None:
    n = len(cells)
    records = pd.DataFrame({"id": [f"x:{i}" for i in range(n)]})
    for col in LIST_COLUMNS:
        records[col] = pd.Series(cells, dtype=object)
    frame = actors_frame(records)
    for col in LIST_COLUMNS:
        expected = [_per_row(v) for v in cells]
        if col == "modes_accueil":
            expected = [v or ["en-presentiel"] for v in expected]
        got = frame[col].tolist()
        assert got == expected, col
        assert all(type(v) is list and all(type(x) is str for x in v) for v in got), col
