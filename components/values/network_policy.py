"""NetworkPolicies keeping build pods and image-builder daemons away from the cloud's metadata.

Strangers' code runs in two places during a build: the build pod (repo2docker, which clones the
repository) and the container-builder daemon (dind, pink or binderhub-service's docker-api),
which runs the repository's own build steps in its network namespace. On a cloud node the
instance metadata endpoint hands out the node's credentials, so neither may reach it.

Kubernetes NetworkPolicies only add allowances: a policy cannot take away what another allows.
binderhub-service ships builder policies that allow all public addresses (the metadata one is
link-local, not private, so it is allowed); those are switched off (`networkPolicy.enabled:
false` in its values) and replaced by these. The classic chart ships none for builds. User
servers are z2jh's: its `singleuser.networkPolicy` denies the metadata server by default.
"""

from typing import Any

# Instance metadata endpoints: every cloud's is link-local (169.254.169.254; ECS task metadata
# at 169.254.170.2), AWS also serves it at fd00:ec2::254; Alibaba at 100.100.100.200 (CGNAT range).
METADATA_V4 = ["169.254.0.0/16", "100.100.100.200/32"]
METADATA_V6 = ["fd00:ec2::254/128", "fe80::/10"]
PRIVATE_V4 = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]

# The pods each chart runs builds in (their templates' labels).
BUILD_POD = {"component": "binderhub-build"}  # BinderHub's KubernetesBuildExecutor
BUILDER_DAEMON = {
    "classic": {"component": "image-builder"},  # binderhub chart: container-builder DaemonSet
    "service": {"app.kubernetes.io/component": "docker-api"},  # binderhub-service
}


def _policy(name: str, namespace: str, pods: dict[str, str], except_v4: list[str]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "podSelector": {"matchLabels": pods},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [
                        {"ipBlock": {"cidr": "0.0.0.0/0", "except": except_v4}},
                        {"ipBlock": {"cidr": "::/0", "except": METADATA_V6}},
                    ]
                },
                # Cluster DNS (its address is private, so the build pod needs it allowed by name).
                {
                    "to": [
                        {
                            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                        }
                    ],
                    "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
                },
            ],
        },
    }


def build_egress_policies(namespace: str, shape: str, private_registry: bool) -> list[dict[str, Any]]:
    """Two NetworkPolicy manifests for the hub namespace.

    Build pods and the builder daemon reach public addresses only, as binderhub-service's own
    policies do (builds clone from the internet; the daemon pushes to the registry and runs the
    repository's build steps, which must not reach the cluster's or the VPC's private services).
    `private_registry` (registry.type `custom`, e.g. Harbor on the local network): the daemon
    may also reach private addresses, to push there. Neither ever reaches a metadata endpoint.
    """
    daemon_except = METADATA_V4 if private_registry else [*METADATA_V4, *PRIVATE_V4]
    return [
        _policy("binderhub-build-egress", namespace, BUILD_POD, [*METADATA_V4, *PRIVATE_V4]),
        _policy("binderhub-builder-egress", namespace, BUILDER_DAEMON[shape], daemon_except),
    ]


def user_metadata_guard() -> dict[str, Any]:
    """z2jh `singleuser` keys that keep user servers from the metadata endpoint, set as the
    chart's defaults already are so that no Helm values overlay can reopen it: the user pods'
    NetworkPolicy (no egress rule of its own, `cloudMetadataServer: false`) and the init
    container that blocks the address with iptables where policies are not enforced."""
    return {
        "singleuser": {
            "networkPolicy": {"enabled": True, "egress": [], "egressAllowRules": {"cloudMetadataServer": False}},
            "cloudMetadata": {"blockWithIptables": True},
        }
    }
