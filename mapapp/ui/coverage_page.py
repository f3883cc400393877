"""The coordinator's view: where each obstacle is badly covered, for how many people.

Thin by design: every figure comes from :func:`mapapp.coverage.coverage_analysis`
(the same numbers as ``mapapp coverage`` and the notebook), the map from
:mod:`mapapp.render.choropleth`, the exports from :mod:`mapapp.coverage.export`.  This
module only lays them out.

- Settings sit in an ``st.form``: nothing is computed before "Analyser".
- Results are cached per question (``st.cache_data``), keyed on the store
  (:func:`mapapp.ui.resources.store_key`), its stamp and the question's plain
  values, never on ``id()`` or a GeoDataFrame; the settings are read once by
  the app and passed down.
- The map is a fragment: clicking a commune reruns only the map and shows its
  figures with native Streamlit elements; the map itself carries numbers,
  codes and escaped names only.
- Communes are drawn within a département or an EPCI; a région or France is
  drawn by département (35,000 communes never fit on a page).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from mapapp.coverage import (
    CoverageAnalysis,
    Territory,
    compare_summaries,
    coverage_analysis,
    coverage_layer,
    layer_to_geojson,
    layer_to_gpkg,
    suggest_sites,
    summary_frame,
    table_to_csv,
    territory_units,
    with_sites,
    worst_covered,
)
from mapapp.coverage.classes import accessibility_classes, distance_classes
from mapapp.coverage.levels import level_shapes, level_table, parse_selection_key, selection_key
from mapapp.geo.communes import analysis_units
from mapapp.geo.shapes import display_geometry
from mapapp.i18n import format_number, t
from mapapp.render.choropleth import coverage_map, legend_html
from mapapp.render.text import escape_markdown
from mapapp.reserved_view import ReservedCoverage, reserved_coverage
from mapapp.settings import Settings
from mapapp.taxonomy import ActorType, Obstacle
from mapapp.ui import resources
from mapapp.ui.assets import leaflet_base
from mapapp.ui.chrome import current_lang

__all__ = ["render"]

_PARAMS = "coverage_params"
_MAP_HEIGHT = 520
#: Bounds of metropolitan France (min lon, min lat, max lon, max lat) for the national map.
_METRO = (-5.2, 41.3, 9.6, 51.1)


@dataclass(frozen=True)
class _Params:
    obstacles: tuple[str, ...]
    types: tuple[str, ...]
    match: str
    territory: str  # "france", "departement:93", "region:11", "epci:200054781"
    radius_km: float
    measure: str  # "distance" | "access"
    catchment_km: float
    compare: str  # "", an obstacle slug, or "type:<slug>"
    suggest_n: int


@st.cache_resource(show_spinner=False, max_entries=2)
def _territories(_s: Settings, cache_dir: str) -> dict[str, tuple[str, str, str]]:
    """key -> (kind, code, name) of every territory, France first."""
    units = analysis_units(resources.geography(_s).communes)
    out: dict[str, tuple[str, str, str]] = {"france": ("france", "", "")}
    for kind in ("departement", "region", "epci"):
        names = units[units[kind] != ""].groupby(kind)[f"{kind}_nom"].first().sort_index()
        for code, name in names.items():
            out[f"{kind}:{code}"] = (kind, str(code), str(name))
    return out


@st.cache_resource(show_spinner=False, max_entries=2)
def _unknown_population(_s: Settings, cache_dir: str) -> frozenset[str]:
    """Communes without a population in the reference data (Mayotte's 17)."""
    communes = resources.geography(_s).communes
    if "population_known" not in communes:
        return frozenset()
    return frozenset(communes.index[~communes["population_known"].astype(bool)])


def _territory(key: str) -> Territory:
    kind, _, code = key.partition(":")
    return Territory.parse(kind, code or None)


@st.cache_resource(show_spinner=False, max_entries=8)
def _display_shapes(_s: Settings, cache_dir: str, territory: str) -> gpd.GeoSeries:
    """Polygons a map of ``territory`` draws, made light for the browser (built once)."""
    t_ = _territory(territory)
    if t_.map_level == "departement":
        shapes = level_shapes("departement", resources.geography(_s).communes, Path(cache_dir))
        return display_geometry(shapes, simplify_deg=0.005, decimals=3)
    units = territory_units(analysis_units(resources.geography(_s).communes), t_)
    return display_geometry(units.geometry)


@st.cache_data(show_spinner=False, max_entries=16)
def _analysis(
    _s: Settings,
    key: tuple[str, str, str],
    stamp: str,
    obstacles: tuple[str, ...],
    types: tuple[str, ...],
    match: str,
    territory: str,
    radius_km: float,
    catchment_km: float,
) -> CoverageAnalysis:
    """One analysis of the store version ``stamp``; ``catchment_km`` 0 means no 2SFCA."""
    return coverage_analysis(
        resources.public(_s, at=stamp).actors,
        resources.geography(_s).communes,
        territory=_territory(territory),
        obstacles=obstacles,
        types=types,
        match="all" if match == "all" else "any",
        radius_km=radius_km,
        catchment_km=catchment_km or None,
    )


def analysis(s: Settings, params: _Params, *, compare: bool = False) -> CoverageAnalysis:
    """The analysis asked for (or the one it is compared with), cached per store version."""
    catchment = params.catchment_km if params.measure == "access" else 0.0
    obstacles, types, match = params.obstacles, params.types, params.match
    if compare:
        (obstacles, types), match = parse_selection_key(params.compare), "any"
    return _analysis(
        s,
        resources.store_key(s),
        resources.stamp(s),
        obstacles,
        types,
        match,
        params.territory,
        params.radius_km,
        catchment,
    )


def _form(s: Settings, lang: str) -> None:
    options = _territories(s, str(s.cache_dir))

    def label(key: str) -> str:
        kind, code, name = options[key]
        if kind == "france":
            return t("cov_france", lang)
        return (
            f"{t('cov_kind_' + kind, lang)} — {code} {name}"
            if kind != "epci"
            else (f"{t('cov_kind_epci', lang)} — {name} ({code})")
        )

    obstacle_values = [o.value for o in Obstacle]
    type_values = [a.value for a in ActorType]
    with st.form("coverage_form", border=True):
        left, right = st.columns(2)
        by = left.radio(
            t("cov_by", lang),
            ["obstacle", "type"],
            horizontal=True,
            format_func=lambda v: t("cov_by_" + v, lang),
        )
        obstacles = left.multiselect(
            t("cov_obstacles", lang),
            obstacle_values,
            default=["garde-enfants"],
            format_func=lambda v: Obstacle(v).label(lang),
            placeholder=t("cov_choose", lang),
        )
        match = left.radio(
            t("cov_match", lang),
            ["any", "all"],
            horizontal=True,
            format_func=lambda v: t("cov_match_" + v, lang),
        )
        types = left.multiselect(
            t("cov_types", lang),
            type_values,
            format_func=lambda v: ActorType(v).label(lang),
            placeholder=t("cov_choose", lang),
        )
        compare = left.selectbox(
            t("cov_compare", lang),
            ["", *obstacle_values, *(selection_key(actor_type=v) for v in type_values)],
            format_func=lambda v: _selection_label(v, lang),
        )
        territory = right.selectbox(t("cov_territory", lang), list(options), format_func=label)
        radius = right.slider(t("cov_radius", lang), 1, 50, 10)
        measure = right.radio(
            t("cov_measure", lang),
            ["distance", "access"],
            horizontal=True,
            format_func=lambda v: t("cov_m_" + v, lang),
            help=t("cov_measure_help", lang),
        )
        catchment = right.slider(
            t("cov_catchment", lang), 1, 50, 10, help=t("cov_catchment_help", lang)
        )
        suggest_n = right.number_input(t("cov_suggest", lang), 0, 20, 5)
        if st.form_submit_button(t("cov_submit", lang), type="primary"):
            st.session_state[_PARAMS] = _Params(
                obstacles=tuple(obstacles) if by == "obstacle" else (),
                types=tuple(types) if by == "type" else (),
                match=str(match),
                territory=str(territory),
                radius_km=float(radius),
                measure=str(measure),
                catchment_km=float(catchment),
                compare=str(compare or ""),
                suggest_n=int(suggest_n),
            )


def _title(obstacles: tuple[str, ...], types: tuple[str, ...], match: str, lang: str) -> str:
    """What was counted, in words (labels, never slugs)."""
    word = t("cov_and" if match == "all" else "cov_or", lang)
    parts = [f" {word} ".join(Obstacle(o).label(lang) for o in obstacles)] if obstacles else []
    parts += [", ".join(ActorType(a).label(lang) for a in types)] if types else []
    return " ; ".join(parts) or t("cov_all_services", lang)


def _selection_label(key: str, lang: str) -> str:
    if not key:
        return t("cov_none", lang)
    obstacles, types = parse_selection_key(key)
    return ActorType(types[0]).label(lang) if types else Obstacle(obstacles[0]).label(lang)


def _metrics(res: CoverageAnalysis, lang: str) -> None:
    s = res.summary
    r = res.radius_km
    cols = [*st.columns(3), *st.columns(3)]
    cols[0].metric(
        t("cov_m_population", lang),
        format_number(s["population"], lang=lang),
        help=t("cov_population_note", lang),
    )
    pop = s["population"]
    share = 1 - s["population_beyond_radius"] / pop if pop else float("nan")
    cols[1].metric(
        t("cov_m_within", lang, r=f"{r:g}"), format_number(100 * share, digits=1, lang=lang) + " %"
    )
    cols[2].metric(
        t("cov_m_mean", lang), format_number(s["mean_distance_km"], digits=1, lang=lang) + " km"
    )
    p90 = s["p90_distance_km"]
    cols[3].metric(
        t("cov_m_p90", lang),
        t("cov_no_service", lang)
        if p90 == float("inf")
        else format_number(p90, digits=1, lang=lang) + " km",
    )
    cols[4].metric(t("cov_m_beyond", lang), format_number(s["communes_beyond_radius"], lang=lang))
    cols[5].metric(
        t("cov_m_services", lang),
        f"{format_number(s['services'], lang=lang)} / "
        f"{format_number(s['remote_services'], lang=lang)}",
    )


def _map_data(s: Settings, res: CoverageAnalysis) -> tuple[pd.DataFrame, gpd.GeoSeries]:
    """Rows drawn (communes or départements) and their display polygons."""
    t_ = res.territory
    shapes = _display_shapes(s, str(s.cache_dir), f"{t_.kind}:{t_.code}" if t_.code else t_.kind)
    rows = level_table(res, t_.map_level)
    rows = rows.loc[rows.index.intersection(shapes.index)]
    return rows, shapes.loc[rows.index]


def _value_column(level: str, measure: str) -> str:
    if measure == "access":
        return "accessibility_per_10k"
    return "distance_km" if level == "commune" else "mean_distance_km"


@st.fragment
def _map_panel(s: Settings, res: CoverageAnalysis, measure: str, lang: str, key: str) -> None:
    """The choropleth and, after a click, the figures of the clicked area."""
    level = res.territory.map_level
    rows, shapes = _map_data(s, res)
    unknown = _unknown_population(s, str(s.cache_dir))
    col = _value_column(level, measure)
    values = rows[col]
    if measure == "access":
        classes = accessibility_classes(values, lang=lang)
        shown = [format_number(v, digits=2, lang=lang) for v in values]
        value_label = t("cov_m_access_mean", lang)
    else:
        classes = distance_classes(values, lang=lang)
        shown = [
            t("cov_no_service", lang)
            if v == float("inf")
            else format_number(v, digits=1, lang=lang) + " km"
            for v in values
        ]
        value_label = t("cov_m_mean", lang) if level != "commune" else "distance"
    fmap = coverage_map(
        shapes,
        classes,
        values=shown,
        names=list(rows["nom"]),
        population=[
            None if code in unknown else float(pop)
            for code, pop in zip(rows.index, rows["population"], strict=True)
        ],
        value_label=value_label,
        tiles=s.tiles,
        attribution=s.tiles_attribution,
        leaflet_base=leaflet_base(),
        bounds=_METRO if res.territory.kind == "france" else None,
        lang=lang,
    )
    mcol, lcol = st.columns([3, 1])
    with mcol:
        out = st_folium(
            fmap,
            key=key,
            height=_MAP_HEIGHT,
            use_container_width=True,
            returned_objects=["last_active_drawing"],
        )
    with lcol:
        st.html(
            legend_html(classes, t("cov_legend", lang) + (" (km)" if measure == "distance" else ""))
        )
        if level != "commune":
            st.caption(t("cov_map_level_dep", lang))
        st.caption(t("cov_click", lang))
    feature = (out or {}).get("last_active_drawing")
    code = None
    if isinstance(feature, dict):
        props = feature.get("properties")
        if isinstance(props, dict):
            code = props.get("code")
    if isinstance(code, str) and code in rows.index:
        with st.container(border=True):
            st.markdown(f"**{escape_markdown(rows.at[code, 'nom'])}** ({escape_markdown(code)})")
            st.dataframe(
                rows.loc[[code]].drop(columns=["nom"]),
                width="stretch",
                column_config=_column_config(lang),
            )


def _sites(s: Settings, res: CoverageAnalysis, n: int) -> pd.DataFrame:
    """The ``n`` proposed sites of this analysis (empty when none is asked for)."""
    if n <= 0:
        return pd.DataFrame(columns=["rank", "code_insee", "nom", "population_gained"])
    units = territory_units(analysis_units(resources.geography(s).communes), res.territory)
    return suggest_sites(units, res.services, radius_km=res.radius_km, n=n)


def _downloads(s: Settings, res: CoverageAnalysis, lang: str, sites: pd.DataFrame) -> None:
    level = res.territory.map_level
    slug = f"couverture-{res.territory.kind}-{res.territory.code or 'france'}"
    table = level_table(res, level)
    communes_table = res.table
    if not sites.empty:  # every download carries the proposed sites
        communes_table = with_sites(res.table, sites)
        deps = res.table["departement"] if level == "departement" else None
        table = with_sites(table, sites, departements=deps)

    def layer() -> gpd.GeoDataFrame:
        shapes = level_shapes(level, resources.geography(s).communes, s.cache_dir)
        return coverage_layer(table, gpd.GeoDataFrame(geometry=shapes))

    st.markdown(f"**{t('cov_download', lang)}**")
    c1, c2, c3 = st.columns(3)
    c1.download_button(
        t("cov_dl_csv", lang),
        data=lambda: table_to_csv(communes_table),
        file_name=f"{slug}-communes.csv",
        mime="text/csv",
        on_click="ignore",
        key="dl_csv",
    )
    c2.download_button(
        t("cov_dl_geojson", lang),
        data=lambda: layer_to_geojson(layer()),
        file_name=f"{slug}.geojson",
        mime="application/geo+json",
        on_click="ignore",
        key="dl_geojson",
    )
    c3.download_button(
        t("cov_dl_gpkg", lang),
        data=lambda: layer_to_gpkg(layer()),
        file_name=f"{slug}.gpkg",
        mime="application/geopackage+sqlite3",
        on_click="ignore",
        key="dl_gpkg",
    )


def _column_config(lang: str) -> dict[str, Any]:
    """Readable headers for the coverage tables (the data keep their names)."""
    number = st.column_config.NumberColumn
    return {
        "code_insee": st.column_config.TextColumn(t("cov_col_code", lang)),
        "nom": st.column_config.TextColumn(t("cov_col_nom", lang)),
        "population": number(t("cov_m_population", lang), format="localized"),
        "distance_km": number(t("cov_col_distance", lang), format="%.1f"),
        "mean_distance_km": number(t("cov_m_mean", lang) + " (km)", format="%.1f"),
        "p90_distance_km": number(t("cov_m_p90", lang) + " (km)", format="%.1f"),
        "nearest_nom": st.column_config.TextColumn(t("cov_nearest", lang)),
        "nearest_commune": st.column_config.TextColumn(t("cov_col_nearest_commune", lang)),
        "accessibility_per_10k": number(t("cov_m_access_mean", lang), format="%.2f"),
        "rank": number("#"),
        "population_gained": number(t("cov_col_gained", lang), format="localized"),
        "communes_gained": number(t("cov_col_communes_gained", lang)),
        "population_beyond_after": number(t("cov_col_beyond_after", lang), format="localized"),
    }


def _worst(s: Settings, res: CoverageAnalysis, lang: str) -> None:
    st.subheader(t("cov_worst", lang))
    cols = ["nom", "population", "distance_km", "nearest_nom", "nearest_commune"]
    if "accessibility_per_10k" in res.table:
        cols.append("accessibility_per_10k")
    worst = worst_covered(res.table, 50)[cols]
    st.dataframe(worst, width="stretch", column_config=_column_config(lang))
    unknown = _unknown_population(s, str(s.cache_dir)) & set(res.table.index)
    if unknown:
        st.caption(t("cov_unknown_note", lang, n=len(unknown)))
    with st.expander(t("cov_all_figures", lang)):
        st.dataframe(
            summary_frame(res.summary, lang=lang, radius_km=res.radius_km),
            hide_index=True,
            width="stretch",
        )


def _suggestions(res: CoverageAnalysis, sites: pd.DataFrame, lang: str) -> None:
    st.subheader(t("cov_suggest_header", lang))
    before = format_number(res.summary["population_beyond_radius"], lang=lang)
    st.markdown(t("cov_suggest_intro", lang, n=before, r=f"{res.radius_km:g}"))
    if sites.empty:
        st.info(t("cov_suggest_none", lang))
        return
    st.dataframe(
        sites.drop(columns=["lat", "lon"]),
        hide_index=True,
        width="stretch",
        column_config=_column_config(lang),
    )
    st.download_button(
        t("cov_dl_sites", lang),
        data=table_to_csv(sites.set_index("code_insee")),
        file_name=f"sites-proposes-{res.territory.kind}-{res.territory.code or 'france'}.csv",
        mime="text/csv",
        on_click="ignore",
        key="dl_sites",
    )


@st.cache_data(show_spinner=False, max_entries=8)
def _reserved_coverage(
    _s: Settings, key: tuple[str, str, str], stamp: str, territory: str, radius_km: float, n: int
) -> ReservedCoverage:
    """Reserved places of the store and register version ``stamp`` (it includes the register's)."""
    return reserved_coverage(
        resources.public(_s, at=stamp).actors,
        resources.geography(_s).communes,
        _territory(territory),
        radius_km=radius_km,
        n=n,
    )


def _reserved(s: Settings, res: CoverageAnalysis, n: int, lang: str) -> None:
    """Reserved childcare places (issue 17): counts, per 1,000 inhabitants, partner crèches to seek."""
    territory = f"{res.territory.kind}:{res.territory.code}" if res.territory.code else "france"
    rc = _reserved_coverage(
        s, resources.store_key(s), resources.stamp(s), territory, res.radius_km, n
    )
    st.subheader(t("reserved_cov_header", lang))
    st.caption(t("reserved_cov_intro", lang))
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(
        t("reserved_cov_partners", lang),
        format_number(rc.summary["creches_partenaires"], lang=lang),
    )
    c2.metric(
        t("reserved_cov_total", lang), format_number(rc.summary["places_reservees"], lang=lang)
    )
    c3.metric(t("reserved_cov_free", lang), format_number(rc.summary["places_libres"], lang=lang))
    per = rc.summary["places_pour_1000_habitants"]
    c4.metric(t("reserved_cov_per_1000", lang), format_number(per, digits=2, lang=lang))
    number = st.column_config.NumberColumn
    st.dataframe(
        rc.departements,
        width="stretch",
        column_config={
            "nom": st.column_config.TextColumn(t("cov_col_nom", lang)),
            "population": number(t("cov_m_population", lang), format="localized"),
            "creches_partenaires": number(t("reserved_cov_partners", lang)),
            "places_reservees": number(t("reserved_cov_total", lang)),
            "places_libres": number(t("reserved_cov_free", lang)),
            "places_pour_1000_habitants": number(t("reserved_cov_per_1000", lang), format="%.3f"),
        },
    )
    st.markdown(t("reserved_cov_suggest", lang, r=f"{res.radius_km:g}"))
    if rc.suggestions.empty:
        st.info(t("cov_suggest_none", lang))
    else:
        st.dataframe(
            rc.suggestions.drop(columns=["lat", "lon"]),
            hide_index=True,
            width="stretch",
            column_config=_column_config(lang),
        )
    slug = f"places-reservees-{res.territory.kind}-{res.territory.code or 'france'}"
    d1, d2 = st.columns(2)
    d1.download_button(
        t("reserved_cov_dl", lang),
        data=table_to_csv(rc.departements),
        file_name=f"{slug}.csv",
        mime="text/csv",
        on_click="ignore",
        key="dl_reserved",
    )
    d2.download_button(
        t("reserved_cov_dl_sites", lang),
        data=table_to_csv(rc.suggestions.set_index("code_insee")),
        file_name=f"{slug}-communes-proposees.csv",
        mime="text/csv",
        on_click="ignore",
        key="dl_reserved_sites",
    )


def render(s: Settings, lang: str | None = None) -> None:
    """Draw the coverage view (``lang`` defaults to the app's language switch)."""
    lang = lang or current_lang()
    st.header(t("cov_title", lang))
    st.markdown(t("cov_intro", lang))
    _form(s, lang)
    params: _Params | None = st.session_state.get(_PARAMS)
    if params is None:
        return
    if not params.obstacles and not params.types:
        st.warning(t("cov_pick_something", lang))
        return
    res = analysis(s, params)
    st.subheader(f"{res.label} — {_title(params.obstacles, params.types, params.match, lang)}")
    _metrics(res, lang)
    unknown = _unknown_population(s, str(s.cache_dir)) & set(res.table.index)
    if unknown:
        st.info(t("cov_unknown_note", lang, n=len(unknown)))
    if params.compare:
        other = analysis(s, params, compare=True)
        st.subheader(t("cov_compare_header", lang))
        st.dataframe(
            summary_frame(
                compare_summaries({res.selection: res, other.selection: other}),
                lang=lang,
                radius_km=res.radius_km,
            ),
            hide_index=True,
            width="stretch",
        )
        left, right = st.columns(2)
        with left:
            st.caption(_title(params.obstacles, params.types, params.match, lang))
            _map_panel(s, res, params.measure, lang, "coverage_map_a")
        with right:
            st.caption(_selection_label(params.compare, lang))
            _map_panel(s, other, params.measure, lang, "coverage_map_b")
    else:
        _map_panel(s, res, params.measure, lang, "coverage_map")
    sites = _sites(s, res, params.suggest_n)
    _downloads(s, res, lang, sites)
    _worst(s, res, lang)
    if params.suggest_n > 0:
        _suggestions(res, sites, lang)
    if "garde-enfants" in params.obstacles or {"creche", "creche-avip"} & set(params.types):
        _reserved(s, res, max(params.suggest_n, 1), lang)
