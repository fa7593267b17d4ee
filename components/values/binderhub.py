"""Helm values for BinderHub: the classic `binderhub` chart and `binderhub-service`.

Pure: settings in, a values document out. Secret inputs are placed as they are (Pulumi
Outputs stay secret inside the document); nothing here reads or prints them.
"""

from collections.abc import Callable
from typing import Any

import pulumi

from components.registry import RegistrySettings
from components.values.capacity import (
    build_executor_config,
    builder_placement,
    launch_quota_config,
    z2jh_capacity_values,
)
from components.values.jupyterhub import (
    HUB_API_URL_LOCAL,
    HUB_TLS_SECRET,
    HUB_URL_LOCAL,
    PROXY_SERVICE,
    SINGLEUSER_COMMAND,
    binder_roles,
    binder_service,
    cull_values,
    hub_common,
    image_pull_secret,
    ingress_values,
)
from components.values.network_policy import user_metadata_guard
from components.values.overlay import merge
from components.values.settings import HubSettings, RepoProviderTokens
from config.git_credentials import GitCredential, parse_git_credential, same_host_spec

BINDER_TLS_SECRET = "binder-tls"
SERVICE_BASE_URL = "/services/binder/"
BINDERHUB_SERVICE_CHART = "binderhub-service"
BINDERHUB_SERVICE_PORT = 80
GITLAB_COM = "gitlab.com"  # GitLabRepoProvider.hostname's default (binderhub/repoproviders.py)


def docker_registry_config(registry: RegistrySettings, with_credentials: bool) -> dict[str, Any]:
    """`config.DockerRegistry`: where BinderHub checks whether an image is already built."""
    config: dict[str, Any] = {}
    if registry.url is not None:
        config["url"] = registry.url
    if registry.token_url is not None:
        config["token_url"] = registry.token_url
    if with_credentials:
        # binderhub-service mounts no docker config for BinderHub itself: give them directly.
        if registry.username is not None:
            config["username"] = registry.username
            config["password"] = registry.password
    elif registry.auth_url is not None:
        # The classic chart's docker config.json key the credentials are stored under.
        config["auth_config_url"] = registry.auth_url
    return config


def git_credential_env(credential: GitCredential) -> str:
    """`GitRepoProvider.git_credentials` for `credential`: what git reads in a build pod.

    BinderHub passes the value to the build pod as GIT_CREDENTIAL_ENV (binderhub/build.py), and
    repo2docker's credential helper prints it with bash's `echo -e` (docker/git-credential-env),
    which turns `\\n` into a line break and every other backslash sequence into something else:
    the lines are joined with `\\n` (as BinderHub's own GitHub and GitLab defaults are) and each
    backslash of a value is doubled, so git reads the username and password unchanged.
    """

    def escaped(value: str) -> str:
        return value.replace("\\", "\\\\")

    return f"username={escaped(credential.username)}\\npassword={escaped(credential.password)}"


def _from_credentials(text: pulumi.Input[str], derive: Callable[[GitCredential], Any]) -> Any:
    """`derive` of the parsed gitCredentials; an Output (secret, like the secret it comes from)
    when `text` is one."""
    if isinstance(text, pulumi.Output):
        return text.apply(lambda value: derive(parse_git_credential(value)))
    return derive(parse_git_credential(str(text)))


def repo_provider_config(tokens: RepoProviderTokens) -> dict[str, Any]:
    """BinderHub's repository providers' traitlets: tokens, the GitLab host, git credentials."""
    config: dict[str, Any] = {}
    if tokens.github is not None:
        config["GitHubRepoProvider"] = {"access_token": tokens.github}
    gitlab: dict[str, Any] = {}
    if tokens.gitlab_hostname != GITLAB_COM:  # left to BinderHub's default, as before the key existed
        gitlab["hostname"] = tokens.gitlab_hostname
    if tokens.gitlab is not None:
        gitlab["private_token"] = tokens.gitlab
    if gitlab:
        config["GitLabRepoProvider"] = gitlab
    if tokens.git_credentials is not None:
        config["GitRepoProvider"] = {
            "git_credentials": _from_credentials(tokens.git_credentials, git_credential_env),
            # git hands a helper's credential to any server that asks for one, and BinderHub gives
            # it to every git/ build: only the credential's own host may be built from.
            "allowed_specs": _from_credentials(tokens.git_credentials, lambda c: [same_host_spec(c)]),
        }
    return config


def binderhub_config(s: HubSettings, *, hub_url_local: str, service_credentials: bool) -> dict[str, Any]:
    """BinderHub's traitlets (`config:`), the same for both charts but for the registry credentials."""
    binderhub: dict[str, Any] = {
        "hub_url": s.hub_url,
        "hub_url_local": hub_url_local,
        "use_registry": s.registry.use_registry,
        "image_prefix": s.registry.image_prefix,
        "auth_enabled": s.authenticated,
        # Signs the build tokens the UI hands out; generated once so every replica and restart
        # accepts the same tokens (BinderHub would otherwise make a random one at each start).
        "build_token_secret": s.secrets.build_token_secret,
    }
    if s.registry.registry_class:
        binderhub["registry_class"] = s.registry.registry_class
    if s.cors_allow_origin:
        binderhub["cors_allow_origin"] = s.cors_allow_origin
    config: dict[str, Any] = {"BinderHub": binderhub, **repo_provider_config(s.tokens)}
    if s.registry.use_registry:
        config["DockerRegistry"] = docker_registry_config(s.registry, service_credentials)
    if s.named_servers.enabled:
        launcher: dict[str, Any] = {"allow_named_servers": True}
        if s.named_servers.limit_per_user is not None:
            launcher["named_server_limit_per_user"] = s.named_servers.limit_per_user
        config["Launcher"] = launcher
    config.update(s.registry.binderhub_config)
    # What builds reserve, and how many servers may run (BinderHub's own keys, merged per class).
    capacity = merge(build_executor_config(s.resources.build), launch_quota_config(s.quota_total, s.quota_per_repo))
    return merge(config, capacity)


def classic_values(s: HubSettings) -> dict[str, Any]:
    """Values for the `binderhub` chart, which bundles JupyterHub."""
    hub = hub_common(s)
    hub["services"] = {"binder": binder_service(s, None, s.binder_oauth_redirect_uri)}
    hub["loadRoles"] = binder_roles(s)
    spawner: dict[str, Any] = {"auth_enabled": s.authenticated}
    if s.cors_allow_origin:
        spawner["cors_allow_origin"] = s.cors_allow_origin
    hub["config"]["BinderSpawner"] = spawner
    jupyterhub: dict[str, Any] = {
        "proxy": {"secretToken": s.secrets.proxy_token, "service": {"type": "ClusterIP"}},
        "hub": hub,
        "ingress": ingress_values(s.hub_host, s.ingress, HUB_TLS_SECRET, websocket_backend=PROXY_SERVICE),
        "cull": cull_values(s.cull, s.cull_users, s.named_servers.enabled),
        **image_pull_secret(s.registry),
    }
    if s.authenticated:
        # The chart's default command is a wrapper for anonymous Binder that execs jupyter-lab
        # (no hub login, listening on localhost at /). With login, BinderSpawner passes the
        # hub's own arguments, which only the hub's single-user server understands.
        jupyterhub["singleuser"] = {"cmd": SINGLEUSER_COMMAND}
    values: dict[str, Any] = {
        "imageBuilderType": s.builder,
        "service": {"type": "ClusterIP"},
        "config": binderhub_config(s, hub_url_local=HUB_URL_LOCAL, service_credentials=False),
        "ingress": ingress_values(s.binder_host, s.ingress, BINDER_TLS_SECRET),
        "jupyterhub": merge(
            merge(jupyterhub, z2jh_capacity_values(s.resources.user, s.dedicated_pools, s.user_placeholders)),
            user_metadata_guard(),
        ),
    }
    values = merge(values, builder_placement("classic", s.dedicated_pools))
    if s.registry.use_registry and s.registry.username is not None:
        values["registry"] = {
            "url": s.registry.auth_url,
            "username": s.registry.username,
            "password": s.registry.password,
        }
    return values


def binderhub_service_name(release_name: str, fullname_override: str | None) -> str:
    """The Service `binderhub-service` creates, following the chart's naming helpers."""
    if fullname_override is not None:
        prefix = fullname_override
    elif BINDERHUB_SERVICE_CHART in release_name:
        prefix = release_name
    else:
        prefix = f"{release_name}-{BINDERHUB_SERVICE_CHART}"
    return f"{prefix}-binderhub" if prefix else "binderhub"


def binderhub_service_url(release_name: str, fullname_override: str | None) -> str:
    """How the hub's proxy reaches BinderHub inside the namespace."""
    return f"http://{binderhub_service_name(release_name, fullname_override)}:{BINDERHUB_SERVICE_PORT}"


def binderhub_service_values(s: HubSettings, *, api_token_secret: str, api_token_key: str) -> dict[str, Any]:
    """Values for `binderhub-service`, served by the hub at /services/binder/.

    The hub API token reaches BinderHub from a Kubernetes Secret (never a plain env value);
    the JUPYTERHUB_* variables make BinderHub a hub service with its own OAuth client.
    """
    binderhub = binderhub_config(s, hub_url_local=HUB_URL_LOCAL, service_credentials=True)
    binderhub["BinderHub"].update(base_url=SERVICE_BASE_URL, enable_api_only_mode=not s.binder_ui)
    env: list[dict[str, Any]] = [
        {
            "name": "JUPYTERHUB_API_TOKEN",
            "valueFrom": {"secretKeyRef": {"name": api_token_secret, "key": api_token_key}},
        },
        {"name": "JUPYTERHUB_API_URL", "value": HUB_API_URL_LOCAL},
        {"name": "JUPYTERHUB_BASE_URL", "value": "/"},
        {"name": "JUPYTERHUB_SERVICE_PREFIX", "value": SERVICE_BASE_URL},
        {"name": "JUPYTERHUB_SERVICE_NAME", "value": "binder"},
    ]
    if s.authenticated:
        env += [
            {"name": "JUPYTERHUB_CLIENT_ID", "value": "service-binder"},
            {"name": "JUPYTERHUB_OAUTH_CALLBACK_URL", "value": s.binder_oauth_redirect_uri},
        ]
    values: dict[str, Any] = {
        "fullnameOverride": "",
        "config": binderhub,
        "extraEnv": env,
        "service": {"type": "ClusterIP", "port": BINDERHUB_SERVICE_PORT},
        # No image cleaner in this chart: bound the build cache, which is dropped when full.
        "dockerApi": {"storage": {"emptyDir": {"sizeLimit": s.builder_cache_size}}},
        # The chart's builder policies allow the metadata endpoint; the hub component creates
        # stricter ones instead (components/values/network_policy.py: policies only add up).
        "networkPolicy": {"enabled": False},
    }
    values = merge(values, builder_placement("service", s.dedicated_pools))
    if s.registry.use_registry and s.registry.username is not None:
        values["buildPodsRegistryCredentials"] = {
            "server": s.registry.auth_url,
            "username": s.registry.username,
            "password": s.registry.password,
        }
    return values
