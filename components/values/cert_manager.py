"""cert-manager values and the Let's Encrypt ClusterIssuer."""

from typing import Any

ACME_SERVERS = {
    "staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
    "production": "https://acme-v02.api.letsencrypt.org/directory",
}


def cert_manager_values() -> dict[str, Any]:
    # The chart installs and upgrades its CRDs itself; they stay on uninstall unless told otherwise.
    return {"crds": {"enabled": True, "keep": False}}


def issuer_name(server: str) -> str:
    return f"letsencrypt-{server}"


def cluster_issuer_spec(*, server: str, email: str, ingress_class: str) -> dict[str, Any]:
    return {
        "acme": {
            "server": ACME_SERVERS[server],
            "email": email,
            "privateKeySecretRef": {"name": f"{issuer_name(server)}-account-key"},
            "solvers": [{"http01": {"ingress": {"ingressClassName": ingress_class}}}],
        }
    }
