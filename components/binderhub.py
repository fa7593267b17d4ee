"""BinderHubRelease: the classic `binderhub` chart (bundling JupyterHub) or `binderhub-service`."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.helm import helm_chart
from versions import ChartRef

# Where binderhub-service reads the hub API token from (see values.binderhub_service_values).
API_TOKEN_SECRET = "binderhub-hub-api-token"
API_TOKEN_KEY = "token"


@dataclass(frozen=True)
class BinderHubReleaseArgs:
    chart: ChartRef
    namespace: pulumi.Input[str]
    values: Mapping[str, Any]  # from components.values.binderhub
    release_name: str = "binderhub"
    # binderhub-service: the hub API token, kept in a Secret the BinderHub pod reads.
    hub_api_token: pulumi.Input[str] | None = None
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)


class BinderHubRelease(pulumi.ComponentResource):
    chart: k8s.helm.v4.Chart
    release_name: str

    def __init__(self, name: str, args: BinderHubReleaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("binderhub:hub:BinderHubRelease", name, None, opts)
        self.release_name = args.release_name
        depends_on = list(args.depends_on)
        if args.hub_api_token is not None:
            depends_on.append(
                k8s.core.v1.Secret(
                    f"{name}-hub-api-token",
                    metadata={"name": API_TOKEN_SECRET, "namespace": args.namespace},
                    string_data={API_TOKEN_KEY: pulumi.Output.secret(args.hub_api_token)},
                    opts=pulumi.ResourceOptions(parent=self),
                )
            )
        self.chart = helm_chart(
            f"{name}-chart",
            args.chart,
            args.release_name,
            args.namespace,
            args.values,
            pulumi.ResourceOptions(parent=self, depends_on=depends_on),
        )
        self.register_outputs({"release_name": self.release_name})
