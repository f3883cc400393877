"""Readable labels and numbers for coverage figures, French first, English second.

Why in the core: the app, the command line and the notebook show the same
summary; one place decides how "population_beyond_radius" reads (its words
are the ``fig_*`` keys of :data:`mapapp.i18n.STRINGS`, the one strings table)
and which unit each figure gets (numbers by :func:`mapapp.i18n.format_number`).

Examples
--------
>>> summary_label("population_within_5km", radius_km=10)
'Population à moins de 5 km'
>>> format_value("mean_distance_km", 3.14159), format_value("population", 1623111.0)
('3,14 km', '1\\u202f623\\u202f111')
>>> format_value("share_within_10km", 0.5, lang="en"), format_value("p90_distance_km", float("inf"))
('50.0 %', 'aucun service')
"""

from __future__ import annotations

import math
import re

import pandas as pd

from mapapp.i18n import STRINGS, format_number, t

__all__ = ["format_value", "summary_frame", "summary_label"]

_THRESHOLD = re.compile(r"^(population_within|share_within)_(.+)km$")


def summary_label(key: str, *, lang: str = "fr", radius_km: float | None = None) -> str:
    """Human label of a :func:`~mapapp.coverage.coverage_summary` key."""
    m = _THRESHOLD.match(key)
    if m:
        return t(f"fig_{m.group(1)}", lang, t=m.group(2))
    if f"fig_{key}" not in STRINGS:
        return key
    r = "?" if radius_km is None else f"{radius_km:g}"
    return t(f"fig_{key}", lang, r=r)


def format_value(key: str, value: float, *, lang: str = "fr") -> str:
    """A summary figure as text, with its unit."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if math.isinf(value):
        return t("cov_no_service", lang)
    if key.startswith("share_"):
        return format_number(100 * value, digits=1, lang=lang) + " %"
    if key.endswith("distance_km"):
        return format_number(value, digits=2, lang=lang) + " km"
    if key == "accessibility_per_10k":
        return format_number(value, digits=2, lang=lang)
    return format_number(value, lang=lang)


def summary_frame(
    summary: pd.Series | pd.DataFrame, *, lang: str = "fr", radius_km: float | None = None
) -> pd.DataFrame:
    """A summary (or several side by side) as readable text, one row per figure.

    Examples
    --------
    >>> s = pd.Series({"population": 2000.0, "share_within_5km": 0.25})
    >>> summary_frame(s, lang="en").values.tolist()
    [['Total population', '2,000'], ['Share of population within 5 km', '25.0 %']]
    """
    name = "value" if lang == "en" else "valeur"
    frame = summary.to_frame(name) if isinstance(summary, pd.Series) else summary
    header = "figure" if lang == "en" else "indicateur"
    out = pd.DataFrame(
        {header: [summary_label(str(k), lang=lang, radius_km=radius_km) for k in frame.index]}
    )
    for col in frame.columns:
        out[str(col)] = [
            format_value(str(k), float(v), lang=lang)
            for k, v in zip(frame.index, frame[col], strict=True)
        ]
    return out
