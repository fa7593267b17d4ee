"""What user servers and builds may use, and how many the user pool holds.

`ResourcesConfig` (`binderhub:resources`) and `LaunchQuotaConfig` (`binderhub:launchQuota`),
plus `node_capacity`, the vCPUs and memory of a cloud's machine type read from its name, used
to check that a limit fits a user node and to derive launch quotas from the pool's size.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from config.base import Model

# Kubernetes quantities (k8s.io/apimachinery resource.Quantity): decimal (k, M, G, T) and binary
# (Ki, Mi, Gi, Ti) suffixes; z2jh and KubeSpawner pass them through to the pod unchanged.
_MEMORY = re.compile(r"(\d+(?:\.\d+)?)(k|M|G|T|Ki|Mi|Gi|Ti)?")
_MEMORY_FACTORS = {
    None: 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}
GIB = 2**30


def memory_bytes(quantity: str) -> int:
    """Bytes of a Kubernetes memory quantity ("2G", "512Mi"); ValueError for anything else."""
    match = _MEMORY.fullmatch(quantity)
    if not match:
        raise ValueError("is not a memory size: expected a Kubernetes quantity like 2G, 1.5Gi or 512Mi")
    return int(float(match.group(1)) * _MEMORY_FACTORS[match.group(2)])


def _memory(value: str) -> str:
    memory_bytes(value)
    return value


def _cpu(value: Any) -> Any:
    # Kubernetes also writes CPUs in millicores ("500m"); the charts take numbers.
    if isinstance(value, str) and re.fullmatch(r"\d+m", value):
        return int(value[:-1]) / 1000
    return value


Memory = Annotated[str, AfterValidator(_memory)]
Cpu = Annotated[float, BeforeValidator(_cpu), Field(gt=0, le=1024)]


class PodResources(Model):
    """Requests (guarantee) and limits of one kind of pod."""

    cpu_guarantee: Cpu
    """CPUs reserved for each pod (Kubernetes request), e.g. 0.5 or 500m."""
    cpu_limit: Cpu
    """Most CPUs a pod may use (Kubernetes limit)."""
    memory_guarantee: Memory
    """Memory reserved for each pod (Kubernetes request), e.g. 1G."""
    memory_limit: Memory
    """Most memory a pod may use before it is killed (Kubernetes limit)."""

    @model_validator(mode="after")
    def _guarantee_within_limit(self) -> PodResources:
        problems = []
        if self.cpu_guarantee > self.cpu_limit:
            problems.append(f"cpuGuarantee ({self.cpu_guarantee}) exceeds cpuLimit ({self.cpu_limit})")
        if memory_bytes(self.memory_guarantee) > memory_bytes(self.memory_limit):
            problems.append(f"memoryGuarantee ({self.memory_guarantee}) exceeds memoryLimit ({self.memory_limit})")
        if problems:
            raise ValueError("\n".join(problems))
        return self


# Defaults a public Binder runs on: mybinder.org promises users at least 1 GB and at most 2 GB,
# and one CPU at most; a small CPU request packs many mostly idle notebooks on a node. Builds
# get what repo2docker needs for a typical conda environment.
USER_DEFAULT = {"cpuGuarantee": 0.1, "cpuLimit": 1, "memoryGuarantee": "1G", "memoryLimit": "2G"}
BUILD_DEFAULT = {"cpuGuarantee": 0.5, "cpuLimit": 2, "memoryGuarantee": "1G", "memoryLimit": "3G"}


def _with_defaults(defaults: dict[str, Any]) -> BeforeValidator:
    return BeforeValidator(lambda value: {**defaults, **value} if isinstance(value, dict) else value)


class ResourcesConfig(Model):
    """CPU and memory of user servers (z2jh `singleuser.cpu/memory`) and of builds
    (BinderHub `KubernetesBuildExecutor.resources`)."""

    user: Annotated[PodResources, _with_defaults(USER_DEFAULT)] = Field(
        default_factory=lambda: PodResources.model_validate(USER_DEFAULT)
    )
    """Each user server: cpuGuarantee 0.1, cpuLimit 1, memoryGuarantee 1G, memoryLimit 2G by default."""
    build: Annotated[PodResources, _with_defaults(BUILD_DEFAULT)] = Field(
        default_factory=lambda: PodResources.model_validate(BUILD_DEFAULT)
    )
    """Each build pod: cpuGuarantee 0.5, cpuLimit 2, memoryGuarantee 1G, memoryLimit 3G by default."""


class LaunchQuotaConfig(Model):
    """How many servers may run at once (BinderHub `LaunchQuota.total_quota`) and from one
    repository (`BinderHub.per_repo_quota`); default: derived from the user pool's size."""

    total: int | None = Field(None, ge=1)
    """Most servers running at once; default: what userMaxNodes user nodes hold."""
    per_repo: int | None = Field(None, ge=1)
    """Most servers of one repository at once; default: half the total."""


@dataclass(frozen=True)
class NodeCapacity:
    cpus: int
    memory_bytes: int

    @property
    def allocatable_memory(self) -> int:
        """Memory pods can request: capacity minus the kubelet's reservation and eviction threshold.

        GKE's published tiers (cloud.google.com/kubernetes-engine/docs/concepts/plan-node-sizes,
        also AKS's before Kubernetes 1.29): 25% of the first 4 GiB, 20% of the next 4, 10% of the
        next 8, 6% of the next 112, 2% above, and 100 MiB for eviction. EKS reserves less, so on
        EKS this errs on the safe side.
        """
        reserved, left = 0.0, float(self.memory_bytes)
        for size, share in ((4 * GIB, 0.25), (4 * GIB, 0.20), (8 * GIB, 0.10), (112 * GIB, 0.06), (float("inf"), 0.02)):
            part = min(left, size)
            reserved += part * share
            left -= part
        return int(self.memory_bytes - reserved - 100 * 2**20)


# GiB of memory per vCPU by machine family (the clouds' published size tables).
_AZURE_GIB_PER_CPU = {"D": 4.0, "E": 8.0, "F": 2.0}  # B-series sizes vary (B2s 4 GiB, B2ms 8 GiB): no rule
_AWS_GIB_PER_CPU = {"m": 4, "t": 4, "c": 2, "r": 8}
_AWS_SIZE_CPUS = {"large": 2, "xlarge": 4}
_GCP_GIB_PER_CPU = {"standard": 4.0, "highmem": 8.0, "highcpu": 1.0}
_GCP_N1_GIB_PER_CPU = {"standard": 3.75, "highmem": 6.5, "highcpu": 0.9}


def node_capacity(cloud: str, size: str) -> NodeCapacity | None:
    """vCPUs and memory of `size` on `cloud`, read from its name; None when the name does not say.

    Azure `Standard_<family><vCPUs>...`, AWS `<family>.<size>` (xlarge = 4 vCPUs, Nxlarge = 4N),
    GCP `<series>-<standard|highmem|highcpu>-<vCPUs>`. Families outside the tables above give None.
    """
    if cloud == "azure":
        match = re.fullmatch(r"Standard_([A-Z])[A-Z]*(\d+)(?:-(\d+))?([a-z]*)(?:_v(\d+))?", size)
        if match and match.group(1) in _AZURE_GIB_PER_CPU:
            cpus = int(match.group(2))  # constrained sizes keep the memory of the full size
            per_cpu = _AZURE_GIB_PER_CPU[match.group(1)]
            if match.group(1) == "D":
                # Dl*: low memory, 2 GiB per vCPU; D and Dv2 (DS2_v2): 3.5 GiB; Dv3 and later: 4.
                per_cpu = 2.0 if "l" in match.group(4) else 3.5 if (match.group(5) or "2") == "2" else 4.0
            return NodeCapacity(int(match.group(3) or cpus), int(cpus * per_cpu * GIB))
    if cloud == "aws":
        match = re.fullmatch(r"([a-z])\d+[a-z]*\.(\d*)(medium|large|xlarge)", size)
        if match and match.group(1) in _AWS_GIB_PER_CPU:
            family, per_cpu = match.group(1), _AWS_GIB_PER_CPU[match.group(1)]
            if match.group(3) == "medium":  # burstable t*.medium: 2 vCPUs, 4 GiB; others one vCPU
                return NodeCapacity(2, 4 * GIB) if family == "t" else NodeCapacity(1, per_cpu * GIB)
            cpus = _AWS_SIZE_CPUS[match.group(3)] * int(match.group(2) or 1)
            return NodeCapacity(cpus, cpus * per_cpu * GIB)
    if cloud == "gcp":
        match = re.fullmatch(r"([a-z0-9]+)-(standard|highmem|highcpu)-(\d+)", size)
        if match:
            cpus = int(match.group(3))
            table = _GCP_N1_GIB_PER_CPU if match.group(1) == "n1" else _GCP_GIB_PER_CPU
            return NodeCapacity(cpus, int(cpus * table[match.group(2)] * GIB))
    return None


def servers_per_node(node: NodeCapacity, user: PodResources) -> int:
    """User servers one node holds by their requests (memory or CPU, whichever runs out first)."""
    by_memory = node.allocatable_memory // memory_bytes(user.memory_guarantee)
    by_cpu = math.floor((node.cpus - 0.2) / user.cpu_guarantee)  # ~0.2 CPU for node daemons
    return max(0, min(by_memory, by_cpu))


def fit_problems(node: NodeCapacity, size: str, resources: ResourcesConfig) -> list[str]:
    """Lines naming each limit a user node of `size` cannot give one pod."""
    problems = []
    for kind, pods in (("user", resources.user), ("build", resources.build)):
        if memory_bytes(pods.memory_limit) > node.allocatable_memory:
            problems.append(
                f"resources.{kind}.memoryLimit {pods.memory_limit!r} does not fit a user node "
                f"{size} (about {node.allocatable_memory / GIB:.1f} GiB allocatable): lower it or use a larger "
                "cluster.userNodeSize"
            )
        if pods.cpu_limit > node.cpus:
            problems.append(
                f"resources.{kind}.cpuLimit {pods.cpu_limit:g} exceeds the {node.cpus} vCPUs of a user node {size}"
            )
    return problems


def default_quotas(total_servers: int | None, quota: LaunchQuotaConfig) -> tuple[int | None, int | None]:
    """(total, per repository): the configured ones, else derived from the pool's capacity."""
    total = quota.total if quota.total is not None else total_servers
    per_repo = quota.per_repo if quota.per_repo is not None else (max(1, total // 2) if total else None)
    return total, per_repo
