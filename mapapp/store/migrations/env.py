"""Alembic environment of the PostGIS store: runs on the connection it is given.

:func:`mapapp.store.postgis.migrate` passes an open SQLAlchemy connection in
``config.attributes["connection"]``; ``alembic -x url=postgresql+psycopg://...``
from the command line works too.  Imported outside Alembic (a doctest
collector, an IDE), it does nothing.
"""

from __future__ import annotations

from typing import Any

from alembic import context


def _run(connection: Any) -> None:
    context.configure(connection=connection, version_table="mapapp_alembic_version")
    with context.begin_transaction():
        context.run_migrations()


def run_migrations(config: Any) -> None:
    """Upgrade on ``config.attributes["connection"]``, else on the ``url`` given with ``-x``."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from sqlalchemy import create_engine

    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    with create_engine(str(url)).connect() as conn:
        _run(conn)


_config = getattr(context, "config", None)  # set only while Alembic runs this file
if _config is not None:
    run_migrations(_config)
