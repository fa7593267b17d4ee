"""Target `aws`: the whole program under mocks, for Pulumi.aws.yaml and its variants (variants.py).

What every stack keeps (schemas, outputs, secrets, the cluster's provider) is in test_invariants.py.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from cloud_mocks.aws import ACCOUNT_ID
from harness import Program, ProgramRun, Registration, engine_takeover, is_secret, run_stack, unwrap
from variants import AWS_DOCKERHUB, SECRET_VALUES, VARIANTS, deploy

HELPER_SA = "system:serviceaccount:binderhub-registry:binderhub-container-registry-helper"
PREFIX_ARN = f"arn:aws:ecr:us-east-1:{ACCOUNT_ID}:repository/binder/*"


def default_run() -> ProgramRun:
    return deploy("aws")


def policy(reg: Registration, key: str) -> dict[str, Any]:
    return json.loads(unwrap(reg.inputs[key]))


def secret_at(document: Any, *path: str) -> bool:
    """True when the value at `path` is inside a secret wrapper (at any level)."""
    for key in path:
        if is_secret(document):
            return True
        document = document[key]
    return is_secret(document)


def helper(run: ProgramRun) -> Registration:
    return run.chart("binderhub-container-registry-helper")


def binderhub_values(run: ProgramRun) -> dict[str, Any]:
    return run.chart("binderhub").inputs["values"]


# ----------------------------------------------------------------------------- stack file


def test_stack_file_deploys_in_one_run() -> None:
    run = default_run()
    eip = run.one("aws:ec2/eip:Eip", "ingress-ip-0").outputs["publicIp"]
    assert run.outputs["hub_url"].value == f"http://hub.{eip}.nip.io/"
    assert run.outputs["binder_url"].value == f"http://binder.{eip}.nip.io/"
    assert run.outputs["ingress_address"].value == eip
    assert run.outputs["image_prefix"].value == f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com/binder/binder-"
    assert run.outputs["cluster_name"].value == "binderhub-aws"
    hub = unwrap(binderhub_values(run))
    assert hub["config"]["BinderHub"]["hub_url"] == f"http://hub.{eip}.nip.io/"


def test_the_eks_provider_waits_for_the_nodes() -> None:
    # (every Kubernetes object is on it: test_invariants.py)
    run = default_run()
    provider = run.one("pulumi:providers:kubernetes")
    assert provider.name == "cluster-k8s"
    assert is_secret(provider.inputs["kubeconfig"])
    assert len([r for r in run.registrations if r.type.startswith("kubernetes:")]) >= 8
    # The provider waits for both node groups and the volume driver.
    for name in ("cluster-core", "cluster-user"):
        assert run.depends_on(provider, run.one("eks:index:ManagedNodeGroup", name))
    assert run.depends_on(provider, run.one("aws:eks/addon:Addon", "cluster-ebs-csi"))


def test_every_aws_resource_uses_the_regional_provider() -> None:
    run = default_run()
    aws_provider = run.one("pulumi:providers:aws")
    assert aws_provider.inputs["region"] == "us-east-1"
    aws = [r for r in run.registrations if r.type.startswith("aws:")]
    assert all(r.uses_provider(aws_provider.urn) for r in aws), [
        r.name for r in aws if not r.uses_provider(aws_provider.urn)
    ]
    for remote in run.of_type("eks:index:Cluster") + run.of_type("eks:index:ManagedNodeGroup"):
        assert remote.providers["aws"].startswith(aws_provider.urn)


# ----------------------------------------------------------------------------- cluster


def test_eks_cluster_network_oidc_and_version() -> None:
    run = default_run()
    cluster = run.one("eks:index:Cluster")
    assert cluster.remote
    inputs = cluster.inputs
    assert inputs["createOidcProvider"] is True
    assert inputs["skipDefaultNodeGroup"] is True
    assert inputs["version"] == "1.33"
    assert inputs["name"] == "binderhub-aws"
    public = [r for r in run.of_type("aws:ec2/subnet:Subnet") if "public" in r.name]
    private = [r for r in run.of_type("aws:ec2/subnet:Subnet") if "private" in r.name]
    assert len(public) == len(private) == 2
    assert {r.inputs["availabilityZone"] for r in public} == {"us-east-1a", "us-east-1b"}
    assert all(r.inputs["tags"]["kubernetes.io/role/elb"] == "1" for r in public)
    assert all(r.inputs["tags"]["kubernetes.io/role/internal-elb"] == "1" for r in private)
    assert len(inputs["publicSubnetIds"]) == 2 and len(inputs["privateSubnetIds"]) == 2
    # Private subnets reach the internet through the NAT gateway; nodes get no public IPs.
    private_rt = run.one("aws:ec2/routeTable:RouteTable", "cluster-private-rt")
    assert private_rt.inputs["routes"][0]["natGatewayId"]
    assert inputs["nodeAssociatePublicIpAddress"] is False


def test_node_groups_sizes_and_labels() -> None:
    run = default_run()
    core = run.one("eks:index:ManagedNodeGroup", "cluster-core").inputs
    user = run.one("eks:index:ManagedNodeGroup", "cluster-user").inputs
    assert core["instanceTypes"] == ["t3.large"]
    assert core["labels"] == {"hub.jupyter.org/node-purpose": "core"}
    assert core["scalingConfig"] == {"minSize": 2, "desiredSize": 2, "maxSize": 2}
    assert user["instanceTypes"] == ["m5.2xlarge"]
    assert user["labels"] == {"hub.jupyter.org/node-purpose": "user"}
    assert user["scalingConfig"] == {"minSize": 1, "desiredSize": 1, "maxSize": 3}
    assert user["ignoreScalingChanges"] is True
    assert core["amiType"] == user["amiType"] == "AL2023_x86_64_STANDARD"


def test_graviton_instances_get_the_arm_ami() -> None:
    run = deploy("aws-graviton")
    for name in ("cluster-core", "cluster-user"):
        assert run.one("eks:index:ManagedNodeGroup", name).inputs["amiType"] == "AL2023_ARM_64_STANDARD"


def test_nodes_pull_with_their_own_role() -> None:
    run = default_run()
    attached = {r.inputs["policyArn"] for r in run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")}
    assert "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly" in attached
    values = unwrap(binderhub_values(run))
    assert "imagePullSecret" not in values["jupyterhub"]


def test_hub_volume_uses_the_ebs_csi_default_class() -> None:
    run = default_run()
    addon = run.one("aws:eks/addon:Addon", "cluster-ebs-csi")
    assert addon.inputs["addonName"] == "aws-ebs-csi-driver"
    trust = policy(run.one("aws:iam/role:Role", "cluster-ebs-csi"), "assumeRolePolicy")
    subs = trust["Statement"][0]["Condition"]["StringEquals"]
    assert "system:serviceaccount:kube-system:ebs-csi-controller-sa" in subs.values()
    storage = run.one("kubernetes:storage.k8s.io/v1:StorageClass")
    assert storage.inputs["provisioner"] == "ebs.csi.aws.com"
    assert unwrap(binderhub_values(run))["jupyterhub"]["hub"]["db"]["pvc"]["storageClassName"] == "gp3"
    assert run.depends_on(run.chart("binderhub"), storage)


# ----------------------------------------------------------------------------- ingress


def test_nlb_on_elastic_ips_known_before_the_load_balancer() -> None:
    run = default_run()
    ips = sorted(run.of_type("aws:ec2/eip:Eip"), key=lambda r: r.name)
    ingress_ips = [r for r in ips if r.name.startswith("ingress-ip-")]
    assert len(ingress_ips) == 2
    public_ids = [r.outputs.get("id", f"{r.name}-id") for r in run.of_type("aws:ec2/subnet:Subnet")]
    service = unwrap(run.chart("nginx-ingress").inputs["values"])["controller"]["service"]
    annotations = service["annotations"]
    lb = "service.beta.kubernetes.io/aws-load-balancer-"
    assert annotations[f"{lb}type"] == "nlb"
    assert annotations[f"{lb}scheme"] == "internet-facing"
    assert annotations[f"{lb}eip-allocations"].split(",") == [r.outputs["allocationId"] for r in ingress_ips]
    subnets = annotations[f"{lb}subnets"].split(",")
    assert subnets == ["cluster-public-0-id", "cluster-public-1-id"] and set(subnets) <= set(public_ids)
    assert annotations[f"{lb}healthcheck-path"] == "/healthz"
    assert service["externalTrafficPolicy"] == "Local"
    # No lookup of the load balancer's hostname: the address is the first Elastic IP.
    assert not [r for r in run.registrations if r.read]


# ----------------------------------------------------------------------------- ECR


def test_helper_role_trusts_exactly_its_service_account() -> None:
    run = default_run()
    role = run.one("aws:iam/role:Role", "registry-helper")
    trust = policy(role, "assumeRolePolicy")
    (statement,) = trust["Statement"]
    issuer = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
    assert statement["Principal"] == {"Federated": f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{issuer}"}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {
        "StringEquals": {f"{issuer}:sub": HELPER_SA, f"{issuer}:aud": "sts.amazonaws.com"}
    }
    values = unwrap(helper(run).inputs["values"])
    namespace = helper(run).inputs["namespace"]
    assert f"system:serviceaccount:{namespace}:{values['serviceAccount']['name']}" == HELPER_SA
    assert values["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"] == role.outputs["arn"]


def test_ecr_policy_is_limited_to_the_prefix() -> None:
    run = default_run()
    document = policy(run.one("aws:iam/rolePolicy:RolePolicy", "registry-helper"), "policy")
    for statement in document["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all(a.startswith("ecr:") and "*" not in a for a in actions)
        if actions == ["ecr:GetAuthorizationToken"]:
            assert statement["Resource"] == "*"  # has no resource scope in IAM
        else:
            assert statement["Resource"] == PREFIX_ARN
            assert {"ecr:CreateRepository", "ecr:PutImage", "ecr:BatchGetImage", "ecr:DescribeImages"} <= set(actions)
            assert "ecr:PutLifecyclePolicy" in actions
            assert "ecr:DeleteRepository" not in actions
    # The lifecycle job changes only prefixed repositories too.
    lifecycle = policy(run.one("aws:iam/rolePolicy:RolePolicy", "registry-lifecycle"), "policy")
    writes = [s for s in lifecycle["Statement"] if s["Action"] != "ecr:DescribeRepositories"]
    assert writes and all(s["Resource"] == PREFIX_ARN for s in writes)
    lifecycle_trust = policy(run.one("aws:iam/role:Role", "registry-lifecycle"), "assumeRolePolicy")
    sub = next(v for k, v in lifecycle_trust["Statement"][0]["Condition"]["StringEquals"].items() if k.endswith(":sub"))
    assert sub == "system:serviceaccount:binderhub-registry:binderhub-ecr-lifecycle"


def test_images_expire_after_the_configured_days() -> None:
    run = deploy("aws-expire-7-days")
    job = run.one("kubernetes:batch/v1:CronJob")
    container = job.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"]}
    rule = json.loads(env["POLICY"])["rules"][0]
    assert rule["selection"]["countNumber"] == 7 and rule["action"] == {"type": "expire"}
    assert env["NAMESPACE"] == "binder"  # registry.prefix set: the namespace it has always been


def lifecycle_env(run: ProgramRun) -> dict[str, str]:
    job = run.one("kubernetes:batch/v1:CronJob")
    container = job.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e["value"] for e in container["env"]}


def ecr_namespace_seen_by(run: ProgramRun) -> set[str]:
    """The repository namespace as each part of the registry sees it: the image names BinderHub
    pushes, the helper's and the expiry job's IAM scope, the expiry job's listing."""
    host = f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com/"
    image_path = run.outputs["image_prefix"].value.removeprefix(host)
    seen = {image_path.rsplit("/", 1)[0], lifecycle_env(run)["NAMESPACE"]}
    arn = f"arn:aws:ecr:us-east-1:{ACCOUNT_ID}:repository/"
    for name in ("registry-helper", "registry-lifecycle"):
        for statement in policy(run.one("aws:iam/rolePolicy:RolePolicy", name), "policy")["Statement"]:
            if statement["Resource"] not in ("*", arn + "*"):
                seen.add(statement["Resource"].removeprefix(arn).removesuffix("/*"))
    return seen


def test_without_registry_prefix_each_stack_has_its_own_ecr_namespace() -> None:
    # Two stacks in one account and region, registry.prefix left at its default.
    config = {**VARIANTS["aws"].config, "registry": {"type": "ecr"}}
    runs = [Program(config, stack=stack).run() for stack in ("aws", "aws-staging")]
    namespaces = []
    for run in runs:
        assert run.error is None, repr(run.error)
        seen = ecr_namespace_seen_by(run)
        assert len(seen) == 1, f"the image names, IAM scope and expiry job disagree: {seen}"
        namespaces.append(seen.pop())
    assert namespaces[0] != namespaces[1]
    assert not namespaces[0].startswith(namespaces[1] + "/") and not namespaces[1].startswith(namespaces[0] + "/")
    # Images are still named after the (default) prefix.
    assert all(run.outputs["image_prefix"].value.endswith("/binder-") for run in runs)
    # Nobody else writes there: the delete hook may take unclaimed repositories too (test_teardown.py).
    assert [lifecycle_env(run)["CLAIM_TAG"] for run in runs] == [
        "binderhub-stack:binderhub/aws",
        "binderhub-stack:binderhub/aws-staging",
    ]


def test_an_explicit_registry_prefix_keeps_its_namespace_and_claims_per_stack() -> None:
    run = default_run()  # Pulumi.aws.yaml sets registry.prefix: binder
    assert ecr_namespace_seen_by(run) == {"binder"}
    assert lifecycle_env(run)["CLAIM_TAG"] == "binderhub-stack:binderhub/aws"
    # The job may tag (claim) repositories in the namespace, nothing else.
    statements = policy(run.one("aws:iam/rolePolicy:RolePolicy", "registry-lifecycle"), "policy")["Statement"]
    tagging = [s for s in statements if "ecr:TagResource" in s["Action"]]
    assert [s["Resource"] for s in tagging] == [PREFIX_ARN]


def test_binderhub_uses_the_helper_service_the_chart_creates() -> None:
    run = default_run()
    release = helper(run)
    values = unwrap(release.inputs["values"])
    assert release.inputs["chart"] == "binderhub-container-registry-helper"
    assert release.inputs["version"] == "0.2.4"
    config = unwrap(binderhub_values(run))["config"]
    assert config["BinderHub"]["registry_class"] == "binderhub.registry.ExternalRegistryHelper"
    assert config["BinderHub"]["use_registry"] is True
    url = config["ExternalRegistryHelper"]["service_url"]
    service = values["fullnameOverride"]  # the chart names its Service after the full name
    assert url == f"http://{service}.{release.inputs['namespace']}.svc:{int(values['service']['port'])}"
    # No static push credentials: build pods get short-lived ones from the helper.
    assert "registry" not in unwrap(binderhub_values(run))
    assert run.depends_on(run.chart("binderhub"), release)


def test_helper_and_hub_share_one_secret_token() -> None:
    # (never in plain text anywhere: test_invariants.py checks every generated credential)
    run = default_run()
    token = run.one("random:index/randomPassword:RandomPassword", "registry-helper-token").outputs["result"]
    assert secret_at(helper(run).inputs["values"], "auth_token")
    assert secret_at(binderhub_values(run), "config", "ExternalRegistryHelper", "auth_token")
    assert unwrap(binderhub_values(run))["config"]["ExternalRegistryHelper"]["auth_token"] == unwrap(token)


# ----------------------------------------------------------------------------- variants


def test_docker_hub_variant() -> None:
    run = deploy("aws-dockerhub")
    assert not run.of_type("binderhub:registry:EcrRegistry")
    assert not [r for r in run.registrations if r.inputs.get("name") == "binderhub-container-registry-helper"]
    assert run.outputs["image_prefix"].value == "docker.io/someone/binder-aws-"
    assert secret_at(binderhub_values(run), "registry", "password")
    assert unwrap(binderhub_values(run))["registry"]["password"] == SECRET_VALUES["registryPassword"]


def test_domain_variant_with_tls() -> None:
    run = deploy("aws-tls")
    assert run.outputs["binder_url"].value == "https://binder.binder.example.edu/"
    assert run.outputs["hub_url"].value == "https://hub.binder.example.edu/"
    # The CNAME/A records point at the Elastic IP.
    eip = run.one("aws:ec2/eip:Eip", "ingress-ip-0").outputs["publicIp"]
    assert run.outputs["ingress_address"].value == eip
    assert run.chart("cert-manager") is not None


def test_protect_marks_cluster_and_registry() -> None:
    # (nothing is protected without binderhub:protect: test_invariants.py)
    run = deploy("aws-protected")
    assert run.one("eks:index:Cluster").protect
    assert run.one("binderhub:registry:EcrRegistry").protect


# ----------------------------------------------------------------------------- config errors

CONFIG_ERRORS = [
    ({"cluster": {"region": "westeurope"}}, ["cluster.region", "'westeurope'", "us-east-1"]),
    ({"cluster": {"nodeSize": "Standard_D2s_v3"}}, ["cluster.nodeSize", "'Standard_D2s_v3'", "EC2 instance type"]),
    ({"cluster": {"userNodeSize": "m5"}}, ["cluster.userNodeSize", "'m5'"]),
    ({"cluster": {"nodeSize": "t3.micro"}}, ["nodeSize 't3.micro' is too small"]),
    ({"cluster": {"userNodeSize": "t3.small"}}, ["userNodeSize 't3.small' is too small"]),
    ({"cluster": {"kubernetesVersion": "1.33.2"}}, ["kubernetesVersion '1.33.2'", "major.minor", "'1.33'"]),
    ({"cluster": {"kubernetesVersion": "1.24"}}, ["kubernetesVersion '1.24'", "past EKS support"]),
    ({"cluster": {"userMinNodes": 4, "userMaxNodes": 2}}, ["userMinNodes (4)", "userMaxNodes (2)"]),
    ({"cluster": {"nodeCount": 0}}, ["cluster.nodeCount", "0"]),
    ({"cluster": {"location": "eastus"}}, ["unknown key(s) location", "region"]),
    ({"registry": {"type": "acr"}}, ["registry.type 'acr' needs cloud 'azure'", "'ecr'"]),
    ({"registry": {"type": "artifact-registry"}}, ["registry.type 'artifact-registry' needs cloud 'gcp'"]),
    ({"registry": {"type": "ecr", "expireAfterDays": 0}}, ["registry.expireAfterDays"]),
    ({"registry": {"type": "ecr", "prefix": "Binder"}}, ["registry.prefix", "'Binder'"]),
    ({"registry": {"type": "none"}}, ["registry.type 'none'", "single Docker Engine node", "'custom'"]),
    ({"registry": AWS_DOCKERHUB}, ["binderhub:registryPassword"]),
]


@pytest.mark.parametrize(("overrides", "expected"), CONFIG_ERRORS, ids=[json.dumps(o) for o, _ in CONFIG_ERRORS])
def test_config_errors_name_the_key_and_create_nothing(overrides: dict[str, Any], expected: list[str]) -> None:
    config = dict(overrides)
    if "cluster" in config:
        config["cluster"] = {"region": "us-east-1", **config["cluster"]}
    run = run_stack("aws", None, **config)
    assert run.error is not None, "expected a configuration error"
    message = str(run.error)
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"
    assert run.registrations == [], [r.name for r in run.registrations]


# ----------------------------------------------------------------------------- scaling, network policy, metadata

AUTOSCALER_SA = "system:serviceaccount:cluster-autoscaler:cluster-autoscaler"


def asg_tags(run: ProgramRun) -> dict[str, dict[str, str]]:
    """ASG name -> the tags the program puts on it."""
    tags: dict[str, dict[str, str]] = {}
    for reg in run.of_type("aws:autoscaling/tag:Tag"):
        inputs = unwrap(reg.inputs)
        assert inputs["tag"]["propagateAtLaunch"] is False, "the tags describe the group, not its instances"
        tags.setdefault(inputs["autoscalingGroupName"], {})[inputs["tag"]["key"]] = inputs["tag"]["value"]
    return tags


def test_the_user_group_is_tainted_and_the_core_group_is_not() -> None:
    run = default_run()
    user = run.one("eks:index:ManagedNodeGroup", "cluster-user").inputs
    core = run.one("eks:index:ManagedNodeGroup", "cluster-core").inputs
    assert user["taints"] == [{"key": "hub.jupyter.org/dedicated", "value": "user", "effect": "NO_SCHEDULE"}]
    assert "taints" not in core
    # With a launch template of ours, pulumi-eks no longer sets the version: the program does.
    assert user["version"] == core["version"] == "1.33"


def test_the_user_groups_asg_carries_discovery_and_node_template_tags() -> None:
    tagged = asg_tags(default_run())
    assert len(tagged) == 1, "only the user group's ASG is tagged"
    ((name, tags),) = tagged.items()
    # The ASG EKS made for the user node group (eks-<node group name>-<uuid>).
    assert name.startswith("eks-cluster-user-")
    assert tags == {
        "k8s.io/cluster-autoscaler/enabled": "true",
        "k8s.io/cluster-autoscaler/binderhub-aws": "owned",
        # Scaling up from zero: the autoscaler learns the nodes' label and taint from these.
        "k8s.io/cluster-autoscaler/node-template/label/hub.jupyter.org/node-purpose": "user",
        "k8s.io/cluster-autoscaler/node-template/taint/hub.jupyter.org/dedicated": "user:NoSchedule",
    }


def test_autoscaler_chart_is_pinned_and_finds_this_clusters_groups() -> None:
    run = default_run()
    release = run.chart("cluster-autoscaler")
    assert (release.inputs["chart"], release.inputs["version"]) == ("cluster-autoscaler", "9.59.0")
    assert release.inputs["repositoryOpts"]["repo"] == "https://kubernetes.github.io/autoscaler"
    assert release.inputs["namespace"] == "cluster-autoscaler"
    values = unwrap(release.inputs["values"])
    assert values["cloudProvider"] == "aws"
    assert values["autoDiscovery"]["clusterName"] == "binderhub-aws"
    # Pods get no instance metadata (hop limit 1): the region must be given.
    assert values["awsRegion"] == "us-east-1"
    # The autoscaler of the control plane's minor version; on the core nodes it never removes.
    assert values["image"]["tag"] == "v1.33.0"
    assert values["nodeSelector"] == {"hub.jupyter.org/node-purpose": "core"}
    # It starts once there are nodes and its IAM permissions exist.
    assert run.depends_on(release, run.one("eks:index:ManagedNodeGroup", "cluster-core"))
    assert run.depends_on(release, run.one("aws:iam/rolePolicy:RolePolicy", "cluster-autoscaler-policy"))


def test_autoscaler_role_trusts_exactly_its_service_account() -> None:
    run = default_run()
    role = run.one("aws:iam/role:Role", "cluster-autoscaler-role")
    (statement,) = policy(role, "assumeRolePolicy")["Statement"]
    issuer = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
    assert statement["Condition"] == {
        "StringEquals": {f"{issuer}:sub": AUTOSCALER_SA, f"{issuer}:aud": "sts.amazonaws.com"}
    }
    release = run.chart("cluster-autoscaler")
    account = unwrap(release.inputs["values"])["rbac"]["serviceAccount"]
    assert f"system:serviceaccount:{release.inputs['namespace']}:{account['name']}" == AUTOSCALER_SA
    assert account["annotations"] == {"eks.amazonaws.com/role-arn": role.outputs["arn"]}


def test_autoscaler_may_resize_only_this_clusters_groups() -> None:
    run = default_run()
    document = policy(run.one("aws:iam/rolePolicy:RolePolicy", "cluster-autoscaler-policy"), "policy")
    writes = {"autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"}
    seen: set[str] = set()
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = set(statement["Action"])
        assert not any("*" in action for action in actions)
        seen |= actions
        if actions & writes:
            assert actions == writes
            # Groups of this account and region, and of them only those this cluster owns.
            assert statement["Resource"] == (
                f"arn:aws:autoscaling:us-east-1:{ACCOUNT_ID}:autoScalingGroup:*:autoScalingGroupName/*"
            )
            assert statement["Condition"] == {
                "StringEquals": {"aws:ResourceTag/k8s.io/cluster-autoscaler/binderhub-aws": "owned"}
            }
        elif actions == {"eks:DescribeNodegroup"}:
            assert statement["Resource"] == f"arn:aws:eks:us-east-1:{ACCOUNT_ID}:nodegroup/binderhub-aws/*"
        else:
            # Reads IAM cannot scope to a resource.
            assert all(a.startswith(("autoscaling:Describe", "ec2:Describe", "ec2:GetInstanceTypes")) for a in actions)
            assert statement["Resource"] == "*"
    assert writes | {"eks:DescribeNodegroup", "autoscaling:DescribeAutoScalingGroups"} <= seen
    # The condition names a tag the user group's ASG really carries.
    (tags,) = asg_tags(run).values()
    assert tags["k8s.io/cluster-autoscaler/binderhub-aws"] == "owned"


def test_two_stacks_autoscalers_cannot_resize_each_others_groups() -> None:
    runs = [Program(VARIANTS["aws"].config, stack=stack).run() for stack in ("aws", "aws-staging")]
    conditions = []
    for run in runs:
        assert run.error is None, repr(run.error)
        document = policy(run.one("aws:iam/rolePolicy:RolePolicy", "cluster-autoscaler-policy"), "policy")
        (write,) = [s for s in document["Statement"] if "autoscaling:SetDesiredCapacity" in s["Action"]]
        conditions.append(write["Condition"]["StringEquals"])
        (tags,) = asg_tags(run).values()
        assert set(write["Condition"]["StringEquals"]) == {
            f"aws:ResourceTag/{k}" for k, v in tags.items() if v == "owned"
        }
    assert conditions[0] != conditions[1]


def test_vpc_cni_enforces_network_policies() -> None:
    run = default_run()
    addon = run.one("aws:eks/addon:Addon", "cluster-vpc-cni").inputs
    assert addon["addonName"] == "vpc-cni"
    # The add-on's schema takes the switch as a string (describe-addon-configuration).
    assert json.loads(addon["configurationValues"]) == {"enableNetworkPolicy": "true"}
    # pulumi-eks makes no second vpc-cni add-on beside it.
    assert run.one("eks:index:Cluster").inputs["useDefaultVpcCni"] is True


def test_node_groups_use_launch_templates_that_keep_pods_from_imds() -> None:
    run = default_run()
    templates = {r.name: r for r in run.of_type("aws:ec2/launchTemplate:LaunchTemplate")}
    assert sorted(templates) == ["cluster-core-nodes", "cluster-user-nodes"]
    for purpose in ("core", "user"):
        template = templates[f"cluster-{purpose}-nodes"]
        assert template.inputs["metadataOptions"] == {
            "httpEndpoint": "enabled",
            "httpTokens": "required",
            "httpPutResponseHopLimit": 1,
            "instanceMetadataTags": "disabled",
        }
        # EKS picks the AMI and user data: the template holds none (or the group could not set amiType).
        assert "imageId" not in template.inputs and "userData" not in template.inputs
        group = run.one("eks:index:ManagedNodeGroup", f"cluster-{purpose}")
        assert template.urn in group.dependencies
        assert group.inputs["launchTemplate"]["version"] == str(template.outputs["latestVersion"])
        # pulumi-eks would make a template of its own (with a hop limit of 2) for this.
        assert "enableIMDSv2" not in group.inputs


def test_the_autoscaler_chart_takes_the_stacks_version_and_values() -> None:
    config = {
        **VARIANTS["aws"].config,
        "charts": {"cluster-autoscaler": "9.58.0"},
        "helmValues": {"cluster-autoscaler": {"extraArgs": {"scale-down-delay-after-add": "20m"}}},
    }
    run = Program(config, stack="aws").run()
    assert run.error is None, repr(run.error)
    release = run.chart("cluster-autoscaler")
    assert release.inputs["version"] == "9.58.0"
    extra = unwrap(release.inputs["values"])["extraArgs"]
    assert extra["scale-down-delay-after-add"] == "20m" and extra["scale-down-unneeded-time"] == "5m"


@pytest.mark.parametrize(
    "overlay",
    [
        {"awsRegion": "eu-west-1"},
        {"autoDiscovery": {"clusterName": "someone-elses"}},
        {"rbac": {"serviceAccount": {"annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/admin"}}}},
    ],
)
def test_an_overlay_may_not_point_the_autoscaler_elsewhere(overlay: dict[str, Any]) -> None:
    run = Program({**VARIANTS["aws"].config, "helmValues": {"cluster-autoscaler": overlay}}, stack="aws").run()
    assert run.error is not None and run.registrations == []
    assert "binderhub:helmValues.cluster-autoscaler." in str(run.error)


# ----------------------------------------------------------------------------- hardening (issue #19)

CNI_POLICY = "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"


def aws_with(**cluster: Any) -> ProgramRun:
    """Pulumi.aws.yaml with some `binderhub:cluster` keys changed, deployed as stack `aws`."""
    config = {**VARIANTS["aws"].config}
    config["cluster"] = {**config["cluster"], **cluster}
    run = Program(config, stack="aws").run()
    assert run.error is None, repr(run.error)
    return run


def test_the_api_endpoint_is_public_to_the_default_cidr_and_private_for_nodes() -> None:
    cluster = default_run().one("eks:index:Cluster").inputs
    assert cluster["endpointPublicAccess"] is True
    assert cluster["publicAccessCidrs"] == ["0.0.0.0/0"]  # cluster.apiAccessCidrs' documented default
    # Nodes reach the API inside the VPC, whatever the public CIDRs allow.
    assert cluster["endpointPrivateAccess"] is True


def test_the_public_api_endpoint_answers_only_the_configured_cidrs() -> None:
    cidrs = ["203.0.113.0/24", "198.51.100.7/32"]
    cluster = aws_with(apiAccessCidrs=cidrs).one("eks:index:Cluster").inputs
    assert cluster["publicAccessCidrs"] == cidrs
    assert cluster["endpointPrivateAccess"] is True


def test_control_plane_audit_logs_go_to_a_log_group_made_first_with_the_retention() -> None:
    run = default_run()
    cluster = run.one("eks:index:Cluster")
    assert {"api", "audit", "authenticator"} <= set(cluster.inputs["enabledClusterLogTypes"])
    (group,) = run.of_type("aws:cloudwatch/logGroup:LogGroup")
    # The group EKS writes to for cluster binderhub-aws: made by the program, so it expires.
    assert group.inputs["name"] == "/aws/eks/binderhub-aws/cluster"
    assert group.inputs["retentionInDays"] == 90
    assert run.depends_on(cluster, group), "EKS would create the group itself (never expiring) first"
    # `pulumi destroy` deletes it with the cluster.
    assert not group.protect and "skipDestroy" not in group.inputs
    assert aws_with(auditLogRetentionDays=365).one("aws:cloudwatch/logGroup:LogGroup").inputs["retentionInDays"] == 365


def attachments_of(run: ProgramRun, role: Registration) -> set[str]:
    return {
        unwrap(r.inputs["policyArn"])
        for r in run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r.inputs["role"] == role.outputs["name"]
    }


def test_the_vpc_cni_has_its_own_irsa_role_and_the_node_role_lacks_its_policy() -> None:
    run = default_run()
    node_role = run.one("aws:iam/role:Role", "cluster-node-role")
    assert CNI_POLICY not in attachments_of(run, node_role)
    assert "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy" in attachments_of(run, node_role)
    (cni_role,) = [r for r in run.of_type("aws:iam/role:Role") if CNI_POLICY in attachments_of(run, r)]
    assert attachments_of(run, cni_role) == {CNI_POLICY}
    (statement,) = policy(cni_role, "assumeRolePolicy")["Statement"]
    issuer = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
    assert statement["Principal"] == {"Federated": f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{issuer}"}
    assert statement["Condition"] == {
        "StringEquals": {
            f"{issuer}:sub": "system:serviceaccount:kube-system:aws-node",
            f"{issuer}:aud": "sts.amazonaws.com",
        }
    }
    addon = run.one("aws:eks/addon:Addon", "cluster-vpc-cni")
    assert addon.inputs["serviceAccountRoleArn"] == cni_role.outputs["arn"]
    assert addon.inputs["clusterName"] == "binderhub-aws"
    # Deleting the add-on resource never takes the network away from running nodes.
    assert addon.inputs["preserve"] is True


def test_the_vpc_cni_is_ready_with_its_role_before_any_node_joins() -> None:
    run = default_run()
    addon = run.one("aws:eks/addon:Addon", "cluster-vpc-cni")
    (attachment,) = [
        r
        for r in run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if unwrap(r.inputs["policyArn"]) == CNI_POLICY
    ]
    assert run.depends_on(addon, attachment)
    assert run.depends_on(addon, run.one("eks:index:Cluster"))  # the role trusts the cluster's OIDC provider
    for group in run.of_type("eks:index:ManagedNodeGroup"):
        assert run.depends_on(group, addon), f"{group.name} may start nodes before the CNI has its role"


def test_an_existing_stack_moves_the_cni_policy_without_a_gap() -> None:
    """The state of a stack deployed before this change: pulumi-eks's add-on inside the cluster
    component, the CNI policy on the node role. Both are taken over, not deleted and remade."""
    run = default_run()
    component = "binderhub:cluster:EksCluster"
    old_addon = (
        f"urn:pulumi:aws::binderhub::{component}$eks:index:Cluster$eks:index:VpcCniAddon"
        "$aws:eks/addon:Addon::cluster-eks-vpc-cni"
    )
    old_attachment = (
        f"urn:pulumi:aws::binderhub::{component}$aws:iam/rolePolicyAttachment:RolePolicyAttachment"
        "::cluster-node-AmazonEKS_CNI_Policy"
    )
    takeover = engine_takeover(run.registrations, {old_addon, old_attachment})
    assert not takeover.conflicts
    addon = run.one("aws:eks/addon:Addon", "cluster-vpc-cni")
    assert takeover.taken.get(old_addon) == addon.engine_urn, "the live add-on would be created a second time"
    # The attachment on the node role is replaced by the CNI role's: the new one first, the old
    # one deleted at the end of the update.
    (attachment,) = [
        r
        for r in run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if unwrap(r.inputs["policyArn"]) == CNI_POLICY
    ]
    assert takeover.taken.get(old_attachment) == attachment.engine_urn
    # The CNI's pods restart to take their role (IRSA reaches a pod when it starts).
    patch = run.one("kubernetes:apps/v1:DaemonSetPatch")
    assert (patch.inputs["metadata"]["namespace"], patch.inputs["metadata"]["name"]) == ("kube-system", "aws-node")
    template = patch.inputs["spec"]["template"]["metadata"]["annotations"]
    assert list(template.values()) == [run.one("aws:iam/role:Role", "cluster-vpc-cni").outputs["arn"]]
    assert run.depends_on(patch, addon)
