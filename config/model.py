"""The stack's configuration model: every `binderhub:` key and the rules across keys."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Generic, Literal, TypeVar
from urllib.parse import urlsplit

import semver
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    ValidationInfo,
    model_validator,
)
from pydantic.alias_generators import to_camel

from components.values.hosts import compute_hosts, grafana_host
from config.base import (
    IMAGE_PATH_COMPONENT,
    DnsLabel,
    DnsName,
    Email,
    HostUrl,
    HttpUrl,
    IpAddress,
    Model,
    acme_domain,
    acme_email,
    matching,
    registrable_domain,
    url_check,
)
from config.capacity import (
    LaunchQuotaConfig,
    ResourcesConfig,
    default_quotas,
    fit_problems,
    memory_bytes,
    node_capacity,
    servers_per_node,
)
from config.clusters import (
    AwsClusterConfig,
    AzureClusterConfig,
    ExistingClusterConfig,
    GcpClusterConfig,
    ManagedClusterConfig,
)
from versions import CHARTS

RegistryType = Literal["acr", "ecr", "artifact-registry", "dockerhub", "custom", "none"]
CloudName = Literal["azure", "aws", "gcp", "existing"]


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
    """Where built images go: the cloud's own (acr, ecr, artifact-registry), dockerhub, custom, or none."""
    prefix: Annotated[
        str,
        BeforeValidator(_without_trailing_dashes),
        matching(IMAGE_PATH_COMPONENT.pattern, _PATH_COMPONENT + "; a trailing '-' is fine, the program adds one"),
        Field(max_length=64),
    ] = "binder"
    """Image name prefix: images are <registry>/<path>/<prefix>-<repository slug>."""
    username: str | None = None
    """dockerhub: your Docker ID; custom: the registry user (e.g. a Harbor robot account)."""
    organization: Annotated[str, matching(r"[a-z0-9]{4,30}", _DOCKER_HUB_NAMESPACE)] | None = None
    """dockerhub: push to this organization instead of your Docker ID."""
    url: HostUrl | None = None
    """custom: the registry, https://host[:port]."""
    token_url: HttpUrl | None = None
    """custom: the registry's token service, when it is not at <url>/v2/token."""
    project: Annotated[str, matching(IMAGE_PATH_COMPONENT.pattern, _PATH_COMPONENT)] | None = None
    """custom: the project (first path component) images go into; acr: the repository namespace."""
    # ECR / Artifact Registry / ACR: days after which built images are deleted (BinderHub rebuilds on demand).
    expire_after_days: int = Field(30, ge=1, le=3650)
    """ecr, artifact-registry, acr: days after which built images are deleted (BinderHub rebuilds on demand)."""
    # Entra ID application passwords: 2 years is the longest most tenants' policies allow.
    credential_lifetime_days: int = Field(90, ge=7, le=730)
    """acr, artifact-registry: days the generated push credential lives (acr: its expiry); the first
    `pulumi up` after two thirds of it replaces the credential."""
    credential_rotation: (
        Annotated[str, matching(r"[A-Za-z0-9._:-]{1,64}", "1-64 letters, digits, '.', '_', ':' or '-', e.g. a date")]
        | None
    ) = None
    """acr, artifact-registry: change this value (e.g. to today's date) to replace the push
    credential at the next `pulumi up`."""

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
                f"{key} {namespace!r} becomes the image namespace (docker.io/<it>/...): expected "
                f"{_DOCKER_HUB_NAMESPACE}"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self


# The keys each registry.type uses besides `type`; any other key set is refused (it would do nothing).
REGISTRY_KEYS: dict[str, frozenset[str]] = {
    "acr": frozenset({"prefix", "project", "expire_after_days", "credential_lifetime_days", "credential_rotation"}),
    "ecr": frozenset({"prefix", "expire_after_days"}),
    "artifact-registry": frozenset({"prefix", "expire_after_days", "credential_lifetime_days", "credential_rotation"}),
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
    """Host name of BinderHub."""
    hub: DnsName
    """Host name of JupyterHub."""
    grafana: DnsName | None = None
    """Host name of Grafana (binderhub:monitoring); default grafana.<the hub host without its first label>."""


class TlsConfig(Model):
    enabled: bool | None = None  # default: on when a domain is set
    """HTTPS with Let's Encrypt; default: on when a domain or hosts are set."""
    email: Email | None = None
    """Let's Encrypt account contact (required with TLS)."""
    server: Literal["staging", "production"] = "production"
    """Let's Encrypt production, or staging (untrusted certificates, high rate limits) for trials."""


class IngressConfig(Model):
    controller: Literal["nginx", "existing"] = "nginx"
    """nginx: install the F5 NGINX Ingress Controller; existing: use the cluster's."""
    class_name: DnsName | DnsLabel = "nginx"
    """IngressClass the hub's Ingresses use."""
    # For an existing controller: its public address (hosts derive from it without a domain).
    address: IpAddress | None = None
    """existing controller: its public IP (hosts derive from it without a domain)."""


class AuthConfig(Model):
    type: Literal["none", "github", "generic"] = "none"
    """none (anonymous Binder), github, or generic (any OAuth2/OIDC provider, e.g. Keycloak)."""
    client_id: str | None = None
    """The OAuth app's client id (its secret: binderhub:oauthClientSecret)."""
    allowed_organizations: list[
        Annotated[
            str,
            matching(
                r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?::[A-Za-z0-9_.-]+)?",
                "a GitHub organization (its login, e.g. binder-team), or org:team-slug",
            ),
        ]
    ] = Field(default_factory=list)
    """github: members of these organizations (or org:team) may log in."""
    authorize_url: HttpUrl | None = None
    """generic: the provider's authorization endpoint."""
    token_url: HttpUrl | None = None
    """generic: the provider's token endpoint."""
    userdata_url: HttpUrl | None = None
    """generic: the provider's userinfo endpoint."""
    username_claim: str = "preferred_username"
    """generic: the userinfo claim used as the user name."""
    scope: list[str] = Field(default_factory=lambda: ["openid", "profile", "email"])
    """generic: OAuth scopes requested."""
    allowed_groups: list[str] = Field(default_factory=list)
    """generic: members of these groups (from groupsClaim) may log in."""
    allowed_users: list[str] = Field(default_factory=list)
    """These users may log in."""
    admin_users: list[str] = Field(default_factory=list)
    """These users may log in and are hub admins."""
    allow_all: bool = False
    """Anyone the provider authenticates may log in."""
    # generic: the userinfo claim holding group names (for allowedGroups)
    groups_claim: str = "groups"
    """generic: the userinfo claim holding group names (for allowedGroups)."""
    # Keep the OAuth tokens (encrypted with a generated CryptKeeper key) and hand the access
    # token to the user's server as $OAUTH_ACCESS_TOKEN, e.g. to reach data services.
    pass_tokens: bool = False
    """Keep the OAuth tokens (encrypted) and give the access token to user servers as $OAUTH_ACCESS_TOKEN."""

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
    """Let logged-in users run several named servers."""
    limit_per_user: int | None = Field(None, ge=1)
    """Most named servers per user; default: no limit."""


# An image reference with a tag (distribution/reference, regexp.go): an optional registry host
# (with a port), lowercase path components, and a tag of word characters, '.' and '-'.
_IMAGE_WITH_TAG = re.compile(
    r"((?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?/)?"
    r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
    r":[\w][\w.-]{0,127}"
)


def _image_with_tag(value: str) -> str:
    if not _IMAGE_WITH_TAG.fullmatch(value) or value.endswith(":latest"):
        raise ValueError(
            "is not a pinned image: expected <registry>/<lowercase name>:<tag> with a tag other than 'latest'"
        )
    return value


class FancyProfilesConfig(Model):
    enabled: bool = False
    """Service shape: the hub's spawn page offers building any repository (jupyterhub-fancy-profiles)."""
    # A hub image with jupyterhub-fancy-profiles installed, matching the pinned z2jh
    # (e.g. quay.io/yuvipanda/z2jh-hub-with-fancy-profiles:z2jh-v4.4.0-fancy-profiles-sha-<sha>).
    hub_image: Annotated[str, AfterValidator(_image_with_tag)] | None = None
    """A pinned hub image with jupyterhub-fancy-profiles for the pinned z2jh."""


class CullConfig(Model):
    enabled: bool = True
    """Stop idle servers."""
    timeout: int = Field(600, ge=60)  # seconds of inactivity
    """Seconds of inactivity before a server is stopped."""
    every: int = Field(660, ge=10)
    """Seconds between culler runs."""
    max_age: int = Field(21600, ge=0)  # 0: no limit
    """Seconds after which any server is stopped; 0: no limit."""
    users: bool | None = None  # default: cull (delete) users only when anonymous
    """Delete culled users too; default: only when anonymous."""


def _memory_quantity(value: str) -> str:
    memory_bytes(value)  # a Kubernetes quantity: 50Gi, 50G, 1.5Ti
    return value


_ORIGIN_URL = url_check(path=False, what="'*' or one origin, scheme://host[:port] (no path, no spaces)")


def _origin(value: str) -> str:
    """`*` or one origin exactly as browsers send it (RFC 6454 serialization): lowercase scheme
    and host, no path or trailing '/', no default port; the header is compared as a string."""
    if value == "*":
        return value
    _ORIGIN_URL(value)
    parts = urlsplit(value)
    default_port = {"http": 80, "https": 443}[parts.scheme]
    if value != value.lower():
        raise ValueError("must be lowercase, as browsers send an origin")
    if value.endswith("/"):
        raise ValueError("must have no trailing '/', as browsers send an origin")
    if parts.port == default_port:
        raise ValueError(f"must leave out the default port {default_port}, as browsers send an origin")
    return value


class CorsConfig(Model):
    # Sent as Access-Control-Allow-Origin: `*` or one origin, scheme://host[:port].
    allow_origin: Annotated[str, AfterValidator(_origin)] | None = None
    """Access-Control-Allow-Origin of the BinderHub API and launched servers: * or one origin."""


class GitLabConfig(Model):
    hostname: DnsName = "gitlab.com"
    """The GitLab instance gl/ repositories are resolved and cloned from (its token: binderhub:gitlabToken)."""


class RepoProvidersConfig(Model):
    """Where BinderHub's repository providers fetch from (their credentials are secrets)."""

    gitlab: GitLabConfig = Field(default_factory=lambda: GitLabConfig.model_validate({}))
    """GitLab repositories (gl/group%2Fproject/ref): BinderHub's GitLabRepoProvider."""


class SmokeConfig(Model):
    """The check `make up` runs after a successful `pulumi up` (and `make smoke` on its own)."""

    enabled: bool = True
    """Run the smoke test at the end of `make up`."""
    # A BinderHub spec: <provider>/<spec> as in /build/<provider>/<spec>.
    repository: Annotated[
        str,
        matching(
            r"(gh|gl|git|zenodo|figshare|hydroshare|dataverse|ckan)/\S+",
            "a BinderHub spec like gh/<owner>/<repo>/<ref>",
        ),
    ] = "gh/binderhub-ci-repos/cached-minimal-dockerfile/HEAD"
    """Repository built and launched on an anonymous hub, as BinderHub's <provider>/<spec>."""
    timeout: int = Field(1200, ge=60, le=7200)
    """Seconds the whole smoke test may take."""
    phase_timeout: int = Field(600, ge=10, le=7200)
    """Seconds any one phase (waiting for DNS/TLS, build, launch, server) may take."""


class MonitoringConfig(Model):
    """Prometheus and Grafana beside the hub, with JupyterHub's and BinderHub's dashboards."""

    enabled: bool = False
    """Deploy Prometheus and Grafana (Grafana at grafana.<domain>)."""
    retention_days: int = Field(15, ge=1, le=3650)
    """Days Prometheus keeps metrics."""
    volume_size: Annotated[str, AfterValidator(_memory_quantity)] = "20Gi"
    """Size of Prometheus' volume (on the stack's default storage class), at least 1Gi; Prometheus
    deletes the oldest metrics once they fill 85% of it, whatever retentionDays says."""

    @model_validator(mode="after")
    def _usable(self) -> MonitoringConfig:
        problems: list[str] = []
        unused = sorted(to_camel(key) for key in self.model_fields_set - {"enabled"})
        if not self.enabled and unused:
            problems.append(
                f"{', '.join('monitoring.' + key for key in unused)} "
                f"{'only applies' if len(unused) == 1 else 'only apply'} with monitoring.enabled true "
                "(set it, or remove them)"
            )
        if memory_bytes(self.volume_size) < 2**30:
            problems.append(
                f"monitoring.volumeSize {self.volume_size!r} is too small for Prometheus: at least 1Gi, e.g. 20Gi"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self


def _chart_versions(value: dict[str, str]) -> dict[str, str]:
    for name, version in value.items():
        if name not in CHARTS:
            raise ValueError(f"unknown chart {name!r}; charts: {', '.join(sorted(CHARTS))}")
        # Helm takes ranges (`*`, `^4`, `>=4.0`) and `latest`; a stack pins what it was tested with.
        # Charts published as v1.21.1 (cert-manager) or 4.2.0: an optional `v`, then SemVer.
        if not isinstance(version, str) or not semver.Version.is_valid(version.removeprefix("v")):
            raise ValueError(
                f"chart {name!r} needs an exact version (SemVer, e.g. {CHARTS[name].version}), not {version!r}"
            )
    return value


ClusterT = TypeVar("ClusterT", bound=Model)


class StackConfig(Model, Generic[ClusterT]):
    """Every `binderhub:` key. Parsed as one of the per-cloud subclasses (`AnyStackConfig`), so
    `cluster` has the chosen cloud's model and each stack builder gets its own typed config."""

    cloud: CloudName
    """Target: azure (AKS + ACR), aws (EKS + ECR), gcp (GKE + Artifact Registry) or existing (any cluster)."""
    shape: Literal["classic", "service"] = "classic"
    """classic: the binderhub chart with its JupyterHub; service: binderhub-service beside a z2jh hub."""
    namespace: DnsLabel = "binderhub"
    """Namespace of the hub releases."""
    cluster: ClusterT
    """The cluster: created on a cloud, or the existing one to use (keys per cloud)."""
    registry: RegistryConfig
    """Where built images are pushed and pulled from; default: the cloud's own."""
    domain: DnsName | None = None
    """Hosts binder.<domain> and hub.<domain>; HTTPS by default."""
    hosts: HostsConfig | None = None
    """Explicit host names instead of a domain."""
    wildcard_dns: DnsName = "nip.io"
    """Without a domain: hosts like hub.<ip>.<wildcardDns>."""
    tls: TlsConfig = Field(default_factory=lambda: TlsConfig.model_validate({}))
    """HTTPS certificates from Let's Encrypt (cert-manager)."""
    ingress: IngressConfig = Field(default_factory=lambda: IngressConfig.model_validate({}))
    """The ingress controller the hosts are served by."""
    auth: AuthConfig = Field(default_factory=lambda: AuthConfig.model_validate({}))
    """Who may use the hub: anonymous, or a login with GitHub or an OAuth2/OIDC provider."""
    # host: the node's own Docker socket (cluster.runtime 'docker' only); dind/pink: a daemon per node.
    builder: Literal["dind", "pink", "host"] = "dind"
    """Image builder: dind or pink (a daemon per node), host (the node's Docker socket, Docker nodes only)."""
    cull: CullConfig = Field(default_factory=lambda: CullConfig.model_validate({}))
    """Stopping idle servers."""
    cors: CorsConfig = Field(default_factory=lambda: CorsConfig.model_validate({}))
    """Cross-origin access to the BinderHub API and launched servers."""
    repo_providers: RepoProvidersConfig = Field(default_factory=lambda: RepoProvidersConfig.model_validate({}))
    """Where BinderHub's repository providers fetch from (other git servers' credentials: binderhub:gitCredentials)."""
    named_servers: NamedServersConfig = Field(default_factory=lambda: NamedServersConfig.model_validate({}))
    """Several servers per logged-in user."""
    # service shape: serve BinderHub's own UI at /services/binder/ (else API only)
    binder_ui: bool = Field(True, alias="binderUI")
    """Service shape: serve BinderHub's page at /services/binder/ (else API only)."""
    fancy_profiles: FancyProfilesConfig = Field(default_factory=lambda: FancyProfilesConfig.model_validate({}))
    """Service shape: build-and-launch from the hub's spawn page."""
    # service shape: the build cache's size bound (binderhub-service has no image cleaner)
    builder_cache_size: Annotated[str, AfterValidator(_memory_quantity)] = "50Gi"
    """Service shape: size bound of the builder's image cache."""
    protect: bool = False
    """Refuse deleting what users' data and DNS depend on: cluster, registry, ingress IP, hub namespace and volumes."""
    charts: Annotated[dict[str, str], AfterValidator(_chart_versions)] = Field(default_factory=dict)
    """Per-chart exact version overrides of versions.py, e.g. {binderhub: <version>}."""
    resources: ResourcesConfig = Field(default_factory=lambda: ResourcesConfig.model_validate({}))
    """CPU and memory guarantee and limit of each user server (`user`) and build pod (`build`)."""
    launch_quota: LaunchQuotaConfig = Field(default_factory=lambda: LaunchQuotaConfig.model_validate({}))
    """Servers running at once (`total`) and per repository (`perRepo`); default: from the user pool's size."""
    user_placeholders: int = Field(0, ge=0, le=1000)
    """Placeholder pods keeping room for this many servers ready (z2jh user placeholders): real
    servers evict them, and the autoscaler adds nodes for them ahead of a peak."""
    smoke: SmokeConfig = Field(default_factory=lambda: SmokeConfig.model_validate({}))
    """The smoke test `make up` runs after deploying: build and launch a repository, or check login."""
    monitoring: MonitoringConfig = Field(default_factory=lambda: MonitoringConfig.model_validate({}))
    """Prometheus and Grafana with the JupyterHub and BinderHub dashboards."""
    helm_values: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Per-chart Helm values (chart: values map) merged over the program's; keys the program sets are refused."""

    @property
    def tls_enabled(self) -> bool:
        if self.tls.enabled is None:
            return self.domain is not None or self.hosts is not None
        return self.tls.enabled

    @property
    def dedicated_pools(self) -> bool:
        """The clusters the program creates have a labelled core pool and a tainted user pool."""
        return self.cloud != "existing"

    @property
    def launch_quotas(self) -> tuple[int | None, int | None]:
        """(total, per repository) for BinderHub: configured, else what `userMaxNodes` user nodes
        hold by the user servers' guarantees; per repository only on anonymous hubs (a class
        launching one repository behind a login is not abuse)."""
        capacity = None
        if isinstance(self.cluster, ManagedClusterConfig):
            node = node_capacity(self.cloud, self.cluster.user_node_size)
            if node is not None:
                capacity = self.cluster.user_max_nodes * servers_per_node(node, self.resources.user)
        total, per_repo = default_quotas(capacity, self.launch_quota)
        if self.launch_quota.per_repo is None and self.auth.type != "none":
            per_repo = None
        return total, per_repo

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
        if self.tls_enabled and self.tls.email:
            try:
                acme_email(self.tls.email)
            except ValueError as error:
                problems.append(f"tls.email {self.tls.email!r} {error}")
        if "oauthClientSecret" in secrets and self.auth.type == "none":
            problems.append("the secret oauthClientSecret is set but auth.type is 'none': set auth.type or remove it")
        if "registryPassword" in secrets and self.registry.type not in ("dockerhub", "custom"):
            problems.append(
                f"the secret registryPassword is set but registry.type {self.registry.type!r} does not use it "
                "(only 'dockerhub' and 'custom' do): remove it"
            )
        https = (
            "set tls.enabled true (or remove tls.enabled: false)"
            if self.domain or self.hosts
            else "set binderhub:domain (HTTPS by default) or tls.enabled true"
        )
        if self.auth.type != "none" and not self.tls_enabled:
            problems.append(
                f"auth.type {self.auth.type!r} needs HTTPS: the OAuth callback and the login cookie would "
                f"cross the network in plain HTTP; {https}, or use auth.type 'none'"
            )
        if self.monitoring.enabled and not self.tls_enabled:
            problems.append(
                f"monitoring.enabled needs HTTPS: Grafana's admin login would cross the network in plain HTTP; {https}"
            )
        if self.hosts and self.hosts.grafana and not self.monitoring.enabled:
            problems.append("hosts.grafana is only used with monitoring.enabled true (set it, or remove hosts.grafana)")
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
        problems += self._capacity_problems()
        problems += self._shape_problems()
        problems += self._node_problems()
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _capacity_problems(self) -> list[str]:
        """Limits a user node cannot give one pod (the size read from its name; unknown: unchecked)."""
        if not isinstance(self.cluster, ManagedClusterConfig):
            return []
        size = self.cluster.user_node_size
        node = node_capacity(self.cloud, size)
        if node is None:
            if self.launch_quota.total is None:
                return [
                    f"cluster.userNodeSize {size!r}: the program cannot read its memory from the name, so it can "
                    "neither check resources against it nor derive the launch quota: set launchQuota.total (the "
                    "most servers that may run at once)"
                ]
            return []
        return fit_problems(node, size, self.resources)

    def _name_problems(self) -> list[str]:
        """Names the cluster or Let's Encrypt would refuse, or that collide with the program's own."""
        problems: list[str] = []
        if self.namespace in RESERVED_NAMESPACES or self.namespace.startswith(RESERVED_NAMESPACE_PREFIXES):
            problems.append(
                f"namespace {self.namespace!r} belongs to the cluster or to a component this program installs "
                f"({', '.join(sorted(RESERVED_NAMESPACES))}, "
                f"{', '.join(p + '*' for p in RESERVED_NAMESPACE_PREFIXES)}); choose another, e.g. 'binderhub'"
            )
        if self.hosts and self.hosts.binder == self.hosts.hub and self.shape == "classic":
            problems.append(
                f"hosts.binder and hosts.hub are both {self.hosts.hub!r}: the classic shape serves BinderHub and "
                "JupyterHub on two hosts (shape 'service' serves BinderHub under the hub's host)"
            )
        if self.monitoring.enabled and self.hosts:
            grafana = self.hosts.grafana
            if grafana in (self.hosts.hub, self.hosts.binder):
                problems.append(
                    f"hosts.grafana {grafana!r} is also the hub's or BinderHub's host: Grafana needs a host of its own"
                )
            owned = registrable_domain(self.hosts.hub)
            parent = self.hosts.hub.partition(".")[2]
            if grafana is None and (owned is None or not (parent == owned or parent.endswith("." + owned))):
                problems.append(
                    f"hosts.grafana is needed: Grafana's default host {grafana_host(self.hosts.hub)!r} (grafana. and "
                    f"hosts.hub {self.hosts.hub!r} without its first label) is outside your domain"
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
        found = [(key, hosts.binder), (key, hosts.hub)] if hosts.binder != hosts.hub else [(key, hosts.hub)]
        if self.monitoring.enabled:
            explicit = self.hosts.grafana if self.hosts else None
            found.append(("hosts.grafana" if explicit else key, grafana_host(hosts.hub, explicit)))
        return found

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
# ingress/f5_nginx.py, openebs.py, registry/ecr.py: the ECR credential helper's,
# monitoring/monitoring.py); a test checks
# the list against every Namespace the program creates.
# Namespaces managed clusters create for their own add-ons (GKE: gke-*, gmp-*; AKS: aks-*,
# calico-system with Calico; Tigera's operator), and Kubernetes' own.
RESERVED_NAMESPACE_PREFIXES = ("kube-", "gke-", "gmp-", "aks-", "calico-", "tigera-")
RESERVED_NAMESPACES = frozenset(
    {"default", "kube-system", "kube-public", "kube-node-lease", "cert-manager", "nginx-ingress", "openebs"}
    | {"binderhub-registry", "cluster-autoscaler", "binderhub-monitoring"}
)


def _certificate_name(host: str) -> str:
    """`host` if it fits in a certificate (RFC 5280 / Let's Encrypt: 253 characters, 63 per label)."""
    if len(host) > 253 or any(len(label) > 63 for label in host.split(".")):
        raise ValueError("is longer than a certificate name may be (253 characters, 63 per label)")
    return acme_domain(host, "a certificate name")


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
    restricting = [
        "auth." + to_camel(k) for k in ("allowed_organizations", "allowed_groups", "allowed_users") if getattr(auth, k)
    ]
    if auth.allow_all and restricting:
        problems.append(
            f"auth.allowAll admits everyone the provider authenticates, so {', '.join(restricting)} restrict "
            "nothing: remove allowAll to admit only them, or remove them"
        )
    if auth.type == "generic":
        missing = [k for k in ("authorize_url", "token_url", "userdata_url") if getattr(auth, k) is None]
        if missing:
            problems.append("auth.type 'generic' needs " + ", ".join("auth." + to_camel(k) for k in missing))
    return problems


# ---------------------------------------------------------------------------- one model per cloud


class AzureStack(StackConfig[AzureClusterConfig]):
    cloud: Literal["azure"]  # pyright: ignore[reportIncompatibleVariableOverride] (frozen: narrowing is safe)


class AwsStack(StackConfig[AwsClusterConfig]):
    cloud: Literal["aws"]  # pyright: ignore[reportIncompatibleVariableOverride] (frozen: narrowing is safe)


class GcpStack(StackConfig[GcpClusterConfig]):
    cloud: Literal["gcp"]  # pyright: ignore[reportIncompatibleVariableOverride] (frozen: narrowing is safe)

    @property
    def private_nodes(self) -> bool:
        """GKE nodes without public addresses (Cloud NAT for egress): cluster.privateNodes, else protect."""
        return self.protect if self.cluster.private_nodes is None else self.cluster.private_nodes


class ExistingStack(StackConfig[ExistingClusterConfig]):
    cloud: Literal["existing"]  # pyright: ignore[reportIncompatibleVariableOverride] (frozen: narrowing is safe)


AnyStackConfig = Annotated[AzureStack | AwsStack | GcpStack | ExistingStack, Field(discriminator="cloud")]


@dataclass(frozen=True)
class Cloud:
    """A target: its config model, and the registry it brings (its default `registry.type`).

    The builder is `stacks/<name>.py`'s `build(cfg, secrets)`; adding a cloud is one entry here,
    its cluster model, its stack model above and that module.
    """

    stack: type[StackConfig[Any]]
    registry: str | None


CLOUDS: dict[str, Cloud] = {
    "azure": Cloud(AzureStack, "acr"),
    "aws": Cloud(AwsStack, "ecr"),
    "gcp": Cloud(GcpStack, "artifact-registry"),
    "existing": Cloud(ExistingStack, None),
}
CLUSTER_MODELS: dict[str, type[Model]] = {
    name: cloud.stack.model_fields["cluster"].annotation
    for name, cloud in CLOUDS.items()  # type: ignore[misc]
}
DEFAULT_REGISTRY: dict[str, str] = {name: cloud.registry for name, cloud in CLOUDS.items() if cloud.registry}
REGISTRY_CLOUDS: dict[str, str] = {registry: name for name, registry in DEFAULT_REGISTRY.items()}
