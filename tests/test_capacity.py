"""Capacity arithmetic: machine sizes read from their names, what a node holds, derived quotas."""

import pytest

from config.capacity import (
    GIB,
    LaunchQuotaConfig,
    NodeCapacity,
    PodResources,
    ResourcesConfig,
    default_quotas,
    fit_problems,
    memory_bytes,
    node_capacity,
    servers_per_node,
)


@pytest.mark.parametrize(
    ("cloud", "size", "cpus", "gib"),
    [
        # The clouds' published sizes (Azure Dv3/Ev5, EC2 M5/T3/C5/R5, GCE N2/E2).
        ("azure", "Standard_D4s_v3", 4, 16),
        ("azure", "Standard_D2s_v3", 2, 8),
        ("azure", "Standard_E4s_v5", 4, 32),
        ("azure", "Standard_E4-2s_v3", 2, 32),  # constrained vCPUs, the full size's memory
        ("aws", "m5.2xlarge", 8, 32),
        ("aws", "t3.large", 2, 8),
        ("aws", "t3.medium", 2, 4),
        ("aws", "c5.xlarge", 4, 8),
        ("aws", "r5.large", 2, 16),
        ("gcp", "n2-standard-4", 4, 16),
        ("gcp", "e2-standard-2", 2, 8),
        ("gcp", "n2-highmem-8", 8, 64),
        ("azure", "Standard_D4ls_v5", 4, 8),  # 'l': low memory
        ("azure", "Standard_DS2_v2", 2, 7),  # Dv2: 3.5 GiB per vCPU
        ("gcp", "n1-highmem-4", 4, 26),
        ("aws", "c7g.medium", 1, 2),
    ],
)
def test_machine_sizes_are_read_from_their_names(cloud: str, size: str, cpus: int, gib: float) -> None:
    assert node_capacity(cloud, size) == NodeCapacity(cpus, int(gib * GIB))


@pytest.mark.parametrize(("cloud", "size"), [("azure", "Standard_B2s"), ("aws", "x1e.xlarge"), ("gcp", "e2-medium")])
def test_sizes_without_a_rule_are_unknown_not_guessed(cloud: str, size: str) -> None:
    assert node_capacity(cloud, size) is None


@pytest.mark.parametrize(("quantity", "expected"), [("2G", 2 * 10**9), ("1.5Gi", 3 * 2**29), ("512Mi", 2**29)])
def test_memory_quantities(quantity: str, expected: int) -> None:
    assert memory_bytes(quantity) == expected


@pytest.mark.parametrize("quantity", ["2GB", "two", "-1G", "1 G", "1g"])
def test_what_kubernetes_would_refuse_is_not_a_memory_size(quantity: str) -> None:
    with pytest.raises(ValueError, match="not a memory size"):
        memory_bytes(quantity)


def test_the_kubelet_reservation_follows_the_published_tiers() -> None:
    # 16 GiB: 25% of 4 + 20% of 4 + 10% of 8 = 2.6 GiB, and 100 MiB eviction: 13.3 GiB left.
    assert NodeCapacity(4, 16 * GIB).allocatable_memory == int(16 * GIB - 2.6 * GIB - 100 * 2**20)
    # 32 GiB: 2.6 GiB + 6% of 16 GiB = 3.56 GiB.
    assert NodeCapacity(8, 32 * GIB).allocatable_memory == int(32 * GIB - 3.56 * GIB - 100 * 2**20)


def test_a_16_gib_node_holds_fourteen_1g_servers() -> None:
    # 13.3 GiB = 14.28 GB: 14 servers of 1 GB; 4 CPUs / 0.1 = 38.
    node = NodeCapacity(4, 16 * GIB)
    user = ResourcesConfig.model_validate({}).user
    assert servers_per_node(node, user) == 14
    # CPU-bound when the CPU guarantee is large: (4 - 0.2) / 1 = 3.
    heavy = PodResources.model_validate(
        {"cpuGuarantee": 1, "cpuLimit": 1, "memoryGuarantee": "1G", "memoryLimit": "1G"}
    )
    assert servers_per_node(node, heavy) == 3


def test_a_limit_larger_than_the_node_is_named() -> None:
    big = ResourcesConfig.model_validate({"user": {"memoryLimit": "64G", "cpuLimit": 16}})
    problems = fit_problems(NodeCapacity(4, 16 * GIB), "Standard_D4s_v3", big)
    assert any("resources.user.memoryLimit '64G' does not fit a user node Standard_D4s_v3" in p for p in problems)
    assert any("resources.user.cpuLimit 16 exceeds the 4 vCPUs" in p for p in problems)
    assert not fit_problems(NodeCapacity(4, 16 * GIB), "Standard_D4s_v3", ResourcesConfig.model_validate({}))


def test_a_guarantee_above_its_limit_is_refused() -> None:
    with pytest.raises(ValueError, match=r"memoryGuarantee \(3G\) exceeds memoryLimit \(2G\)"):
        ResourcesConfig.model_validate({"user": {"memoryGuarantee": "3G"}})
    with pytest.raises(ValueError, match=r"cpuGuarantee \(2.0\) exceeds cpuLimit \(1.0\)"):
        ResourcesConfig.model_validate({"user": {"cpuGuarantee": 2}})


def test_millicores_are_cpus() -> None:
    assert ResourcesConfig.model_validate({"user": {"cpuGuarantee": "250m"}}).user.cpu_guarantee == 0.25


def test_quotas_default_to_the_pool_and_half_of_it_per_repository() -> None:
    assert default_quotas(45, LaunchQuotaConfig.model_validate({})) == (45, 22)
    assert default_quotas(45, LaunchQuotaConfig.model_validate({"perRepo": 5})) == (45, 5)
    assert default_quotas(None, LaunchQuotaConfig.model_validate({})) == (None, None)
    assert default_quotas(None, LaunchQuotaConfig.model_validate({"total": 30})) == (30, 15)
