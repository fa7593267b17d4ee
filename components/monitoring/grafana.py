"""Grafana: the grafana chart at its public host, its admin password generated, dashboards provisioned."""

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components.helm import helm_chart
from components.values.monitoring import (
    GRAFANA_ADMIN_SECRET,
    GRAFANA_ADMIN_USER,
    GRAFANA_RELEASE,
    dashboards_config_map,
    grafana_values,
    load_dashboards,
)
from components.values.settings import IngressSettings
from versions import StackCharts

CHART = "grafana"


@dataclass(frozen=True)
class GrafanaArgs:
    """`host`/`url`: Grafana's public host and URL; `ingress`: the hub's ingress class,
    annotations and TLS; `dashboards`: provider -> name -> dashboard JSON (default: the shipped
    ones); `depends_on`: created before the chart (the certificate issuer)."""

    charts: StackCharts
    namespace: pulumi.Input[str]
    host: pulumi.Input[str]
    url: pulumi.Input[str]
    ingress: IngressSettings
    dashboards: Mapping[str, Mapping[str, str]] | None = None
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


class Grafana(pulumi.ComponentResource):
    admin_password: pulumi.Output[str]  # secret
    chart: k8s.helm.v4.Chart

    def __init__(self, name: str, args: GrafanaArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("binderhub:monitoring:Grafana", name, None, opts)
        # Letters and digits only: typed at a login form, never escaped anywhere. RandomPassword
        # marks `result` secret.
        password = random.RandomPassword(
            f"{name}-admin-password", length=32, special=False, opts=pulumi.ResourceOptions(parent=self)
        )
        self.admin_password = pulumi.Output.secret(password.result)
        admin = k8s.core.v1.Secret(
            f"{name}-admin",
            metadata={"name": GRAFANA_ADMIN_SECRET, "namespace": args.namespace},
            string_data={"admin-user": GRAFANA_ADMIN_USER, "admin-password": self.admin_password},
            opts=pulumi.ResourceOptions(parent=self),
        )
        dashboards = args.dashboards if args.dashboards is not None else load_dashboards()
        config_maps = [
            k8s.core.v1.ConfigMap(
                f"{name}-dashboards-{provider}",
                metadata={"name": dashboards_config_map(provider), "namespace": args.namespace},
                data={f"{dashboard}.json": text for dashboard, text in sorted(items.items())},
                opts=pulumi.ResourceOptions(parent=self),
            )
            for provider, items in sorted(dashboards.items())
        ]
        self.chart = helm_chart(
            f"{name}-chart",
            args.charts.ref(CHART),
            GRAFANA_RELEASE,
            args.namespace,
            grafana_values(
                args.host,
                args.ingress,
                url=args.url,
                admin_password_checksum=self.admin_password.apply(
                    lambda value: hashlib.sha256(value.encode()).hexdigest()
                ),
                providers=sorted(dashboards),
            ),
            pulumi.ResourceOptions(parent=self, depends_on=[admin, *config_maps, *args.depends_on]),
        )
        self.register_outputs({})
