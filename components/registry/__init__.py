"""Registries: each kind produces one `RegistrySettings` for the charts."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi


@dataclass(frozen=True)
class RegistrySettings:
    """Where BinderHub pushes images and how it looks them up.

    The same URL and credentials feed the builder's pushes (`registry.*` /
    `buildPodsRegistryCredentials`) and BinderHub's manifest look-ups (`config.DockerRegistry`),
    so an image that exists is found and not rebuilt on every launch.
    """

    kind: str
    # `<host>/<project>/<prefix>-`: BinderHub looks images up by their last two path components.
    image_prefix: pulumi.Input[str]
    url: pulumi.Input[str] | None = None  # registry API, e.g. https://registry-1.docker.io
    # Key of the credentials in the docker config.json the builder uses.
    auth_url: pulumi.Input[str] | None = None
    token_url: pulumi.Input[str] | None = None
    username: pulumi.Input[str] | None = None
    password: pulumi.Input[str] | None = None  # always a secret Output
    # Another registry implementation (e.g. ExternalRegistryHelper for ECR) and its settings.
    registry_class: str | None = None
    binderhub_config: Mapping[str, Any] = field(default_factory=dict)
    # False when user pods need an image pull secret (nodes cannot pull with their own identity).
    nodes_can_pull: bool = True
    # Resources the hub release must wait for (e.g. the ECR helper).
    depends_on: Sequence[pulumi.Resource] = ()

    @property
    def use_registry(self) -> bool:
        return self.kind != "none"
