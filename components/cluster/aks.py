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
"""

import base64
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure
import pulumi_kubernetes as k8s

from components.cluster import NODE_PURPOSE_LABEL, SCALE_DOWN_UNNEEDED_TIME, USER_TAINT, NodePools

# Azure CNI Powered by Cilium: the dataplane enforces NetworkPolicy (policy "cilium" requires it).
NETWORK_DATAPLANE = "cilium"
NETWORK_POLICY = "cilium"
# Changing either replaces the cluster in azure-native; AKS migrates a live cluster in place.
KEEP_DATAPLANE = ["networkProfile.networkDataplane", "networkProfile.networkPolicy"]
# AKS's default is 10m. An empty user node costs as much as a full one; a node with a user
# server on it is never drained (the pod has no controller), so only empty nodes go.
# Built-in role (same GUID in every tenant): manage load balancers and public IPs.
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"


def _role_definition_id(role_guid: str) -> pulumi.Output[str]:
    """A built-in role's id in the deployment's subscription (the form Azure returns, so no diff)."""
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


class AksCluster(pulumi.ComponentResource):
    """AKS with a system-assigned identity, Kubernetes RBAC, Cilium network policy and two
    labelled node pools (the user pool tainted for user servers and builds).

    The kubeconfig comes from the cluster's user credentials; local accounts stay enabled
    so `pulumi up` needs no interactive Entra login (kubelogin). RBAC, the OIDC issuer and
    workload identity are on, so Entra integration can be switched on later without
    recreating the cluster.
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
    network_role: azure.authorization.RoleAssignment

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
            disable_local_accounts=False,
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
        self.resource_group_name = group.name
        self.resource_group_id = group.id
        self.node_resource_group = cluster.node_resource_group.apply(lambda rg: rg or "")
        self.kubelet_object_id = cluster.identity_profile.apply(_kubelet_object_id)
        self.principal_id = cluster.identity.apply(_principal_id)

        # The cloud provider attaches the ingress IP (in this group, not the AKS-managed node
        # group) to its load balancer: the IP outlives cluster re-creation and DNS stays valid.
        self.network_role = azure.authorization.RoleAssignment(
            f"{name}-network-contributor",
            principal_id=self.principal_id,
            principal_type="ServicePrincipal",
            role_definition_id=_role_definition_id(NETWORK_CONTRIBUTOR),
            scope=group.id,
            opts=child,
        )

        credentials = azure.containerservice.list_managed_cluster_user_credentials_output(
            resource_group_name=group.name, resource_name=cluster.name
        )
        self.kubeconfig = pulumi.Output.secret(credentials.apply(_decode_kubeconfig))
        self.context = None
        # A destroy after the cluster is already gone drops its Kubernetes objects from the state.
        self.provider = k8s.Provider(f"{name}-k8s", kubeconfig=self.kubeconfig, delete_unreachable=True, opts=child)
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


def _decode_kubeconfig(result: azure.containerservice.ListManagedClusterUserCredentialsResult) -> str:
    if not result.kubeconfigs:
        raise RuntimeError("AKS returned no user kubeconfig (listClusterUserCredential)")
    return base64.b64decode(result.kubeconfigs[0].value).decode()
