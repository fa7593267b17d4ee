"""GkeCluster: a GKE Standard cluster with a core pool and an autoscaling user pool.

Nodes run as a dedicated service account with only the roles nodes need (logs, metrics;
the registry grants its own pull role), and Workload Identity is on so pods never see
node credentials through the metadata server (`GKE_METADATA` on every pool).

NetworkPolicies are enforced by GKE Dataplane V2 (`ADVANCED_DATAPATH`, Cilium-based): the
charts' policies (e.g. user and build pods' egress) take effect without a network policy
add-on. Dataplane V2 is chosen at cluster creation only: turning it on for an existing cluster
replaces the cluster (docs/gcp.md).

Control plane: its endpoint stays public (the program and operators reach it from outside
Google Cloud), but it answers only the master authorized networks, `cluster.apiAccessCidrs`;
nodes reach it over Google's private network whatever the list says.

Private nodes (`GcpStack.private_nodes`: cluster.privateNodes, default binderhub:protect): the
pools' nodes get no external addresses (node-pool `network_config.enable_private_nodes`) and
reach the internet (image registries, GitHub, PyPI for builds) through Cloud NAT, a Cloud Router
and a NAT gateway in the cluster's network and region. On an existing cluster this is an
in-place update of each pool (GKE recreates its nodes one by one, surge upgrade style); the
cluster-level `private_cluster_config`, which the program leaves alone, is the field that was
once fixed at creation. Turning it off again makes the nodes public before the NAT goes.

Audit trail: Kubernetes API audit logs (Admin Activity, always on) land in the project's
_Required bucket for 400 days; a sink copies this cluster's into a log bucket of this stack's
kept `cluster.auditLogRetentionDays` (docs/gcp.md: what it costs).

Scaling: the user pool is tainted (`hub.jupyter.org_dedicated=user:NoSchedule`, GKE's spelling
of z2jh's key) and labelled `hub.jupyter.org/node-purpose=user`, so only user servers and builds
land there; the cluster autoscaler runs with the OPTIMIZE_UTILIZATION profile (it removes
empty user nodes sooner than the balanced default) within `userMinNodes`..`userMaxNodes`.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s

from components.cluster import GKE_USER_TAINT_KEY, NODE_PURPOSE_LABEL, USER_TAINT_VALUE, NodePools

# What GKE documents as the minimum for a node service account (no Editor, no storage access).
NODE_ROLES = (
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
)
# Access is decided by IAM roles, not by the legacy per-VM scopes.
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
# Dataplane V2: eBPF networking that enforces NetworkPolicy (no Calico add-on).
DATAPATH_PROVIDER = "ADVANCED_DATAPATH"
# Scale down empty nodes sooner than the BALANCED default: user nodes cost most, and a node
# with a user server on it is never drained (its pod has no controller to restart it).
AUTOSCALING_PROFILE = "OPTIMIZE_UTILIZATION"
# GKE spreads a regional cluster's pools over three zones unless told otherwise.
REGIONAL_ZONES = 3
AUTH_PLUGIN = "gke-gcloud-auth-plugin"
# Cloud NAT ports per node: dynamic allocation from 64 up to 4096, so a node whose builds open
# many connections (pip, conda, git) takes more without a fixed reservation for every node.
NAT_MIN_PORTS_PER_VM = 64
NAT_MAX_PORTS_PER_VM = 4096


@dataclass(frozen=True)
class GkeClusterArgs:
    project: str
    region: str
    cluster_name: str
    # GKE reads pools.kubernetes_version as the minimum control plane version, node_count per
    # zone, and the user pool's bounds for the whole pool (all zones).
    pools: NodePools
    zone: str | None = None  # set: zonal cluster; None: regional
    release_channel: str = "REGULAR"
    protect: bool = False
    # Resources to wait for (the project's enabled APIs).
    depends_on: Sequence[pulumi.Resource] = ()
    # IPv4 CIDR blocks allowed to reach the control plane (cluster.apiAccessCidrs).
    api_access_cidrs: Sequence[str] = ("0.0.0.0/0",)
    # Nodes without external addresses, egress through Cloud NAT (GcpStack.private_nodes).
    private_nodes: bool = False
    # Days this stack's log bucket keeps the cluster's audit logs (cluster.auditLogRetentionDays).
    audit_log_retention_days: int = 90


def audit_log_filter(project: str, location: str, cluster_name: str) -> str:
    """A Cloud Logging filter for one cluster's audit logs: its Kubernetes API (`k8s_cluster`)
    and the GKE API's changes to it (`gke_cluster`), Admin Activity and any Data Access."""
    return (
        'logName:"cloudaudit.googleapis.com" AND '
        '(resource.type="k8s_cluster" OR resource.type="gke_cluster") AND '
        f'resource.labels.project_id="{project}" AND '
        f'resource.labels.location="{location}" AND '
        f'resource.labels.cluster_name="{cluster_name}"'
    )


# Service account ids: 6-30 characters.
_ACCOUNT_ID_LENGTH = 30


def account_id(base: str, suffix: str) -> str:
    """A service account id (6-30 chars, lowercase, no trailing '-') from a name and a role.

    `<base>-<suffix>` when it fits. Otherwise the base is cut and a hash of the whole base is
    added: GKE names of two stacks that agree in their first 25 characters (e.g. `binderhub-`
    plus `teaching-europe-1` and `teaching-europe-2`) still get different accounts.
    """
    full = f"{base}-{suffix}"
    if len(full) <= _ACCOUNT_ID_LENGTH:
        return full
    digest = hashlib.sha256(base.encode()).hexdigest()[:6]
    kept = base[: _ACCOUNT_ID_LENGTH - len(suffix) - len(digest) - 2].rstrip("-")
    return f"{kept}-{digest}-{suffix}"


# A stack whose account id was made before the hash (cut only) keeps its account: changing the
# id replaces the account, and with the nodes' account the node pools.
KEEP_ACCOUNT_ID = ["accountId"]


def gke_kubeconfig(context: str, endpoint: str, ca_certificate: str) -> str:
    """A kubeconfig that authenticates through gcloud's plugin (no static credentials in it)."""
    return f"""apiVersion: v1
kind: Config
clusters:
- name: {context}
  cluster:
    server: https://{endpoint}
    certificate-authority-data: {ca_certificate}
contexts:
- name: {context}
  context:
    cluster: {context}
    user: {context}
current-context: {context}
users:
- name: {context}
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: {AUTH_PLUGIN}
      installHint: "Install it with: gcloud components install {AUTH_PLUGIN}"
      provideClusterInfo: true
      interactiveMode: Never
"""


class GkeCluster(pulumi.ComponentResource):
    provider: k8s.Provider
    context: str | None
    kubeconfig: pulumi.Output[str]  # secret
    name: pulumi.Output[str]
    project: str
    region: str
    location: str  # zone (zonal) or region (regional)
    node_service_account_email: pulumi.Output[str]
    node_service_account_member: pulumi.Output[str]  # "serviceAccount:<email>", for IAM bindings
    cluster: gcp.container.Cluster

    def __init__(self, name: str, args: GkeClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("binderhub:cluster:GkeCluster", name, None, opts)
        self.project = args.project
        self.region = args.region
        self.location = args.zone or args.region
        child = pulumi.ResourceOptions(parent=self)
        after_apis = pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on))

        node_sa = gcp.serviceaccount.Account(
            f"{name}-nodes",
            project=args.project,
            account_id=account_id(args.cluster_name, "nodes"),
            display_name=f"GKE nodes of {args.cluster_name}",
            opts=pulumi.ResourceOptions.merge(after_apis, pulumi.ResourceOptions(ignore_changes=KEEP_ACCOUNT_ID)),
        )
        self.node_service_account_email = node_sa.email
        self.node_service_account_member = node_sa.email.apply(lambda email: f"serviceAccount:{email}")
        role_bindings = [
            gcp.projects.IAMMember(
                f"{name}-nodes-{role.split('/')[-1].replace('.', '-').lower()}",
                project=args.project,
                role=role,
                member=self.node_service_account_member,
                opts=child,
            )
            for role in NODE_ROLES
        ]

        # Also for the transient default pool: the project's default compute account may be disabled.
        base_node_config = gcp.container.ClusterNodeConfigArgs(
            service_account=node_sa.email, oauth_scopes=[CLOUD_PLATFORM_SCOPE]
        )
        self.cluster = gcp.container.Cluster(
            name,
            project=args.project,
            name=args.cluster_name,
            location=self.location,
            # Pools are managed separately, so changing one never recreates the cluster.
            remove_default_node_pool=True,
            initial_node_count=1,
            node_config=base_node_config,
            release_channel={"channel": args.release_channel},
            min_master_version=args.pools.kubernetes_version,
            workload_identity_config={"workload_pool": f"{args.project}.svc.id.goog"},
            networking_mode="VPC_NATIVE",
            ip_allocation_policy={},
            datapath_provider=DATAPATH_PROVIDER,
            # Node auto-provisioning stays off: the autoscaler only resizes the user pool.
            cluster_autoscaling=gcp.container.ClusterClusterAutoscalingArgs(
                enabled=False, autoscaling_profile=AUTOSCALING_PROFILE
            ),
            # The public endpoint answers these blocks only (and not every Google Cloud address).
            master_authorized_networks_config=gcp.container.ClusterMasterAuthorizedNetworksConfigArgs(
                cidr_blocks=[
                    gcp.container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgs(
                        cidr_block=cidr, display_name=f"binderhub:cluster.apiAccessCidrs[{index}]"
                    )
                    for index, cidr in enumerate(args.api_access_cidrs)
                ],
                gcp_public_cidrs_access_enabled=False,
            ),
            # The provider defaults this to true, which would make `pulumi destroy` fail.
            deletion_protection=args.protect,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=list(args.depends_on),
                protect=args.protect,
                # Only the transient default pool used it; a change must not recreate the cluster.
                ignore_changes=["nodeConfig"],
            ),
        )

        def node_config(
            machine_type: str, purpose: str, taints: Sequence[gcp.container.NodePoolNodeConfigTaintArgs] = ()
        ) -> gcp.container.NodePoolNodeConfigArgs:
            return gcp.container.NodePoolNodeConfigArgs(
                machine_type=machine_type,
                image_type="COS_CONTAINERD",
                service_account=node_sa.email,
                oauth_scopes=[CLOUD_PLATFORM_SCOPE],
                labels={NODE_PURPOSE_LABEL: purpose},
                taints=list(taints) or None,
                # Pods get their own (Workload Identity) credentials, never the node's.
                workload_metadata_config=gcp.container.NodePoolNodeConfigWorkloadMetadataConfigArgs(
                    mode="GKE_METADATA"
                ),
                shielded_instance_config=gcp.container.NodePoolNodeConfigShieldedInstanceConfigArgs(
                    enable_secure_boot=True, enable_integrity_monitoring=True
                ),
            )

        management = gcp.container.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True)
        # Set either way: turning it off again must make the nodes public (unset keeps what is).
        network_config = gcp.container.NodePoolNetworkConfigArgs(enable_private_nodes=args.private_nodes)
        egress = self._cloud_nat(name, args) if args.private_nodes else []
        self._audit_trail(name, args)
        # Nodes must be able to write logs before they report ready, and private ones need NAT
        # to pull their images.
        pool_opts = pulumi.ResourceOptions(parent=self, depends_on=[*role_bindings, *egress])
        core_pool = gcp.container.NodePool(
            f"{name}-core",
            project=args.project,
            cluster=self.cluster.name,
            location=self.location,
            name="core",
            node_count=args.pools.node_count,
            node_config=node_config(args.pools.node_size, "core"),
            network_config=network_config,
            management=management,
            opts=pool_opts,
        )
        # Per zone at creation; totals bound the whole pool whether zonal or regional.
        zones = 1 if args.zone else REGIONAL_ZONES
        user_pool = gcp.container.NodePool(
            f"{name}-user",
            project=args.project,
            cluster=self.cluster.name,
            location=self.location,
            name="user",
            initial_node_count=-(-args.pools.user_min_nodes // zones),
            autoscaling=gcp.container.NodePoolAutoscalingArgs(
                total_min_node_count=args.pools.user_min_nodes,
                total_max_node_count=args.pools.user_max_nodes,
                location_policy="ANY",
            ),
            # Only pods that tolerate it (z2jh's user pods, BinderHub's build pods) run here.
            node_config=node_config(
                args.pools.user_node_size,
                "user",
                [
                    gcp.container.NodePoolNodeConfigTaintArgs(
                        key=GKE_USER_TAINT_KEY, value=USER_TAINT_VALUE, effect="NO_SCHEDULE"
                    )
                ],
            ),
            network_config=network_config,
            management=management,
            # A new userMinNodes changes the bounds in place; the initial count would replace the pool.
            opts=pulumi.ResourceOptions.merge(pool_opts, pulumi.ResourceOptions(ignore_changes=["initialNodeCount"])),
        )

        self.name = self.cluster.name
        context = f"gke_{args.project}_{self.location}_{args.cluster_name}"
        ca_certificate = self.cluster.master_auth.apply(lambda auth: auth.cluster_ca_certificate or "")
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(self.cluster.endpoint, ca_certificate).apply(
                lambda parts: gke_kubeconfig(context, parts[0], parts[1])
            )
        )
        self.context = None
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            # Replaced (with every object through it) only when this changes, not when the endpoint
            # or CA does (a GKE credential rotation); plain config, known at preview. No
            # delete_unreachable: scripts/up.py sets it for a destroy once GKE says the cluster is gone.
            cluster_identifier=f"gcp:{args.project}/{self.location}/{args.cluster_name}",
            # Charts go in once there are nodes to run them (the default pool is gone).
            opts=pulumi.ResourceOptions(parent=self, depends_on=[core_pool, user_pool]),
        )
        self.register_outputs(
            {
                "name": self.name,
                "kubeconfig": self.kubeconfig,
                "location": self.location,
                "node_service_account_email": self.node_service_account_email,
            }
        )

    def _cloud_nat(self, name: str, args: GkeClusterArgs) -> list[pulumi.Resource]:
        """Egress for nodes without external addresses: a Cloud Router and its NAT gateway in
        the cluster's network and region, for every subnet range (nodes and pods)."""
        child = pulumi.ResourceOptions(parent=self)
        router = gcp.compute.Router(
            f"{name}-router",
            project=args.project,
            region=args.region,
            name=f"{args.cluster_name}-nat",
            network=self.cluster.network,
            description=f"Cloud NAT for the private nodes of GKE cluster {args.cluster_name}",
            opts=child,
        )
        nat = gcp.compute.RouterNat(
            f"{name}-nat",
            project=args.project,
            region=args.region,
            router=router.name,
            name=f"{args.cluster_name}-nat",
            nat_ip_allocate_option="AUTO_ONLY",
            source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
            enable_dynamic_port_allocation=True,
            # Dynamic allocation requires it off.
            enable_endpoint_independent_mapping=False,
            min_ports_per_vm=NAT_MIN_PORTS_PER_VM,
            max_ports_per_vm=NAT_MAX_PORTS_PER_VM,
            # Failed translations only (port exhaustion shows here); full logs cost per entry.
            log_config=gcp.compute.RouterNatLogConfigArgs(enable=True, filter="ERRORS_ONLY"),
            opts=child,
        )
        return [router, nat]

    def _audit_trail(self, name: str, args: GkeClusterArgs) -> None:
        """A log bucket of this stack's keeping the cluster's audit logs for the configured days,
        and the sink that copies them there (the _Required bucket keeps its own 400-day copy)."""
        child = pulumi.ResourceOptions(parent=self)
        bucket = gcp.logging.ProjectBucketConfig(
            f"{name}-audit-logs",
            project=args.project,
            location="global",
            bucket_id=f"{args.cluster_name}-audit",
            retention_days=args.audit_log_retention_days,
            description=f"Audit logs of GKE cluster {args.cluster_name} (BinderHub)",
            opts=child,
        )
        # Same project: the sink's writer needs no grant on the bucket.
        gcp.logging.ProjectSink(
            f"{name}-audit-logs",
            project=args.project,
            name=f"{args.cluster_name}-audit",
            destination=pulumi.Output.concat("logging.googleapis.com/", bucket.id),
            filter=audit_log_filter(args.project, self.location, args.cluster_name),
            description=f"Audit logs of GKE cluster {args.cluster_name} into its own bucket",
            opts=child,
        )
