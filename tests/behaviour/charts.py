"""Render a release the program registered with the real pinned chart and Helm v4's engine.

The charts come from the offline chart cache (`../shared/charts`, as `helm pull` saves them;
`BINDERHUB_CHARTS_DIR` overrides the folder). A release whose pinned version is not in the
cache fails the test: what is tested must be exactly what `pulumi up` deploys.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from helm_python import Chart

from behaviour.envs import charts_dir
from harness import Registration, unwrap

Manifest = dict[str, Any]


@dataclass(frozen=True)
class Rendered:
    """The Kubernetes objects one release renders to, in template order."""

    release: str
    namespace: str
    objects: tuple[Manifest, ...]

    def of_kind(self, kind: str) -> list[Manifest]:
        return [o for o in self.objects if o.get("kind") == kind]

    def get(self, kind: str, name: str) -> Manifest:
        found = [o for o in self.of_kind(kind) if o["metadata"]["name"] == name]
        assert len(found) == 1, f"{self.release}: expected one {kind} {name!r}, found {len(found)}"
        return found[0]

    def find(self, kind: str, name: str) -> Manifest | None:
        return next((o for o in self.of_kind(kind) if o["metadata"]["name"] == name), None)

    def containers(self) -> Iterator[tuple[Manifest, Manifest]]:
        """(workload, container) for every container of every Deployment/DaemonSet/StatefulSet."""
        for workload in self.objects:
            if workload.get("kind") in ("Deployment", "DaemonSet", "StatefulSet"):
                spec = workload["spec"]["template"]["spec"]
                for container in [*spec.get("initContainers", []), *spec["containers"]]:
                    yield workload, container


def secret_data(secret: Manifest) -> dict[str, bytes]:
    """A Secret's keys as the kubelet mounts them (`data` is base64, `stringData` plain)."""
    data = {key: base64.b64decode(value) for key, value in (secret.get("data") or {}).items()}
    data.update({key: str(value).encode() for key, value in (secret.get("stringData") or {}).items()})
    return data


def chart_archive(chart: str, version: str) -> Path:
    """`<name>-<version>.tgz` in the chart cache; an OCI reference is named by its last segment."""
    name = chart.rstrip("/").rsplit("/", 1)[-1]
    path = charts_dir() / f"{name}-{version}.tgz"
    assert path.is_file(), (
        f"chart {chart} {version} is pinned but not in the chart cache {charts_dir()}: "
        "pin the version that is there, or add it with `helm pull`"
    )
    return path


def render_release(release: Registration) -> Rendered:
    """Render a `helm.sh/v4:Chart` or `helm.sh/v3:Release` registration as Helm would install it."""
    inputs = unwrap(release.inputs)
    return _render(
        inputs["chart"], inputs["version"], inputs["name"], inputs["namespace"], _canonical(inputs["values"])
    )


def _canonical(values: dict[str, Any]) -> str:
    return json.dumps(values, sort_keys=True)


@cache
def _render(chart: str, version: str, name: str, namespace: str, values_json: str) -> Rendered:
    # Cached per distinct values document: several tests look at the same release.
    with Chart.load(chart_archive(chart, version)) as loaded:
        manifests = loaded.render(json.loads(values_json), name=name, namespace=namespace, is_install=True)
    objects: list[Manifest] = []
    for template, text in sorted(manifests.items()):
        if not template.endswith((".yaml", ".yml")):
            continue  # NOTES.txt
        objects.extend(doc for doc in yaml.safe_load_all(text) if doc)
    for obj in objects:
        obj.setdefault("metadata", {}).setdefault("namespace", namespace)
    return Rendered(name, namespace, tuple(objects))


def values_digest(release: Registration) -> str:
    return hashlib.sha256(_canonical(unwrap(release.inputs)["values"]).encode()).hexdigest()[:12]
