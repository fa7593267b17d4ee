"""Target `gcp`: the whole program under mocks for Pulumi.gcp.yaml and its variants (variants.py).

What every stack keeps (schemas, outputs, secrets, the cluster's provider) is in test_invariants.py.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

import pulumi
import pytest

from cloud_mocks.gcp import GKE_CA, GKE_ENDPOINT, INGRESS_IP
from components import rotation
from components.cluster.gke import NODE_PURPOSE_LABEL, NODE_ROLES
from components.registry.artifact_registry import ArtifactRegistry, ArtifactRegistryArgs
from config import ConfigError
from harness import (
    ROOT_DIR,
    Program,
    ProgramRun,
    Registration,
    is_secret,
    run_stack,
    stack_file_config,
    start_unit_runtime,
    unwrap,
)
from variants import SECRET_VALUES, cluster_of, deploy

STACK = "gcp"
PROJECT = "my-binderhub-project"
CLUSTER = "gcp:container/cluster:Cluster"
NODE_POOL = "gcp:container/nodePool:NodePool"
ACCOUNT = "gcp:serviceaccount/account:Account"
KEY = "gcp:serviceaccount/key:Key"
REPOSITORY = "gcp:artifactregistry/repository:Repository"
REPO_MEMBER = "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember"
PROJECT_MEMBER = "gcp:projects/iAMMember:IAMMember"
ADDRESS = "gcp:compute/address:Address"
API = "gcp:projects/service:Service"
K8S_PROVIDER = "pulumi:providers:kubernetes"
GCP_PROVIDER = "pulumi:providers:gcp"
HUB_RELEASE = "binderhub"
CONTROLLER_RELEASE = "nginx-ingress"


def gcp_cluster(**changes: Any) -> dict[str, Any]:
    """Pulumi.gcp.yaml's `binderhub:cluster` with some keys changed (None removes a key)."""
    return cluster_of(STACK, **changes)


@pytest.fixture
def run() -> ProgramRun:
    return deploy("gcp")


@pytest.fixture
def regional() -> ProgramRun:
    return deploy("gcp-regional")


@pytest.fixture
def dockerhub() -> ProgramRun:
    return deploy("gcp-dockerhub")


@pytest.fixture
def with_domain() -> ProgramRun:
    return deploy("gcp-tls-protected")


def pusher(run: ProgramRun) -> Registration:
    return run.one(ACCOUNT, "registry-pusher")


def node_account(run: ProgramRun) -> Registration:
    return run.one(ACCOUNT, "cluster-nodes")


def member(account: Registration) -> str:
    return f"serviceAccount:{account.outputs['email']}"


def hub_values(run: ProgramRun) -> dict[str, Any]:
    return unwrap(run.chart(HUB_RELEASE).inputs["values"])


def key_file(run: ProgramRun) -> str:
    # (a secret output, and never in plain text anywhere: test_invariants.py)
    return base64.b64decode(unwrap(run.one(KEY).outputs["privateKey"])).decode()


# ----------------------------------------------------------------------------- the stack file


def test_stack_file_deploys_everything_in_one_run(run: ProgramRun) -> None:
    for token in (CLUSTER, REPOSITORY, ADDRESS, KEY, K8S_PROVIDER):
        assert run.of_type(token), f"no {token} registered"
    run.chart(HUB_RELEASE)
    run.chart(CONTROLLER_RELEASE)
    outputs = {name: out.value for name, out in run.outputs.items()}
    assert outputs["binder_url"] == f"http://binder.{INGRESS_IP}.nip.io/"
    assert outputs["hub_url"] == f"http://hub.{INGRESS_IP}.nip.io/"
    assert outputs["ingress_address"] == INGRESS_IP
    assert outputs["cluster_name"] == "binderhub-gcp"
    assert outputs["registry_url"] == "https://us-central1-docker.pkg.dev"
    assert outputs["image_prefix"] == f"us-central1-docker.pkg.dev/{PROJECT}/binderhub-gcp/binder-"


# ----------------------------------------------------------------------------- GKE


def test_zonal_cluster_without_default_pool_and_with_workload_identity(run: ProgramRun) -> None:
    cluster = run.one(CLUSTER).inputs
    assert cluster["location"] == "us-central1-a"
    assert cluster["removeDefaultNodePool"] is True
    assert cluster["initialNodeCount"] == 1
    assert cluster["workloadIdentityConfig"] == {"workloadPool": f"{PROJECT}.svc.id.goog"}
    assert cluster["releaseChannel"] == {"channel": "REGULAR"}
    assert "minMasterVersion" not in cluster
    # The transient default pool must not run as the project's default compute account either.
    assert cluster["nodeConfig"]["serviceAccount"] == node_account(run).outputs["email"]
    # Without protect, `pulumi destroy` must work (the provider defaults this to true).
    assert cluster["deletionProtection"] is False


def test_core_and_autoscaling_user_pools(run: ProgramRun) -> None:
    core = run.one(NODE_POOL, "cluster-core").inputs
    user = run.one(NODE_POOL, "cluster-user").inputs
    assert core["nodeConfig"]["labels"] == {NODE_PURPOSE_LABEL: "core"}
    assert user["nodeConfig"]["labels"] == {NODE_PURPOSE_LABEL: "user"}
    assert core["nodeConfig"]["machineType"] == "e2-standard-2"
    assert user["nodeConfig"]["machineType"] == "n2-standard-4"
    assert core["nodeCount"] == 1
    assert "autoscaling" not in core
    assert user["autoscaling"] == {"totalMinNodeCount": 0, "totalMaxNodeCount": 3, "locationPolicy": "ANY"}
    for pool in (core, user):
        assert pool["cluster"] == "binderhub-gcp"
        assert pool["location"] == "us-central1-a"
        assert pool["nodeConfig"]["serviceAccount"] == node_account(run).outputs["email"]
        assert pool["nodeConfig"]["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}


def test_node_sizes_and_counts_come_from_config() -> None:
    run = deploy("gcp-bigger-nodes")
    core = run.one(NODE_POOL, "cluster-core").inputs
    user = run.one(NODE_POOL, "cluster-user").inputs
    assert (core["nodeConfig"]["machineType"], core["nodeCount"]) == ("n2-standard-2", 2)
    assert user["nodeConfig"]["machineType"] == "n2-highmem-8"
    assert (user["autoscaling"]["totalMinNodeCount"], user["autoscaling"]["totalMaxNodeCount"]) == (1, 12)
    assert user["initialNodeCount"] == 1


def test_regional_cluster_when_no_zone(regional: ProgramRun) -> None:
    assert regional.one(CLUSTER).inputs["location"] == "europe-west1"
    for pool in regional.of_type(NODE_POOL):
        assert pool.inputs["location"] == "europe-west1"
    assert regional.one(ADDRESS).inputs["region"] == "europe-west1"
    assert regional.one(REPOSITORY).inputs["location"] == "europe-west1"
    assert regional.outputs["image_prefix"].value.startswith(f"europe-west1-docker.pkg.dev/{PROJECT}/")


def test_regional_user_pool_starts_per_zone_and_bounds_the_total() -> None:
    run = deploy("gcp-regional-user-pool")
    user = run.one(NODE_POOL, "cluster-user").inputs
    assert user["initialNodeCount"] == 2  # 4 over three zones, rounded up
    assert user["autoscaling"]["totalMinNodeCount"] == 4
    assert user["autoscaling"]["totalMaxNodeCount"] == 9


def test_zone_alone_sets_the_region() -> None:
    run = deploy("gcp-zone-only")
    assert run.one(CLUSTER).inputs["location"] == "europe-west4-b"
    assert run.one(ADDRESS).inputs["region"] == "europe-west4"
    assert run.one(REPOSITORY).inputs["location"] == "europe-west4"


def test_release_channel_and_version_from_config() -> None:
    run = deploy("gcp-stable-channel")
    cluster = run.one(CLUSTER).inputs
    assert cluster["releaseChannel"] == {"channel": "STABLE"}
    assert cluster["minMasterVersion"] == "1.33.2-gke.1240000"


def test_cluster_name_from_config() -> None:
    run = deploy("gcp-named-cluster")
    assert run.one(CLUSTER).inputs["name"] == "teaching-binder"
    assert run.one(REPOSITORY).inputs["repositoryId"] == "teaching-binder"
    assert run.one(ADDRESS).inputs["name"] == "teaching-binder-ingress"
    assert run.outputs["cluster_name"].value == "teaching-binder"


def test_node_service_account_has_least_privilege(run: ProgramRun) -> None:
    nodes = member(node_account(run))
    project_roles = sorted(r.inputs["role"] for r in run.of_type(PROJECT_MEMBER) if r.inputs["member"] == nodes)
    assert project_roles == sorted(NODE_ROLES)
    assert not any("admin" in role or role in ("roles/editor", "roles/owner") for role in project_roles)
    # Pulls from the repository only: no project-wide registry role.
    readers = [r for r in run.of_type(REPO_MEMBER) if r.inputs["member"] == nodes]
    assert [r.inputs["role"] for r in readers] == ["roles/artifactregistry.reader"]
    assert readers[0].inputs["repository"] == run.one(REPOSITORY).outputs["name"]
    # Nodes pull with their identity: user pods get no image pull secret.
    assert "imagePullSecret" not in hub_values(run)["jupyterhub"]


def test_kubeconfig_uses_gke_auth_plugin(run: ProgramRun) -> None:
    kubeconfig = run.outputs["kubeconfig"].value  # a secret output (test_invariants.py)
    assert f"server: https://{GKE_ENDPOINT}" in kubeconfig
    assert f"certificate-authority-data: {GKE_CA}" in kubeconfig
    assert "command: gke-gcloud-auth-plugin" in kubeconfig
    assert "client.authentication.k8s.io/v1beta1" in kubeconfig
    assert "token:" not in kubeconfig and "password:" not in kubeconfig
    assert "current-context: gke_my-binderhub-project_us-central1-a_binderhub-gcp" in kubeconfig
    provider = run.one(K8S_PROVIDER)
    assert is_secret(provider.inputs["kubeconfig"])
    assert unwrap(provider.inputs["kubeconfig"]) == kubeconfig


def test_kubernetes_provider_waits_for_node_pools(run: ProgramRun) -> None:
    provider = run.one(K8S_PROVIDER)
    for pool in run.of_type(NODE_POOL):
        assert run.depends_on(provider, pool), f"the Kubernetes provider does not wait for {pool.name}"


def test_every_gcp_resource_uses_the_stack_project_provider(run: ProgramRun) -> None:
    provider = run.one(GCP_PROVIDER)
    assert (provider.inputs["project"], provider.inputs["region"]) == (PROJECT, "us-central1")
    for reg in run.registrations:
        if reg.type.startswith("gcp:"):
            assert reg.uses_provider(provider.urn), f"{reg.type} {reg.name} uses a default provider"
            if "project" in reg.inputs:
                assert reg.inputs["project"] == PROJECT


# ----------------------------------------------------------------------------- Artifact Registry


def test_repository_is_docker_in_the_cluster_region(run: ProgramRun) -> None:
    repo = run.one(REPOSITORY).inputs
    assert repo["format"] == "DOCKER"
    assert repo["location"] == "us-central1"
    assert repo["repositoryId"] == "binderhub-gcp"
    policy = repo["cleanupPolicies"][0]
    assert policy["action"] == "DELETE"
    assert policy["condition"]["olderThan"] == f"{30 * 86400}s"


def test_writer_role_is_bound_on_the_repository_only(run: ProgramRun) -> None:
    push = member(pusher(run))
    writers = [r for r in run.of_type(REPO_MEMBER) if r.inputs["role"] == "roles/artifactregistry.writer"]
    assert len(writers) == 1
    assert writers[0].inputs["member"] == push
    assert writers[0].inputs["repository"] == run.one(REPOSITORY).outputs["name"]
    assert writers[0].inputs["location"] == "us-central1"
    # Nothing for the pusher, and no registry role for anyone, at project level.
    assert not [r for r in run.of_type(PROJECT_MEMBER) if r.inputs["member"] == push]
    assert not [r for r in run.of_type(PROJECT_MEMBER) if "artifactregistry" in r.inputs["role"]]


def test_registry_settings_reach_binderhub(run: ProgramRun) -> None:
    values = hub_values(run)
    host = "us-central1-docker.pkg.dev"
    assert values["config"]["BinderHub"]["image_prefix"] == f"{host}/{PROJECT}/binderhub-gcp/binder-"
    assert values["config"]["BinderHub"]["use_registry"] is True
    assert values["config"]["DockerRegistry"] == {
        "url": f"https://{host}",
        "auth_config_url": f"https://{host}",
        "token_url": f"https://{host}/v2/token?service={host}",
    }
    assert values["registry"]["url"] == f"https://{host}"
    assert values["registry"]["username"] == "_json_key"
    # The password is the key file itself (decoded), the form `docker login -u _json_key` takes.
    password = values["registry"]["password"]
    assert password == key_file(run)
    assert json.loads(password)["client_email"] == pusher(run).outputs["email"]


def test_registry_password_is_secret_even_if_the_provider_forgot() -> None:
    """The component marks the key secret itself (the whole hub values document is secret anyway,
    so a leak of this one value would not show in the release inputs)."""
    from pulumi.runtime.sync_await import _sync_await

    # The stock mock monitor ignores additionalSecretOutputs: privateKey comes back plain.
    start_unit_runtime()
    registry = ArtifactRegistry(
        "unit", ArtifactRegistryArgs(project=PROJECT, region="us-east1", repository_id="unit-repo", prefix="b")
    )
    password = pulumi.Output.from_input(registry.settings.password)
    assert _sync_await(password.is_secret())
    assert json.loads(_sync_await(password.future()) or "{}")["type"] == "service_account"
    assert registry.settings.username == "_json_key"
    assert registry.settings.nodes_can_pull


def test_registry_does_not_wait_for_the_cluster(run: ProgramRun) -> None:
    cluster = run.one(CLUSTER)
    registry_parts = [run.one(REPOSITORY), pusher(run), run.one(KEY), *run.of_type(REPO_MEMBER)]
    for reg in registry_parts:
        assert not run.depends_on(reg, cluster), f"{reg.type} {reg.name} waits for the GKE cluster"
        for pool in run.of_type(NODE_POOL):
            assert not run.depends_on(reg, pool), f"{reg.type} {reg.name} waits for {pool.name}"


def test_hub_waits_for_registry_bindings(run: ProgramRun) -> None:
    hub = run.chart(HUB_RELEASE)
    for binding in run.of_type(REPO_MEMBER):
        assert run.depends_on(hub, binding), f"the hub does not wait for {binding.name}"


# ----------------------------------------------------------------------------- APIs, ingress IP


def test_apis_are_enabled_first_and_left_on_destroy(run: ProgramRun) -> None:
    apis = run.of_type(API)
    services = sorted(api.inputs["service"] for api in apis)
    for needed in ("artifactregistry", "compute", "container", "iam", "cloudresourcemanager"):
        assert f"{needed}.googleapis.com" in services
    for api in apis:
        assert api.inputs["disableOnDestroy"] is False
    for reg in (run.one(CLUSTER), run.one(REPOSITORY), run.one(ADDRESS), node_account(run), pusher(run)):
        for api in apis:
            assert run.depends_on(reg, api), f"{reg.type} {reg.name} does not wait for {api.inputs['service']}"


def test_ingress_controller_uses_the_static_ip(run: ProgramRun) -> None:
    address = run.one(ADDRESS)
    assert address.inputs["addressType"] == "EXTERNAL"
    assert address.inputs["region"] == "us-central1"
    controller = run.chart(CONTROLLER_RELEASE)
    assert unwrap(controller.inputs["values"])["controller"]["service"]["loadBalancerIP"] == INGRESS_IP
    assert run.depends_on(controller, address)
    # Hosts come from that address, so the hub renders in the same run.
    assert hub_values(run)["config"]["BinderHub"]["hub_url"] == f"http://hub.{INGRESS_IP}.nip.io/"


# ----------------------------------------------------------------------------- variants


def test_domain_with_tls_and_protect(with_domain: ProgramRun) -> None:
    outputs = with_domain.outputs
    assert outputs["binder_url"].value == "https://binder.binder.example.edu/"
    assert outputs["hub_url"].value == "https://hub.binder.example.edu/"
    values = hub_values(with_domain)
    assert values["ingress"]["hosts"] == ["binder.binder.example.edu"]
    # The static IP still fixes the controller's address (the DNS records point at it).
    controller = unwrap(with_domain.chart(CONTROLLER_RELEASE).inputs["values"])
    assert controller["controller"]["service"]["loadBalancerIP"] == INGRESS_IP
    assert outputs["ingress_address"].value == INGRESS_IP
    assert with_domain.one(CLUSTER).protect
    assert with_domain.one(CLUSTER).inputs["deletionProtection"] is True
    assert with_domain.one(REPOSITORY).protect


def test_docker_hub_instead_of_artifact_registry(dockerhub: ProgramRun) -> None:
    assert not dockerhub.of_type(REPOSITORY)
    assert not dockerhub.of_type(KEY)
    assert "artifactregistry.googleapis.com" not in [api.inputs["service"] for api in dockerhub.of_type(API)]
    assert dockerhub.outputs["image_prefix"].value == "docker.io/binderbot/binder-"
    values = hub_values(dockerhub)
    assert values["registry"]["username"] == "binderbot"
    assert values["registry"]["password"] == SECRET_VALUES["registryPassword"]
    # GKE nodes cannot pull private Docker Hub images with their identity: a pull secret is made.
    assert values["jupyterhub"]["imagePullSecret"]["password"] == SECRET_VALUES["registryPassword"]


# ----------------------------------------------------------------------------- config errors


def failed(config_changes: dict[str, Any], secrets: dict[str, str] | None = None) -> str:
    run = run_stack(STACK, secrets, **config_changes)
    assert isinstance(run.error, ConfigError), f"expected a ConfigError, got {run.error!r}"
    assert run.registrations == [], f"resources registered despite bad config: {[r.name for r in run.registrations]}"
    return str(run.error)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"project": None}, ["binderhub:cluster.project", "required"]),
        ({"project": "123456789012"}, ["binderhub:cluster.project", "'123456789012'", "project id"]),
        ({"project": "My Project"}, ["binderhub:cluster.project", "'My Project'"]),
        ({"region": "us-central1", "zone": "europe-west1-b"}, ["cluster.zone 'europe-west1-b'", "'us-central1'"]),
        ({"zone": "us-central1"}, ["binderhub:cluster.zone", "'us-central1'", "us-central1-a"]),
        ({"zone": None, "region": "us-central"}, ["binderhub:cluster.region", "'us-central'"]),
        ({"nodeSize": "Standard_D2s_v3"}, ["binderhub:cluster.nodeSize", "'Standard_D2s_v3'", "machine type"]),
        ({"userNodeSize": "n2"}, ["binderhub:cluster.userNodeSize", "'n2'"]),
        ({"nodeSize": "e2-small"}, ["binderhub:cluster.nodeSize", "'e2-small'", "too small"]),
        ({"userNodeSize": "e2-micro"}, ["binderhub:cluster.userNodeSize", "'e2-micro'", "too small"]),
        ({"nodeCount": 0}, ["binderhub:cluster.nodeCount", "0"]),
        ({"userMaxNodes": 0}, ["binderhub:cluster.userMaxNodes", "0"]),
        ({"userMinNodes": 5, "userMaxNodes": 2}, ["userMinNodes (5)", "userMaxNodes (2)"]),
        ({"releaseChannel": "nightly"}, ["binderhub:cluster.releaseChannel", "'NIGHTLY'"]),
        ({"kubernetesVersion": "latest"}, ["binderhub:cluster.kubernetesVersion", "'latest'"]),
        ({"name": "BinderHub_Prod"}, ["binderhub:cluster.name", "'BinderHub_Prod'"]),
        ({"name": "b" * 41}, ["binderhub:cluster.name"]),
        ({"location": "westeurope"}, ["binderhub:cluster", "location", "valid keys"]),
    ],
)
def test_cluster_config_errors(changes: dict[str, Any], expected: list[str]) -> None:
    message = failed({"cluster": gcp_cluster(**changes)})
    for part in expected:
        assert part in message, f"{part!r} not in error:\n{message}"


def test_missing_cluster_names_the_project_key() -> None:
    config = {"cloud": "gcp"}
    run = Program(config, stack=STACK).run()
    assert isinstance(run.error, ConfigError)
    assert "binderhub:cluster.project: required but not set" in str(run.error)
    assert run.registrations == []


def test_registry_none_is_refused_on_gke() -> None:
    message = failed({"registry": {"type": "none"}})
    assert "registry.type 'none'" in message and "single Docker Engine node" in message


def test_other_clouds_registry_is_refused() -> None:
    message = failed({"registry": {"type": "acr"}})
    assert "registry.type 'acr' needs cloud 'azure'" in message
    assert "'artifact-registry'" in message


def test_docker_hub_without_password_is_refused() -> None:
    message = failed({"registry": {"type": "dockerhub", "username": "binderbot"}})
    assert "binderhub:registryPassword" in message


def test_kubeconfig_secret_is_refused_on_gke() -> None:
    message = failed({}, {"kubeconfig": "apiVersion: v1"})
    assert "kubeconfig is only for cloud 'existing'" in message


# ----------------------------------------------------------------------------- scaling and network policy


def test_dataplane_v2_enforces_network_policy(run: ProgramRun) -> None:
    cluster = run.one(CLUSTER).inputs
    assert cluster["datapathProvider"] == "ADVANCED_DATAPATH"
    # Dataplane V2 enforces policies itself: no Calico add-on beside it.
    assert "networkPolicy" not in cluster
    assert cluster["networkingMode"] == "VPC_NATIVE"


def test_autoscaler_optimizes_utilization_and_provisions_no_pools(run: ProgramRun) -> None:
    autoscaling = run.one(CLUSTER).inputs["clusterAutoscaling"]
    assert autoscaling == {"enabled": False, "autoscalingProfile": "OPTIMIZE_UTILIZATION"}


def test_user_pool_taint_uses_gkes_spelling_of_the_key(run: ProgramRun) -> None:
    user = run.one(NODE_POOL, "cluster-user").inputs["nodeConfig"]
    core = run.one(NODE_POOL, "cluster-core").inputs["nodeConfig"]
    # GKE refuses '/' in a taint key; z2jh's user pods and BinderHub's build pods tolerate this one too.
    assert user["taints"] == [{"key": "hub.jupyter.org_dedicated", "value": "user", "effect": "NO_SCHEDULE"}]
    assert "taints" not in core


# ----------------------------------------------------------------------------- hardening (issue #19)

ROUTER = "gcp:compute/router:Router"
NAT = "gcp:compute/routerNat:RouterNat"
LOG_BUCKET = "gcp:logging/projectBucketConfig:ProjectBucketConfig"
LOG_SINK = "gcp:logging/projectSink:ProjectSink"


def gcp_with(**config: Any) -> ProgramRun:
    """Pulumi.gcp.yaml with some top-level keys changed, deployed as stack `gcp`."""
    run = run_stack(STACK, None, **config)
    assert run.error is None, repr(run.error)
    return run


def private_nodes(run: ProgramRun) -> dict[str, bool]:
    return {pool.name: pool.inputs["networkConfig"]["enablePrivateNodes"] for pool in run.of_type(NODE_POOL)}


def test_the_control_plane_answers_only_the_authorized_networks(run: ProgramRun) -> None:
    networks = run.one(CLUSTER).inputs["masterAuthorizedNetworksConfig"]
    assert [block["cidrBlock"] for block in networks["cidrBlocks"]] == ["0.0.0.0/0"]  # the documented default
    # Not every Google Cloud address besides (Cloud Shell, other projects' VMs).
    assert networks["gcpPublicCidrsAccessEnabled"] is False
    cidrs = ["203.0.113.0/24", "198.51.100.7/32"]
    limited = gcp_with(cluster=gcp_cluster(apiAccessCidrs=cidrs)).one(CLUSTER).inputs
    assert [block["cidrBlock"] for block in limited["masterAuthorizedNetworksConfig"]["cidrBlocks"]] == cidrs
    # The endpoint stays public (behind the list): the program itself reaches it from outside.
    assert "privateClusterConfig" not in limited


def test_a_trial_stack_has_public_nodes_and_no_nat(run: ProgramRun) -> None:
    # Pulumi.gcp.yaml: binderhub:protect unset (false), cluster.privateNodes unset.
    assert private_nodes(run) == {"cluster-core": False, "cluster-user": False}
    assert not run.of_type(ROUTER) and not run.of_type(NAT)


def test_protect_makes_nodes_private_unless_privatenodes_says_otherwise(with_domain: ProgramRun) -> None:
    assert private_nodes(with_domain) == {"cluster-core": True, "cluster-user": True}
    assert with_domain.of_type(NAT)
    public = gcp_with(protect=True, cluster=gcp_cluster(privateNodes=False))
    assert private_nodes(public) == {"cluster-core": False, "cluster-user": False}
    assert not public.of_type(NAT)


def test_private_nodes_reach_the_internet_through_cloud_nat_in_the_clusters_network() -> None:
    run = gcp_with(cluster=gcp_cluster(privateNodes=True))
    assert private_nodes(run) == {"cluster-core": True, "cluster-user": True}
    router = run.one(ROUTER)
    # The cluster's own network, in the region of its zone (us-central1-a).
    assert router.inputs["network"] == run.one(CLUSTER).outputs["network"]
    assert router.inputs["region"] == "us-central1"
    nat = run.one(NAT).inputs
    assert nat["router"] == router.inputs["name"] and nat["region"] == "us-central1"
    assert nat["natIpAllocateOption"] == "AUTO_ONLY"
    # Pods' addresses too: builds and user servers pull from GitHub and PyPI, not only the nodes.
    assert nat["sourceSubnetworkIpRangesToNat"] == "ALL_SUBNETWORKS_ALL_IP_RANGES"
    for pool in run.of_type(NODE_POOL):
        assert run.depends_on(pool, run.one(NAT)), f"{pool.name} may start nodes that cannot pull images"
    provider = run.one(GCP_PROVIDER)
    for reg in (router, run.one(NAT)):
        assert reg.uses_provider(provider.urn) and reg.inputs["project"] == PROJECT


def test_private_nodes_on_an_existing_cluster_change_only_the_pools() -> None:
    """Switching privateNodes on leaves the cluster's inputs as they were (nothing in them can
    replace it); the pools change only their network_config, which GKE updates in place."""
    before, after = gcp_with(), gcp_with(cluster=gcp_cluster(privateNodes=True))
    assert after.one(CLUSTER).inputs == before.one(CLUSTER).inputs
    for name in ("cluster-core", "cluster-user"):
        old, new = before.one(NODE_POOL, name).inputs, after.one(NODE_POOL, name).inputs
        assert {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)} == {"networkConfig"}
    # Every resource of the stack keeps its URN (the router and NAT are new).
    assert {r.engine_urn for r in before.registrations} <= {r.engine_urn for r in after.registrations}
    assert not [w for w in after.warnings if "replace" in w]


def test_the_clusters_audit_logs_are_kept_in_a_bucket_of_the_stack(run: ProgramRun) -> None:
    bucket = run.one(LOG_BUCKET)
    assert bucket.inputs["retentionDays"] == 90  # cluster.auditLogRetentionDays' default
    assert bucket.inputs["project"] == PROJECT
    sink = run.one(LOG_SINK).inputs
    # The bucket's resource name, as Cloud Logging names sink destinations.
    bucket_name = f"projects/{PROJECT}/locations/global/buckets/{bucket.inputs['bucketId']}"
    assert sink["destination"] == f"logging.googleapis.com/{bucket_name}"
    assert sink["project"] == PROJECT
    # This cluster's Kubernetes audit logs (the k8s_cluster resource GKE writes them under).
    for part in (
        'logName:"cloudaudit.googleapis.com"',
        'resource.type="k8s_cluster"',
        'resource.labels.cluster_name="binderhub-gcp"',
        'resource.labels.location="us-central1-a"',
        f'resource.labels.project_id="{PROJECT}"',
    ):
        assert part in sink["filter"], part
    longer = gcp_with(cluster=gcp_cluster(auditLogRetentionDays=400))
    assert longer.one(LOG_BUCKET).inputs["retentionDays"] == 400


def test_two_stacks_in_one_project_route_only_their_own_clusters_audit_logs() -> None:
    config = stack_file_config(STACK)
    sinks = []
    for stack in ("gcp", "gcp-staging"):
        other = Program(config, stack=stack).run()
        assert other.error is None, repr(other.error)
        sinks.append(other.one(LOG_SINK).inputs)
    assert sinks[0]["destination"] != sinks[1]["destination"]
    assert 'cluster_name="binderhub-gcp"' in sinks[0]["filter"]
    assert 'cluster_name="binderhub-gcp-staging"' in sinks[1]["filter"]


def pusher_key_keepers(monkeypatch: pytest.MonkeyPatch, day: dt.date, **registry: Any) -> dict[str, str]:
    monkeypatch.setattr(rotation, "today", lambda: day)
    run = gcp_with(registry={"type": "artifact-registry", "prefix": "binder", **registry})
    return run.one(KEY).inputs["keepers"]


def test_the_pusher_key_is_replaced_each_rotation_window(monkeypatch: pytest.MonkeyPatch) -> None:
    # 90 days: windows of 60 days from 1970-01-01. 2026-01-07 is day 20460 = 341 * 60, so one
    # window runs 2026-01-07 .. 2026-03-07 and the next starts 2026-03-08.
    first = pusher_key_keepers(monkeypatch, dt.date(2026, 1, 10))
    assert first == {"window": "2026-01-07"}
    assert pusher_key_keepers(monkeypatch, dt.date(2026, 3, 7)) == first  # the same key
    assert pusher_key_keepers(monkeypatch, dt.date(2026, 3, 8)) == {"window": "2026-03-08"}  # a new key
    # A 30-day lifetime: 20-day windows; day 20460 = 1023 * 20 starts one, 2026-01-27 the next.
    assert pusher_key_keepers(monkeypatch, dt.date(2026, 1, 27), credentialLifetimeDays=30) == {"window": "2026-01-27"}


def test_credential_rotation_replaces_the_pusher_key_now(monkeypatch: pytest.MonkeyPatch) -> None:
    day = dt.date(2026, 1, 10)
    plain = pusher_key_keepers(monkeypatch, day)
    rotated = pusher_key_keepers(monkeypatch, day, credentialRotation="2026-01-10")
    assert rotated == {**plain, "rotation": "2026-01-10"}
    assert pusher_key_keepers(monkeypatch, day, credentialRotation="2026-01-11") != rotated


def test_the_gcp_guide_keeps_the_key_creation_policy_and_says_what_to_do_instead() -> None:
    guide = (ROOT_DIR / "docs" / "gcp.md").read_text()
    # Lifting or exempting iam.disableServiceAccountKeyCreation is never the advice.
    for lifting in ("disable-enforce", "reset-policy", "enforce: false", "exempt the project"):
        assert lifting not in guide, lifting
    advice = guide[guide.index("`iam.disableServiceAccountKeyCreation`") :].split("\n- **", 1)[0]
    assert "registry.type: dockerhub" in advice and "custom" in advice
    # The hard expiry Google offers for keys, and the rotation keys the program reads.
    assert "iam.serviceAccountKeyExpiryHours" in guide
    assert "registry.credentialRotation" in guide and "registry.credentialLifetimeDays" in guide
