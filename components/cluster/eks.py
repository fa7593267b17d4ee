"""EksCluster: an EKS cluster (pulumi-eks) in its own VPC, with a core and a user node group.

Network: one VPC over two availability zones; public subnets hold the load balancer and the
NAT gateway, private subnets hold the nodes (no public IPs on nodes). One NAT gateway keeps
the bill small; a zone outage then cuts egress for nodes in the other zone (acceptable for a
teaching BinderHub, documented in docs/aws.md).

Scaling: the user group is tainted `hub.jupyter.org/dedicated=user:NoSchedule` and labelled
`hub.jupyter.org/node-purpose=user` (the core group `core`), so only user servers and builds
land on it. `userMinNodes`/`userMaxNodes` are the bounds of its Auto Scaling Group, within which
the Kubernetes cluster-autoscaler (components/cluster_autoscaler.py, installed here on this
cluster's providers) resizes it; its ASG carries the auto-discovery and node-template tags the
autoscaler needs to find it and to scale it up from zero. `ignore_scaling_changes` keeps Pulumi
from resetting the size the autoscaler chose.

Network policy: the VPC CNI add-on runs with `enableNetworkPolicy`, so its node agent enforces
the charts' NetworkPolicies (without it EKS ignores them).

VPC CNI identity: the add-on's `aws-node` pods get AmazonEKS_CNI_Policy (create and attach
network interfaces, assign addresses) through their own IRSA role; the node role does not carry
it, so no other hostNetwork pod or node process inherits it. The role trusts the cluster's
OIDC provider, which exists only with the cluster: pulumi-eks cannot take it for the add-on it
makes inside the cluster component, so the program makes the managed add-on itself (the one
pulumi-eks made moves to it by an alias, updated in place), after the role and before the node
groups, whose nodes become ready only once the CNI runs.

Control plane: its public endpoint answers only `cluster.apiAccessCidrs`; the private endpoint
is on, so nodes (and anything in the VPC) reach the API without leaving it. The API server,
audit and authenticator logs go to CloudWatch Logs, in a log group the program creates first
(`/aws/eks/<cluster>/cluster`, the name EKS writes to) with `cluster.auditLogRetentionDays`;
left to EKS it would be created with no expiry and outlive the stack.

Instance metadata: every node group has a launch template of ours requiring IMDSv2 with a hop
limit of 1: a token request from a pod's own network namespace takes a second hop and gets no
answer, so user and build pods cannot take the node role's credentials (hostNetwork pods such
as the VPC CNI still can). pulumi-eks's `enableIMDSv2` would set a hop limit of 2, which pods
reach. See docs/aws.md.
"""

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from components.cluster import NODE_PURPOSE_LABEL, USER_TAINT_KEY, USER_TAINT_VALUE, NodePools
from components.cluster_autoscaler import (
    CHART as AUTOSCALER_CHART,
)
from components.cluster_autoscaler import (
    NAMESPACE as AUTOSCALER_NAMESPACE,
)
from components.cluster_autoscaler import (
    SERVICE_ACCOUNT as AUTOSCALER_SERVICE_ACCOUNT,
)
from components.cluster_autoscaler import (
    ClusterAutoscaler,
    ClusterAutoscalerArgs,
    user_group_tags,
)
from versions import StackCharts

# The EBS CSI driver's controller service account (managed add-on defaults).
EBS_CSI_NAMESPACE = "kube-system"
EBS_CSI_SERVICE_ACCOUNT = "ebs-csi-controller-sa"
# Default StorageClass for the hub database: EKS no longer makes gp2 the default, and the
# in-tree EBS provisioner is gone, so volumes need the CSI driver and a class of our own.
STORAGE_CLASS = "gp3"
VPC_CIDR = "10.0.0.0/16"
ZONES = 2  # EKS needs subnets in two zones; each zone adds a subnet pair and an Elastic IP.
# Control-plane log types sent to CloudWatch: API server requests, the Kubernetes audit log,
# and IAM authentication (who, as which IAM principal, got in). controllerManager and scheduler
# logs say nothing about access and only add volume.
CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator")
# The VPC CNI's DaemonSet and service account (managed add-on `vpc-cni`).
VPC_CNI_NAMESPACE = "kube-system"
VPC_CNI_SERVICE_ACCOUNT = "aws-node"
# A pod template annotation naming the CNI's role: a new role restarts the CNI's pods, which
# then take the role's credentials (IRSA is injected into pods when they start).
VPC_CNI_ROLE_ANNOTATION = "binderhub/vpc-cni-role"
# IMDSv2 only (a session token first), and the token's reply dies after one network hop.
METADATA_OPTIONS = {
    "http_endpoint": "enabled",
    "http_tokens": "required",
    "http_put_response_hop_limit": 1,
    "instance_metadata_tags": "disabled",
}


def partition(region: str) -> str:
    """The ARN partition of a region (aws, aws-us-gov, aws-cn, aws-iso...)."""
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-isob-"):
        return "aws-iso-b"
    if region.startswith("us-iso-"):
        return "aws-iso"
    return "aws"


def managed_policy(region: str, name: str) -> str:
    return f"arn:{partition(region)}:iam::aws:policy/{name}"


def control_plane_log_group(cluster_name: str) -> str:
    """The CloudWatch log group EKS writes control-plane logs to (fixed by EKS)."""
    return f"/aws/eks/{cluster_name}/cluster"


def irsa_trust_policy(
    oidc_provider_arn: pulumi.Input[str], oidc_issuer: pulumi.Input[str], namespace: str, service_account: str
) -> pulumi.Output[str]:
    """A role trust policy that only the named Kubernetes service account can assume (IRSA)."""

    def document(args: list[str]) -> str:
        arn, issuer = args
        return json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Federated": arn},
                        "Action": "sts:AssumeRoleWithWebIdentity",
                        "Condition": {
                            "StringEquals": {
                                f"{issuer}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                                f"{issuer}:aud": "sts.amazonaws.com",
                            }
                        },
                    }
                ],
            }
        )

    return pulumi.Output.all(oidc_provider_arn, oidc_issuer).apply(document)


def is_graviton(instance_type: str) -> bool:
    """m7g.large, c6gn.xlarge, t4g.medium... run arm64 and need the arm64 AMI."""
    family = instance_type.split(".", 1)[0]
    generation = family.lstrip("abcdefghijklmnopqrstuvwxyz")
    return len(generation) > 1 and generation[0].isdigit() and "g" in generation[1:]


def ami_type(instance_type: str) -> str:
    return "AL2023_ARM_64_STANDARD" if is_graviton(instance_type) else "AL2023_x86_64_STANDARD"


@dataclass(frozen=True)
class EksClusterArgs:
    cluster_name: str
    region: str
    pools: NodePools
    charts: StackCharts  # the autoscaler's is looked up in it (binderhub:charts, binderhub:helmValues)
    protect: bool = False  # the EKS control plane (and what hangs off it)
    # IPv4 CIDR blocks allowed to reach the public API endpoint (cluster.apiAccessCidrs).
    api_access_cidrs: Sequence[str] = ("0.0.0.0/0",)
    # Days CloudWatch keeps the control-plane logs (cluster.auditLogRetentionDays).
    audit_log_retention_days: int = 90


class EksCluster(pulumi.ComponentResource):
    provider: k8s.Provider
    context: str | None
    kubeconfig: pulumi.Output[str]
    name: pulumi.Output[str]
    cluster_name: str
    aws_provider: aws.Provider
    oidc_provider_arn: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]  # without https://
    node_role: aws.iam.Role
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]
    storage_class: str
    storage_depends_on: list[pulumi.Resource]

    def __init__(self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("binderhub:cluster:EksCluster", name, None, opts)
        self.cluster_name = args.cluster_name
        # Region comes from binderhub:cluster.region, not the ambient AWS config: explicit provider.
        self.aws_provider = aws.Provider(f"{name}-aws", region=args.region, opts=pulumi.ResourceOptions(parent=self))
        on_aws = pulumi.ResourceOptions(parent=self, provider=self.aws_provider)
        self._network(name, args, on_aws)

        self.node_role = aws.iam.Role(
            f"{name}-node-role",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
                    ],
                }
            ),
            opts=on_aws,
        )
        # Pull-only ECR access lets nodes pull built images (and EKS add-on images) with their
        # own identity: no image pull secret for user pods. The CNI's policy is on its own role.
        node_policies = ["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly"]
        attachments = [
            aws.iam.RolePolicyAttachment(
                f"{name}-node-{policy}",
                role=self.node_role.name,
                policy_arn=managed_policy(args.region, policy),
                opts=on_aws,
            )
            for policy in node_policies
        ]

        # Before the cluster: EKS starts writing as soon as logging is on.
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-control-plane-logs",
            name=control_plane_log_group(args.cluster_name),
            retention_in_days=args.audit_log_retention_days,
            opts=on_aws,
        )
        self.log_group = log_group

        self.cluster = eks.Cluster(
            f"{name}-eks",
            name=args.cluster_name,
            version=args.pools.kubernetes_version,
            vpc_id=self.vpc.id,
            public_subnet_ids=self.public_subnet_ids,
            private_subnet_ids=self.private_subnet_ids,
            node_associate_public_ip_address=False,
            # Access entries (API) rather than the aws-auth ConfigMap: EKS maps node roles itself.
            authentication_mode=eks.AuthenticationMode.API,
            skip_default_node_group=True,
            create_oidc_provider=True,  # IRSA for the CNI, the registry helper, the EBS CSI driver, the autoscaler
            # The program makes the vpc-cni add-on (_vpc_cni): its IRSA role needs this cluster's OIDC provider.
            use_default_vpc_cni=True,
            # The public endpoint for operators and CI, the private one for nodes (the API is
            # reached from the VPC without the NAT gateway, whatever apiAccessCidrs says).
            endpoint_public_access=True,
            public_access_cidrs=list(args.api_access_cidrs),
            endpoint_private_access=True,
            enabled_cluster_log_types=list(CONTROL_PLANE_LOG_TYPES),
            opts=pulumi.ResourceOptions(
                parent=self,
                providers={"aws": self.aws_provider},
                protect=args.protect,
                depends_on=[*attachments, log_group],
            ),
        )
        self.name = pulumi.Output.from_input(args.cluster_name)
        self.oidc_provider_arn = self.cluster.oidc_provider_arn
        self.oidc_issuer = self.cluster.oidc_issuer
        self.kubeconfig = pulumi.Output.secret(self.cluster.kubeconfig_json)

        vpc_cni = self._vpc_cni(name, args, on_aws)
        # Nodes become ready once the CNI runs on them, with its own credentials.
        on_eks = pulumi.ResourceOptions(parent=self, providers={"aws": self.aws_provider}, depends_on=[vpc_cni])
        core = eks.ManagedNodeGroup(
            f"{name}-core",
            cluster=self.cluster,
            node_role=self.node_role,
            subnet_ids=self.private_subnet_ids,
            instance_types=[args.pools.node_size],
            ami_type=ami_type(args.pools.node_size),
            # With a launch template pulumi-eks no longer pins the group to the cluster's version.
            version=args.pools.kubernetes_version,
            launch_template=self._launch_template(name, "core", on_aws),
            labels={NODE_PURPOSE_LABEL: "core"},
            scaling_config={
                "min_size": args.pools.node_count,
                "desired_size": args.pools.node_count,
                "max_size": args.pools.node_count,
            },
            opts=on_eks,
        )
        user = eks.ManagedNodeGroup(
            f"{name}-user",
            cluster=self.cluster,
            node_role=self.node_role,
            subnet_ids=self.private_subnet_ids,
            instance_types=[args.pools.user_node_size],
            ami_type=ami_type(args.pools.user_node_size),
            version=args.pools.kubernetes_version,
            launch_template=self._launch_template(name, "user", on_aws),
            labels={NODE_PURPOSE_LABEL: "user"},
            # Only pods that tolerate it (z2jh's user pods, BinderHub's build pods) run here.
            taints=[aws.eks.NodeGroupTaintArgs(key=USER_TAINT_KEY, value=USER_TAINT_VALUE, effect="NO_SCHEDULE")],
            scaling_config={
                "min_size": args.pools.user_min_nodes,
                "desired_size": args.pools.user_min_nodes,
                "max_size": args.pools.user_max_nodes,
            },
            # Keep whatever size the autoscaler (or someone by hand) scaled the group to.
            ignore_scaling_changes=True,
            opts=on_eks,
        )
        self.node_groups = [core, user]
        self._tag_user_group(name, args, user, on_aws)

        storage = self._ebs_csi(name, args, on_aws, core)

        # Every Kubernetes resource goes through this provider; it waits for nodes and volumes,
        # so charts that wait for their pods never race the node groups.
        self.context = None
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            enable_server_side_apply=True,
            # Replaced (with every object through it) only when this changes, not when the API
            # endpoint or CA does (a CA rotation); plain config, known at preview. No
            # delete_unreachable: scripts/up.py sets it for a destroy once EKS says the cluster is gone.
            cluster_identifier=f"aws:{args.region}/{args.cluster_name}",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[core, user, storage]),
        )
        self._restart_vpc_cni(name, vpc_cni)
        self.autoscaler = ClusterAutoscaler(
            f"{name}-autoscaler",
            ClusterAutoscalerArgs(
                chart=args.charts.ref(AUTOSCALER_CHART),
                cluster_name=args.cluster_name,
                region=args.region,
                partition=partition(args.region),
                kubernetes_version=args.pools.kubernetes_version,
                assume_role_policy=irsa_trust_policy(
                    self.oidc_provider_arn, self.oidc_issuer, AUTOSCALER_NAMESPACE, AUTOSCALER_SERVICE_ACCOUNT
                ),
                # Its pod runs on a core node: the release waits for the node groups.
                depends_on=tuple(self.node_groups),
            ),
            opts=pulumi.ResourceOptions(parent=self, providers={"aws": self.aws_provider, "kubernetes": self.provider}),
        )
        self.storage_class = STORAGE_CLASS
        self.storage_depends_on = [
            k8s.storage.v1.StorageClass(
                f"{name}-gp3",
                metadata={
                    "name": STORAGE_CLASS,
                    "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
                },
                provisioner="ebs.csi.aws.com",
                parameters={"type": "gp3", "encrypted": "true"},
                # Volumes are created in the zone of the pod that needs them.
                volume_binding_mode="WaitForFirstConsumer",
                reclaim_policy="Delete",
                allow_volume_expansion=True,
                opts=pulumi.ResourceOptions(parent=self, provider=self.provider),
            )
        ]
        self.register_outputs(
            {
                "name": self.name,
                "kubeconfig": self.kubeconfig,
                "oidc_provider_arn": self.oidc_provider_arn,
                "oidc_issuer": self.oidc_issuer,
            }
        )

    def _network(self, name: str, args: EksClusterArgs, on_aws: pulumi.ResourceOptions) -> None:
        zones = aws.get_availability_zones_output(
            state="available", opts=pulumi.InvokeOptions(provider=self.aws_provider)
        )
        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=VPC_CIDR,
            enable_dns_hostnames=True,  # EKS private endpoint and nodes need DNS hostnames
            enable_dns_support=True,
            tags={"Name": f"{args.cluster_name}-vpc"},
            opts=on_aws,
        )
        gateway = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=self.vpc.id, opts=on_aws)
        public_routes = aws.ec2.RouteTable(
            f"{name}-public-rt",
            vpc_id=self.vpc.id,
            routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": gateway.id}],
            opts=on_aws,
        )
        cluster_tag = {f"kubernetes.io/cluster/{args.cluster_name}": "shared"}
        public: list[aws.ec2.Subnet] = []
        private: list[aws.ec2.Subnet] = []
        for i in range(ZONES):
            zone = zones.names.apply(lambda names, i=i: _zone(names, i))
            public.append(
                aws.ec2.Subnet(
                    f"{name}-public-{i}",
                    vpc_id=self.vpc.id,
                    availability_zone=zone,
                    cidr_block=f"10.0.{i * 32}.0/20",
                    map_public_ip_on_launch=False,  # only the NAT gateway and the NLB are public
                    tags={**cluster_tag, "kubernetes.io/role/elb": "1", "Name": f"{args.cluster_name}-public-{i}"},
                    opts=on_aws,
                )
            )
            private.append(
                aws.ec2.Subnet(
                    f"{name}-private-{i}",
                    vpc_id=self.vpc.id,
                    availability_zone=zone,
                    cidr_block=f"10.0.{128 + i * 32}.0/19",  # nodes and pods (VPC CNI): the bigger range
                    tags={
                        **cluster_tag,
                        "kubernetes.io/role/internal-elb": "1",
                        "Name": f"{args.cluster_name}-private-{i}",
                    },
                    opts=on_aws,
                )
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-rta-{i}", subnet_id=public[i].id, route_table_id=public_routes.id, opts=on_aws
            )
        nat_ip = aws.ec2.Eip(f"{name}-nat-ip", domain="vpc", opts=on_aws)
        nat = aws.ec2.NatGateway(
            f"{name}-nat",
            allocation_id=nat_ip.allocation_id,
            subnet_id=public[0].id,
            opts=pulumi.ResourceOptions.merge(on_aws, pulumi.ResourceOptions(depends_on=[gateway])),
        )
        private_routes = aws.ec2.RouteTable(
            f"{name}-private-rt",
            vpc_id=self.vpc.id,
            routes=[{"cidr_block": "0.0.0.0/0", "nat_gateway_id": nat.id}],
            opts=on_aws,
        )
        for i, subnet in enumerate(private):
            aws.ec2.RouteTableAssociation(
                f"{name}-private-rta-{i}", subnet_id=subnet.id, route_table_id=private_routes.id, opts=on_aws
            )
        self.public_subnet_ids = [s.id for s in public]
        self.private_subnet_ids = [s.id for s in private]
        self.internet_gateway = gateway

    def _launch_template(
        self, name: str, purpose: str, on_aws: pulumi.ResourceOptions
    ) -> aws.eks.NodeGroupLaunchTemplateArgs:
        """A launch template holding only the metadata options: EKS fills in the AMI (from the
        group's amiType and version), user data and security groups as for its own template."""
        template = aws.ec2.LaunchTemplate(
            f"{name}-{purpose}-nodes",
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(**METADATA_OPTIONS),
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(
                    resource_type="instance", tags={"Name": f"{self.cluster_name}-{purpose}"}
                )
            ],
            opts=on_aws,
        )
        # A changed template is a new version: EKS rolls the group's nodes onto it.
        return aws.eks.NodeGroupLaunchTemplateArgs(
            id=template.id, version=template.latest_version.apply(lambda version: str(version))
        )

    def _tag_user_group(
        self, name: str, args: EksClusterArgs, user: eks.ManagedNodeGroup, on_aws: pulumi.ResourceOptions
    ) -> None:
        """The user group's ASG tags for the autoscaler (components/cluster_autoscaler.py).

        EKS does not copy a managed node group's tags to its ASG, so each tag is its own
        resource on the ASG EKS created for the group.
        """
        asg_name = user.node_group.apply(_autoscaling_group_name)
        for key, value in user_group_tags(args.cluster_name).items():
            # Named by the tag's key: adding or reordering tags keeps the others' resources.
            slug = re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")
            aws.autoscaling.Tag(
                f"{name}-user-asg-tag-{slug}",
                autoscaling_group_name=asg_name,
                tag=aws.autoscaling.TagTagArgs(key=key, value=value, propagate_at_launch=False),
                opts=on_aws,
            )

    def _vpc_cni(self, name: str, args: EksClusterArgs, on_aws: pulumi.ResourceOptions) -> aws.eks.Addon:
        """The vpc-cni managed add-on, with AmazonEKS_CNI_Policy on an IRSA role of its own."""
        # The attachment was the node role's (`<name>-node-AmazonEKS_CNI_Policy`). The alias
        # makes the move a replacement: the new attachment is made first, the node role's is
        # deleted at the end of the update, once the CNI's pods run with their own role.
        self.vpc_cni_role, attachment = self._irsa_role(
            f"{name}-vpc-cni",
            args.region,
            VPC_CNI_NAMESPACE,
            VPC_CNI_SERVICE_ACCOUNT,
            "AmazonEKS_CNI_Policy",
            on_aws,
            aliases=[pulumi.Alias(name=f"{name}-node-AmazonEKS_CNI_Policy")],
        )
        # pulumi-eks's add-on, which the cluster component made before `use_default_vpc_cni`:
        # this resource takes it over (same add-on, updated in place, never deleted).
        eks_made = (
            f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::binderhub:cluster:EksCluster"
            f"$eks:index:Cluster$eks:index:VpcCniAddon$aws:eks/addon:Addon::{name}-eks-vpc-cni"
        )
        # The newest add-on version for the pinned minor version, as pulumi-eks chose it; with no
        # version pinned, EKS's default for the cluster (kept as it is on an existing add-on).
        version = (
            aws.eks.get_addon_version_output(
                addon_name="vpc-cni",
                kubernetes_version=args.pools.kubernetes_version,
                most_recent=True,
                opts=pulumi.InvokeOptions(provider=self.aws_provider),
            ).version
            if args.pools.kubernetes_version
            else None
        )
        return aws.eks.Addon(
            f"{name}-vpc-cni",
            cluster_name=self.name,
            addon_name="vpc-cni",
            addon_version=version,
            service_account_role_arn=self.vpc_cni_role.arn,
            # The network policy agent: NetworkPolicies are enforced (EKS ignores them otherwise).
            configuration_values=json.dumps({"enableNetworkPolicy": "true"}),
            # EKS installed a self-managed CNI with the cluster: the add-on adopts it.
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            # Deleting the add-on leaves the CNI running (nodes keep their network until they go).
            preserve=True,
            opts=pulumi.ResourceOptions.merge(
                on_aws,
                pulumi.ResourceOptions(depends_on=[self.cluster, attachment], aliases=[eks_made]),
            ),
        )

    def _irsa_role(
        self,
        name: str,
        region: str,
        namespace: str,
        service_account: str,
        policy: str,
        on_aws: pulumi.ResourceOptions,
        aliases: Sequence[pulumi.Alias] = (),
    ) -> tuple[aws.iam.Role, aws.iam.RolePolicyAttachment]:
        """A role only `namespace/service_account` can assume (IRSA), with one AWS managed
        `policy` (a name under arn:<partition>:iam::aws:policy/); both resources named `name`."""
        role = aws.iam.Role(
            name,
            assume_role_policy=irsa_trust_policy(self.oidc_provider_arn, self.oidc_issuer, namespace, service_account),
            opts=on_aws,
        )
        attachment = aws.iam.RolePolicyAttachment(
            name,
            role=role.name,
            policy_arn=managed_policy(region, policy),
            opts=pulumi.ResourceOptions.merge(on_aws, pulumi.ResourceOptions(aliases=list(aliases))),
        )
        return role, attachment

    def _restart_vpc_cni(self, name: str, vpc_cni: aws.eks.Addon) -> None:
        """Restart the CNI's pods whenever its role changes (on an existing cluster, when the
        CNI moves from the node role to its own): IRSA reaches a pod only when it starts."""
        k8s.apps.v1.DaemonSetPatch(
            f"{name}-vpc-cni-role",
            metadata={
                "name": "aws-node",
                "namespace": VPC_CNI_NAMESPACE,
                # The add-on (EKS) manages the rest of the DaemonSet; this only adds an annotation.
                "annotations": {"pulumi.com/patchForce": "true"},
            },
            spec={"template": {"metadata": {"annotations": {VPC_CNI_ROLE_ANNOTATION: self.vpc_cni_role.arn}}}},
            # Left on the DaemonSet on delete: removing it would only restart the pods again.
            opts=pulumi.ResourceOptions(
                parent=self, provider=self.provider, depends_on=[vpc_cni], retain_on_delete=True
            ),
        )

    def _ebs_csi(
        self, name: str, args: EksClusterArgs, on_aws: pulumi.ResourceOptions, core: eks.ManagedNodeGroup
    ) -> aws.eks.Addon:
        """The EBS CSI driver (managed add-on) with its own IRSA role: the hub database volume."""
        role, attachment = self._irsa_role(
            f"{name}-ebs-csi",
            args.region,
            EBS_CSI_NAMESPACE,
            EBS_CSI_SERVICE_ACCOUNT,
            "service-role/AmazonEBSCSIDriverPolicy",
            on_aws,
        )
        return aws.eks.Addon(
            f"{name}-ebs-csi",
            cluster_name=self.name,
            addon_name="aws-ebs-csi-driver",
            service_account_role_arn=role.arn,
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
            # The add-on's pods need nodes to become ACTIVE.
            opts=pulumi.ResourceOptions.merge(
                on_aws, pulumi.ResourceOptions(depends_on=[self.cluster, core, attachment])
            ),
        )


def _autoscaling_group_name(node_group: aws.eks.NodeGroup) -> pulumi.Output[str]:
    """The name of the one ASG EKS made for a managed node group."""

    def first(resources: Sequence[aws.eks.outputs.NodeGroupResource]) -> str:
        groups = [group.name for resource in resources for group in resource.autoscaling_groups or [] if group.name]
        if len(groups) != 1:
            raise pulumi.RunError(f"the managed node group reports {len(groups)} Auto Scaling groups, expected one")
        return groups[0]

    return node_group.resources.apply(first)


def _zone(names: Sequence[str], index: int) -> str:
    if len(names) < ZONES:
        raise pulumi.RunError(f"the region offers {len(names)} availability zone(s); EKS needs {ZONES}")
    return names[index]
