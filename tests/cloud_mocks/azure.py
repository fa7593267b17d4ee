"""What azure-native, azuread and random return for the Azure target, shaped like the real APIs.

Resource ids are the harness's (`<logical name>-id`) except the AKS cluster's, which is its
ARM path as Azure gives it: resources named inside the cluster (its diagnostic setting) then
differ between two stacks as they do in Azure.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

from pulumi.runtime import mocks as pulumi_mocks

from harness import RunOptions, call_mock, fake_hex, resource_mock

SUBSCRIPTION = "00000000-1111-2222-3333-444444444444"
TENANT = "99999999-8888-7777-6666-555555555555"
INGRESS_IP = "20.61.12.34"
ACR_PASSWORD = "acr-push-password-Q~7cT0pSecret0123456789"  # what the tests must never see in plain
# What a local-account kubeconfig of AKS holds (a static token). The cluster has local accounts
# disabled, so no mock returns it; tests/test_invariants.py still searches every output for it.
AKS_KUBE_TOKEN = "aks-user-token-0123456789abcdef"
# The API server's CA as AKS's kubeconfigs carry it (base64 PEM); public, not a credential.
AKS_CA_DATA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nTEST-AKS-CA\n-----END CERTIFICATE-----\n").decode()
# The Azure CLI's public client: what AKS's exec kubeconfig names for kubelogin's device code login.
AZURE_CLI_CLIENT_ID = "80faf920-1908-4b52-b5ef-a8e7bedfc67a"


def fake_uuid(seed: str) -> str:
    return str(uuid.UUID(fake_hex(seed, 32)))


def _group_id(name: str) -> str:
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{name}"


def _auto_name(args: pulumi_mocks.MockResourceArgs, key: str) -> str:
    """azure-native names a resource from its logical name plus a random suffix unless given one."""
    return str(args.inputs.get(key) or f"{args.name}{fake_hex(args.name, 8)}")


@resource_mock("azure-native:resources:ResourceGroup")
def _resource_group(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    name = _auto_name(args, "resourceGroupName")
    return {"name": name, "properties": {"provisioningState": "Succeeded"}}


@resource_mock("azure-native:containerservice:ManagedCluster")
def _managed_cluster(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    name = _auto_name(args, "resourceName")
    group = args.inputs["resourceGroupName"]
    location = args.inputs["location"]
    node_group = f"MC_{group}_{name}_{location}"
    return {
        "id": f"{_group_id(group)}/providers/Microsoft.ContainerService/managedClusters/{name}",
        "name": name,
        "fqdn": aks_fqdn(name, location),
        "nodeResourceGroup": node_group,
        "provisioningState": "Succeeded",
        "currentKubernetesVersion": args.inputs.get("kubernetesVersion") or "1.33.3",
        "identity": {
            "type": "SystemAssigned",
            "principalId": fake_uuid(f"{name}-control-plane"),
            "tenantId": TENANT,
        },
        "identityProfile": {
            "kubeletidentity": {
                "clientId": fake_uuid(f"{name}-kubelet-client"),
                "objectId": fake_uuid(f"{name}-kubelet-object"),
                "resourceId": f"{_group_id(node_group)}/providers/Microsoft.ManagedIdentity/"
                f"userAssignedIdentities/{name}-agentpool",
            }
        },
    }


@resource_mock("azure-native:containerservice:AgentPool")
def _agent_pool(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    return {"name": args.inputs.get("agentPoolName", args.name), "provisioningState": "Succeeded"}


@resource_mock("azure-native:containerregistry:Registry")
def _registry(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    name = _auto_name(args, "registryName")
    return {
        "name": name,
        "loginServer": f"{name.lower()}.azurecr.io",
        "provisioningState": "Succeeded",
    }


@resource_mock("azure-native:authorization:RoleAssignment")
def _role_assignment(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    return {"name": fake_uuid(args.name), "principalType": args.inputs.get("principalType", "ServicePrincipal")}


@resource_mock("azure-native:authorization:RoleDefinition")
def _role_definition(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    # A custom role's name is the GUID in its id (.../roleDefinitions/<name>).
    return {"name": fake_uuid(args.name), "type": "Microsoft.Authorization/roleDefinitions"}


@resource_mock("azure-native:network:PublicIPAddress")
def _public_ip(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    name = _auto_name(args, "publicIpAddressName")
    return {
        "name": name,
        "ipAddress": INGRESS_IP,
        "provisioningState": "Succeeded",
    }


@resource_mock("azuread:index/application:Application")
def _application(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    object_id = fake_uuid(f"{args.name}-object")
    return {"objectId": object_id, "clientId": fake_uuid(f"{args.name}-client"), "signInAudience": "AzureADMyOrg"}


@resource_mock("azuread:index/servicePrincipal:ServicePrincipal")
def _service_principal(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    object_id = fake_uuid(f"{args.name}-object")
    return {"objectId": object_id, "applicationTenantId": TENANT, "type": "Application"}


@resource_mock("azuread:index/applicationPassword:ApplicationPassword")
def _application_password(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    key_id = fake_uuid(args.name)
    return {"keyId": key_id, "value": ACR_PASSWORD}


def aks_exec_kubeconfig(cluster: str, group: str, fqdn: str) -> str:
    """listClusterUserCredential(format=exec) of a managed-AAD cluster: kubelogin, device code login."""
    return f"""apiVersion: v1
kind: Config
clusters:
- name: {cluster}
  cluster:
    certificate-authority-data: {AKS_CA_DATA}
    server: https://{fqdn}:443
contexts:
- name: {cluster}
  context: {{cluster: {cluster}, user: clusterUser_{group}_{cluster}}}
current-context: {cluster}
users:
- name: clusterUser_{group}_{cluster}
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args: [get-token, --environment, AzurePublicCloud, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630,
             --client-id, {AZURE_CLI_CLIENT_ID}, --tenant-id, {TENANT}, --login, devicecode]
      command: kubelogin
      env: null
      installHint: kubelogin is not installed
      interactiveMode: IfAvailable
      provideClusterInfo: false
"""


def aks_fqdn(cluster: str, location: str = "westeurope") -> str:
    return f"{cluster}-{fake_hex(cluster, 8)}.hcp.{location}.azmk8s.io"


@call_mock("azure-native:containerservice:listManagedClusterUserCredentials")
def _user_credentials(args: pulumi_mocks.MockCallArgs, _: RunOptions) -> dict[str, Any]:
    cluster, group = args.args["resourceName"], args.args["resourceGroupName"]
    kubeconfig = aks_exec_kubeconfig(cluster, group, aks_fqdn(cluster))
    return {"kubeconfigs": [{"name": "clusterUser", "value": base64.b64encode(kubeconfig.encode()).decode()}]}


@resource_mock("azure-native:operationalinsights:Workspace")
def _workspace(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    name = _auto_name(args, "workspaceName")
    return {
        "name": name,
        "customerId": fake_uuid(f"{name}-customer"),
        "provisioningState": "Succeeded",
        "retentionInDays": args.inputs.get("retentionInDays", 30),
    }


@resource_mock("azure-native:monitor:DiagnosticSetting")
def _diagnostic_setting(args: pulumi_mocks.MockResourceArgs, _: RunOptions) -> dict[str, Any]:
    return {"name": args.inputs.get("name", args.name), "type": "Microsoft.Insights/diagnosticSettings"}


@call_mock("azure-native:authorization:getClientConfig")
def _client_config(args: pulumi_mocks.MockCallArgs, _: RunOptions) -> dict[str, Any]:
    return {
        "clientId": fake_uuid("deployer-client"),
        "objectId": fake_uuid("deployer-object"),
        "subscriptionId": SUBSCRIPTION,
        "tenantId": TENANT,
    }
