"""OpenEbsLocalPv: OpenEBS local PV provisioner, whose hostpath StorageClass becomes the default."""

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.helm import release_in_own_namespace
from components.values.storage import HOSTPATH_STORAGE_CLASS, OPENEBS_RELEASE, localpv_values
from versions import StackCharts

CHART = "localpv-provisioner"


@dataclass(frozen=True)
class OpenEbsLocalPvArgs:
    charts: StackCharts
    base_path: str = "/var/openebs/local"  # where volumes live on each node
    namespace: str = "openebs"


class OpenEbsLocalPv(pulumi.ComponentResource):
    storage_class: str  # claims on it wait for `release` (the stack passes it as a dependency)
    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: OpenEbsLocalPvArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("binderhub:storage:OpenEbsLocalPv", name, None, opts)
        self.release = release_in_own_namespace(
            name,
            parent=self,
            chart=args.charts.ref(CHART),
            release_name=OPENEBS_RELEASE,
            namespace=args.namespace,
            values=localpv_values(args.base_path),
        )
        self.storage_class = HOSTPATH_STORAGE_CLASS
        self.register_outputs({"storage_class": self.storage_class})
