"""Prometheus: the prometheus chart (server, kube-state-metrics, node-exporter) and the hub token it scrapes with."""

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.helm import helm_chart
from components.values.monitoring import (
    HUB_TOKEN_KEY,
    HUB_TOKEN_SECRET,
    PROMETHEUS_RELEASE,
    ScrapeTargets,
    prometheus_values,
)
from versions import StackCharts

CHART = "prometheus"


@dataclass(frozen=True)
class PrometheusArgs:
    """`hub_metrics_token`: the hub service token with `read:metrics` (secret); `storage_class`:
    the server volume's class (None: the cluster default); `depends_on`: created before the
    chart, deleted after it (the storage provisioner)."""

    charts: StackCharts
    namespace: pulumi.Input[str]
    targets: ScrapeTargets
    hub_metrics_token: pulumi.Input[str]
    retention_days: int
    volume_size: str
    storage_class: pulumi.Input[str] | None = None
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


class Prometheus(pulumi.ComponentResource):
    chart: k8s.helm.v4.Chart

    def __init__(self, name: str, args: PrometheusArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("binderhub:monitoring:Prometheus", name, None, opts)
        # The token reaches the server as a mounted file (`credentials_file`), so Prometheus'
        # configuration, a ConfigMap, never holds it.
        token = k8s.core.v1.Secret(
            f"{name}-hub-token",
            metadata={"name": HUB_TOKEN_SECRET, "namespace": args.namespace},
            string_data={HUB_TOKEN_KEY: pulumi.Output.secret(args.hub_metrics_token)},
            opts=pulumi.ResourceOptions(parent=self),
        )
        values = prometheus_values(
            args.targets,
            retention_days=args.retention_days,
            volume_size=args.volume_size,
            storage_class=args.storage_class,
        )
        self.chart = helm_chart(
            f"{name}-chart",
            args.charts.ref(CHART),
            PROMETHEUS_RELEASE,
            args.namespace,
            values,
            pulumi.ResourceOptions(parent=self, depends_on=[token, *args.depends_on]),
        )
        self.register_outputs({})
