"""``arrow_lists`` converts list cells in one Arrow call where it can: same lists as cell by cell."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from mapapp.ingest.pipeline import _as_strings, arrow_lists

CELLS: list[Any] = [
    ["emploi", "mobilite"],
    None,
    [],
    ("a", "b"),
    np.array(["x", "y"], dtype=object),
    ["", "z"],
    ["é", "ü ß"],
]


def _cell_by_cell(cells: list[Any], default: list[str] | None) -> list[list[str]]:
    """The rule written out (not the code under test): text kept, empty cells → default or []."""
    return [_as_strings(v) or default or [] for v in cells]


@pytest.mark.parametrize("default", [None, ["en-presentiel"]])
@pytest.mark.parametrize(
    "extra",
    [[], ["texte seul"], [float("nan")], [[1, 2]], [["a", None]], [""]],
    ids=["lists", "text-cell", "nan", "numbers", "none-item", "empty-text"],
)
def test_same_lists_as_cell_by_cell(extra: list[Any], default: list[str] | None) -> None:
    cells = CELLS + extra
    got = arrow_lists(pd.Series(cells, dtype=object), default=default)
    assert got.dtype == pd.ArrowDtype(pa.list_(pa.string()))
    assert got.tolist() == _cell_by_cell(cells, default)


def test_text_cell_is_one_item_not_letters() -> None:
    assert arrow_lists(pd.Series(["abc", ["d"]], dtype=object)).tolist() == [["abc"], ["d"]]


def test_none_item_is_written_as_text_like_before() -> None:
    assert arrow_lists(pd.Series([["a", None]], dtype=object)).tolist() == [["a", "None"]]


def test_empty_and_missing_cells_take_the_default() -> None:
    got = arrow_lists(pd.Series([[], None, ["b"]], dtype=object), default=["d"])
    assert got.tolist() == [["d"], ["d"], ["b"]]
