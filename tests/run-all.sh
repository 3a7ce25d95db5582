#!/usr/bin/env bash
# Installs everything the tests need on a fresh Debian machine (install.sh test), then runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash install.sh test
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m mypy
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
