"""The layer every target shares: ingress, certificates, and the hub releases.

A cloud stack brings a cluster, registry settings and how its ingress is reached; this
layer computes the public hosts before any hub chart renders, so one run is enough.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.binderhub import API_TOKEN_KEY, API_TOKEN_SECRET, BinderHubRelease, BinderHubReleaseArgs
from components.cert_manager import CertManagerIssuer, CertManagerIssuerArgs
from components.cleanup import user_storage_hook
from components.cluster import Cluster
from components.hub_secrets import generate_hub_secrets
from components.ingress_nginx import IngressNginx, IngressNginxArgs
from components.jupyterhub import JupyterHubRelease, JupyterHubReleaseArgs
from components.registry import RegistrySettings
from components.values.binderhub import binderhub_service_url, binderhub_service_values, classic_values
from components.values.hosts import Hosts, compute_hosts
from components.values.jupyterhub import service_hub_values
from components.values.settings import HubSettings, IngressSettings, RepoProviderTokens
from config import StackConfig, StackSecrets
from versions import chart


@dataclass(frozen=True)
class IngressEntry:
    """How this target's traffic reaches the ingress controller."""

    load_balancer_ip: pulumi.Input[str] | None = None  # a stable address created beforehand
    external_ips: Sequence[str] = ()  # bare metal: node addresses
    host_ports: bool = False  # bare metal: the controller binds 80/443 on the nodes instead
    service_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # Known public address that is not a loadBalancerIP (e.g. Elastic IPs on an AWS NLB).
    public_address: pulumi.Input[str] | None = None
    depends_on: Sequence[pulumi.Resource] = ()  # e.g. the role that lets the cluster use the IP


@dataclass(frozen=True)
class StackOutputs:
    binder_url: pulumi.Input[str]
    hub_url: pulumi.Input[str]
    image_prefix: pulumi.Input[str]
    registry_url: pulumi.Input[str] | None
    ingress_address: pulumi.Input[str] | None
    cluster_name: pulumi.Input[str]
    kubeconfig: pulumi.Output[str]
    oauth_callback_url: pulumi.Input[str] | None = None  # register this in the OAuth app

    def exports(self) -> dict[str, Any]:
        return {
            "binder_url": self.binder_url,
            "hub_url": self.hub_url,
            "image_prefix": self.image_prefix,
            "registry_url": self.registry_url,
            "ingress_address": self.ingress_address,
            "cluster_name": self.cluster_name,
            "kubeconfig": pulumi.Output.secret(self.kubeconfig),
            **({"oauth_callback_url": self.oauth_callback_url} if self.oauth_callback_url is not None else {}),
        }


def deploy_platform(
    cfg: StackConfig[Any],
    secrets: StackSecrets,
    cluster: Cluster,
    registry: RegistrySettings,
    entry: IngressEntry,
    storage_class: pulumi.Input[str] | None = None,
    storage_depends_on: Sequence[pulumi.Resource] = (),
) -> StackOutputs:
    on_cluster = pulumi.ResourceOptions(providers=[cluster.provider])
    issuer = _tls_issuer(cfg, on_cluster) if cfg.tls_enabled else None
    namespace = k8s.core.v1.Namespace(
        "hub-namespace",
        metadata={"name": cfg.namespace},
        opts=pulumi.ResourceOptions(
            provider=cluster.provider,
            # Deleted while the storage provisioner still runs, after user servers and their
            # disks are gone (KubeSpawner's pods and claims are not the charts'); and while
            # cert-manager still runs: the ACME challenges of the hub's certificates carry
            # finalizers only cert-manager removes, so without it the namespace never goes.
            depends_on=[*storage_depends_on, *([issuer.issuer] if issuer else [])],
            # Users' servers, their volumes and the hub database live in it (binderhub:protect).
            protect=cfg.protect,
            # Protected, nothing may delete the users' volumes: the drain is bound only once the
            # protection is lifted (`make destroy` runs the program, so it binds it then).
            hooks=None
            if cfg.protect
            else pulumi.ResourceHookBinding(
                before_delete=[user_storage_hook("hub", cfg.namespace, cluster.kubeconfig, cluster.context)]
            ),
        ),
    )

    address: pulumi.Output[str] | None = None
    controller_annotations: Mapping[str, str] = {}
    websocket_annotation: str | None = None
    if cfg.ingress.controller == "nginx":
        controller = IngressNginx(
            "ingress",
            IngressNginxArgs(
                chart=chart("nginx-ingress", cfg.charts, cfg.helm_values),
                class_name=cfg.ingress.class_name,
                load_balancer_ip=entry.load_balancer_ip,
                external_ips=entry.external_ips,
                host_ports=entry.host_ports,
                service_annotations=entry.service_annotations,
                public_address=entry.public_address,
                depends_on=entry.depends_on,
            ),
            opts=on_cluster,
        )
        address = controller.address
        controller_annotations = controller.annotations
        websocket_annotation = controller.websocket_annotation
    elif cfg.ingress.address:
        address = pulumi.Output.from_input(cfg.ingress.address)

    hosts = _hosts(cfg, address)

    issuer_annotations: Mapping[str, str] = {}
    hub_depends_on: list[pulumi.Resource] = [*registry.depends_on, *storage_depends_on]
    if issuer is not None:
        issuer_annotations = issuer.annotations
        # Certificates are requested as soon as the hub's Ingresses exist: the issuer must be there.
        hub_depends_on.append(issuer.issuer)

    ingress = IngressSettings(
        class_name=cfg.ingress.class_name,
        annotations={**controller_annotations, **issuer_annotations},
        tls=cfg.tls_enabled,
        websocket_annotation=websocket_annotation,
    )
    hub_secrets = generate_hub_secrets("hub")
    settings = HubSettings(
        binder_host=hosts.apply(lambda h: h.binder),
        hub_host=hosts.apply(lambda h: h.hub),
        hub_url=hosts.apply(lambda h: h.hub_url),
        ingress=ingress,
        registry=registry,
        secrets=hub_secrets,
        builder=cfg.builder,
        cull=cfg.cull,
        cull_users=cfg.cull_users,
        cors_allow_origin=cfg.cors.allow_origin,
        tokens=RepoProviderTokens(
            github=secrets.github_token,
            gitlab=secrets.gitlab_token,
            gitlab_hostname=cfg.repo_providers.gitlab.hostname,
            git_credentials=secrets.git_credentials,
        ),
        storage_class=storage_class,
        auth=cfg.auth,
        oauth_client_secret=secrets.oauth_client_secret,
        oauth_callback_url=hosts.apply(lambda h: h.oauth_callback_url),
        binder_oauth_redirect_uri=hosts.apply(lambda h: h.binder_oauth_redirect_uri),
        named_servers=cfg.named_servers,
        binder_ui=cfg.binder_ui,
        fancy_profiles_image=cfg.fancy_profiles.hub_image if cfg.fancy_profiles.enabled else None,
        builder_cache_size=cfg.builder_cache_size,
    )
    # binderhub:protect: the hub database's claim too (a chart object; the engine applies the
    # transform to every object the hub charts render).
    on_hub = pulumi.ResourceOptions.merge(
        on_cluster, pulumi.ResourceOptions(transforms=[protect_volume_claims] if cfg.protect else None)
    )
    if cfg.shape == "classic":
        _classic(cfg, settings, namespace, hub_depends_on, on_hub)
    else:
        _service(cfg, settings, namespace, hub_depends_on, on_hub)
    return StackOutputs(
        binder_url=hosts.apply(lambda h: h.binder_url),
        hub_url=hosts.apply(lambda h: h.hub_url),
        image_prefix=registry.image_prefix,
        registry_url=registry.url,
        ingress_address=address,
        cluster_name=cluster.name,
        kubeconfig=cluster.kubeconfig,
        oauth_callback_url=hosts.apply(lambda h: h.oauth_callback_url) if settings.authenticated else None,
    )


def _classic(
    cfg: StackConfig[Any],
    settings: HubSettings,
    namespace: k8s.core.v1.Namespace,
    depends_on: list[pulumi.Resource],
    opts: pulumi.ResourceOptions,
) -> None:
    BinderHubRelease(
        "binderhub",
        BinderHubReleaseArgs(
            chart=chart("binderhub", cfg.charts, cfg.helm_values),
            namespace=namespace.metadata.name,
            values=classic_values(settings),
            depends_on=depends_on,
        ),
        opts=opts,
    )


def _service(
    cfg: StackConfig[Any],
    settings: HubSettings,
    namespace: k8s.core.v1.Namespace,
    depends_on: list[pulumi.Resource],
    opts: pulumi.ResourceOptions,
) -> None:
    """z2jh with BinderHub (binderhub-service) as its `binder` service, wired both ways."""
    binder_release = "binderhub"
    JupyterHubRelease(
        "jupyterhub",
        JupyterHubReleaseArgs(
            chart=chart("jupyterhub", cfg.charts, cfg.helm_values),
            namespace=namespace.metadata.name,
            values=service_hub_values(settings, binderhub_service_url(binder_release, fullname_override="")),
            depends_on=depends_on,
        ),
        opts=opts,
    )
    BinderHubRelease(
        "binderhub",
        BinderHubReleaseArgs(
            chart=chart("binderhub-service", cfg.charts, cfg.helm_values),
            namespace=namespace.metadata.name,
            values=binderhub_service_values(settings, api_token_secret=API_TOKEN_SECRET, api_token_key=API_TOKEN_KEY),
            release_name=binder_release,
            hub_api_token=settings.secrets.binder_api_token,
            depends_on=[*settings.registry.depends_on],
        ),
        opts=opts,
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


def _tls_issuer(cfg: StackConfig[Any], opts: pulumi.ResourceOptions) -> CertManagerIssuer:
    """cert-manager and its Let's Encrypt ClusterIssuer (TLS on)."""
    assert cfg.tls.email  # guaranteed by config validation
    return CertManagerIssuer(
        "tls",
        CertManagerIssuerArgs(
            chart=chart("cert-manager", cfg.charts, cfg.helm_values),
            email=cfg.tls.email,
            ingress_class=cfg.ingress.class_name,
            server=cfg.tls.server,
        ),
        opts=opts,
    )


def _hosts(cfg: StackConfig[Any], address: pulumi.Output[str] | None) -> pulumi.Output[Hosts]:
    def compute(addr: str | None) -> Hosts:
        return compute_hosts(
            domain=cfg.domain,
            binder_host=cfg.hosts.binder if cfg.hosts else None,
            hub_host=cfg.hosts.hub if cfg.hosts else None,
            wildcard_dns=cfg.wildcard_dns,
            address=addr,
            tls=cfg.tls_enabled,
            shape=cfg.shape,
        )

    if cfg.domain or cfg.hosts or address is None:
        # Known up front: the hub does not wait for the load balancer.
        return pulumi.Output.from_input(compute(None))
    return address.apply(compute)
