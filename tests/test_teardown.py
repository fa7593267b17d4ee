"""`pulumi destroy`: the delete hooks' own logic (draining user storage, deleting ECR repositories).

The order `pulumi destroy` deletes things in, and what it must not leave behind, is checked on
every stack and variant in test_invariants.py.
"""

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from components.cleanup import drain_user_workloads, kube_api_from_kubeconfig
from components.registry.ecr import delete_ecr_repositories

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
