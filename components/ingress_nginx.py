"""IngressNginx: the F5 NGINX Ingress Controller behind a LoadBalancer Service."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.helm import release_in_own_namespace
from components.values.ingress import (
    CONTROLLER_RELEASE,
    CONTROLLER_SERVICE,
    WEBSOCKET_SERVICES_ANNOTATION,
    controller_values,
    hub_ingress_annotations,
)
from versions import ChartRef


@dataclass(frozen=True)
class IngressNginxArgs:
    chart: ChartRef
    class_name: str = "nginx"
    namespace: str = "nginx-ingress"
    # A stable address created beforehand (Azure public IP, GCP address, AWS EIPs...).
    load_balancer_ip: pulumi.Input[str] | None = None
    # Bare metal: the node addresses that receive traffic.
    external_ips: Sequence[str] = ()
    host_ports: bool = False  # bare metal: controller pods bind 80/443 on every node
    service_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # The public address when known beforehand but not a loadBalancerIP (e.g. AWS Elastic IPs).
    public_address: pulumi.Input[str] | None = None
    # Must exist before the controller's LoadBalancer (e.g. the cluster's right to use the IP).
    depends_on: Sequence[pulumi.Resource] = ()


class IngressNginx(pulumi.ComponentResource):
    class_name: str
    address: pulumi.Output[str]  # IP (or, on some clouds, hostname) of the load balancer
    annotations: dict[str, str]  # what hub/binder Ingresses need on this controller
    websocket_annotation: str  # names the Ingress's own WebSocket backends (see ingress_values)
    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: IngressNginxArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("binderhub:ingress:IngressNginx", name, None, opts)
        # A Release (not a v4 Chart): Helm waits for the load balancer, on install and uninstall.
        self.release = release_in_own_namespace(
            name,
            parent=self,
            chart=args.chart,
            release_name=CONTROLLER_RELEASE,
            namespace=args.namespace,
            values=controller_values(
                class_name=args.class_name,
                load_balancer_ip=args.load_balancer_ip,
                external_ips=args.external_ips,
                service_annotations=args.service_annotations,
                host_ports=args.host_ports,
            ),
            # Helm waits until the LoadBalancer has an address, so it can be read right after; on
            # delete it waits until the Service is gone, i.e. the cloud load balancer deleted.
            timeout=900,
            skip_crds=True,  # see enableCustomResources: nothing to install, nothing to leak
            depends_on=args.depends_on,
        )
        self.class_name = args.class_name
        if args.public_address is not None:
            self.address = pulumi.Output.from_input(args.public_address)
        elif args.load_balancer_ip is not None:
            self.address = pulumi.Output.from_input(args.load_balancer_ip)
        elif args.external_ips:
            self.address = pulumi.Output.from_input(args.external_ips[0])
        else:
            service = k8s.core.v1.Service.get(
                f"{name}-service",
                pulumi.Output.concat(self.release.status.namespace, "/", CONTROLLER_SERVICE),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.release]),
            )
            self.address = service.status.apply(_load_balancer_address)
        self.annotations = hub_ingress_annotations()
        self.websocket_annotation = WEBSOCKET_SERVICES_ANNOTATION
        self.register_outputs({"class_name": self.class_name, "address": self.address})


def _load_balancer_address(status: k8s.core.v1.outputs.ServiceStatus | None) -> str:
    ingress = (status.load_balancer.ingress or []) if status and status.load_balancer else []
    if not ingress:
        raise RuntimeError(
            f"the ingress controller Service {CONTROLLER_SERVICE} has no load balancer address; "
            "check `kubectl -n nginx-ingress describe service` (does this cluster provide LoadBalancers?)"
        )
    return ingress[0].ip or ingress[0].hostname or ""
