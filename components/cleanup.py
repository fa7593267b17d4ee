"""Teardown of what the charts do not own, run by a Pulumi resource hook.

KubeSpawner's user servers and their volume claims are not Pulumi resources. Deleting their
namespace or the cluster would strand them: a cloud disk whose claim is deleted is released by
the CSI driver some time later, and a cluster deleted in between leaves the disk billed
forever. This hook deletes them first and waits. (ECR's run-time repositories have their own
hook, in registry/ecr.py.) Delete hooks run under `pulumi destroy --run-program` (what
`make destroy` runs; the engine refuses a plain destroy of a stack that has them).
"""

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

import pulumi

# Pods KubeSpawner (user servers) and BinderHub (image builds) create in the hub namespace.
USER_POD_SELECTORS = ("component=singleuser-server", "component=binderhub-build")
VOLUME_WAIT_SECONDS = 600


class KubeApi(Protocol):
    """The part of `kubernetes.client.CoreV1Api` the cleanup uses."""

    def list_namespaced_pod(self, namespace: str, **kwargs: Any) -> Any: ...
    def delete_namespaced_pod(self, name: str, namespace: str, **kwargs: Any) -> Any: ...
    def list_namespaced_persistent_volume_claim(self, namespace: str, **kwargs: Any) -> Any: ...
    def delete_namespaced_persistent_volume_claim(self, name: str, namespace: str, **kwargs: Any) -> Any: ...
    def list_persistent_volume(self, **kwargs: Any) -> Any: ...


def _names(listing: Any) -> list[str]:
    return [item.metadata.name for item in listing.items]


def pending_volumes(api: KubeApi, namespace: str) -> list[str]:
    """Volumes bound to the namespace's claims that the driver will delete (reclaim policy Delete)."""
    return [
        pv.metadata.name
        for pv in api.list_persistent_volume().items
        if pv.spec.claim_ref is not None
        and pv.spec.claim_ref.namespace == namespace
        and pv.spec.persistent_volume_reclaim_policy == "Delete"
    ]


def drain_user_workloads(
    api: KubeApi,
    namespace: str,
    *,
    timeout: float = VOLUME_WAIT_SECONDS,
    poll: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> list[str]:
    """Delete user servers, build pods and claims, then wait for their volumes; returns leftovers."""
    for selector in USER_POD_SELECTORS:
        for pod in _names(api.list_namespaced_pod(namespace, label_selector=selector)):
            api.delete_namespaced_pod(pod, namespace, grace_period_seconds=0)
    for claim in _names(api.list_namespaced_persistent_volume_claim(namespace)):
        api.delete_namespaced_persistent_volume_claim(claim, namespace)
    deadline = clock() + timeout
    while True:
        left = pending_volumes(api, namespace)
        if not left or clock() >= deadline:
            return left
        sleep(poll)


@contextmanager
def kube_api_from_kubeconfig(kubeconfig: str, context: str | None) -> Iterator[KubeApi]:
    """A Kubernetes API client for the stack's kubeconfig.

    Python's TLS loads client certificates and keys only from files: the client writes them to
    a private directory in memory (/dev/shm where it exists), removed as soon as we are done.
    """
    import kubernetes  # only needed at teardown
    import yaml

    memory = "/dev/shm" if os.path.isdir("/dev/shm") else None
    key_dir = tempfile.mkdtemp(prefix="binderhub-kube-", dir=memory)
    try:
        client = kubernetes.config.new_client_from_config_dict(
            yaml.safe_load(kubeconfig), context=context, temp_file_path=key_dir
        )
        yield kubernetes.client.CoreV1Api(client)
    finally:
        shutil.rmtree(key_dir, ignore_errors=True)
        # The client caches the files it wrote by content: forget the ones just removed.
        cache: dict[str, str] = kubernetes.config.kube_config._temp_files
        for content, path in list(cache.items()):
            if path.startswith(key_dir):
                del cache[content]


def user_storage_hook(
    name: str,
    namespace: str,
    kubeconfig: pulumi.Output[str],
    context: str | None = None,
    api_factory: Callable[[str, str | None], AbstractContextManager[KubeApi]] = kube_api_from_kubeconfig,
) -> pulumi.ResourceHook:
    """A before-delete hook for the hub namespace: user pods, claims and their disks go first."""
    known: dict[str, str] = {}
    kubeconfig.apply(lambda value: known.update(kubeconfig=value))

    def drain(args: pulumi.ResourceHookArgs) -> None:
        if "kubeconfig" not in known:
            pulumi.log.warn(f"cannot reach the cluster to remove user volumes in {namespace}: check `kubectl get pv`")
            return
        with api_factory(known["kubeconfig"], context) as api:
            left = drain_user_workloads(api, namespace)
        if left:
            pulumi.log.warn(
                f"volumes of namespace {namespace} still exist after {VOLUME_WAIT_SECONDS} s: {', '.join(left)}. "
                "Their cloud disks may outlive the cluster: check `kubectl get pv` and the cloud's disk list."
            )

    # Errors become warnings: a teardown must not stop half-way because of a slow driver.
    return pulumi.ResourceHook(f"{name}-drain-user-storage", drain, pulumi.ResourceHookOptions(ignore_errors=True))
