"""The clusters the program creates, compared across clouds: dedicated user pools that scale,
network policy enforced, instance metadata out of pods' reach.

What z2jh and BinderHub expect of the nodes (z2jh `scheduling.userPods.nodeAffinity` with
`matchNodePurpose: require`, and the tolerations of user and build pods): user nodes labelled
`hub.jupyter.org/node-purpose=user` and tainted `hub.jupyter.org/dedicated=user:NoSchedule`
(GKE: `hub.jupyter.org_dedicated`, which both tolerate too), core nodes labelled `core` and not
tainted, so the hub, proxy, BinderHub and the ingress controller run there.
Each cloud's own details are in test_azure.py, test_aws.py and test_gcp.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest

from harness import Program, ProgramRun, stack_file_config, unwrap
from variants import VARIANTS, deploy

MANAGED = [name for name, variant in VARIANTS.items() if variant.managed]
# The taints user and build pods tolerate (z2jh's singleuser defaults, BinderHub's build pods).
TOLERATED_USER_TAINTS = {"hub.jupyter.org/dedicated=user:NoSchedule", "hub.jupyter.org_dedicated=user:NoSchedule"}
# The managed node groups' and GKE's spelling of a taint effect, as kubectl shows it.
EFFECTS = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}


@dataclass(frozen=True)
class Pool:
    """One node pool as Kubernetes sees its nodes, and its autoscaling bounds (None: fixed)."""

    labels: dict[str, str]
    taints: set[str]  # "key=value:Effect"
    bounds: tuple[int, int] | None


def _taint(taint: dict[str, Any]) -> str:
    return f"{taint['key']}={taint['value']}:{EFFECTS[taint['effect']]}"


def pools(run: ProgramRun) -> dict[str, Pool]:
    """The core and user pools of the cluster in `run`, whatever the cloud."""
    if run.of_type("azure-native:containerservice:ManagedCluster"):
        (core,) = unwrap(run.one("azure-native:containerservice:ManagedCluster").inputs)["agentPoolProfiles"]
        user = unwrap(run.one("azure-native:containerservice:AgentPool").inputs)
        return {
            "core": Pool(core.get("nodeLabels", {}), set(core.get("nodeTaints", [])), None),
            "user": Pool(
                user.get("nodeLabels", {}),
                set(user.get("nodeTaints", [])),
                (user["minCount"], user["maxCount"]) if user["enableAutoScaling"] else None,
            ),
        }
    if run.of_type("eks:index:ManagedNodeGroup"):
        found = {}
        for purpose in ("core", "user"):
            group = unwrap(run.one("eks:index:ManagedNodeGroup", f"cluster-{purpose}").inputs)
            scaling = group["scalingConfig"]
            bounds = (scaling["minSize"], scaling["maxSize"])
            found[purpose] = Pool(
                group.get("labels", {}),
                {_taint(t) for t in group.get("taints", [])},
                None if bounds[0] == bounds[1] else bounds,
            )
        return found
    found = {}
    for purpose in ("core", "user"):
        pool = unwrap(run.one("gcp:container/nodePool:NodePool", f"cluster-{purpose}").inputs)
        scaling = pool.get("autoscaling")
        found[purpose] = Pool(
            pool["nodeConfig"].get("labels", {}),
            {_taint(t) for t in pool["nodeConfig"].get("taints", [])},
            (scaling["totalMinNodeCount"], scaling["totalMaxNodeCount"]) if scaling else None,
        )
    return found


# ----------------------------------------------------------------------------- dedicated pools


@pytest.mark.parametrize("name", MANAGED)
def test_user_nodes_take_only_user_and_build_pods(name: str) -> None:
    found = pools(deploy(name))
    assert found["user"].labels == {"hub.jupyter.org/node-purpose": "user"}
    assert len(found["user"].taints) == 1 and found["user"].taints <= TOLERATED_USER_TAINTS
    # Core pods (hub, proxy, BinderHub, ingress) tolerate nothing and go to the core nodes.
    assert found["core"].labels == {"hub.jupyter.org/node-purpose": "core"}
    assert found["core"].taints == set()
    assert found["core"].bounds is None, "the core pool has a fixed size"


@pytest.mark.parametrize("name", MANAGED)
def test_the_user_pool_scales_between_the_configured_bounds(name: str) -> None:
    cluster = VARIANTS[name].config.get("cluster") or {}
    run = deploy(name)
    bounds = pools(run)["user"].bounds
    assert bounds is not None
    if "userMinNodes" in cluster:
        assert bounds == (cluster["userMinNodes"], cluster["userMaxNodes"])


# The same keys on every cloud: the user pool's fewest and most nodes, over all its zones.
BOUNDS = {"userMinNodes": 2, "userMaxNodes": 7}
CLOUD_STACKS = {"azure": "prod", "aws": "aws", "gcp-zonal": "gcp", "gcp-regional": "gcp"}


def _with_bounds(target: str) -> ProgramRun:
    config = stack_file_config(CLOUD_STACKS[target])
    cluster = {**config["cluster"], **BOUNDS}
    if target == "gcp-regional":  # three zones: the pool's bounds are still totals
        cluster.pop("zone", None)
    config["cluster"] = cluster
    secrets = {"oauthClientSecret": "client-secret"} if target == "azure" else {}
    run = Program(config, secrets, stack=CLOUD_STACKS[target]).run()
    assert run.error is None, repr(run.error)
    return run


@pytest.mark.parametrize("target", sorted(CLOUD_STACKS))
def test_user_min_and_max_nodes_mean_the_same_on_every_cloud(target: str) -> None:
    run = _with_bounds(target)
    assert pools(run)["user"].bounds == (2, 7)


def test_gke_regional_user_pool_starts_no_more_nodes_than_user_min_nodes_allows() -> None:
    # GKE's initial count is per zone: 2 over three zones rounds up to one node in each.
    user = unwrap(_with_bounds("gcp-regional").one("gcp:container/nodePool:NodePool", "cluster-user").inputs)
    assert user["initialNodeCount"] == 1
    assert user["autoscaling"]["totalMinNodeCount"] == 2


def test_eks_has_an_autoscaler_that_finds_the_user_group() -> None:
    # AKS and GKE scale their pools themselves; on EKS the cluster-autoscaler does, and it only
    # touches groups whose ASG carries its discovery tags.
    run = _with_bounds("aws")
    values = unwrap(run.chart("cluster-autoscaler").inputs["values"])
    cluster = run.outputs["cluster_name"].value
    assert values["autoDiscovery"]["clusterName"] == cluster
    tags = {t["key"]: t["value"] for t in (unwrap(r.inputs)["tag"] for r in run.of_type("aws:autoscaling/tag:Tag"))}
    assert {"k8s.io/cluster-autoscaler/enabled", f"k8s.io/cluster-autoscaler/{cluster}"} <= set(tags)


# ----------------------------------------------------------------------------- network policy


def network_policy_engine(run: ProgramRun) -> str | None:
    """What enforces NetworkPolicy on the cluster in `run` (None: nothing does)."""
    if run.of_type("azure-native:containerservice:ManagedCluster"):
        profile = unwrap(run.one("azure-native:containerservice:ManagedCluster").inputs)["networkProfile"]
        return profile.get("networkPolicy")
    if run.of_type("eks:index:Cluster"):
        # The vpc-cni managed add-on the program makes (pulumi-eks makes none: useDefaultVpcCni).
        (addon,) = [a for a in run.of_type("aws:eks/addon:Addon") if a.inputs["addonName"] == "vpc-cni"]
        configuration = json.loads(unwrap(addon.inputs).get("configurationValues") or "{}")
        return "vpc-cni" if configuration.get("enableNetworkPolicy") == "true" else None
    cluster = unwrap(run.one("gcp:container/cluster:Cluster").inputs)
    if cluster.get("datapathProvider") == "ADVANCED_DATAPATH":
        return "dataplane-v2"
    return "calico" if (cluster.get("networkPolicy") or {}).get("enabled") else None


@pytest.mark.parametrize("name", MANAGED)
def test_every_cluster_the_program_creates_enforces_network_policy(name: str) -> None:
    assert network_policy_engine(deploy(name)) in {"cilium", "calico", "vpc-cni", "dataplane-v2"}


# ----------------------------------------------------------------------------- instance metadata


@pytest.mark.parametrize("name", [n for n in MANAGED if VARIANTS[n].cloud == "aws"])
def test_eks_pods_get_no_answer_from_the_instance_metadata_service(name: str) -> None:
    run = deploy(name)
    templates = {r.urn: unwrap(r.inputs) for r in run.of_type("aws:ec2/launchTemplate:LaunchTemplate")}
    for purpose in ("core", "user"):
        group = run.one("eks:index:ManagedNodeGroup", f"cluster-{purpose}")
        (template,) = [templates[urn] for urn in group.dependencies if urn in templates]
        options = template["metadataOptions"]
        # IMDSv2 only, and its token does not survive the hop into a pod's network namespace.
        assert options["httpTokens"] == "required"
        assert options["httpPutResponseHopLimit"] == 1
        assert "launchTemplate" in unwrap(group.inputs)


@pytest.mark.parametrize("name", [n for n in MANAGED if VARIANTS[n].cloud == "gcp"])
def test_gke_pods_see_the_gke_metadata_server_not_the_nodes(name: str) -> None:
    run = deploy(name)
    cluster = unwrap(run.one("gcp:container/cluster:Cluster").inputs)
    assert cluster["workloadIdentityConfig"]["workloadPool"].endswith(".svc.id.goog")
    for pool in run.of_type("gcp:container/nodePool:NodePool"):
        assert unwrap(pool.inputs)["nodeConfig"]["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
