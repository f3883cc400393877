"""``mapapp api``: serve the REST API with uvicorn, without access log.

Why no access log: a request's query string holds a person's place and
needs (safety rule 2); the app also filters uvicorn's access records in case
someone turns it on.  With ``--workers N`` uvicorn starts N processes, each
building its own index from the store and picking up new imports by itself.
"""

from __future__ import annotations

import click

__all__ = ["api_command"]


@click.command("api")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes (about one per core).",
)
@click.option(
    "--proxy-headers/--no-proxy-headers",
    default=False,
    show_default=True,
    help="Trust X-Forwarded-For from 127.0.0.1 (behind a local reverse proxy): "
    "the rate limit then counts each client, not the proxy.",
)
def api_command(host: str, port: int, workers: int, proxy_headers: bool) -> None:
    """Serve the REST API (OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs)."""
    import uvicorn

    from mapapp.settings import Settings

    Settings.from_env()  # a clear error for a bad setting, before any worker starts
    click.echo(f"mapapp API on http://{host}:{port}/api/v1/docs ({workers} worker(s))", err=True)
    uvicorn.run(
        "mapapp.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        proxy_headers=proxy_headers,
        forwarded_allow_ips="127.0.0.1" if proxy_headers else None,
        server_header=False,
        log_level="warning",
        # The C parser and event loop, named so that a missing one is an error
        # rather than a silent fall-back to the pure-Python ones (several times
        # the CPU per request; both are dependencies of mapapp).
        http="httptools",
        loop="uvloop" if _has_uvloop() else "asyncio",
        # A worker building the index of a new import is busy for seconds on a
        # loaded machine: do not take it for hung and kill it (default 5 s).
        timeout_worker_healthcheck=120,
    )


def _has_uvloop() -> bool:
    """uvloop is a dependency except on Windows, where it does not exist."""
    import importlib.util

    return importlib.util.find_spec("uvloop") is not None
