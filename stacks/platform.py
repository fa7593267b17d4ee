"""The layer every target shares: certificates, the ingress controller, hosts and the hub.

A cloud brings its `Target` (stacks/target.py: cluster, registry settings, how traffic reaches
the ingress controller, storage); this layer computes the public hosts before any hub chart
renders, so one run is enough.
"""

from dataclasses import dataclass
from typing import Any

import pulumi

from components.cert_manager import CertManagerIssuer, CertManagerIssuerArgs
from components.hub import BINDER_RELEASE, BinderHubDeployment, BinderHubDeploymentArgs
from components.ingress import IngressController, IngressControllerFactory, existing, f5_nginx
from components.monitoring import Monitoring, MonitoringArgs
from components.values.hosts import Hosts, compute_hosts
from components.values.settings import IngressSettings
from config import StackConfig, StackSecrets
from stacks.target import Target
from versions import StackCharts

# binderhub:ingress.controller -> its implementation's `from_config` (components/ingress/).
INGRESS_CONTROLLERS: dict[str, IngressControllerFactory] = {
    "nginx": f5_nginx.from_config,
    "existing": existing.from_config,
}


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
    grafana_url: pulumi.Input[str] | None = None  # binderhub:monitoring
    grafana_admin_password: pulumi.Output[str] | None = None  # binderhub:monitoring; secret

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
            **({"grafana_url": self.grafana_url} if self.grafana_url is not None else {}),
            **(
                {"grafana_admin_password": pulumi.Output.secret(self.grafana_admin_password)}
                if self.grafana_admin_password is not None
                else {}
            ),
        }


def deploy_platform(cfg: StackConfig[Any], secrets: StackSecrets, target: Target) -> StackOutputs:
    """Everything on the target's cluster, in the order it is created."""
    charts = StackCharts(cfg.charts, cfg.helm_values)
    on_cluster = pulumi.ResourceOptions(providers=[target.cluster.provider])
    issuer = _tls_issuer(cfg, charts, on_cluster) if cfg.tls_enabled else None
    controller = INGRESS_CONTROLLERS[cfg.ingress.controller]("ingress", cfg.ingress, charts, target.ingress, on_cluster)
    hosts = _hosts(cfg, controller.address)
    ingress = _ingress_settings(cfg, controller, issuer)
    monitoring = _monitoring(cfg, charts, target, controller, hosts, ingress, issuer, on_cluster)
    hub = BinderHubDeployment(
        "hub",
        BinderHubDeploymentArgs(
            config=cfg,
            secrets=secrets,
            charts=charts,
            cluster=target.cluster,
            hosts=hosts,
            ingress=ingress,
            registry=target.registry,
            storage_class=target.storage.storage_class,
            storage_depends_on=target.storage.depends_on,
            issuer=issuer.issuer if issuer is not None else None,
            metrics_token=monitoring.hub_metrics_token if monitoring is not None else None,
        ),
        opts=on_cluster,
    )
    return StackOutputs(
        binder_url=hosts.apply(lambda h: h.binder_url),
        hub_url=hosts.apply(lambda h: h.hub_url),
        image_prefix=target.registry.image_prefix,
        registry_url=target.registry.url,
        ingress_address=controller.address,
        cluster_name=target.cluster.name,
        kubeconfig=target.cluster.kubeconfig,
        oauth_callback_url=hub.oauth_callback_url,
        grafana_url=monitoring.grafana_url if monitoring is not None else None,
        grafana_admin_password=monitoring.grafana_admin_password if monitoring is not None else None,
    )


def _monitoring(
    cfg: StackConfig[Any],
    charts: StackCharts,
    target: Target,
    controller: IngressController,
    hosts: pulumi.Output[Hosts],
    ingress: IngressSettings,
    issuer: CertManagerIssuer | None,
    opts: pulumi.ResourceOptions,
) -> Monitoring | None:
    """Prometheus and Grafana (binderhub:monitoring), or None when off.

    Created before the hub, which takes its metrics token; Prometheus reaches the hub, BinderHub
    and the ingress controller by their Services' names, known before either is installed.
    """
    if not cfg.monitoring.enabled:
        return None
    ingress_metrics = controller.metrics if isinstance(controller, f5_nginx.F5NginxIngress) else None
    return Monitoring(
        "monitoring",
        MonitoringArgs(
            config=cfg.monitoring,
            charts=charts,
            cluster=target.cluster,
            shape=cfg.shape,
            hub_namespace=cfg.namespace,
            binder_release=BINDER_RELEASE,
            hosts=hosts,
            grafana_host=cfg.hosts.grafana if cfg.hosts else None,
            ingress=ingress,
            ingress_metrics=ingress_metrics,
            storage_class=target.storage.storage_class,
            storage_depends_on=target.storage.depends_on,
            issuer=issuer.issuer if issuer is not None else None,
        ),
        opts=opts,
    )


def _tls_issuer(cfg: StackConfig[Any], charts: StackCharts, opts: pulumi.ResourceOptions) -> CertManagerIssuer:
    """cert-manager and its Let's Encrypt ClusterIssuer (TLS on)."""
    assert cfg.tls.email  # guaranteed by config validation
    return CertManagerIssuer(
        "tls",
        CertManagerIssuerArgs(
            charts=charts, email=cfg.tls.email, ingress_class=cfg.ingress.class_name, server=cfg.tls.server
        ),
        opts=opts,
    )


def _ingress_settings(
    cfg: StackConfig[Any], controller: IngressController, issuer: CertManagerIssuer | None
) -> IngressSettings:
    """What the hub's Ingresses carry: the controller's annotations and, with TLS, the issuer's."""
    return IngressSettings(
        class_name=controller.class_name,
        annotations={**controller.annotations, **(issuer.annotations if issuer is not None else {})},
        tls=cfg.tls_enabled,
        websocket_annotation=controller.websocket_annotation,
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
