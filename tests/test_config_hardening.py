"""The shipped ``.streamlit/config.toml`` is hardened, and Streamlit reads it as written.

Why two levels: a typo in an option name (``enableXSRFProtection``) is
silently ignored by Streamlit, leaving the default in force.  So the file is
checked as TOML *and* through Streamlit's own parser in a clean subprocess
(fresh ``HOME``, no ``STREAMLIT_*`` variables), whose effective values are
what a deployment gets.  ``docs/deployment.md`` explains each setting.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / ".streamlit" / "config.toml"

#: option -> predicate on its effective value, and why.
REQUIRED: dict[str, tuple[Any, str]] = {
    "server.enableXsrfProtection": (lambda v: v is True, "XSRF protection on"),
    "server.enableCORS": (lambda v: v is True, "cross-origin requests refused"),
    "server.xsrfCookieSameSite": (
        lambda v: v in {"lax", "strict"},
        "XSRF cookie not sent cross-site",
    ),
    "server.enableStaticServing": (lambda v: v is False, "no static folder served"),
    "server.maxUploadSize": (lambda v: 0 < v <= 10, "small upload limit (MB)"),
    "server.enableAgentApi": (lambda v: v is False, "no programmatic agent API"),
    "server.runOnSave": (lambda v: v is False, "no reload on file change"),
    "server.headless": (lambda v: v is True, "never opens a browser on the server"),
    "client.showErrorDetails": (lambda v: v == "none", "no exception details to users"),
    "client.toolbarMode": (lambda v: v in {"viewer", "minimal"}, "no developer menu"),
    "client.showErrorLinks": (lambda v: v is False, "no external help links on errors"),
    # Default: Streamlit Community Cloud origins (*.streamlit.app, where anyone
    # can host a page) may embed the app and drive it by postMessage.
    "client.allowedOrigins": (lambda v: v == [], "no other site may drive the app from a frame"),
    "browser.gatherUsageStats": (lambda v: v is False, "no usage statistics sent"),
    "global.developmentMode": (lambda v: v is False, "production mode"),
}

#: Options the issue names: they must be written in the file, not left to a
#: default that a Streamlit upgrade may change.
EXPLICIT = frozenset(
    {
        "server.enableXsrfProtection",
        "server.enableStaticServing",
        "server.maxUploadSize",
        "client.showErrorDetails",
        "client.toolbarMode",
        "browser.gatherUsageStats",
    }
)


def _effective_options() -> dict[str, Any]:
    """Options as Streamlit parses them from the project folder, in isolation."""
    code = (
        "import json, logging\n"
        "logging.disable(logging.CRITICAL)\n"
        "from streamlit import config\n"
        "opts = config.get_config_options(force_reparse=True)\n"
        "print(json.dumps({k: o.value for k, o in opts.items()}, default=str))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    env["HOME"] = str(ROOT / ".pytest_cache" / "empty-home")  # no personal config
    Path(env["HOME"]).mkdir(parents=True, exist_ok=True)
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    assert CONFIG.is_file(), f"{CONFIG} is missing: the hardened configuration must ship"
    with CONFIG.open("rb") as fh:
        return tomllib.load(fh)


@pytest.fixture(scope="module")
def effective() -> dict[str, Any]:
    return _effective_options()


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def test_every_option_in_the_file_is_a_real_streamlit_option(
    raw: dict[str, Any], effective: dict[str, Any]
) -> None:
    unknown = sorted(set(_flatten(raw)) - set(effective))
    assert not unknown, f"Streamlit ignores these unknown options (typos?): {unknown}"


@pytest.mark.parametrize("option", sorted(REQUIRED))
def test_hardened_option(option: str, raw: dict[str, Any], effective: dict[str, Any]) -> None:
    check, why = REQUIRED[option]
    section, name = option.split(".", 1)
    if option in EXPLICIT:
        assert name in raw.get(section, {}), f"{option} must be set explicitly in {CONFIG} ({why})"
    # Effective as Streamlit reads it (file, then defaults).
    value = effective[option]
    assert check(value), f"{option} = {value!r}: expected {why}"


def test_no_secret_in_the_shipped_config(raw: dict[str, Any]) -> None:
    # A cookie secret in a public repository signs every deployment's cookies alike.
    assert "cookieSecret" not in raw.get("server", {}), "never ship server.cookieSecret"
    flat = _flatten(raw)
    for name in ("server.sslKeyFile", "server.sslCertFile"):
        assert name not in flat, f"{name}: terminate TLS at the reverse proxy (docs/deployment.md)"


def test_cross_site_cookie_is_not_allowed(raw: dict[str, Any]) -> None:
    assert raw.get("server", {}).get("xsrfCookieSameSite", "lax") != "none"


def test_deployment_doc_explains_each_hardened_option() -> None:
    doc = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    missing = [opt for opt in REQUIRED if opt.split(".", 1)[1] not in doc]
    assert not missing, f"docs/deployment.md does not mention {missing}"
    for topic in ("Content-Security-Policy", "allowedHosts", "HTTPS", "proxy"):
        assert topic in doc, f"docs/deployment.md must cover {topic}"
