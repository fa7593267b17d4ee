"""Where user servers and builds run, what they reserve, and how many may run: Helm values.

Pure functions over typed settings; the hub values (components/values/jupyterhub.py,
binderhub.py) merge what they return.

With dedicated pools (the managed clouds: a user pool labelled `hub.jupyter.org/node-purpose=user`
and tainted `hub.jupyter.org/dedicated=user`, a core pool labelled `...=core`), user servers,
build pods and the builder daemons *require* the user pool, and the hub, proxy and BinderHub
*require* the core pool, so neither crowds the other and the autoscaler adds user nodes when
user pods are pending. On an existing cluster without those labels z2jh's `prefer` is kept.
"""

from typing import Any

from components.cluster import NODE_PURPOSE_LABEL
from config.capacity import PodResources, memory_bytes

USER_NODES = {NODE_PURPOSE_LABEL: "user"}
# The user pool's taint in both spellings (GKE allows no '/' in taint keys), as z2jh and
# BinderHub's build pods tolerate it.
USER_TOLERATIONS = [
    {"key": key, "operator": "Equal", "value": "user", "effect": "NoSchedule"}
    for key in ("hub.jupyter.org/dedicated", "hub.jupyter.org_dedicated")
]


def _kubernetes_resources(pods: PodResources) -> dict[str, Any]:
    return {
        "requests": {"cpu": pods.cpu_guarantee, "memory": pods.memory_guarantee},
        "limits": {"cpu": pods.cpu_limit, "memory": pods.memory_limit},
    }


def z2jh_capacity_values(user: PodResources, dedicated_pools: bool, placeholders: int = 0) -> dict[str, Any]:
    """z2jh keys (top level of the `jupyterhub` chart, or under `jupyterhub:` of the classic chart):
    each server's `singleuser.cpu` / `singleuser.memory`, node placement, and `placeholders`
    user placeholder pods (z2jh sizes them like a server; pod priority lets servers evict them)."""
    values: dict[str, Any] = {
        "singleuser": {
            "cpu": {"guarantee": user.cpu_guarantee, "limit": user.cpu_limit},
            # In bytes: KubeSpawner reads "1G" as 2**30 bytes (its ByteSpecification), Kubernetes
            # and this program's config as 10**9; a number means the same to both.
            "memory": {"guarantee": memory_bytes(user.memory_guarantee), "limit": memory_bytes(user.memory_limit)},
        }
    }
    scheduling: dict[str, Any] = {}
    if dedicated_pools:
        scheduling |= {
            "userPods": {"nodeAffinity": {"matchNodePurpose": "require"}},
            "corePods": {"nodeAffinity": {"matchNodePurpose": "require"}},
        }
    if placeholders:
        scheduling |= {"podPriority": {"enabled": True}, "userPlaceholder": {"enabled": True, "replicas": placeholders}}
    if scheduling:
        values["scheduling"] = scheduling
    return values


def build_executor_config(build: PodResources) -> dict[str, Any]:
    """`KubernetesBuildExecutor.resources`: the build pod's request reserves room on its node
    for the build the daemon beside it runs (BinderHub's note on build memory requests)."""
    return {"KubernetesBuildExecutor": {"resources": _kubernetes_resources(build)}}


def builder_placement(shape: str, dedicated_pools: bool) -> dict[str, Any]:
    """Values putting build pods and their builder daemons on the user pool (dedicated pools).

    BinderHub's build pods already tolerate the user taint, and the builder daemons (which must
    share a node with the build pods that use their socket) tolerate it too. The classic chart
    places its daemons by `config.BinderHub.build_node_selector`, which BinderHub also applies
    to build pods (a deprecated alias of `KubernetesBuildExecutor.node_selector`, logged once at
    start); binderhub-service takes `dockerApi.nodeSelector` and the executor's own trait.
    """
    if not dedicated_pools:
        return {}
    if shape == "classic":
        return {"config": {"BinderHub": {"build_node_selector": dict(USER_NODES)}}}
    return {
        # binderhub-service's daemon tolerates nothing by default (the classic chart's does).
        "dockerApi": {"nodeSelector": dict(USER_NODES), "tolerations": USER_TOLERATIONS},
        "config": {"KubernetesBuildExecutor": {"node_selector": dict(USER_NODES)}},
    }


def launch_quota_config(total: int | None, per_repo: int | None) -> dict[str, Any]:
    """`LaunchQuota.total_quota` and `BinderHub.per_repo_quota` (absent: no quota)."""
    config: dict[str, Any] = {}
    if total is not None:
        config["LaunchQuota"] = {"total_quota": total}
    if per_repo is not None:
        config["BinderHub"] = {"per_repo_quota": per_repo}
    return config
