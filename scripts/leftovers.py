"""Is anything the program created left on the cluster after `pulumi destroy`? (the end-to-end
workflow, .github/workflows/e2e.yml). Standard library and kubectl only.

    leftovers.py snapshot BEFORE.json                  before `make up`: what the cluster has
    leftovers.py check BEFORE.json [--state STATE.json] [--wait SECONDS]
                                                       after `make destroy`: exit 1 if anything is left

What is compared is derived, not listed by hand:
- every cluster-scoped kind the API server lists (`kubectl api-resources --namespaced=false
  --verbs=list`: namespaces, PersistentVolumes, ClusterRoles and their bindings, CRDs, webhook
  configurations, IngressClasses, StorageClasses, PriorityClasses, ClusterIssuers, ... whatever
  the program's charts add), and PersistentVolumeClaims in every namespace. An object there after
  the destroy that was not there before is left over, whoever created it: the program's own
  resources and what its Helm releases installed alike. A namespace still terminating counts.
  Not compared: the kinds in IGNORED, the cluster's own bookkeeping for pods, Services and nodes
  (Calico's IPAM objects, Service IP addresses, ...), each with the reason.
- with `--state` (`pulumi stack export` taken before the destroy): every Kubernetes object in the
  stack's state, namespaced ones in namespaces that existed before too (a ConfigMap in
  kube-system), must be gone.
`--wait`: deletions finish in the background (namespaces' finalizers, volumes being released),
so the check is repeated every few seconds for up to that many seconds before it fails.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Cluster-scoped kinds whose objects the cluster creates and deletes on its own, as bookkeeping for
# pods, Services and nodes: one may appear while the deployment runs and be released only some
# time after the destroy (or never, by design), whoever's pods they served. The program creates
# none of these kinds itself; were it to, the state check (--state) would still look its own up.
IGNORED: dict[str, str] = {
    "certificatesigningrequests.certificates.k8s.io": "kubelets renew their client certificates through them",
    "ipamhandles.crd.projectcalico.org": "Calico IPAM: one per pod address allocation, freed by its garbage collector",
    "ipamblocks.crd.projectcalico.org": "Calico IPAM: address blocks a node claims as pods need addresses, kept",
    "blockaffinities.crd.projectcalico.org": "Calico IPAM: which node holds which address block",
    "ipaddresses.networking.k8s.io": "one per Service ClusterIP, released by the API server's repair loop",
    "runtimeclasses.node.k8s.io": "k3s registers the container runtimes it finds on a node",
    "csinodes.storage.k8s.io": "one per node, written by its kubelet as CSI drivers register",
    "flowschemas.flowcontrol.apiserver.k8s.io": "API priority and fairness defaults, kept by the API server",
    "prioritylevelconfigurations.flowcontrol.apiserver.k8s.io": "API priority and fairness defaults, likewise",
}
# kubectl's error for a kind the API server does not serve (any more): a CRD the destroy removed.
NO_SUCH_KIND = "doesn't have a resource type"
# Namespaced kinds compared across all namespaces: a volume claim outliving its namespace's
# deletion would be a bug of the delete hooks (README "Tear down").
NAMESPACED = ("persistentvolumeclaims",)
RETRY_INTERVAL = 5.0

Kubectl = Callable[[list[str]], subprocess.CompletedProcess[str]]


def kubectl(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["kubectl", *args], capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)


class KubectlError(Exception):
    """kubectl failed: the cluster cannot be read, so nothing can be said about leftovers."""


def _run(run: Kubectl, args: list[str]) -> str | None:
    """kubectl's output; None when the kind asked for is not served (NO_SUCH_KIND): its CRD went
    with the destroy, and none of its objects can be left. KubectlError for any other failure."""
    result = run(args)
    if result.returncode != 0:
        if NO_SUCH_KIND in result.stderr:
            return None
        raise KubectlError(f"kubectl {' '.join(args)} failed:\n{result.stderr.strip()}")
    return result.stdout


def listed_kinds(run: Kubectl) -> list[str]:
    """The cluster-scoped resources that can be listed (`<plural>.<group>`, core ones bare)."""
    out = _run(run, ["api-resources", "--namespaced=false", "--verbs=list", "-o", "name"]) or ""
    return sorted({line.strip() for line in out.splitlines() if line.strip()} - set(IGNORED))


def _objects(run: Kubectl, resource: str, all_namespaces: bool) -> list[dict[str, Any]]:
    out = _run(run, ["get", resource, "-o", "json", *(["--all-namespaces"] if all_namespaces else [])])
    if out is None:
        return []  # a CRD deleted since api-resources listed it
    items = json.loads(out).get("items", [])
    return [item for item in items if isinstance(item, dict)]


def snapshot(run: Kubectl) -> dict[str, str]:
    """{"<resource> [<namespace>/]<name>": phase or ""} of everything compared (see the module
    doc). The value is the object's status.phase (a namespace's Terminating), for the report."""
    found: dict[str, str] = {}
    for resource, all_namespaces in [*((kind, False) for kind in listed_kinds(run)), *((k, True) for k in NAMESPACED)]:
        for item in _objects(run, resource, all_namespaces):
            metadata = item.get("metadata") or {}
            where = f"{metadata['namespace']}/" if metadata.get("namespace") else ""
            phase = (item.get("status") or {}).get("phase") if isinstance(item.get("status"), dict) else None
            found[f"{resource} {where}{metadata.get('name', '?')}"] = str(phase or "")
    return found


@dataclass(frozen=True)
class StateObject:
    """A Kubernetes object in a `pulumi stack export`: `resource` as kubectl takes it
    (Kind.version.group, or Kind for the core group)."""

    resource: str
    name: str
    namespace: str | None

    def __str__(self) -> str:
        return f"{self.resource} {self.namespace + '/' if self.namespace else ''}{self.name}"


def state_objects(export: dict[str, Any]) -> list[StateObject]:
    """The Kubernetes objects of a stack's state: resources typed `kubernetes:<group>/<version>:<Kind>`
    (Pulumi's Kubernetes provider's type tokens; `core` is the core group), with their names from
    their outputs. Helm releases, charts and providers are not objects: what they installed is
    found by the snapshot comparison. Resources marked `external` were read, not created (a
    `Namespace.get`): they stay after the destroy by design."""
    found: list[StateObject] = []
    for resource in export.get("deployment", {}).get("resources", []) or []:
        if resource.get("external"):
            continue  # read with `get` (an existing namespace, say), not created: not the destroy's to delete
        token = str(resource.get("type", ""))
        if not token.startswith("kubernetes:") or token.count(":") != 2:
            continue
        group_version, kind = token.split(":")[1:]
        if "/" not in group_version or group_version.startswith(("helm.sh/", "yaml/", "kustomize/")):
            continue
        group, version = group_version.split("/", 1)
        metadata = (resource.get("outputs") or {}).get("metadata") or {}
        name = metadata.get("name")
        if not isinstance(name, str):
            continue
        kubectl_name = kind if group == "core" else f"{kind}.{version}.{group}"
        namespace = metadata.get("namespace")
        found.append(StateObject(kubectl_name, name, namespace if isinstance(namespace, str) else None))
    return found


def remaining_state_objects(run: Kubectl, objects: Iterable[StateObject], namespaces: set[str]) -> list[str]:
    """The state's objects that still exist. One in a namespace that is gone is gone with it."""
    left: list[str] = []
    for obj in objects:
        if obj.namespace is not None and obj.namespace not in namespaces:
            continue
        args = ["get", obj.resource, obj.name, "--ignore-not-found", "-o", "name"]
        if obj.namespace is not None:
            args += ["-n", obj.namespace]
        if (_run(run, args) or "").strip():  # None: its kind's CRD is gone, and the object with it
            left.append(str(obj))
    return left


def leftovers(run: Kubectl, before: dict[str, str], objects: list[StateObject]) -> list[str]:
    """What is there now and was not before, and the state's objects still there; sorted."""
    now = snapshot(run)
    new = [f"{key} ({phase})" if phase else key for key, phase in now.items() if key not in before]
    namespaces = {key.split(" ", 1)[1] for key in now if key.startswith("namespaces ")}
    return sorted({*new, *remaining_state_objects(run, objects, namespaces)})


def check(
    run: Kubectl,
    before: dict[str, str],
    objects: list[StateObject],
    wait: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    interval: float = RETRY_INTERVAL,
) -> list[str]:
    """leftovers(), repeated every `interval` seconds while some are left, for up to `wait` seconds."""
    deadline = clock() + wait
    while True:
        left = leftovers(run, before, objects)
        if not left or clock() + interval > deadline:
            return left
        print(f"{len(left)} left, waiting for deletions to finish: {', '.join(left[:5])}", file=sys.stderr)
        sleep(interval)


def main(argv: list[str], run: Kubectl = kubectl) -> int:
    parser = argparse.ArgumentParser(prog="leftovers.py", description=(__doc__ or "").split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    take = commands.add_parser("snapshot", help="record what the cluster has (before the deployment)")
    take.add_argument("file", type=Path)
    compare = commands.add_parser("check", help="fail if anything new is left (after the destroy)")
    compare.add_argument("file", type=Path)
    compare.add_argument("--state", type=Path, help="`pulumi stack export` taken before the destroy")
    compare.add_argument("--wait", type=float, default=0.0, help="seconds to wait for deletions to finish")
    args = parser.parse_args(argv)
    try:
        if args.command == "snapshot":
            taken = snapshot(run)
            args.file.write_text(json.dumps(taken, indent=1, sort_keys=True) + "\n")
            print(f"{len(taken)} objects recorded in {args.file}")
            return 0
        before = json.loads(args.file.read_text())
        objects = state_objects(json.loads(args.state.read_text())) if args.state else []
        left = check(run, before, objects, args.wait)
    except (KubectlError, OSError, ValueError) as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    if left:
        print(f"{len(left)} objects the deployment created are left after the destroy:", file=sys.stderr)
        for item in left:
            print(f"  {item}", file=sys.stderr)
        return 1
    checked = f" and the {len(objects)} Kubernetes objects of the stack's state" if args.state else ""
    print(f"nothing left: the cluster-wide objects, namespaces and volumes are as before{checked}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
