"""Helm values for BinderHub and its JupyterHub, from typed settings.

Pure: settings in, a values document out. Secret inputs are placed as they are (Pulumi
Outputs stay secret inside the document); nothing here reads or prints them.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.registry import RegistrySettings
from config import CullConfig

# In-cluster address of the hub's proxy (z2jh Service `proxy-public`, port 80).
HUB_URL_LOCAL = "http://proxy-public"
BINDER_TLS_SECRET = "binder-tls"
HUB_TLS_SECRET = "hub-tls"


@dataclass(frozen=True)
class HubSecrets:
    """Everything z2jh would otherwise generate with `lookup` (lost in template-only renders)."""

    proxy_token: pulumi.Input[str]
    cookie_secret: pulumi.Input[str]
    crypt_key: pulumi.Input[str]
    binder_api_token: pulumi.Input[str]


@dataclass(frozen=True)
class IngressSettings:
    class_name: str
    annotations: Mapping[str, str]  # controller needs + certificate issuer
    tls: bool


@dataclass(frozen=True)
class RepoProviderTokens:
    github: pulumi.Input[str] | None = None
    gitlab: pulumi.Input[str] | None = None


@dataclass(frozen=True)
class ClassicSettings:
    binder_host: pulumi.Input[str]
    hub_host: pulumi.Input[str]
    hub_url: pulumi.Input[str]
    ingress: IngressSettings
    registry: RegistrySettings
    secrets: HubSecrets
    builder: str = "dind"
    cull: CullConfig = field(default_factory=lambda: CullConfig.model_validate({}))
    cull_users: bool = True
    cors_allow_origin: str | None = None
    tokens: RepoProviderTokens = field(default_factory=RepoProviderTokens)
    storage_class: pulumi.Input[str] | None = None  # for the hub database volume; None: the cluster default


def ingress_values(host: pulumi.Input[str], ingress: IngressSettings, tls_secret: str) -> dict[str, Any]:
    """The `ingress:` block both charts (binderhub and z2jh) understand."""
    values: dict[str, Any] = {
        "enabled": True,
        "ingressClassName": ingress.class_name,
        "hosts": [host],
        "annotations": dict(ingress.annotations),
        "pathType": "Prefix",
    }
    if ingress.tls:
        values["tls"] = [{"hosts": [host], "secretName": tls_secret}]
    return values


def cull_values(cull: CullConfig, users: bool) -> dict[str, Any]:
    return {
        "enabled": cull.enabled,
        "users": users,
        "timeout": cull.timeout,
        "every": cull.every,
        "maxAge": cull.max_age,
    }


def docker_registry_config(registry: RegistrySettings) -> dict[str, Any]:
    """`config.DockerRegistry`: where BinderHub checks whether an image is already built."""
    config: dict[str, Any] = {}
    if registry.url is not None:
        config["url"] = registry.url
    if registry.token_url is not None:
        config["token_url"] = registry.token_url
    if registry.auth_url is not None:
        # The docker config.json key the credentials are stored under.
        config["auth_config_url"] = registry.auth_url
    return config


def repo_provider_config(tokens: RepoProviderTokens) -> dict[str, Any]:
    config: dict[str, Any] = {}
    if tokens.github is not None:
        config["GitHubRepoProvider"] = {"access_token": tokens.github}
    if tokens.gitlab is not None:
        config["GitLabRepoProvider"] = {"private_token": tokens.gitlab}
    return config


def image_pull_secret(registry: RegistrySettings) -> dict[str, Any]:
    """z2jh's `imagePullSecret`: user pods pull built images with the registry credentials."""
    if registry.nodes_can_pull or not registry.use_registry:
        return {}
    return {
        "imagePullSecret": {
            "create": True,
            "registry": registry.auth_url,
            "username": registry.username,
            "password": registry.password,
        }
    }


def classic_values(s: ClassicSettings) -> dict[str, Any]:
    """Values for the `binderhub` chart, which bundles JupyterHub."""
    binderhub_config: dict[str, Any] = {
        "hub_url": s.hub_url,
        "hub_url_local": HUB_URL_LOCAL,
        "use_registry": s.registry.use_registry,
        "image_prefix": s.registry.image_prefix,
        "auth_enabled": False,
    }
    if s.registry.registry_class:
        binderhub_config["registry_class"] = s.registry.registry_class
    if s.cors_allow_origin:
        binderhub_config["cors_allow_origin"] = s.cors_allow_origin

    config: dict[str, Any] = {"BinderHub": binderhub_config, **repo_provider_config(s.tokens)}
    if s.registry.use_registry:
        config["DockerRegistry"] = docker_registry_config(s.registry)
    config.update(s.registry.binderhub_config)

    hub_config: dict[str, Any] = {"CryptKeeper": {"keys": [s.secrets.crypt_key]}}
    if s.cors_allow_origin:
        hub_config["BinderSpawner"] = {"cors_allow_origin": s.cors_allow_origin}
    hub: dict[str, Any] = {
        "cookieSecret": s.secrets.cookie_secret,
        "config": hub_config,
        "services": {"binder": {"apiToken": s.secrets.binder_api_token}},
    }
    if s.storage_class:
        hub["db"] = {"pvc": {"storageClassName": s.storage_class}}

    values: dict[str, Any] = {
        "imageBuilderType": s.builder,
        "service": {"type": "ClusterIP"},
        "config": config,
        "ingress": ingress_values(s.binder_host, s.ingress, BINDER_TLS_SECRET),
        "jupyterhub": {
            "proxy": {"secretToken": s.secrets.proxy_token, "service": {"type": "ClusterIP"}},
            "hub": hub,
            "ingress": ingress_values(s.hub_host, s.ingress, HUB_TLS_SECRET),
            "cull": cull_values(s.cull, s.cull_users),
            **image_pull_secret(s.registry),
        },
    }
    if s.registry.use_registry and s.registry.username is not None:
        values["registry"] = {
            "url": s.registry.auth_url,
            "username": s.registry.username,
            "password": s.registry.password,
        }
    return values
