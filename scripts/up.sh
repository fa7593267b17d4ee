#!/usr/bin/env bash
# `make up|preview|destroy|secret|smoke`: bash scripts/up.sh STACK ACTION [KEY]. The checks and the
# Pulumi commands are in scripts/up.py; this entry only makes sure that without the Pulumi CLI
# nothing runs and nothing is installed (README), and finds the python3 up.py needs (stdlib only).
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "error: $*" >&2; exit 1; }
command -v pulumi >/dev/null 2>&1 || fail "the Pulumi CLI is not installed or not on PATH.
  Install it (https://www.pulumi.com/docs/install/), then run 'make up' again."
command -v python3 >/dev/null 2>&1 || fail "python3 (3.11 or newer) is not on PATH (README: Prerequisites)."
# "$@": STACK and KEY stay single arguments whatever they contain; up.py checks them.
exec python3 scripts/up.py "$@"
