"""``mapapp export``: the public view as data·inclusion v1 JSON, CSV or GeoJSON.

Examples (shell)::

    mapapp export --format datainclusion -o services.json
    mapapp export --format csv -o services.csv
    mapapp export --format geojson -o services.geojson

Every format starts from :func:`mapapp.catalog.load_public_actors`: a
confidential record is exported at its commune, without street, e-mail,
SIRET or private phone.  The data·inclusion export is checked record by
record against the ``data-inclusion-schema`` package's v1 model; a record
that does not validate is left out and named on the error stream, with the
counts (exported + left out = records).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
import pandas as pd

from mapapp.catalog import load_public_actors
from mapapp.settings import Settings

__all__ = ["export_command"]


def _emit(data: bytes, output: Path | None) -> None:
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        output.write_bytes(data)
        click.echo(f"Written: {output}", err=True)


def _datainclusion(frame: pd.DataFrame) -> bytes:
    from mapapp.export import services_v1, validate_services

    services = services_v1(frame)
    report = validate_services(services)
    keep = [
        {k: v for k, v in s.items() if k != "mapapp"}
        for s in services
        if str(s["id"]) not in report.errors
    ]
    click.echo(
        f"{len(services)} services: {len(keep)} exported (valid data·inclusion v1), "
        f"{report.invalid} left out",
        err=True,
    )
    for sid, messages in list(report.errors.items())[:20]:
        click.echo(f"  left out {sid}: {'; '.join(messages)}", err=True)
    return json.dumps(keep, ensure_ascii=False, indent=1).encode("utf-8")


@click.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["datainclusion", "csv", "geojson"]),
    default="datainclusion",
    show_default=True,
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write to this file instead of the terminal.",
)
def export_command(fmt: str, output: Path | None) -> None:
    """Export every service of the store (public view) in a standard format."""
    from mapapp.export.tabular import actors_csv, actors_geojson

    settings = Settings.from_env()
    shown = load_public_actors(settings)
    if shown.is_demo:
        click.echo("Données de démonstration / demonstration data (run 'mapapp ingest')", err=True)
    frame = shown.actors
    if fmt == "datainclusion":
        _emit(_datainclusion(frame), output)
    elif fmt == "csv":
        _emit(actors_csv(frame), output)
    else:
        _emit(actors_geojson(frame), output)
