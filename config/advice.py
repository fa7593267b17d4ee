"""Warnings about configurations that work but expose more than the operator may think.

Shown in `pulumi preview` and `pulumi up` (Pulumi's log, not an error): the operator decides.
"""

from __future__ import annotations

from typing import Any

from config.clusters import ManagedClusterConfig
from config.model import StackConfig

# Repository credentials BinderHub uses for every build it runs.
REPOSITORY_SECRETS = {
    "githubToken": "GitHub token",
    "gitlabToken": "GitLab token",
    "gitCredentials": "git credentials",
}


# Shown for every existing cluster: the program cannot see which CNI it runs.
EXISTING_CLUSTER_POLICIES = (
    "binderhub:cloud existing: the NetworkPolicies that keep user servers and builds from the cloud's "
    "metadata endpoint and from private addresses work only if the cluster's network plugin enforces them "
    "(Calico, Cilium, Antrea, a cloud's policy engine; not flannel alone, k3s's default enforces them). "
    "Check: kubectl get pods -A | grep -Ei 'calico|cilium|antrea|kube-router|network-policy'"
)


# Shown for a protected (production) stack whose Kubernetes API answers any address.
OPEN_API = (
    "binderhub:cluster.apiAccessCidrs is 0.0.0.0/0 on a protected stack: the Kubernetes API answers every "
    "address (it still needs cloud credentials). List the blocks your workstations and CI runners use, "
    "e.g. your office's range and a self-hosted runner's address (curl -s https://checkip.amazonaws.com "
    "shows yours); GitHub-hosted runners have no fixed addresses."
)


def advice(cfg: StackConfig[Any], secrets: set[str] | frozenset[str]) -> list[str]:
    """One message per exposure: a repository credential on an anonymous hub; on an existing
    cluster, that network policies depend on its network plugin; on a protected stack, a
    Kubernetes API open to every address."""
    messages = [EXISTING_CLUSTER_POLICIES] if cfg.cloud == "existing" else []
    if cfg.protect and isinstance(cfg.cluster, ManagedClusterConfig) and "0.0.0.0/0" in cfg.cluster.api_access_cidrs:
        messages.append(OPEN_API)
    if cfg.auth.type == "none":
        for key in sorted(set(REPOSITORY_SECRETS) & set(secrets)):
            messages.append(
                f"binderhub:{key}: this hub is anonymous (auth.type 'none'), so anyone who can reach it can "
                f"build and launch any repository the {REPOSITORY_SECRETS[key]} can read, private ones "
                "included, and read their contents in the running server. Use a token that reads public "
                "repositories only (a fine-grained GitHub token with no repository access, or a GitLab token "
                "with read_api on public projects), which still lifts API rate limits; or set an auth.type."
            )
    return messages
