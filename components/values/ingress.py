"""Values for the F5 NGINX Ingress Controller chart and the annotations hub ingresses need on it."""

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

CONTROLLER_RELEASE = "nginx-ingress"
# The chart names its Service `<fullname>-controller`; the release name contains the chart name.
CONTROLLER_SERVICE = f"{CONTROLLER_RELEASE}-controller"


def controller_values(
    *,
    class_name: str,
    load_balancer_ip: pulumi.Input[str] | None = None,
    external_ips: Sequence[str] = (),
    service_annotations: Mapping[str, pulumi.Input[str]] | None = None,
    host_ports: bool = False,
) -> dict[str, Any]:
    """How the controller is reached: a cloud load balancer, the nodes' external IPs, or host ports.

    Without a load balancer the Service is ClusterIP: a LoadBalancer Service on bare metal would
    stay pending, and Helm would wait for its address until the timeout.
    """
    service: dict[str, Any]
    if external_ips or host_ports:
        service = {"type": "ClusterIP"}
        if external_ips and not host_ports:
            service["externalIPs"] = list(external_ips)  # kube-proxy forwards these addresses' 80/443
    else:
        service = {"type": "LoadBalancer", "externalTrafficPolicy": "Local"}
        if load_balancer_ip is not None:
            service["loadBalancerIP"] = load_balancer_ip
    if service_annotations:
        service["annotations"] = dict(service_annotations)
    controller: dict[str, Any] = {
        "ingressClass": {"name": class_name, "create": True, "setAsDefaultIngress": False},
        # Ingress status carries the public address, so `kubectl get ingress` shows it.
        "reportIngressStatus": {"enable": True},
        "service": service,
        "config": {"entries": {"client-max-body-size": "0"}},
        # Plain Ingresses only: no VirtualServer CRDs, which Helm would leave behind on uninstall.
        "enableCustomResources": False,
    }
    if host_ports:
        # One controller per node, listening on the node's own 80/443.
        controller.update(kind="daemonset", hostPort={"enable": True, "http": 80, "https": 443})
    return {"controller": controller}


# F5 NGINX upgrades WebSocket connections only for the Services this annotation names, and
# rejects the whole Ingress when a named Service is not one of that Ingress's own backends
# (nginx/kubernetes-ingress `validateServiceListAnnotation`): each Ingress names its own.
WEBSOCKET_SERVICES_ANNOTATION = "nginx.org/websocket-services"


def hub_ingress_annotations() -> dict[str, str]:
    """Annotations every hub and BinderHub Ingress needs on this controller.

    Builds and notebooks upload large files; event streams stay open. Buffering is off because
    BinderHub's build log and the hub's spawn progress are `text/event-stream` responses that
    send no `X-Accel-Buffering` header, and the controller buffers proxied responses by default:
    the browser would see them only at the end. F5 validates the value as a Go bool ("false").
    Edit-in-place lets cert-manager answer HTTP-01 on the same Ingress, since this controller
    refuses a second Ingress for the same host.
    """
    return {
        "nginx.org/client-max-body-size": "0",
        "nginx.org/proxy-read-timeout": "3600s",
        "nginx.org/proxy-send-timeout": "3600s",
        "nginx.org/proxy-buffering": "false",
        "acme.cert-manager.io/http01-edit-in-place": "true",
    }
