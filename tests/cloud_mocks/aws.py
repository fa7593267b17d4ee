"""Realistic AWS and pulumi-eks outputs.

`eks:index:Cluster` and `eks:index:ManagedNodeGroup` are remote components: under mocks the
plugin never runs, so their outputs (kubeconfig, OIDC provider, ...) are whatever we return
here, shaped as pulumi-eks returns them. A managed node group's `nodeGroup` output is a
reference to the `aws:eks/nodeGroup:NodeGroup` pulumi-eks creates inside the component: the
mock puts that resource where the engine would hold it, so the program reads it (its ASG) as
it would from the engine.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, settings

from harness import RunOptions, call_mock, fake_hex, resource_mock

ACCOUNT_ID = "123456789012"
OIDC_ID = "EXAMPLED539D4633E53DE1B71EXAMPLE"
ZONE_NAMES = ["us-east-1a", "us-east-1b", "us-east-1c"]


def region_of(args: Any) -> str:
    return "us-east-1"


@call_mock("aws:index/getCallerIdentity:getCallerIdentity")
def _caller_identity(args: pulumi_mocks.MockCallArgs, _: RunOptions) -> dict[str, Any]:
    return {
        "accountId": ACCOUNT_ID,
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/deployer",
        "userId": "AIDAEXAMPLEUSERID",
        "id": ACCOUNT_ID,
    }


@call_mock("aws:index/getAvailabilityZones:getAvailabilityZones")
def _zones(args: pulumi_mocks.MockCallArgs, _: RunOptions) -> dict[str, Any]:
    return {
        "names": ZONE_NAMES,
        "zoneIds": ["use1-az1", "use1-az2", "use1-az4"],
        "groupNames": ["us-east-1"],
        "id": "us-east-1",
        "state": "available",
    }


@call_mock("aws:index/getRegion:getRegion")
def _region(args: pulumi_mocks.MockCallArgs, _: RunOptions) -> dict[str, Any]:
    return {"name": "us-east-1", "region": "us-east-1", "id": "us-east-1", "endpoint": "ec2.us-east-1.amazonaws.com"}


@call_mock("aws:eks/getAddonVersion:getAddonVersion")
def _addon_version(args: pulumi_mocks.MockCallArgs, _: RunOptions) -> dict[str, Any]:
    # What EKS lists as the newest vpc-cni build for Kubernetes 1.33 (DescribeAddonVersions).
    versions = {"vpc-cni": "v1.20.4-eksbuild.2", "aws-ebs-csi-driver": "v1.50.1-eksbuild.1"}
    name = args.args["addonName"]
    return {
        "addonName": name,
        "kubernetesVersion": args.args["kubernetesVersion"],
        "mostRecent": args.args.get("mostRecent", False),
        "version": versions[name],
        "id": name,
    }


def _id(prefix: str, seed: str, length: int = 17) -> str:
    return f"{prefix}-{fake_hex(seed, length)}"


@resource_mock("aws:ec2/vpc:Vpc")
def _vpc(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    return {"id": _id("vpc", args.name), "arn": f"arn:aws:ec2:us-east-1:{ACCOUNT_ID}:vpc/{_id('vpc', args.name)}"}


@resource_mock("aws:ec2/subnet:Subnet")
def _subnet(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    return {"arn": f"arn:aws:ec2:us-east-1:{ACCOUNT_ID}:subnet/{args.name}"}


@resource_mock("aws:ec2/eip:Eip")
def _eip(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    # Deterministic public addresses from the documentation range 198.51.100.0/24.
    octet = int(fake_hex(args.name, 2), 16) % 250 + 1
    return {
        "allocationId": _id("eipalloc", args.name),
        "publicIp": f"198.51.100.{octet}",
        "publicDns": f"ec2-198-51-100-{octet}.compute-1.amazonaws.com",
        "domain": "vpc",
    }


@resource_mock("aws:iam/role:Role")
def _role(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    name = f"{args.name}-{fake_hex(args.name, 7)}"
    return {
        "name": name,
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{name}",
        "uniqueId": "AROAEXAMPLE" + fake_hex(args.name, 10).upper(),
    }


@resource_mock("aws:iam/rolePolicy:RolePolicy")
def _role_policy(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    return {"name": f"{args.name}-{fake_hex(args.name, 7)}"}


@resource_mock("aws:cloudwatch/logGroup:LogGroup")
def _log_group(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    name = args.inputs["name"]
    return {
        "id": name,
        "arn": f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:{name}",
        "logGroupClass": "STANDARD",
        "skipDestroy": False,
    }


@resource_mock("aws:eks/addon:Addon")
def _addon(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    return {"addonVersion": "v1.45.0-eksbuild.1", "arn": f"arn:aws:eks:us-east-1:{ACCOUNT_ID}:addon/x/{args.name}"}


def kubeconfig(cluster: str, endpoint: str) -> dict[str, Any]:
    """What pulumi-eks returns: exec auth through `aws eks get-token`, no static credential."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "kubernetes", "cluster": {"server": endpoint, "certificate-authority-data": "TEST-EKS-CA"}}
        ],
        "contexts": [{"name": "aws", "context": {"cluster": "kubernetes", "user": "aws"}}],
        "current-context": "aws",
        "users": [
            {
                "name": "aws",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": "aws",
                        "args": ["eks", "get-token", "--cluster-name", cluster, "--output", "json"],
                    }
                },
            }
        ],
    }


@resource_mock("eks:index:Cluster")
def _eks_cluster(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    name = args.inputs.get("name") or f"{args.name}-eksCluster-{fake_hex(args.name, 7)}"
    endpoint = f"https://{OIDC_ID}.gr7.us-east-1.eks.amazonaws.com"
    issuer = f"oidc.eks.us-east-1.amazonaws.com/id/{OIDC_ID}"
    config = kubeconfig(name, endpoint)
    return {
        "kubeconfig": config,
        "kubeconfigJson": json.dumps(config),
        "oidcProviderArn": f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{issuer}",
        "oidcProviderUrl": f"https://{issuer}",
        "oidcIssuer": issuer,
        "clusterSecurityGroupId": _id("sg", args.name + "-cluster"),
        "nodeSecurityGroupId": _id("sg", args.name + "-node"),
        "clusterIngressRuleId": _id("sgrule", args.name),
        "defaultNodeGroupAsgName": "",
        "fargateProfileId": "",
        "fargateProfileStatus": "",
        "autoModeNodeRoleName": "",
    }


def autoscaling_group_name(node_group_name: str) -> str:
    """What EKS names a managed node group's ASG: `eks-<node group>-<uuid>`."""
    return f"eks-{node_group_name}-{uuid.UUID(fake_hex(node_group_name, 32))}"


def _child_reference(parent: pulumi_mocks.MockResourceArgs, type_: str, resource_id: str, state: dict[str, Any]) -> Any:
    """A resource a remote component creates inside itself: held by the monitor (as the engine
    holds it, for `pulumi:pulumi:getResource`) and returned as a resource reference."""
    urn = f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{parent.typ}${type_}::{parent.name}"
    monitor: Any = settings.get_monitor()
    monitor.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(urn, resource_id, state)
    return {rpc._special_sig_key: rpc._special_resource_sig, "urn": urn, "id": resource_id}


@resource_mock("eks:index:ManagedNodeGroup")
def _managed_node_group(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    # pulumi-eks auto-names the NodeGroup after the component (nodegroup.ts createManagedNodeGroup).
    name = args.inputs.get("nodeGroupName") or f"{args.name}-{fake_hex(args.name, 7)}"
    asgs = [{"name": autoscaling_group_name(name)}]
    node_group = {
        "nodeGroupName": name,
        "status": "ACTIVE",
        "resources": [{"autoscalingGroups": asgs, "remoteAccessSecurityGroupId": ""}],
        "labels": args.inputs.get("labels") or {},
        "taints": args.inputs.get("taints") or [],
        "scalingConfig": args.inputs.get("scalingConfig"),
    }
    reference = _child_reference(args, "aws:eks/nodeGroup:NodeGroup", name, node_group)
    return {"placementGroupName": "", "nodeGroup": reference}


@resource_mock("aws:ec2/launchTemplate:LaunchTemplate")
def _launch_template(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    template_id = _id("lt", args.name)
    return {
        "id": template_id,
        "arn": f"arn:aws:ec2:us-east-1:{ACCOUNT_ID}:launch-template/{template_id}",
        "name": f"{args.name}-{fake_hex(args.name, 7)}",
        "latestVersion": 1,
        "defaultVersion": 1,
    }


@resource_mock("aws:autoscaling/tag:Tag")
def _asg_tag(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    tag = args.inputs["tag"]
    return {"id": f"{args.inputs['autoscalingGroupName']},{tag['key']}"}
