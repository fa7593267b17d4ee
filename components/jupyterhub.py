"""JupyterHubRelease: the z2jh `jupyterhub` chart, with BinderHub as its `binder` service."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.helm import helm_chart
from versions import ChartRef


@dataclass(frozen=True)
class JupyterHubReleaseArgs:
    chart: ChartRef
    namespace: pulumi.Input[str]
    values: Mapping[str, Any]  # from components.values.jupyterhub.service_hub_values
    release_name: str = "jupyterhub"
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


class JupyterHubRelease(pulumi.ComponentResource):
    chart: k8s.helm.v4.Chart
    release_name: str

    def __init__(self, name: str, args: JupyterHubReleaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("binderhub:hub:JupyterHubRelease", name, None, opts)
        self.release_name = args.release_name
        self.chart = helm_chart(
            f"{name}-chart",
            args.chart,
            args.release_name,
            args.namespace,
            args.values,
            pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on)),
        )
        self.register_outputs({"release_name": self.release_name})
