"""The Azure target (AKS + ACR + static ingress IP) run end to end under mocks.

`Pulumi.prod.yaml` is the production reference; variants (variants.py) override one choice each.
What every stack keeps (schemas, outputs, secrets, the cluster's provider) is in test_invariants.py.
"""

from __future__ import annotations

import base64
import re
import shlex
from typing import Any

import pytest
import yaml

import harness
from cloud_mocks.azure import ACR_PASSWORD, INGRESS_IP, SUBSCRIPTION
from components.registry.acr import ACR_PULL, ACR_PUSH, registry_name_base
from config import ConfigError, parse_config
from harness import Program, ProgramRun, Registration, is_secret, run_stack, unwrap
from variants import SECRET_VALUES, deploy

NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"

RG = "azure-native:resources:ResourceGroup"
AKS = "azure-native:containerservice:ManagedCluster"
POOL = "azure-native:containerservice:AgentPool"
ACR = "azure-native:containerregistry:Registry"
ROLE = "azure-native:authorization:RoleAssignment"
IP = "azure-native:network:PublicIPAddress"
APP = "azuread:index/application:Application"
SP = "azuread:index/servicePrincipal:ServicePrincipal"
APP_PASSWORD = "azuread:index/applicationPassword:ApplicationPassword"


def role_id(guid: str) -> str:
    return f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def mock_id(reg: Registration) -> str:
    """The id the harness gives every resource (mocks cannot choose it)."""
    return f"{reg.name}-id"


def role(run: ProgramRun, guid: str) -> Registration:
    found = [r for r in run.of_type(ROLE) if r.inputs["roleDefinitionId"] == role_id(guid)]
    assert len(found) == 1, f"expected one assignment of role {guid}, found {[r.name for r in found]}"
    return found[0]


@pytest.fixture
def prod() -> ProgramRun:
    return deploy("prod")


@pytest.fixture
def dockerhub() -> ProgramRun:
    return deploy("prod-dockerhub")


@pytest.fixture
def no_domain() -> ProgramRun:
    return deploy("prod-no-domain")


# ---------------------------------------------------------------------------- the whole stack


def test_prod_outputs(prod: ProgramRun) -> None:
    out = {k: v.value for k, v in prod.outputs.items()}
    assert out["binder_url"] == "https://binder.example.edu/"
    assert out["hub_url"] == "https://hub.example.edu/"
    assert out["ingress_address"] == INGRESS_IP
    assert out["cluster_name"] == "binderhub-prod"
    assert re.fullmatch(r"[a-z0-9]{5,50}\.azurecr\.io/binder/binder-prod-", out["image_prefix"])
    assert out["registry_url"] == "https://" + out["image_prefix"].split("/")[0]
    # (the kubeconfig: tests/test_azure_hardening.py)


def test_minimal_azure_stack_defaults() -> None:
    """`cloud: azure` alone: ACR, one Standard_D2s_v3 core node, user pool 0-3, plain HTTP via nip.io."""
    run = deploy("azure-minimal")
    aks = run.one(AKS)
    (core,) = aks.inputs["agentPoolProfiles"]
    assert (core["vmSize"], core["count"]) == ("Standard_D2s_v3", 1)
    pool = run.one(POOL)
    assert (pool.inputs["minCount"], pool.inputs["maxCount"]) == (0, 3)
    assert run.one(ACR) and run.outputs["binder_url"].value == f"http://binder.{INGRESS_IP}.nip.io/"


# ---------------------------------------------------------------------------- cluster


def test_aks_cluster_shape(prod: ProgramRun) -> None:
    cfg = harness.stack_file_config("prod")["cluster"]
    aks = prod.one(AKS).inputs
    assert aks["identity"] == {"type": "SystemAssigned"}
    assert aks["enableRBAC"] is True and aks["disableLocalAccounts"] is True
    assert aks["sku"] == {"name": "Base", "tier": cfg["tier"]}
    assert aks["location"] == cfg["location"]
    (core,) = aks["agentPoolProfiles"]
    assert core["mode"] == "System"
    assert core["nodeLabels"] == {"hub.jupyter.org/node-purpose": "core"}
    assert (core["vmSize"], core["count"]) == (cfg["nodeSize"], cfg["nodeCount"])
    user = prod.one(POOL).inputs
    assert user["mode"] == "User" and user["enableAutoScaling"] is True
    assert user["nodeLabels"] == {"hub.jupyter.org/node-purpose": "user"}
    assert (user["vmSize"], user["minCount"], user["maxCount"]) == (
        cfg["userNodeSize"],
        cfg["userMinNodes"],
        cfg["userMaxNodes"],
    )
    assert user["resourceName"] == "binderhub-prod" and user["resourceGroupName"] == "binderhub-prod"


def test_kubernetes_version_from_config() -> None:
    run = deploy("azure-pinned-version")
    aks = run.one(AKS).inputs
    assert aks["kubernetesVersion"] == "1.33.2"
    # A pinned patch version must not be upgraded behind the config's back.
    assert aks["autoUpgradeProfile"]["upgradeChannel"] == "none"


def test_kubeconfig_reads_the_api_server_from_the_clusters_entra_kubeconfig(prod: ProgramRun) -> None:
    (call,) = [c for c in prod.calls if c.token == "azure-native:containerservice:listManagedClusterUserCredentials"]
    assert call.args["resourceName"] == "binderhub-prod" and call.args["resourceGroupName"] == "binderhub-prod"
    # The exec form: what AKS returns for an Entra ID cluster (no static credential to drop).
    assert call.args["format"] == "exec"
    provider = prod.one("pulumi:providers:kubernetes")
    assert is_secret(provider.inputs["kubeconfig"])
    (cluster,) = yaml.safe_load(unwrap(provider.inputs["kubeconfig"]))["clusters"]
    assert cluster["cluster"]["server"] == f"https://{prod.one(AKS).outputs['fqdn']}:443"


# ---------------------------------------------------------------------------- registry


def test_push_credentials_are_scoped_to_the_registry(prod: ProgramRun) -> None:
    acr = prod.one(ACR)
    push = role(prod, ACR_PUSH)
    assert push.inputs["scope"] == mock_id(acr)
    assert push.inputs["principalId"] == prod.one(SP).outputs["objectId"]
    assert push.inputs["principalType"] == "ServicePrincipal"
    assert prod.one(SP).inputs["clientId"] == prod.one(APP).outputs["clientId"]
    # The push identity has exactly one role, and the registry has no admin user.
    assert [r.name for r in prod.of_type(ROLE) if r.inputs["principalId"] == push.inputs["principalId"]] == [push.name]
    assert acr.inputs["adminUserEnabled"] is False


def test_the_builder_gets_the_push_password(prod: ProgramRun) -> None:
    # (kept secret everywhere: test_invariants.py checks every generated credential)
    values = prod.chart("binderhub").inputs["values"]
    assert ACR_PASSWORD in str(unwrap(values)), "the builder does not get the push password"


def test_registry_settings_in_hub_values(prod: ProgramRun) -> None:
    values = unwrap(prod.chart("binderhub").inputs["values"])
    host = prod.one(ACR).outputs["loginServer"]
    client_id = prod.one(APP).outputs["clientId"]
    assert values["registry"]["url"] == f"https://{host}"
    assert values["registry"]["username"] == client_id
    docker = values["config"]["DockerRegistry"]
    assert docker["token_url"] == f"https://{host}/oauth2/token?service={host}"
    assert docker["url"] == f"https://{host}"
    assert values["config"]["BinderHub"]["image_prefix"] == f"{host}/binder/binder-prod-"
    # Nodes pull with the kubelet identity: no image pull secret.
    assert "imagePullSecret" not in values.get("jupyterhub", {})


def test_nodes_pull_with_the_kubelet_identity(prod: ProgramRun) -> None:
    pull = role(prod, ACR_PULL)
    kubelet = prod.one(AKS).outputs["identityProfile"]["kubeletidentity"]["objectId"]
    assert pull.inputs["principalId"] == kubelet
    assert pull.inputs["scope"] == mock_id(prod.one(ACR))


def test_registry_does_not_wait_for_the_cluster(prod: ProgramRun) -> None:
    aks, pool = prod.one(AKS), prod.one(POOL)
    for token in (ACR, APP, SP, APP_PASSWORD, "random:index/randomString:RandomString"):
        reg = prod.one(token)
        assert not prod.depends_on(reg, aks) and not prod.depends_on(reg, pool), f"{reg.name} waits for the cluster"
    assert not prod.depends_on(role(prod, ACR_PUSH), aks)
    # Only the pull permission needs the cluster (its kubelet identity)...
    assert prod.depends_on(role(prod, ACR_PULL), aks)
    # ...and nothing outside the cluster's own component waits for the user pool.
    assert not any(prod.depends_on(r, pool) for r in prod.registrations if r.parent != pool.parent)


def test_hub_waits_for_registry_permissions(prod: ProgramRun) -> None:
    hub = prod.chart("binderhub")
    assert prod.depends_on(hub, role(prod, ACR_PUSH)) and prod.depends_on(hub, role(prod, ACR_PULL))


def test_registry_name_is_valid_for_long_stack_names() -> None:
    run = deploy("azure-long-stack-name")  # stack "feature-xxx...", 78 characters
    name = run.one(ACR).inputs["registryName"]
    assert re.fullmatch(r"[a-z0-9]{5,50}", name), name
    cluster = run.one(AKS).inputs["resourceName"]
    assert len(cluster) <= 54 and re.fullmatch(r"[a-z0-9][a-z0-9-]*[a-z0-9]", cluster)
    assert registry_name_base("--", "__") == "binderhub"


def test_docker_hub_instead_of_acr(dockerhub: ProgramRun) -> None:
    assert (
        not dockerhub.of_type(ACR)
        and not dockerhub.of_type(APP)
        and not dockerhub.of_type("binderhub:registry:AcrRegistry")
    )
    # The cluster's own: network (tests/test_azure_hardening.py) and admin roles, no registry role.
    assert sorted(r.name for r in dockerhub.of_type(ROLE)) == [
        "cluster-deployer-admin",
        "cluster-network-contributor",
        "cluster-public-ip-lookup",
    ]
    assert role_id(ACR_PUSH) not in {r.inputs["roleDefinitionId"] for r in dockerhub.of_type(ROLE)}
    values = dockerhub.chart("binderhub").inputs["values"]
    assert unwrap(values)["config"]["BinderHub"]["image_prefix"] == "docker.io/binderbot/binder-prod-"
    assert dockerhub.outputs["image_prefix"].value == "docker.io/binderbot/binder-prod-"


# ---------------------------------------------------------------------------- ingress IP


def test_ingress_controller_uses_the_static_ip(prod: ProgramRun) -> None:
    ip = prod.one(IP)
    group = prod.one(RG).outputs["name"]
    assert ip.inputs["sku"]["name"] == "Standard" and ip.inputs["publicIPAllocationMethod"] == "Static"
    assert ip.inputs["resourceGroupName"] == group
    service = unwrap(prod.chart("nginx-ingress").inputs["values"])["controller"]["service"]
    assert service["loadBalancerIP"] == INGRESS_IP
    assert service["annotations"]["service.beta.kubernetes.io/azure-load-balancer-resource-group"] == group


def test_cluster_identity_may_use_the_ip(prod: ProgramRun) -> None:
    network = role(prod, NETWORK_CONTRIBUTOR)
    assert network.inputs["principalId"] == prod.one(AKS).outputs["identity"]["principalId"]
    # The one IP it attaches, not the resource group around it (issue #19).
    assert network.inputs["scope"] == mock_id(prod.one(IP))
    controller = prod.chart("nginx-ingress")
    assert prod.depends_on(controller, network) and prod.depends_on(controller, prod.one(IP))


def test_without_a_domain_hosts_come_from_the_ip(no_domain: ProgramRun) -> None:
    # prod logs in with GitHub, so its no-domain variant keeps HTTPS, on the nip.io hosts.
    assert no_domain.outputs["binder_url"].value == f"https://binder.{INGRESS_IP}.nip.io/"
    assert no_domain.outputs["hub_url"].value == f"https://hub.{INGRESS_IP}.nip.io/"
    assert no_domain.of_type("binderhub:tls:CertManagerIssuer")


# ---------------------------------------------------------------------------- protect


def test_prod_protects_cluster_registry_address_and_hub_namespace_only(prod: ProgramRun) -> None:
    # (the rule on every stack, and the hub database's claim: test_protect.py)
    protected = sorted(r.type for r in prod.registrations if r.protect)
    assert protected == sorted([RG, AKS, ACR, IP, "kubernetes:core/v1:Namespace"])
    assert prod.one(IP).protect


# ---------------------------------------------------------------------------- config errors

BAD_CLUSTERS: list[tuple[dict[str, Any], list[str]]] = [
    ({"location": "West Europe"}, ["binderhub:cluster.location", "'West Europe'", "'westeurope'"]),
    ({"location": "westeuorpe"}, ["binderhub:cluster.location", "'westeuorpe'", "did you mean 'westeurope'"]),
    ({"nodeSize": ""}, ["binderhub:cluster.nodeSize", "''", "Standard_D2s_v3"]),
    ({"nodeSize": "Standard_B1s"}, ["binderhub:cluster.nodeSize", "'Standard_B1s'", "2 vCPUs"]),
    ({"nodeSize": "Standard_B2ts_v2"}, ["binderhub:cluster.nodeSize", "'Standard_B2ts_v2'", "4 GiB"]),
    ({"userNodeSize": "standard_d4s_v3"}, ["binderhub:cluster.userNodeSize", "'standard_d4s_v3'", "VM size"]),
    ({"nodeCount": 0}, ["binderhub:cluster.nodeCount", "greater than or equal to 1", "got 0"]),
    ({"userMinNodes": 5, "userMaxNodes": 2}, ["binderhub:cluster", "userMinNodes (5)", "userMaxNodes (2)"]),
    ({"userMaxNodes": 0}, ["binderhub:cluster.userMaxNodes", "got 0"]),
    ({"kubernetesVersion": "latest"}, ["binderhub:cluster.kubernetesVersion", "'latest'", "1.33"]),
    ({"resourceGroup": "my rg."}, ["binderhub:cluster.resourceGroup", "'my rg.'"]),
    ({"tier": "Premium"}, ["binderhub:cluster.tier", "'Premium'", "'Standard'"]),
    ({"region": "eastus"}, ["binderhub:cluster", "unknown key(s) region", "location"]),
]


@pytest.mark.parametrize(("cluster", "expected"), BAD_CLUSTERS, ids=[str(c) for c, _ in BAD_CLUSTERS])
def test_bad_cluster_config_is_refused_before_anything_is_created(cluster: dict[str, Any], expected: list[str]) -> None:
    with pytest.raises(ConfigError) as parsed:
        parse_config({"cloud": "azure", "cluster": cluster})
    run = Program({"cloud": "azure", "cluster": cluster}).run()
    assert isinstance(run.error, ConfigError)
    for message in (str(parsed.value), str(run.error)):
        for part in expected:
            assert part in message, f"{part!r} missing from: {message}"
    assert run.registrations == []


@pytest.mark.parametrize(
    ("overrides", "secrets", "expected"),
    [
        ({"registry": {"type": "ecr"}}, {}, "registry.type 'ecr' needs cloud 'aws'"),
        ({}, {"kubeconfig": "apiVersion: v1"}, "kubeconfig is only for cloud 'existing'"),
        ({"registry": {"type": "dockerhub", "username": "binderme"}}, {}, "binderhub:registryPassword"),
    ],
)
def test_bad_azure_combinations(overrides: dict[str, Any], secrets: dict[str, str], expected: str) -> None:
    run = Program({"cloud": "azure", **overrides}, secrets).run()
    assert isinstance(run.error, ConfigError) and expected in str(run.error)
    assert run.registrations == []


def test_prod_needs_the_oauth_secret() -> None:
    run = run_stack("prod")
    assert isinstance(run.error, ConfigError) and "binderhub:oauthClientSecret" in str(run.error)
    assert run.registrations == []


def test_valid_locations_and_sizes_pass() -> None:
    cfg = parse_config(
        {
            "cloud": "azure",
            "cluster": {
                "location": "eastus2",
                "nodeSize": "Standard_E4-2s_v3",
                "userNodeSize": "Standard_NC24ads_A100_v4",
            },
            # A GPU size's memory cannot be read from its name: the quota is then the operator's.
            "launchQuota": {"total": 20},
        }
    )
    assert cfg.cluster.location == "eastus2"


def test_prod_logs_in_with_github_and_keeps_the_client_secret_secret(prod: ProgramRun) -> None:
    """The lead's auth wiring, as the production reference uses it."""
    config = unwrap(prod.chart("binderhub").inputs["values"])["jupyterhub"]["hub"]["config"]
    github = config["GitHubOAuthenticator"]
    assert github["allowed_organizations"] == ["example-org"]
    assert github["oauth_callback_url"] == "https://hub.example.edu/hub/oauth_callback"
    assert github["client_secret"] == SECRET_VALUES["oauthClientSecret"]


# ---------------------------------------------------------------------------- scaling and network policy


def test_aks_enforces_network_policy_with_cilium(prod: ProgramRun) -> None:
    aks = prod.one(AKS)
    profile = aks.inputs["networkProfile"]
    assert (profile["networkPlugin"], profile["networkPluginMode"]) == ("azure", "overlay")
    # Azure CNI Powered by Cilium: the policy engine is the dataplane itself.
    assert (profile["networkDataplane"], profile["networkPolicy"]) == ("cilium", "cilium")
    # A live cluster created without it is migrated in place (docs/azure.md), never replaced.
    assert {"networkProfile.networkDataplane", "networkProfile.networkPolicy"} <= set(aks.ignore_changes)


def test_aks_autoscaler_removes_empty_user_nodes_after_five_minutes(prod: ProgramRun) -> None:
    profile = prod.one(AKS).inputs["autoScalerProfile"]
    assert profile["scaleDownUnneededTime"] == "5m"
    assert profile["expander"] == "least-waste"
    user = prod.one(POOL).inputs
    assert user["enableAutoScaling"] is True
    assert user["nodeTaints"] == ["hub.jupyter.org/dedicated=user:NoSchedule"]
    assert "nodeTaints" not in prod.one(AKS).inputs["agentPoolProfiles"][0]


# ---------------------------------------------------------------------------- image expiry

TASK = "azure-native:containerregistry:Task"


def purge_command(run: ProgramRun) -> list[str]:
    """The one step of the registry's purge task, split as ACR Tasks split a `cmd`."""
    task = unwrap(run.one(TASK).inputs)
    assert task["step"]["type"] == "EncodedTask"
    document = yaml.safe_load(base64.b64decode(task["step"]["encodedTaskContent"]))
    (step,) = document["steps"]
    return shlex.split(step["cmd"])


def option(argv: list[str], name: str) -> str:
    (value,) = [argv[i + 1] for i, arg in enumerate(argv) if arg == name]
    return value


def test_acr_images_expire_after_thirty_days_by_default(prod: ProgramRun) -> None:
    task = prod.one(TASK)
    assert task.inputs["registryName"] == prod.one(ACR).outputs["name"]
    assert task.inputs["status"] == "Enabled"
    (trigger,) = task.inputs["trigger"]["timerTriggers"]
    minute, hour, *days = trigger["schedule"].split()
    assert minute.isdigit() and hour.isdigit() and days == ["*", "*", "*"], "once a day"
    assert trigger["status"] == "Enabled"
    argv = purge_command(prod)
    assert argv[:2] == ["acr", "purge"]
    assert option(argv, "--ago") == "30d"
    # Manifests whose tags were purged go too: that is what frees the storage.
    assert "--untagged" in argv and "--dry-run" not in argv


def test_the_purge_filter_takes_binderhubs_images_and_nothing_else(prod: ProgramRun) -> None:
    host = prod.one(ACR).outputs["loginServer"]
    prefix = prod.outputs["image_prefix"].value.removeprefix(f"{host}/")  # binder/binder-prod-
    repositories, tags = option(purge_command(prod), "--filter").split(":")
    assert tags == ".*"
    # acr purge matches the repository regex anywhere in a name (Azure/acr-cli GetMatchingRepos).
    assert re.search(repositories, prefix + "github-com-org-repo-3f2a1b")
    for other in ("binder/binder-prodx-repo", "team/binder/binder-prod-repo", "binder/binder-prod", "base/python"):
        assert not re.search(repositories, other), other


def test_images_expire_after_the_configured_days() -> None:
    config = harness.stack_file_config("prod")
    config["registry"] = {**config["registry"], "expireAfterDays": 7}
    run = Program(config, {"oauthClientSecret": SECRET_VALUES["oauthClientSecret"]}, stack="prod").run()
    assert run.error is None, repr(run.error)
    assert option(purge_command(run), "--ago") == "7d"


def test_the_purge_task_has_no_identity_beyond_its_own_registry(prod: ProgramRun) -> None:
    # A run logs in to the registry it runs in with a token for that run (login mode Default);
    # it gets no managed identity and no role anywhere.
    task = prod.one(TASK).inputs
    assert "identity" not in task
    assert task["credentials"] == {"sourceRegistry": {"loginMode": "Default"}}
    assert sorted(r.name for r in prod.of_type(ROLE)) == [
        "cluster-deployer-admin",
        "cluster-network-contributor",
        "cluster-public-ip-lookup",
        "registry-kubelet-pull",
        "registry-push",
    ]


def test_no_purge_task_without_acr(dockerhub: ProgramRun) -> None:
    assert not dockerhub.of_type(TASK)
