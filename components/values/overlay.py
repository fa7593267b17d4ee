"""`binderhub:helmValues`: the operator's own Helm values, one map per chart the stack installs.

One merge order, written once (components/helm.py): the program's values, then the overlay,
merged as `helm install -f program.yaml -f overlay.yaml` merges them (maps merge recursively,
lists and scalars replace, a `null` stays a `null`), then Helm coalesces that with the chart's
own `values.yaml`, where a `null` removes the key, the chart's default included.

Before anything is created (config time), an overlay is refused when
- it names a chart the stack does not install;
- it sets, removes or replaces a key the program computes and wires (`PROTECTED`): generated
  secrets, hosts and URLs, registry credentials, tokens, OAuth wiring, names other components
  reach, and values the program derives from a `binderhub:` key (which the message names:
  two sources for one value would disagree silently);
- the chart's default values with the overlay coalesced over them fail the chart's own JSON
  schema (`values.schema.json`, vendored in `charts/` by scripts/vendor_chart_schemas.py).

The schema sees the chart defaults plus the overlay, not the program's values: those hold
Pulumi Outputs (addresses, generated secrets) unknown at config time. That catches what an
overlay can get wrong on its own (an unknown key, `singleuser.imgae`; a wrong type; a `null`
removing a required key). The program's own values are checked against the same schemas by
the tests, for every configuration they deploy.

Pure: plain data in, messages out; nothing here reads Pulumi config or registers a resource.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from versions import BINDERHUB_BUNDLED_JUPYTERHUB, CHARTS

if TYPE_CHECKING:
    from config import StackConfig

KEY = "binderhub:helmValues"
# The charts' values.schema.json and values.yaml, as `<chart>-<version>/` (vendored copies).
CHART_FILES = Path(__file__).resolve().parent / "charts"
# Subcharts packaged inside a pinned chart, with their versions: Helm validates their values too.
SUBCHARTS: dict[tuple[str, str], dict[str, str]] = {
    ("binderhub", CHARTS["binderhub"].version): {"jupyterhub": BINDERHUB_BUNDLED_JUPYTERHUB},
}

ValuePath = tuple[str, ...]


# ---------------------------------------------------------------------------- paths


_SEGMENT = re.compile(r'\.?([^.\["\]]+)|\["((?:[^"\\]|\\.)*)"\]')
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_/-]*$")


def parse_path(text: str) -> ValuePath:
    """`a.b["c.d"]` -> ("a", "b", "c.d"): Pulumi's `--path` syntax for map keys."""
    segments: list[str] = []
    position = 0
    while position < len(text):
        match = _SEGMENT.match(text, position)
        if match is None or (position > 0 and match.group(1) is not None and text[position] != "."):
            raise ValueError(f"not a value path: {text!r}")
        segments.append(match.group(1) if match.group(1) is not None else json.loads(f'"{match.group(2)}"'))
        position = match.end()
    return tuple(segments)


def format_path(path: ValuePath) -> str:
    """The inverse of parse_path: what `pulumi config set --path` takes after the key."""
    text = ""
    for segment in path:
        if _PLAIN_KEY.match(segment) and not segment.isdigit():
            text += f".{segment}" if text else segment
        else:
            text += f"[{json.dumps(segment)}]"
    return text


def where(chart: str, path: ValuePath = ()) -> str:
    """`binderhub:helmValues.<chart>.<path>`, as a message names a key of the overlay."""
    return f"{KEY}.{format_path((chart, *path))}"


# ---------------------------------------------------------------------------- Helm's merges


def merge(values: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """`overlay` over `values` as Helm merges two values files (pkg/cli/values/options.go `mergeMaps`).

    Maps merge key by key, recursively; anything else in `overlay` (a list, a scalar, a map over
    a non-map, `None`) replaces what `values` holds. A `None` is kept: Helm removes the key, the
    chart's default too, when it coalesces with the chart's values. Leaves of `values` (Pulumi
    Outputs) are carried over as they are, not copied.
    """
    merged = dict(values)
    for key, value in overlay.items():
        current = merged.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            merged[key] = merge(current, value)
        else:
            merged[key] = _copy(value)
    return merged


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def coalesce(
    defaults: Mapping[str, Any], values: Mapping[str, Any], *, subcharts: Collection[str] = ()
) -> dict[str, Any]:
    """`values` coalesced with a chart's `defaults` (its values.yaml), as Helm renders them.

    After Helm's pkg/chart/common/util/coalesce.go (`coalesceValues` at the top level,
    `coalesceTablesFullKey` below), as the Helm v4 engine the behaviour tests render with
    behaves (tests/test_helm_values.py compares the two): what `values` sets wins, maps merge,
    lists and scalars replace; a `None` in `values` removes the key and the chart's default (at
    the top level whenever the chart has the key, below it when the default is not `None`), and
    stays a `None` where the chart has no default; the chart's own `None`s are dropped. Under the
    keys in `subcharts` a `None` is kept: Helm removes it with the subchart's defaults
    (`subchart_values`).
    """
    result = _copy(values)
    for key, default in defaults.items():
        if key not in result:
            if default is not None:
                result[key] = _without_nulls(default)
        elif result[key] is None:
            del result[key]
        elif isinstance(result[key], dict) and isinstance(default, dict):
            result[key] = _coalesce_tables(result[key], default, keep_nulls=key in subcharts)
    return result


def subchart_values(defaults: Mapping[str, Any], parent: Mapping[str, Any], name: str) -> dict[str, Any]:
    """A subchart's values: what the parent's (coalesced) values hold under `name`, coalesced
    with the subchart's own defaults, and the parent's `global` merged into the subchart's
    (Helm's `coalesceDeps` and `coalesceGlobals`)."""
    given = parent.get(name)
    values = coalesce(defaults, given if isinstance(given, dict) else {})
    parent_globals = parent.get("global")
    own_globals = values.get("global")
    values["global"] = merge(
        own_globals if isinstance(own_globals, dict) else {},
        parent_globals if isinstance(parent_globals, dict) else {},
    )
    return values


def _coalesce_tables(values: dict[str, Any], defaults: dict[str, Any], *, keep_nulls: bool) -> dict[str, Any]:
    """Helm's `coalesceTablesFullKey`: `values` (a copy, changed in place) over `defaults`."""
    for key, default in defaults.items():
        if key not in values:
            if default is not None:
                values[key] = _without_nulls(default)
        elif values[key] is None:
            if default is not None and not keep_nulls:
                del values[key]  # the operator removes the chart's default
        elif isinstance(values[key], dict) and isinstance(default, dict):
            values[key] = _coalesce_tables(values[key], default, keep_nulls=keep_nulls)
    return values


def _without_nulls(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return _copy(value)


# ---------------------------------------------------------------------------- program-owned keys


@dataclass(frozen=True)
class Owner:
    """Who decides a value: `binderhub:` keys (none when the program alone does), and what it is."""

    keys: tuple[str, ...]
    what: str

    @property
    def config_keys(self) -> str:
        """`binderhub:a`, `binderhub:a or binderhub:b`, `binderhub:a, binderhub:b or binderhub:c`."""
        names = [f"binderhub:{key}" for key in self.keys]
        return " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)

    def describe(self) -> str:
        """Why a key is refused, for a message about the key itself."""
        if not self.keys:
            return f"the program sets this ({self.what}); no config key changes it"
        return f"the program sets this from {self.config_keys} ({self.what}); change {self.config_keys} instead"

    def source(self) -> str:
        """`the program sets [from <keys>]`, for a message about a key above this one."""
        return f"the program sets from {self.config_keys}" if self.keys else "the program sets"


@dataclass(frozen=True)
class Protected:
    """A path in one chart's values that the program owns, and when (None: always)."""

    path: ValuePath
    owner: Owner
    when: Callable[[StackConfig[Any]], bool] | None = None


def _owner(what: str, *keys: str) -> Owner:
    return Owner(tuple(keys), what)


def _table(prefix: str, entries: Mapping[str, Owner]) -> tuple[Protected, ...]:
    base = parse_path(prefix) if prefix else ()
    return tuple(Protected((*base, *parse_path(path)), owner) for path, owner in entries.items())


GENERATED = "a secret the program generates as a Pulumi secret"
METADATA_GUARD = _owner("user servers never reach the cloud's metadata endpoint (the chart's default, kept)")
HOSTS = _owner("the public host names", "domain", "hosts", "wildcardDns")
REGISTRY = _owner("the registry builds push to and servers pull from", "registry.type", "registry.url")
REGISTRY_USER = _owner("the registry credentials", "registry.username")
REGISTRY_PASSWORD = _owner("the registry credentials", "registryPassword")
ISSUER = _owner("the Let's Encrypt issuer that signs the certificate", "tls.server")
ACME_IN_PLACE = _owner("cert-manager answers HTTP-01 on this Ingress: the controller takes one Ingress per host")


def _ingress(websocket: bool) -> dict[str, Owner]:
    """The `ingress:` block both hub charts share (components/values/jupyterhub.py `ingress_values`)."""
    entries = {
        "enabled": _owner("the Ingress that serves the public host"),
        "ingressClassName": _owner("the ingress controller that serves it", "ingress.className"),
        "hosts": HOSTS,
        "tls": _owner("HTTPS for the public hosts", "tls.enabled", "domain", "hosts"),
        'annotations["cert-manager.io/cluster-issuer"]': ISSUER,
        'annotations["acme.cert-manager.io/http01-edit-in-place"]': ACME_IN_PLACE,
    }
    if websocket:
        entries['annotations["nginx.org/websocket-services"]'] = _owner(
            "the Ingress's own WebSocket backend, the hub's proxy"
        )
    return entries


def _authenticators() -> dict[str, Owner]:
    """`hub.config` sections the login wiring fills (components/values/auth.py)."""
    entries: dict[str, Owner] = {
        "JupyterHub.authenticator_class": _owner("the login", "auth.type"),
        "Authenticator.allow_all": _owner("who may log in", "auth.type", "auth.allowAll"),
    }
    for section in ("GitHubOAuthenticator", "GenericOAuthenticator"):
        entries |= {
            f"{section}.client_id": _owner("the OAuth client", "auth.clientId"),
            f"{section}.client_secret": _owner("the OAuth client's secret", "oauthClientSecret"),
            f"{section}.oauth_callback_url": _owner("the hub's OAuth callback", "domain", "hosts"),
            f"{section}.allow_all": _owner("who may log in", "auth.allowAll"),
            f"{section}.allowed_users": _owner("who may log in", "auth.allowedUsers"),
            f"{section}.admin_users": _owner("the hub's admins", "auth.adminUsers"),
            f"{section}.enable_auth_state": _owner("servers get the OAuth token", "auth.passTokens"),
        }
    entries |= {
        "GitHubOAuthenticator.allowed_organizations": _owner("who may log in", "auth.allowedOrganizations"),
        "GitHubOAuthenticator.scope": _owner("read:org, to see organization membership", "auth.allowedOrganizations"),
        "GenericOAuthenticator.authorize_url": _owner("the identity provider", "auth.authorizeUrl"),
        "GenericOAuthenticator.token_url": _owner("the identity provider", "auth.tokenUrl"),
        "GenericOAuthenticator.userdata_url": _owner("the identity provider", "auth.userdataUrl"),
        "GenericOAuthenticator.username_claim": _owner("user names", "auth.usernameClaim"),
        "GenericOAuthenticator.scope": _owner("the OAuth scopes", "auth.scope"),
        "GenericOAuthenticator.allowed_groups": _owner("who may log in", "auth.allowedGroups"),
        "GenericOAuthenticator.manage_groups": _owner("groups from the identity provider", "auth.allowedGroups"),
        "GenericOAuthenticator.auth_state_groups_key": _owner("where groups are read", "auth.groupsClaim"),
    }
    return entries


def _hub(*, service_shape: bool) -> dict[str, Owner]:
    """z2jh keys (relative to the z2jh chart's root) the program sets (components/values/jupyterhub.py)."""
    entries: dict[str, Owner] = {
        "proxy.secretToken": _owner(f"the proxy's API token, {GENERATED}"),
        "hub.cookieSecret": _owner(f"the hub's cookie secret, {GENERATED}"),
        "hub.config.CryptKeeper.keys": _owner(f"the key that encrypts auth state, {GENERATED}"),
        **{f"hub.config.{path}": owner for path, owner in _authenticators().items()},
        "hub.config.BinderSpawner.auth_enabled": _owner("Binder servers use the hub's login", "auth.type"),
        "hub.config.BinderSpawner.cors_allow_origin": _owner("CORS of Binder servers", "cors.allowOrigin"),
        "hub.services.binder": _owner(
            f"BinderHub's registration with the hub: its API token ({GENERATED}), URL and OAuth client"
        ),
        "hub.loadRoles.binder": _owner("what BinderHub may do on the hub", "auth.type"),
        "hub.loadRoles.user": _owner("users' access to BinderHub", "auth.type"),
        "hub.extraConfig.20-pass-oauth-tokens": _owner("servers get the OAuth token", "auth.passTokens"),
        "hub.allowNamedServers": _owner("named servers", "namedServers.enabled"),
        "hub.namedServerLimitPerUser": _owner("named servers", "namedServers.limitPerUser"),
        "hub.db.pvc.storageClassName": _owner("the hub database's volume", "cluster.storage"),
        "hub.redirectToServer": _owner("BinderHub launches stay on their own page", "auth.type"),
        **{f"ingress.{path}": owner for path, owner in _ingress(websocket=True).items()},
        **{f"cull.{key}": _owner("the idle culler", f"cull.{key}") for key in ("enabled", "timeout", "every")},
        "cull.maxAge": _owner("the idle culler", "cull.maxAge"),
        "cull.users": _owner("the idle culler", "cull.users"),
        "cull.removeNamedServers": _owner("culled launches stop counting against the limit", "namedServers.enabled"),
        "imagePullSecret.create": REGISTRY,
        "imagePullSecret.registry": REGISTRY,
        "imagePullSecret.username": REGISTRY_USER,
        "imagePullSecret.password": REGISTRY_PASSWORD,
        "singleuser.cmd": _owner("the server command that fits the login", "auth.type"),
        **{
            f"singleuser.{what}.{bound}": _owner("what each server reserves and may use", "resources.user")
            for what in ("cpu", "memory")
            for bound in ("guarantee", "limit")
        },
        **{
            f"scheduling.{pods}.nodeAffinity.matchNodePurpose": _owner("the pools the program creates", "cloud")
            for pods in ("userPods", "corePods")
        },
        "scheduling.podPriority.enabled": _owner("servers evict user placeholders", "userPlaceholders"),
        "scheduling.userPlaceholder.enabled": _owner("user placeholders", "userPlaceholders"),
        "scheduling.userPlaceholder.replicas": _owner("user placeholders", "userPlaceholders"),
        # Strangers' code in user servers never reaches the cloud's metadata endpoint.
        "singleuser.networkPolicy.enabled": METADATA_GUARD,
        "singleuser.networkPolicy.egressAllowRules.cloudMetadataServer": METADATA_GUARD,
        "singleuser.networkPolicy.egress": METADATA_GUARD,
        "singleuser.cloudMetadata.blockWithIptables": METADATA_GUARD,
    }
    if service_shape:
        entries |= {
            "fullnameOverride": _owner("the Service names BinderHub reaches the hub at"),
            "prePuller.hook.enabled": _owner("Pulumi's helm.v4.Chart runs no Helm hooks"),
            "hub.extraConfig.10-binder-spawner": _owner("BinderHub's spawner in the hub", "shape"),
            "hub.extraConfig.30-fancy-profiles": _owner("the profile menu", "fancyProfiles.enabled"),
            "singleuser.storage.type": _owner(
                "no volume over /home/jovyan, where a Binder image keeps the repository's files"
            ),
        }
    return entries


def _binderhub_config(*, service_shape: bool) -> dict[str, Owner]:
    """BinderHub's traitlets the program sets (`config:`, components/values/binderhub.py)."""
    entries = {
        "BinderHub.hub_url": _owner("the hub's public URL", "domain", "hosts"),
        "BinderHub.hub_url_local": _owner("the hub's address inside the cluster"),
        "BinderHub.use_registry": REGISTRY,
        "BinderHub.image_prefix": _owner("where built images go", "registry.prefix", "registry.type"),
        "BinderHub.auth_enabled": _owner("BinderHub uses the hub's login", "auth.type"),
        "BinderHub.build_token_secret": _owner(f"signs build tokens, {GENERATED}"),
        "BinderHub.registry_class": REGISTRY,
        "BinderHub.cors_allow_origin": _owner("CORS of BinderHub's API", "cors.allowOrigin"),
        "GitHubRepoProvider.access_token": _owner("GitHub's API token", "githubToken"),
        "GitLabRepoProvider.private_token": _owner("GitLab's API token", "gitlabToken"),
        "GitLabRepoProvider.hostname": _owner("the GitLab gl/ repositories come from", "repoProviders.gitlab.hostname"),
        "GitRepoProvider.git_credentials": _owner("the credential git/ builds clone with", "gitCredentials"),
        # Opening git/ to other hosts would send them the credential (config/git_credentials.py).
        "GitRepoProvider.allowed_specs": _owner("git/ builds only from the credential's host", "gitCredentials"),
        "DockerRegistry.url": REGISTRY,
        "DockerRegistry.token_url": _owner("the registry's token service", "registry.tokenUrl"),
        "Launcher.allow_named_servers": _owner("named servers", "namedServers.enabled"),
        "Launcher.named_server_limit_per_user": _owner("named servers", "namedServers.limitPerUser"),
        "ExternalRegistryHelper.service_url": _owner("the ECR registry helper's address", "registry.type"),
        "ExternalRegistryHelper.auth_token": _owner(f"the registry helper's token, {GENERATED}"),
        "KubernetesBuildExecutor.resources": _owner("what each build reserves and may use", "resources.build"),
        "LaunchQuota.total_quota": _owner("servers running at once", "launchQuota.total", "cluster.userMaxNodes"),
        "BinderHub.per_repo_quota": _owner("servers of one repository at once", "launchQuota.perRepo"),
    }
    if service_shape:
        entries |= {
            "BinderHub.base_url": _owner("BinderHub's path on the hub, /services/binder/"),
            "BinderHub.enable_api_only_mode": _owner("BinderHub's page", "binderUI"),
            "DockerRegistry.username": REGISTRY_USER,
            "DockerRegistry.password": REGISTRY_PASSWORD,
            "KubernetesBuildExecutor.node_selector": _owner("builds run on the user pool", "cloud"),
        }
    else:
        entries["DockerRegistry.auth_config_url"] = REGISTRY
        entries["BinderHub.build_node_selector"] = _owner("builds and their daemons run on the user pool", "cloud")
    return entries


def _fancy_profiles(cfg: StackConfig[Any]) -> bool:
    return cfg.fancy_profiles.enabled


def _monitoring(cfg: StackConfig[Any]) -> bool:
    return cfg.monitoring.enabled


METRICS = _owner("Prometheus reads the hub's metrics", "monitoring.enabled")


def _hub_metrics(prefix: str) -> tuple[Protected, ...]:
    """z2jh keys (under `prefix`) the program sets with binderhub:monitoring on
    (components/values/monitoring.py `hub_metrics_values`)."""
    entries = {
        "hub.services.prometheus": _owner(f"Prometheus' hub service and its token ({GENERATED})", "monitoring.enabled"),
        "hub.loadRoles.prometheus-metrics": _owner("Prometheus' service may read:metrics only", "monitoring.enabled"),
        "hub.networkPolicy.ingress": _owner("the Prometheus server reaches /hub/metrics", "monitoring.enabled"),
    }
    return tuple(Protected(entry.path, entry.owner, _monitoring) for entry in _table(prefix, entries))


NLB = "service.beta.kubernetes.io/aws-load-balancer-"
AZURE_LB = "service.beta.kubernetes.io/azure-load-balancer-"
STABLE_ADDRESS = _owner("the load balancer's address, created before the controller: DNS points at it")

# Chart (versions.py name) -> the paths of its values the program owns.
PROTECTED: dict[str, tuple[Protected, ...]] = {
    "binderhub": (
        *_table("", {"imageBuilderType": _owner("the image builder", "builder")}),
        *_table("config", _binderhub_config(service_shape=False)),
        *_table("ingress", _ingress(websocket=False)),
        *_table("registry", {"url": REGISTRY, "username": REGISTRY_USER, "password": REGISTRY_PASSWORD}),
        *_table("jupyterhub", _hub(service_shape=False)),
        *_hub_metrics("jupyterhub"),
    ),
    "jupyterhub": (
        *_table("", _hub(service_shape=True)),
        Protected(
            ("hub", "image"), _owner("the hub image with the profile menu", "fancyProfiles.hubImage"), _fancy_profiles
        ),
        *_hub_metrics(""),
    ),
    "binderhub-service": (
        *_table(
            "",
            {
                "fullnameOverride": _owner("the Service name the hub reaches BinderHub at"),
                "extraEnv": _owner(f"how BinderHub reaches the hub: its API token ({GENERATED}), URL and OAuth client"),
                "service.port": _owner("the port the hub sends /services/binder/ to"),
                "dockerApi.storage.emptyDir.sizeLimit": _owner("the build cache's bound", "builderCacheSize"),
                "dockerApi.nodeSelector": _owner("the build daemons run on the user pool", "cloud"),
                "dockerApi.tolerations": _owner("the build daemons run on the user pool", "cloud"),
                "networkPolicy.enabled": _owner(
                    "the chart's builder policies allow the metadata endpoint: the program's replace them"
                ),
                "buildPodsRegistryCredentials.server": REGISTRY,
                "buildPodsRegistryCredentials.username": REGISTRY_USER,
                "buildPodsRegistryCredentials.password": REGISTRY_PASSWORD,
            },
        ),
        *_table("config", _binderhub_config(service_shape=True)),
    ),
    "nginx-ingress": _table(
        "controller",
        {
            "ingressClass.name": _owner("the class the hub's Ingresses name", "ingress.className"),
            "ingressClass.create": _owner("the class the hub's Ingresses name"),
            "service.type": _owner(
                "how traffic reaches the controller", "cluster.externalIPs", "cluster.exposeIngress"
            ),
            "service.loadBalancerIP": STABLE_ADDRESS,
            "service.externalIPs": _owner("the nodes' addresses that receive traffic", "cluster.externalIPs"),
            f'service.annotations["{NLB}eip-allocations"]': STABLE_ADDRESS,
            f'service.annotations["{NLB}subnets"]': STABLE_ADDRESS,
            f'service.annotations["{AZURE_LB}resource-group"]': STABLE_ADDRESS,
            f'service.annotations["{AZURE_LB}ipv4"]': STABLE_ADDRESS,
            "kind": _owner("one controller per node on its ports 80/443", "cluster.exposeIngress"),
            "hostPort": _owner("one controller per node on its ports 80/443", "cluster.exposeIngress"),
            "enableCustomResources": _owner("the release is installed without CRDs, so it leaves none behind"),
        },
    )
    + _table(
        "prometheus",
        {
            "create": _owner("the controller's metrics exporter, which Prometheus scrapes"),
            "port": _owner("the port Prometheus scrapes the controller's metrics at"),
            "service.create": _owner("the metrics Service Prometheus finds the controllers by"),
        },
    ),
    "cert-manager": _table(
        "crds",
        {
            "enabled": _owner("the ClusterIssuer needs cert-manager's CRDs, installed with the release"),
            "keep": _owner("the CRDs go with the release on destroy"),
        },
    ),
    "localpv-provisioner": _table(
        "hostpathClass",
        {
            "enabled": _owner("volumes on the nodes' disks", "cluster.storage"),
            "name": _owner("the StorageClass the hub database claims by name"),
            "isDefaultClass": _owner("the cluster's default StorageClass", "cluster.storage"),
            "basePath": _owner("where volumes live on each node", "cluster.openebsBasePath"),
        },
    ),
    "binderhub-container-registry-helper": _table(
        "",
        {
            "fullnameOverride": _owner("the Service name BinderHub reaches the helper at"),
            "cloud_provider": _owner("the registry", "registry.type"),
            "auth_token": _owner(f"the token BinderHub sends the helper, {GENERATED}"),
            "serviceAccount.create": _owner("the IAM role (IRSA) the helper pushes with"),
            "serviceAccount.name": _owner("the IAM role (IRSA) the helper pushes with"),
            'serviceAccount.annotations["eks.amazonaws.com/role-arn"]': _owner(
                "the IAM role (IRSA) the helper pushes with"
            ),
            "service.port": _owner("the port BinderHub reaches the helper at"),
        },
    ),
    "prometheus": _table(
        "",
        {
            "server.retention": _owner("how long metrics are kept", "monitoring.retentionDays"),
            "server.retentionSize": _owner("metrics stop at 85% of their volume", "monitoring.volumeSize"),
            "server.persistentVolume.enabled": _owner("metrics survive a restart on their own volume"),
            "server.persistentVolume.size": _owner("the metrics volume", "monitoring.volumeSize"),
            "server.persistentVolume.storageClass": _owner("the metrics volume's storage class", "cluster.storage"),
            "server.extraSecretMounts": _owner("the hub's metrics token, mounted from its Secret"),
            "scrapeConfigs.jupyterhub": METRICS,
            "scrapeConfigs.binderhub": _owner("Prometheus reads BinderHub's metrics at its Service", "shape"),
            "scrapeConfigs.ingress-controller": _owner(
                "Prometheus reads the ingress controller's metrics", "ingress.controller"
            ),
            "scrapeConfigs.kube-state-metrics": _owner("Prometheus reads kube-state-metrics at its Service"),
            "scrapeConfigs.node-exporter": _owner("Prometheus reads node-exporter on every node"),
            "kube-state-metrics.enabled": _owner("the JupyterHub dashboards read kube-state-metrics"),
            "kube-state-metrics.metricLabelsAllowlist": _owner("the pod and node labels the dashboards select on"),
            "kube-state-metrics.metricAnnotationsAllowList": _owner("the user names the dashboards show"),
            "prometheus-node-exporter.enabled": _owner("the dashboards read node-exporter"),
        },
    ),
    "grafana": _table(
        "",
        {
            "admin.existingSecret": _owner(f"the admin password, {GENERATED}"),
            'podAnnotations["binderhub.jupyter.org/admin-password-sha256"]': _owner(
                "Grafana restarts when its generated admin password is replaced"
            ),
            "admin.userKey": _owner(f"the admin password, {GENERATED}"),
            "admin.passwordKey": _owner(f"the admin password, {GENERATED}"),
            **{f"ingress.{path}": owner for path, owner in _ingress(websocket=False).items()},
            'ingress.annotations["nginx.org/websocket-services"]': _owner(
                "the Ingress's own WebSocket backend, Grafana"
            ),
            '["grafana.ini"].server.root_url': _owner("Grafana's public URL", "domain", "hosts"),
            "datasources": _owner("Prometheus, Grafana's data source"),
            "dashboardProviders": _owner("the dashboards' folders"),
            "dashboardsConfigMaps.jupyterhub": _owner("JupyterHub's dashboards, built from the pinned sources"),
            "dashboardsConfigMaps.binderhub": _owner("BinderHub's dashboard"),
        },
    ),
    "cluster-autoscaler": _table(
        "",
        {
            "cloudProvider": _owner("the cluster's cloud, EKS"),
            "awsRegion": _owner("the region of the cluster's Auto Scaling groups", "cluster.region"),
            "autoDiscovery.clusterName": _owner("the Auto Scaling groups it may resize, this cluster's"),
            "rbac.serviceAccount.name": _owner("the IAM role (IRSA) it resizes the groups with"),
            'rbac.serviceAccount.annotations["eks.amazonaws.com/role-arn"]': _owner(
                "the IAM role (IRSA) it resizes the groups with"
            ),
        },
    ),
}


def _nodes(value: Any, path: ValuePath = ()) -> Iterator[tuple[ValuePath, Any]]:
    """Every (path, value) of an overlay, maps descended into (lists are values: Helm replaces them)."""
    for key, item in value.items():
        yield (*path, key), item
        if isinstance(item, Mapping):
            yield from _nodes(item, (*path, key))


def protected_problems(
    chart: str, overlay: Mapping[str, Any], applies: Callable[[Protected], bool] = lambda _: True
) -> list[str]:
    """One message per key of `overlay` that would change a value the program owns in `chart`.

    A key is refused when it is a protected path or lies under one, or when it replaces a map
    holding one (a list, a scalar or `null` where the program's map is). `applies` selects the
    entries that hold for the stack (`Protected.when`).
    """
    entries = [entry for entry in PROTECTED.get(chart, ()) if applies(entry)]
    problems: list[str] = []
    reported: list[ValuePath] = []
    for path, value in _nodes(overlay):
        if any(path[: len(done)] == done for done in reported):
            continue  # one message for a key and what is under it
        owned = next((e for e in entries if path[: len(e.path)] == e.path), None)
        if owned is not None:
            problems.append(f"{where(chart, path)}: {owned.owner.describe()}")
            reported.append(path)
            continue
        if isinstance(value, Mapping):
            continue  # merged key by key: checked below
        below = [e for e in entries if e.path[: len(path)] == path]
        if below:
            action = "removing" if value is None else "replacing"
            first = below[0]
            problems.append(
                f"{where(chart, path)}: {action} it would change {format_path(first.path)} ({first.owner.what}), "
                f"which {first.owner.source()}; set only the keys under it that you mean to change"
            )
            reported.append(path)
    return problems


# ---------------------------------------------------------------------------- the charts' schemas


@cache
def chart_files(chart: str, version: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(default values, values schema) of a chart version, or None when not vendored.

    Cached: callers must not change what they get.
    """
    folder = CHART_FILES / f"{chart}-{version}"
    schema = folder / "values.schema.json"
    if not schema.is_file():
        return None
    defaults = yaml.safe_load((folder / "values.yaml").read_text()) or {}
    return defaults, _offline(json.loads(schema.read_text()))


def has_schema(chart: str) -> bool:
    """Whether the pinned version of `chart` ships a values schema (some charts have none)."""
    return chart_files(chart, CHARTS[chart].version) is not None


def _offline(schema: Any) -> Any:
    """The schema with references to remote documents accepting anything.

    nginx-ingress points at Kubernetes' own definitions online (Helm fetches them at install);
    offline, those subtrees (probes, affinities, selectors) take anything, the chart's own keys
    stay strict.
    """
    if isinstance(schema, dict):
        if str(schema.get("$ref", "")).startswith(("http://", "https://")):
            return {}
        return {k: _offline(v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_offline(v) for v in schema]
    return schema


def chart_values(chart: str, version: str, overlay: Mapping[str, Any]) -> dict[str, Any] | None:
    """The chart's values with `overlay` coalesced over them as Helm would (subcharts' defaults
    in their place), or None when the version is not vendored."""
    files = chart_files(chart, version)
    if files is None:
        return None
    subcharts = SUBCHARTS.get((chart, version), {})
    values = coalesce(files[0], overlay, subcharts=subcharts)
    for name, sub_version in subcharts.items():
        sub = chart_files(name, sub_version)
        assert sub is not None, f"{chart} {version} bundles {name} {sub_version}, which is not vendored"
        values[name] = subchart_values(sub[0], values, name)
    return values


def schema_problems(chart: str, version: str, overlay: Mapping[str, Any]) -> list[str]:
    """One message per complaint of the chart's schema (and its subcharts') about `overlay`.

    Empty when the chart has no schema vendored for `version` (see `has_schema`).
    """
    values = chart_values(chart, version, overlay)
    if values is None:
        return []
    files = chart_files(chart, version)
    assert files is not None
    checks: list[tuple[ValuePath, str, dict[str, Any], Any]] = [((), f"{chart} {version}", files[1], values)]
    for name, sub_version in SUBCHARTS.get((chart, version), {}).items():
        sub = chart_files(name, sub_version)
        assert sub is not None
        checks.append(((name,), f"{name} {sub_version} (in {chart})", sub[1], values[name]))
    problems: list[str] = []
    for prefix, label, schema, document in checks:
        problems += _complaints(chart, prefix, label, schema, document)
    return problems


def _complaints(chart: str, prefix: ValuePath, label: str, schema: dict[str, Any], document: Any) -> list[str]:
    # Here, not at the top: only a stack with an overlay pays for importing jsonschema.
    from jsonschema import Draft7Validator
    from jsonschema.validators import validator_for

    validator_class = validator_for(schema, default=Draft7Validator)
    validator = validator_class(schema)
    problems: list[str] = []
    errors = sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    for error in errors:
        path = (*prefix, *(str(p) for p in error.absolute_path))
        rule = error.schema if isinstance(error.schema, dict) else {}
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = set(rule.get("properties", {}))
            patterns = [re.compile(p) for p in rule.get("patternProperties", {})]
            for key in sorted(error.instance):
                if key in known or any(p.search(key) for p in patterns):
                    continue
                close = difflib.get_close_matches(key, sorted(known), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                problems.append(f"{where(chart, (*path, key))}: the {label} chart has no such key{hint}")
            continue
        message = error.message if len(error.message) <= 240 else error.message[:237] + "..."
        problems.append(f"{where(chart, path)}: the {label} chart's schema refuses it: {message}")
    return problems


# ---------------------------------------------------------------------------- one stack's overlays


def installed_charts(cfg: StackConfig[Any]) -> set[str]:
    """The charts (versions.py names) a stack installs: what `binderhub:helmValues` may name.

    The stacks decide it (stacks/platform.py, existing.py, aws.py); tests/test_helm_values.py
    checks this against what every configuration the tests deploy installs.
    """
    charts = {"binderhub"} if cfg.shape == "classic" else {"jupyterhub", "binderhub-service"}
    if cfg.ingress.controller == "nginx":
        charts.add("nginx-ingress")
    if cfg.tls_enabled:
        charts.add("cert-manager")
    if cfg.cloud == "existing" and cfg.cluster.storage == "openebs":
        charts.add("localpv-provisioner")
    if cfg.registry.type == "ecr":
        charts.add("binderhub-container-registry-helper")
    if cfg.cloud == "aws":
        charts.add("cluster-autoscaler")  # components/cluster/eks.py
    if cfg.monitoring.enabled:
        charts |= {"prometheus", "grafana"}  # components/monitoring/
    return charts


def overlay_problems(cfg: StackConfig[Any], overlays: Mapping[str, Any]) -> list[str]:
    """Every problem with a stack's `binderhub:helmValues` (`overlays`: chart -> its values map)."""
    installed = installed_charts(cfg)
    problems: list[str] = []
    for chart, overlay in overlays.items():
        if chart not in CHARTS:
            problems.append(f"{where(chart)}: not a chart this program deploys ({', '.join(sorted(CHARTS))})")
            continue
        if chart not in installed:
            problems.append(
                f"{where(chart)}: this stack does not install {chart} (it installs {', '.join(sorted(installed))})"
                + (
                    "; the binderhub chart's hub is binderhub:helmValues.binderhub.jupyterhub"
                    if chart == "jupyterhub"
                    else ""
                )
            )
            continue
        if not isinstance(overlay, Mapping):
            problems.append(f"{where(chart)}: a map of the chart's values, not {json.dumps(overlay)[:80]}")
            continue
        problems += protected_problems(chart, overlay, lambda entry: entry.when is None or entry.when(cfg))
        problems += schema_problems(chart, (cfg.charts or {}).get(chart, CHARTS[chart].version), overlay)
    return problems


def unchecked_charts(cfg: StackConfig[Any], overlays: Mapping[str, Any]) -> list[str]:
    """Charts with an overlay whose schema is not vendored for the version the stack pins
    (`binderhub:charts`): Helm still checks them at install, after other resources exist."""
    return sorted(
        chart
        for chart in overlays
        if chart in (cfg.charts or {}) and has_schema(chart) and chart_files(chart, cfg.charts[chart]) is None
    )
