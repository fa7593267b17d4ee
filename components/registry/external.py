"""Registries that exist outside the program: Docker Hub, any token-auth registry, or none.

They create no resources, so they are settings, not components.
"""

import pulumi

from components.registry import RegistrySettings
from config import RegistryConfig

DOCKER_HUB_API = "https://registry-1.docker.io"
DOCKER_HUB_TOKEN_URL = "https://auth.docker.io/token?service=registry.docker.io"
# The config.json / .dockerconfigjson key for Docker Hub credentials. The trailing "/" matters:
# it is the key the docker CLI reads for docker.io images (`registry.IndexServer`), the kubelet's
# keyring matches to docker.io images, and BinderHub's own default (`DEFAULT_DOCKER_AUTH_URL`).
DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/"


def docker_hub(username: str, organization: str | None, prefix: str, password: pulumi.Input[str]) -> RegistrySettings:
    return RegistrySettings(
        kind="dockerhub",
        image_prefix=f"docker.io/{organization or username}/{prefix}-",
        url=DOCKER_HUB_API,
        auth_url=DOCKER_HUB_AUTH_KEY,
        token_url=DOCKER_HUB_TOKEN_URL,
        username=username,
        password=password,  # a secret Output from the stack config
        # Pull with credentials too: private repositories work and anonymous rate limits do not bite.
        nodes_can_pull=False,
    )


def registry_host(url: str) -> str:
    return url.split("://", 1)[-1].rstrip("/")


def custom(
    url: str, token_url: str | None, username: str, project: str, prefix: str, password: pulumi.Input[str]
) -> RegistrySettings:
    """Harbor, Quay, GHCR, OVH and other registries speaking the Docker token protocol."""
    host = registry_host(url)
    return RegistrySettings(
        kind="custom",
        image_prefix=f"{host}/{project}/{prefix}-",
        url=url.rstrip("/"),
        auth_url=f"https://{host}",
        token_url=token_url,
        username=username,
        password=password,  # a secret Output from the stack config
        nodes_can_pull=False,
    )


def no_registry(prefix: str) -> RegistrySettings:
    """Images stay on the node that built them (single-node clusters only)."""
    return RegistrySettings(kind="none", image_prefix=f"{prefix}-")


def registry_from_config(cfg: RegistryConfig, password: pulumi.Output[str] | None) -> RegistrySettings:
    """Settings for the kinds any target can use (config validation guarantees the fields)."""
    if cfg.type == "none":
        return no_registry(cfg.prefix)
    assert password is not None and cfg.username is not None
    if cfg.type == "dockerhub":
        return docker_hub(cfg.username, cfg.organization, cfg.prefix, password)
    if cfg.type == "custom":
        assert cfg.url is not None and cfg.project is not None
        return custom(cfg.url, cfg.token_url, cfg.username, cfg.project, cfg.prefix, password)
    raise ValueError(f"registry type {cfg.type!r} is created by its cloud's stack")
