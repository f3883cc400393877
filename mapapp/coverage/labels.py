"""Readable labels and numbers for coverage figures, French first, English second.

Why in the core: the app, the command line and the notebook show the same
summary; one place decides how "population_beyond_radius" reads and how a
number is written (``1 623 111`` and ``0,52 km`` in French).

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

from mapapp.i18n import format_number

__all__ = [
    "PAGE_TEXT",
    "format_value",
    "page_text",
    "summary_frame",
    "summary_label",
]

_LABELS: dict[str, tuple[str, str]] = {
    "communes": ("Communes", "Communes"),
    "population": ("Population", "Population"),
    "population_within": ("Population à moins de {t} km", "Population within {t} km"),
    "share_within": (
        "Part de la population à moins de {t} km",
        "Share of population within {t} km",
    ),
    "mean_distance_km": (
        "Distance moyenne, pondérée par la population",
        "Population-weighted mean distance",
    ),
    "p90_distance_km": (
        "Distance sous laquelle vit 90 % de la population",
        "Distance within which 90% of people live",
    ),
    "communes_beyond_radius": (
        "Communes sans service à moins de {r} km",
        "Communes with no service within {r} km",
    ),
    "population_beyond_radius": (
        "Population sans service à moins de {r} km",
        "People with no service within {r} km",
    ),
    "population_without_service": (
        "Population sans aucun service dans sa zone (métropole ou DROM)",
        "People with no service at all in their zone (mainland or overseas département)",
    ),
    "services": ("Services sur place dans le territoire", "In-person services in the territory"),
    "remote_services": (
        "Services à distance uniquement (comptés à part)",
        "Remote-only services (counted apart)",
    ),
    "services_at_commune": (
        "Services placés au centre de leur commune (adresse confidentielle ou inconnue)",
        "Services placed at their commune (confidential or unknown address)",
    ),
    "services_unplaced": (
        "Services sans lieu connu (non comptés)",
        "Services with no known place (not counted)",
    ),
    "accessibility_per_10k": (
        "Accessibilité 2SFCA : capacité pour 10 000 habitants",
        "2SFCA accessibility: capacity per 10,000 inhabitants",
    ),
}
_THRESHOLD = re.compile(r"^(population_within|share_within)_(.+)km$")


def summary_label(key: str, *, lang: str = "fr", radius_km: float | None = None) -> str:
    """Human label of a :func:`~mapapp.coverage.coverage_summary` key."""
    en = lang == "en"
    m = _THRESHOLD.match(key)
    if m:
        return _LABELS[m.group(1)][en].format(t=m.group(2))
    if key not in _LABELS:
        return key
    r = "?" if radius_km is None else f"{radius_km:g}"
    return _LABELS[key][en].format(r=r)


def format_value(key: str, value: float, *, lang: str = "fr") -> str:
    """A summary figure as text, with its unit."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if math.isinf(value):
        return "no service" if lang == "en" else "aucun service"
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
    [['Population', '2,000'], ['Share of population within 5 km', '25.0 %']]
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


#: Sentences of the app's coverage view, key -> (French, English).
PAGE_TEXT: dict[str, tuple[str, str]] = {
    "title": ("Couverture du territoire", "Coverage of the territory"),
    "intro": (
        "Pour chaque commune : la distance **à vol d'oiseau** (depuis un point "
        "représentatif de la commune) jusqu'au service sur place le plus proche, la "
        "population concernée, et où un service de plus aiderait le plus. Les services "
        "uniquement à distance sont comptés à part ; les services à adresse confidentielle "
        "comptent au centre de leur commune. Paris, Lyon et Marseille par arrondissement.",
        "For each commune: the **great-circle** distance (from a representative point of "
        "the commune) to the nearest in-person service, how many people it concerns, and "
        "where one more service would help most. Remote-only services are counted apart; "
        "services with a confidential address count at their commune. Paris, Lyon and "
        "Marseille by arrondissement.",
    ),
    "by": ("Services comptés", "Services counted"),
    "by_obstacle": ("par frein", "by obstacle"),
    "by_type": ("par type d'acteur", "by actor type"),
    "obstacles": ("Frein(s)", "Obstacle(s)"),
    "types": ("Type(s) d'acteur", "Actor type(s)"),
    "match": ("Avec plusieurs freins, un service doit couvrir", "With several obstacles"),
    "any": ("l'un d'eux", "any of them"),
    "all": ("tous", "all of them"),
    "territory": ("Territoire", "Territory"),
    "radius": ("Rayon « à portée » (km)", "Within reach (km)"),
    "measure": ("Carte", "Map"),
    "m_distance": ("distance au service le plus proche", "distance to the nearest service"),
    "m_access": ("accessibilité (2SFCA)", "accessibility (2SFCA)"),
    "catchment": ("Zone de chalandise 2SFCA (km)", "2SFCA catchment (km)"),
    "catchment_help": (
        "2SFCA partage la capacité de chaque service (places de crèche quand on les "
        "connaît, sinon 1) entre les habitants à moins de cette distance, puis additionne "
        "pour chaque commune la part des services à sa portée.",
        "2SFCA shares each service's capacity (crèche places when known, else 1) among the "
        "people within this distance, then sums for each commune the shares within its reach.",
    ),
    "compare": ("Comparer avec (facultatif)", "Compare with (optional)"),
    "none": ("—", "—"),
    "choose": ("Choisir…", "Choose…"),
    "suggest": (
        "Communes proposées pour un nouveau service",
        "Communes proposed for a new service",
    ),
    "submit": ("Analyser", "Analyse"),
    "france": ("France entière", "All of France"),
    "kind_departement": ("Département", "Département"),
    "kind_region": ("Région", "Région"),
    "kind_epci": ("EPCI", "EPCI"),
    "pick_something": ("Choisissez au moins un frein ou un type.", "Pick an obstacle or a type."),
    "m_population": ("Population", "Population"),
    "m_within": ("À portée ({r} km)", "Within {r} km"),
    "m_mean": ("Distance moyenne", "Mean distance"),
    "m_p90": ("90 % à moins de", "90% within"),
    "m_beyond": ("Communes hors de portée", "Communes out of reach"),
    "m_services": ("Services sur place / à distance", "In-person / remote services"),
    "m_access_mean": ("Capacité pour 10 000 hab.", "Capacity per 10,000 inh."),
    "legend": ("Légende", "Legend"),
    "map_level_dep": (
        "Carte par département (moyennes pondérées par la population).",
        "Map by département (population-weighted means).",
    ),
    "click": ("Cliquez une zone pour ses chiffres.", "Click an area for its figures."),
    "worst": ("Communes les moins bien couvertes", "Worst-covered communes"),
    "all_figures": ("Tous les chiffres du territoire", "All figures for the territory"),
    "download": ("Télécharger", "Download"),
    "dl_csv": ("Tableau (CSV)", "Table (CSV)"),
    "dl_geojson": ("Couche (GeoJSON)", "Layer (GeoJSON)"),
    "dl_gpkg": ("Couche (GeoPackage)", "Layer (GeoPackage)"),
    "suggest_header": (
        "Où un service de plus aiderait le plus ?",
        "Where would one more service help most?",
    ),
    "suggest_intro": (
        "Aujourd'hui, {n} personnes vivent à plus de {r} km d'un service. Chaque ligne "
        "indique combien de personnes un nouveau service dans cette commune mettrait à "
        "portée, en plus des lignes précédentes (choix glouton : le premier est le meilleur "
        "site unique).",
        "Today {n} people live more than {r} km from a service. Each row says how many "
        "people a new service in that commune would bring within reach, on top of the rows "
        "above (greedy choice: the first is the best single site).",
    ),
    "suggest_none": ("Personne n'est hors de portée.", "Nobody is out of reach."),
    "compare_header": ("Comparaison", "Comparison"),
    "no_service": ("aucun service", "no service"),
    "nearest": ("Service le plus proche", "Nearest service"),
    "col_code": ("Code INSEE", "INSEE code"),
    "col_nom": ("Nom", "Name"),
    "col_distance": ("Distance à vol d'oiseau (km)", "Great-circle distance (km)"),
    "col_nearest_commune": ("Commune du service", "Service's commune"),
    "col_gained": ("Personnes mises à portée", "People brought within reach"),
    "col_communes_gained": ("Communes mises à portée", "Communes brought within reach"),
    "col_beyond_after": ("Restent hors de portée", "Still out of reach"),
}


def page_text(key: str, lang: str = "fr", **values: object) -> str:
    """A sentence of the coverage view in ``lang``, placeholders filled.

    Examples
    --------
    >>> page_text("m_within", "en", r=10)
    'Within 10 km'
    """
    fr, en = PAGE_TEXT[key]
    return (en if lang == "en" else fr).format(**values)
