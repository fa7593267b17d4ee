"""A cluster someone else created: the ambient kubeconfig, or one given as a secret."""

import os
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from config import ConfigError


def ambient_kubeconfig() -> str:
    """The kubeconfig kubectl would use ($KUBECONFIG's first file, else ~/.kube/config)."""
    paths = [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    path = Path(paths[0]) if paths else Path.home() / ".kube" / "config"
    if not path.is_file():
        raise ConfigError(
            f"no kubeconfig found at {path}: point KUBECONFIG at your cluster's kubeconfig, or "
            "set it as a secret: pulumi config set --secret binderhub:kubeconfig < kubeconfig.yaml"
        )
    return path.read_text()


@dataclass(frozen=True)
class ExistingClusterArgs:
    # Secret kubeconfig from `binderhub:kubeconfig`; None: the ambient one.
    kubeconfig: pulumi.Output[str] | None
    context: str | None = None


class ExistingCluster(pulumi.ComponentResource):
    provider: k8s.Provider
    kubeconfig: pulumi.Output[str]
    name: pulumi.Output[str]
    context: str | None

    def __init__(self, name: str, args: ExistingClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("binderhub:cluster:ExistingCluster", name, None, opts)
        # Read once and passed explicitly, so the provider uses exactly what the state records.
        self.kubeconfig = pulumi.Output.secret(args.kubeconfig if args.kubeconfig is not None else ambient_kubeconfig())
        self.name = pulumi.Output.from_input(args.context or "existing")
        self.context = args.context
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            context=args.context,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"kubeconfig": self.kubeconfig, "name": self.name})
