"""The Kubernetes provider of a managed cluster (AKS, EKS, GKE) names its cluster.

pulumi-kubernetes replaces a provider, and with it every Kubernetes object the stack owns,
when the kubeconfig's active cluster (server address or CA) changes, unless the provider has
a `clusterIdentifier`: then only a new identifier replaces it (provider.go DiffConfig). A CA
rotation (`az aks rotate-certs`, a GKE credential rotation, EKS's) must be an update, so the
identifier names the cluster from plain configuration, known at preview, and ignores the
kubeconfig. The expected identifiers are written from the committed stack files by hand: the
clusters are named `binderhub-<stack>` (README) in the stack's resource group, region or zone.
"""

from typing import Any

import pytest

import cloud_mocks.aws
import cloud_mocks.azure
import cloud_mocks.gcp
from harness import ProgramRun, Registration, is_secret, unwrap
from variants import VARIANTS

K8S_PROVIDER = "pulumi:providers:kubernetes"
# The sentinel the Pulumi SDK sends for a value unknown at preview.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

# stack file -> the identifier its provider must carry (config: binderhub:cluster).
EXPECTED = {
    # Pulumi.prod.yaml: no cluster.resourceGroup, so the group is named as the cluster
    "prod": "azure:binderhub-prod/binderhub-prod",
    # Pulumi.aws.yaml: region us-east-1
    "aws": "aws:us-east-1/binderhub-aws",
    # Pulumi.gcp.yaml: project my-binderhub-project, zonal in us-central1-a
    "gcp": "gcp:my-binderhub-project/us-central1-a/binderhub-gcp",
}


def provider(run: ProgramRun) -> Registration:
    assert run.error is None, f"the program failed: {run.error!r}"
    return run.one(K8S_PROVIDER)


def rotate_ca(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on, every managed cloud answers with another API server CA (as after a rotation)."""
    rotated = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tClJPVEFURUQKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="
    monkeypatch.setattr(cloud_mocks.azure, "AKS_CA_DATA", rotated)
    monkeypatch.setattr(cloud_mocks.gcp, "GKE_CA", rotated)
    original = cloud_mocks.aws.kubeconfig

    def eks_kubeconfig(cluster: str, endpoint: str) -> dict[str, Any]:
        config = original(cluster, endpoint)
        for entry in config["clusters"]:
            entry["cluster"]["certificate-authority-data"] = rotated
        return config

    monkeypatch.setattr(cloud_mocks.aws, "kubeconfig", eks_kubeconfig)


@pytest.mark.parametrize("stack", sorted(EXPECTED))
def test_the_provider_names_its_cluster_at_preview(stack: str) -> None:
    reg = provider(VARIANTS[stack].run(preview=True))
    sent = reg.raw_inputs.get("clusterIdentifier")
    # Sent as a plain string: not unknown (that would replace the provider at preview), not secret.
    assert sent == EXPECTED[stack], f"{stack}: clusterIdentifier={sent!r}"
    assert sent != UNKNOWN and not is_secret(reg.inputs["clusterIdentifier"])


@pytest.mark.parametrize("stack", sorted(EXPECTED))
def test_a_new_cluster_ca_changes_the_kubeconfig_but_not_the_identifier(
    stack: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = provider(VARIANTS[stack].run())
    rotate_ca(monkeypatch)
    after = provider(VARIANTS[stack].program().run())
    # The rotation reached the provider's kubeconfig (else this test would prove nothing) ...
    assert unwrap(after.inputs["kubeconfig"]) != unwrap(before.inputs["kubeconfig"])
    # ... and left the identifier, so pulumi-kubernetes updates the provider instead of replacing it.
    assert after.inputs["clusterIdentifier"] == before.inputs["clusterIdentifier"] == EXPECTED[stack]


def test_an_existing_cluster_keeps_the_kubeconfig_as_its_identity() -> None:
    # There a new server address IS another cluster: pulumi-kubernetes' default replacement stays.
    reg = provider(VARIANTS["dev"].run())
    assert "clusterIdentifier" not in reg.inputs
