#!/usr/bin/env bash
# Everything CI checks: lint, types, and the program under Pulumi's mocks.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh dev
# A further environment (its own venv, from a hashed requirements file) is one more line here,
# given the same pinned uv: "$(bash scripts/uv.sh)".
echo "== ruff"; .venv/bin/ruff check . && .venv/bin/ruff format --check .
echo "== pyright"; .venv/bin/pyright
echo "== pytest"; .venv/bin/python -m pytest -n 2 -q --durations=5 "$@"
