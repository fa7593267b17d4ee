"""Values for OpenEBS local PV (hostpath): node-local volumes on clusters without a storage provider."""

from typing import Any

OPENEBS_RELEASE = "openebs-localpv"
HOSTPATH_STORAGE_CLASS = "openebs-hostpath"


def localpv_values(base_path: str) -> dict[str, Any]:
    """The hostpath StorageClass as the cluster default, its volumes under `base_path` on each node."""
    return {
        "hostpathClass": {
            "enabled": True,
            "name": HOSTPATH_STORAGE_CLASS,
            "isDefaultClass": True,
            "basePath": base_path,
            # Delete: a user's volume goes with its claim, so teardown leaves no data behind on the nodes.
            "reclaimPolicy": "Delete",
        },
        # The chart phones home daily by default; an operator's cluster should not.
        "analytics": {"enabled": False},
    }
