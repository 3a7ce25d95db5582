#!/usr/bin/env bash
# Makes the lock again from pyproject.toml: requirements-test.txt (everything, the tests' tools included), then
# requirements.txt (what acd serve needs) within it, so that both name the same versions. Pins already in
# the lock stay unless pyproject.toml no longer allows them; pass --upgrade, or --upgrade-package NAME, to move.
# Needs the test environment (bash install.sh test): pip-compile is one of its locked tools.
set -euo pipefail
cd "$(dirname "$0")"
compile=(.venv/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras --build-deps-for editable
         --no-emit-index-url --no-emit-find-links)
"${compile[@]}" "$@" --extra test -o requirements-test.txt pyproject.toml
"${compile[@]}" -c requirements-test.txt -o requirements.txt pyproject.toml
echo "requirements.txt, requirements-test.txt: locked again; bash install.sh test installs it, and the tests check it against pyproject.toml"
