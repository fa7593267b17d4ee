#!/usr/bin/env bash
# Everything CI checks: lint, types, and the program under Pulumi's mocks.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh requirements-dev.txt
echo "== ruff"; .venv/bin/ruff check . && .venv/bin/ruff format --check .
echo "== pyright"; .venv/bin/pyright
echo "== pytest"; .venv/bin/python -m pytest -n 2 -q --durations=5 "$@"
