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

# What `kubectl api-resources --namespaced=false --verbs=list -o name` lists on the e2e runner's
# node: k3s (Kubernetes 1.35) with Calico, as jupyterhub/action-k3s-helm installs it.
CLUSTER_SCOPED = [
    "componentstatuses",
    "namespaces",
    "nodes",
    "persistentvolumes",
    "mutatingwebhookconfigurations.admissionregistration.k8s.io",
    "validatingadmissionpolicies.admissionregistration.k8s.io",
    "validatingadmissionpolicybindings.admissionregistration.k8s.io",
    "validatingwebhookconfigurations.admissionregistration.k8s.io",
    "customresourcedefinitions.apiextensions.k8s.io",
    "apiservices.apiregistration.k8s.io",
    "selfsubjectreviews.authentication.k8s.io",
    "certificatesigningrequests.certificates.k8s.io",
    "bgpconfigurations.crd.projectcalico.org",
    "blockaffinities.crd.projectcalico.org",
    "clusterinformations.crd.projectcalico.org",
    "felixconfigurations.crd.projectcalico.org",
    "globalnetworkpolicies.crd.projectcalico.org",
    "ipamblocks.crd.projectcalico.org",
    "ipamconfigs.crd.projectcalico.org",
    "ipamhandles.crd.projectcalico.org",
    "ippools.crd.projectcalico.org",
    "kubecontrollersconfigurations.crd.projectcalico.org",
    "flowschemas.flowcontrol.apiserver.k8s.io",
    "prioritylevelconfigurations.flowcontrol.apiserver.k8s.io",
    "helmcharts.helm.cattle.io",
    "ingressclasses.networking.k8s.io",
    "ipaddresses.networking.k8s.io",
    "servicecidrs.networking.k8s.io",
    "runtimeclasses.node.k8s.io",
    "clusterrolebindings.rbac.authorization.k8s.io",
    "clusterroles.rbac.authorization.k8s.io",
    "priorityclasses.scheduling.k8s.io",
    "csidrivers.storage.k8s.io",
    "csinodes.storage.k8s.io",
    "storageclasses.storage.k8s.io",
    "volumeattachments.storage.k8s.io",
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
            # the cluster's bookkeeping before anything is deployed: Calico's address blocks and
            # the handles of the system pods' addresses, kube-dns's ClusterIP, the node's CSI entry
            "ipamblocks.crd.projectcalico.org": [obj("10-42-0-0-26")],
            "blockaffinities.crd.projectcalico.org": [obj("runner-10-42-0-0-26")],
            "ipamhandles.crd.projectcalico.org": [obj("k8s-pod-network.0a1b2c"), obj("ipip-tunnel-addr-runner")],
            "ipaddresses.networking.k8s.io": [obj("10.43.0.1"), obj("10.43.0.10")],
            "csinodes.storage.k8s.io": [obj("runner")],
            "flowschemas.flowcontrol.apiserver.k8s.io": [obj("exempt"), obj("global-default")],
        }
        self.named: set[str] = set()
        self.calls: list[list[str]] = []
        self.gone_crds: set[str] = set()

    def __call__(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        self.calls.append(args)
        if args[0] == "api-resources":
            return self.answer("\n".join(CLUSTER_SCOPED) + "\n")
        if args[0] == "get" and args[1] in self.gone_crds:
            return self.answer("", f'error: the server doesn\'t have a resource type "{args[1]}"', 1)
        if args[0] == "get" and "-o" in args and args[args.index("-o") + 1] == "json":
            return self.answer(json.dumps({"kind": "List", "items": self.objects.get(args[1], [])}))
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

    def add_bookkeeping(self) -> None:
        """What a real k3s+Calico node creates on its own as pods and Services come (and keeps a
        while after they went): an address handle per pod, an address block and its affinity as
        the node needs more, an IPAddress per ClusterIP, a runtime found, a flow schema."""
        for pod in ("hub-5d9c", "binder-7f2a", "proxy-1b3e", "nginx-ingress-6c4d"):
            self.add("ipamhandles.crd.projectcalico.org", obj(f"k8s-pod-network.{pod}"))
        self.add("ipamblocks.crd.projectcalico.org", obj("10-42-0-64-26"))
        self.add("blockaffinities.crd.projectcalico.org", obj("runner-10-42-0-64-26"))
        for address in ("10.43.12.7", "10.43.80.2", "10.43.141.9"):
            self.add("ipaddresses.networking.k8s.io", obj(address))
        self.add("runtimeclasses.node.k8s.io", obj("crun"))
        self.add("flowschemas.flowcontrol.apiserver.k8s.io", obj("probes"))


def deployed(cluster: FakeCluster) -> None:
    """What `make up STACK=e2e` adds: its namespaces, the controller's cluster-wide RBAC and
    IngressClass, a claim and its volume; and what the cluster adds on its own for the new pods
    and Services (Calico address handles and a new block, ClusterIP addresses)."""
    cluster.add("namespaces", obj("binderhub", phase="Active"))
    cluster.add("namespaces", obj("nginx-ingress", phase="Active"))
    cluster.add("clusterroles.rbac.authorization.k8s.io", obj("nginx-ingress"))
    cluster.add("clusterrolebindings.rbac.authorization.k8s.io", obj("nginx-ingress"))
    cluster.add("ingressclasses.networking.k8s.io", obj("nginx"))
    cluster.add("persistentvolumeclaims", obj("hub-db-dir", "binderhub", "Bound"))
    cluster.add("persistentvolumes", obj("pvc-0a1b", phase="Bound"))
    cluster.add_bookkeeping()


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


# ------------------------------------------------------------------ the cluster's own bookkeeping, read resources


def test_the_clusters_own_bookkeeping_lingering_after_the_destroy_is_not_left_over(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Calico frees pod address handles and blocks, and the API server Service IP addresses, some
    time after the pods and Services went: they are the cluster's, not the deployment's."""
    cluster = FakeCluster()
    run(cluster, tmp_path, "snapshot", "TMP/before.json")
    before = json.loads((tmp_path / "before.json").read_text())
    deployed(cluster)
    destroyed(cluster, before)
    cluster.add_bookkeeping()  # not released yet
    assert run(cluster, tmp_path, "check", "TMP/before.json") == 0, capsys.readouterr().err


def test_every_ignored_kind_is_one_the_runners_cluster_serves_and_has_a_reason() -> None:
    assert set(leftovers.IGNORED) <= set(CLUSTER_SCOPED)
    assert all(reason.strip() for reason in leftovers.IGNORED.values())
    # what the program or its charts create is never ignored
    for kind in ("namespaces", "clusterroles.rbac.authorization.k8s.io", "ippools.crd.projectcalico.org"):
        assert kind not in leftovers.IGNORED


def test_a_state_object_whose_definition_went_with_the_destroy_is_gone(tmp_path: Path) -> None:
    """A ClusterIssuer in the state whose CRD cert-manager's release removed: kubectl says the
    kind does not exist, which means no such object is left, not that the cluster cannot be read."""
    cluster = FakeCluster()
    run(cluster, tmp_path, "snapshot", "TMP/before.json")
    export = stack_export(
        [{"type": "kubernetes:cert-manager.io/v1:ClusterIssuer", "outputs": {"metadata": {"name": "letsencrypt"}}}]
    )
    (tmp_path / "state.json").write_text(json.dumps(export))
    cluster.gone_crds.add("ClusterIssuer.v1.cert-manager.io")
    assert run(cluster, tmp_path, "check", "TMP/before.json", "--state", "TMP/state.json") == 0


def test_resources_the_state_only_read_are_not_left_over(tmp_path: Path) -> None:
    """`external: true` in the export: read with `.get` (kube-system, an existing namespace),
    never created, so the destroy leaves them, as it should."""
    cluster = FakeCluster()
    run(cluster, tmp_path, "snapshot", "TMP/before.json")
    export = stack_export(
        [
            {
                "type": "kubernetes:core/v1:Namespace",
                "external": True,
                "outputs": {"metadata": {"name": "kube-system"}},
            },
            {
                "type": "kubernetes:core/v1:ConfigMap",
                "outputs": {"metadata": {"name": "x", "namespace": "kube-system"}},
            },
        ]
    )
    (tmp_path / "state.json").write_text(json.dumps(export))
    cluster.named = {"Namespace kube-system"}
    assert run(cluster, tmp_path, "check", "TMP/before.json", "--state", "TMP/state.json") == 0
    assert [str(o) for o in leftovers.state_objects(export)] == ["ConfigMap kube-system/x"]
