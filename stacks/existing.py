"""Target `existing`: a cluster that already runs (kube context, or bare metal)."""

from typing import Any

from components.cluster.existing import ExistingCluster, ExistingClusterArgs
from components.registry.external import registry_from_config
from config import ExistingClusterConfig, StackConfig, StackSecrets
from stacks.platform import IngressEntry, StackOutputs, deploy_platform


def build(cfg: StackConfig[Any], secrets: StackSecrets) -> StackOutputs:
    cluster_cfg = cfg.cluster
    assert isinstance(cluster_cfg, ExistingClusterConfig)
    cluster = ExistingCluster(
        "cluster", ExistingClusterArgs(kubeconfig=secrets.kubeconfig, context=cluster_cfg.context)
    )
    registry = registry_from_config(cfg.registry, secrets.registry_password)
    return deploy_platform(cfg, secrets, cluster, registry, IngressEntry(external_ips=cluster_cfg.external_ips))
