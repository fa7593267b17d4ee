"""Capacity and safety, on the pods the running software builds (issue #16's "Done when").

The user pod is the one KubeSpawner builds for BinderHub's launch, the build pod the one
BinderHub creates, the core pods those the hub charts render; the pools are the cluster
resources the program creates (test_node_pools.pools). The scheduler's filters and the
NetworkPolicy semantics are ported in rules/.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_node_pools import pools

from config import parse_config
from config.capacity import memory_bytes, node_capacity

from .deployments import Deployment, deployments, hub_variants
from .rules.network_policy import egress_allowed
from .rules.scheduling import NodeTemplate, Pod, nodes_needed, quantity, why_not

METADATA = "169.254.169.254"
# Servers of 1 GB per user node of the committed stacks: prod Standard_E4s_v5 and aws m5.2xlarge
# (32 GiB - 3.56 GiB reserved - 100 MiB = 28.34 GiB = 30.4 GB), gcp n2-standard-4 (16 GiB - 2.6 GiB
# - 100 MiB = 13.3 GiB = 14.3 GB).
SERVERS_PER_NODE = {"prod": 30, "aws": 30, "gcp": 14}
PUBLIC = "140.82.112.3"  # github.com: builds clone from it


@pytest.fixture(params=hub_variants())
def deployment(request: pytest.FixtureRequest) -> Deployment:
    return deployments()[request.param]


def stack(deployment: Deployment) -> Any:
    return parse_config(deployment.variant.config, set(deployment.variant.secrets))


def _node(deployment: Deployment, purpose: str) -> NodeTemplate:
    """A new node of the cluster's `purpose` pool: its labels and taints as created, its size
    from the configured machine type."""
    pool = pools(deployment.run)[purpose]
    cfg = stack(deployment)
    size = cfg.cluster.user_node_size if purpose == "user" else cfg.cluster.node_size
    capacity = node_capacity(cfg.cloud, size)
    assert capacity is not None, f"{size}: no size rule"
    taints = []
    for text in pool.taints:
        key_value, effect = text.rsplit(":", 1)
        key, value = key_value.split("=", 1)
        taints.append({"key": key, "value": value, "effect": effect})
    return NodeTemplate(purpose, pool.labels, taints, capacity.cpus - 0.2, capacity.allocatable_memory)


def _user_pod(deployment: Deployment) -> dict[str, Any]:
    launch = deployment.launch
    assert "error" not in launch, launch.get("error")
    return launch["pod"]


def _rendered(deployment: Deployment, kind: str) -> list[dict[str, Any]]:
    return [o for o in deployment.objects if o.get("kind") == kind]


def _managed(deployment: Deployment) -> bool:
    return deployment.variant.managed


# ------------------------------------------------------------------ what pods reserve


def test_user_pods_reserve_and_are_limited_to_the_configured_resources(deployment: Deployment) -> None:
    user = stack(deployment).resources.user
    container = next(c for c in _user_pod(deployment)["spec"]["containers"] if c["name"] == "notebook")
    resources = container["resources"]
    assert quantity(resources["requests"]["cpu"]) == pytest.approx(user.cpu_guarantee)
    assert quantity(resources["limits"]["cpu"]) == pytest.approx(user.cpu_limit)
    assert quantity(resources["requests"]["memory"]) == memory_bytes(user.memory_guarantee)
    assert quantity(resources["limits"]["memory"]) == memory_bytes(user.memory_limit)


def test_build_pods_reserve_their_build(deployment: Deployment) -> None:
    build = stack(deployment).resources.build
    pod = deployment.binderhub["build_pod"]
    resources = pod["spec"]["containers"][0]["resources"]
    assert quantity(resources["requests"]["memory"]) == memory_bytes(build.memory_guarantee)
    assert quantity(resources["limits"]["memory"]) == memory_bytes(build.memory_limit)
    assert quantity(resources["requests"]["cpu"]) == pytest.approx(build.cpu_guarantee)


# ------------------------------------------------------------------ where pods run


def test_user_and_build_pods_need_the_user_pool_and_fit_a_new_user_node(deployment: Deployment) -> None:
    if not _managed(deployment):
        pytest.skip("an existing cluster's nodes are not the program's: z2jh only prefers user nodes there")
    user_node, core_node = _node(deployment, "user"), _node(deployment, "core")
    daemons = [
        (f"builder daemon {o['metadata']['name']}", o["spec"]["template"]["spec"])
        for o in _rendered(deployment, "DaemonSet")
        if {"image-builder", "docker-api"} & set(o["spec"]["template"]["metadata"].get("labels", {}).values())
    ]
    assert daemons, "no builder daemon rendered"  # managed clouds build with dind or pink
    for name, spec in (
        ("user pod", _user_pod(deployment)["spec"]),
        ("build pod", deployment.binderhub["build_pod"]["spec"]),
        *daemons,
    ):
        pod = Pod.from_spec(spec)
        # Pending on the core pool for its placement rule, never for a missing toleration, and
        # a new user node fits it: what makes the autoscaler add one.
        assert why_not(pod, core_node) in ("required node affinity does not match", "nodeSelector does not match"), name
        assert why_not(pod, user_node) is None, f"{name}: {why_not(pod, user_node)}"


def test_hub_proxy_and_binderhub_pods_never_land_on_user_nodes(deployment: Deployment) -> None:
    if not _managed(deployment):
        pytest.skip("no dedicated pools on an existing cluster")
    user_node = _node(deployment, "user")
    core_pods = [
        o
        for o in _rendered(deployment, "Deployment")
        if o["metadata"]["name"] in ("hub", "proxy", "binder", "binderhub")
    ]
    assert core_pods, "no hub Deployments rendered"
    for workload in core_pods:
        spec = workload["spec"]["template"]["spec"]
        assert why_not(Pod.from_spec(spec), user_node) is not None, workload["metadata"]["name"]


def test_the_launch_quota_fits_in_the_user_pool(deployment: Deployment) -> None:
    cfg = stack(deployment)
    total, _ = cfg.launch_quotas
    config = _binderhub_config(deployment)
    if total is None:
        assert "LaunchQuota" not in config
        pytest.skip("no quota: an existing cluster's size is not known")
    assert config["LaunchQuota"]["total_quota"] == total
    if deployment.variant.name in SERVERS_PER_NODE:
        # Worked out by hand from the published sizes and kubelet reservation tiers.
        assert total == SERVERS_PER_NODE[deployment.variant.name] * cfg.cluster.user_max_nodes
    pod = Pod.from_spec(_user_pod(deployment)["spec"])
    # As many servers as the quota admits run on at most userMaxNodes user nodes.
    assert nodes_needed(pod, _node(deployment, "user"), total) <= cfg.cluster.user_max_nodes


def _binderhub_config(deployment: Deployment) -> dict[str, Any]:
    run = deployment.run
    from harness import unwrap

    release = run.chart("binderhub")
    return unwrap(release.inputs["values"])["config"]


# ------------------------------------------------------------------ the metadata endpoint


def _policies(deployment: Deployment) -> list[dict[str, Any]]:
    from harness import unwrap

    own = [
        {"spec": unwrap(r.inputs)["spec"]}
        for r in deployment.run.of_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
    ]
    return _rendered(deployment, "NetworkPolicy") + own


def test_user_and_build_pods_cannot_reach_the_metadata_endpoint(deployment: Deployment) -> None:
    policies = _policies(deployment)
    user_labels = _user_pod(deployment)["metadata"]["labels"]
    build_labels = deployment.binderhub["build_pod"]["metadata"]["labels"]
    daemons = [
        o["spec"]["template"]["metadata"]["labels"]
        for o in _rendered(deployment, "DaemonSet")
        if "image-builder" in str(o["spec"]["template"]["metadata"]["labels"])
        or "docker-api" in str(o["spec"]["template"]["metadata"]["labels"])
    ]
    for name, labels in (("user pod", user_labels), ("build pod", build_labels), *(("builder", d) for d in daemons)):
        assert not egress_allowed(policies, labels, METADATA, 80), f"{name} reaches the metadata endpoint"
    # Builds still clone from the internet.
    assert egress_allowed(policies, build_labels, PUBLIC, 443)
