"""Both shapes x the three logins, and the wiring between the hub and BinderHub.

The variants deployed are in variants.py (`<shape>-<login>`, on HTTPS with a domain); what
every stack keeps (schemas, outputs, secrets) is checked on all of them in test_invariants.py.
"""

from typing import Any

import pytest

from components.values.binderhub import binderhub_service_name
from config import ConfigError
from harness import Program, ProgramRun, is_secret, unwrap
from variants import AUTH, FANCY_HUB_IMAGE, SECRET_VALUES, WITH_DOMAIN, deploy

CLIENT_SECRET = SECRET_VALUES["oauthClientSecret"]
REGISTRY_PASSWORD = SECRET_VALUES["registryPassword"]
BASE = WITH_DOMAIN


def run(shape: str, login: str, variant: str = "") -> ProgramRun:
    """The deployed variant `<shape>-<login>` (or `variant`, one built on it)."""
    return deploy(variant or f"{shape}-{login}")


def raw_values(result: ProgramRun, release: str) -> dict[str, Any]:
    return result.chart(release).raw_inputs["values"]


def env_of(values: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in values["extraEnv"]}


@pytest.mark.parametrize("shape", ["classic", "service"])
@pytest.mark.parametrize("login", list(AUTH))
def test_shape_and_login_urls(shape: str, login: str) -> None:
    outputs = run(shape, login).outputs
    # (the callback is exported exactly when users log in: test_invariants.py)
    if login != "anonymous":
        assert outputs["oauth_callback_url"].value == "https://hub.example.edu/hub/oauth_callback"
    expected_binder = (
        "https://binder.example.edu/" if shape == "classic" else "https://hub.example.edu/services/binder/"
    )
    assert outputs["binder_url"].value == expected_binder


# ------------------------------------------------------------------ service shape wiring


def test_hub_reaches_the_service_the_binderhub_service_chart_creates() -> None:
    result = run("service", "github")
    binder = unwrap(raw_values(result, "binderhub"))
    hub = unwrap(raw_values(result, "jupyterhub"))
    release = result.chart("binderhub")
    assert release.inputs["chart"] == "binderhub-service"
    service = binderhub_service_name(release.inputs["name"], binder["fullnameOverride"])
    port = int(binder["service"]["port"])  # protobuf numbers arrive as floats
    assert hub["hub"]["services"]["binder"]["url"] == f"http://{service}:{port}"
    # both releases in one namespace, so the short Service name resolves
    assert release.inputs["namespace"] == result.chart("jupyterhub").inputs["namespace"] == "binderhub"


def test_binderhub_service_naming_follows_the_chart() -> None:
    assert binderhub_service_name("binderhub", "") == "binderhub"
    assert binderhub_service_name("binderhub", "bh") == "bh-binderhub"
    assert binderhub_service_name("lab", None) == "lab-binderhub-service-binderhub"
    assert binderhub_service_name("my-binderhub-service", None) == "my-binderhub-service-binderhub"


def test_oauth_client_and_redirect_agree_on_both_sides() -> None:
    result = run("service", "generic")
    binder = unwrap(raw_values(result, "binderhub"))
    service = unwrap(raw_values(result, "jupyterhub"))["hub"]["services"]["binder"]
    env = env_of(binder)
    assert service["oauth_client_id"] == env["JUPYTERHUB_CLIENT_ID"] == "service-binder"
    assert service["oauth_redirect_uri"] == env["JUPYTERHUB_OAUTH_CALLBACK_URL"]
    assert service["oauth_redirect_uri"] == "https://hub.example.edu/services/binder/oauth_callback"
    assert binder["config"]["BinderHub"]["base_url"] == "/services/binder/"
    assert binder["config"]["BinderHub"]["auth_enabled"] is True
    assert binder["config"]["BinderHub"]["hub_url"] == "https://hub.example.edu/"


def test_the_api_token_is_one_generated_secret_on_both_sides() -> None:
    result = run("service", "github")
    token = result.one("random:index/randomBytes:RandomBytes", "hub-binder-api-token").outputs["hex"]
    assert is_secret(token)
    hub_side = raw_values(result, "jupyterhub")["hub"]["services"]["binder"]["apiToken"]
    assert hub_side == token  # the same value, still wrapped as a secret
    secret = result.one("kubernetes:core/v1:Secret")
    assert is_secret(secret.raw_inputs["stringData"])
    assert secret.raw_inputs["stringData"]["value"]["token"] == token["value"]
    ref = env_of(unwrap(raw_values(result, "binderhub")))["JUPYTERHUB_API_TOKEN"]["secretKeyRef"]
    assert ref == {"name": secret.inputs["metadata"]["name"], "key": "token"}
    assert secret.inputs["metadata"]["namespace"] == "binderhub"
    assert result.depends_on(result.chart("binderhub"), secret)


def test_registry_credentials_for_builds_and_lookups() -> None:
    binder = raw_values(run("service", "anonymous"), "binderhub")
    creds = binder["buildPodsRegistryCredentials"]
    lookups = binder["config"]["DockerRegistry"]
    assert creds["username"] == lookups["username"] == "alice"
    assert is_secret(creds["password"]) and creds["password"] == lookups["password"]
    # The key the kubelet, the docker CLI and BinderHub all match to docker.io images.
    assert creds["server"] == "https://index.docker.io/v1/"
    assert lookups["url"] == "https://registry-1.docker.io"
    hub = raw_values(run("service", "anonymous"), "jupyterhub")
    assert hub["imagePullSecret"]["create"] is True  # Docker Hub: nodes pull with credentials
    assert binder["dockerApi"]["storage"] == {"emptyDir": {"sizeLimit": "50Gi"}}


def test_binder_ui_and_api_only_modes() -> None:
    with_ui = unwrap(raw_values(run("service", "anonymous"), "binderhub"))
    assert with_ui["config"]["BinderHub"]["enable_api_only_mode"] is False
    hub = unwrap(raw_values(run("service", "anonymous"), "jupyterhub"))["hub"]
    assert "c.JupyterHub.spawner_class = BinderSpawner" in hub["extraConfig"]["10-binder-spawner"]
    assert "admin:users" in hub["loadRoles"]["binder"]["scopes"]  # anonymous users are created
    api_only = run("service", "github", "service-github-api-only")
    assert unwrap(raw_values(api_only, "binderhub"))["config"]["BinderHub"]["enable_api_only_mode"] is True
    # BinderHub's API launches too: those servers must still run the image it built.
    api_only_hub = unwrap(raw_values(api_only, "jupyterhub"))["hub"]
    assert "c.JupyterHub.spawner_class = BinderSpawner" in api_only_hub["extraConfig"]["10-binder-spawner"]


def test_fancy_profiles_offer_the_build_option() -> None:
    result = run("service", "github", "service-github-fancy-profiles")
    hub = unwrap(raw_values(result, "jupyterhub"))
    assert hub["hub"]["image"] == {
        "name": "quay.io/yuvipanda/z2jh-hub-with-fancy-profiles",
        "tag": "z2jh-v4.4.0-fancy-profiles-sha-abc1234",
    }
    assert "setup_ui(c)" in hub["hub"]["extraConfig"]["30-fancy-profiles"]
    option = hub["singleuser"]["profileList"][0]["profile_options"]["image"]
    assert option["dynamic_image_building"] == {"enabled": True}
    assert option["unlisted_choice"]["enabled"] is True
    assert option["unlisted_choice"]["kubespawner_override"] == {"image": "{value}"}


# ------------------------------------------------------------------ authentication


def test_github_auth_on_the_classic_chart() -> None:
    values = unwrap(raw_values(run("classic", "github"), "binderhub"))
    hub = values["jupyterhub"]["hub"]
    assert hub["config"]["JupyterHub"]["authenticator_class"] == "github"
    github = hub["config"]["GitHubOAuthenticator"]
    assert github["client_id"] == "gh-client-id"
    assert github["client_secret"] == CLIENT_SECRET
    assert github["oauth_callback_url"] == "https://hub.example.edu/hub/oauth_callback"
    assert github["allowed_organizations"] == ["my-lab"] and github["scope"] == ["read:org"]
    assert values["config"]["BinderHub"]["auth_enabled"] is True
    assert hub["config"]["BinderSpawner"]["auth_enabled"] is True
    assert hub["redirectToServer"] is False
    assert hub["loadRoles"]["user"]["scopes"] == ["self", "access:services!service=binder"]
    assert hub["services"]["binder"]["oauth_redirect_uri"] == "https://binder.example.edu/oauth_callback"
    assert values["jupyterhub"]["cull"]["users"] is False  # logged-in users are kept


def test_client_secret_stays_secret_in_the_hub_config() -> None:
    raw = raw_values(run("classic", "github"), "binderhub")
    secret = raw["jupyterhub"]["hub"]["config"]["GitHubOAuthenticator"]["client_secret"]
    assert is_secret(secret) and secret["value"] == CLIENT_SECRET


def test_generic_oauth_for_keycloak() -> None:
    hub = unwrap(raw_values(run("service", "generic"), "jupyterhub"))["hub"]
    assert hub["config"]["JupyterHub"]["authenticator_class"] == "generic-oauth"
    generic = hub["config"]["GenericOAuthenticator"]
    assert generic["authorize_url"].endswith("/openid-connect/auth")
    assert generic["userdata_url"].endswith("/openid-connect/userinfo")
    assert generic["username_claim"] == "preferred_username"
    assert generic["allowed_groups"] == ["binder-users"]
    assert generic["manage_groups"] is True and generic["auth_state_groups_key"] == "oauth_user.groups"
    assert generic["admin_users"] == ["admin"]


def test_anonymous_classic_binder_culls_temporary_users() -> None:
    values = unwrap(raw_values(run("classic", "anonymous"), "binderhub"))
    assert values["jupyterhub"]["hub"]["config"]["JupyterHub"]["authenticator_class"] == "null"
    assert values["jupyterhub"]["cull"]["users"] is True
    assert values["config"]["BinderHub"]["auth_enabled"] is False


def test_named_servers_and_passed_tokens() -> None:
    result = run("classic", "generic", "classic-generic-named-servers")
    values = unwrap(raw_values(result, "binderhub"))
    hub = values["jupyterhub"]["hub"]
    assert hub["allowNamedServers"] is True and hub["namedServerLimitPerUser"] == 3
    assert values["config"]["Launcher"] == {"allow_named_servers": True, "named_server_limit_per_user": 3}
    assert hub["config"]["GenericOAuthenticator"]["enable_auth_state"] is True
    assert "OAUTH_ACCESS_TOKEN" in hub["extraConfig"]["20-pass-oauth-tokens"]
    # auth state is encrypted with the generated CryptKeeper key
    crypt = result.one("random:index/randomBytes:RandomBytes", "hub-crypt-key").outputs["hex"]["value"]
    assert hub["config"]["CryptKeeper"]["keys"] == [crypt]


# ------------------------------------------------------------------ config errors

GENERIC = AUTH["generic"]
FANCY_IMAGE = FANCY_HUB_IMAGE
BAD = [
    ("github without clientId", {"auth": {"type": "github", "allowAll": True}}, True, ["auth.clientId"]),
    ("github without secret", {"auth": AUTH["github"]}, False, ["binderhub:oauthClientSecret"]),
    (
        "github without allow rule",
        {"auth": {"type": "github", "clientId": "x"}},
        True,
        ["denies everyone", "auth.allowedOrganizations"],
    ),
    (
        "github with generic URLs",
        {"auth": {**AUTH["github"], "tokenUrl": "https://idp/token"}},
        True,
        ["binderhub:auth", "auth.tokenUrl is not used by auth.type 'github'", "it is for auth.type 'generic'"],
    ),
    (
        "generic without URLs",
        {"auth": {"type": "generic", "clientId": "x", "allowAll": True}},
        True,
        ["auth.type 'generic' needs auth.authorizeUrl, auth.tokenUrl, auth.userdataUrl"],
    ),
    (
        "generic without allow rule",
        {"auth": {k: v for k, v in GENERIC.items() if k not in ("allowedGroups", "adminUsers")}},
        True,
        ["denies everyone", "auth.allowedGroups"],
    ),
    (
        "generic with organizations",
        {"auth": {**GENERIC, "allowedOrganizations": ["x"]}},
        True,
        ["auth.allowedOrganizations is not used by auth.type 'generic'", "it is for auth.type 'github'"],
    ),
    (
        "fancy profiles in classic",
        {"fancyProfiles": {"enabled": True, "hubImage": FANCY_IMAGE}, "auth": GENERIC},
        True,
        ["fancyProfiles needs shape 'service'"],
    ),
    (
        "fancy profiles anonymous",
        {"shape": "service", "fancyProfiles": {"enabled": True, "hubImage": FANCY_IMAGE}},
        False,
        ["fancyProfiles needs auth.type"],
    ),
    (
        "fancy profiles without image",
        {"shape": "service", "fancyProfiles": {"enabled": True}, "auth": GENERIC},
        True,
        ["fancyProfiles.hubImage is required"],
    ),
    (
        "fancy profiles floating image",
        {"shape": "service", "auth": GENERIC, "fancyProfiles": {"enabled": True, "hubImage": "quay.io/x/hub:latest"}},
        True,
        ["binderhub:fancyProfiles.hubImage", "'quay.io/x/hub:latest'", "pinned image"],
    ),
    ("api-only anonymous hub", {"shape": "service", "binderUI": False}, False, ["leaves no way to launch anything"]),
    ("binderUI on classic", {"binderUI": False}, False, ["binderUI is for shape 'service'"]),
    (
        "pink with binderhub-service",
        {"shape": "service", "builder": "pink"},
        False,
        ["builder 'pink' needs shape 'classic'"],
    ),
    ("named servers anonymous", {"namedServers": {"enabled": True}}, False, ["namedServers needs an auth.type"]),
    (
        "named server limit without named servers",
        {"namedServers": {"limitPerUser": 2}, "auth": GENERIC},
        True,
        ["namedServers.limitPerUser is set but namedServers.enabled is false"],
    ),
    (
        "tokens without login",
        {"auth": {"type": "none", "passTokens": True}},
        False,
        ["auth.passTokens is not used by auth.type 'none'"],
    ),
    ("unknown shape", {"shape": "hub-service"}, False, ["binderhub:shape", "'hub-service'", "'classic' or 'service'"]),
]


@pytest.mark.parametrize(("extra", "with_secret", "fragments"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_shape_or_auth_config_is_refused(extra: dict[str, Any], with_secret: bool, fragments: list[str]) -> None:
    secrets = {"registryPassword": REGISTRY_PASSWORD}
    if with_secret:
        secrets["oauthClientSecret"] = CLIENT_SECRET
    result = Program({**BASE, **extra}, secrets).run()
    assert isinstance(result.error, ConfigError), result.error
    for fragment in fragments:
        assert fragment in str(result.error), f"{fragment!r} not in {result.error}"
    assert result.registrations == []
