"""Fetch the values schemas of the pinned charts, in the layout the tests read.

    python3 scripts/fetch_chart_schemas.py <dest>      (needs `helm` on PATH)

CI on GitHub uses it (BINDERHUB_CHART_SCHEMAS=<dest>); after changing a version in
versions.py, run it to refresh the schemas the tests validate against.
"""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from versions import BINDERHUB_BUNDLED_JUPYTERHUB, CHARTS

# Chart (versions.py name) -> folder under the schemas directory.
SCHEMA_FOLDERS = {
    "binderhub": "binderhub",
    "binderhub-service": "binderhub-service",
    "jupyterhub": f"jupyterhub-{CHARTS['jupyterhub'].version}",
    "cert-manager": f"cert-manager-{CHARTS['cert-manager'].version}",
    "nginx-ingress": f"nginx-ingress-{CHARTS['nginx-ingress'].version}",
}
BUNDLED_JUPYTERHUB_FOLDER = f"binderhub/jupyterhub-subchart-{BINDERHUB_BUNDLED_JUPYTERHUB}"
FILES = ("values.yaml", "values.schema.json")


def _copy_values(chart_dir: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        if (chart_dir / name).exists():
            shutil.copy(chart_dir / name, dest / name)


def fetch(dest: Path) -> None:
    for name, folder in SCHEMA_FOLDERS.items():
        ref = CHARTS[name]
        with tempfile.TemporaryDirectory() as tmp:
            command = ["helm", "pull", ref.chart, "--version", ref.version, "--untar", "--untardir", tmp]
            if ref.repo:
                command += ["--repo", ref.repo]
            subprocess.run(command, check=True)
            chart_dir = Path(tmp) / ref.chart.rsplit("/", 1)[-1]
            _copy_values(chart_dir, dest / folder)
            if name == "binderhub":
                bundled = chart_dir / "charts" / "jupyterhub"
                version = yaml.safe_load((bundled / "Chart.yaml").read_text())["version"]
                if version != BINDERHUB_BUNDLED_JUPYTERHUB:
                    raise SystemExit(
                        f"binderhub {ref.version} bundles jupyterhub {version}: set BINDERHUB_BUNDLED_JUPYTERHUB "
                        f"in versions.py to {version!r}"
                    )
                _copy_values(bundled, dest / BUNDLED_JUPYTERHUB_FOLDER)
        print(f"{name} {ref.version} -> {dest / folder}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    fetch(Path(sys.argv[1]))
