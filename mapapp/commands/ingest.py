"""``mapapp ingest`` and ``mapapp fetch``: import files, folders, URLs, or the national export.

Why a thin command: all the work is in :func:`mapapp.ingest.ingest`; the
command adds progress on stderr (rows read, rows per second, stage), says
when it waits for another import, prints the summary, and gives clear errors
(never a traceback) for bad input.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click

from mapapp.settings import Settings

__all__ = ["Progress", "fetch_command", "ingest_command"]


class Progress:
    """Progress of a long import on stderr: rows read, rows per second, stage.

    On a terminal, a tqdm bar; elsewhere (a log, a pipe) silent, unless
    ``force`` is set: then one plain line every ``every`` seconds, so a
    cron log shows that the import advances.

    Examples
    --------
    >>> p = Progress(enabled=False)
    >>> p(10, "reading"); p(5, "reading"); p.rows
    15
    >>> p.close()
    """

    def __init__(self, *, enabled: bool = True, force: bool = False, every: float = 5.0) -> None:
        from tqdm import tqdm

        self.rows = 0
        self.stage = ""
        self.every = every
        self.started = self.last = time.monotonic()
        tty = sys.stderr.isatty()
        self.plain = enabled and force and not tty
        self.bar = tqdm(unit=" rows", disable=not (enabled and tty), file=sys.stderr)

    def __call__(self, rows: int, stage: str) -> None:
        """Count ``rows`` more rows read; show ``stage``."""
        self.rows += rows
        if stage != self.stage:
            self.stage = stage
            self.bar.set_description(stage)
            self.last = 0.0
        self.bar.update(rows)
        now = time.monotonic()
        if self.plain and now - self.last >= self.every:
            self.last = now
            rate = self.rows / max(now - self.started, 1e-6)
            click.echo(
                f"[{stage}] {self.rows} lignes lues / rows read, {rate:.0f} lignes/s / rows/s",
                err=True,
            )

    def close(self) -> None:
        """Close the bar."""
        self.bar.close()


def _on_wait(message: str) -> None:
    click.echo(f"{message}…", err=True)


def _prepare_search(*, quiet: bool) -> None:
    """Build and keep the search index of the version just committed, in a child process.

    Why: a server started after an import then maps the kept index and
    answers its first search in seconds, instead of building it (15 s at a
    million services) while a person waits.  A child process, so that the
    import's memory and the index's are never held at once.  The import is
    already committed: a failure here only warns, the first server builds it.
    """
    if not quiet:
        click.echo("Préparation de l'index de recherche / preparing the search index…", err=True)
    done = subprocess.run(
        [sys.executable, "-m", "mapapp", "store", "prepare-index"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or ["?"])[-1]
        click.echo(
            f"Attention : index de recherche non préparé ({why}) ; le premier serveur le "
            f"construira / warning: search index not prepared; the first server will build it",
            err=True,
        )


def _summary(report: dict[str, Any]) -> None:
    from mapapp.ingest.report import summary_lines

    for line in summary_lines(report):
        click.echo(line)
    files = report.get("report_files") or []
    if files:
        click.echo("Rapport / report: " + " ; ".join(str(f) for f in files))
    if report.get("quarantine_file"):
        click.echo(
            f"Quarantaine / quarantine: {report['quarantine_file']} (corrigez les lignes puis "
            f"'mapapp ingest' ce fichier / fix the rows, then 'mapapp ingest' that file)"
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
@click.option(
    "--accept-degraded",
    is_flag=True,
    help="Apply updates that lower a record's location precision or empty a field it had "
    "(default: keep the old record and list the update in the report).",
)
@click.option(
    "--no-wait",
    is_flag=True,
    help="If another import is running on this store, stop at once instead of waiting.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option(
    "--progress",
    "show_progress",
    is_flag=True,
    help="Print progress lines on stderr even when it is not a terminal (logs, cron).",
)
@click.option(
    "--no-index",
    is_flag=True,
    help="Do not prepare the search index afterwards (the first server builds it).",
)
def ingest_command(
    sources: tuple[str, ...],
    fmt: str | None,
    mapping: str | None,
    dataset: str | None,
    report_path: Path | None,
    quarantine_path: Path | None,
    no_geocode: bool,
    prune: bool,
    accept_degraded: bool,
    no_wait: bool,
    quiet: bool,
    show_progress: bool,
    no_index: bool,
) -> None:
    """Import SOURCES (files, folders or URLs): the format is detected from the content."""
    from mapapp.ingest import ingest

    settings = Settings.from_env()
    bar = Progress(enabled=not quiet, force=show_progress)
    try:
        report = ingest(
            list(sources),
            settings=settings,
            fmt=fmt,
            mapping=mapping,
            dataset=dataset,
            geocode=not no_geocode,
            prune=prune,
            accept_degraded=accept_degraded,
            report_path=report_path,
            quarantine_path=quarantine_path,
            progress=bar,
            wait=not no_wait,
            on_wait=_on_wait,
        )
    finally:
        bar.close()
    if not no_index:
        _prepare_search(quiet=quiet)
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
@click.option(
    "--no-index",
    is_flag=True,
    help="Do not prepare the search index afterwards (the first server builds it).",
)
def fetch_command(
    what: str, fmt: str, no_geocode: bool, report_path: Path | None, quiet: bool, no_index: bool
) -> None:
    """Download the national data·inclusion open-data export and import it."""
    from mapapp.ingest import ingest
    from mapapp.sources.fetch import fetch_data_inclusion

    settings = Settings.from_env()
    click.echo("Downloading the data·inclusion export from data.gouv.fr...", err=True)
    folder = fetch_data_inclusion(settings.cache_dir / "downloads" / "data-inclusion", fmt=fmt)
    bar = Progress(enabled=not quiet)
    try:
        report = ingest(
            [folder],
            settings=settings,
            fmt="datainclusion",
            dataset="data-inclusion",
            geocode=not no_geocode,
            report_path=report_path,
            progress=bar,
            on_wait=_on_wait,
        )
    finally:
        bar.close()
    if not no_index:
        _prepare_search(quiet=quiet)
    _summary(report)
