"""What a container sees when the kubelet starts it: its environment and its mounted files.

`container_view` resolves a rendered container's `env`/`envFrom` (values, Secret and ConfigMap
keys, the downward API fields the charts use) and adds the variables Kubernetes injects for every
Service in the namespace (`<NAME>_SERVICE_HOST`, `<NAME>_SERVICE_PORT[_<PORT>]`, as the kubelet's
`getServiceEnvVarMap` does). `materialize` writes the container's ConfigMap and Secret volumes
under a scratch root, at the paths they are mounted at (with `subPath` as a single file), so a
probe can map the container's absolute paths into that root.
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import certifi

from behaviour.charts import Manifest, secret_data

POD_IP = "198.51.100.23"  # documentation ranges: nothing answers there, and probes connect nowhere
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
# Any valid PEM bundle stands in for the cluster's CA: clients load it at start, connect never.
CLUSTER_CA = Path(certifi.where()).read_bytes()


@dataclass(frozen=True)
class Mount:
    path: str  # where the container sees it
    files: dict[str, bytes]  # relative name -> content; {"": content} for a subPath file


@dataclass(frozen=True)
class ContainerView:
    pod: str
    namespace: str
    command: list[str]
    args: list[str]
    env: dict[str, str]
    mounts: list[Mount]


def _index(objects: Iterable[Manifest], kind: str) -> dict[str, Manifest]:
    return {o["metadata"]["name"]: o for o in objects if o.get("kind") == kind}


def _config_map_data(config_map: Manifest) -> dict[str, bytes]:
    data = {key: str(value).encode() for key, value in (config_map.get("data") or {}).items()}
    data.update({key: base64.b64decode(value) for key, value in (config_map.get("binaryData") or {}).items()})
    return data


def service_env(services: Iterable[Manifest]) -> dict[str, str]:
    """The variables the kubelet injects for each Service (ClusterIPs made up, stable per name)."""
    env: dict[str, str] = {}
    for number, service in enumerate(sorted(services, key=lambda s: s["metadata"]["name"]), start=10):
        prefix = service["metadata"]["name"].upper().replace("-", "_")
        ports = service["spec"].get("ports") or []
        if not ports:
            continue
        env[f"{prefix}_SERVICE_HOST"] = str(ipaddress.ip_address("192.0.2.0") + number)
        env[f"{prefix}_SERVICE_PORT"] = str(ports[0]["port"])
        for port in ports:
            if port.get("name"):
                env[f"{prefix}_SERVICE_PORT_{port['name'].upper().replace('-', '_')}"] = str(port["port"])
    return env


def container_view(workload: Manifest, container_name: str, objects: Iterable[Manifest]) -> ContainerView:
    """The environment and mounts of `container_name` in `workload`, resolved against `objects`.

    Raises AssertionError when a referenced Secret, ConfigMap or key is missing (the pod would
    not start) unless the reference is marked optional.
    """
    objects = list(objects)
    namespace = workload["metadata"]["namespace"]
    secrets = {name: secret_data(s) for name, s in _index(objects, "Secret").items()}
    config_maps = {name: _config_map_data(c) for name, c in _index(objects, "ConfigMap").items()}
    spec = workload["spec"]["template"]["spec"]
    container = next(c for c in [*spec.get("initContainers", []), *spec["containers"]] if c["name"] == container_name)
    pod = f"{workload['metadata']['name']}-0"
    where = f"{workload['kind']} {workload['metadata']['name']}, container {container_name}"

    def lookup(kind: str, source: dict[str, dict[str, bytes]], ref: dict[str, Any]) -> bytes | None:
        data = source.get(ref["name"])
        if data is None or ref["key"] not in data:
            assert ref.get("optional"), f"{where}: {kind} {ref['name']!r} key {ref['key']!r} does not exist"
            return None
        return data[ref["key"]]

    env = service_env(o for o in objects if o.get("kind") == "Service")
    for source in container.get("envFrom") or []:
        if "secretRef" in source:
            env.update({k: v.decode() for k, v in secrets[source["secretRef"]["name"]].items()})
        if "configMapRef" in source:
            env.update({k: v.decode() for k, v in config_maps[source["configMapRef"]["name"]].items()})
    fields = {"metadata.namespace": namespace, "metadata.name": pod, "status.podIP": POD_IP, "spec.nodeName": "node-1"}
    for var in container.get("env") or []:
        if "value" in var:
            env[var["name"]] = str(var["value"])
            continue
        ref = var.get("valueFrom", {})
        value: bytes | str | None
        if "secretKeyRef" in ref:
            value = lookup("Secret", secrets, ref["secretKeyRef"])
        elif "configMapKeyRef" in ref:
            value = lookup("ConfigMap", config_maps, ref["configMapKeyRef"])
        elif "fieldRef" in ref:
            value = fields[ref["fieldRef"]["fieldPath"]]
        else:
            raise AssertionError(f"{where}: env {var['name']} has a source this view does not know: {ref}")
        if value is not None:
            env[var["name"]] = value.decode() if isinstance(value, bytes) else value

    volumes = {v["name"]: v for v in spec.get("volumes") or []}
    mounts: list[Mount] = []
    for mount in container.get("volumeMounts") or []:
        volume = volumes[mount["name"]]
        if "secret" in volume:
            name = volume["secret"]["secretName"]
            assert name in secrets or volume["secret"].get("optional"), f"{where}: Secret {name!r} does not exist"
            data = secrets.get(name, {})
        elif "configMap" in volume:
            name = volume["configMap"]["name"]
            assert name in config_maps or volume["configMap"].get("optional"), f"{where}: ConfigMap {name!r} missing"
            data = config_maps.get(name, {})
        else:
            continue  # volumes, emptyDirs, host paths: no content the software reads at start
        if volume.get("secret", volume.get("configMap", {})).get("items"):
            items = volume.get("secret", volume.get("configMap"))["items"]
            data = {item["path"]: data[item["key"]] for item in items}
        if mount.get("subPath"):
            assert mount["subPath"] in data, f"{where}: {mount['subPath']!r} is not a key of {name!r}"
            mounts.append(Mount(mount["mountPath"], {"": data[mount["subPath"]]}))
        else:
            mounts.append(Mount(mount["mountPath"], data))
    if spec.get("automountServiceAccountToken", True):
        # What the kubelet adds to every pod that keeps its service account token.
        account = {"token": b"service-account-token", "ca.crt": CLUSTER_CA, "namespace": namespace.encode()}
        mounts.append(Mount(SERVICE_ACCOUNT_DIR, account))
        env.update(KUBERNETES_SERVICE_HOST="192.0.2.1", KUBERNETES_SERVICE_PORT="443")
    return ContainerView(
        pod, namespace, list(container.get("command") or []), list(container.get("args") or []), env, mounts
    )


def materialize(view: ContainerView, root: Path) -> dict[str, Any]:
    """Write the view's mounts under `root`; the probe job fields that describe the container."""
    for mount in view.mounts:
        target = root / mount.path.lstrip("/")
        for name, content in mount.files.items():
            path = target / name if name else target
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
    return {
        "root": str(root),
        "mounts": sorted({m.path.rstrip("/") for m in view.mounts}),
        "env": view.env,
        "command": view.command,
        "args": view.args,
        "namespace": view.namespace,
    }
