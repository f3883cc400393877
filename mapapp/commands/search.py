"""``mapapp search``: the nearest services for a place, from the command line."""

from __future__ import annotations

import json
import sys

import click
import pandas as pd

from mapapp.catalog import load_public_actors
from mapapp.csv_export import frame_csv
from mapapp.geo.communes import load_geography
from mapapp.geo.places import resolve_place
from mapapp.search import SearchIndex, SearchQuery
from mapapp.settings import Settings
from mapapp.taxonomy import ActorType, Obstacle

__all__ = ["search_command"]

_OUT_COLUMNS = [
    "distance_km",
    "nom",
    "actor_type",
    "obstacles",
    "adresse",
    "code_postal",
    "commune",
    "code_insee",
    "telephone",
    "horaires_accueil",
    "id",
]


def _rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns to print, lists joined with commas."""
    out = frame.reindex(columns=_OUT_COLUMNS).copy()
    out["obstacles"] = out["obstacles"].map(lambda v: ",".join(v))
    out["distance_km"] = out["distance_km"].round(2)
    return out


@click.command("search")
@click.option("--near", "near", help='A commune or postcode: "Saint-Denis 93", "93200".')
@click.option("--lat", type=float, help="Latitude (with --lon) instead of --near.")
@click.option("--lon", type=float, help="Longitude (with --lat).")
@click.option(
    "--obstacle",
    "obstacles",
    multiple=True,
    type=click.Choice([o.value for o in Obstacle]),
    help="Obstacle to cover (repeatable).",
)
@click.option("--match", type=click.Choice(["any", "all"]), default="any", show_default=True)
@click.option("--type", "types", multiple=True, type=click.Choice([t.value for t in ActorType]))
@click.option("--public", "publics", multiple=True, help="femmes, jeunes, familles...")
@click.option("--free-only", is_flag=True, help="Only services free of charge.")
@click.option("--radius", "radius_km", type=float, help="Maximum distance in km.")
@click.option("--limit", type=click.IntRange(1, 500), default=10, show_default=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
)
def search_command(
    near: str | None,
    lat: float | None,
    lon: float | None,
    obstacles: tuple[str, ...],
    match: str,
    types: tuple[str, ...],
    publics: tuple[str, ...],
    free_only: bool,
    radius_km: float | None,
    limit: int,
    fmt: str,
) -> None:
    """Nearest services around a place, sorted by great-circle distance (km)."""
    settings = Settings.from_env()
    if near is None and (lat is None or lon is None):
        raise click.UsageError("give --near PLACE, or both --lat and --lon")
    geo = load_geography(settings.cache_dir)
    if near is not None:
        place = resolve_place(near, geo)
        lat, lon = place.lat, place.lon
        click.echo(f"Around {place.label} [{place.code_insee}]", err=True)
    assert lat is not None and lon is not None
    shown = load_public_actors(settings, communes=geo.communes)
    if shown.is_demo:
        click.echo("Données de démonstration / demonstration data (run 'mapapp ingest')", err=True)
    query = SearchQuery(
        lat=lat,
        lon=lon,
        obstacles=obstacles,
        match="all" if match == "all" else "any",
        types=types,
        publics=publics,
        free_only=free_only,
        radius_km=radius_km,
        limit=limit,
    )
    # Confidential records are searched at their commune, so neither their street
    # nor a distance computed from their real position ever leaves this process.
    index = SearchIndex(shown.actors)
    rows = _rows(index.nearest(query))
    if fmt == "json":
        json.dump(rows.to_dict(orient="records"), sys.stdout, ensure_ascii=False, indent=1)
        click.echo()
    elif fmt == "csv":
        sys.stdout.write(frame_csv(rows))
    else:
        if rows.empty:
            click.echo("No service found; widen the radius or remove a filter.")
            return
        with pd.option_context("display.max_colwidth", 40, "display.width", 200):
            click.echo(rows.drop(columns=["id", "code_insee"]).to_string(index=False))
