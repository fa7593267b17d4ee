"""CertManagerIssuer: cert-manager and a Let's Encrypt ClusterIssuer answering HTTP-01."""

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.helm import release_in_own_namespace
from components.values.cert_manager import cert_manager_values, cluster_issuer_spec, issuer_name
from versions import StackCharts

CHART = "cert-manager"


@dataclass(frozen=True)
class CertManagerIssuerArgs:
    charts: StackCharts
    email: str
    ingress_class: str
    server: str = "production"  # or "staging"
    namespace: str = "cert-manager"


class CertManagerIssuer(pulumi.ComponentResource):
    issuer_name: str
    annotations: dict[str, str]  # what an Ingress carries to get a certificate
    issuer: k8s.apiextensions.CustomResource

    def __init__(self, name: str, args: CertManagerIssuerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("binderhub:tls:CertManagerIssuer", name, None, opts)
        # A Release: cert-manager's CRDs and its webhook readiness rely on Helm hooks and ordering.
        release = release_in_own_namespace(
            name,
            parent=self,
            chart=args.charts.ref(CHART),
            release_name="cert-manager",
            namespace=args.namespace,
            values=cert_manager_values(),
        )
        self.issuer_name = issuer_name(args.server)
        self.issuer = k8s.apiextensions.CustomResource(
            f"{name}-issuer",
            api_version="cert-manager.io/v1",
            kind="ClusterIssuer",
            metadata={"name": self.issuer_name},
            spec=cluster_issuer_spec(server=args.server, email=args.email, ingress_class=args.ingress_class),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[release]),
        )
        self.annotations = {"cert-manager.io/cluster-issuer": self.issuer_name}
        self.register_outputs({"issuer_name": self.issuer_name})
