"""scripts/leftovers.py, the end-to-end workflow's check that `pulumi destroy` left nothing, against
a fake kubectl answering as kubectl does (`api-resources -o name`, `get -o json` lists, `get
--ignore-not-found -o name`) from a cluster held in memory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness import ROOT_DIR
from variants import deploy

sys.path.insert(0, str(ROOT_DIR / "scripts"))
import leftovers

# What `kubectl api-resources --namespaced=false --verbs=list -o name` lists on a k3s node.
CLUSTER_SCOPED = [
    "componentstatuses",
    "namespaces",
    "nodes",
    "persistentvolumes",
    "mutatingwebhookconfigurations.admissionregistration.k8s.io",
    "validatingwebhookconfigurations.admissionregistration.k8s.io",
    "customresourcedefinitions.apiextensions.k8s.io",
    "apiservices.apiregistration.k8s.io",
    "certificatesigningrequests.certificates.k8s.io",
    "ingressclasses.networking.k8s.io",
    "clusterrolebindings.rbac.authorization.k8s.io",
    "clusterroles.rbac.authorization.k8s.io",
    "priorityclasses.scheduling.k8s.io",
    "storageclasses.storage.k8s.io",
]


def obj(name: str, namespace: str | None = None, phase: str | None = None) -> dict[str, Any]:
    metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"metadata": metadata, **({"status": {"phase": phase}} if phase else {})}


class FakeCluster:
    """A cluster as kubectl shows it: `objects[resource]` lists what `kubectl get <resource>`
    returns; `named` holds "<Kind[.version.group]> [<ns>/]<name>" of objects looked up by name.
    `after_calls` (call count, change) applies changes as deletions finish."""

    def __init__(self) -> None:
        self.objects: dict[str, list[dict[str, Any]]] = {
            "namespaces": [obj(n, phase="Active") for n in ("default", "kube-system", "kube-public")],
            "nodes": [obj("runner")],
            "clusterroles.rbac.authorization.k8s.io": [obj("cluster-admin"), obj("system:k3s-controller")],
            "storageclasses.storage.k8s.io": [obj("local-path")],
            "customresourcedefinitions.apiextensions.k8s.io": [obj("helmcharts.helm.cattle.io")],
            "persistentvolumeclaims": [],
        }
        self.named: set[str] = set()
        self.calls: list[list[str]] = []
        self.gone_crds: set[str] = set()

    def __call__(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        self.calls.append(args)
        if args[0] == "api-resources":
            return self.answer("\n".join(CLUSTER_SCOPED) + "\n")
        if args[0] == "get" and "-o" in args and args[args.index("-o") + 1] == "json":
            resource = args[1]
            if resource in self.gone_crds:
                return self.answer("", f'error: the server doesn\'t have a resource type "{resource}"', 1)
            return self.answer(json.dumps({"kind": "List", "items": self.objects.get(resource, [])}))
        if args[0] == "get" and "--ignore-not-found" in args:
            namespace = args[args.index("-n") + 1] + "/" if "-n" in args else ""
            key = f"{args[1]} {namespace}{args[2]}"
            return self.answer(f"{args[1].lower()}/{args[2]}\n" if key in self.named else "")
        raise AssertionError(f"unexpected kubectl {args}")

    @staticmethod
    def answer(stdout: str, stderr: str = "", code: int = 0) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(["kubectl"], code, stdout, stderr)

    def add(self, resource: str, item: dict[str, Any]) -> None:
        self.objects.setdefault(resource, []).append(item)


def deployed(cluster: FakeCluster) -> None:
    """What `make up STACK=e2e` adds: its namespaces, the controller's cluster-wide RBAC and
    IngressClass, a claim and its volume."""
    cluster.add("namespaces", obj("binderhub", phase="Active"))
    cluster.add("namespaces", obj("nginx-ingress", phase="Active"))
    cluster.add("clusterroles.rbac.authorization.k8s.io", obj("nginx-ingress"))
    cluster.add("clusterrolebindings.rbac.authorization.k8s.io", obj("nginx-ingress"))
    cluster.add("ingressclasses.networking.k8s.io", obj("nginx"))
    cluster.add("persistentvolumeclaims", obj("hub-db-dir", "binderhub", "Bound"))
    cluster.add("persistentvolumes", obj("pvc-0a1b", phase="Bound"))


def destroyed(cluster: FakeCluster, before: dict[str, str]) -> None:
    """A destroy that removed everything it created: only what was there before stays."""
    for resource, items in cluster.objects.items():
        cluster.objects[resource] = [item for item in items if key_of(resource, item) in before]


def key_of(resource: str, item: dict[str, Any]) -> str:
    """How a snapshot names an object: "<resource> [<namespace>/]<name>"."""
    namespace = item["metadata"].get("namespace")
    return f"{resource} {namespace + '/' if namespace else ''}{item['metadata']['name']}"


def run(cluster: FakeCluster, tmp_path: Path, *argv: str) -> int:
    return leftovers.main([arg.replace("TMP", str(tmp_path)) for arg in argv], run=cluster)


def test_a_clean_destroy_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cluster = FakeCluster()
    assert run(cluster, tmp_path, "snapshot", "TMP/before.json") == 0
    before = json.loads((tmp_path / "before.json").read_text())
    assert "namespaces kube-system" in before and "clusterroles.rbac.authorization.k8s.io cluster-admin" in before
    deployed(cluster)
    destroyed(cluster, before)
    assert run(cluster, tmp_path, "check", "TMP/before.json") == 0
    assert "nothing left" in capsys.readouterr().out


def test_what_the_deployment_left_is_listed_and_fails_the_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = FakeCluster()
    run(cluster, tmp_path, "snapshot", "TMP/before.json")
    deployed(cluster)
    cluster.add("customresourcedefinitions.apiextensions.k8s.io", obj("certificates.cert-manager.io"))
    cluster.add("validatingwebhookconfigurations.admissionregistration.k8s.io", obj("cert-manager-webhook"))
    cluster.add("priorityclasses.scheduling.k8s.io", obj("binderhub-user-placeholder"))
    # the destroy removed the hub's namespace and claim, and left the rest
    cluster.objects["namespaces"] = [n for n in cluster.objects["namespaces"] if n["metadata"]["name"] != "binderhub"]
    cluster.objects["persistentvolumeclaims"] = []
    assert run(cluster, tmp_path, "check", "TMP/before.json") == 1
    reported = {line.strip() for line in capsys.readouterr().err.splitlines()[1:]}
    assert reported == {
        "namespaces nginx-ingress (Active)",
        "clusterroles.rbac.authorization.k8s.io nginx-ingress",
        "clusterrolebindings.rbac.authorization.k8s.io nginx-ingress",
        "ingressclasses.networking.k8s.io nginx",
        "persistentvolumes pvc-0a1b (Bound)",
        "customresourcedefinitions.apiextensions.k8s.io certificates.cert-manager.io",
        "validatingwebhookconfigurations.admissionregistration.k8s.io cert-manager-webhook",
        "priorityclasses.scheduling.k8s.io binderhub-user-placeholder",
    }  # and nothing that was there before


def test_a_claim_left_in_a_namespace_that_existed_before_is_found(tmp_path: Path) -> None:
    cluster = FakeCluster()
    run(cluster, tmp_path, "snapshot", "TMP/before.json")
    cluster.add("persistentvolumeclaims", obj("stray", "default", "Bound"))
    assert run(cluster, tmp_path, "check", "TMP/before.json") == 1


def test_deletions_still_finishing_are_waited_for(tmp_path: Path) -> None:
    cluster = FakeCluster()
    run(cluster, tmp_path, "snapshot", "TMP/before.json")
    before = json.loads((tmp_path / "before.json").read_text())
    cluster.add("namespaces", obj("binderhub", phase="Terminating"))
    slept: list[float] = []

    def finish(seconds: float) -> None:
        slept.append(seconds)
        destroyed(cluster, before)  # the namespace's finalizers are done

    left = leftovers.check(cluster, before, [], wait=60, sleep=finish, clock=lambda: float(len(slept)))
    assert left == [] and len(slept) == 1
    cluster.add("namespaces", obj("binderhub", phase="Terminating"))
    stuck = leftovers.check(cluster, before, [], wait=3, sleep=slept.append, clock=lambda: 10.0 * len(slept))
    assert stuck == ["namespaces binderhub (Terminating)"]


def test_a_kind_whose_definition_went_with_the_destroy_has_nothing_left(tmp_path: Path) -> None:
    cluster = FakeCluster()
    run(cluster, tmp_path, "snapshot", "TMP/before.json")
    cluster.gone_crds.add("ingressclasses.networking.k8s.io")  # listed, then gone when asked
    assert run(cluster, tmp_path, "check", "TMP/before.json") == 0


def test_a_cluster_kubectl_cannot_read_is_an_error_not_a_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def unreachable(args: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(["kubectl"], 1, "", "The connection to the server was refused")

    (tmp_path / "before.json").write_text("{}")
    assert leftovers.main(["check", str(tmp_path / "before.json")], run=unreachable) == 2
    assert "connection to the server was refused" in capsys.readouterr().err


# ------------------------------------------------------------------ the stack's state


def stack_export(resources: list[dict[str, Any]]) -> dict[str, Any]:
    """A `pulumi stack export` document (version 3) holding `resources`."""
    return {"version": 3, "deployment": {"manifest": {}, "resources": resources}}


def test_the_states_kubernetes_objects_are_the_programs(tmp_path: Path) -> None:
    """The e2e stack's own run under the mocks, exported as Pulumi would: its namespaces and
    network policies are what the state check looks up, named as kubectl takes them."""
    run_ = deploy("e2e")
    export = stack_export(
        [{"urn": r.urn, "type": r.type, "custom": r.custom, "outputs": r.outputs} for r in run_.registrations]
    )
    found = {str(o) for o in leftovers.state_objects(export)}
    namespaces = {str(r.outputs["metadata"]["name"]) for r in run_.of_type("kubernetes:core/v1:Namespace")}
    assert {"binderhub", "nginx-ingress"} <= namespaces
    assert {f"Namespace {name}" for name in namespaces} <= found
    policies = [r for r in run_.registrations if r.type.endswith(":NetworkPolicy")]
    assert policies and all(
        f"NetworkPolicy.v1.networking.k8s.io binderhub/{r.outputs['metadata']['name']}" in found for r in policies
    )
    assert not any("helm.sh" in item or "Chart" in item or "Release" in item for item in found)


def test_a_state_object_left_in_a_namespace_that_stays_is_found(tmp_path: Path) -> None:
    cluster = FakeCluster()
    run(cluster, tmp_path, "snapshot", "TMP/before.json")
    export = stack_export(
        [
            {
                "type": "kubernetes:core/v1:ConfigMap",
                "outputs": {"metadata": {"name": "x", "namespace": "kube-system"}},
            },
            {"type": "kubernetes:core/v1:Secret", "outputs": {"metadata": {"name": "y", "namespace": "binderhub"}}},
            {
                "type": "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
                "outputs": {"metadata": {"name": "cluster-admin"}},
            },
            {"type": "kubernetes:helm.sh/v3:Release", "outputs": {"name": "ingress"}},
        ]
    )
    (tmp_path / "state.json").write_text(json.dumps(export))
    cluster.named = {"ConfigMap kube-system/x", "ClusterRole.v1.rbac.authorization.k8s.io cluster-admin"}
    assert run(cluster, tmp_path, "check", "TMP/before.json", "--state", "TMP/state.json") == 1
    looked_up = [c for c in cluster.calls if "--ignore-not-found" in c]
    # binderhub is gone: its Secret went with it, and is not looked up
    assert [c[1:3] for c in looked_up] == [
        ["ConfigMap", "x"],
        ["ClusterRole.v1.rbac.authorization.k8s.io", "cluster-admin"],
    ]


def test_the_script_runs_with_kubectl_from_path(tmp_path: Path) -> None:
    """As the workflow calls it: `python3 scripts/leftovers.py`, kubectl found on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "kubectl"
    fake.write_text(
        "#!/bin/sh\n"
        'case "$1" in api-resources) echo namespaces ;; '
        'get) echo \'{"items": [{"metadata": {"name": "default"}}]}\' ;; esac\n'
    )
    fake.chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin"}
    script = str(ROOT_DIR / "scripts" / "leftovers.py")
    for command in (["snapshot"], ["check", "--wait", "0"]):
        result = subprocess.run(
            [sys.executable, "-S", script, command[0], str(tmp_path / "before.json"), *command[1:]],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
    assert "nothing left" in result.stdout
