#!/usr/bin/env bash
# The behaviour tests run the software our charts deploy, each in its own environment with the
# exact packages its image freezes (tests/behaviour/requirements/*.txt, hashed, compiled from the
# lists in the chart cache). One venv per image under .venv-behaviour/, rebuilt only when its lock
# file (or, for BinderHub, its source archive) changes.
# Usage: scripts/behaviour_envs.sh <uv executable>
set -euo pipefail
uv=${1:?usage: behaviour_envs.sh <uv>}
cd "$(dirname "$0")/.."
charts=${BINDERHUB_CHARTS_DIR:-../shared/charts}
locks=tests/behaviour/requirements
binderhub_source=$(ls "$charts"/binderhub-python-*.tar.gz 2>/dev/null | head -n 1 || true)
[ -n "$binderhub_source" ] || { echo "behaviour_envs: no binderhub-python-*.tar.gz in $charts (set BINDERHUB_CHARTS_DIR)" >&2; exit 1; }

for lock in "$locks"/*.txt; do
  name=$(basename "$lock" .txt)
  venv=.venv-behaviour/$name
  extra=""
  [ "$name" = binderhub ] && extra=$binderhub_source
  wanted=$(cat "$lock" ${extra:+"$extra"} | sha256sum | cut -d' ' -f1)
  if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/.installed" 2>/dev/null)" = "$wanted" ]; then
    continue
  fi
  rm -rf "$venv"
  "$uv" venv --quiet --python "$(command -v python3)" "$venv"
  VIRTUAL_ENV=$PWD/$venv "$uv" pip install --quiet --require-hashes --no-deps -r "$lock"
  if [ -n "$extra" ]; then
    # BinderHub at the chart's commit is not on PyPI: its package directory goes on the path.
    mkdir -p "$venv/src"
    tar -xzf "$extra" -C "$venv/src"
    site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    echo "$PWD/$venv/src" > "$site/binderhub-source.pth"
  fi
  echo "$wanted" > "$venv/.installed"
done
