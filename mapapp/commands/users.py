"""``mapapp users add|list``: the accounts that may change the register of reserved places.

Why the password is never an argument: a command line is visible to every
user of the machine (``ps``) and kept in the shell's history.  It is read
from a hidden prompt (typed twice), or from standard input with
``--password-stdin`` for scripts (``pass show x | mapapp users add ...``).
"""

from __future__ import annotations

import sys

import click

from mapapp.settings import Settings

__all__ = ["users_command"]


@click.group("users")
def users_command() -> None:
    """Manage the coordinators' accounts (register of reserved crèche places)."""


@users_command.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(["admin", "coordinator"]),
    required=True,
    help="admin: every crèche; coordinator: the crèches of her scopes.",
)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    help="dep:93 (a département) or creche:<actor id>; repeat for several.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--replace", is_flag=True, help="Reset an existing account (ends its sessions).")
def add_command(
    name: str, role: str, scopes: tuple[str, ...], password_stdin: bool, replace: bool
) -> None:
    """Create the account NAME (the password is asked, never given as an argument)."""
    from mapapp.reserved.accounts import Role, add_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(
            "Mot de passe / password", hide_input=True, confirmation_prompt=True, err=True
        )
    user = add_user(Settings.from_env(), name, password, Role(role), list(scopes), replace=replace)
    where = ", ".join(user.scopes) if user.scopes else "tout / everything"
    click.echo(f"Compte créé / account created: {user.name} ({user.role.value}; {where})")


@users_command.command("list")
def list_command() -> None:
    """List the accounts, their role and scopes (never a password)."""
    from mapapp.reserved.accounts import list_users

    users = list_users(Settings.from_env())
    if not users:
        click.echo("Aucun compte / no account (mapapp users add NAME --role ...).")
    for user in users:
        click.echo(f"{user.name}\t{user.role.value}\t{' '.join(user.scopes) or '*'}")
