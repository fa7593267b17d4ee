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
# Three runs share the two cores, each printed in turn when done: pyright, the behaviour tests
# (one process: it starts every deployment's software once per process) and the mock suite
# (two xdist workers). Any failure fails the command; the test runners' exit codes come first.
logs=$(mktemp -d)
.venv/bin/pyright > "$logs/pyright" 2>&1 &
pyright=$!
.venv/bin/python -m pytest -q --durations=3 tests/behaviour/test_launch.py "$@" > "$logs/behaviour" 2>&1 &
behaviour=$!
trap 'kill "$pyright" "$behaviour" 2>/dev/null || true; rm -rf "$logs"' EXIT
echo "== pytest"
tests=0
.venv/bin/python -m pytest -n 2 -q --durations=5 --ignore=tests/behaviour/test_launch.py "$@" || tests=$?
echo "== behaviour"
behaviour_tests=0
wait "$behaviour" || behaviour_tests=$?
cat "$logs/behaviour"
echo "== pyright"
types=0
wait "$pyright" || types=$?
cat "$logs/pyright"
for code in "$tests" "$behaviour_tests" "$types"; do
  if [ "$code" != 0 ]; then exit "$code"; fi
done
