"""Fill the offline chart cache the behaviour tests read, from the pinned sources.

    python3 scripts/fill_chart_cache.py <dest>      (needs `helm` on PATH and the network)

The layout is that of ../shared/charts (BINDERHUB_CHARTS_DIR=<dest> points the tests at it):
- every chart in versions.py as `helm pull` saves it: `<name>-<version>.tgz`;
- `jupyterhub-hub-image-requirements-<z2jh>.txt`: what z2jh's hub image freezes, for the z2jh
  bundled in the binderhub chart and the one the service shape deploys;
- `binderhub-image-requirements-<sha8>.txt` and `binderhub-python-<sha8>.tar.gz`: BinderHub's image
  requirements and Python package (`binderhub/` at the archive's root) at BINDERHUB_COMMIT;
- `jupyterhub-grafana-dashboards-<sha8>.tar.gz`: the JupyterHub dashboards' jsonnet sources
  (`grafana-dashboards/dashboards/`, and its README) at GRAFANA_DASHBOARDS_COMMIT.
GitHub CI runs it; our own machines have ../shared/charts instead.
"""

import io
import subprocess
import sys
import tarfile
import urllib.request
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from versions import BINDERHUB_BUNDLED_JUPYTERHUB, BINDERHUB_COMMIT, CHARTS, GRAFANA_DASHBOARDS_COMMIT

Z2JH = "https://raw.githubusercontent.com/jupyterhub/zero-to-jupyterhub-k8s/{tag}/images/hub/requirements.txt"
BINDERHUB_REQUIREMENTS = (
    "https://raw.githubusercontent.com/jupyterhub/binderhub/{sha}/helm-chart/images/binderhub/requirements.txt"
)
BINDERHUB_ARCHIVE = "https://codeload.github.com/jupyterhub/binderhub/tar.gz/{sha}"
DASHBOARDS_ARCHIVE = "https://codeload.github.com/jupyterhub/grafana-dashboards/tar.gz/{sha}"

Fetch = Callable[[str], bytes]


def _download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:  # the fixed https URLs above
        return response.read()


def binderhub_package(archive: bytes) -> bytes:
    """The `binderhub/` package folder of a GitHub source archive, re-packed at the root."""
    out = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(archive)) as source, tarfile.open(fileobj=out, mode="w:gz") as packed:
        for member in source.getmembers():
            _, _, rest = member.name.partition("/")  # GitHub archives put all under <repo>-<sha>/
            if rest == "binderhub" or rest.startswith("binderhub/"):
                data = source.extractfile(member) if member.isfile() else None
                member.name = rest
                packed.addfile(member, data)
    return out.getvalue()


def dashboards_package(archive: bytes) -> bytes:
    """The dashboards' sources of a GitHub archive of jupyterhub/grafana-dashboards, re-packed
    under `grafana-dashboards/` (its README.md and dashboards/), as ../shared/charts holds them."""
    out = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(archive)) as source, tarfile.open(fileobj=out, mode="w:gz") as packed:
        for member in source.getmembers():
            _, _, rest = member.name.partition("/")
            if rest in ("README.md", "dashboards") or rest.startswith("dashboards/"):
                data = source.extractfile(member) if member.isfile() else None
                member.name = f"grafana-dashboards/{rest}"
                packed.addfile(member, data)
    return out.getvalue()


def fill(dest: Path, fetch: Fetch = _download) -> list[Path]:
    """Write every file of the cache into `dest`; the paths written, in order."""
    dest.mkdir(parents=True, exist_ok=True)
    for ref in CHARTS.values():
        command = ["helm", "pull", ref.chart, "--version", ref.version, "--destination", str(dest)]
        if ref.repo:
            command += ["--repo", ref.repo]
        subprocess.run(command, check=True)
    short = BINDERHUB_COMMIT[:8]
    files = {
        f"binderhub-image-requirements-{short}.txt": fetch(BINDERHUB_REQUIREMENTS.format(sha=BINDERHUB_COMMIT)),
        f"binderhub-python-{short}.tar.gz": binderhub_package(fetch(BINDERHUB_ARCHIVE.format(sha=BINDERHUB_COMMIT))),
        f"jupyterhub-grafana-dashboards-{GRAFANA_DASHBOARDS_COMMIT[:8]}.tar.gz": dashboards_package(
            fetch(DASHBOARDS_ARCHIVE.format(sha=GRAFANA_DASHBOARDS_COMMIT))
        ),
    }
    for z2jh in sorted({BINDERHUB_BUNDLED_JUPYTERHUB, CHARTS["jupyterhub"].version}):
        files[f"jupyterhub-hub-image-requirements-{z2jh}.txt"] = fetch(Z2JH.format(tag=z2jh))
    written = []
    for name, content in files.items():
        (dest / name).write_bytes(content)
        written.append(dest / name)
    return written


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    for path in fill(Path(sys.argv[1])):
        print(path)
