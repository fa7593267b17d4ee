"""Helm values for z2jh: the blocks both shapes share, and the hub of the `service` shape."""

from pathlib import Path
from typing import Any

from components.registry import RegistrySettings
from components.values.auth import BINDER_OAUTH_CLIENT_ID, authenticator_config
from components.values.capacity import z2jh_capacity_values
from components.values.network_policy import user_metadata_guard
from components.values.overlay import merge
from components.values.settings import HubSettings, IngressSettings
from config import CullConfig

HUB_FILES = Path(__file__).parent / "hub_files"
HUB_TLS_SECRET = "hub-tls"
# z2jh names its objects without a prefix when fullnameOverride is "" (its default).
PROXY_SERVICE = "proxy-public"
HUB_SERVICE = "hub"
# In-cluster address of the hub's proxy (Service `proxy-public`, port 80).
HUB_URL_LOCAL = f"http://{PROXY_SERVICE}"
HUB_API_URL_LOCAL = f"http://{HUB_SERVICE}:8081/hub/api"
# The hub's single-user server: the command when users log in (it reads JUPYTERHUB_* and
# requires the hub's login), rather than a Binder wrapper that takes a static token.
SINGLEUSER_COMMAND = "jupyterhub-singleuser"
# A z2jh 4.4.0 user image: what the fancy-profiles menu offers next to "build your own".
DEFAULT_USER_IMAGE = "quay.io/jupyterhub/k8s-singleuser-sample:4.4.0"


def read_hub_file(name: str) -> str:
    return (HUB_FILES / name).read_text()


def ingress_values(
    host: Any, ingress: IngressSettings, tls_secret: str, websocket_backend: str | None = None
) -> dict[str, Any]:
    """The `ingress:` block both charts (binderhub and z2jh) understand.

    `websocket_backend`: the Service behind this Ingress that serves WebSockets (the hub's
    proxy), named in the controller's WebSocket annotation; None for BinderHub's Ingress, whose
    event streams are plain HTTP. An annotation never names another Ingress's Service.
    """
    annotations = dict(ingress.annotations)
    if websocket_backend is not None and ingress.websocket_annotation is not None:
        annotations[ingress.websocket_annotation] = websocket_backend
    values: dict[str, Any] = {
        "enabled": True,
        "ingressClassName": ingress.class_name,
        "hosts": [host],
        "annotations": annotations,
        "pathType": "Prefix",
    }
    if ingress.tls:
        values["tls"] = [{"hosts": [host], "secretName": tls_secret}]
    return values


def cull_values(cull: CullConfig, users: bool, named_servers: bool) -> dict[str, Any]:
    """z2jh's `cull:` block.

    With named servers, every Binder launch is a new named server: the culler must delete the
    ones it stops, since the hub counts stopped named servers against namedServerLimitPerUser
    (jupyterhub `UserServerAPIHandler.post` counts `all_spawners`).
    """
    values: dict[str, Any] = {
        "enabled": cull.enabled,
        "users": users,
        "timeout": cull.timeout,
        "every": cull.every,
        "maxAge": cull.max_age,
    }
    if named_servers:
        values["removeNamedServers"] = True
    return values


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


def hub_common(s: HubSettings) -> dict[str, Any]:
    """The `hub:` keys both shapes set: generated secrets, authentication, storage, servers."""
    config: dict[str, Any] = {
        "CryptKeeper": {"keys": [s.secrets.crypt_key]},
        **authenticator_config(s.auth, s.oauth_client_secret, s.oauth_callback_url),
    }
    hub: dict[str, Any] = {"cookieSecret": s.secrets.cookie_secret, "config": config}
    extra_config: dict[str, str] = {}
    if s.auth.pass_tokens:
        extra_config["20-pass-oauth-tokens"] = read_hub_file("pass_tokens.py")
    if extra_config:
        hub["extraConfig"] = extra_config
    if s.named_servers.enabled:
        hub["allowNamedServers"] = True
        if s.named_servers.limit_per_user is not None:
            hub["namedServerLimitPerUser"] = s.named_servers.limit_per_user
    if s.storage_class is not None:
        hub["db"] = {"pvc": {"storageClassName": s.storage_class}}
    if s.authenticated:
        # Launches from BinderHub must not bounce the user to their default server.
        hub["redirectToServer"] = False
    return hub


def binder_roles(s: HubSettings) -> dict[str, Any]:
    """What the binder service may do, and the users' right to use it."""
    # Anonymous launches create a temporary user per visitor: that needs admin:users.
    scopes = ["servers", "read:users"] if s.authenticated else ["servers", "admin:users"]
    roles: dict[str, Any] = {"binder": {"services": ["binder"], "scopes": scopes}}
    if s.authenticated:
        roles["user"] = {"scopes": ["self", "access:services!service=binder"]}
    return roles


def binder_service(s: HubSettings, url: Any, redirect_uri: Any) -> dict[str, Any]:
    """The hub's `services.binder` entry: BinderHub's token and its OAuth client."""
    service: dict[str, Any] = {"apiToken": s.secrets.binder_api_token, "display": False}
    if url is not None:
        service["url"] = url
    if s.authenticated:
        service.update(
            oauth_client_id=BINDER_OAUTH_CLIENT_ID,
            oauth_redirect_uri=redirect_uri,
            oauth_no_confirm=True,
        )
    return service


def fancy_profile_list() -> list[dict[str, Any]]:
    """One profile whose image menu offers a ready image or 'build your own' from a repository."""
    return [
        {
            "display_name": "Jupyter server",
            "slug": "default",
            "default": True,
            "profile_options": {
                "image": {
                    "display_name": "Image",
                    "dynamic_image_building": {"enabled": True},
                    "unlisted_choice": {
                        "enabled": True,
                        "display_name": "Image to build or use",
                        "validation_regex": "^.+:.+$",
                        "validation_message": "An image name with a tag, e.g. <name>:<tag>",
                        "kubespawner_override": {"image": "{value}"},
                    },
                    "choices": {
                        "default": {
                            "display_name": "Default user image",
                            "default": True,
                            "kubespawner_override": {"image": DEFAULT_USER_IMAGE},
                        }
                    },
                }
            },
        }
    ]


def service_hub_values(s: HubSettings, binder_url_local: str) -> dict[str, Any]:
    """Values for the z2jh `jupyterhub` chart of the `service` shape (BinderHub at /services/binder/)."""
    hub = hub_common(s)
    hub["services"] = {"binder": binder_service(s, binder_url_local, s.binder_oauth_redirect_uri)}
    hub["loadRoles"] = binder_roles(s)
    singleuser: dict[str, Any] = {}
    extra_config = hub.setdefault("extraConfig", {})
    # BinderSpawner with or without BinderHub's UI: BinderHub's API launches too (unless a client
    # asks for build_only), and those servers must run the image it built.
    extra_config["10-binder-spawner"] = read_hub_file("binder_spawner.py")
    hub["config"]["BinderSpawner"] = {"auth_enabled": s.authenticated}
    if s.cors_allow_origin:
        hub["config"]["BinderSpawner"]["cors_allow_origin"] = s.cors_allow_origin
    if not s.authenticated:
        singleuser["cmd"] = ["python3", "-c", read_hub_file("launch_server.py")]
    if s.fancy_profiles_image:
        name, _, tag = s.fancy_profiles_image.rpartition(":")
        hub["image"] = {"name": name, "tag": tag}
        extra_config["30-fancy-profiles"] = "from jupyterhub_fancy_profiles import setup_ui\n\nsetup_ui(c)\n"
        singleuser["profileList"] = fancy_profile_list()
    # No volume in the users' home: z2jh's default dynamic volume at /home/jovyan hides the
    # repository the Binder image holds there, and a claim per launch piles up with named servers.
    singleuser["storage"] = {"type": "none"}
    values: dict[str, Any] = {
        "fullnameOverride": "",
        "proxy": {"secretToken": s.secrets.proxy_token, "service": {"type": "ClusterIP"}},
        "hub": hub,
        "ingress": ingress_values(s.hub_host, s.ingress, HUB_TLS_SECRET, websocket_backend=PROXY_SERVICE),
        "cull": cull_values(s.cull, s.cull_users, s.named_servers.enabled),
        # Helm hooks do not run under helm.v4.Chart; the continuous puller still warms nodes.
        "prePuller": {"hook": {"enabled": False}},
        **image_pull_secret(s.registry),
    }
    if singleuser:
        values["singleuser"] = singleuser
    return merge(
        merge(values, z2jh_capacity_values(s.resources.user, s.dedicated_pools, s.user_placeholders)),
        user_metadata_guard(),
    )
