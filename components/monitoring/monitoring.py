"""Monitoring: the monitoring namespace, the hub's metrics token, Prometheus and Grafana in it."""

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.cleanup import user_storage_hook
from components.cluster import Cluster
from components.monitoring.grafana import Grafana, GrafanaArgs
from components.monitoring.prometheus import Prometheus, PrometheusArgs
from components.values.hosts import Hosts, grafana_host
from components.values.monitoring import NAMESPACE, grafana_url, hub_targets
from components.values.settings import IngressSettings
from config.model import MonitoringConfig
from versions import StackCharts


@dataclass(frozen=True)
class MonitoringArgs:
    """`config`: binderhub:monitoring; `shape`, `hub_namespace`, `binder_release`: where the hub
    and BinderHub serve their metrics; `hosts`: the public hosts (Grafana's derives from the
    hub's unless `grafana_host`, binderhub:hosts.grafana, is set); `ingress`: the hub's ingress
    settings (class, annotations, TLS); `ingress_metrics`: the installed ingress controller's
    metrics Service (name, namespace, port), None for an existing controller;
    `storage_class`: Prometheus' volume's (None: the cluster default); `storage_depends_on`: the
    storage provisioner; `issuer`: the ClusterIssuer (TLS), created first and deleted last, like
    the hub's (the ACME challenges in the namespace carry cert-manager's finalizers)."""

    config: MonitoringConfig
    charts: StackCharts
    cluster: Cluster
    shape: str
    hub_namespace: str
    binder_release: str
    hosts: pulumi.Output[Hosts]
    ingress: IngressSettings
    grafana_host: str | None = None
    ingress_metrics: tuple[str, str, int] | None = None
    storage_class: pulumi.Input[str] | None = None
    storage_depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)
    issuer: pulumi.Resource | None = None
    namespace: str = NAMESPACE


class Monitoring(pulumi.ComponentResource):
    namespace: k8s.core.v1.Namespace
    hub_metrics_token: pulumi.Output[str]  # secret: the hub's `prometheus` service token
    grafana_url: pulumi.Input[str]
    grafana_admin_password: pulumi.Output[str]  # secret

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("binderhub:monitoring:Monitoring", name, None, opts)
        issuer = [args.issuer] if args.issuer is not None else []
        host = args.hosts.apply(lambda h: grafana_host(h.hub, args.grafana_host))
        url = args.hosts.apply(lambda h: grafana_url(grafana_host(h.hub, args.grafana_host), h.tls))
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": args.namespace},
            opts=pulumi.ResourceOptions(
                parent=self,
                # Deleted while the storage provisioner and cert-manager still run (see the hub's).
                depends_on=[*args.storage_depends_on, *issuer],
                # Prometheus' volume: its claim goes with the chart, then this waits until the
                # cloud disk behind it is deleted, before the cluster can go.
                hooks=pulumi.ResourceHookBinding(
                    before_delete=[
                        user_storage_hook(name, args.namespace, args.cluster.kubeconfig, args.cluster.context)
                    ]
                ),
            ),
        )
        # 32 random bytes as hex, like the hub's other service tokens; RandomBytes marks `hex` secret.
        self.hub_metrics_token = pulumi.Output.secret(
            random.RandomBytes(f"{name}-hub-metrics-token", length=32, opts=pulumi.ResourceOptions(parent=self)).hex
        )
        Prometheus(
            f"{name}-prometheus",
            PrometheusArgs(
                charts=args.charts,
                namespace=self.namespace.metadata.name,
                targets=hub_targets(args.shape, args.hub_namespace, args.binder_release, args.ingress_metrics),
                hub_metrics_token=self.hub_metrics_token,
                retention_days=args.config.retention_days,
                volume_size=args.config.volume_size,
                storage_class=args.storage_class,
                depends_on=[*args.storage_depends_on],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        grafana = Grafana(
            f"{name}-grafana",
            GrafanaArgs(
                charts=args.charts,
                namespace=self.namespace.metadata.name,
                host=host,
                url=url,
                ingress=args.ingress,
                depends_on=issuer,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.grafana_url = url
        self.grafana_admin_password = grafana.admin_password
        self.register_outputs({"namespace": self.namespace.metadata.name, "grafana_url": self.grafana_url})
