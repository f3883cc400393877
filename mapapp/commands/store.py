"""``mapapp store status`` and ``mapapp store rollback``: the generations of the embedded store.

Why: every import writes a new generation of the store and keeps the
previous ones (see :mod:`mapapp.store.parquet`).  When an import turns out
wrong (the wrong file, a bad export), ``mapapp store rollback`` makes the
previous generation current again in one atomic step; ``status`` shows what
is kept and whether an import is running.
"""

from __future__ import annotations

import click

from mapapp.errors import StoreError
from mapapp.settings import Settings

__all__ = ["store_command"]


def _embedded(settings: Settings) -> object:
    from mapapp.store import open_store

    store = open_store(settings)
    if not hasattr(store, "generations"):
        raise StoreError(
            "ce store n'a pas de générations (PostGIS : utilisez ses sauvegardes) / "
            "this store keeps no generations (PostGIS: use its backups)"
        )
    return store


@click.group("store")
def store_command() -> None:
    """Inspect the store's generations, or go back to the previous import."""


@store_command.command("status")
def status_command() -> None:
    """List the kept generations (newest first) and the running import, if any."""
    from mapapp.store.parquet import ParquetStore

    settings = Settings.from_env()
    store = _embedded(settings)
    assert isinstance(store, ParquetStore)
    click.echo(f"Store : {store.data_dir}")
    gens = store.generations()
    if not gens:
        click.echo("Vide (aucun import) / empty (no import yet).")
    for gen in gens:
        info = gen.summary()
        mark = "*" if gen.current else " "
        files = ", ".join(info.get("inputs") or [])
        when = info.get("finished") or ""
        click.echo(f"{mark} {gen.name}  {info.get('total', '?')} actors  {when}  {files}".rstrip())
    holder = store.holder()
    if holder:
        click.echo(store.busy_message())


@store_command.command("rollback")
@click.option("--to", "target", help="The generation to make current (default: the previous one).")
@click.option("--no-wait", is_flag=True, help="Stop at once if an import is running.")
def rollback_command(target: str | None, no_wait: bool) -> None:
    """Make the previous generation (the store before the last import) current again."""
    from mapapp.store.parquet import ParquetStore

    settings = Settings.from_env()
    store = _embedded(settings)
    assert isinstance(store, ParquetStore)
    with store.writer(wait=not no_wait, on_wait=lambda m: click.echo(m + "…", err=True)):
        before = store.stamp()
        gen = store.rollback(target)
    click.echo(
        f"Génération courante / current generation: {gen.name} (était / was {before}). "
        f"'mapapp store rollback --to {before}' annule ceci / undoes this."
    )


@store_command.command("prepare-index")
def prepare_index_command() -> None:
    """Build and keep the search index of the current version (``mapapp ingest`` does it).

    A server started afterwards maps the kept index and answers its first
    search in seconds instead of building it.
    """
    from mapapp.catalog import warm_search_cache

    warm_search_cache(Settings.from_env())
    click.echo("Index de recherche prêt / search index ready.")
