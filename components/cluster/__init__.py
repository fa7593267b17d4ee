"""Clusters: one component per target, all satisfying the `Cluster` protocol."""

from dataclasses import dataclass
from typing import Protocol

import pulumi
import pulumi_kubernetes as k8s

from config import ManagedClusterConfig


@dataclass(frozen=True)
class NodePools:
    """The two pools of a managed cluster: core (hub, proxy, BinderHub, ingress) and an
    autoscaling user pool (user servers and image builds), labelled like z2jh expects."""

    node_size: str
    node_count: int
    user_node_size: str
    user_min_nodes: int
    user_max_nodes: int
    kubernetes_version: str | None = None  # None: the cloud's default

    @classmethod
    def from_config(cls, cfg: ManagedClusterConfig) -> "NodePools":
        return cls(
            node_size=cfg.node_size,
            node_count=cfg.node_count,
            user_node_size=cfg.user_node_size,
            user_min_nodes=cfg.user_min_nodes,
            user_max_nodes=cfg.user_max_nodes,
            kubernetes_version=cfg.kubernetes_version,
        )


class Cluster(Protocol):
    """What every later layer needs from a cluster, whatever the cloud."""

    provider: k8s.Provider
    kubeconfig: pulumi.Output[str]  # secret
    name: pulumi.Output[str]
    context: str | None  # kubeconfig context to use (None: its current one)
