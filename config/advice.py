"""Warnings about configurations that work but expose more than the operator may think.

Shown in `pulumi preview` and `pulumi up` (Pulumi's log, not an error): the operator decides.
"""

from __future__ import annotations

from typing import Any

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


def advice(cfg: StackConfig[Any], secrets: set[str] | frozenset[str]) -> list[str]:
    """One message per exposure: a repository credential on an anonymous hub; on an existing
    cluster, that network policies depend on its network plugin."""
    messages = [EXISTING_CLUSTER_POLICIES] if cfg.cloud == "existing" else []
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
