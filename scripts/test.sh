#!/usr/bin/env bash
# Everything CI checks: lint, types, and the program under Pulumi's mocks.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/venv.sh dev
# The deployed software's own environments (hub images, BinderHub) for the behaviour tests.
bash scripts/behaviour_envs.sh "$(bash scripts/uv.sh)"

# The cloud SDKs are ~500 MB of Python that uv installs uncompiled: keep what the tests compile
# (in .venv and __pycache__/, both ignored by git) for the other worker and the next run, even
# where the environment says not to (PYTHONDONTWRITEBYTECODE, common in container images).
unset PYTHONDONTWRITEBYTECODE

echo "== ruff"
.venv/bin/ruff check . # (one command a line: `set -e` ignores a failure on the left of &&)
.venv/bin/ruff format --check .
# pyright checks on one core: it runs beside pytest, and its report follows pytest's.
pyright_log=$(mktemp)
.venv/bin/pyright > "$pyright_log" 2>&1 &
pyright=$!
trap 'kill "$pyright" 2>/dev/null || true; rm -f "$pyright_log"' EXIT
echo "== pytest"
tests=0
.venv/bin/python -m pytest -n 2 -q --durations=5 --ignore=tests/behaviour/test_launch.py "$@" || tests=$?
# The behaviour tests start every deployment's software once per process: one process, not two.
echo "== behaviour"
.venv/bin/python -m pytest -q --durations=3 tests/behaviour/test_launch.py "$@" || tests=$?
echo "== pyright"
types=0
wait "$pyright" || types=$?
cat "$pyright_log"
exit $((tests != 0 ? tests : types))
