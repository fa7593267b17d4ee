"""Target `aws`: EKS (pulumi-eks) + ECR through the registry helper (or Docker Hub / custom).

Public address in the first run: AWS load balancers get DNS names, not IPs, so the stack
allocates one Elastic IP per public subnet and asks for a Network Load Balancer on exactly
those addresses. The first Elastic IP is known before the load balancer exists, so hosts
(`binder.<ip>.nip.io`) and `hub_url` are set in the one and only `pulumi up`.

The annotations are honoured by the load balancer implementation EKS runs in its control
plane (cloud-provider-aws, type `nlb`): no AWS Load Balancer Controller (and no IAM policy for
it) is needed. With `externalTrafficPolicy: Local` it points the NLB health check at the
Service's healthCheckNodePort (`/healthz`), so only nodes running the controller are targets.
"""

import re

import pulumi
import pulumi_aws as aws

from components.cluster import NodePools
from components.cluster.eks import ZONES, EksCluster, EksClusterArgs, partition
from components.ingress import IngressEntry
from components.registry import RegistrySettings
from components.registry.ecr import EcrRegistry, EcrRegistryArgs, claim_tag_key, stack_namespace
from components.registry.external import registry_from_config
from config import AwsStack, StackSecrets
from stacks.target import Storage, Target
from versions import StackCharts

LB = "service.beta.kubernetes.io/aws-load-balancer-"


def cluster_name(project: str, stack: str) -> str:
    """EKS names: letters, digits, '-' and '_', at most 100 characters."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", f"{project}-{stack}")[:100]


def dns_suffix(region: str) -> str:
    return {"aws-cn": "amazonaws.com.cn", "aws-iso": "c2s.ic.gov", "aws-iso-b": "sc2s.sgov.gov"}.get(
        partition(region), "amazonaws.com"
    )


def nlb_annotations(allocation_ids: pulumi.Input[str], subnet_ids: pulumi.Input[str]) -> dict[str, pulumi.Input[str]]:
    return {
        f"{LB}type": "nlb",
        f"{LB}scheme": "internet-facing",  # the AWS Load Balancer Controller's spelling, if it takes over
        f"{LB}internal": "false",
        # As many allocations as subnets, in the same order: one address per zone.
        f"{LB}eip-allocations": allocation_ids,
        f"{LB}subnets": subnet_ids,
        f"{LB}cross-zone-load-balancing-enabled": "true",
        # externalTrafficPolicy Local: kube-proxy answers /healthz on the healthCheckNodePort
        # only on nodes with a controller pod; the port is left to the implementation.
        f"{LB}healthcheck-protocol": "http",
        f"{LB}healthcheck-path": "/healthz",
        f"{LB}healthcheck-interval": "10",
        f"{LB}healthcheck-healthy-threshold": "2",
        f"{LB}healthcheck-unhealthy-threshold": "2",
    }


def build(cfg: AwsStack, secrets: StackSecrets) -> Target:
    cluster_cfg = cfg.cluster

    project, stack = pulumi.get_project(), pulumi.get_stack()
    name = cluster_name(project, stack)
    charts = StackCharts(cfg.charts, cfg.helm_values)
    cluster = EksCluster(
        "cluster",
        EksClusterArgs(
            cluster_name=name,
            region=cluster_cfg.region,
            pools=NodePools.from_config(cluster_cfg),
            protect=cfg.protect,
            charts=charts,
            api_access_cidrs=tuple(cluster_cfg.api_access_cidrs),
            audit_log_retention_days=cluster_cfg.audit_log_retention_days,
        ),
    )
    on_cluster = pulumi.ResourceOptions(providers=[cluster.aws_provider, cluster.provider])

    registry: RegistrySettings
    if cfg.registry.type == "ecr":
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOptions(provider=cluster.aws_provider))
        # Repositories under the stack's own namespace, unless registry.prefix is set (it was
        # the namespace before stacks got their own: a stack that sets it keeps its images).
        prefix_set = "prefix" in cfg.registry.model_fields_set
        ecr = EcrRegistry(
            "registry",
            EcrRegistryArgs(
                charts=charts,
                prefix=cfg.registry.prefix,
                repository_namespace=cfg.registry.prefix if prefix_set else stack_namespace(project, stack),
                claim_tag=claim_tag_key(project, stack),
                exclusive_namespace=not prefix_set,
                expire_after_days=cfg.registry.expire_after_days,
                region=cluster_cfg.region,
                partition=partition(cluster_cfg.region),
                account_id=identity.account_id,
                dns_suffix=dns_suffix(cluster_cfg.region),
                oidc_provider_arn=cluster.oidc_provider_arn,
                oidc_issuer=cluster.oidc_issuer,
            ),
            opts=pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(protect=cfg.protect)),
        )
        registry = ecr.settings
    else:
        registry = registry_from_config(cfg.registry, secrets.registry_password)

    return Target(
        cluster=cluster,
        registry=registry,
        ingress=_ingress_entry(cluster, cfg.protect),
        storage=Storage(storage_class=cluster.storage_class, depends_on=cluster.storage_depends_on),
    )


def _ingress_entry(cluster: EksCluster, protect: bool) -> IngressEntry:
    # The addresses the DNS records point at: binderhub:protect keeps them.
    on_aws = pulumi.ResourceOptions(
        provider=cluster.aws_provider, depends_on=[cluster.internet_gateway], protect=protect
    )
    ips = [
        aws.ec2.Eip(f"ingress-ip-{i}", domain="vpc", tags={"Name": f"{cluster.cluster_name}-ingress-{i}"}, opts=on_aws)
        for i in range(ZONES)
    ]
    allocations = pulumi.Output.all(*[ip.allocation_id for ip in ips]).apply(",".join)
    subnets = pulumi.Output.all(*cluster.public_subnet_ids).apply(",".join)
    return IngressEntry(
        service_annotations=nlb_annotations(allocations, subnets),
        public_address=ips[0].public_ip,
        depends_on=ips,
    )
