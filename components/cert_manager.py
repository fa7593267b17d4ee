"""CertManagerIssuer: cert-manager and a Let's Encrypt ClusterIssuer answering HTTP-01."""

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.values.cert_manager import cert_manager_values, cluster_issuer_spec, issuer_name
from versions import ChartRef


@dataclass(frozen=True)
class CertManagerIssuerArgs:
    chart: ChartRef
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
        namespace = k8s.core.v1.Namespace(
            f"{name}-ns", metadata={"name": args.namespace}, opts=pulumi.ResourceOptions(parent=self)
        )
        # A Release: cert-manager's CRDs and its webhook readiness rely on Helm hooks and ordering.
        release = k8s.helm.v3.Release(
            f"{name}-release",
            name="cert-manager",
            chart=args.chart.chart,
            version=args.chart.version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=args.chart.repo),
            namespace=namespace.metadata.name,
            values=cert_manager_values(),
            opts=pulumi.ResourceOptions(parent=self),
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
