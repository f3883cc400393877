"""``docs/deployment.md`` works when followed literally, the way a new operator follows it.

Each check here comes from a step that failed in a trial of the document on a
fresh machine (issue 14's "done means"):

* the environment file is read by systemd (``EnvironmentFile=``) and by the
  shell of the manual import; systemd keeps an inline ``# comment`` as part of
  the value, so a path followed by a comment was a different path for the
  services than for the import;
* the import command line must load that file as the services do (``env
  $(cat file | xargs)`` ran ``#`` as a command);
* nginx accepts ``upstream`` only at the top level, never inside ``server``:
  the upstreams and the locations must be separate blocks; when an nginx
  binary is present (``MAPAPP_NGINX`` or ``nginx`` on the path) the assembled
  configuration is checked with ``nginx -t``;
* the unit files pass ``systemd-analyze verify`` where it exists.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC, re.S)


def _env_block() -> str:
    return next(b for b in _blocks("bash") if b.startswith("# /etc/mapapp/env"))


def _systemd_values(text: str) -> dict[str, str]:
    """Values as systemd's EnvironmentFile= reads them: a comment only at a line's start."""
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;" or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip()
    return values


def test_the_environment_file_means_the_same_to_systemd_and_to_the_shell(
    tmp_path: Path,
) -> None:
    env_file = tmp_path / "env"
    env_file.write_text(_env_block())
    shell = subprocess.run(
        ["sh", "-c", f'set -a; . "{env_file}"; env'],
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    sourced = dict(ln.split("=", 1) for ln in shell.splitlines() if ln.startswith("MAPAPP_"))
    by_systemd = _systemd_values(_env_block())
    assert by_systemd == sourced
    assert by_systemd["MAPAPP_DATA_DIR"] == "/var/lib/mapapp"  # the folder the units may write


def test_the_manual_import_loads_the_environment_file_as_a_shell_does() -> None:
    text = DOC.replace("\\\n", " ")
    imports = [ln for ln in text.splitlines() if "sudo -u mapapp" in ln and "ingest" in ln]
    assert imports, "the document shows how to run an import"
    for line in imports:
        assert "xargs" not in line  # splits comments into words, which env runs
        assert ". /etc/mapapp/env" in line


def _nginx_site() -> str:
    """Section 2's site with section 3.3's upstreams and locations, as the text says."""
    site, *shared = _blocks("nginx")
    upstreams = [b for b in shared if "upstream" in b]
    locations = [b for b in shared if "location" in b]
    start = site.index("    location / {")
    end = site.rindex("}", 0, site.index("# Any other host name"))
    return "\n".join(upstreams) + "\n" + site[:start] + "\n".join(locations) + site[end:]


def test_nginx_upstreams_are_shown_apart_from_the_locations() -> None:
    shared = _blocks("nginx")[1:]
    for block in shared:
        assert not ("upstream" in block and "location" in block), block[:200]


def test_the_assembled_nginx_configuration_passes_nginx_t(tmp_path: Path) -> None:
    nginx = os.environ.get("MAPAPP_NGINX") or shutil.which("nginx")
    nginx = nginx or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if not nginx:
        if os.environ.get("CI"):  # tools/test.sh installs Debian's nginx-light
            pytest.fail("no nginx binary in CI: tools/test.sh should have installed nginx-light")
        pytest.skip("no nginx binary (install Debian's nginx-light or set MAPAPP_NGINX)")
    cert = ["-keyout", str(tmp_path / "privkey.pem"), "-out", str(tmp_path / "fullchain.pem")]
    openssl = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    subprocess.run(
        [*openssl, "-subj", "/CN=mapapp.example.org", *cert], check=True, capture_output=True
    )
    site = _nginx_site().replace("/etc/letsencrypt/live/mapapp.example.org/", f"{tmp_path}/")
    paths = " ".join(
        f"{kind}_temp_path {tmp_path};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\naccess_log {tmp_path}/access.log;\n{paths}\n{site}\n}}\n"
    )
    check = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(conf)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr


def test_every_server_block_keeps_no_access_log() -> None:
    site = _blocks("nginx")[0]
    servers = re.split(r"^server \{", site, flags=re.M)[1:]
    for server in servers:
        if "ssl_reject_handshake" in server:
            continue  # drops the connection before any request
        assert "access_log off;" in server, server[:120]


@pytest.mark.parametrize("name", ["mapapp-app@.service", "mapapp-api.service"])
def test_the_unit_files_verify(name: str, tmp_path: Path) -> None:
    unit = next(b for b in _blocks("ini") if f"/etc/systemd/system/{name}" in b)
    if "After=network-online.target" in unit:
        assert "Wants=network-online.target" in unit  # After= alone does not pull it in
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("no systemd-analyze on this machine")
    exe = tmp_path / "mapapp"  # the documented /opt/mapapp/.venv/bin/mapapp, stood in for
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    target = tmp_path / name.replace("@.", "@8501.")
    target.write_text(unit.replace("/opt/mapapp/.venv/bin/mapapp", str(exe)))
    verify = subprocess.run([analyze, "verify", str(target)], capture_output=True, text=True)
    assert verify.returncode == 0 and not verify.stderr.strip(), verify.stderr
