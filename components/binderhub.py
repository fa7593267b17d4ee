"""BinderHubRelease: the classic `binderhub` chart (bundling JupyterHub) or `binderhub-service`."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from versions import ChartRef


@dataclass(frozen=True)
class BinderHubReleaseArgs:
    chart: ChartRef
    namespace: pulumi.Input[str]
    values: Mapping[str, Any]  # from components.values (classic_values / service_values)
    release_name: str = "binderhub"
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


class BinderHubRelease(pulumi.ComponentResource):
    chart: k8s.helm.v4.Chart
    release_name: str

    def __init__(self, name: str, args: BinderHubReleaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("binderhub:hub:BinderHubRelease", name, None, opts)
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


def helm_chart(
    name: str,
    chart: ChartRef,
    release_name: str,
    namespace: pulumi.Input[str],
    values: Mapping[str, Any],
    opts: pulumi.ResourceOptions,
) -> k8s.helm.v4.Chart:
    """A v4 Chart: previews diff each Kubernetes object rather than one opaque release."""
    return k8s.helm.v4.Chart(
        name,
        chart=chart.chart,
        version=chart.version,
        repository_opts=k8s.helm.v4.RepositoryOptsArgs(repo=chart.repo) if chart.repo else None,
        name=release_name,
        namespace=namespace,
        values=dict(values),
        opts=opts,
    )
