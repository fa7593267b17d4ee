#!/usr/bin/env bash
# Prints the path of uv at the version pinned here, installing it on first use.
# A `uv` on PATH is used when it is that version; otherwise pip puts the PyPI release into
# .tools/uv-<version>/ (so a fresh machine needs only python3 and pip, and nothing is fetched
# from anywhere but PyPI). Bumping the pin installs the new release next to the old one.
set -euo pipefail
version=0.13.9
cd "$(dirname "$0")/.."

if found=$(command -v uv 2>/dev/null) && [ "$("$found" --version 2>/dev/null | cut -d' ' -f2)" = "$version" ]; then
  echo "$found"
  exit 0
fi
tools=$PWD/.tools/uv-$version
if [ ! -x "$tools/bin/uv" ]; then
  echo "Installing uv $version into .tools/ (once)" >&2
  mkdir -p .tools
  # A private directory moved into place when complete: two concurrent runs cannot see half a uv.
  partial=$(mktemp -d .tools/partial.XXXXXX)
  trap 'rm -rf "$partial"' EXIT
  # --target: pip's PEP 668 guard does not apply, so this works with a distribution's python3 too.
  PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 \
    python3 -m pip install --quiet --no-deps --target "$partial" "uv==$version" >&2
  [ -x "$tools/bin/uv" ] || mv "$partial" "$tools"
fi
echo "$tools/bin/uv"
