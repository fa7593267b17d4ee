"""The Azure target's hardening (issue #19), as the resource inputs of Pulumi.prod.yaml show it.

Who may reach the API server (authorized IP ranges), who may act in the cluster (Entra ID and
Azure RBAC, no local accounts, role assignments scoped to the cluster), what the kubeconfigs
hold (no credential: kubelogin), how narrow the control plane's network permission is, where
audit logs go, and when the ACR push password expires and is replaced.
"""

from __future__ import annotations

import datetime as dt
import shlex
from typing import Any

import pytest
import yaml

import harness
from cloud_mocks.azure import AKS_CA_DATA, AKS_KUBE_TOKEN, SUBSCRIPTION, TENANT, fake_uuid
from harness import Program, ProgramRun, Registration, unwrap
from variants import SECRET_VALUES, cluster_of, deploy

AKS = "azure-native:containerservice:ManagedCluster"
RG = "azure-native:resources:ResourceGroup"
IP = "azure-native:network:PublicIPAddress"
ACR = "azure-native:containerregistry:Registry"
ROLE = "azure-native:authorization:RoleAssignment"
ROLE_DEFINITION = "azure-native:authorization:RoleDefinition"
WORKSPACE = "azure-native:operationalinsights:Workspace"
DIAGNOSTICS = "azure-native:monitor:DiagnosticSetting"
APP_PASSWORD = "azuread:index/applicationPassword:ApplicationPassword"
PROVIDER = "pulumi:providers:kubernetes"

# Built-in roles (learn.microsoft.com/azure/role-based-access-control/built-in-roles).
RBAC_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"  # Azure Kubernetes Service RBAC Cluster Admin
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
# The AKS AAD server application: the audience kubelogin asks Entra ID for (AKS docs, kubelogin).
AKS_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
# The identity running the mocked `pulumi up` (tests/cloud_mocks/azure.py, getClientConfig).
DEPLOYER = fake_uuid("deployer-object")
GROUPS = ["0b6f1f2e-5a8c-4c1e-9d3b-2f7e6a1c9d40", "7d2c8e41-3b9a-4f6d-8e1c-5a4b3c2d1e0f"]
# What a kubeconfig user may hold that is a credential in itself (client-go's AuthInfo fields).
STATIC_CREDENTIALS = {"token", "tokenFile", "client-key-data", "client-key", "password", "username", "auth-provider"}


def role_id(guid: str) -> str:
    return f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{guid}"


def mock_id(reg: Registration) -> str:
    """The id the harness gives every resource (mocks cannot choose it)."""
    return f"{reg.name}-id"


def roles(run: ProgramRun, guid: str) -> list[Registration]:
    return [r for r in run.of_type(ROLE) if r.inputs["roleDefinitionId"] == role_id(guid)]


def cluster_id(group: str = "binderhub-prod", name: str = "binderhub-prod") -> str:
    """The ARM id of Pulumi.prod.yaml's cluster (resource group and cluster binderhub-<stack>)."""
    return (
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}"
        f"/providers/Microsoft.ContainerService/managedClusters/{name}"
    )


def prod_with(**changes: Any) -> ProgramRun:
    """Pulumi.prod.yaml with some top-level keys replaced, evaluated afresh (as `pulumi config set`)."""
    config = {**harness.stack_file_config("prod"), **changes}
    run = Program(config, {"oauthClientSecret": SECRET_VALUES["oauthClientSecret"]}, stack="prod").run()
    assert run.error is None, repr(run.error)
    return run


@pytest.fixture
def prod() -> ProgramRun:
    return deploy("prod")


# ---------------------------------------------------------------------------- API server reach


def authorized_ranges(run: ProgramRun) -> list[str]:
    return run.one(AKS).inputs["apiServerAccessProfile"]["authorizedIPRanges"]


def test_by_default_the_api_server_takes_any_address_as_aks_spells_it(prod: ProgramRun) -> None:
    # cluster.apiAccessCidrs defaults to 0.0.0.0/0; AKS's "no restriction" is an empty list (a
    # range list switches the feature on). Sent, not omitted: it clears ranges set before.
    assert "apiAccessCidrs" not in harness.stack_file_config("prod")["cluster"]
    assert authorized_ranges(prod) == []


def test_api_access_cidrs_become_the_authorized_ranges() -> None:
    cidrs = ["203.0.113.0/24", "198.51.100.7/32"]
    run = prod_with(cluster=cluster_of("prod", apiAccessCidrs=cidrs))
    assert authorized_ranges(run) == cidrs


# ---------------------------------------------------------------------------- who may act


def test_entra_id_and_azure_rbac_without_local_accounts(prod: ProgramRun) -> None:
    aks = prod.one(AKS).inputs
    assert aks["disableLocalAccounts"] is True
    assert aks["aadProfile"]["managed"] is True and aks["aadProfile"]["enableAzureRBAC"] is True
    # Admins come from Azure role assignments, not from AKS's Kubernetes-RBAC admin groups.
    assert "adminGroupObjectIDs" not in aks["aadProfile"]


def test_the_deployer_administers_this_cluster_only(prod: ProgramRun) -> None:
    (admin,) = roles(prod, RBAC_CLUSTER_ADMIN)
    assert admin.inputs["principalId"] == DEPLOYER
    assert admin.inputs["scope"] == cluster_id()


def test_admin_groups_administer_this_cluster() -> None:
    run = prod_with(cluster=cluster_of("prod", adminGroupObjectIds=GROUPS))
    admins = roles(run, RBAC_CLUSTER_ADMIN)
    assert {r.inputs["scope"] for r in admins} == {cluster_id()}
    assert sorted(r.inputs["principalId"] for r in admins) == sorted([DEPLOYER, *GROUPS])
    assert {r.inputs.get("principalType") for r in admins if r.inputs["principalId"] in GROUPS} == {"Group"}


def test_no_role_assignment_grants_more_than_reading_ips_on_the_group(prod: ProgramRun) -> None:
    # Write access is scoped to one resource each: the cluster (admins), the registry (push,
    # pull), the ingress IP (the control plane's network role). On the resource group, only
    # the listing of its public IPs the cloud provider needs; nothing on the subscription.
    allowed = {cluster_id(), mock_id(prod.one(ACR)), mock_id(prod.one(IP))}
    group = mock_id(prod.one(RG))
    assert {r.inputs["scope"] for r in prod.of_type(ROLE)} <= allowed | {group}
    (lookup,) = [r for r in prod.of_type(ROLE) if r.inputs["scope"] == group]
    reader = prod.one(ROLE_DEFINITION)
    assert lookup.inputs["roleDefinitionId"] == role_id(reader.outputs["name"])
    assert reader.inputs["permissions"] == [{"actions": ["Microsoft.Network/publicIPAddresses/read"]}]
    assert reader.inputs["assignableScopes"] == [group]


def test_the_control_plane_may_change_the_ingress_ip_and_nothing_else(prod: ProgramRun) -> None:
    (network,) = roles(prod, NETWORK_CONTRIBUTOR)
    assert network.inputs["scope"] == mock_id(prod.one(IP))
    control_plane = prod.one(AKS).outputs["identity"]["principalId"]
    grants = [r for r in prod.of_type(ROLE) if r.inputs["principalId"] == control_plane]
    assert sorted(r.name for r in grants) == sorted([network.name, "cluster-public-ip-lookup"])
    # The ingress Service asks for the IP only once the cloud provider may find and attach it.
    controller = prod.chart("nginx-ingress")
    for grant in grants:
        assert prod.depends_on(controller, grant), grant.name


# ---------------------------------------------------------------------------- kubeconfigs


def kubeconfig_user(text: str) -> dict[str, Any]:
    document = yaml.safe_load(text)
    (context,) = [c for c in document["contexts"] if c["name"] == document["current-context"]]
    (user,) = [u for u in document["users"] if u["name"] == context["context"]["user"]]
    return user["user"]


def option(argv: list[str], name: str) -> str:
    (value,) = [argv[i + 1] for i, arg in enumerate(argv) if arg == name]
    return value


@pytest.mark.parametrize("which", ["provider", "stack output"])
def test_kubeconfigs_hold_no_credential_and_run_kubelogin(prod: ProgramRun, which: str) -> None:
    if which == "provider":
        text = unwrap(prod.one(PROVIDER).inputs["kubeconfig"])
    else:
        output = prod.outputs["kubeconfig"]
        text = output.value
        assert output.secret  # kept secret like every cloud's kubeconfig output (test_invariants.py)
    assert AKS_KUBE_TOKEN not in text
    user = kubeconfig_user(text)
    assert not STATIC_CREDENTIALS & set(user), f"{which} kubeconfig holds {sorted(STATIC_CREDENTIALS & set(user))}"
    assert set(user) == {"exec"}
    plugin = user["exec"]
    assert plugin["command"] == "kubelogin"
    argv = [plugin["command"], *plugin["args"]]
    # What `kubelogin convert-kubeconfig -l azurecli` writes: the caller's own Azure CLI login,
    # a token for the AKS server application in the deployment's tenant.
    assert argv[1] == "get-token"
    assert option(argv, "--login") == "azurecli"
    assert option(argv, "--server-id") == AKS_SERVER_ID
    assert option(argv, "--tenant-id") == TENANT
    assert not any(arg.startswith(("--client-secret", "--password")) for arg in argv), shlex.join(argv)
    (cluster,) = yaml.safe_load(text)["clusters"]
    assert cluster["cluster"]["certificate-authority-data"] == AKS_CA_DATA


def test_the_provider_acts_only_once_the_deployer_is_admin(prod: ProgramRun) -> None:
    (admin,) = roles(prod, RBAC_CLUSTER_ADMIN)
    provider = prod.one(PROVIDER)
    assert prod.depends_on(provider, admin)
    on_cluster = [r for r in prod.registrations if r.provider_urn == provider.urn]
    assert on_cluster, "nothing deployed with the cluster's provider"
    late = [r.name for r in on_cluster if not prod.depends_on(r, admin)]
    assert not late, f"these reach the cluster before the deployer's role exists: {late}"


def test_no_static_cluster_credential_is_asked_for(prod: ProgramRun) -> None:
    tokens = {c.token for c in prod.calls}
    assert "azure-native:containerservice:listManagedClusterAdminCredentials" not in tokens
    assert "azure-native:containerservice:listManagedClusterMonitoringUserCredentials" not in tokens
    # The user credential call serves the API server's address and CA only: AKS's own user
    # entry (device code login) is in no resource's inputs.
    for reg in prod.registrations:
        assert "clusterUser_" not in str(unwrap(reg.inputs)), f"{reg.type} {reg.name} keeps AKS's kubeconfig user"


# ---------------------------------------------------------------------------- audit logs


def test_control_plane_audit_logs_go_to_log_analytics(prod: ProgramRun) -> None:
    workspace = prod.one(WORKSPACE)
    assert workspace.inputs["retentionInDays"] == 90  # cluster.auditLogRetentionDays' default
    assert workspace.inputs["sku"] == {"name": "PerGB2018"}
    # No shared-key ingestion: the workspace adds no standing key.
    assert workspace.inputs["features"]["disableLocalAuth"] is True
    assert workspace.inputs["resourceGroupName"] == prod.one(RG).outputs["name"]
    setting = prod.one(DIAGNOSTICS)
    assert setting.inputs["resourceUri"] == cluster_id()
    assert setting.inputs["workspaceId"] == mock_id(workspace)
    logs = {log["category"]: log["enabled"] for log in setting.inputs["logs"]}
    assert logs == {"kube-audit-admin": True, "guard": True}
    assert setting.inputs["logAnalyticsDestinationType"] == "Dedicated"


def test_audit_log_retention_from_config() -> None:
    run = prod_with(cluster=cluster_of("prod", auditLogRetentionDays=365))
    assert run.one(WORKSPACE).inputs["retentionInDays"] == 365


# ---------------------------------------------------------------------------- push password expiry

# Worked by hand: 2026-11-30 is day 20787 after 1970-01-01; a 90-day credential's windows are
# 60 days, so its window started on day 346*60 = 20760, 2026-11-03, and the next starts on
# 2027-01-02. Expiry: window start + 90 days.
TODAY = dt.date(2026, 11, 30)


def password_on(monkeypatch: pytest.MonkeyPatch, day: dt.date, **registry: Any) -> dict[str, Any]:
    """The push password's inputs of Pulumi.prod.yaml deployed on `day`, registry keys changed."""
    monkeypatch.setattr("components.rotation.today", lambda: day)
    run = prod_with(registry={**harness.stack_file_config("prod")["registry"], **registry})
    return unwrap(run.one(APP_PASSWORD).inputs)


def test_the_push_password_expires_after_its_lifetime(monkeypatch: pytest.MonkeyPatch) -> None:
    password = password_on(monkeypatch, TODAY)
    assert password["endDate"] == "2027-02-01T00:00:00Z"
    assert password["rotateWhenChanged"] == {"window": "2026-11-03"}


def test_the_push_password_is_kept_within_its_window(monkeypatch: pytest.MonkeyPatch) -> None:
    first = password_on(monkeypatch, dt.date(2026, 11, 3))
    last = password_on(monkeypatch, dt.date(2027, 1, 1))
    assert (first["endDate"], first["rotateWhenChanged"]) == (last["endDate"], last["rotateWhenChanged"])


def test_the_push_password_is_replaced_in_the_next_window(monkeypatch: pytest.MonkeyPatch) -> None:
    before = password_on(monkeypatch, TODAY)
    after = password_on(monkeypatch, dt.date(2027, 1, 2))
    assert after["rotateWhenChanged"] != before["rotateWhenChanged"]
    assert after["endDate"] == "2027-04-02T00:00:00Z"
    # Replaced 30 days before the old one expires: time for the next `pulumi up`.
    old_expiry = dt.date.fromisoformat(before["endDate"][:10])
    assert old_expiry - dt.date(2027, 1, 2) == dt.timedelta(days=30)


def test_a_rotation_key_replaces_the_push_password_now(monkeypatch: pytest.MonkeyPatch) -> None:
    before = password_on(monkeypatch, TODAY)
    rotated = password_on(monkeypatch, TODAY, credentialRotation="2026-11-30")
    assert rotated["rotateWhenChanged"] != before["rotateWhenChanged"]
    again = password_on(monkeypatch, TODAY, credentialRotation="2026-12-01")
    assert again["rotateWhenChanged"] != rotated["rotateWhenChanged"]


def test_the_push_password_lifetime_from_config(monkeypatch: pytest.MonkeyPatch) -> None:
    # 30 days: windows of 20 days; day 20787 lies in the window from day 1039*20 = 20780,
    # 2026-11-23, so the password expires 30 days later, on 2026-12-23.
    password = password_on(monkeypatch, TODAY, credentialLifetimeDays=30)
    assert password["endDate"] == "2026-12-23T00:00:00Z"
