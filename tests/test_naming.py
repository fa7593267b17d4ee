"""Two stacks of one cloud in one account (subscription, project) share no cloud object's name.

A name two stacks share is a collision: the second `pulumi up` fails on an object that exists,
or worse, both stacks write to (and one's destroy deletes) the same object. Every cloud resource
type the program creates is classified here by how its physical name is made:

- NAMED: the program sets the name; the inputs that make up its identity are compared between
  two stacks deployed side by side (the committed stack file under two stack names);
- AUTO: Pulumi auto-names it (logical name plus a random suffix); the program must not set a name;
- UNNAMED: AWS gives it an id, no name (subnets, Elastic IPs, IAM bindings...);
- SHARED: one object for every stack by design (GCP's enabled APIs, never disabled on destroy);
- RANDOM: globally unique names built from a random suffix (ACR).

Objects inside the stack's own cluster (Kubernetes objects) are not cloud objects. A new
resource type fails `test_every_cloud_resource_type_is_classified` until it is classified.
Objects the program creates at run time (ECR repositories) are compared too.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

from harness import Program, ProgramRun, Registration, unwrap
from variants import VARIANTS

# Input keys that together make a resource's physical identity (joined with '/').
NAMED: dict[str, tuple[str, ...]] = {
    "eks:index:Cluster": ("name",),
    "aws:eks/addon:Addon": ("clusterName", "addonName"),
    "azure-native:resources:ResourceGroup": ("resourceGroupName",),
    "azure-native:containerservice:ManagedCluster": ("resourceGroupName", "resourceName"),
    "azure-native:containerservice:AgentPool": ("resourceGroupName", "resourceName", "agentPoolName"),
    "azuread:index/application:Application": ("displayName",),
    "gcp:container/cluster:Cluster": ("name",),
    "gcp:container/nodePool:NodePool": ("cluster", "name"),
    "gcp:compute/address:Address": ("name",),
    "gcp:artifactregistry/repository:Repository": ("repositoryId",),
    "gcp:serviceaccount/account:Account": ("accountId",),
    # The group EKS writes the cluster's control-plane logs to: /aws/eks/<cluster>/cluster.
    "aws:cloudwatch/logGroup:LogGroup": ("name",),
    "gcp:logging/projectBucketConfig:ProjectBucketConfig": ("project", "location", "bucketId"),
    "gcp:logging/projectSink:ProjectSink": ("project", "name"),
    # Only with private nodes (not in Pulumi.gcp.yaml): named after the cluster, per region.
    "gcp:compute/router:Router": ("project", "region", "name"),
    "gcp:compute/routerNat:RouterNat": ("project", "region", "router", "name"),
    # Named inside its registry, whose name is random (RANDOM below).
    "azure-native:containerregistry:Task": ("registryName", "taskName"),
    # Named on the stack's own cluster (its resource URI).
    "azure-native:monitor:DiagnosticSetting": ("resourceUri", "name"),
    # A custom role's name is unique in the tenant (its GUID is generated).
    "azure-native:authorization:RoleDefinition": ("roleName",),
}
# Inputs that would set the physical name of an auto-named type.
AUTO: dict[str, tuple[str, ...]] = {
    "aws:iam/role:Role": ("name", "namePrefix"),
    "aws:iam/rolePolicy:RolePolicy": ("name", "namePrefix"),
    "eks:index:ManagedNodeGroup": ("nodeGroupName", "nodeGroupNamePrefix"),
    "aws:ec2/launchTemplate:LaunchTemplate": ("name", "namePrefix"),
    "azure-native:network:PublicIPAddress": ("publicIpAddressName",),
    "azure-native:authorization:RoleAssignment": ("roleAssignmentName",),
    "azure-native:operationalinsights:Workspace": ("workspaceName",),
}
UNNAMED = {
    "aws:ec2/vpc:Vpc",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/routeTable:RouteTable",
    "aws:ec2/routeTableAssociation:RouteTableAssociation",
    "aws:ec2/eip:Eip",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:autoscaling/tag:Tag",  # a key on an ASG of the stack's own node group
    "azuread:index/servicePrincipal:ServicePrincipal",
    "azuread:index/applicationPassword:ApplicationPassword",
    "gcp:projects/iAMMember:IAMMember",
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember",
    "gcp:serviceaccount/key:Key",
}
SHARED = {"gcp:projects/service:Service"}
RANDOM = {"azure-native:containerregistry:Registry": "registryName"}
NOT_CLOUD = ("kubernetes:", "random:", "pulumi:providers:", "binderhub:")

# Each managed cloud's committed stack file (registry.prefix left at its default on AWS, as a
# new stack would have it), deployed as two stacks side by side; on GCP also two long stack
# names that agree in their first 15 characters (service account ids hold 30).
PAIRS: dict[str, tuple[str, dict[str, Any], tuple[str, str]]] = {
    "aws": ("aws", {"registry": {"type": "ecr"}}, ("aws", "aws-staging")),
    "azure": ("prod", {}, ("prod", "prod-staging")),
    "gcp": ("gcp", {}, ("gcp", "gcp-staging")),
    "gcp-long-names": ("gcp", {}, ("teaching-europe-1", "teaching-europe-2")),
}


@functools.cache
def side_by_side(pair: str) -> tuple[ProgramRun, ProgramRun]:
    variant_name, overrides, stacks = PAIRS[pair]
    variant = VARIANTS[variant_name]
    runs = []
    for stack in stacks:
        run = Program({**variant.config, **overrides}, variant.secret_values, stack=stack).run()
        assert run.error is None, f"{pair} stack {stack}: {run.error!r}"
        runs.append(run)
    return runs[0], runs[1]


def cloud_resources(run: ProgramRun) -> list[Registration]:
    return [r for r in run.registrations if r.custom and not r.type.startswith(NOT_CLOUD)] + [
        r
        for r in run.registrations
        if r.type.startswith("eks:index:")  # remote components
    ]


def physical_names(run: ProgramRun) -> dict[str, str]:
    """Each cloud object's physical identity -> the resource (type and logical name) it belongs to."""
    names: dict[str, str] = {}
    for reg in cloud_resources(run):
        keys = NAMED.get(reg.type)
        if keys is None:
            continue
        inputs = unwrap(reg.inputs)
        missing = [k for k in keys if k not in inputs]
        assert not missing, f"{reg.type} {reg.name}: no {missing} input"
        names[f"{reg.type}:" + "/".join(str(inputs[k]) for k in keys)] = f"{reg.type} {reg.name}"
    names.update(run_time_names(run))
    return names


def run_time_names(run: ProgramRun) -> dict[str, str]:
    """Names of what the program's registry creates later, outside Pulumi (ECR repositories)."""
    names: dict[str, str] = {}
    for job in run.of_type("kubernetes:batch/v1:CronJob"):
        container = job.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
        env = {e["name"]: e["value"] for e in container["env"]}
        if "NAMESPACE" in env:
            names[f"ecr-repository-namespace:{env['NAMESPACE']}/"] = "ECR repositories"
            names[f"ecr-claim-tag:{env['CLAIM_TAG']}"] = "ECR repository claim tag"
    if run.of_type("binderhub:registry:EcrRegistry"):
        path = str(run.outputs["image_prefix"].value).split("/", 1)[1]
        names[f"ecr-repository-namespace:{path.rsplit('/', 1)[0]}/"] = "ECR image names"
    return names


@pytest.mark.parametrize("pair", PAIRS)
def test_every_cloud_resource_type_is_classified(pair: str) -> None:
    for run in side_by_side(pair):
        known = set(NAMED) | set(AUTO) | UNNAMED | SHARED | set(RANDOM)
        unknown = sorted({r.type for r in cloud_resources(run)} - known)
        assert not unknown, f"classify how these are named (tests/test_naming.py): {unknown}"


@pytest.mark.parametrize("pair", PAIRS)
def test_two_stacks_share_no_cloud_object_name(pair: str) -> None:
    first, second = (physical_names(run) for run in side_by_side(pair))
    assert first and second
    shared = sorted(set(first) & set(second))
    assert not shared, f"both stacks name these the same: {[(n, first[n]) for n in shared]}"


@pytest.mark.parametrize("pair", PAIRS)
def test_auto_named_objects_get_no_name_from_the_program(pair: str) -> None:
    for run in side_by_side(pair):
        for reg in cloud_resources(run):
            set_names = [k for k in AUTO.get(reg.type, ()) if reg.inputs.get(k)]
            assert not set_names, f"{reg.type} {reg.name} sets {set_names}: give it a per-stack name (NAMED)"


def test_globally_unique_names_carry_a_random_suffix_of_their_own() -> None:
    for run in side_by_side("azure"):
        for token, key in RANDOM.items():
            for reg in run.of_type(token):
                name = str(unwrap(reg.inputs[key]))
                suffixes = [
                    str(unwrap(r.outputs["result"]))
                    for r in run.of_type("random:index/randomString:RandomString")
                    if r.parent == reg.parent and int(r.inputs["length"]) >= 8
                ]
                assert any(name.endswith(s) and len(name) > len(s) for s in suffixes), name


def test_objects_stacks_share_by_design_survive_either_destroy() -> None:
    # A project's APIs: one stack's destroy must not switch them off under the other.
    for run in side_by_side("gcp"):
        services = [r for r in cloud_resources(run) if r.type in SHARED]
        assert services
        assert all(r.inputs["disableOnDestroy"] is False for r in services), [r.name for r in services]


def test_a_stack_keeps_the_service_accounts_it_has() -> None:
    # Ids of long names gained a hash: a stack made before keeps its accounts (a new id would
    # replace the account and, for the nodes' account, the node pools).
    for run in side_by_side("gcp-long-names"):
        for account in run.of_type("gcp:serviceaccount/account:Account"):
            assert "accountId" in account.ignore_changes, account.name
