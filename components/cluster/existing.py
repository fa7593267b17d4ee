"""A cluster someone else created, reached with a kubeconfig resolved at config time.

config.load_config finds and checks the kubeconfig (the `binderhub:kubeconfig` secret or the
ambient one) and cuts it down to the stack's context before anything is registered.
"""

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s


@dataclass(frozen=True)
class ExistingClusterArgs:
    # One context's kubeconfig, secret (StackSecrets.kubeconfig).
    kubeconfig: pulumi.Output[str]
    context: str | None = None


class ExistingCluster(pulumi.ComponentResource):
    provider: k8s.Provider
    kubeconfig: pulumi.Output[str]
    name: pulumi.Output[str]
    context: str | None

    def __init__(self, name: str, args: ExistingClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("binderhub:cluster:ExistingCluster", name, None, opts)
        # Passed explicitly, so the provider uses exactly what the state records.
        self.kubeconfig = pulumi.Output.secret(args.kubeconfig)
        self.name = pulumi.Output.from_input(args.context or "existing")
        self.context = args.context
        self.provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            context=args.context,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"kubeconfig": self.kubeconfig, "name": self.name})
