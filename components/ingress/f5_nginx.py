"""F5NginxIngress: installs the F5 NGINX Ingress Controller (chart `nginx-ingress`).

Not the community `ingress-nginx`: annotations are `nginx.org/...`, and WebSockets are
upgraded only for the Services an Ingress names (components/values/ingress.py).
"""

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.helm import release_in_own_namespace
from components.ingress import IngressEntry
from components.values.ingress import (
    CONTROLLER_RELEASE,
    CONTROLLER_SERVICE,
    WEBSOCKET_SERVICES_ANNOTATION,
    controller_values,
    hub_ingress_annotations,
)
from components.values.overlay import merge
from config import IngressConfig
from versions import StackCharts

CHART = "nginx-ingress"
# The controller's Prometheus exporter (the chart's `prometheus`, on by default) and the headless
# Service the chart makes for it (`<fullname>-prometheus-service`): its DNS name resolves to every
# controller pod, which is how binderhub:monitoring's Prometheus finds them.
METRICS_PORT = 9113
METRICS_SERVICE = f"{CONTROLLER_RELEASE}-prometheus-service"
# Its type token until it was named after what it installs: the alias keeps the deployed
# controller, its namespace and release (children follow their parent's alias).
FORMER_TYPE = "binderhub:ingress:IngressNginx"


@dataclass(frozen=True)
class F5NginxIngressArgs:
    charts: StackCharts
    entry: IngressEntry  # how traffic reaches it: load balancer, node addresses or host ports
    class_name: str = "nginx"
    namespace: str = "nginx-ingress"


class F5NginxIngress(pulumi.ComponentResource):
    """An `IngressController`: a namespace and the controller's release in it."""

    class_name: str
    address: pulumi.Output[str]  # IP (or, on some clouds, hostname) of the load balancer
    annotations: Mapping[str, str]  # what hub/binder Ingresses need on this controller
    websocket_annotation: str  # names the Ingress's own WebSocket backends (see ingress_values)
    release: k8s.helm.v3.Release
    metrics: tuple[str, str, int]  # the exporter's Service: (name, namespace, port)

    def __init__(self, name: str, args: F5NginxIngressArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(
            "binderhub:ingress:F5NginxIngress",
            name,
            None,
            pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=FORMER_TYPE)])),
        )
        entry = args.entry
        # A Release (not a v4 Chart): Helm waits for the load balancer, on install and uninstall.
        self.release = release_in_own_namespace(
            name,
            parent=self,
            chart=args.charts.ref(CHART),
            release_name=CONTROLLER_RELEASE,
            namespace=args.namespace,
            values=merge(
                controller_values(
                    class_name=args.class_name,
                    load_balancer_ip=entry.load_balancer_ip,
                    external_ips=entry.external_ips,
                    service_annotations=entry.service_annotations,
                    host_ports=entry.host_ports,
                ),
                metrics_values(),
            ),
            # Helm waits until the LoadBalancer has an address, so it can be read right after; on
            # delete it waits until the Service is gone, i.e. the cloud load balancer deleted.
            timeout=900,
            skip_crds=True,  # see enableCustomResources: nothing to install, nothing to leak
            depends_on=entry.depends_on,
        )
        self.class_name = args.class_name
        self.metrics = (METRICS_SERVICE, args.namespace, METRICS_PORT)
        if entry.public_address is not None:
            self.address = pulumi.Output.from_input(entry.public_address)
        elif entry.load_balancer_ip is not None:
            self.address = pulumi.Output.from_input(entry.load_balancer_ip)
        elif entry.external_ips:
            self.address = pulumi.Output.from_input(entry.external_ips[0])
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


def metrics_values() -> dict[str, object]:
    """The exporter on, on its port, with its headless Service (nothing outside the cluster
    reaches it: the controller's public Service does not list the port)."""
    return {"prometheus": {"create": True, "port": METRICS_PORT, "scheme": "http", "service": {"create": True}}}


def from_config(
    name: str, cfg: IngressConfig, charts: StackCharts, entry: IngressEntry, opts: pulumi.ResourceOptions
) -> F5NginxIngress:
    """ingress.controller `nginx` (an `IngressControllerFactory`)."""
    return F5NginxIngress(name, F5NginxIngressArgs(charts=charts, entry=entry, class_name=cfg.class_name), opts)


def _load_balancer_address(status: k8s.core.v1.outputs.ServiceStatus | None) -> str:
    ingress = (status.load_balancer.ingress or []) if status and status.load_balancer else []
    if not ingress:
        raise RuntimeError(
            f"the ingress controller Service {CONTROLLER_SERVICE} has no load balancer address; "
            "check `kubectl -n nginx-ingress describe service` (does this cluster provide LoadBalancers?)"
        )
    return ingress[0].ip or ingress[0].hostname or ""
