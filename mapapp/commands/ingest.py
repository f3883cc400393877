"""``mapapp ingest`` and ``mapapp fetch``: import files, folders, URLs, or the national export.

Why a thin command: all the work is in :func:`mapapp.ingest.ingest`; the
command adds a progress bar on the terminal, the summary, and clear errors
(never a traceback) for bad input.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from mapapp.settings import Settings

__all__ = ["fetch_command", "ingest_command"]


def _summary(report: dict[str, Any]) -> None:
    from mapapp.ingest.report import summary_lines

    for line in summary_lines(report):
        click.echo(line)
    files = report.get("report_files") or []
    if files:
        click.echo("Report: " + " and ".join(str(f) for f in files))
    if report.get("quarantine_file"):
        click.echo(
            f"Quarantine: {report['quarantine_file']} (fix the rows, then 'mapapp ingest' that file)"
        )


@click.command("ingest")
@click.argument("sources", nargs=-1, required=True)
@click.option(
    "--format",
    "fmt",
    help="Force the input format: quarantine, datainclusion-api, mediation-numerique, datainclusion.",
)
@click.option("--mapping", help="A mapping file (.toml/.yaml) or the name of a shipped mapping.")
@click.option(
    "--dataset", help="Name under which these records are remembered (default: the input's)."
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(path_type=Path),
    help="Write the JSON report here (and a .md page beside it).",
)
@click.option(
    "--quarantine",
    "quarantine_path",
    type=click.Path(path_type=Path),
    help="Write quarantined rows here (CSV or JSON) to fix and re-import.",
)
@click.option("--no-geocode", is_flag=True, help="Never call the geocoder (works fully offline).")
@click.option(
    "--prune",
    is_flag=True,
    help="Remove records gone from their source (default: report them only).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def ingest_command(
    sources: tuple[str, ...],
    fmt: str | None,
    mapping: str | None,
    dataset: str | None,
    report_path: Path | None,
    quarantine_path: Path | None,
    no_geocode: bool,
    prune: bool,
    quiet: bool,
) -> None:
    """Import SOURCES (files, folders or URLs): the format is detected from the content."""
    from tqdm import tqdm

    from mapapp.ingest import ingest

    settings = Settings.from_env()
    bar = tqdm(unit=" rows", disable=quiet or not sys.stderr.isatty(), file=sys.stderr)
    try:
        report = ingest(
            list(sources),
            settings=settings,
            fmt=fmt,
            mapping=mapping,
            dataset=dataset,
            geocode=not no_geocode,
            prune=prune,
            report_path=report_path,
            quarantine_path=quarantine_path,
            progress=bar.update,
        )
    finally:
        bar.close()
    _summary(report)


@click.command("fetch")
@click.argument("what", type=click.Choice(["data-inclusion"]))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["parquet", "json", "csv"]),
    default="parquet",
    show_default=True,
)
@click.option("--no-geocode", is_flag=True, help="Never call the geocoder.")
@click.option(
    "--report", "report_path", type=click.Path(path_type=Path), help="Write the JSON report here."
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def fetch_command(
    what: str, fmt: str, no_geocode: bool, report_path: Path | None, quiet: bool
) -> None:
    """Download the national data·inclusion open-data export and import it."""
    from tqdm import tqdm

    from mapapp.ingest import ingest
    from mapapp.sources.fetch import fetch_data_inclusion

    settings = Settings.from_env()
    click.echo("Downloading the data·inclusion export from data.gouv.fr...", err=True)
    folder = fetch_data_inclusion(settings.cache_dir / "downloads" / "data-inclusion", fmt=fmt)
    bar = tqdm(unit=" rows", disable=quiet or not sys.stderr.isatty(), file=sys.stderr)
    try:
        report = ingest(
            [folder],
            settings=settings,
            fmt="datainclusion",
            dataset="data-inclusion",
            geocode=not no_geocode,
            report_path=report_path,
            progress=bar.update,
        )
    finally:
        bar.close()
    _summary(report)
