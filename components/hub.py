"""BinderHubDeployment: the hub namespace, its generated secrets and the hub releases of one shape.

Shape `classic`: the `binderhub` chart with its bundled JupyterHub. Shape `service`: z2jh's
`jupyterhub` chart with BinderHub registered as its `binder` service, beside the
`binderhub-service` chart. The stack wires in what the rest of the platform decided (hosts,
ingress, certificate issuer, registry, storage); the values are built here, from typed settings
(components/values/).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.binderhub import API_TOKEN_KEY, API_TOKEN_SECRET, BinderHubRelease, BinderHubReleaseArgs
from components.cleanup import user_storage_hook
from components.cluster import Cluster
from components.hub_secrets import generate_hub_secrets
from components.jupyterhub import JupyterHubRelease, JupyterHubReleaseArgs
from components.registry import RegistrySettings
from components.values.binderhub import binderhub_service_url, binderhub_service_values, classic_values
from components.values.hosts import Hosts
from components.values.jupyterhub import service_hub_values
from components.values.monitoring import NAMESPACE as MONITORING_NAMESPACE
from components.values.monitoring import hub_metrics_values
from components.values.network_policy import build_egress_policies
from components.values.overlay import merge
from components.values.settings import HubSecrets, HubSettings, IngressSettings, RepoProviderTokens
from config import StackConfig, StackSecrets
from versions import StackCharts

# Until this component existed, the namespace, the secrets and the releases sat directly under
# the stack: each keeps its identity (and the live object) through this alias.
FORMERLY_AT_THE_ROOT = pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)
BINDER_RELEASE = "binderhub"  # the Helm release of either BinderHub chart


@dataclass(frozen=True)
class BinderHubDeploymentArgs:
    """`config`: the stack's keys, of which the hub reads its own (shape, namespace, auth, builder,
    culling, repository providers, ...); `secrets`: the user's secrets it hands to the charts."""

    config: StackConfig[Any]
    secrets: StackSecrets
    charts: StackCharts
    cluster: Cluster  # its kubeconfig and context reach the namespace's before-delete drain
    hosts: pulumi.Output[Hosts]
    ingress: IngressSettings
    registry: RegistrySettings
    storage_class: pulumi.Input[str] | None = None  # the hub database's; None: the cluster default
    # The storage provisioner: created before the namespace and releases, deleted after them.
    storage_depends_on: Sequence[pulumi.Resource] = ()
    # TLS: the ClusterIssuer, created first (certificates are requested as soon as the Ingresses
    # exist) and deleted last (the ACME challenges in the namespace carry cert-manager's finalizers).
    issuer: pulumi.Resource | None = None
    # binderhub:monitoring: the token of the hub service Prometheus scrapes /hub/metrics with
    # (secret), and the namespace Prometheus runs in (the hub's NetworkPolicy lets it in).
    metrics_token: pulumi.Input[str] | None = None
    metrics_namespace: str = MONITORING_NAMESPACE


class BinderHubDeployment(pulumi.ComponentResource):
    namespace: k8s.core.v1.Namespace
    settings: HubSettings
    oauth_callback_url: pulumi.Output[str] | None  # to register at the OAuth provider (with a login)

    def __init__(self, name: str, args: BinderHubDeploymentArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("binderhub:hub:BinderHubDeployment", name, None, opts)
        cfg = args.config
        moved = pulumi.ResourceOptions(parent=self, aliases=[FORMERLY_AT_THE_ROOT])
        issuer = [args.issuer] if args.issuer is not None else []
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": cfg.namespace},
            opts=pulumi.ResourceOptions.merge(
                moved,
                pulumi.ResourceOptions(
                    # Deleted while the storage provisioner still runs, after user servers and
                    # their disks are gone (KubeSpawner's pods and claims are not the charts');
                    # and while cert-manager still runs: the ACME challenges of the hub's
                    # certificates carry finalizers only cert-manager removes.
                    depends_on=[*args.storage_depends_on, *issuer],
                    # Users' servers, their volumes and the hub database live in it (binderhub:protect).
                    protect=cfg.protect,
                    # Protected, nothing may delete the users' volumes: the drain is bound only once
                    # the protection is lifted (`make destroy` runs the program, so it binds it then).
                    hooks=None
                    if cfg.protect
                    else pulumi.ResourceHookBinding(
                        before_delete=[
                            user_storage_hook(name, cfg.namespace, args.cluster.kubeconfig, args.cluster.context)
                        ]
                    ),
                ),
            ),
        )
        self.settings = _settings(args, generate_hub_secrets(name, moved))
        # binderhub:protect: the hub database's claim too (a chart object; the engine applies the
        # transform to every object the hub charts render).
        on_hub = pulumi.ResourceOptions.merge(
            moved, pulumi.ResourceOptions(transforms=[protect_volume_claims] if cfg.protect else None)
        )
        depends_on = [*args.registry.depends_on, *args.storage_depends_on, *issuer]
        # Builds run strangers' code: keep it from the cloud's metadata endpoint (with network
        # policy enforced, as on every cluster the program creates).
        for policy in build_egress_policies(cfg.namespace, cfg.shape, cfg.registry.type == "custom"):
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{policy['metadata']['name']}",
                metadata={"name": policy["metadata"]["name"], "namespace": self.namespace.metadata.name},
                spec=policy["spec"],
                opts=pulumi.ResourceOptions(parent=self),
            )
        if cfg.shape == "classic":
            self._classic(args, depends_on, on_hub)
        else:
            self._service(args, depends_on, on_hub)
        self.oauth_callback_url = (
            args.hosts.apply(lambda h: h.oauth_callback_url) if self.settings.authenticated else None
        )
        self.register_outputs({"namespace": self.namespace.metadata.name})

    def _classic(
        self, args: BinderHubDeploymentArgs, depends_on: list[pulumi.Resource], opts: pulumi.ResourceOptions
    ) -> None:
        BinderHubRelease(
            BINDER_RELEASE,
            BinderHubReleaseArgs(
                chart=args.charts.ref("binderhub"),
                namespace=self.namespace.metadata.name,
                values=_with_metrics(classic_values(self.settings), args, under="jupyterhub"),
                depends_on=depends_on,
            ),
            opts=opts,
        )

    def _service(
        self, args: BinderHubDeploymentArgs, depends_on: list[pulumi.Resource], opts: pulumi.ResourceOptions
    ) -> None:
        """z2jh with BinderHub (binderhub-service) as its `binder` service, wired both ways."""
        JupyterHubRelease(
            "jupyterhub",
            JupyterHubReleaseArgs(
                chart=args.charts.ref("jupyterhub"),
                namespace=self.namespace.metadata.name,
                values=_with_metrics(
                    service_hub_values(self.settings, binderhub_service_url(BINDER_RELEASE, fullname_override="")),
                    args,
                ),
                depends_on=depends_on,
            ),
            opts=opts,
        )
        BinderHubRelease(
            BINDER_RELEASE,
            BinderHubReleaseArgs(
                chart=args.charts.ref("binderhub-service"),
                namespace=self.namespace.metadata.name,
                values=binderhub_service_values(
                    self.settings, api_token_secret=API_TOKEN_SECRET, api_token_key=API_TOKEN_KEY
                ),
                release_name=BINDER_RELEASE,
                hub_api_token=self.settings.secrets.binder_api_token,
                depends_on=[*args.registry.depends_on],
            ),
            opts=opts,
        )


def _with_metrics(values: dict[str, Any], args: BinderHubDeploymentArgs, under: str | None = None) -> dict[str, Any]:
    """`values` with the hub's metrics service for Prometheus (monitoring on), merged at the
    z2jh root: the chart's root (service shape) or its `under` key (the binderhub chart's hub)."""
    if args.metrics_token is None:
        return values
    fragment = hub_metrics_values(args.metrics_token, args.metrics_namespace)
    return merge(values, {under: fragment} if under else fragment)


def _settings(args: BinderHubDeploymentArgs, secrets: HubSecrets) -> HubSettings:
    """The typed settings both shapes' values are built from."""
    cfg, hosts = args.config, args.hosts
    return HubSettings(
        binder_host=hosts.apply(lambda h: h.binder),
        hub_host=hosts.apply(lambda h: h.hub),
        hub_url=hosts.apply(lambda h: h.hub_url),
        ingress=args.ingress,
        registry=args.registry,
        secrets=secrets,
        builder=cfg.builder,
        cull=cfg.cull,
        cull_users=cfg.cull_users,
        cors_allow_origin=cfg.cors.allow_origin,
        tokens=RepoProviderTokens(
            github=args.secrets.github_token,
            gitlab=args.secrets.gitlab_token,
            gitlab_hostname=cfg.repo_providers.gitlab.hostname,
            git_credentials=args.secrets.git_credentials,
        ),
        storage_class=args.storage_class,
        auth=cfg.auth,
        oauth_client_secret=args.secrets.oauth_client_secret,
        oauth_callback_url=hosts.apply(lambda h: h.oauth_callback_url),
        binder_oauth_redirect_uri=hosts.apply(lambda h: h.binder_oauth_redirect_uri),
        named_servers=cfg.named_servers,
        binder_ui=cfg.binder_ui,
        fancy_profiles_image=cfg.fancy_profiles.hub_image if cfg.fancy_profiles.enabled else None,
        builder_cache_size=cfg.builder_cache_size,
        resources=cfg.resources,
        dedicated_pools=cfg.dedicated_pools,
        quota_total=cfg.launch_quotas[0],
        quota_per_repo=cfg.launch_quotas[1],
        user_placeholders=cfg.user_placeholders,
    )


VOLUME_CLAIM = "kubernetes:core/v1:PersistentVolumeClaim"


def protect_volume_claims(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
    """A resource transform: a PersistentVolumeClaim gets `protect`, anything else is left as is.

    Bound to the hub releases under binderhub:protect, so no `pulumi up` (a changed shape, a
    chart that stops rendering the claim) and no destroy deletes the hub database's volume.
    """
    if args.type_ != VOLUME_CLAIM:
        return None
    return pulumi.ResourceTransformResult(
        props=args.props, opts=pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(protect=True))
    )
