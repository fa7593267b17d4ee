"""Target `existing`: a cluster that already runs (a kube context, or bare metal)."""

import pulumi

from components.cluster.existing import ExistingCluster, ExistingClusterArgs
from components.ingress import IngressEntry
from components.openebs import OpenEbsLocalPv, OpenEbsLocalPvArgs
from components.registry.external import registry_from_config
from config import ExistingStack, StackSecrets
from stacks.target import Storage, Target
from versions import StackCharts


def build(cfg: ExistingStack, secrets: StackSecrets) -> Target:
    cluster_cfg = cfg.cluster
    assert secrets.kubeconfig is not None, "load_config resolves the kubeconfig on cloud 'existing'"
    cluster = ExistingCluster(
        "cluster", ExistingClusterArgs(kubeconfig=secrets.kubeconfig, context=cluster_cfg.context)
    )
    registry = registry_from_config(cfg.registry, secrets.registry_password)
    entry = IngressEntry(external_ips=cluster_cfg.external_ips, host_ports=cluster_cfg.expose_ingress == "hostPorts")
    storage = Storage()  # the cluster's default StorageClass
    if cluster_cfg.storage == "openebs":
        openebs = OpenEbsLocalPv(
            "storage",
            OpenEbsLocalPvArgs(
                charts=StackCharts(cfg.charts, cfg.helm_values), base_path=cluster_cfg.openebs_base_path
            ),
            opts=pulumi.ResourceOptions(providers=[cluster.provider]),
        )
        storage = Storage(storage_class=openebs.storage_class, depends_on=[openebs.release])
    return Target(cluster=cluster, registry=registry, ingress=entry, storage=storage)
