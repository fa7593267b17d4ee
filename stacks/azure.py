"""Target `azure`: AKS + ACR (or Docker Hub) + a static ingress IP."""

import re

import pulumi
import pulumi_azure_native as azure

from components.cluster import NodePools
from components.cluster.aks import AksCluster, AksClusterArgs
from components.ingress import IngressEntry
from components.registry import RegistrySettings
from components.registry.acr import AcrRegistry, AcrRegistryArgs, registry_name_base
from components.registry.external import registry_from_config
from config import AzureStack, StackSecrets
from stacks.target import Target

# The Azure cloud provider looks the loadBalancerIP up in this group (default: the node group).
LB_RESOURCE_GROUP = "service.beta.kubernetes.io/azure-load-balancer-resource-group"
# The successor of the deprecated Service.spec.loadBalancerIP on AKS; both carry the same IP.
LB_IPV4 = "service.beta.kubernetes.io/azure-load-balancer-ipv4"
# Where BinderHub's images live inside the registry: <acr>.azurecr.io/binder/<prefix>-<repo>.
ACR_PROJECT = "binder"


def azure_name(*parts: str, max_length: int = 54) -> str:
    """A name valid for a resource group, an AKS cluster and its DNS prefix."""
    name = re.sub(r"[^a-z0-9-]+", "-", "-".join(parts).lower()).strip("-")
    return name[:max_length].rstrip("-") or "binderhub"


def build(cfg: AzureStack, secrets: StackSecrets) -> Target:
    cluster_cfg = cfg.cluster
    project, stack = pulumi.get_project(), pulumi.get_stack()
    default_name = azure_name(project, stack)

    cluster = AksCluster(
        "cluster",
        AksClusterArgs(
            location=cluster_cfg.location,
            resource_group_name=cluster_cfg.resource_group or default_name,
            cluster_name=default_name,
            pools=NodePools.from_config(cluster_cfg),
            tier=cluster_cfg.tier,
            protect=cfg.protect,
            api_access_cidrs=tuple(cluster_cfg.api_access_cidrs),
            admin_group_object_ids=tuple(cluster_cfg.admin_group_object_ids),
            audit_log_retention_days=cluster_cfg.audit_log_retention_days,
        ),
    )

    registry: RegistrySettings
    if cfg.registry.type == "acr":
        registry = AcrRegistry(
            "registry",
            AcrRegistryArgs(
                resource_group_name=cluster.resource_group_name,
                location=cluster_cfg.location,
                kubelet_object_id=cluster.kubelet_object_id,
                name_base=registry_name_base(project, stack),
                prefix=cfg.registry.prefix,
                project=cfg.registry.project or ACR_PROJECT,
                protect=cfg.protect,
                expire_after_days=cfg.registry.expire_after_days,
                credential_lifetime_days=cfg.registry.credential_lifetime_days,
                credential_rotation=cfg.registry.credential_rotation,
            ),
        ).settings
    else:
        registry = registry_from_config(cfg.registry, secrets.registry_password)

    # Created with the resource group, long before the charts: the hosts are known up front,
    # and the address survives reinstalling the controller (DNS records stay right).
    ingress_ip = azure.network.PublicIPAddress(
        "ingress-ip",
        resource_group_name=cluster.resource_group_name,
        location=cluster_cfg.location,
        sku=azure.network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
        public_ip_allocation_method="Static",
        public_ip_address_version="IPv4",
        # The address the DNS records point at: binderhub:protect keeps it.
        opts=pulumi.ResourceOptions(protect=cfg.protect),
    )
    # The control plane's identity may manage this IP and nothing else of the group.
    network_role = cluster.allow_load_balancer_ip(ingress_ip)
    address = ingress_ip.ip_address.apply(_require_address)
    entry = IngressEntry(
        load_balancer_ip=address,
        service_annotations={LB_RESOURCE_GROUP: cluster.resource_group_name, LB_IPV4: address},
        # The cluster identity must be allowed to attach the IP before the Service asks for it.
        depends_on=[network_role],
    )
    return Target(cluster=cluster, registry=registry, ingress=entry)


def _require_address(address: str | None) -> str:
    if not address:
        raise RuntimeError("the static public IP for the ingress controller has no address")
    return address
