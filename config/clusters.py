"""Cluster models per cloud: what each target's `binderhub:cluster` holds."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    model_validator,
)

from config.base import K8S_VERSION, IpAddress, Ipv4Cidr, Model, matching

# RFC 1918 private ranges and RFC 6598 shared (carrier-grade NAT) space.
_NOT_PUBLIC = tuple(
    ipaddress.IPv4Network(block) for block in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)


class ManagedClusterConfig(Model):
    """Node pools shared by the managed clouds: a core pool and an autoscaling user pool."""

    kubernetes_version: Annotated[str, matching(K8S_VERSION.pattern, "a version like 1.33 or 1.33.2")] | None = None
    """Kubernetes version of the control plane; default: the cloud's default."""
    node_size: str
    """VM size of the core pool (hub, proxy, ingress, BinderHub)."""
    node_count: int = Field(1, ge=1, le=100)
    """Nodes in the core pool."""
    user_node_size: str
    """VM size of the user pool (user servers and builds)."""
    user_min_nodes: int = Field(0, ge=0, le=1000)
    """Fewest user nodes the autoscaler keeps (the whole pool, all zones; the same on every cloud)."""
    user_max_nodes: int = Field(3, ge=1, le=1000)
    """Most user nodes the autoscaler adds (the whole pool, all zones; the same on every cloud)."""
    # Default open: GitHub-hosted CI runners have no fixed addresses, and the API still needs
    # cloud credentials. 40 is EKS's limit, the smallest of the three clouds'.
    api_access_cidrs: list[Ipv4Cidr] = Field(default_factory=lambda: ["0.0.0.0/0"], min_length=1, max_length=40)
    """IPv4 CIDR blocks allowed to reach the Kubernetes API (workstations, CI runners); default any
    address (access still needs cloud credentials). The nodes reach it privately either way."""
    # Values both CloudWatch Logs (EKS) and a Log Analytics workspace (AKS, 30-730 days) accept.
    audit_log_retention_days: Literal[30, 60, 90, 120, 150, 180, 365, 400, 545] = 90
    """Days the control plane's audit logs are kept (EKS: CloudWatch Logs; AKS: Log Analytics;
    GKE: a log bucket of this stack's)."""

    @model_validator(mode="after")
    def _user_pool_bounds(self) -> ManagedClusterConfig:
        if self.user_min_nodes > self.user_max_nodes:
            raise ValueError(
                f"userMinNodes ({self.user_min_nodes}) must not exceed userMaxNodes ({self.user_max_nodes})"
            )
        cidrs = self.api_access_cidrs
        if "0.0.0.0/32" in cidrs:
            # AKS reads it as "the cluster's outbound IP only" (and refuses it beside other blocks);
            # EKS and GKE as no client at all. Either way `pulumi up` itself is locked out.
            raise ValueError(
                "apiAccessCidrs '0.0.0.0/32' admits no workstation or CI runner (pulumi up would be locked "
                "out); list the blocks that run pulumi and kubectl, e.g. 198.51.100.0/24"
            )
        if "0.0.0.0/0" in cidrs and len(cidrs) > 1:
            raise ValueError(
                "apiAccessCidrs lists '0.0.0.0/0' (every address) beside other blocks, which then restrict "
                "nothing: keep only '0.0.0.0/0', or remove it to admit only the others"
            )
        private = [cidr for cidr in cidrs if any(ipaddress.IPv4Network(cidr).subnet_of(n) for n in _NOT_PUBLIC)]
        if private:
            raise ValueError(
                f"apiAccessCidrs {', '.join(repr(c) for c in private)} are private or carrier-grade NAT addresses, "
                "which the API's public endpoint never sees as a source; list the public blocks your workstations "
                "and CI reach the internet from"
            )
        repeated = sorted({cidr for cidr in cidrs if cidrs.count(cidr) > 1})
        if repeated:
            raise ValueError(f"apiAccessCidrs lists {', '.join(repeated)} more than once")
        return self


_AWS_INSTANCE = r"^[a-z][a-z0-9-]*\.[a-z0-9]+$"
_GCP_MACHINE = r"^[a-z][a-z0-9]*-[a-z0-9-]+$"
_AWS_TOO_SMALL = ("nano", "micro", "small")
_EKS_OLDEST = (1, 29)  # oldest version in EKS extended support


_AZURE_VM = r"^Standard_[A-Z]+(\d+)(-\d+)?[a-z]*(_[A-Za-z0-9]+)*$"
# `az account list-locations --query "[].name"` (public and sovereign clouds). A region Azure
# opens later is one line here; an unknown name would otherwise fail minutes into `pulumi up`.
_AZURE_REGIONS = frozenset(
    [
        "australiacentral",
        "australiacentral2",
        "australiaeast",
        "australiasoutheast",
        "austriaeast",
        "belgiumcentral",
        "brazilsouth",
        "brazilsoutheast",
        "canadacentral",
        "canadaeast",
        "centralindia",
        "centralus",
        "centraluseuap",
        "chilecentral",
        "denmarkeast",
        "eastasia",
        "eastus",
        "eastus2",
        "eastus2euap",
        "francecentral",
        "francesouth",
        "germanynorth",
        "germanywestcentral",
        "indonesiacentral",
        "israelcentral",
        "italynorth",
        "japaneast",
        "japanwest",
        "jioindiacentral",
        "jioindiawest",
        "koreacentral",
        "koreasouth",
        "malaysiawest",
        "mexicocentral",
        "newzealandnorth",
        "northcentralus",
        "northeurope",
        "norwayeast",
        "norwaywest",
        "polandcentral",
        "qatarcentral",
        "southafricanorth",
        "southafricawest",
        "southcentralus",
        "southeastasia",
        "southindia",
        "spaincentral",
        "swedencentral",
        "swedensouth",
        "switzerlandnorth",
        "switzerlandwest",
        "uaecentral",
        "uaenorth",
        "uksouth",
        "ukwest",
        "westcentralus",
        "westeurope",
        "westindia",
        "westus",
        "westus2",
        "westus3",
        "usgovarizona",
        "usgovtexas",
        "usgovvirginia",
        "usdodcentral",
        "usdodeast",
        "chinaeast",
        "chinaeast2",
        "chinaeast3",
        "chinanorth",
        "chinanorth2",
        "chinanorth3",
    ]
)
# Sizes with 2 vCPUs but less than the 4 GiB of memory AKS requires of a system node pool.
_AZURE_SMALL_MEMORY = frozenset({"standard_a2", "standard_b2ats_v2", "standard_b2ts_v2"})


def _azure_region(value: str) -> str:
    if value in _AZURE_REGIONS:
        return value
    import difflib  # only needed on this error path

    normalized = value.lower().replace(" ", "").replace("-", "")
    guesses = [normalized] if normalized in _AZURE_REGIONS else difflib.get_close_matches(normalized, _AZURE_REGIONS, 3)
    hint = f"; did you mean {' or '.join(repr(g) for g in guesses)}?" if guesses else ""
    raise ValueError(f"is not an Azure region name (az account list-locations -o table){hint}")


def _azure_vm_size(value: str) -> str:
    match = re.fullmatch(_AZURE_VM, value)
    if not match:
        raise ValueError("is not an Azure VM size: expected a name like Standard_D2s_v3 (az vm list-sizes -l <region>)")
    # Constrained-vCPU sizes (Standard_E4-2s_v3) run the second number of vCPUs.
    vcpus = int(match.group(2)[1:]) if match.group(2) else int(match.group(1))
    if vcpus < 2:
        raise ValueError("has fewer than 2 vCPUs, which AKS refuses for node pools; use e.g. Standard_D2s_v3")
    return value


def _azure_system_vm_size(value: str) -> str:
    if value.lower() in _AZURE_SMALL_MEMORY:
        raise ValueError("has less than the 4 GiB of memory AKS requires for the system (core) pool")
    return value


def _azure_resource_group(value: str) -> str:
    if not re.fullmatch(r"[\w().-]{1,90}", value) or value.endswith("."):
        raise ValueError(
            "is not a resource group name: 1-90 letters, digits, '_', '-', '.', '(' or ')', not ending in '.'"
        )
    return value


AzureVmSize = Annotated[str, AfterValidator(_azure_vm_size)]


class AzureClusterConfig(ManagedClusterConfig):
    """AKS: a core (system) pool and an autoscaling user pool in one resource group.

    Mistakes Azure users make are refused before anything is created: display names or typos
    for regions ("West Europe"), VM sizes in the wrong case or with 1 vCPU (AKS refuses them),
    invalid resource group names.
    """

    location: Annotated[str, AfterValidator(_azure_region)] = "westeurope"
    """Azure region name, e.g. westeurope (az account list-locations)."""
    # Free-trial friendly: one small system node; user nodes scale from zero.
    node_size: Annotated[AzureVmSize, AfterValidator(_azure_system_vm_size)] = "Standard_D2s_v3"
    """VM size of the core (system) pool: at least 2 vCPUs and 4 GiB."""
    user_node_size: AzureVmSize = "Standard_D4s_v3"
    """VM size of the user pool."""
    # Default: binderhub-<stack>. Holds the cluster, the registry and the ingress IP.
    resource_group: Annotated[str, AfterValidator(_azure_resource_group)] | None = None
    """Resource group holding the cluster, registry and ingress IP; default binderhub-<stack>."""
    # AKS control plane tier: Free (no SLA) or Standard (uptime SLA, for production).
    tier: Literal["Free", "Standard"] = "Free"
    """AKS control plane tier: Free (no SLA) or Standard (uptime SLA, for production)."""
    admin_group_object_ids: list[
        Annotated[
            str,
            matching(
                r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
                "an Entra ID group object id (a GUID, az ad group show -g <name> --query id)",
            ),
        ]
    ] = Field(default_factory=list)
    """Entra ID groups whose members administer the cluster (Azure RBAC Cluster Admin); the
    identity running `pulumi up` is always given that role."""

    @model_validator(mode="after")
    def _distinct_admin_groups(self) -> AzureClusterConfig:
        lowered = [group.lower() for group in self.admin_group_object_ids]
        repeated = sorted({group for group in lowered if lowered.count(group) > 1})
        if repeated:
            raise ValueError(f"adminGroupObjectIds lists {', '.join(repeated)} more than once")
        return self


class AwsClusterConfig(ManagedClusterConfig):
    region: Annotated[str, matching(r"^[a-z]{2,4}(-[a-z]+){1,2}-\d+$", "an AWS region like us-east-1")] = "us-east-1"
    """AWS region, e.g. us-east-1."""
    node_size: Annotated[str, matching(_AWS_INSTANCE, "an EC2 instance type like t3.large")] = "t3.large"
    """EC2 instance type of the core node group."""
    node_count: int = Field(2, ge=1, le=100)
    """Nodes in the core node group."""
    # The AWS guide's sizing: one m5.2xlarge holds about 30 students' servers.
    user_node_size: Annotated[str, matching(_AWS_INSTANCE, "an EC2 instance type like m5.2xlarge")] = "m5.2xlarge"
    """EC2 instance type of the user node group (one m5.2xlarge holds about 30 servers)."""
    user_min_nodes: int = Field(1, ge=0, le=1000)
    """Fewest user nodes the cluster-autoscaler keeps (the whole group, all zones)."""

    @model_validator(mode="after")
    def _eks_limits(self) -> AwsClusterConfig:
        problems = []
        version = self.kubernetes_version
        if version is not None:
            major, minor, *patch = (int(part) for part in version.split("."))
            if patch:
                problems.append(f"kubernetesVersion {version!r}: EKS takes major.minor only, e.g. '{major}.{minor}'")
            elif (major, minor) < _EKS_OLDEST:
                problems.append(
                    f"kubernetesVersion {version!r} is past EKS support; use {_EKS_OLDEST[0]}.{_EKS_OLDEST[1]} or newer"
                )
        # Nano/micro/small nodes fit few pods (VPC CNI: one IP per pod) and too little memory for
        # the hub, ingress and image builds.
        for key, size in (("nodeSize", self.node_size), ("userNodeSize", self.user_node_size)):
            if size.split(".", 1)[1] in _AWS_TOO_SMALL:
                problems.append(f"{key} {size!r} is too small for BinderHub; use a .medium or larger, e.g. t3.large")
        if problems:
            raise ValueError("\n".join(problems))
        return self


# Shared-core machines too small for the hub, the proxy and image builds (dind needs memory).
_GCP_TOO_SMALL = ("f1-micro", "g1-small", "e2-micro", "e2-small")
# GKE cluster names: lowercase letters, digits and hyphens, starting with a letter, at most 40.
_GKE_NAME = r"^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$"


def _gcp_machine(value: str) -> str:
    if value in _GCP_TOO_SMALL:
        raise ValueError(
            "is a shared-core machine too small for BinderHub (hub, proxy and image builds); "
            "use e2-standard-2 or larger"
        )
    return value


GcpMachine = Annotated[
    str, matching(_GCP_MACHINE, "a GCE machine type like e2-standard-2"), AfterValidator(_gcp_machine)
]


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


class GcpClusterConfig(ManagedClusterConfig):
    project: Annotated[
        str,
        matching(
            r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$",
            "a GCP project id: 6-30 lowercase letters, digits, hyphens (the id, not name or number)",
        ),
    ]
    """GCP project id (not its name or number)."""
    # Default: the zone's region when only a zone is set, else us-central1.
    region: Annotated[str, matching(r"^[a-z]+-[a-z]+\d+$", "a GCP region like us-central1")] = "us-central1"
    """GCP region; default: the zone's region, else us-central1."""
    # Set: a zonal cluster (one control plane zone, GKE's free tier); unset: regional.
    zone: Annotated[str, matching(r"^[a-z]+-[a-z]+\d+-[a-z]$", "a GCP zone like us-central1-a")] | None = None
    """Zone of a zonal cluster (GKE's free tier); unset: a regional cluster."""
    # Default: binderhub-<stack>.
    name: (
        Annotated[
            str,
            matching(
                _GKE_NAME,
                "a GKE cluster name: lowercase letters, digits and '-', starting with a letter, at most 40 characters",
            ),
        ]
        | None
    ) = None
    """GKE cluster name; default binderhub-<stack>."""
    release_channel: Annotated[Literal["RAPID", "REGULAR", "STABLE", "EXTENDED"], BeforeValidator(_upper)] = "REGULAR"
    """GKE release channel: RAPID, REGULAR, STABLE or EXTENDED."""
    # GKE also accepts its patch form, e.g. 1.33.2-gke.1240000 (the cluster's minimum master version).
    kubernetes_version: (
        Annotated[str, matching(r"^\d+\.\d+(\.\d+(-gke\.\d+)?)?$", "a version like 1.33, 1.33.2 or 1.33.2-gke.1240000")]
        | None
    ) = None
    """Minimum master version: 1.33, 1.33.2 or 1.33.2-gke.1240000; default: the channel's."""
    node_size: GcpMachine = "e2-standard-2"
    """Machine type of the core pool (not shared-core)."""
    user_node_size: GcpMachine = "n2-standard-4"
    """Machine type of the user pool."""
    # None: follow binderhub:protect, the production marker (Cloud NAT costs money on a trial stack).
    private_nodes: bool | None = None
    """Nodes without public IP addresses, egress through Cloud NAT; default: on when binderhub:protect is true."""

    @model_validator(mode="before")
    @classmethod
    def _region_from_zone(cls, data: Any) -> Any:
        # Setting only a zone is enough: its region is the zone without the letter suffix.
        if isinstance(data, dict) and isinstance(data.get("zone"), str) and "region" not in data:
            return {**data, "region": data["zone"].rsplit("-", 1)[0]}
        return data

    @model_validator(mode="after")
    def _zone_in_region(self) -> GcpClusterConfig:
        if self.zone and not self.zone.startswith(self.region + "-"):
            raise ValueError(
                f"cluster.zone {self.zone!r} is not in cluster.region {self.region!r}; "
                f"use a zone like {self.region}-a, or drop cluster.region (it follows the zone)"
            )
        return self


class ExistingClusterConfig(Model):
    context: str | None = None
    """Kube context to deploy to; default: the kubeconfig's current context."""
    # openebs: install OpenEBS local PV (hostpath) as the default StorageClass; existing: leave storage alone.
    storage: Literal["openebs", "existing"] = "existing"
    """openebs: install OpenEBS local PV (hostpath) as the default StorageClass; existing: leave storage alone."""
    openebs_base_path: Annotated[
        str,
        # Not the root or a path with '..': volumes are directories the provisioner creates and deletes there.
        matching(r"^/(?!.*(?:^|/)\.\.(?:/|$))[^\s]+$", "an absolute path on the nodes other than /, without '..'"),
    ] = "/var/openebs/local"
    """Directory on each node holding the local volumes (storage openebs)."""
    # The nodes' public addresses: traffic for the hub arrives there, and hosts derive from the first.
    external_ips: list[IpAddress] = Field(default_factory=list, alias="externalIPs")
    """The nodes' public addresses: traffic for the hub arrives there, hosts derive from the first."""
    # externalIPs: the controller's Service lists them (kube-proxy forwards); hostPorts: controller pods
    # on every node bind 80/443 themselves (for CNIs without externalIPs support).
    expose_ingress: Literal["externalIPs", "hostPorts"] = "externalIPs"
    """externalIPs: the controller's Service lists them; hostPorts: controller pods bind 80/443 on every node."""
    # The nodes' container runtime. docker (Docker Engine via cri-dockerd, or k3s --docker) is what
    # lets the `host` builder and `registry.type: none` work: images built on a node are runnable there.
    runtime: Literal["containerd", "docker"] = "containerd"
    """The nodes' container runtime; docker (cri-dockerd, k3s --docker) allows builder host and registry none."""
    # How many nodes run build and user pods; `registry.type: none` needs exactly one.
    nodes: int | None = Field(None, ge=1)
    """How many nodes run build and user pods (registry.type none needs exactly one)."""

    @model_validator(mode="after")
    def _consistent(self) -> ExistingClusterConfig:
        problems: list[str] = []
        repeated = sorted({ip for ip in self.external_ips if self.external_ips.count(ip) > 1})
        if repeated:
            problems.append(f"cluster.externalIPs lists {', '.join(repeated)} more than once")
        if self.expose_ingress == "hostPorts" and not self.external_ips:
            problems.append(
                "cluster.exposeIngress 'hostPorts' needs cluster.externalIPs: the nodes' public addresses "
                "(for the hub URL and your DNS records)"
            )
        if "openebs_base_path" in self.model_fields_set and self.storage != "openebs":
            problems.append("cluster.openebsBasePath is only used with cluster.storage 'openebs'")
        if problems:
            raise ValueError("\n".join(problems))
        return self
