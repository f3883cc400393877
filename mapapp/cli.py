"""The ``mapapp`` command: ``mapapp search|ingest|coverage|serve ...``.

Why one entry point with lazily imported sub-commands: ``mapapp --help``
stays instant (under 0.3 s, tested), and each capability keeps its command
next to its code in :mod:`mapapp.commands`.  Listing the commands imports
none of them: their one-line help is written here (:data:`_HELP`), and a
command module is imported only when that command runs or shows its own
``--help``.  Every :class:`~mapapp.errors.MapappError` is shown as a
one-line message with exit code 2, never as a traceback.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from typing import Any

import click

from mapapp import __version__
from mapapp.errors import AmbiguousPlaceError, MapappError

__all__ = ["cli", "main"]

#: command name -> "module:attribute"; modules that do not exist yet are skipped.
_COMMANDS = {
    "search": "mapapp.commands.search:search_command",
    "ingest": "mapapp.commands.ingest:ingest_command",
    "fetch": "mapapp.commands.ingest:fetch_command",
    "coverage": "mapapp.commands.coverage:coverage_command",
    "serve": "mapapp.commands.serve:serve_command",
    "plan": "mapapp.commands.plan:plan_command",
    "export": "mapapp.commands.export:export_command",
    "store": "mapapp.commands.store:store_command",
    "duplicates": "mapapp.commands.duplicates:duplicates_command",
    "api": "mapapp.commands.web:api_command",
    "users": "mapapp.commands.users:users_command",
    "reserved": "mapapp.commands.reserved:reserved_command",
}

#: One-line help of each command, shown by ``mapapp --help`` without importing it.
_HELP = {
    "search": "Services les plus proches / nearest services",
    "ingest": "Importer des fichiers / import files, folders, URLs",
    "fetch": "Télécharger et importer data·inclusion / fetch",
    "coverage": "Couverture commune par commune / coverage",
    "serve": "Lancer l'application web / start the web app",
    "plan": "Un plan pour plusieurs besoins / a plan for needs",
    "export": "Exporter les fiches / export the records",
    "store": "Gérer la base / look after the store",
    "duplicates": "Les doublons expliqués / duplicate clusters",
    "api": "Lancer l'API REST / start the REST API",
    "users": "Gérer les comptes / manage accounts",
    "reserved": "Places réservées en crèche / reserved places",
}


def _exists(name: str) -> bool:
    """Whether the command's module is installed (found without importing it)."""
    module_name = _COMMANDS[name].split(":")[0]
    try:
        return importlib.util.find_spec(module_name) is not None
    except ModuleNotFoundError:
        return False


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in _COMMANDS if _exists(name)]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, _HELP.get(name, "")) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._load(cmd_name)

    @staticmethod
    def _load(name: str) -> click.Command | None:
        target = _COMMANDS.get(name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None
            raise
        command = getattr(module, attr, None)
        return command if isinstance(command, click.Command) else None


@click.group(cls=_LazyGroup)
@click.version_option(__version__, prog_name="mapapp")
def cli() -> None:
    """mapapp: the actors who help people back to work, by obstacle."""


def main(argv: list[str] | None = None) -> Any:
    """Run the CLI, turning mapapp errors into clear messages (exit code 2)."""
    try:
        return cli.main(args=argv, prog_name="mapapp", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except AmbiguousPlaceError as exc:
        click.echo(f"Error: {exc}", err=True)
        for code, label in exc.choices[:20]:
            click.echo(f"  {label}  [{code}]", err=True)
        sys.exit(2)
    except MapappError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    except Exception as exc:  # a bug: say so plainly, details only on request
        if os.environ.get("MAPAPP_DEBUG"):
            raise
        click.echo(
            f"Unexpected error ({type(exc).__name__}: {exc}). "
            "Rerun with MAPAPP_DEBUG=1 for details and report it.",
            err=True,
        )
        sys.exit(3)
