"""Classes of coverage values for a map: distance bands and 2SFCA quantiles, with colours.

Why in ``coverage``: deciding that 3 km is "2 – 5 km" and that the lowest
positive accessibility is drawn darkest is part of the analysis, not of the
drawing; the page, the CLI's exports and :mod:`mapapp.render.choropleth` read
the same classes.

Colours read the same way on every coverage map: light is well covered, dark
red is badly covered, dark grey is "nothing within reach".

Examples
--------
>>> import pandas as pd
>>> c = distance_classes(pd.Series([0.5, 3.0, 12.0, float("inf")]))
>>> c.codes.tolist(), c.labels[-1]
([0, 1, 3, 5], 'aucun service dans la zone')
>>> legend_frame(c)["classe"].tolist()[:2]
['≤ 2 km', '2 – 5 km']
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mapapp.i18n import format_number

__all__ = [
    "DISTANCE_BINS_KM",
    "NONE_COLOR",
    "PALETTE",
    "Classes",
    "accessibility_classes",
    "distance_classes",
    "legend_frame",
]

#: Upper bounds (km) of the distance classes; beyond the last is one more class.
DISTANCE_BINS_KM: tuple[float, ...] = (2.0, 5.0, 10.0, 20.0)
#: Well covered → badly covered (ColorBrewer YlOrRd, readable with colour-vision deficiencies).
PALETTE: tuple[str, ...] = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
#: Nothing within reach.
NONE_COLOR = "#404040"
_NONE_LABEL = {
    "distance": ("aucun service dans la zone", "no service in the zone"),
    "access": ("aucune offre à portée", "no supply within reach"),
}


@dataclass(frozen=True)
class Classes:
    """Map classes: ``codes[i]`` indexes ``labels`` and ``colors`` (last = nothing)."""

    codes: NDArray[np.intp]
    labels: tuple[str, ...]
    colors: tuple[str, ...]


def _num(x: float, lang: str = "fr") -> str:
    return format_number(x, digits=None, lang=lang)


def distance_classes(
    km: pd.Series | Sequence[float],
    *,
    bins_km: Sequence[float] = DISTANCE_BINS_KM,
    lang: str = "fr",
) -> Classes:
    """Classes of distance (km): ``≤ b0``, ``b0 – b1``, ..., ``> bn``, none (``inf``/NaN)."""
    d = np.asarray(km, dtype=float)
    edges = np.asarray(bins_km, dtype=float)
    codes = np.searchsorted(edges, d, side="left").astype(np.intp)
    codes[~np.isfinite(d)] = len(edges) + 1
    labels = [f"≤ {_num(edges[0], lang)} km"]
    labels += [f"{_num(a, lang)} – {_num(b, lang)} km" for a, b in itertools.pairwise(edges)]
    labels += [f"> {_num(edges[-1], lang)} km", _NONE_LABEL["distance"][lang == "en"]]
    colors = (*_palette(len(edges) + 1), NONE_COLOR)
    return Classes(codes, tuple(labels), colors)


def accessibility_classes(
    values: pd.Series | Sequence[float], *, n_classes: int = 5, lang: str = "fr"
) -> Classes:
    """Classes of 2SFCA accessibility: quantiles of the positive values, best first.

    Zero (nothing within the catchment) is its own class; the lowest positive
    class is drawn darkest, as the worst-covered communes are on a distance map.

    Examples
    --------
    >>> c = accessibility_classes([0.0, 1.0, 2.0, 3.0, 4.0], n_classes=2)
    >>> c.codes.tolist(), c.labels
    ([2, 1, 1, 0, 0], ('≥ 2,5', '1 – 2,5', 'aucune offre à portée'))
    """
    v = np.asarray(values, dtype=float)
    positive = np.isfinite(v) & (v > 0)
    none_label = _NONE_LABEL["access"][lang == "en"]
    if not positive.any():
        return Classes(np.zeros(len(v), np.intp), (none_label,), (NONE_COLOR,))
    edges = np.unique(np.quantile(v[positive], np.linspace(0, 1, n_classes + 1)[1:-1]))
    k = len(edges) + 1
    rank = np.searchsorted(edges, v, side="right")  # 0 = lowest positive class
    codes = (k - 1 - rank).astype(np.intp)  # code 0 = highest values (best)
    codes[~positive] = k
    lows = [float(v[positive].min()), *edges.tolist()]
    by_rank = [f"{_num(lows[r], lang)} – {_num(lows[r + 1], lang)}" for r in range(k - 1)]
    by_rank.append(f"≥ {_num(lows[-1], lang)}")
    colors = (*_palette(k), NONE_COLOR)
    return Classes(codes, (*reversed(by_rank), none_label), colors)


def _palette(k: int) -> tuple[str, ...]:
    idx = np.round(np.linspace(0, len(PALETTE) - 1, k)).astype(int) if k > 1 else np.array([0])
    return tuple(PALETTE[i] for i in idx)


def legend_frame(classes: Classes) -> pd.DataFrame:
    """The legend as a table (``couleur``, ``classe``), for the page to show natively."""
    return pd.DataFrame(
        {"couleur": list(classes.colors), "classe": list(classes.labels)},
    )
