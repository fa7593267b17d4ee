"""The stack's configuration (namespace `binderhub:`): typed, validated, loaded once.

`parse_config` is pure (a dict in, a `StackConfig` out, or a `ConfigError` naming every bad
key, its value and what would be valid), so every rule is unit-tested without Pulumi.
`load_config` reads `pulumi.Config` and runs before any resource is registered: bad input
never leaves a half-deployed stack.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Annotated, Any, Generic, Literal, TypeVar

import pulumi
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic.alias_generators import to_camel

from versions import CHARTS

NAMESPACE = "binderhub"

# Keys whose values are secrets; they are read with get_secret and never enter the model.
SECRET_KEYS = ("kubeconfig", "registryPassword", "oauthClientSecret", "githubToken", "gitlabToken")

_DNS_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
# Docker repository path component: lowercase alphanumerics separated by '.', '_', '__' or '-'.
_IMAGE_PREFIX = re.compile(r"^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_K8S_VERSION = re.compile(r"^\d+\.\d+(\.\d+)?$")


class ConfigError(pulumi.RunError):
    """Bad stack configuration. RunError: Pulumi prints the message without a traceback."""


def _matching(pattern: str, what: str) -> AfterValidator:
    """A string validator whose error says what a valid value looks like."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.match(value):
            raise ValueError(f"is not valid: expected {what}")
        return value

    return AfterValidator(check)


def _dns_name(value: str) -> str:
    if not _DNS_NAME.match(value):
        raise ValueError("is not a DNS name: use lowercase labels separated by dots, e.g. example.org")
    return value


def _dns_label(value: str) -> str:
    if not _DNS_LABEL.match(value):
        raise ValueError("is not a DNS label: lowercase letters, digits and '-', at most 63 characters")
    return value


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/]+", value):
        raise ValueError("is not a URL: expected http(s)://host[/path]")
    return value


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError("is not an email address")
    return value


def _ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError("is not an IP address, e.g. 203.0.113.10") from None


DnsName = Annotated[str, AfterValidator(_dns_name)]
DnsLabel = Annotated[str, AfterValidator(_dns_label)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]
Email = Annotated[str, AfterValidator(_email)]
IpAddress = Annotated[str, AfterValidator(_ip)]


class Model(BaseModel):
    """Config objects: camelCase keys, immutable, typos rejected with the list of valid keys."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            known = {field.alias or name for name, field in cls.model_fields.items()}
            unknown = sorted(set(data) - known)
            if unknown:
                raise ValueError(f"unknown key(s) {', '.join(unknown)} (valid keys: {', '.join(sorted(known))})")
        return data


# ---------------------------------------------------------------------------- clusters


class ManagedClusterConfig(Model):
    """Node pools shared by the managed clouds: a core pool and an autoscaling user pool."""

    kubernetes_version: Annotated[str, _matching(_K8S_VERSION.pattern, "a version like 1.33 or 1.33.2")] | None = None
    node_size: str
    node_count: int = Field(1, ge=1, le=100)
    user_node_size: str
    user_min_nodes: int = Field(0, ge=0, le=1000)
    user_max_nodes: int = Field(3, ge=1, le=1000)

    @model_validator(mode="after")
    def _user_pool_bounds(self) -> ManagedClusterConfig:
        if self.user_min_nodes > self.user_max_nodes:
            raise ValueError(
                f"userMinNodes ({self.user_min_nodes}) must not exceed userMaxNodes ({self.user_max_nodes})"
            )
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
    match = re.match(_AZURE_VM, value)
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
    if not re.match(r"^[\w().-]{1,90}$", value) or value.endswith("."):
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
    # Free-trial friendly: one small system node; user nodes scale from zero.
    node_size: Annotated[AzureVmSize, AfterValidator(_azure_system_vm_size)] = "Standard_D2s_v3"
    user_node_size: AzureVmSize = "Standard_D4s_v3"
    # Default: binderhub-<stack>. Holds the cluster, the registry and the ingress IP.
    resource_group: Annotated[str, AfterValidator(_azure_resource_group)] | None = None
    # AKS control plane tier: Free (no SLA) or Standard (uptime SLA, for production).
    tier: Literal["Free", "Standard"] = "Free"


class AwsClusterConfig(ManagedClusterConfig):
    region: Annotated[str, _matching(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$", "an AWS region like us-east-1")] = (
        "us-east-1"
    )
    node_size: Annotated[str, _matching(_AWS_INSTANCE, "an EC2 instance type like t3.large")] = "t3.large"
    node_count: int = Field(2, ge=1, le=100)
    # The AWS guide's sizing: one m5.2xlarge holds about 30 students' servers.
    user_node_size: Annotated[str, _matching(_AWS_INSTANCE, "an EC2 instance type like m5.2xlarge")] = "m5.2xlarge"
    user_min_nodes: int = Field(1, ge=0, le=1000)

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
    str, _matching(_GCP_MACHINE, "a GCE machine type like e2-standard-2"), AfterValidator(_gcp_machine)
]


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


class GcpClusterConfig(ManagedClusterConfig):
    project: Annotated[
        str,
        _matching(
            r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$",
            "a GCP project id: 6-30 lowercase letters, digits, hyphens (the id, not name or number)",
        ),
    ]
    # Default: the zone's region when only a zone is set, else us-central1.
    region: Annotated[str, _matching(r"^[a-z]+-[a-z]+\d+$", "a GCP region like us-central1")] = "us-central1"
    # Set: a zonal cluster (one control plane zone, GKE's free tier); unset: regional.
    zone: Annotated[str, _matching(r"^[a-z]+-[a-z]+\d+-[a-z]$", "a GCP zone like us-central1-a")] | None = None
    # Default: binderhub-<stack>.
    name: (
        Annotated[
            str,
            _matching(
                _GKE_NAME,
                "a GKE cluster name: lowercase letters, digits and '-', starting with a letter, at most 40 characters",
            ),
        ]
        | None
    ) = None
    release_channel: Annotated[Literal["RAPID", "REGULAR", "STABLE"], BeforeValidator(_upper)] = "REGULAR"
    # GKE also accepts its patch form, e.g. 1.33.2-gke.1240000 (the cluster's minimum master version).
    kubernetes_version: (
        Annotated[
            str, _matching(r"^\d+\.\d+(\.\d+(-gke\.\d+)?)?$", "a version like 1.33, 1.33.2 or 1.33.2-gke.1240000")
        ]
        | None
    ) = None
    node_size: GcpMachine = "e2-standard-2"
    user_node_size: GcpMachine = "n2-standard-4"

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
    # openebs: install OpenEBS local PV (hostpath) as the default StorageClass; existing: leave storage alone.
    storage: Literal["openebs", "existing"] = "existing"
    openebs_base_path: Annotated[str, _matching(r"^/[^\s]*$", "an absolute path on the nodes")] = "/var/openebs/local"
    # The nodes' public addresses: traffic for the hub arrives there, and hosts derive from the first.
    external_ips: list[IpAddress] = Field(default_factory=list, alias="externalIPs")
    # externalIPs: the controller's Service lists them (kube-proxy forwards); hostPorts: controller pods
    # on every node bind 80/443 themselves (for CNIs without externalIPs support).
    expose_ingress: Literal["externalIPs", "hostPorts"] = "externalIPs"
    # The nodes' container runtime. docker (Docker Engine via cri-dockerd, or k3s --docker) is what
    # lets the `host` builder and `registry.type: none` work: images built on a node are runnable there.
    runtime: Literal["containerd", "docker"] = "containerd"
    # How many nodes run build and user pods; `registry.type: none` needs exactly one.
    nodes: int | None = Field(None, ge=1)

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


CLUSTER_MODELS: dict[str, type[Model]] = {
    "azure": AzureClusterConfig,
    "aws": AwsClusterConfig,
    "gcp": GcpClusterConfig,
    "existing": ExistingClusterConfig,
}

# ---------------------------------------------------------------------------- the rest

RegistryType = Literal["acr", "ecr", "artifact-registry", "dockerhub", "custom", "none"]
REGISTRY_CLOUDS: dict[str, str] = {"acr": "azure", "ecr": "aws", "artifact-registry": "gcp"}
DEFAULT_REGISTRY: dict[str, str] = {"azure": "acr", "aws": "ecr", "gcp": "artifact-registry"}


class RegistryConfig(Model):
    type: RegistryType
    prefix: Annotated[
        str,
        _matching(
            _IMAGE_PREFIX.pattern,
            "lowercase letters and digits, separated by '.', '_' or '-' (a Docker repository name)",
        ),
        Field(max_length=64),
    ] = "binder"
    username: str | None = None
    organization: (
        Annotated[
            str, _matching(r"^[a-z0-9]+([._-][a-z0-9]+)*$", "a Docker Hub organization (lowercase letters and digits)")
        ]
        | None
    ) = None
    url: HttpUrl | None = None
    token_url: HttpUrl | None = None
    project: (
        Annotated[
            str, _matching(_IMAGE_PREFIX.pattern, "a registry project name (lowercase letters, digits, '.', '_', '-')")
        ]
        | None
    ) = None
    # ECR / Artifact Registry: days after which built images are deleted (BinderHub rebuilds on demand).
    expire_after_days: int = Field(30, ge=1, le=3650)

    @model_validator(mode="after")
    def _required_for_type(self) -> RegistryConfig:
        # custom needs a project: BinderHub looks images up by their last two path components.
        required = {"dockerhub": ("username",), "custom": ("url", "username", "project")}.get(self.type, ())
        missing = [to_camel(name) for name in required if getattr(self, name) is None]
        if missing:
            raise ValueError(f"registry type {self.type!r} needs {', '.join('registry.' + m for m in missing)}")
        return self


class HostsConfig(Model):
    binder: DnsName
    hub: DnsName


class TlsConfig(Model):
    enabled: bool | None = None  # default: on when a domain is set
    email: Email | None = None
    server: Literal["staging", "production"] = "production"


class IngressConfig(Model):
    controller: Literal["nginx", "existing"] = "nginx"
    class_name: DnsLabel = "nginx"
    # For an existing controller: its public address (hosts derive from it without a domain).
    address: IpAddress | None = None


class AuthConfig(Model):
    type: Literal["none", "github", "generic"] = "none"
    client_id: str | None = None
    allowed_organizations: list[str] = Field(default_factory=list)
    authorize_url: HttpUrl | None = None
    token_url: HttpUrl | None = None
    userdata_url: HttpUrl | None = None
    username_claim: str = "preferred_username"
    scope: list[str] = Field(default_factory=lambda: ["openid", "profile", "email"])
    allowed_groups: list[str] = Field(default_factory=list)
    allowed_users: list[str] = Field(default_factory=list)
    admin_users: list[str] = Field(default_factory=list)
    allow_all: bool = False
    # generic: the userinfo claim holding group names (for allowedGroups)
    groups_claim: str = "groups"
    # Keep the OAuth tokens (encrypted with a generated CryptKeeper key) and hand the access
    # token to the user's server as $OAUTH_ACCESS_TOKEN, e.g. to reach data services.
    pass_tokens: bool = False


class NamedServersConfig(Model):
    enabled: bool = False
    limit_per_user: int | None = Field(None, ge=1)


def _image_with_tag(value: str) -> str:
    name, _, tag = value.rpartition(":")
    if not name or not tag or "/" in tag or tag == "latest":
        raise ValueError("is not a pinned image: expected <name>:<tag> with a tag other than 'latest'")
    return value


class FancyProfilesConfig(Model):
    enabled: bool = False
    # A hub image with jupyterhub-fancy-profiles installed, matching the pinned z2jh
    # (e.g. quay.io/yuvipanda/z2jh-hub-with-fancy-profiles:z2jh-v4.4.0-fancy-profiles-sha-<sha>).
    hub_image: Annotated[str, AfterValidator(_image_with_tag)] | None = None


class CullConfig(Model):
    enabled: bool = True
    timeout: int = Field(600, ge=60)  # seconds of inactivity
    every: int = Field(660, ge=10)
    max_age: int = Field(21600, ge=0)  # 0: no limit
    users: bool | None = None  # default: cull (delete) users only when anonymous


class CorsConfig(Model):
    allow_origin: str | None = None


def _chart_versions(value: dict[str, str]) -> dict[str, str]:
    for name, version in value.items():
        if name not in CHARTS:
            raise ValueError(f"unknown chart {name!r}; charts: {', '.join(sorted(CHARTS))}")
        if not version or version.lower() == "latest":
            raise ValueError(f"chart {name!r} needs an exact version, not {version!r}")
    return value


ClusterT = TypeVar("ClusterT", bound=Model)


class StackConfig(Model, Generic[ClusterT]):
    cloud: Literal["azure", "aws", "gcp", "existing"]
    shape: Literal["classic", "service"] = "classic"
    namespace: DnsLabel = "binderhub"
    cluster: ClusterT
    registry: RegistryConfig
    domain: DnsName | None = None
    hosts: HostsConfig | None = None
    wildcard_dns: DnsName = "nip.io"
    tls: TlsConfig = Field(default_factory=lambda: TlsConfig.model_validate({}))
    ingress: IngressConfig = Field(default_factory=lambda: IngressConfig.model_validate({}))
    auth: AuthConfig = Field(default_factory=lambda: AuthConfig.model_validate({}))
    # host: the node's own Docker socket (cluster.runtime 'docker' only); dind/pink: a daemon per node.
    builder: Literal["dind", "pink", "host"] = "dind"
    cull: CullConfig = Field(default_factory=lambda: CullConfig.model_validate({}))
    cors: CorsConfig = Field(default_factory=lambda: CorsConfig.model_validate({}))
    named_servers: NamedServersConfig = Field(default_factory=lambda: NamedServersConfig.model_validate({}))
    # service shape: serve BinderHub's own UI at /services/binder/ (else API only)
    binder_ui: bool = Field(True, alias="binderUI")
    fancy_profiles: FancyProfilesConfig = Field(default_factory=lambda: FancyProfilesConfig.model_validate({}))
    # service shape: the build cache's size bound (binderhub-service has no image cleaner)
    builder_cache_size: Annotated[str, _matching(r"^\d+(Mi|Gi|Ti)$", "a size like 50Gi")] = "50Gi"
    protect: bool = False
    charts: Annotated[dict[str, str], AfterValidator(_chart_versions)] = Field(default_factory=dict)

    @property
    def tls_enabled(self) -> bool:
        if self.tls.enabled is None:
            return self.domain is not None or self.hosts is not None
        return self.tls.enabled

    @property
    def cull_users(self) -> bool:
        return self.auth.type == "none" if self.cull.users is None else self.cull.users

    @model_validator(mode="after")
    def _cross_checks(self, info: ValidationInfo) -> StackConfig[ClusterT]:
        secrets: set[str] = (info.context or {}).get("secrets", set())
        problems: list[str] = []
        reg = self.registry
        if reg.type in REGISTRY_CLOUDS and REGISTRY_CLOUDS[reg.type] != self.cloud:
            problems.append(
                f"registry.type {reg.type!r} needs cloud {REGISTRY_CLOUDS[reg.type]!r}; on {self.cloud!r} use "
                + ", ".join(repr(t) for t in _registry_types_for(self.cloud))
            )
        if reg.type in ("dockerhub", "custom") and "registryPassword" not in secrets:
            problems.append(
                f"registry.type {reg.type!r} needs the secret binderhub:registryPassword "
                "(pulumi config set --secret binderhub:registryPassword ...)"
            )
        if "kubeconfig" in secrets and self.cloud != "existing":
            problems.append("kubeconfig is only for cloud 'existing'; managed clusters produce their own")
        if self.tls_enabled and not self.tls.email:
            problems.append("tls.email is required when TLS is enabled (Let's Encrypt account contact)")
        if self.domain and self.hosts:
            problems.append("set either domain (hosts binder.<domain>, hub.<domain>) or hosts, not both")
        if self.ingress.controller == "existing" and not (self.domain or self.hosts or self.ingress.address):
            problems.append(
                "ingress.controller 'existing' needs binderhub:domain, binderhub:hosts or ingress.address "
                "to know the public hosts"
            )
        if self.ingress.address and self.ingress.controller != "existing":
            problems.append("ingress.address is only for ingress.controller 'existing'")
        problems += _auth_problems(self.auth, secrets)
        problems += self._shape_problems()
        problems += self._node_problems()
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _shape_problems(self) -> list[str]:
        problems: list[str] = []
        anonymous = self.auth.type == "none"
        if self.shape == "classic":
            if self.fancy_profiles.enabled:
                problems.append("fancyProfiles needs shape 'service' (it runs in a z2jh hub beside binderhub-service)")
            if "binder_ui" in self.model_fields_set:
                problems.append("binderUI is for shape 'service'; the classic chart always serves the BinderHub UI")
        else:
            if self.builder == "pink":
                problems.append("builder 'pink' needs shape 'classic'; binderhub-service builds with its own dind")
            if self.fancy_profiles.enabled and anonymous:
                problems.append(
                    "fancyProfiles needs auth.type 'github' or 'generic': its builds run for logged-in users"
                )
            if self.fancy_profiles.enabled and not self.fancy_profiles.hub_image:
                problems.append(
                    "fancyProfiles.hubImage is required: a hub image with jupyterhub-fancy-profiles built for "
                    "z2jh 4.4.0 (see the tags of quay.io/yuvipanda/z2jh-hub-with-fancy-profiles)"
                )
            if not self.binder_ui and not self.fancy_profiles.enabled and anonymous:
                problems.append(
                    "binderUI: false with auth.type 'none' and no fancyProfiles leaves no way to launch anything: "
                    "enable binderUI, fancyProfiles (with auth), or set an auth.type"
                )
        if self.named_servers.enabled and anonymous:
            problems.append("namedServers needs an auth.type: anonymous Binder users have one temporary server")
        if self.named_servers.limit_per_user is not None and not self.named_servers.enabled:
            problems.append("namedServers.limitPerUser is set but namedServers.enabled is false")
        return problems

    def _node_problems(self) -> list[str]:
        """What the nodes must offer for the builder and registry chosen (bare metal mostly)."""
        cluster = self.cluster if isinstance(self.cluster, ExistingClusterConfig) else None
        problems: list[str] = []
        docker_nodes = cluster is not None and cluster.runtime == "docker"
        if self.builder == "host" and not docker_nodes:
            problems.append(
                "builder 'host' mounts the node's Docker socket, which containerd nodes (every managed "
                "Kubernetes, and most others) do not have: use 'dind' or 'pink', or on cloud 'existing' with "
                "Docker Engine nodes set cluster.runtime: docker"
            )
        if self.builder == "host" and self.shape == "service":
            problems.append("builder 'host' needs shape 'classic'; binderhub-service builds with its own dind")
        if self.registry.type == "none":
            # A built image must land in the store the kubelet starts containers from.
            works = docker_nodes and cluster is not None and cluster.nodes == 1 and self.builder == "host"
            if not works:
                problems.append(
                    "registry.type 'none' keeps built images on the node that built them, so it only works "
                    "with builder 'host' on a single Docker Engine node (cloud 'existing', cluster.runtime: "
                    "docker, cluster.nodes: 1, shape 'classic'); dind and pink keep images in their own "
                    "store, which the kubelet never sees. Use registry.type 'custom' (Harbor, Quay, ...) "
                    "or 'dockerhub' instead"
                )
        if cluster is not None and cluster.external_ips and self.ingress.controller == "existing":
            problems.append(
                "cluster.externalIPs expose the controller this program installs; with ingress.controller "
                "'existing' set ingress.address instead"
            )
        return problems


def _registry_types_for(cloud: str) -> list[str]:
    return [t for t in RegistryType.__args__ if REGISTRY_CLOUDS.get(t, cloud) == cloud]  # type: ignore[attr-defined]


def _auth_problems(auth: AuthConfig, secrets: set[str]) -> list[str]:
    problems: list[str] = []
    if auth.type == "none":
        if auth.pass_tokens:
            problems.append("auth.passTokens needs auth.type 'github' or 'generic'")
        return problems
    if not auth.client_id:
        problems.append(f"auth.type {auth.type!r} needs auth.clientId (the OAuth app's client id)")
    if "oauthClientSecret" not in secrets:
        problems.append(
            f"auth.type {auth.type!r} needs the secret binderhub:oauthClientSecret "
            "(pulumi config set --secret binderhub:oauthClientSecret ...)"
        )
    if not (
        auth.allow_all or auth.allowed_groups or auth.allowed_users or auth.admin_users or auth.allowed_organizations
    ):
        rules = "auth.allowedOrganizations, " if auth.type == "github" else "auth.allowedGroups, "
        problems.append(
            f"auth.type {auth.type!r} denies everyone without an allow rule (oauthenticator 16+): set "
            f"{rules}auth.allowedUsers, auth.adminUsers or auth.allowAll: true"
        )
    if auth.type == "generic":
        missing = [k for k in ("authorize_url", "token_url", "userdata_url") if getattr(auth, k) is None]
        if missing:
            problems.append("auth.type 'generic' needs " + ", ".join("auth." + to_camel(k) for k in missing))
        if auth.allowed_organizations:
            problems.append("auth.allowedOrganizations is for auth.type 'github'; use auth.allowedGroups")
    if auth.type == "github" and (auth.authorize_url or auth.token_url or auth.userdata_url):
        problems.append("auth.authorizeUrl/tokenUrl/userdataUrl are for auth.type 'generic', not 'github'")
    return problems


# ---------------------------------------------------------------------------- parsing


def _describe(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _format_errors(error: ValidationError) -> list[str]:
    lines = []
    for err in error.errors():
        key = ".".join(str(part) for part in err["loc"])
        where = f"{NAMESPACE}:{key}" if key else NAMESPACE
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            lines.append(f"{where}: required but not set")
        elif err["type"] != "value_error":
            lines.append(f"{where}: {message} (got {_describe(err['input'])})")
        elif isinstance(err["input"], dict):  # a rule across several keys: the keys are named in it
            lines += [f"{where}: {part}" for part in message.split("\n")]
        else:
            lines.append(f"{where}: {_describe(err['input'])} {message}")
    return lines


def parse_config(raw: dict[str, Any], secrets: set[str] | frozenset[str] = frozenset()) -> StackConfig[Any]:
    """Validate the stack's `binderhub:` values (plain keys) and which secret keys are set."""
    # Pulumi.yaml declares optional strings with "" as default: "" means unset.
    data = {k: v for k, v in raw.items() if k not in SECRET_KEYS and v != ""}
    cloud = data.get("cloud")
    cluster_model: type[Model] = (
        CLUSTER_MODELS.get(cloud, ExistingClusterConfig) if isinstance(cloud, str) else ExistingClusterConfig
    )
    data.setdefault("cluster", {})
    if "registry" not in data and cloud in DEFAULT_REGISTRY:
        data["registry"] = {"type": DEFAULT_REGISTRY[cloud]}
    try:
        return StackConfig[cluster_model].model_validate(data, context={"secrets": set(secrets)})  # type: ignore[valid-type]
    except ValidationError as error:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(_format_errors(error))) from None


def _known_keys() -> set[str]:
    return {field.alias or name for name, field in StackConfig.model_fields.items()} | set(SECRET_KEYS)


@dataclass(frozen=True)
class StackSecrets:
    """Secret config values, as Pulumi secret Outputs (None when unset)."""

    kubeconfig: pulumi.Output[str] | None = None
    registry_password: pulumi.Output[str] | None = None
    oauth_client_secret: pulumi.Output[str] | None = None
    github_token: pulumi.Output[str] | None = None
    gitlab_token: pulumi.Output[str] | None = None


def load_config() -> tuple[StackConfig[Any], StackSecrets]:
    """Read `binderhub:*` from the stack; raise ConfigError before anything is created."""
    config = pulumi.Config(NAMESPACE)
    # The engine passes config in the environment; tests set it in the runtime's map.
    configured = set(pulumi.runtime.get_config_env()) | set(pulumi.runtime.config.CONFIG.get())
    all_keys = sorted(k.split(":", 1)[1] for k in configured if k.startswith(NAMESPACE + ":"))
    unknown = sorted(set(all_keys) - _known_keys())
    if unknown:
        raise ConfigError(
            "invalid configuration:\n  "
            + "\n  ".join(
                f"{NAMESPACE}:{k}: unknown key; valid keys: {', '.join(sorted(_known_keys()))}" for k in unknown
            )
        )
    raw: dict[str, Any] = {}
    for key in all_keys:
        if key in SECRET_KEYS:
            continue
        value = config.get(key)
        if value is not None and value[:1] in ("{", "["):
            value = json.loads(value)
        raw[key] = value
    secrets = {key: config.get_secret(key) for key in SECRET_KEYS}
    present = {key for key, value in secrets.items() if value is not None}
    stack_config = parse_config(raw, present)
    return stack_config, StackSecrets(
        kubeconfig=secrets["kubeconfig"],
        registry_password=secrets["registryPassword"],
        oauth_client_secret=secrets["oauthClientSecret"],
        github_token=secrets["githubToken"],
        gitlab_token=secrets["gitlabToken"],
    )
