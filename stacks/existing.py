"""Target `existing`: a cluster that already runs (a kube context, or bare metal)."""

import pulumi

from components.cluster.existing import ExistingCluster, ExistingClusterArgs
from components.openebs import OpenEbsLocalPv, OpenEbsLocalPvArgs
from components.registry.external import registry_from_config
from config import ExistingStack, StackSecrets
from stacks.platform import IngressEntry, StackOutputs, deploy_platform
from versions import chart


def build(cfg: ExistingStack, secrets: StackSecrets) -> StackOutputs:
    cluster_cfg = cfg.cluster
    assert secrets.kubeconfig is not None, "load_config resolves the kubeconfig on cloud 'existing'"
    cluster = ExistingCluster(
        "cluster", ExistingClusterArgs(kubeconfig=secrets.kubeconfig, context=cluster_cfg.context)
    )
    registry = registry_from_config(cfg.registry, secrets.registry_password)
    entry = IngressEntry(external_ips=cluster_cfg.external_ips, host_ports=cluster_cfg.expose_ingress == "hostPorts")
    if cluster_cfg.storage != "openebs":
        return deploy_platform(cfg, secrets, cluster, registry, entry)
    storage = OpenEbsLocalPv(
        "storage",
        OpenEbsLocalPvArgs(
            chart=chart("localpv-provisioner", cfg.charts, cfg.helm_values), base_path=cluster_cfg.openebs_base_path
        ),
        opts=pulumi.ResourceOptions(providers=[cluster.provider]),
    )
    return deploy_platform(
        cfg,
        secrets,
        cluster,
        registry,
        entry,
        storage_class=storage.storage_class,
        storage_depends_on=[storage.release],
    )
