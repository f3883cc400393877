"""``mapapp reserved import|export|history|add-creche``: the register from the command line.

Why a command line next to the web pages: a consortium starts from its
spreadsheet (``import``), sends a copy to its partners (``export``), answers
"who changed this, when?" (``history``), and adds the company crèches no
source lists (``add-creche``).  These commands are for whoever runs the
server: they act as the administrator, and the history names the file or
the command.
"""

from __future__ import annotations

from pathlib import Path

import click

from mapapp.settings import Settings

__all__ = ["reserved_command"]


@click.group("reserved")
def reserved_command() -> None:
    """Register of reserved crèche places: import, export, history, add a crèche."""


@reserved_command.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--quarantine",
    "quarantine_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the rows set aside (default: next to the store).",
)
def import_command(file: Path, quarantine_path: Path | None) -> None:
    """Load FILE (CSV): every row loaded or set aside with its reason."""
    from datetime import UTC, datetime

    from mapapp.reserved.creches import creches
    from mapapp.reserved.csvio import import_file

    settings = Settings.from_env()
    known = set(creches(settings).index)
    result = import_file(settings, file, known=known)
    click.echo(
        f"Lignes lues / rows read: {result.read}; chargées / loaded: {result.loaded} "
        f"(dont inchangées / of which unchanged: {result.unchanged}); "
        f"mises de côté / quarantined: {len(result.quarantined)}"
    )
    if result.quarantined:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = quarantine_path or settings.data_dir / f"reserved-quarantine-{stamp}.csv"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(result.quarantine_csv(), encoding="utf-8")
        counts: dict[str, int] = {}
        for row in result.quarantined:
            counts[row["reason_fr"].split(" : ")[0]] = (
                counts.get(row["reason_fr"].split(" : ")[0], 0) + 1
            )
        for reason, n in sorted(counts.items()):
            click.echo(f"  {n} × {reason}")
        click.echo(f"Lignes mises de côté / quarantined rows: {target}")


@reserved_command.command("export")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: standard output).",
)
@click.option(
    "--public",
    is_flag=True,
    help="Only what the public sees (no partner): the entries valid today.",
)
def export_command(output: Path | None, public: bool) -> None:
    """Write the register as CSV (names the partners unless --public)."""
    from mapapp.csv_export import frame_csv
    from mapapp.reserved import free_places
    from mapapp.reserved.creches import creches
    from mapapp.reserved.csvio import export_text

    settings = Settings.from_env()
    if public:
        frame = free_places(settings)
        for name in ("confirmed_at", "valid_from", "valid_until"):
            frame[name] = frame[name].map(lambda v: "" if v is None or v != v else v.isoformat())
        text = frame_csv(frame)
    else:
        table = creches(settings)
        names = {
            str(i): (str(r["nom"]), str(r["commune"]))
            for i, r in table[["nom", "commune"]].iterrows()
        }
        text = export_text(settings, names)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"Écrit / written: {output}", err=True)


@reserved_command.command("history")
@click.argument("actor_id", required=False)
@click.option("--limit", default=50, show_default=True, help="Newest rows to show.")
def history_command(actor_id: str | None, limit: int) -> None:
    """Who changed what, when (newest first), for one crèche or all."""
    from mapapp.reserved.register import history

    rows = history(Settings.from_env(), actor_id)[: max(limit, 0)]
    if not rows:
        click.echo("Aucun changement / no change yet.")
    for h in rows:
        old = "—" if h["old_value"] is None else h["old_value"]
        new = "—" if h["new_value"] is None else h["new_value"]
        when = h["at"].strftime("%Y-%m-%d %H:%M:%S")
        click.echo(f"{when}  {h['changed_by']}  {h['actor_id']}  {h['field']}: {old} → {new}")


@reserved_command.command("add-creche")
@click.argument("name")
@click.option(
    "--commune", required=True, help="Commune: name (and département), postcode or INSEE code."
)
@click.option("--address", default="", help="Street address (shown like any crèche's).")
@click.option("--postcode", default="", help="Postcode.")
@click.option("--lat", type=float, help="Latitude (degrees), with --lon.")
@click.option("--lon", type=float, help="Longitude (degrees), with --lat.")
@click.option("--phone", default="", help="Phone to call the crèche.")
def add_creche_command(
    name: str,
    commune: str,
    address: str,
    postcode: str,
    lat: float | None,
    lon: float | None,
    phone: str,
) -> None:
    """Add a crèche no source lists (a company crèche), so it can hold reserved places."""
    from mapapp.reserved.manual import add_creche

    if (lat is None) != (lon is None):
        raise click.UsageError("--lat et --lon vont ensemble / --lat and --lon go together")
    added = add_creche(
        Settings.from_env(),
        name,
        commune,
        address=address,
        postcode=postcode,
        lat=lat,
        lon=lon,
        phone=phone,
    )
    where = "adresse / address" if added.precision == "address" else "commune"
    click.echo(
        f"Crèche ajoutée / added: {added.actor_id} — {added.commune} ({added.code_insee}); "
        f"placée à / placed at: {where}"
    )
