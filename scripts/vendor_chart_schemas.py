"""Copy the pinned charts' values schemas and default values into the program.

    python3 scripts/vendor_chart_schemas.py [<chart cache>]

`binderhub:helmValues` is checked against each chart's `values.schema.json` at `pulumi up`,
before anything is created, so the program carries those files itself
(`components/values/charts/<chart>-<version>/`: `values.schema.json` and the chart's own
`values.yaml`, the defaults Helm merges the values over). They come from the chart archives
as `helm pull` saves them (the chart cache: `../shared/charts`, `$BINDERHUB_CHARTS_DIR`, or the
folder given), for every chart pinned in versions.py that ships a schema, and for the subcharts
packaged inside one (the binderhub chart's z2jh). Run it after changing a version in versions.py;
tests/test_helm_values.py fails while the copies differ from the pinned archives.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import tarfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from versions import CHARTS

ROOT_DIR = Path(__file__).resolve().parent.parent
DEST = ROOT_DIR / "components" / "values" / "charts"
FILES = ("values.schema.json", "values.yaml")


def default_cache() -> Path:
    """The chart cache the behaviour tests read too (`BINDERHUB_CHARTS_DIR`, else ../shared/charts)."""
    return Path(os.environ.get("BINDERHUB_CHARTS_DIR") or ROOT_DIR.parent / "shared" / "charts")


def archive_name(chart: str, version: str) -> str:
    """`<name>-<version>.tgz`, as `helm pull` names it (an OCI reference by its last segment)."""
    return f"{chart.rstrip('/').rsplit('/', 1)[-1]}-{version}.tgz"


def _chart_files(archive: tarfile.TarFile) -> dict[str, dict[str, bytes]]:
    """Chart folder inside the archive (`<chart>` or `<chart>/charts/<sub>`) -> its files we keep."""
    found: dict[str, dict[str, bytes]] = {}
    for member in archive.getmembers():
        folder, _, name = member.name.rpartition("/")
        if member.isfile() and (name in FILES or name == "Chart.yaml"):
            data = archive.extractfile(member)
            assert data is not None
            found.setdefault(folder, {})[name] = data.read()
    return found


def vendored_files(cache: Path) -> tuple[dict[str, bytes], list[str]]:
    """(files to vendor as `<chart>-<version>/<file>` -> content, pinned charts missing from `cache`).

    A chart folder is vendored when it holds a `values.schema.json`: Helm validates only those,
    and without one there is nothing to check an overlay against.
    """
    files: dict[str, bytes] = {}
    missing: list[str] = []
    for name, ref in CHARTS.items():
        path = cache / archive_name(ref.chart, ref.version)
        if not path.is_file():
            missing.append(f"{name} {ref.version}")
            continue
        with tarfile.open(path) as archive:
            for folder, contents in _chart_files(archive).items():
                if "values.schema.json" not in contents or "Chart.yaml" not in contents:
                    continue
                meta = yaml.safe_load(io.BytesIO(contents["Chart.yaml"]))
                is_top = "/" not in folder
                if is_top and (meta["name"], str(meta["version"])) != (name, ref.version):
                    raise SystemExit(f"{path} holds {meta['name']} {meta['version']}, not {name} {ref.version}")
                if not is_top and folder.rsplit("/", 2)[-2] != "charts":
                    continue  # only a chart's direct subcharts (`<chart>/charts/<sub>/`)
                for file in FILES:
                    if file in contents:
                        files[f"{meta['name']}-{meta['version']}/{file}"] = contents[file]
    return files, missing


def vendor(cache: Path, dest: Path = DEST) -> list[str]:
    """Write the files into `dest`; folders no pinned chart needs are removed when no chart was
    missing from the cache. Returns the folders written."""
    files, missing = vendored_files(cache)
    folders = sorted({path.split("/", 1)[0] for path in files})
    for relative, content in files.items():
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    if missing:
        print(f"not in {cache} (left as they are): {', '.join(missing)}", file=sys.stderr)
    elif dest.is_dir():
        for stale in sorted(p for p in dest.iterdir() if p.is_dir() and p.name not in folders):
            shutil.rmtree(stale)
            print(f"removed {stale.relative_to(ROOT_DIR)} (no pinned chart needs it)")
    return folders


if __name__ == "__main__":
    if len(sys.argv) > 2:
        raise SystemExit(__doc__)
    for folder in vendor(Path(sys.argv[1]) if len(sys.argv) == 2 else default_cache()):
        print(f"{DEST.relative_to(ROOT_DIR)}/{folder}")
