"""Target `gcp`: GKE + Artifact Registry (or Docker Hub / a custom registry) in one run.

An empty project with billing works: the APIs are enabled first, the cluster and registry
are created side by side, and a regional static IP fixes the public hosts before any hub
chart renders.
"""

import re

import pulumi
import pulumi_gcp as gcp

from components.cluster import NodePools
from components.cluster.gke import GkeCluster, GkeClusterArgs
from components.ingress import IngressEntry
from components.registry import RegistrySettings
from components.registry.artifact_registry import ArtifactRegistry, ArtifactRegistryArgs
from components.registry.external import registry_from_config
from config import GcpStack, StackSecrets
from stacks.target import Target

# cloudresourcemanager: project IAM bindings; iam: service accounts and keys; logging: the
# audit log bucket and sink.
CORE_APIS = (
    "compute.googleapis.com",
    "container.googleapis.com",
    "iam.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "logging.googleapis.com",
)
REGISTRY_API = "artifactregistry.googleapis.com"


def default_name(stack: str) -> str:
    """`binderhub-<stack>` as a GKE name: lowercase, digits and '-', at most 40 characters."""
    slug = re.sub(r"[^a-z0-9]+", "-", stack.lower()).strip("-") or "stack"
    return f"binderhub-{slug}"[:40].rstrip("-")


def enable_apis(project: str, services: list[str], provider: gcp.Provider) -> list[gcp.projects.Service]:
    # Left enabled on destroy: other workloads in the project may use them too.
    return [
        gcp.projects.Service(
            f"api-{service.split('.')[0]}",
            project=project,
            service=service,
            disable_on_destroy=False,
            opts=pulumi.ResourceOptions(provider=provider),
        )
        for service in services
    ]


def build(cfg: GcpStack, secrets: StackSecrets) -> Target:
    cluster_cfg = cfg.cluster
    project, region = cluster_cfg.project, cluster_cfg.region
    name = cluster_cfg.name or default_name(pulumi.get_stack())

    # Explicit project and region: no `gcp:project` stack config, no gcloud default needed.
    provider = gcp.Provider("gcp", project=project, region=region)
    on_gcp = pulumi.ResourceOptions(provider=provider)
    use_artifact_registry = cfg.registry.type == "artifact-registry"
    apis = enable_apis(project, [*CORE_APIS, *([REGISTRY_API] if use_artifact_registry else [])], provider)

    cluster = GkeCluster(
        "cluster",
        GkeClusterArgs(
            project=project,
            region=region,
            zone=cluster_cfg.zone,
            cluster_name=name,
            release_channel=cluster_cfg.release_channel,
            pools=NodePools.from_config(cluster_cfg),
            protect=cfg.protect,
            depends_on=apis,
            api_access_cidrs=tuple(cluster_cfg.api_access_cidrs),
            private_nodes=cfg.private_nodes,
            audit_log_retention_days=cluster_cfg.audit_log_retention_days,
        ),
        opts=pulumi.ResourceOptions(providers=[provider]),
    )

    registry: RegistrySettings
    if use_artifact_registry:
        # Not waiting for the cluster: only the node service account's email links them.
        registry = ArtifactRegistry(
            "registry",
            ArtifactRegistryArgs(
                project=project,
                region=region,
                repository_id=name,
                prefix=cfg.registry.prefix,
                reader_members=[cluster.node_service_account_member],
                expire_after_days=cfg.registry.expire_after_days,
                credential_lifetime_days=cfg.registry.credential_lifetime_days,
                credential_rotation=cfg.registry.credential_rotation,
                protect=cfg.protect,
                depends_on=apis,
            ),
            opts=pulumi.ResourceOptions(providers=[provider]),
        ).settings
    else:
        registry = registry_from_config(cfg.registry, secrets.registry_password)

    # Regional (not global): a LoadBalancer Service gets a regional network load balancer.
    address = gcp.compute.Address(
        "ingress-ip",
        project=project,
        region=region,
        name=f"{name}-ingress",
        address_type="EXTERNAL",
        network_tier="PREMIUM",
        description=f"Ingress controller of BinderHub {name}",
        # The address the DNS records point at: binderhub:protect keeps it.
        opts=pulumi.ResourceOptions.merge(on_gcp, pulumi.ResourceOptions(depends_on=apis, protect=cfg.protect)),
    )
    return Target(cluster=cluster, registry=registry, ingress=IngressEntry(load_balancer_ip=address.address))
