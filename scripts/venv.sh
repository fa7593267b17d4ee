#!/usr/bin/env bash
# Create or refresh .venv from a requirements file; skipped when nothing changed.
set -euo pipefail
requirements=${1:-requirements.txt}
cd "$(dirname "$0")/.."
stamp=".venv/.installed-$(basename "$requirements")"
wanted=$(cat "$requirements" requirements.txt | sha256sum | cut -d' ' -f1)
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
  exit 0
fi
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
echo "$wanted" > "$stamp"
# A file that includes the runtime set installed it too: `make up` after `make test` installs nothing.
if [ "$requirements" != requirements.txt ] && grep -qx -- '-r requirements.txt' "$requirements"; then
  cat requirements.txt requirements.txt | sha256sum | cut -d' ' -f1 > .venv/.installed-requirements.txt
fi
