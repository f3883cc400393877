"""``mapapp search``: the nearest services for a place, from the command line.

Why the checks here: a filter value nobody recognises would silently match
nothing (or everything); each ``--obstacle``, ``--type`` and ``--public`` is
therefore read through :mod:`mapapp.vocabulary` (labels and English names
accepted, anything else refused with the list of valid values).  The search
radius defaults to the app's (:data:`~mapapp.vocabulary.DEFAULT_RADIUS_KM`),
and an empty answer says what lies just beyond it.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable
from typing import Any

import click
import pandas as pd

from mapapp.catalog import load_public_actors
from mapapp.csv_export import frame_csv
from mapapp.errors import UnknownVocabularyError
from mapapp.geo.communes import load_geography
from mapapp.geo.places import resolve_place
from mapapp.reserved_view import reserved_line
from mapapp.search import SearchIndex, SearchQuery
from mapapp.settings import Settings
from mapapp.taxonomy import ActorType, Obstacle
from mapapp.vocabulary import (
    DEFAULT_RADIUS_KM,
    parse_actor_type_text,
    parse_obstacle_text,
    parse_public_text,
)

__all__ = ["search_command"]

_RESERVED = ["reserved_total", "reserved_free", "reserved_confirmed_at"]

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
    "precision",
    "id",
    "reserved_total",
    "reserved_free",
    "reserved_confirmed_at",
]


def _rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns to print, lists joined with commas."""
    out = frame.reindex(columns=_OUT_COLUMNS).copy()
    out["obstacles"] = out["obstacles"].map(lambda v: ",".join(v))
    out["distance_km"] = out["distance_km"].round(2)
    out["reserved_total"] = out["reserved_total"].fillna(0).astype(int)
    out["reserved_free"] = out["reserved_free"].fillna(0).astype(int)
    confirmed = pd.to_datetime(out["reserved_confirmed_at"], utc=True)
    out["reserved_confirmed_at"] = confirmed.map(lambda d: d.isoformat() if pd.notna(d) else "")
    return out


def _vocabulary(parse: Callable[[str], tuple[Any, str]]) -> Callable[..., tuple[str, ...]]:
    """A click callback reading each value through ``parse`` (a usage error otherwise)."""

    def callback(
        ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
    ) -> tuple[str, ...]:
        out: list[str] = []
        for text in values:
            try:
                value, note = parse(text)
            except UnknownVocabularyError as exc:
                raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
            if note:
                click.echo(note, err=True)
            out.append(str(value))
        return tuple(dict.fromkeys(out))

    return callback


@click.command("search")
@click.option("--near", "near", help='A commune or postcode: "Saint-Denis 93", "93200".')
@click.option(
    "--lat", type=click.FloatRange(-90, 90), help="Latitude (with --lon) instead of --near."
)
@click.option("--lon", type=click.FloatRange(-180, 180), help="Longitude (with --lat).")
@click.option(
    "--obstacle",
    "obstacles",
    multiple=True,
    callback=_vocabulary(parse_obstacle_text),
    help="Obstacle to cover (repeatable): " + ", ".join(o.value for o in Obstacle) + ".",
)
@click.option("--match", type=click.Choice(["any", "all"]), default="any", show_default=True)
@click.option(
    "--type",
    "types",
    multiple=True,
    callback=_vocabulary(parse_actor_type_text),
    help="Actor type (repeatable): " + ", ".join(t.value for t in ActorType) + ".",
)
@click.option(
    "--public",
    "publics",
    multiple=True,
    callback=_vocabulary(parse_public_text),
    help="Public the person belongs to (repeatable): femmes, jeunes, familles, "
    "demandeurs-emploi... (an unknown value is refused with the list).",
)
@click.option("--free-only", is_flag=True, help="Only services free of charge.")
@click.option(
    "--reserved-free",
    is_flag=True,
    help="Only crèches with a childcare place reserved for women returning to work, "
    "free now / seulement les crèches avec une place réservée libre.",
)
@click.option(
    "--radius",
    "radius_km",
    type=click.FloatRange(min=0),
    default=DEFAULT_RADIUS_KM,
    show_default=True,
    help="Maximum distance in km, as in the app; 0 means no limit.",
)
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
    reserved_free: bool,
    radius_km: float,
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
        reserved_free=reserved_free,
        radius_km=radius_km or None,
        limit=limit,
    )
    # Confidential records are searched at their commune, so neither their street
    # nor a distance computed from their real position ever leaves this process.
    index = SearchIndex(shown.actors)
    shown_rows = index.nearest(query)
    rows = _rows(shown_rows)
    now = pd.Timestamp.now(tz="UTC")
    if rows.empty and query.radius_km is not None:
        click.echo(_beyond(index, query), err=True)
    if fmt == "json":
        json.dump(rows.to_dict(orient="records"), sys.stdout, ensure_ascii=False, indent=1)
        click.echo()
    elif fmt == "csv":
        sys.stdout.write(frame_csv(rows))
    else:
        if rows.empty:
            click.echo(
                "Aucun service trouvé : élargissez le rayon ou retirez un filtre. / "
                "No service found; widen the radius or remove a filter."
            )
            return
        # A record located only to its commune has no distance of its own (the
        # commune's centre is not where it is): say so instead of "0.00".
        precise = rows["precision"].isin(["address", ""])
        table = rows.drop(columns=["id", "code_insee", "precision", *_RESERVED]).astype(object)
        lines = [reserved_line(r, "fr", now) or "" for _, r in shown_rows.iterrows()]
        if any(lines):  # reserved childcare places, as the app's card says them
            table["places_reservees"] = lines
        table.loc[~precise, "distance_km"] = "-"
        table.loc[~precise, "adresse"] = "adresse précise non connue / exact address unknown"
        with pd.option_context("display.max_colwidth", 40, "display.width", 200):
            click.echo(table.to_string(index=False))


def _beyond(index: SearchIndex, query: SearchQuery) -> str:
    """Why nothing was found within the radius, naming the nearest match beyond it."""
    radius = f"{query.radius_km:g}"
    wider = dataclasses.replace(query, radius_km=None, limit=1)
    nearest = index.nearest(wider)
    if nearest.empty:
        return (
            f"Aucun service dans un rayon de {radius} km, ni au-delà, avec ces filtres. / "
            f"Nothing within {radius} km, nor beyond, matches these filters."
        )
    first = nearest.iloc[0]
    km = f"{float(first['distance_km']):,.1f}".replace(",", " ")
    where = f"{first['nom']} ({first['commune']})" if first.get("commune") else str(first["nom"])
    return (
        f"Aucun service dans un rayon de {radius} km ; le plus proche au-delà : {where}, "
        f"à {km} km (--radius 0 pour ne pas limiter la distance). / "
        f"Nothing within {radius} km; the nearest beyond is {where}, {km} km away "
        "(--radius 0 for no limit)."
    )
