"""Clusters: one component per target, all satisfying the `Cluster` protocol."""

from typing import Protocol

import pulumi
import pulumi_kubernetes as k8s


class Cluster(Protocol):
    """What every later layer needs from a cluster, whatever the cloud."""

    provider: k8s.Provider
    kubeconfig: pulumi.Output[str]  # secret
    name: pulumi.Output[str]
    context: str | None  # kubeconfig context to use (None: its current one)
