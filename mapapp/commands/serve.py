"""``mapapp serve``: start the web app (``streamlit run streamlit_app.py``) with hardened options.

Why pass the options on the command line when ``.streamlit/config.toml`` (next
to the app script, which Streamlit reads wherever it is started from) has them:
flags win over every config file and environment variable, so a user's own
``~/.streamlit/config.toml`` cannot turn usage statistics or error details back
on.  :data:`HARDENED` holds the same values as the file (a test checks they
agree); :data:`FILE_ONLY` names the few that only the file can set.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click

from mapapp.settings import PROJECT_ROOT

__all__ = ["FILE_ONLY", "HARDENED", "app_script", "serve_command", "streamlit_command"]

#: Streamlit options always passed by ``mapapp serve`` (see .streamlit/config.toml).
HARDENED: dict[str, str] = {
    "browser.gatherUsageStats": "false",
    "server.headless": "true",
    "server.enableXsrfProtection": "true",
    "server.xsrfCookieSameSite": "strict",
    "server.enableCORS": "true",
    "server.maxUploadSize": "1",
    "server.enableStaticServing": "false",
    "server.enableAgentApi": "false",
    "server.runOnSave": "false",
    "server.fileWatcherType": "none",
    "client.showErrorDetails": "none",
    "client.showErrorLinks": "false",
    "client.toolbarMode": "viewer",
    "client.showSidebarNavigation": "false",
    # Not hardening but cost: Streamlit's default runs a full collection after
    # every rerun, which walked every live object of every session: under 50
    # sessions searching at once, 47 ms of the 57 ms of server CPU a search
    # cost.  Python's own generational collector still frees cycles; the
    # server's memory stayed the same (bench/bench_load.py, issue 14).
    "runner.postScriptGC": "false",
}

#: Options Streamlit cannot take on the command line (lists: an empty list given
#: as flags means "use the default").  They are set only in the config file that
#: sits next to the app script (.streamlit/config.toml, copied into the wheel
#: beside ``mapapp/ui/_entry/streamlit_app.py``); Streamlit reads that
#: script-level file wherever the command is started from.
FILE_ONLY: dict[str, object] = {"client.allowedOrigins": []}


def app_script() -> Path:
    """``streamlit_app.py`` of the source tree, else the copy inside the package."""
    source = PROJECT_ROOT / "streamlit_app.py"
    if source.is_file():
        return source
    return Path(__file__).resolve().parents[1] / "ui" / "_entry" / "streamlit_app.py"


def streamlit_command(*, host: str, port: int) -> list[str]:
    """The command line that runs the app.

    Examples
    --------
    >>> cmd = streamlit_command(host="127.0.0.1", port=8501)
    >>> cmd[1:4], "--browser.gatherUsageStats" in cmd
    (['-m', 'streamlit', 'run'], True)
    """
    cmd = [sys.executable, "-m", "streamlit", "run", str(app_script())]
    cmd += ["--server.address", host, "--server.port", str(port)]
    for option, value in HARDENED.items():
        cmd += [f"--{option}", value]
    return cmd


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True)
@click.option("--dry-run", is_flag=True, help="Print the command instead of running it.")
def serve_command(host: str, port: int, dry_run: bool) -> None:
    """Start the web app (French first; English switch in the page)."""
    cmd = streamlit_command(host=host, port=port)
    if dry_run:
        click.echo(" ".join(cmd))
        return
    click.echo(f"mapapp: http://{host}:{port}  (Ctrl+C to stop)", err=True)
    if os.name == "posix":
        # Become the Streamlit process: a stop signal reaches the server itself,
        # and no orphaned server can outlive this command.
        os.execv(cmd[0], cmd)
    try:  # pragma: no cover - Windows
        code = subprocess.call(cmd)
    except KeyboardInterrupt:  # pragma: no cover
        code = 0
    sys.exit(code)  # pragma: no cover
