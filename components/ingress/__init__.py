"""Ingress controllers: one module per kind, all satisfying the `IngressController` protocol.

A cloud says how traffic reaches the controller (`IngressEntry`); the controller says what the
hub's Ingresses need from it. Implementations: `f5_nginx.F5NginxIngress` (installs the F5 NGINX
Ingress Controller) and `existing.ExistingIngress` (the cluster's own controller, nothing
installed); stacks/platform.py picks one by `binderhub:ingress.controller` and calls its module's `from_config`.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pulumi

from config import IngressConfig
from versions import StackCharts


@dataclass(frozen=True)
class IngressEntry:
    """How a target's traffic reaches the ingress controller (what its cloud contributes).

    At most one way applies: a load balancer on an address created beforehand
    (`load_balancer_ip`), one whose public address is known but not its loadBalancerIP
    (`public_address`, e.g. Elastic IPs on an AWS NLB), the nodes' own addresses
    (`external_ips`) or ports (`host_ports`); none of them: a load balancer whose address is
    read back once it exists.
    """

    load_balancer_ip: pulumi.Input[str] | None = None
    external_ips: Sequence[str] = ()  # bare metal: node addresses kube-proxy forwards 80/443 on
    host_ports: bool = False  # bare metal: the controller binds 80/443 on every node instead
    service_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    public_address: pulumi.Input[str] | None = None
    # Must exist before the controller's Service asks for the address (e.g. the cluster
    # identity's right to use the IP, the addresses themselves).
    depends_on: Sequence[pulumi.Resource] = ()


class IngressController(Protocol):
    """What the hub's Ingresses need from the controller serving them, whichever it is
    (read-only, so an implementation may narrow a type, e.g. an address that is always known)."""

    @property
    def class_name(self) -> str:
        """The IngressClass the hub's Ingresses name."""
        ...

    @property
    def address(self) -> pulumi.Output[str] | None:
        """The public address (an IP or, on some clouds, a host name); None when the program
        cannot know it (an existing controller without ingress.address: hosts need the domain)."""
        ...

    @property
    def annotations(self) -> Mapping[str, str]:
        """What every hub and BinderHub Ingress carries for this controller."""
        ...

    @property
    def websocket_annotation(self) -> str | None:
        """The annotation through which an Ingress names its WebSocket backends (None: none needed)."""
        ...


class IngressControllerFactory(Protocol):
    """Each implementation module's `from_config`: the controller named `name` for the stack's
    `binderhub:ingress` keys, its charts (version and values overlay) and the cloud's entry;
    `opts` carry the cluster's provider."""

    def __call__(
        self, name: str, cfg: IngressConfig, charts: StackCharts, entry: IngressEntry, opts: pulumi.ResourceOptions
    ) -> IngressController: ...
