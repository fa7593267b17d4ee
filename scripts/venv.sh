#!/usr/bin/env bash
# Brings .venv in step with uv.lock (pyproject.toml's pins, the whole tree with hashes).
#   scripts/venv.sh        the program's packages: what `make up` and `pulumi up` need
#   scripts/venv.sh dev    plus the `dev` group (lint, types, tests): what `make test` needs
# Nothing is installed when .venv already matches, so either order of the two is cheap.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-runtime}" in
  runtime) groups=(--no-dev) ;;
  dev) groups=(--group dev) ;;
  *) echo "usage: venv.sh [runtime|dev]" >&2; exit 2 ;;
esac
uv=$(bash scripts/uv.sh)
# The environment Pulumi.yaml names (`virtualenv: .venv`), as Pulumi's uv toolchain sets it too.
export UV_PROJECT_ENVIRONMENT=$PWD/.venv
# --locked: install uv.lock as it is; a lock that no longer matches pyproject.toml is an error
# (checked offline), never silently re-resolved.
# --inexact: keep what the lock does not list, so `make up` after `make test` leaves the dev group
# (and anything added by hand) alone; a fresh clone gets exactly the lock either way.
# Python comes from the machine (README prerequisites), never downloaded.
UV_PYTHON_DOWNLOADS=${UV_PYTHON_DOWNLOADS:-never} "$uv" sync --locked --inexact "${groups[@]}"
