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
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Generic, Literal, TypeVar, get_args, get_origin
from urllib.parse import urlsplit

import pulumi
import semver
from publicsuffixlist import PublicSuffixList
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

from components.values.hosts import compute_hosts
from kubeconfig import KubeconfigError, resolve_kubeconfig
from versions import CHARTS

NAMESPACE = "binderhub"

# Keys whose values are secrets; they are read with get_secret and never enter the model.
SECRET_KEYS = ("kubeconfig", "registryPassword", "oauthClientSecret", "githubToken", "gitlabToken")

_DNS_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
# Docker repository path component: lowercase alphanumerics separated by '.', '_', '__' or '-'.
_IMAGE_PREFIX = re.compile(r"^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$")
# A URL's host: DNS labels, one or more (an in-cluster Service name like `keycloak` counts).
_URL_HOST = re.compile(r"(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_K8S_VERSION = re.compile(r"^\d+\.\d+(\.\d+)?$")


class ConfigError(pulumi.RunError):
    """Bad stack configuration. RunError: Pulumi prints the message without a traceback."""


def _matching(pattern: str, what: str) -> AfterValidator:
    """A string validator whose error says what a valid value looks like."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"is not valid: expected {what}")
        return value

    return AfterValidator(check)


def _dns_name(value: str) -> str:
    if not _DNS_NAME.fullmatch(value):
        raise ValueError("is not a DNS name: use lowercase labels separated by dots, e.g. example.org")
    return value


def _dns_label(value: str) -> str:
    if not _DNS_LABEL.fullmatch(value):
        raise ValueError("is not a DNS label: lowercase letters, digits and '-', at most 63 characters")
    return value


def _url_check(*, path: bool, what: str) -> Callable[[str], str]:
    """A parsed http(s) URL: a host (DNS name or IP) and optional port, no user info, no
    fragment; with `path=False` nothing may follow the host (a registry URL, a CORS origin)."""

    def check(value: str) -> str:
        try:
            parts = urlsplit(value)
            port = parts.port  # raises on a port that is not a number in 1-65535
        except ValueError:
            parts, port = None, None
        host = (parts.hostname or "") if parts else ""
        valid = (
            parts is not None
            and parts.scheme in ("http", "https")
            and not parts.username
            and not parts.password
            and not parts.fragment
            and not any(c.isspace() for c in value)
            and (_URL_HOST.fullmatch(host) is not None or _is_ip(host))
            and (port is None or port > 0)
            and (path or (parts.path in ("", "/") and not parts.query))
        )
        if not valid:
            raise ValueError(f"is not valid: expected {what}")
        return value

    return check


def _url(*, path: bool, what: str) -> AfterValidator:
    return AfterValidator(_url_check(path=path, what=what))


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise ValueError("is not an email address")
    return value


def _ip(value: str) -> str:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        raise ValueError("is not an IP address, e.g. 203.0.113.10") from None
    # Kubernetes' Service validation (ValidateNonSpecialIP) refuses these for externalIPs.
    if address.is_unspecified or address.is_loopback or address.is_link_local or address.is_multicast:
        raise ValueError(
            "is a special address (unspecified, loopback, link-local or multicast) that Kubernetes refuses "
            "for a Service's external IPs; use the node's routable address, e.g. 203.0.113.10"
        )
    return str(address)


# Names RFC 2606 and RFC 6761 reserve (documentation, testing, local use, and the special-use
# names IANA lists): Let's Encrypt refuses them as account contacts and as certificate names.
_RESERVED_DOMAINS = ("example.com", "example.net", "example.org")
_SPECIAL_USE_TLDS = ("example", "test", "invalid", "localhost", "local", "internal", "onion", "alt", "home.arpa")
_PUBLIC_SUFFIXES = PublicSuffixList(accept_unknown=False)


def _acme_domain(domain: str, what: str) -> str:
    """`domain` if Let's Encrypt accepts it (a name under a public suffix, not a reserved one).

    Rules from Boulder's policy authority (letsencrypt/boulder, policy/pa.go): a name must end in
    a public suffix (Mozilla's Public Suffix List), must not be a public suffix itself, and must
    not be reserved; a certificate name is at most 253 characters, 63 per label.
    """
    name = domain.lower().rstrip(".")
    if name in _RESERVED_DOMAINS or name.endswith(tuple("." + d for d in _RESERVED_DOMAINS)):
        raise ValueError(f"uses a reserved documentation domain (RFC 2606) that Let's Encrypt refuses as {what}")
    if name.rsplit(".", 1)[-1] in _SPECIAL_USE_TLDS or name.endswith(tuple("." + t for t in _SPECIAL_USE_TLDS)):
        raise ValueError(f"uses a special-use name (RFC 6761) that Let's Encrypt refuses as {what}")
    if _PUBLIC_SUFFIXES.privatesuffix(name) is None:
        raise ValueError(
            f"is not under a public suffix (Public Suffix List), so Let's Encrypt refuses it as {what}: use a "
            "registered domain such as uni.edu"
        )
    return domain


def _acme_email(value: str) -> str:
    _acme_domain(value.rpartition("@")[2], "an account email domain")
    return value


DnsName = Annotated[str, AfterValidator(_dns_name)]
DnsLabel = Annotated[str, AfterValidator(_dns_label)]
# A URL with a path (OAuth endpoints, a token service), and one that is only scheme://host[:port].
HttpUrl = Annotated[str, _url(path=True, what="an http(s) URL: http(s)://host[:port][/path], no spaces or user info")]
HostUrl = Annotated[
    str, _url(path=False, what="http(s)://host[:port] with nothing after the host (no path, query or spaces)")
]
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
    release_channel: Annotated[Literal["RAPID", "REGULAR", "STABLE", "EXTENDED"], BeforeValidator(_upper)] = "REGULAR"
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


def _without_trailing_dashes(value: Any) -> Any:
    # BinderHub's docs write prefixes as `binder-dev-`; the program adds the `-` itself.
    return value.rstrip("-") if isinstance(value, str) and value.rstrip("-") else value


# Docker Hub namespaces (a Docker ID or an organization): 4-30 lowercase letters and digits.
_DOCKER_HUB_NAMESPACE = "4-30 lowercase letters and digits (a Docker ID or Docker Hub organization)"
_PATH_COMPONENT = "lowercase letters and digits, separated by '.', '_' or '-' (a Docker repository path component)"


class RegistryConfig(Model):
    """Where BinderHub pushes built images and the kubelet pulls them.

    Every value that becomes part of an image name is a valid repository path component
    (distribution/reference's grammar), so each `<host>/<path>/<prefix>-<slug>` the program
    builds is a valid image reference.
    """

    type: RegistryType
    prefix: Annotated[
        str,
        BeforeValidator(_without_trailing_dashes),
        _matching(_IMAGE_PREFIX.pattern, _PATH_COMPONENT + "; a trailing '-' is fine, the program adds one"),
        Field(max_length=64),
    ] = "binder"
    username: str | None = None
    organization: Annotated[str, _matching(r"[a-z0-9]{4,30}", _DOCKER_HUB_NAMESPACE)] | None = None
    url: HostUrl | None = None
    token_url: HttpUrl | None = None
    project: Annotated[str, _matching(_IMAGE_PREFIX.pattern, _PATH_COMPONENT)] | None = None
    # ECR / Artifact Registry: days after which built images are deleted (BinderHub rebuilds on demand).
    expire_after_days: int = Field(30, ge=1, le=3650)

    @model_validator(mode="after")
    def _required_for_type(self) -> RegistryConfig:
        problems = _unused_keys(self, "registry", self.type, REGISTRY_KEYS)
        # custom needs a project: BinderHub looks images up by their last two path components.
        required = {"dockerhub": ("username",), "custom": ("url", "username", "project")}.get(self.type, ())
        missing = [to_camel(name) for name in required if getattr(self, name) is None]
        if missing:
            problems.append(f"registry type {self.type!r} needs {', '.join('registry.' + m for m in missing)}")
        namespace = self.organization or self.username
        if self.type == "dockerhub" and namespace and not re.fullmatch(r"[a-z0-9]{4,30}", namespace):
            key = "registry.organization" if self.organization else "registry.username"
            problems.append(
                f"{key} {namespace!r} becomes the image namespace docker.io/{namespace}/...: expected "
                f"{_DOCKER_HUB_NAMESPACE}"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self


# The keys each registry.type uses besides `type`; any other key set is refused (it would do nothing).
REGISTRY_KEYS: dict[str, frozenset[str]] = {
    "acr": frozenset({"prefix", "project"}),
    "ecr": frozenset({"prefix", "expire_after_days"}),
    "artifact-registry": frozenset({"prefix", "expire_after_days"}),
    "dockerhub": frozenset({"prefix", "username", "organization"}),
    "custom": frozenset({"prefix", "url", "token_url", "username", "project"}),
    "none": frozenset({"prefix"}),
}


def _unused_keys(model: BaseModel, section: str, kind: str, used: dict[str, frozenset[str]]) -> list[str]:
    """One line per key set in `section` that the chosen `section.type` never reads.

    A key that does nothing is a mistake the user cannot see: a client id without an auth type
    deploys an anonymous hub, a group rule GitHub's authenticator never receives locks everyone out.
    """
    problems = []
    for name in sorted(model.model_fields_set - {"type"} - used[kind]):
        users = sorted(t for t, keys in used.items() if name in keys)
        problems.append(
            f"{section}.{to_camel(name)} is not used by {section}.type {kind!r}"
            + (f"; it is for {section}.type " + " or ".join(repr(t) for t in users) if users else "")
            + " (remove it, or set the type that uses it)"
        )
    return problems


class HostsConfig(Model):
    binder: DnsName
    hub: DnsName


class TlsConfig(Model):
    enabled: bool | None = None  # default: on when a domain is set
    email: Annotated[Email, AfterValidator(_acme_email)] | None = None
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

    @model_validator(mode="after")
    def _keys_for_type(self) -> AuthConfig:
        problems = _unused_keys(self, "auth", self.type, AUTH_KEYS)
        if "groups_claim" in self.model_fields_set and not self.allowed_groups and self.type == "generic":
            problems.append("auth.groupsClaim is only read with auth.allowedGroups (the groups it names)")
        if problems:
            raise ValueError("\n".join(problems))
        return self


_LOGIN_KEYS = frozenset({"client_id", "allowed_users", "admin_users", "allow_all", "pass_tokens"})
# The keys each auth.type hands to its authenticator (components/values/auth.py).
AUTH_KEYS: dict[str, frozenset[str]] = {
    "none": frozenset(),
    "github": _LOGIN_KEYS | {"allowed_organizations"},
    "generic": _LOGIN_KEYS
    | {"authorize_url", "token_url", "userdata_url", "username_claim", "scope", "allowed_groups", "groups_claim"},
}


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


_ORIGIN_URL = _url_check(path=False, what="'*' or one origin, scheme://host[:port] (no path, no spaces)")


def _origin(value: str) -> str:
    return value if value == "*" else _ORIGIN_URL(value)


class CorsConfig(Model):
    # Sent as Access-Control-Allow-Origin: `*` or one origin, scheme://host[:port].
    allow_origin: Annotated[str, AfterValidator(_origin)] | None = None


def _chart_versions(value: dict[str, str]) -> dict[str, str]:
    for name, version in value.items():
        if name not in CHARTS:
            raise ValueError(f"unknown chart {name!r}; charts: {', '.join(sorted(CHARTS))}")
        # Helm takes ranges (`*`, `^4`, `>=4.0`) and `latest`; a stack pins what it was tested with.
        if not isinstance(version, str) or not semver.Version.is_valid(version):
            raise ValueError(
                f"chart {name!r} needs an exact version (SemVer, e.g. {CHARTS[name].version}), not {version!r}"
            )
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
        problems += self._name_problems()
        problems += self._shape_problems()
        problems += self._node_problems()
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _name_problems(self) -> list[str]:
        """Names the cluster or Let's Encrypt would refuse, or that collide with the program's own."""
        problems: list[str] = []
        if self.namespace in RESERVED_NAMESPACES or self.namespace.startswith("kube-"):
            problems.append(
                f"namespace {self.namespace!r} belongs to the cluster or to a component this program installs "
                f"({', '.join(sorted(RESERVED_NAMESPACES))}, kube-*); choose another, e.g. 'binderhub'"
            )
        if self.tls_enabled:
            for key, host in self._static_hosts():
                try:
                    _certificate_name(host)
                except ValueError as error:
                    problems.append(f"{key}: the TLS host {host!r} {error}")
        return problems

    def _static_hosts(self) -> list[tuple[str, str]]:
        """(config key, host) for every public host known before the cluster exists."""
        cluster = self.cluster if isinstance(self.cluster, ExistingClusterConfig) else None
        address = self.ingress.address or (cluster.external_ips[0] if cluster and cluster.external_ips else None)
        key = "domain" if self.domain else "hosts" if self.hosts else "wildcardDns"
        if not (self.domain or self.hosts):
            # Hosts derive from the load balancer's address: check the wildcard DNS with any IP.
            address = address or "203.0.113.10"
        hosts = compute_hosts(
            domain=self.domain,
            binder_host=self.hosts.binder if self.hosts else None,
            hub_host=self.hosts.hub if self.hosts else None,
            wildcard_dns=self.wildcard_dns,
            address=address,
            tls=True,
        )
        return [(key, hosts.binder), (key, hosts.hub)] if hosts.binder != hosts.hub else [(key, hosts.hub)]

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


# Namespaces the cluster owns or this program installs into (components/cert_manager.py,
# ingress_nginx.py, openebs.py, the ECR credential helper in stacks/aws.py); a test checks the
# list against every Namespace the program creates.
RESERVED_NAMESPACES = frozenset(
    {"default", "kube-system", "kube-public", "kube-node-lease", "cert-manager", "nginx-ingress", "openebs"}
    | {"binderhub-registry"}
)


def _certificate_name(host: str) -> str:
    """`host` if it fits in a certificate (RFC 5280 / Let's Encrypt: 253 characters, 63 per label)."""
    if len(host) > 253 or any(len(label) > 63 for label in host.split(".")):
        raise ValueError("is longer than a certificate name may be (253 characters, 63 per label)")
    return _acme_domain(host, "a certificate name")


def _registry_types_for(cloud: str) -> list[str]:
    return [t for t in RegistryType.__args__ if REGISTRY_CLOUDS.get(t, cloud) == cloud]  # type: ignore[attr-defined]


def _auth_problems(auth: AuthConfig, secrets: set[str]) -> list[str]:
    problems: list[str] = []
    if auth.type == "none":
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


def _control_characters(value: Any, key: str) -> list[str]:
    """One line per string (or map key) under `key` holding a control or invisible format character.

    Every string here ends up in a name, host, URL, label, header or file; a `\\n` or a zero-width
    space there breaks it far from the stack file (`namespace: "binderhub\\n"`).
    """
    if isinstance(value, dict):
        problems = []
        for name, item in value.items():
            problems += _control_characters(str(name), f"{key} (a key)") + _control_characters(item, f"{key}.{name}")
        return problems
    if isinstance(value, list):
        return [line for i, item in enumerate(value) for line in _control_characters(item, f"{key}[{i}]")]
    if isinstance(value, str):
        bad = sorted({c for c in value if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")})
        if bad:
            shown = ", ".join(f"U+{ord(c):04X}" for c in bad)
            return [f"{NAMESPACE}:{key}: {_describe(value)} contains a control character ({shown}); remove it"]
    return []


def parse_config(
    raw: dict[str, Any],
    secrets: set[str] | frozenset[str] = frozenset(),
    secret_marked: set[str] | frozenset[str] = frozenset(),
) -> StackConfig[Any]:
    """Validate the stack's `binderhub:` values (plain keys) and which secret keys are set.

    raw: key -> value as Pulumi hands them over (structured keys already parsed from JSON).
    secrets: the secret keys (SECRET_KEYS) that are set. secret_marked: plain keys the user set
    with `--secret`; their values never appear in an error message.
    Raises ConfigError listing every problem as `binderhub:<key>: <value> <what is valid>`.
    """
    # Pulumi.yaml declares optional strings with "" as default: "" means unset.
    data = {k: v for k, v in raw.items() if k not in SECRET_KEYS and v != ""}
    problems = [line for key, value in data.items() for line in _control_characters(value, key)]
    problems += [
        f"{NAMESPACE}:{key}: set with --secret, but its value becomes public names, hosts or cloud resource names "
        "that cannot be kept secret; set it without --secret"
        for key in sorted(secret_marked)
        if key in data and not _may_be_secret(key, data)
    ]
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(_redact(problems, data, secret_marked)))
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
        lines = _redact(_format_errors(error), data, secret_marked)
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines)) from None


# Plain keys that may be set with --secret: their values reach only Helm values, Kubernetes
# Secrets and outputs, which keep_secret() marks secret. The registry only when it is not the
# cloud's own (whose prefix names cloud resources).
_SECRET_CAPABLE = {
    "auth": lambda value: True,
    "registry": lambda value: _registry_type(value) in ("dockerhub", "custom"),
}


def _registry_type(value: Any) -> Any:
    return value.get("type") if isinstance(value, dict) else None


def _may_be_secret(key: str, data: dict[str, Any]) -> bool:
    check = _SECRET_CAPABLE.get(key)
    return check is not None and check(data[key])


def _leaves(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value] if isinstance(value, str) and value else []


def _redact(lines: list[str], data: dict[str, Any], secret_marked: set[str] | frozenset[str]) -> list[str]:
    hidden = sorted({leaf for key in secret_marked for leaf in _leaves(data.get(key))}, key=len, reverse=True)
    for leaf in hidden:
        lines = [line.replace(leaf, "[secret]").replace(repr(leaf)[1:-1], "[secret]") for line in lines]
    return lines


def _known_keys() -> set[str]:
    return {field.alias or name for name, field in StackConfig.model_fields.items()} | set(SECRET_KEYS)


def _structured_keys() -> set[str]:
    """Keys whose values are maps or lists (Pulumi passes them to the program as JSON text)."""
    return {field.alias or name for name, field in StackConfig.model_fields.items() if _structured(field.annotation)}


def _structured(annotation: Any) -> bool:
    if isinstance(annotation, TypeVar):  # the cluster: a model per cloud
        return True
    origin = get_origin(annotation) or annotation
    if origin in (dict, list) or (isinstance(origin, type) and issubclass(origin, BaseModel)):
        return True
    return any(_structured(arg) for arg in get_args(annotation))


# Secret keys whose value is one line (a password or token sent in an HTTP header); the
# kubeconfig is a document.
_ONE_LINE_SECRETS = tuple(key for key in SECRET_KEYS if key != "kubeconfig")


@dataclass(frozen=True)
class StackSecrets:
    """Secret config values, as Pulumi secret Outputs (None when unset).

    kubeconfig: on cloud `existing`, always set: the `binderhub:kubeconfig` secret or the ambient
    kubeconfig, cut down to the one context the stack uses (see kubeconfig.resolve_kubeconfig).
    """

    kubeconfig: pulumi.Output[str] | None = None
    registry_password: pulumi.Output[str] | None = None
    oauth_client_secret: pulumi.Output[str] | None = None
    github_token: pulumi.Output[str] | None = None
    gitlab_token: pulumi.Output[str] | None = None


def _configured_keys() -> list[str]:
    # The engine passes config in the environment; tests set it in the runtime's map.
    configured = set(pulumi.runtime.get_config_env()) | set(pulumi.runtime.config.CONFIG.get())
    return sorted(k.split(":", 1)[1] for k in configured if k.startswith(NAMESPACE + ":"))


def _secret_marked_keys() -> set[str]:
    """Plain (non-SECRET_KEYS) keys whose value the stack file stores encrypted."""
    return {
        key
        for key in _configured_keys()
        if key not in SECRET_KEYS and pulumi.runtime.is_config_secret(f"{NAMESPACE}:{key}")
    }


def load_config() -> tuple[StackConfig[Any], StackSecrets]:
    """Read `binderhub:*` from the stack; raise ConfigError before anything is created.

    Secrets are read once, as plain text, only to check them (never echoed); they leave here
    as Pulumi secret Outputs.
    """
    config = pulumi.Config(NAMESPACE)
    all_keys = _configured_keys()
    problems = [
        f"{NAMESPACE}:{k}: unknown key; valid keys: {', '.join(sorted(_known_keys()))}"
        for k in sorted(set(all_keys) - _known_keys())
    ]
    structured = _structured_keys()
    raw: dict[str, Any] = {}
    plain: dict[str, str] = {}
    for key in all_keys:
        value = config.get(key)
        if key in SECRET_KEYS:
            if value is not None:
                plain[key] = value
            if value is not None and not pulumi.runtime.is_config_secret(f"{NAMESPACE}:{key}"):
                problems.append(
                    f"{NAMESPACE}:{key}: stored in plain text in the stack file; store it encrypted: "
                    f"pulumi config set --secret {NAMESPACE}:{key} (or make secret KEY={key})"
                )
            continue
        if key in structured and value is not None and value[:1] in ("{", "["):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                problems.append(f"{NAMESPACE}:{key}: {_describe(value)} is not a valid map or list")
        raw[key] = value
    for key in _ONE_LINE_SECRETS:
        if key in plain and (plain[key] != plain[key].strip() or _control_characters(plain[key], key)):
            problems.append(
                f"{NAMESPACE}:{key}: the secret has surrounding spaces, a line break or a control character "
                "(often a trailing newline from a file); set it again without"
            )
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))
    stack_config = parse_config(raw, set(plain), _secret_marked_keys())
    kubeconfig = plain.get("kubeconfig")
    if stack_config.cloud == "existing":
        try:
            kubeconfig = resolve_kubeconfig(kubeconfig, stack_config.cluster.context)
        except KubeconfigError as error:
            raise ConfigError(f"invalid configuration:\n  {error}") from None

    def secret(value: str | None) -> pulumi.Output[str] | None:
        return None if value is None else pulumi.Output.secret(value)

    return stack_config, StackSecrets(
        kubeconfig=secret(kubeconfig),
        registry_password=secret(plain.get("registryPassword")),
        oauth_client_secret=secret(plain.get("oauthClientSecret")),
        github_token=secret(plain.get("githubToken")),
        gitlab_token=secret(plain.get("gitlabToken")),
    )


def keep_secret(value: Any) -> Any:
    """`value`, as a Pulumi secret if it holds a string from a plain key the user set with --secret.

    For Helm values and stack outputs, where those keys' values flow (_SECRET_CAPABLE): a value
    derived from a secret string (an image prefix holding a secret registry username) contains
    it, so it is found by substring. Outputs are checked when they resolve.
    """
    config = pulumi.Config(NAMESPACE)
    hidden: list[str] = []
    for key in _secret_marked_keys():
        text = config.get(key) or ""
        try:
            hidden += _leaves(json.loads(text))
        except json.JSONDecodeError:
            hidden.append(text)
    hidden = [leaf for leaf in hidden if leaf]
    if not hidden:
        return value

    def holds_secret(resolved: Any) -> bool:
        return any(secret in leaf for leaf in _leaves(resolved) for secret in hidden)

    if isinstance(value, pulumi.Output):
        return value.apply(lambda v: pulumi.Output.secret(v) if holds_secret(v) else v)
    return pulumi.Output.secret(value) if holds_secret(value) else value
