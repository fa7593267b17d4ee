"""ExistingIngress: the cluster's own ingress controller; this program installs nothing for it."""

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from components.ingress import IngressEntry
from config import IngressConfig
from versions import StackCharts


@dataclass(frozen=True)
class ExistingIngress:
    """An `IngressController` already running in the cluster (ingress.controller `existing`).

    Nothing is created, so it is no component: only what the hub's Ingresses need. The program
    knows nothing about the controller beyond its IngressClass and, if given, its public address.
    """

    class_name: str
    address: pulumi.Output[str] | None = None  # ingress.address; None: hosts come from the domain
    annotations: Mapping[str, str] = field(default_factory=dict)
    # None: the Ingresses name no WebSocket backends (ingress-nginx and Traefik upgrade unasked).
    websocket_annotation: str | None = None


def from_config(
    name: str, cfg: IngressConfig, charts: StackCharts, entry: IngressEntry, opts: pulumi.ResourceOptions
) -> ExistingIngress:
    """ingress.controller `existing` (an `IngressControllerFactory`): no chart and no entry to use,
    nothing to name (config refuses cluster.externalIPs with it)."""
    del name, charts, entry, opts
    return ExistingIngress(
        class_name=cfg.class_name, address=pulumi.Output.from_input(cfg.address) if cfg.address else None
    )
