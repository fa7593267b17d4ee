"""What a cloud contributes to the shared platform: `stacks/<cloud>.py`'s `build` returns one."""

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi

from components.cluster import Cluster
from components.ingress import IngressEntry
from components.registry import RegistrySettings


@dataclass(frozen=True)
class Storage:
    """The volumes the hub's database claim gets."""

    storage_class: pulumi.Input[str] | None = None  # None: the cluster's default StorageClass
    # The provisioner, when the stack installs one: the hub namespace and releases wait for it
    # (and a destroy removes them, and their volumes, while it still runs).
    depends_on: Sequence[pulumi.Resource] = ()


@dataclass(frozen=True)
class Target:
    """A cluster and what comes with it on one cloud, ready for stacks/platform.py."""

    cluster: Cluster
    registry: RegistrySettings  # where images are pushed and pulled from
    ingress: IngressEntry  # how traffic reaches the ingress controller
    storage: Storage = field(default_factory=Storage)
