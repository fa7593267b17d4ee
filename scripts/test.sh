#!/usr/bin/env bash
# Everything CI checks: lint, types, and the program under Pulumi's mocks.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh dev
# The deployed software's own environments (hub images, BinderHub) for the behaviour tests.
bash scripts/behaviour_envs.sh "$(bash scripts/uv.sh)"
echo "== ruff"; .venv/bin/ruff check . && .venv/bin/ruff format --check .
echo "== pyright"; .venv/bin/pyright
echo "== pytest"; # loadgroup: the behaviour tests share one worker, which starts each deployment's software once.
.venv/bin/python -m pytest -n 2 --dist loadgroup -q --durations=5 "$@"
