"""Build the Grafana dashboards that binderhub:monitoring provisions, as JSON in the program.

    python scripts/build_dashboards.py --vendor <dir> [--cache <chart cache>]

JupyterHub's dashboards (components/monitoring/dashboards/jupyterhub/) are built from the pinned
jsonnet sources (`jupyterhub-grafana-dashboards-<commit>.tar.gz` in the chart cache, commit
`GRAFANA_DASHBOARDS_COMMIT` of jupyterhub/grafana-dashboards) with the `jsonnet` package from
PyPI (the dev group) and grafonnet as that commit vendors it: `--vendor` is the `vendor/`
folder of jupyterhub/grafana-dashboards at that commit (`git clone`, `git checkout <commit>`;
or `jb install` with its jsonnetfile.lock.json), which the tarball does not include. A
dashboard without a `uid` gets `jupyterhub-<name>`, so links to it survive a rebuild.

BinderHub's dashboard (dashboards/binderhub/binderhub.json) is written by `binderhub_dashboard()`
below from BinderHub's own metric names (binderhub/builder.py at the binderhub chart's commit)
and kube-state-metrics'; it needs neither jsonnet nor the vendor folder (`--binderhub-only`).

`dashboards/SOURCES.json` records what each file was built from (the sha256 of every source file
in the tarball, of the vendor folder, jsonnet's version) and each file's sha256;
tests/test_monitoring.py checks the shipped files against it and the record against the pinned
tarball's contents (however it was packed: GitHub CI fills its cache with
scripts/fill_chart_cache.py), and rebuilds BinderHub's dashboard.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from versions import GRAFANA_DASHBOARDS_COMMIT

ROOT_DIR = Path(__file__).resolve().parent.parent

DEST = ROOT_DIR / "components" / "monitoring" / "dashboards"
SOURCES = DEST / "SOURCES.json"
DATASOURCE = {"type": "prometheus", "uid": "${PROMETHEUS_DS}"}


def tarball_name(commit: str = GRAFANA_DASHBOARDS_COMMIT) -> str:
    """The chart cache's name for the dashboards' sources at `commit`."""
    return f"jupyterhub-grafana-dashboards-{commit[:8]}.tar.gz"


def default_cache() -> Path:
    """The chart cache the behaviour tests read too (`BINDERHUB_CHARTS_DIR`, else ../shared/charts)."""
    return Path(os.environ.get("BINDERHUB_CHARTS_DIR") or ROOT_DIR.parent / "shared" / "charts")


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def source_digests(tarball: Path) -> dict[str, str]:
    """sha256 of every file under the tarball's `dashboards/` (path below the top folder)."""
    digests: dict[str, str] = {}
    with tarfile.open(tarball) as archive:
        for member in archive.getmembers():
            _, _, rest = member.name.partition("/")
            if member.isfile() and rest.startswith("dashboards/"):
                data = archive.extractfile(member)
                assert data is not None
                digests[rest] = hashlib.sha256(data.read()).hexdigest()
    return dict(sorted(digests.items()))


def tree_digest(folder: Path) -> str:
    """sha256 over every file under `folder` (relative path and content, in path order; symbolic
    links as their targets' text): which vendor folder a build used."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix().encode()
        if path.is_symlink():
            digest.update(b"L" + relative + b"\0" + os.readlink(path).encode() + b"\0")
        elif path.is_file():
            digest.update(b"F" + relative + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def dump(document: Any) -> str:
    """The form every shipped dashboard is written in (stable across rebuilds)."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


# ------------------------------------------------------------------ JupyterHub's (jsonnet)


def build_jupyterhub(tarball: Path, vendor: Path) -> dict[str, str]:
    """Each `dashboards/<name>.jsonnet` of `tarball`, evaluated with `vendor` on the import path:
    name -> JSON text. Raises RuntimeError (jsonnet's message) when one fails to evaluate."""
    import _jsonnet  # the `jsonnet` package (dev group): only this script needs it

    built: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as scratch, tarfile.open(tarball) as archive:
        archive.extractall(scratch, filter="data")
        sources = sorted(Path(scratch).glob("*/dashboards/*.jsonnet"))
        if not sources:
            raise SystemExit(f"{tarball} holds no dashboards/*.jsonnet")
        for source in sources:
            document = json.loads(_jsonnet.evaluate_file(str(source), jpathdir=[str(vendor)]))
            document["uid"] = document.get("uid") or f"jupyterhub-{source.stem}"
            built[source.stem] = dump(document)
    return built


# ------------------------------------------------------------------ BinderHub's (Python)


def _panel(
    panel_id: int, title: str, queries: list[tuple[str, str]], grid: tuple[int, int], *, unit: str, description: str
) -> dict[str, Any]:
    """A time-series panel of `queries` ((PromQL, legend) pairs) at `grid` (x, y), 12 x 8."""
    return {
        "id": panel_id,
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "gridPos": {"x": grid[0], "y": grid[1], "w": 12, "h": 8},
        "fieldConfig": {"defaults": {"unit": unit, "min": 0}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "multi"}},
        "targets": [
            {"datasource": DATASOURCE, "expr": expr, "legendFormat": legend, "refId": chr(ord("A") + index)}
            for index, (expr, legend) in enumerate(queries)
        ],
    }


def binderhub_dashboard() -> dict[str, Any]:
    """Launches per minute, build duration, launch failures, pending pods and user nodes.

    Metric names: BinderHub's (binderhub/builder.py: the counter `binderhub_launch_count`, exposed
    with `_total`, labelled by `status` success/failure or a quota's; the histograms
    `binderhub_build_time_seconds` by `status` and `binderhub_launch_time_seconds`), and
    kube-state-metrics' (`kube_pod_status_phase`, `kube_pod_labels`, `kube_node_labels` with the
    node-purpose label the program's user pools carry). `$hub` is the hub's namespace.
    """
    hub = 'namespace=~"$hub"'
    panels = [
        _panel(
            1,
            "Launches per minute",
            [(f"sum by (status) (rate(binderhub_launch_count_total{{{hub}}}[5m])) * 60", "{{status}}")],
            (0, 0),
            unit="short",
            description="Launches BinderHub finished each minute, by outcome (5-minute average).",
        ),
        _panel(
            2,
            "Build duration",
            [
                (
                    f"histogram_quantile({q}, sum by (le) "
                    f'(rate(binderhub_build_time_seconds_bucket{{{hub}, status="success"}}[30m])))',
                    f"{label} of successful builds",
                )
                for q, label in (("0.5", "median"), ("0.9", "90th percentile"))
            ],
            (12, 0),
            unit="s",
            description="How long successful image builds took (30-minute window).",
        ),
        _panel(
            3,
            "Launch failures",
            [
                (
                    f'sum by (status) (increase(binderhub_launch_count_total{{{hub}, status!="success"}}[1h]))',
                    "{{status}}",
                ),
                (f'sum(increase(binderhub_build_count_total{{{hub}, status="failure"}}[1h]))', "failed builds"),
            ],
            (0, 8),
            unit="short",
            description="Launches that failed or were refused by a quota, and failed builds, per hour.",
        ),
        _panel(
            4,
            "Pending pods",
            [
                (
                    f'sum by (label_component) (kube_pod_status_phase{{{hub}, phase="Pending"}} '
                    f"* on (namespace, pod) group_left (label_component) kube_pod_labels{{{hub}}})",
                    "{{label_component}}",
                )
            ],
            (12, 8),
            unit="short",
            description="Pods of the hub's namespace waiting for a node or an image, by component "
            "(singleuser-server, binderhub-build, ...).",
        ),
        _panel(
            5,
            "User nodes",
            [
                ('count(kube_node_labels{label_hub_jupyter_org_node_purpose="user"}) or vector(0)', "user nodes"),
                ("count(kube_node_info)", "all nodes"),
            ],
            (0, 16),
            unit="short",
            description="Nodes of the user pool (label hub.jupyter.org/node-purpose=user) and of the cluster.",
        ),
        _panel(
            6,
            "Builds and launches in progress",
            [
                (f"sum(binderhub_inprogress_builds{{{hub}}})", "builds"),
                (f"sum(binderhub_inprogress_launches{{{hub}}})", "launches"),
            ],
            (12, 16),
            unit="short",
            description="What BinderHub is working on right now.",
        ),
    ]
    return {
        "uid": "binderhub",
        "title": "BinderHub",
        "tags": ["binderhub"],
        "timezone": "utc",
        "schemaVersion": 39,
        "refresh": "1m",
        "time": {"from": "now-24h", "to": "now"},
        "templating": {
            "list": [
                {"name": "PROMETHEUS_DS", "label": "Data source", "type": "datasource", "query": "prometheus"},
                {
                    "name": "hub",
                    "label": "Hub namespace",
                    "type": "query",
                    "datasource": DATASOURCE,
                    "query": {"query": "label_values(binderhub_inprogress_builds, namespace)", "refId": "hub"},
                    "refresh": 2,
                    "includeAll": False,
                },
            ]
        },
        "panels": panels,
    }


# ------------------------------------------------------------------ the files


def write(files: dict[str, str], sources: dict[str, Any]) -> None:
    """Write `files` (path under DEST -> text) and the SOURCES.json record of them."""
    for relative, text in files.items():
        target = DEST / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    sources["files"] = {path: hashlib.sha256((DEST / path).read_bytes()).hexdigest() for path in sorted(files)}
    SOURCES.write_text(dump(sources))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vendor", type=Path, help="jupyterhub/grafana-dashboards' vendor/ at the pinned commit")
    parser.add_argument("--cache", type=Path, default=default_cache(), help="the chart cache")
    parser.add_argument("--binderhub-only", action="store_true", help="rebuild BinderHub's dashboard only")
    args = parser.parse_args(argv)
    files = {"binderhub/binderhub.json": dump(binderhub_dashboard())}
    previous = json.loads(SOURCES.read_text()) if SOURCES.is_file() else {}
    if args.binderhub_only:
        sources = {k: v for k, v in previous.items() if k != "files"}
        files |= {
            path: (DEST / path).read_text() for path in previous.get("files", {}) if path.startswith("jupyterhub/")
        }
    else:
        if args.vendor is None or not args.vendor.is_dir():
            raise SystemExit("--vendor <dir>: jupyterhub/grafana-dashboards' vendor/ folder at the pinned commit")
        import importlib.metadata

        tarball = args.cache / tarball_name()
        if not tarball.is_file():
            raise SystemExit(f"{tarball} is missing: the pinned dashboards' sources")
        for stale in (DEST / "jupyterhub").glob("*.json"):
            stale.unlink()
        files |= {f"jupyterhub/{name}.json": text for name, text in build_jupyterhub(tarball, args.vendor).items()}
        sources = {
            "commit": GRAFANA_DASHBOARDS_COMMIT,
            "tarball": tarball.name,
            "sources": source_digests(tarball),
            "vendor_sha256": tree_digest(args.vendor),
            "jsonnet": importlib.metadata.version("jsonnet"),
        }
    write(files, sources)
    for path in sorted(files):
        print(f"{DEST.relative_to(ROOT_DIR)}/{path}")


if __name__ == "__main__":
    main()
