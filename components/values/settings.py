"""Typed settings the hub values are built from (the same for both shapes)."""

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi

from components.registry import RegistrySettings
from config import AuthConfig, CullConfig, NamedServersConfig
from config.capacity import ResourcesConfig


@dataclass(frozen=True)
class HubSecrets:
    """Everything z2jh would otherwise generate with `lookup` (lost in template-only renders)."""

    proxy_token: pulumi.Input[str]
    cookie_secret: pulumi.Input[str]
    crypt_key: pulumi.Input[str]
    binder_api_token: pulumi.Input[str]
    build_token_secret: pulumi.Input[str]  # BinderHub.build_token_secret


@dataclass(frozen=True)
class IngressSettings:
    class_name: str
    annotations: Mapping[str, str]  # controller needs + certificate issuer
    tls: bool
    # The controller's annotation naming an Ingress's WebSocket backends (None: it needs none).
    websocket_annotation: str | None = None


@dataclass(frozen=True)
class RepoProviderTokens:
    """BinderHub's repository providers: their secrets, and which GitLab the gl/ provider uses."""

    github: pulumi.Input[str] | None = None
    gitlab: pulumi.Input[str] | None = None
    gitlab_hostname: str = "gitlab.com"
    # binderhub:gitCredentials as the user wrote it (lines of git's credential format)
    git_credentials: pulumi.Input[str] | None = None


@dataclass(frozen=True)
class HubSettings:
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
    storage_class: pulumi.Input[str] | None = None  # hub database volume; None: the cluster default
    auth: AuthConfig = field(default_factory=lambda: AuthConfig.model_validate({}))
    oauth_client_secret: pulumi.Input[str] | None = None
    oauth_callback_url: pulumi.Input[str] | None = None  # the hub's, registered at the provider
    binder_oauth_redirect_uri: pulumi.Input[str] | None = None  # BinderHub's, registered at the hub
    named_servers: NamedServersConfig = field(default_factory=lambda: NamedServersConfig.model_validate({}))
    binder_ui: bool = True
    fancy_profiles_image: str | None = None
    builder_cache_size: str = "50Gi"
    resources: ResourcesConfig = field(default_factory=lambda: ResourcesConfig.model_validate({}))
    dedicated_pools: bool = False  # a labelled core pool and a tainted user pool (managed clouds)
    quota_total: int | None = None  # LaunchQuota.total_quota; None: no quota
    quota_per_repo: int | None = None  # BinderHub.per_repo_quota; None: no quota
    user_placeholders: int = 0  # z2jh user placeholder pods

    @property
    def authenticated(self) -> bool:
        return self.auth.type != "none"
