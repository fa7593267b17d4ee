"""`pulumi destroy` removes everything, in an order that leaks nothing, on every target.

The engine deletes a resource before everything it was created after: "A is deleted before
B" is "A depends on B" in the recorded graph (dependencies, inputs, providers, components).
"""

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from components.cleanup import drain_user_workloads, kube_api_from_kubeconfig
from components.registry.ecr import delete_ecr_repositories
from harness import ProgramRun, Registration, run_stack, stack_file_config, stack_files, unwrap

SECRETS = {
    "registryPassword": "dckr_pat_0123456789abcdef",
    "oauthClientSecret": "oauth-client-secret-abcdef0123",
}
K8S_PROVIDER = "pulumi:providers:kubernetes"
# The cluster resource of each managed target, and what its ingress address lives in.
CLUSTER = {
    "azure": "azure-native:containerservice:ManagedCluster",
    "aws": "eks:index:Cluster",
    "gcp": "gcp:container/cluster:Cluster",
}
NETWORK = {
    "azure": ["azure-native:network:PublicIPAddress"],
    "aws": ["aws:ec2/eip:Eip", "aws:ec2/vpc:Vpc"],
    "gcp": ["gcp:compute/address:Address"],
}
HUB_RELEASE_TYPES = ("kubernetes:helm.sh/v4:Chart", "kubernetes:helm.sh/v3:Release")


@pytest.fixture(scope="module", params=stack_files())
def stack(request: pytest.FixtureRequest) -> tuple[str, str, ProgramRun]:
    run = run_stack(request.param, SECRETS)
    assert run.error is None, f"Pulumi.{request.param}.yaml: {run.error!r}"
    return request.param, stack_file_config(request.param)["cloud"], run


def deleted_before(run: ProgramRun, first: Registration, then: Registration) -> bool:
    return run.depends_on(first, then)


def hub_namespace(run: ProgramRun) -> Registration:
    return run.one("kubernetes:core/v1:Namespace", "hub-namespace")


def hub_releases(run: ProgramRun) -> list[Registration]:
    namespace = "binderhub"
    return [
        r
        for r in run.registrations
        if r.type in HUB_RELEASE_TYPES
        and r.inputs.get("chart") in ("binderhub", "binderhub-service", "jupyterhub")
        and r.inputs.get("namespace", namespace) == namespace
    ]


def test_releases_go_before_their_namespace_and_namespaces_before_the_cluster(
    stack: tuple[str, str, ProgramRun],
) -> None:
    name, cloud, run = stack
    namespace = hub_namespace(run)
    releases = hub_releases(run)
    assert releases, f"{name}: no hub release found"
    for release in releases:
        assert deleted_before(run, release, namespace), f"{name}: {release.name} outlives its namespace"
    provider = next(r for r in run.registrations if r.type == K8S_PROVIDER and r.urn == namespace.provider_urn)
    assert deleted_before(run, namespace, provider)
    if cloud in CLUSTER:
        cluster = run.one(CLUSTER[cloud])
        for reg in run.registrations:
            if reg.type.startswith("kubernetes:") and reg.custom and not reg.read:
                assert deleted_before(run, reg, cluster), f"{name}: {reg.type} {reg.name} outlives the cluster"


def test_the_load_balancer_goes_before_its_address_and_network(stack: tuple[str, str, ProgramRun]) -> None:
    name, cloud, run = stack
    controller = run.chart("nginx-ingress")
    # Helm waits on uninstall (no skipAwait): the Service, hence the cloud load balancer, is gone
    # before the release counts as deleted.
    assert not controller.inputs.get("skipAwait")
    for token in NETWORK.get(cloud, []):
        for network in run.of_type(token):
            if network.name.startswith("ingress") or token.endswith("Vpc"):
                assert deleted_before(run, controller, network), f"{name}: the LB outlives {network.name}"


def test_user_servers_and_their_disks_are_drained_before_the_namespace(stack: tuple[str, str, ProgramRun]) -> None:
    _, _, run = stack
    assert hub_namespace(run).hooks == {"before_delete": ["hub-drain-user-storage"]}


def test_nothing_cluster_wide_is_left_behind_by_the_charts(stack: tuple[str, str, ProgramRun]) -> None:
    _, _, run = stack
    controller = run.chart("nginx-ingress")
    # Helm never deletes CRDs it installed from a chart's crds/: install none.
    assert controller.inputs["skipCrds"] is True
    assert unwrap(controller.inputs["values"])["controller"]["enableCustomResources"] is False
    for release in run.of_type("kubernetes:helm.sh/v3:Release"):
        if release.inputs["chart"] == "cert-manager":
            assert unwrap(release.inputs["values"])["crds"] == {"enabled": True, "keep": False}


def test_managed_clusters_already_gone_do_not_block_destroy(stack: tuple[str, str, ProgramRun]) -> None:
    name, cloud, run = stack
    providers = run.of_type(K8S_PROVIDER)
    assert providers
    for provider in providers:
        # Provider inputs travel as strings.
        unreachable = provider.inputs.get("deleteUnreachable") in ("true", True)
        # An existing cluster that does not answer must fail the destroy, not be forgotten.
        assert unreachable == (cloud in CLUSTER), f"{name}: {provider.name} deleteUnreachable={unreachable}"


def test_bare_metal_volumes_go_while_their_provisioner_still_runs() -> None:
    run = run_stack("baremetal", SECRETS)
    assert deleted_before(run, hub_namespace(run), run.chart("openebs-localpv"))


def test_ecr_repositories_created_at_run_time_go_after_the_hub_and_helper() -> None:
    run = run_stack("aws", SECRETS)
    role = run.one("aws:iam/role:Role", "registry-helper")
    assert role.hooks == {"after_delete": ["registry-delete-repositories"]}
    for release in [*hub_releases(run), run.chart("binderhub-container-registry-helper")]:
        assert deleted_before(run, release, role), f"{release.name} could still create repositories"


def test_production_keeps_its_cluster_and_registry_protected() -> None:
    run = run_stack("prod", SECRETS)
    assert run.one(CLUSTER["azure"]).protect
    assert run.one("azure-native:containerregistry:Registry").protect


# ------------------------------------------------------------------ the hooks' own logic


class FakeKube:
    """CoreV1Api as the cleanup sees it: pods, claims and volumes the driver deletes later."""

    def __init__(self, namespace: str, volume_deleted_after_polls: int = 1) -> None:
        self.namespace = namespace
        self.pods = {
            "jupyter-alice": "component=singleuser-server",
            "build-repo-abc": "component=binderhub-build",
            "hub-7d9": "component=hub",
        }
        self.claims = {"claim-alice": "pvc-1", "claim-bob": "pvc-2"}
        self.volumes = {
            "pvc-1": (namespace, "Delete"),
            "pvc-2": (namespace, "Retain"),
            "pvc-other": ("elsewhere", "Delete"),
        }
        self.polls_left = volume_deleted_after_polls
        self.deleted: list[str] = []

    @staticmethod
    def _listing(names: list[str]) -> Any:
        return SimpleNamespace(items=[SimpleNamespace(metadata=SimpleNamespace(name=n)) for n in names])

    def list_namespaced_pod(self, namespace: str, label_selector: str = "", **_: Any) -> Any:
        assert namespace == self.namespace
        return self._listing([p for p, label in self.pods.items() if label == label_selector])

    def delete_namespaced_pod(self, name: str, namespace: str, **_: Any) -> None:
        self.deleted.append(f"pod/{name}")
        del self.pods[name]

    def list_namespaced_persistent_volume_claim(self, namespace: str, **_: Any) -> Any:
        return self._listing(list(self.claims))

    def delete_namespaced_persistent_volume_claim(self, name: str, namespace: str, **_: Any) -> None:
        self.deleted.append(f"pvc/{name}")
        del self.claims[name]

    def list_persistent_volume(self, **_: Any) -> Any:
        # The CSI driver deletes released volumes with policy Delete after a while.
        if not self.claims and self.polls_left == 0:
            self.volumes = {k: v for k, v in self.volumes.items() if not (v[0] == self.namespace and v[1] == "Delete")}
        self.polls_left -= 1
        return SimpleNamespace(
            items=[
                SimpleNamespace(
                    metadata=SimpleNamespace(name=name),
                    spec=SimpleNamespace(
                        claim_ref=SimpleNamespace(namespace=ns), persistent_volume_reclaim_policy=policy
                    ),
                )
                for name, (ns, policy) in self.volumes.items()
            ]
        )


def test_drain_deletes_user_and_build_pods_and_claims_then_waits_for_disks() -> None:
    kube = FakeKube("binderhub", volume_deleted_after_polls=2)
    sleeps: list[float] = []
    left = drain_user_workloads(kube, "binderhub", sleep=sleeps.append, clock=lambda: 0.0)
    assert left == []
    assert sorted(kube.deleted) == ["pod/build-repo-abc", "pod/jupyter-alice", "pvc/claim-alice", "pvc/claim-bob"]
    assert "hub-7d9" in kube.pods  # the chart's own pods are the chart's business
    assert len(sleeps) == 2  # waited until the driver had deleted the disk
    assert "pvc-2" in kube.volumes and "pvc-other" in kube.volumes  # retained or not ours


def test_drain_gives_up_after_the_timeout_and_names_what_is_left() -> None:
    kube = FakeKube("binderhub", volume_deleted_after_polls=10**6)
    now = iter(range(0, 10_000, 100))
    left = drain_user_workloads(kube, "binderhub", timeout=600, sleep=lambda _: None, clock=lambda: float(next(now)))
    assert left == ["pvc-1"]


class FakeEcr:
    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.deleted: list[tuple[str, bool]] = []

    def get_paginator(self, operation_name: str) -> Any:
        assert operation_name == "describe_repositories"
        pages = [{"repositories": [{"repositoryName": n} for n in self.names[i : i + 2]]} for i in range(0, 5, 2)]
        return SimpleNamespace(paginate=lambda: iter(pages))

    def delete_repository(self, **kwargs: Any) -> None:
        self.deleted.append((kwargs["repositoryName"], kwargs["force"]))


def test_ecr_cleanup_deletes_every_repository_under_the_prefix_only() -> None:
    ecr = FakeEcr(["binder/binder-abc", "binder-other/x", "team/binder", "binder/binder-def", "binder/z"])
    assert delete_ecr_repositories(ecr, "binder") == ["binder/binder-abc", "binder/binder-def", "binder/z"]
    assert all(force for _, force in ecr.deleted)  # images included


def test_the_hook_talks_to_the_cluster_of_the_stack_kubeconfig() -> None:
    kubeconfig = """
apiVersion: v1
kind: Config
clusters:
- {name: lab, cluster: {server: "https://203.0.113.10:6443"}}
- {name: other, cluster: {server: "https://198.51.100.1:6443"}}
users:
- {name: admin, user: {client-certificate-data: Y2VydA==, client-key-data: a2V5LXNlY3JldA==}}
contexts:
- {name: lab, context: {cluster: lab, user: admin}}
- {name: other, context: {cluster: other, user: admin}}
current-context: other
"""
    with kube_api_from_kubeconfig(kubeconfig, "lab") as api:
        configuration = api.api_client.configuration  # type: ignore[attr-defined]
        assert configuration.host == "https://203.0.113.10:6443"
        key_file = Path(configuration.key_file)
        assert key_file.read_bytes() == b"key-secret"
        if Path("/dev/shm").is_dir():  # in memory, not on a disk
            assert key_file.is_relative_to("/dev/shm")
    assert not key_file.exists(), "the client key outlived the cleanup"
    with kube_api_from_kubeconfig(kubeconfig, "lab") as again:  # a second teardown step works too
        assert Path(again.api_client.configuration.key_file).exists()  # type: ignore[attr-defined]
