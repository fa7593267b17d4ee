"""Capacity values: what user servers and builds reserve, where they run, how many may run."""

from components.values.capacity import (
    build_executor_config,
    builder_placement,
    launch_quota_config,
    z2jh_capacity_values,
)
from config.capacity import ResourcesConfig

DEFAULTS = ResourcesConfig.model_validate({})


def test_user_servers_reserve_and_are_limited_to_what_is_configured() -> None:
    values = z2jh_capacity_values(DEFAULTS.user, dedicated_pools=False)
    # z2jh's own keys (singleuser.cpu/memory.guarantee/limit), mybinder.org-like defaults.
    assert values["singleuser"] == {
        "cpu": {"guarantee": 0.1, "limit": 1.0},
        # Bytes: KubeSpawner would read "1G" as 2**30 (see z2jh_capacity_values).
        "memory": {"guarantee": 10**9, "limit": 2 * 10**9},
    }
    assert "scheduling" not in values  # no pool labels to require on an existing cluster


def test_with_dedicated_pools_user_and_core_pods_require_their_pool() -> None:
    scheduling = z2jh_capacity_values(DEFAULTS.user, dedicated_pools=True)["scheduling"]
    assert scheduling["userPods"]["nodeAffinity"]["matchNodePurpose"] == "require"
    assert scheduling["corePods"]["nodeAffinity"]["matchNodePurpose"] == "require"


def test_build_pods_reserve_their_build() -> None:
    resources = build_executor_config(DEFAULTS.build)["KubernetesBuildExecutor"]["resources"]
    assert resources == {"requests": {"cpu": 0.5, "memory": "1G"}, "limits": {"cpu": 2.0, "memory": "3G"}}


def test_builds_and_their_daemons_go_to_the_user_pool_with_each_chart_s_key() -> None:
    user = {"hub.jupyter.org/node-purpose": "user"}
    assert builder_placement("classic", True) == {"config": {"BinderHub": {"build_node_selector": user}}}
    service = builder_placement("service", True)
    assert service["dockerApi"]["nodeSelector"] == user
    assert service["config"]["KubernetesBuildExecutor"]["node_selector"] == user
    assert builder_placement("classic", False) == builder_placement("service", False) == {}


def test_user_placeholders_come_with_pod_priority() -> None:
    scheduling = z2jh_capacity_values(DEFAULTS.user, dedicated_pools=False, placeholders=3)["scheduling"]
    assert scheduling["userPlaceholder"] == {"enabled": True, "replicas": 3}
    assert scheduling["podPriority"]["enabled"] is True  # else a server cannot evict a placeholder


def test_quotas_become_binderhub_traitlets_only_when_set() -> None:
    assert launch_quota_config(45, 22) == {"LaunchQuota": {"total_quota": 45}, "BinderHub": {"per_repo_quota": 22}}
    assert launch_quota_config(None, None) == {}
