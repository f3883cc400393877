"""``mapapp coverage``: where an obstacle is badly covered, from the command line.

Examples (shell)::

    mapapp coverage --obstacle garde-enfants --departement 93 --format csv
    mapapp coverage --obstacle garde-enfants --region 11 --suggest 5
    mapapp coverage --obstacle garde-enfants --obstacle mobilite --compare --departement 23
    mapapp coverage --type creche --epci 200054781 --catchment 10 --format geojson -o out.geojson

Distances are great-circle ("à vol d'oiseau") from each commune's
representative point; remote-only services are counted apart; confidential
services count at their commune.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import geopandas as gpd
import pandas as pd

from mapapp.catalog import load_public_actors
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
    worst_covered,
)
from mapapp.coverage.levels import level_shapes, level_table, parse_selection_key, selection_key
from mapapp.geo.communes import Geography, analysis_units, load_geography
from mapapp.settings import Settings
from mapapp.taxonomy import ActorType, Obstacle

__all__ = ["coverage_command"]

_FORMATS = ["table", "csv", "geojson", "gpkg"]


def _territory(departement: str | None, region: str | None, epci: str | None) -> Territory:
    given = [(k, v) for k, v in (("departement", departement), ("region", region), ("epci", epci))]
    chosen = [(k, v) for k, v in given if v]
    if len(chosen) > 1:
        raise click.UsageError("give at most one of --departement, --region, --epci")
    if not chosen:
        return Territory()
    kind, code = chosen[0]
    return Territory.parse(kind, code)


def _emit(data: bytes | str, output: Path | None) -> None:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if output is None:
        sys.stdout.buffer.write(raw)
        sys.stdout.flush()
    else:
        output.write_bytes(raw)
        click.echo(f"Written: {output}", err=True)


def _shapes(level: str, geo: Geography, settings: Settings) -> gpd.GeoSeries:
    return level_shapes(level, geo.communes, settings.cache_dir)


def _print_summary(summary: pd.DataFrame | pd.Series, radius_km: float, lang: str) -> None:
    frame = summary_frame(summary, lang=lang, radius_km=radius_km)
    with pd.option_context("display.max_colwidth", 90, "display.width", 200):
        click.echo(frame.to_string(index=False))


def _selections(
    obstacles: tuple[str, ...], types: tuple[str, ...], compare: bool
) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    if not compare:
        return {"": (obstacles, types)}
    if len(obstacles) + len(types) < 2:
        raise click.UsageError("--compare needs at least two --obstacle or --type values")
    keys = [selection_key(obstacle=o) for o in obstacles]
    keys += [selection_key(actor_type=t) for t in types]
    return {key: parse_selection_key(key) for key in keys}


@click.command("coverage")
@click.option("--departement", help="A département code: 93, 2A, 974.")
@click.option("--region", help="A région code: 11 (Île-de-France), 84...")
@click.option("--epci", help="An EPCI SIREN code (9 digits).")
@click.option(
    "--obstacle",
    "obstacles",
    multiple=True,
    type=click.Choice([o.value for o in Obstacle]),
    help="Obstacle the services must cover (repeatable).",
)
@click.option(
    "--type",
    "types",
    multiple=True,
    type=click.Choice([t.value for t in ActorType]),
    help="Actor type (repeatable).",
)
@click.option(
    "--match",
    type=click.Choice(["any", "all"]),
    default="any",
    show_default=True,
    help="With several obstacles: services covering any, or all, of them.",
)
@click.option(
    "--radius",
    "radius_km",
    type=click.FloatRange(min=0.1, max=500),
    default=10.0,
    show_default=True,
    help="Within reach (km, great circle).",
)
@click.option(
    "--catchment",
    "catchment_km",
    type=click.FloatRange(min=0.1, max=200),
    help="Also compute 2SFCA accessibility (per 10,000 inhabitants) with this catchment (km).",
)
@click.option(
    "--suggest",
    "suggest_n",
    type=click.IntRange(1, 100),
    help="Propose N communes where a new service would bring the most people within --radius.",
)
@click.option("--compare", is_flag=True, help="Each --obstacle / --type separately, side by side.")
@click.option(
    "--level",
    type=click.Choice(["commune", "departement"]),
    help="Rows of csv/geojson/gpkg output (default: communes for a département or an EPCI, "
    "départements for a région or France).",
)
@click.option("--format", "fmt", type=click.Choice(_FORMATS), default="table", show_default=True)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file instead of the terminal (required for gpkg).",
)
@click.option(
    "--limit", type=click.IntRange(1, 1000), default=20, show_default=True, help="Rows in a table."
)
@click.option("--lang", type=click.Choice(["fr", "en"]), default="fr", show_default=True)
def coverage_command(
    departement: str | None,
    region: str | None,
    epci: str | None,
    obstacles: tuple[str, ...],
    types: tuple[str, ...],
    match: str,
    radius_km: float,
    catchment_km: float | None,
    suggest_n: int | None,
    compare: bool,
    level: str | None,
    fmt: str,
    output: Path | None,
    limit: int,
    lang: str,
) -> None:
    """Distance to the nearest in-person service, commune by commune, and the gaps."""
    if fmt == "gpkg" and output is None:
        raise click.UsageError("--format gpkg writes a binary file: give --output FILE")
    if compare and suggest_n:
        raise click.UsageError("use --compare or --suggest, not both")
    territory = _territory(departement, region, epci)
    settings = Settings.from_env()
    geo = load_geography(settings.cache_dir)
    territory_units(analysis_units(geo.communes), territory)  # a clear error for a bad code
    shown = load_public_actors(settings, communes=geo.communes)
    if shown.is_demo:
        click.echo("Données de démonstration / demonstration data (run 'mapapp ingest')", err=True)
    actors = shown.actors
    level = level or territory.map_level
    results = {
        name: coverage_analysis(
            actors,
            geo.communes,
            territory=territory,
            obstacles=obs,
            types=typ,
            match="all" if match == "all" else "any",
            radius_km=radius_km,
            catchment_km=catchment_km,
        )
        for name, (obs, typ) in _selections(obstacles, types, compare).items()
    }
    first = next(iter(results.values()))
    click.echo(
        f"{first.label}: distances à vol d'oiseau / great-circle distances, radius {radius_km:g} km",
        err=True,
    )
    if suggest_n:
        _suggest(first, geo, suggest_n, fmt, output)
    elif compare:
        _compare(results, level, fmt, output, geo, settings, lang)
    else:
        _single(first, level, fmt, output, limit, geo, settings, lang)


def _single(
    result: CoverageAnalysis,
    level: str,
    fmt: str,
    output: Path | None,
    limit: int,
    geo: Geography,
    settings: Settings,
    lang: str,
) -> None:
    click.echo(f"Services: {result.selection}", err=True)
    if fmt == "table":
        _print_summary(result.summary, result.radius_km, lang)
        click.echo()
        worst = worst_covered(result.table, limit)
        cols = ["nom", "population", "distance_km", "nearest_nom", "nearest_commune"]
        if "accessibility_per_10k" in worst:
            cols.append("accessibility_per_10k")
        with pd.option_context("display.max_colwidth", 40, "display.width", 200):
            click.echo(worst[cols].round(2).to_string())
        return
    table = level_table(result, level)
    if fmt == "csv":
        _emit(table_to_csv(table), output)
        return
    layer = coverage_layer(table, gpd.GeoDataFrame(geometry=_shapes(level, geo, settings)))
    _emit(layer_to_geojson(layer) if fmt == "geojson" else layer_to_gpkg(layer), output)


def _compare(
    results: dict[str, CoverageAnalysis],
    level: str,
    fmt: str,
    output: Path | None,
    geo: Geography,
    settings: Settings,
    lang: str,
) -> None:
    if fmt == "table":
        first = next(iter(results.values()))
        _print_summary(compare_summaries(results), first.radius_km, lang)
        return
    cols = ["distance_km", "within_radius"] if level == "commune" else ["mean_distance_km"]
    if next(iter(results.values())).catchment_km is not None:
        cols.append("accessibility_per_10k")
    base = level_table(next(iter(results.values())), level)
    keep = ["nom", "departement", "population"] if level == "commune" else ["nom", "population"]
    table = base[keep].copy()
    for name, res in results.items():
        part = level_table(res, level)[cols]
        table = table.join(part.rename(columns={c: f"{c}__{name}" for c in cols}))
    if fmt == "csv":
        _emit(table_to_csv(table), output)
        return
    layer = coverage_layer(table, gpd.GeoDataFrame(geometry=_shapes(level, geo, settings)))
    _emit(layer_to_geojson(layer) if fmt == "geojson" else layer_to_gpkg(layer), output)


def _suggest(
    result: CoverageAnalysis, geo: Geography, n: int, fmt: str, output: Path | None
) -> None:
    units = territory_units(analysis_units(geo.communes), result.territory)
    sites = suggest_sites(units, result.services, radius_km=result.radius_km, n=n)
    before = int(result.summary["population_beyond_radius"])
    click.echo(
        f"Services: {result.selection}; population beyond {result.radius_km:g} km now: {before:,}",
        err=True,
    )
    if sites.empty:
        click.echo("Nobody is beyond the radius: no site to propose.", err=True)
    if fmt == "table":
        with pd.option_context("display.width", 200):
            click.echo(sites.drop(columns=["lat", "lon"]).to_string(index=False))
        return
    table = sites.set_index("code_insee")
    if fmt == "csv":
        _emit(table_to_csv(table), output)
        return
    points = gpd.GeoDataFrame(
        table.drop(columns=["lat", "lon"]),
        geometry=gpd.points_from_xy(table["lon"], table["lat"]),
        crs="EPSG:4326",
    ).reset_index()
    _emit(layer_to_geojson(points) if fmt == "geojson" else layer_to_gpkg(points), output)
