#!/usr/bin/env bash
# Install what the tests need, then run every check CI runs.
# Usage: bash tools/test.sh            (uses the active virtualenv, else creates .venv)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${VIRTUAL_ENV:-}" ]; then
  [ -d .venv ] || python3 -m venv .venv
  # shellcheck disable=SC1091
  . .venv/bin/activate
fi

echo "== Python packages"
python -m pip install --quiet --upgrade pip
python -m pip install --quiet -e ".[test]"

echo "== Debian tools the tests use (Chromium, pdftotext/pdftoppm, zbarimg, nginx -t)"
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v pdftotext >/dev/null || missing+=(poppler-utils)
command -v zbarimg >/dev/null || missing+=(zbar-tools)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = "0" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  elif command -v sudo >/dev/null; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "Missing Debian packages that cannot be installed here: ${missing[*]}." >&2
  fi
fi

echo "== PostgreSQL + PostGIS for the store tests (throwaway cluster, port 55432)"
if pg_env="$(bash tools/pg.sh start)"; then
  eval "$pg_env"
  trap 'bash tools/pg.sh stop' EXIT
else
  echo "No PostgreSQL server: the PostGIS tests will be skipped (and fail where CI is set)." >&2
fi

export MAPAPP_REALDATA="${MAPAPP_REALDATA:-$(cd .. && pwd)/shared/realdata}"

echo "== ruff"
ruff check .
ruff format --check .
echo "== mypy"
mypy
echo "== pytest"
python -m pytest "$@"
