"""ClusterAutoscaler: the Kubernetes cluster-autoscaler on EKS, with an IAM role of its own.

EKS has no autoscaler of its own for managed node groups (AKS and GKE do): this installs the
upstream chart (`cluster-autoscaler`, pinned in versions.py) and gives its service account an
IAM role (IRSA) that may resize and shrink only this cluster's Auto Scaling groups.

How the autoscaler finds and scales the user group (kubernetes/autoscaler
cluster-autoscaler/cloudprovider/aws/README.md):
- auto-discovery: ASGs tagged `k8s.io/cluster-autoscaler/enabled` and
  `k8s.io/cluster-autoscaler/<cluster>` (EKS puts both on a managed node group's ASG; EksCluster
  tags the user group's ASG itself too, so discovery does not rest on that);
- scaling up from zero: with no node to copy, the autoscaler builds a template node from the
  ASG's `k8s.io/cluster-autoscaler/node-template/label/...` and `.../taint/...` tags (and from
  `eks:DescribeNodegroup`); without the taint it would believe a pending user pod fits a node
  it cannot, or the reverse;
- its IAM policy: writes (SetDesiredCapacity, TerminateInstanceInAutoScalingGroup) only on ASGs
  of this account and region that carry `k8s.io/cluster-autoscaler/<cluster>=owned`, node group
  reads only for this cluster, and the Describe* calls IAM cannot scope (Resource "*").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.cluster import NODE_PURPOSE_LABEL, SCALE_DOWN_UNNEEDED_TIME, USER_TAINT_KEY, USER_TAINT_VALUE
from components.helm import release_in_own_namespace
from versions import ChartRef

CHART = "cluster-autoscaler"  # its name in versions.py
NAMESPACE = "cluster-autoscaler"
SERVICE_ACCOUNT = "cluster-autoscaler"
RELEASE = "cluster-autoscaler"
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"

TAG_PREFIX = "k8s.io/cluster-autoscaler/"
ENABLED_TAG = f"{TAG_PREFIX}enabled"
NODE_TEMPLATE_LABEL = f"{TAG_PREFIX}node-template/label/"
NODE_TEMPLATE_TAINT = f"{TAG_PREFIX}node-template/taint/"
# Like AKS's profile (components/cluster/aks.py): an empty user node goes after 5 minutes, not 10.

# What the autoscaler reads; IAM has no resource-level scope for these.
DESCRIBE_ACTIONS = (
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations",
    "autoscaling:DescribeScalingActivities",
    "autoscaling:DescribeTags",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:GetInstanceTypesFromInstanceRequirements",
)
SCALE_ACTIONS = ("autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup")


def cluster_tag(cluster_name: str) -> str:
    """`k8s.io/cluster-autoscaler/<cluster>`: the tag that marks an ASG as this cluster's."""
    return f"{TAG_PREFIX}{cluster_name}"


def user_group_tags(cluster_name: str) -> dict[str, str]:
    """The tags the user node group's ASG needs: auto-discovery, and the node template (labels
    and taints its nodes start with) that lets the autoscaler scale it up from zero nodes.

    A taint's tag value is `<value>:<effect>` (the autoscaler's AWS README).
    """
    return {
        ENABLED_TAG: "true",
        cluster_tag(cluster_name): "owned",
        f"{NODE_TEMPLATE_LABEL}{NODE_PURPOSE_LABEL}": "user",
        f"{NODE_TEMPLATE_TAINT}{USER_TAINT_KEY}": f"{USER_TAINT_VALUE}:NoSchedule",
    }


def iam_policy(cluster_name: str, partition: str, region: str, account_id: str) -> dict[str, Any]:
    """The autoscaler's IAM policy: it can resize only this cluster's groups (see the module doc)."""
    groups = f"arn:{partition}:autoscaling:{region}:{account_id}:autoScalingGroup:*:autoScalingGroupName/*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ResizeThisClustersGroups",
                "Effect": "Allow",
                "Action": list(SCALE_ACTIONS),
                "Resource": groups,
                "Condition": {"StringEquals": {f"aws:ResourceTag/{cluster_tag(cluster_name)}": "owned"}},
            },
            {
                "Sid": "ReadThisClustersNodeGroups",
                "Effect": "Allow",
                "Action": ["eks:DescribeNodegroup"],
                "Resource": f"arn:{partition}:eks:{region}:{account_id}:nodegroup/{cluster_name}/*",
            },
            {"Sid": "Describe", "Effect": "Allow", "Action": list(DESCRIBE_ACTIONS), "Resource": "*"},
        ],
    }


def image_tag(kubernetes_version: str | None) -> str | None:
    """The autoscaler release for the control plane's minor version (`1.33` -> `v1.33.0`).

    The autoscaler simulates the scheduler of its own Kubernetes minor version; upstream
    releases one per minor and recommends matching it. None (EKS's default version): the
    chart's own image.
    """
    if kubernetes_version is None:
        return None
    major, minor = kubernetes_version.split(".")[:2]
    return f"v{major}.{minor}.0"


def chart_values(
    cluster_name: str, region: str, role_arn: pulumi.Input[str], kubernetes_version: str | None
) -> dict[str, Any]:
    """The chart's values: AWS auto-discovery of this cluster's groups, the IRSA role, on core nodes."""
    values: dict[str, Any] = {
        "cloudProvider": "aws",
        # The pod reaches no instance metadata (hop limit 1): the region comes from here.
        "awsRegion": region,
        # The chart's default tags: `k8s.io/cluster-autoscaler/{enabled,<clusterName>}`.
        "autoDiscovery": {"clusterName": cluster_name},
        "rbac": {"serviceAccount": {"name": SERVICE_ACCOUNT, "annotations": {IRSA_ANNOTATION: role_arn}}},
        # Not on a user node it might remove.
        "nodeSelector": {NODE_PURPOSE_LABEL: "core"},
        "extraArgs": {"expander": "least-waste", "scale-down-unneeded-time": SCALE_DOWN_UNNEEDED_TIME},
        "resources": {"requests": {"cpu": "100m", "memory": "300Mi"}, "limits": {"memory": "600Mi"}},
    }
    tag = image_tag(kubernetes_version)
    if tag is not None:
        values["image"] = {"tag": tag}
    return values


@dataclass(frozen=True)
class ClusterAutoscalerArgs:
    chart: ChartRef  # versions.py "cluster-autoscaler"
    cluster_name: str
    region: str
    partition: str
    kubernetes_version: str | None
    # A role trust policy that only NAMESPACE/SERVICE_ACCOUNT can assume (eks.irsa_trust_policy).
    assume_role_policy: pulumi.Input[str]
    # Resources the release waits for (the node groups, so the pod has somewhere to run).
    depends_on: tuple[pulumi.Resource, ...] = ()


class ClusterAutoscaler(pulumi.ComponentResource):
    """The autoscaler's IAM role and policy (on the parent's AWS provider) and its Helm release
    (on the parent's Kubernetes provider), in its own namespace."""

    role: aws.iam.Role
    release: pulumi.Resource

    def __init__(self, name: str, args: ClusterAutoscalerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("binderhub:cluster:ClusterAutoscaler", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.role = aws.iam.Role(f"{name}-role", assume_role_policy=args.assume_role_policy, opts=child)
        account_id = aws.get_caller_identity_output(opts=pulumi.InvokeOptions(parent=self)).account_id
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.name,
            policy=account_id.apply(
                lambda account: json.dumps(iam_policy(args.cluster_name, args.partition, args.region, account))
            ),
            opts=child,
        )
        self.release = release_in_own_namespace(
            name,
            parent=self,
            chart=args.chart,
            release_name=RELEASE,
            namespace=NAMESPACE,
            values=chart_values(args.cluster_name, args.region, self.role.arn, args.kubernetes_version),
            # The pod starts with its permissions in place.
            depends_on=[policy, *args.depends_on],
        )
        self.register_outputs({"role_arn": self.role.arn})
