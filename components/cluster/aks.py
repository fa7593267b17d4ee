"""AksCluster: an AKS cluster in its own resource group, with a Kubernetes provider bound to it.

Network policy: Azure CNI Overlay with the Cilium dataplane (Azure CNI Powered by Cilium), which
enforces NetworkPolicy itself. Cilium needs Azure CNI (overlay or dynamic IP), which the cluster
already uses, and is the dataplane Azure develops its networking features on; Calico would work
with overlay too, but adds a second policy engine beside the dataplane. A cluster created before
this setting keeps its dataplane: azure-native replaces the whole cluster when either field
changes, so they are ignored after creation, and docs/azure.md shows the in-place `az aks update`.

Scaling: the user pool is tainted `hub.jupyter.org/dedicated=user:NoSchedule` and labelled
`hub.jupyter.org/node-purpose=user` (the core pool `core`), so only user servers and builds
land on it; AKS's cluster autoscaler keeps it within `userMinNodes`..`userMaxNodes` and removes
an empty user node after SCALE_DOWN_UNNEEDED_TIME.

Instance metadata: Azure has no node-level switch in the API version used here that keeps pods
from IMDS (169.254.169.254), where any pod can ask for the kubelet identity's tokens (AcrPull
on the registry). The charts' NetworkPolicies deny that address, and Cilium enforces them.

Access (issue #19): the API server answers only `cluster.apiAccessCidrs` (AKS authorized IP
ranges; a list holding 0.0.0.0/0 switches them off, which is AKS's "any address"). Nobody holds
a standing credential: local accounts are off and Entra ID (managed AAD) authenticates every
caller, Azure RBAC authorizes them; the identity running `pulumi up` and the
`cluster.adminGroupObjectIds` groups hold "Azure Kubernetes Service RBAC Cluster Admin" on this
cluster only. The kubeconfig runs kubelogin, which turns the caller's Azure login into a
short-lived token; it holds the API server's address and CA, nothing secret. Audit: the
control plane's kube-audit-admin and guard (Entra authentication) logs go to a Log Analytics
workspace kept `cluster.auditLogRetentionDays` days.
"""

import base64
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_azure_native as azure
import pulumi_kubernetes as k8s
import yaml

from components.cluster import NODE_PURPOSE_LABEL, SCALE_DOWN_UNNEEDED_TIME, USER_TAINT, NodePools

# Azure CNI Powered by Cilium: the dataplane enforces NetworkPolicy (policy "cilium" requires it).
NETWORK_DATAPLANE = "cilium"
NETWORK_POLICY = "cilium"
# Changing either replaces the cluster in azure-native; AKS migrates a live cluster in place.
KEEP_DATAPLANE = ["networkProfile.networkDataplane", "networkProfile.networkPolicy"]
# AKS's default is 10m. An empty user node costs as much as a full one; a node with a user
# server on it is never drained (the pod has no controller), so only empty nodes go.
# Built-in roles (same GUID in every tenant). Network Contributor: manage load balancers and
# public IPs. RBAC Cluster Admin: every Kubernetes action in the cluster it is assigned on
# (Azure RBAC for Kubernetes authorization).
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
AKS_RBAC_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
# The one action the cloud provider needs over the ingress IP's resource group (listing it).
PUBLIC_IP_READ = "Microsoft.Network/publicIPAddresses/read"
# The "Azure Kubernetes Service AAD Server" application, the audience of every Entra token an
# AKS API server accepts (one id in every tenant of the public cloud; kubelogin's --server-id).
AKS_AAD_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
KUBELOGIN = "kubelogin"
# The control plane's diagnostic log categories sent to Log Analytics: every audit event but
# get/list/watch (kube-audit-admin; "kube-audit" would add every read, several times the
# volume), and guard, the Entra ID authentication and Azure RBAC decisions.
AUDIT_LOG_CATEGORIES = ("kube-audit-admin", "guard")


def _role_definition_id(role_guid: pulumi.Input[str]) -> pulumi.Output[str]:
    """A role's id in the deployment's subscription (the form Azure returns, so no diff)."""
    subscription = azure.authorization.get_client_config_output().subscription_id
    return pulumi.Output.concat(
        "/subscriptions/", subscription, "/providers/Microsoft.Authorization/roleDefinitions/", role_guid
    )


@dataclass(frozen=True)
class AksClusterArgs:
    location: str
    resource_group_name: str  # created here; holds the cluster and whatever the stack adds
    cluster_name: str
    pools: NodePools
    tier: str = "Free"
    protect: bool = False  # the resource group and the cluster only
    # IPv4 CIDR blocks that may reach the API server (cluster.apiAccessCidrs); see authorized_ip_ranges.
    api_access_cidrs: Sequence[str] = ("0.0.0.0/0",)
    # Entra ID group object ids whose members administer the cluster (cluster.adminGroupObjectIds).
    admin_group_object_ids: Sequence[str] = ()
    audit_log_retention_days: int = 90  # cluster.auditLogRetentionDays (Log Analytics: 30..730)


def authorized_ip_ranges(cidrs: Sequence[str]) -> list[str]:
    """AKS `apiServerAccessProfile.authorizedIPRanges` for the CIDR blocks allowed to reach the API.

    AKS reads an empty list as "no restriction" (the feature off, any address), which is what a
    block covering every address (0.0.0.0/0) means: that is sent as []. Sent explicitly, not
    left out, so that widening a restricted cluster back to any address clears the old ranges.
    Any other list is sent as is; AKS adds the cluster's own outbound IP (the nodes) by itself.
    Source: learn.microsoft.com/azure/aks/api-server-authorized-ip-ranges ("" disables the
    feature; 0.0.0.0/32 alone means the outbound IP only and is refused beside other ranges).
    """
    if any(ipaddress.ip_network(cidr).prefixlen == 0 for cidr in cidrs):
        return []
    return list(cidrs)


def aks_kubeconfig(context: str, server: str, ca_data: str, tenant_id: str) -> str:
    """A kubeconfig for an Entra ID (managed AAD) cluster that holds no credential.

    Its user runs `kubelogin get-token --login azurecli`: kubelogin asks the Azure CLI's login
    for a token of the AKS server application (`--server-id`) in `tenant_id`, so whoever runs
    `pulumi up` or kubectl authenticates as themselves. `AAD_LOGIN_METHOD` in the environment
    overrides `--login` (kubelogin reads it after its flags: workloadidentity or spn in CI,
    with AZURE_CLIENT_ID/AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE or AZURE_CLIENT_SECRET).
    `server` is the API server URL, `ca_data` its base64 CA bundle (as AKS returns both).
    """
    document: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": {"server": server, "certificate-authority-data": ca_data}}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
        "current-context": context,
        "users": [
            {
                "name": context,
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": KUBELOGIN,
                        "args": [
                            "get-token",
                            "--login",
                            "azurecli",
                            "--server-id",
                            AKS_AAD_SERVER_ID,
                            "--tenant-id",
                            tenant_id,
                        ],
                        "installHint": "kubelogin is needed to reach this cluster: az aks install-cli, "
                        "or https://azure.github.io/kubelogin/install.html",
                        # Device code login (AAD_LOGIN_METHOD=devicecode) needs the terminal.
                        "interactiveMode": "IfAvailable",
                        "provideClusterInfo": False,
                    }
                },
            }
        ],
    }
    return yaml.safe_dump(document, sort_keys=False)


class AksCluster(pulumi.ComponentResource):
    """AKS with a system-assigned identity, Entra ID authentication and Azure RBAC (no local
    accounts), authorized IP ranges, Cilium network policy, audit logs in Log Analytics and two
    labelled node pools (the user pool tainted for user servers and builds).

    The kubeconfig (the provider's and the exported one) runs kubelogin with the caller's Azure
    CLI login; the provider waits for the deployer's cluster-admin role assignment.
    `allow_load_balancer_ip` lets the control plane's identity attach one public IP.
    """

    provider: k8s.Provider
    context: str | None
    kubeconfig: pulumi.Output[str]
    name: pulumi.Output[str]
    resource_group_name: pulumi.Output[str]
    resource_group_id: pulumi.Output[str]
    node_resource_group: pulumi.Output[str]
    kubelet_object_id: pulumi.Output[str]  # the nodes' identity: what pulls images
    principal_id: pulumi.Output[str]  # the control plane's identity: what manages LBs and IPs
    cluster_id: pulumi.Output[str]
    admin_roles: list[azure.authorization.RoleAssignment]  # the deployer's first, then each group's
    audit_workspace: azure.operationalinsights.Workspace
    network_role: azure.authorization.RoleAssignment  # set by allow_load_balancer_ip

    def __init__(self, name: str, args: AksClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("binderhub:cluster:AksCluster", name, None, opts)
        # Protection is set per resource: a protected parent would protect every child.
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protect)
        child = pulumi.ResourceOptions(parent=self)

        group = azure.resources.ResourceGroup(
            f"{name}-rg", resource_group_name=args.resource_group_name, location=args.location, opts=stateful
        )
        # Pinned to a patch: no automatic upgrades (they would drift from the config).
        pinned_patch = args.pools.kubernetes_version is not None and args.pools.kubernetes_version.count(".") == 2
        cluster = azure.containerservice.ManagedCluster(
            f"{name}-aks",
            resource_name_=args.cluster_name,
            resource_group_name=group.name,
            location=args.location,
            dns_prefix=args.cluster_name,
            kubernetes_version=args.pools.kubernetes_version,
            sku=azure.containerservice.ManagedClusterSKUArgs(name="Base", tier=args.tier),
            identity=azure.containerservice.ManagedClusterIdentityArgs(
                type=azure.containerservice.ResourceIdentityType.SYSTEM_ASSIGNED
            ),
            enable_rbac=True,
            # No static credential: listClusterAdminCredential/listClusterUserCredential give no
            # token any more; every caller authenticates with Entra ID. AKS switches an existing
            # cluster in place (docs/azure.md, migration).
            disable_local_accounts=True,
            aad_profile=azure.containerservice.ManagedClusterAADProfileArgs(managed=True, enable_azure_rbac=True),
            api_server_access_profile=azure.containerservice.ManagedClusterAPIServerAccessProfileArgs(
                authorized_ip_ranges=authorized_ip_ranges(args.api_access_cidrs)
            ),
            oidc_issuer_profile=azure.containerservice.ManagedClusterOIDCIssuerProfileArgs(enabled=True),
            security_profile=azure.containerservice.ManagedClusterSecurityProfileArgs(
                workload_identity=azure.containerservice.ManagedClusterSecurityProfileWorkloadIdentityArgs(enabled=True)
            ),
            auto_upgrade_profile=azure.containerservice.ManagedClusterAutoUpgradeProfileArgs(
                upgrade_channel="none" if pinned_patch else "patch",
                node_os_upgrade_channel="NodeImage",
            ),
            # Overlay networking: pods do not consume VNet addresses; a Standard LB takes static IPs.
            network_profile=azure.containerservice.ContainerServiceNetworkProfileArgs(
                network_plugin="azure",
                network_plugin_mode="overlay",
                network_dataplane=NETWORK_DATAPLANE,
                network_policy=NETWORK_POLICY,
                load_balancer_sku="standard",
                outbound_type="loadBalancer",
            ),
            auto_scaler_profile=azure.containerservice.ManagedClusterPropertiesAutoScalerProfileArgs(
                scale_down_unneeded_time=SCALE_DOWN_UNNEEDED_TIME,
                # Of several pools that fit a pending pod, the one left with the least idle capacity.
                expander="least-waste",
            ),
            agent_pool_profiles=[
                azure.containerservice.ManagedClusterAgentPoolProfileArgs(
                    name="core",
                    mode="System",
                    os_type="Linux",
                    type="VirtualMachineScaleSets",
                    vm_size=args.pools.node_size,
                    count=args.pools.node_count,
                    node_labels={NODE_PURPOSE_LABEL: "core"},
                )
            ],
            opts=pulumi.ResourceOptions.merge(stateful, pulumi.ResourceOptions(ignore_changes=KEEP_DATAPLANE)),
        )
        # A separate resource: user pools can scale to zero, and the autoscaler owns the count.
        azure.containerservice.AgentPool(
            f"{name}-user-pool",
            agent_pool_name="user",
            resource_group_name=group.name,
            resource_name_=cluster.name,
            mode="User",
            os_type="Linux",
            type="VirtualMachineScaleSets",
            vm_size=args.pools.user_node_size,
            enable_auto_scaling=True,
            min_count=args.pools.user_min_nodes,
            max_count=args.pools.user_max_nodes,
            count=args.pools.user_min_nodes,
            node_labels={NODE_PURPOSE_LABEL: "user"},
            # Only pods that tolerate it (z2jh's user pods, BinderHub's build pods) run here;
            # AKS updates the taint of an existing pool in place.
            node_taints=[USER_TAINT],
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["count"]),
        )

        self.name = cluster.name
        self.cluster_id = cluster.id
        self.resource_group_name = group.name
        self.resource_group_id = group.id
        self.node_resource_group = cluster.node_resource_group.apply(lambda rg: rg or "")
        self.kubelet_object_id = cluster.identity_profile.apply(_kubelet_object_id)
        self.principal_id = cluster.identity.apply(_principal_id)
        self._name = name

        # Whoever runs `pulumi up` (az login, or CI's service principal) administers the
        # cluster through Azure RBAC: the provider acts as that identity. Its principal type is
        # left to Azure (a user or a service principal), the identity exists long since.
        client = azure.authorization.get_client_config_output()
        deployer = azure.authorization.RoleAssignment(
            f"{name}-deployer-admin",
            principal_id=client.object_id,
            role_definition_id=_role_definition_id(AKS_RBAC_CLUSTER_ADMIN),
            scope=cluster.id,
            opts=child,
        )
        self.admin_roles = [deployer] + [
            azure.authorization.RoleAssignment(
                f"{name}-admins-{group_id.lower()}",
                principal_id=group_id,
                principal_type="Group",
                role_definition_id=_role_definition_id(AKS_RBAC_CLUSTER_ADMIN),
                scope=cluster.id,
                opts=child,
            )
            for group_id in args.admin_group_object_ids
        ]

        self.audit_workspace = self._audit_logs(name, args, group, cluster)

        # The API server's address and CA from the Entra (exec) form of the user kubeconfig;
        # nothing else of it is kept, and an Entra cluster's holds no credential anyway.
        credentials = azure.containerservice.list_managed_cluster_user_credentials_output(
            resource_group_name=group.name, resource_name=cluster.name, format="exec"
        )
        endpoint = credentials.apply(_server_and_ca)
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(endpoint, client.tenant_id).apply(
                lambda parts: aks_kubeconfig(args.cluster_name, parts[0][0], parts[0][1], parts[1])
            )
        )
        self.context = None
        # The provider is created only once the deployer's role exists (depends_on), so no
        # Kubernetes call precedes it. Not through the kubeconfig's value: a kubeconfig unknown
        # at preview (a role about to be created) makes pulumi-kubernetes plan to replace every
        # object on the cluster. `cluster_identifier` (plain config, known at preview): the
        # provider, and every object through it, is replaced only when it changes, not when the
        # API server's address or CA does (`az aks rotate-certs`). No delete_unreachable: a
        # cluster that does not answer fails the run; scripts/up.py sets it for a destroy once
        # Azure confirms the cluster is gone.
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            cluster_identifier=f"azure:{args.resource_group_name}/{args.cluster_name}",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[deployer]),
        )
        self.register_outputs(
            {
                "name": self.name,
                "kubeconfig": self.kubeconfig,
                "resource_group_name": self.resource_group_name,
                "node_resource_group": self.node_resource_group,
                "kubelet_object_id": self.kubelet_object_id,
                "principal_id": self.principal_id,
            }
        )

    def _audit_logs(
        self,
        name: str,
        args: AksClusterArgs,
        group: azure.resources.ResourceGroup,
        cluster: azure.containerservice.ManagedCluster,
    ) -> azure.operationalinsights.Workspace:
        """A Log Analytics workspace keeping the control plane's audit logs `audit_log_retention_days`.

        Pay-as-you-go (PerGB2018): billed per GB ingested and per GB-month kept beyond the free
        retention (docs/azure.md). Resource-specific tables (AKSAuditAdmin, AKSControlPlane) as
        AKS recommends; the workspace takes no shared-key ingestion (diagnostic settings do not
        need it), so it adds no standing credential.
        """
        workspace = azure.operationalinsights.Workspace(
            f"{name}-audit-logs",
            resource_group_name=group.name,
            location=args.location,
            sku=azure.operationalinsights.WorkspaceSkuArgs(name="PerGB2018"),
            retention_in_days=args.audit_log_retention_days,
            features=azure.operationalinsights.WorkspaceFeaturesArgs(disable_local_auth=True),
            opts=pulumi.ResourceOptions(parent=self),
        )
        azure.monitor.DiagnosticSetting(
            f"{name}-audit",
            name="binderhub-audit",
            resource_uri=cluster.id,
            workspace_id=workspace.id,
            log_analytics_destination_type="Dedicated",
            logs=[
                azure.monitor.DiagnosticsLogSettingsArgs(category=category, enabled=True)
                for category in AUDIT_LOG_CATEGORIES
            ],
            opts=pulumi.ResourceOptions(parent=self),
        )
        return workspace

    def allow_load_balancer_ip(self, ip: azure.network.PublicIPAddress) -> azure.authorization.RoleAssignment:
        """Let the control plane's identity attach `ip` (in this component's resource group).

        What the Azure cloud provider does with an IP outside the node resource group: it lists
        the public IPs of the group the Service names (`azure-load-balancer-resource-group`) and
        matches the address (cloud-provider-azure `findMatchedPIP`: a List over the group, so
        `publicIPAddresses/read` at the group's scope: ARM answers 403 to a list without it,
        whatever the caller may read inside), then reads and tags the IP (`write`) and joins it
        to the load balancer's frontend (`publicIPAddresses/join/action`, the linked access
        check on another group's IP; cloud-provider-azure docs, topics/azure-permissions).

        So: Network Contributor on the IP alone (write and join on nothing else), and a custom
        role holding only `Microsoft.Network/publicIPAddresses/read` on the group (the listing).
        Returns the Network Contributor assignment; the Service must wait for both (the reader
        assignment is created before it).
        """
        client = azure.authorization.get_client_config_output()
        group_scope = self.resource_group_id
        reader = azure.authorization.RoleDefinition(
            f"{self._name}-public-ip-reader",
            scope=group_scope,
            # Role names are unique in the tenant: the group and subscription make it so.
            role_name=pulumi.Output.concat(
                "BinderHub public IP lookup ", self.resource_group_name, " ", client.subscription_id
            ),
            description="Lists the public IP addresses of one resource group (the AKS cloud provider "
            "finding a static ingress IP by its address).",
            role_type="CustomRole",
            permissions=[azure.authorization.PermissionArgs(actions=[PUBLIC_IP_READ])],
            assignable_scopes=[group_scope],
            opts=pulumi.ResourceOptions(parent=self),
        )
        lookup = azure.authorization.RoleAssignment(
            f"{self._name}-public-ip-lookup",
            principal_id=self.principal_id,
            principal_type="ServicePrincipal",
            role_definition_id=_role_definition_id(reader.name),
            scope=group_scope,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.network_role = azure.authorization.RoleAssignment(
            f"{self._name}-network-contributor",
            principal_id=self.principal_id,
            principal_type="ServicePrincipal",
            role_definition_id=_role_definition_id(NETWORK_CONTRIBUTOR),
            scope=ip.id,
            # The Service waits for this one; the listing permission comes first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[lookup]),
        )
        return self.network_role


def _kubelet_object_id(
    profile: "Mapping[str, azure.containerservice.outputs.UserAssignedIdentityManagedClusterResponse] | None",
) -> str:
    kubelet = (profile or {}).get("kubeletidentity")
    if kubelet is None or not kubelet.object_id:
        raise RuntimeError("the AKS cluster reports no kubelet identity (identityProfile.kubeletidentity)")
    return kubelet.object_id


def _principal_id(identity: "azure.containerservice.outputs.ManagedClusterIdentityResponse | None") -> str:
    if identity is None or not identity.principal_id:
        raise RuntimeError("the AKS cluster reports no system-assigned identity")
    return identity.principal_id


def _server_and_ca(result: azure.containerservice.ListManagedClusterUserCredentialsResult) -> tuple[str, str]:
    """The API server URL and its base64 CA bundle from AKS's user kubeconfig (first cluster)."""
    if not result.kubeconfigs:
        raise RuntimeError("AKS returned no user kubeconfig (listClusterUserCredential)")
    document = yaml.safe_load(base64.b64decode(result.kubeconfigs[0].value))
    try:
        cluster = document["clusters"][0]["cluster"]
        return str(cluster["server"]), str(cluster["certificate-authority-data"])
    except (KeyError, IndexError, TypeError) as error:
        raise RuntimeError(f"AKS's user kubeconfig names no API server and CA ({error!r})") from None
