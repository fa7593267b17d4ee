"""Clusters: one component per target, all satisfying the `Cluster` protocol."""

from dataclasses import dataclass
from typing import Protocol

import pulumi
import pulumi_kubernetes as k8s

from config import ManagedClusterConfig

# z2jh's node labels and taints (its values `scheduling.userPods.nodeAffinity` and the user and
# build pods' default tolerations): core pods run where the purpose is `core`, user servers and
# image builds where it is `user`, and only pods that tolerate the user taint run there.
# How long an empty user node stays before the autoscaler removes it (AKS's profile and the
# EKS cluster-autoscaler alike; the default is 10 minutes).
SCALE_DOWN_UNNEEDED_TIME = "5m"
NODE_PURPOSE_LABEL = "hub.jupyter.org/node-purpose"
USER_TAINT_KEY = "hub.jupyter.org/dedicated"
# GKE refuses '/' in a taint key; z2jh and BinderHub tolerate this spelling too.
GKE_USER_TAINT_KEY = "hub.jupyter.org_dedicated"
USER_TAINT_VALUE = "user"
USER_TAINT_EFFECT = "NoSchedule"
# `<key>=<value>:<effect>`, as kubectl, AKS and the cluster-autoscaler's node templates write it.
USER_TAINT = f"{USER_TAINT_KEY}={USER_TAINT_VALUE}:{USER_TAINT_EFFECT}"


@dataclass(frozen=True)
class NodePools:
    """The two pools of a managed cluster: core (hub, proxy, BinderHub, ingress) and an
    autoscaling user pool (user servers and image builds), labelled like z2jh expects.

    `user_min_nodes`/`user_max_nodes` are the bounds of the user pool's autoscaling on every
    cloud: the fewest and the most nodes of the whole pool (all zones), whatever starts them
    (AKS's and GKE's built-in autoscaler, the cluster-autoscaler on EKS).
    """

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
