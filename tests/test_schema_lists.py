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


@pytest.mark.parametrize("text_dtype", [object, "str"])
def test_validate_finds_unknown_slugs_in_any_column_type(text_dtype: Any) -> None:
    from mapapp.errors import DataValidationError
    from mapapp.schema import validate_actors

    frame = actors_frame(
        [
            {"id": "a:1", "actor_type": "creche", "obstacles": ["garde-enfants"]},
            {"id": "a:2", "actor_type": "cidff", "obstacles": ["droits", "violences"]},
        ]
    )
    frame["actor_type"] = frame["actor_type"].astype(text_dtype)  # the import holds Arrow strings
    assert validate_actors(frame) is frame
    bad_type = frame.copy()
    bad_type.loc[1, "actor_type"] = "shelter"
    with pytest.raises(DataValidationError, match=r"unknown actor types \['shelter'\]"):
        validate_actors(bad_type)
    bad_obstacle = frame.copy()
    bad_obstacle.at[0, "obstacles"] = ["garde-enfants", "jetpack"]
    with pytest.raises(DataValidationError, match=r"unknown obstacles \['jetpack'\]"):
        validate_actors(bad_obstacle)
