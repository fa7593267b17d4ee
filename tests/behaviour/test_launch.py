"""What a user gets from each deployed hub, shown by the real software on the rendered charts.

For every variant that deploys a hub (the committed stacks and every shape x auth x registry
variant), deployments.py starts BinderHub and the hub from their rendered Deployments, builds a
repository and launches it. These tests assert on what that software did: it started cleanly,
the build pod can push the image, and the user's pod runs that image, can pull it, shows the
repository and starts a server that fits the login mode.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from behaviour.charts import secret_data
from behaviour.deployments import (
    HUB_PAGE_USER,
    IMAGE_HOME,
    LOGGED_IN_USER,
    Deployment,
    deployments,
    hub_variants,
    registry_type,
)
from behaviour.rules import docker_cli_auth, f5_ingress_annotations, kubelet_keyring
from variants import HELM_VALUES_EXAMPLES, NGINX

# Registries whose images the nodes pull with their own cloud identity (AcrPull, the EKS node
# role, the GKE node service account): no pull secret is needed, or given.
NODE_IDENTITY_REGISTRIES = {"acr", "ecr", "artifact-registry"}

# Warnings at start that we accept, each with its source; nothing else may be logged at WARNING
# or above while the hub or BinderHub starts.
UPSTREAM_START_WARNINGS = (
    # jupyterhub's own event schemas carry a numeric `version` (jupyter-events warns on its own data)
    "JupyterEventsVersionWarning",
    # the binderhub chart's binderhub_config.py sets the deprecated BinderHub.build_docker_host itself
    "BinderHub.build_docker_host is deprecated",
    # the binderhub chart's values.yaml sets the deprecated BinderHub.build_node_selector itself
    "BinderHub.build_node_selector is deprecated",
    # Not upstream, but chosen: logged-in users are not asked to authorize BinderHub, a service of
    # their own hub (`oauth_no_confirm`, as BinderHub's authentication docs set it)
    "Allowing service binder to complete OAuth without confirmation",
    # At each launch, not at start: JupyterHub 5.3+ warns when no `apply_user_options` hook takes
    # the options; BinderSpawner reads them in start(), as the binderhub chart's own mixin does
    "Received unhandled user_options",
    # jupyterhub-fancy-profiles' setup_ui() registers its pages through the deprecated hook
    "JupyterHub.extra_handlers is deprecated",
)


def _own_warnings(messages: list[str]) -> list[str]:
    return [m for m in messages if not any(known in m for known in UPSTREAM_START_WARNINGS)]


@pytest.fixture(params=hub_variants())
def deployment(request: pytest.FixtureRequest) -> Deployment:
    return deployments()[request.param]


def _user_container(deployment: Deployment) -> dict[str, Any]:
    launch = deployment.launch
    assert "error" not in launch, f"{deployment.variant.name}: the hub failed to spawn: {launch['error']}"
    pod = launch["pod"]
    return next(c for c in pod["spec"]["containers"] if c["name"] == "notebook")


# ------------------------------------------------------------------ the software starts


def test_hub_starts_with_its_rendered_configuration(deployment: Deployment) -> None:
    """z2jh's jupyterhub_config.py, hub.config and every hub.extraConfig snippet load and initialize."""
    assert deployment.hub["errors"] == [], deployment.hub["errors"][0][-3000:]
    assert _own_warnings(deployment.hub["warnings"]) == []


def test_hub_uses_binderhubs_spawner_and_the_configured_login(deployment: Deployment) -> None:
    assert "BinderSpawnerMixin" in deployment.hub["spawner_mro"] or "BinderSpawner" in deployment.hub["spawner_mro"]
    assert "KubeSpawner" in deployment.hub["spawner_mro"]
    expected = {
        "none": "jupyterhub.auth.NullAuthenticator",
        "github": "oauthenticator.github.GitHubOAuthenticator",
        "generic": "oauthenticator.generic.GenericOAuthenticator",
    }[deployment.variant.auth_type]
    assert deployment.hub["authenticator"] == expected
    assert "binder" in deployment.hub["services"]


def test_binderhub_starts_without_falling_back_on_defaults(deployment: Deployment) -> None:
    """No error, no unrecognized option, no generated-at-start secret (differs per replica)."""
    result = deployment.binderhub
    assert result["errors"] == [], result["errors"][0][-3000:]
    assert _own_warnings(result["start_warnings"]) == []
    assert result["auth_enabled"] == deployment.authenticated


# ------------------------------------------------------------------ a launch


def test_user_pod_runs_the_image_binderhub_built(deployment: Deployment) -> None:
    container = _user_container(deployment)
    assert container["image"] == deployment.binderhub["image"]


def test_repository_files_are_not_hidden_by_a_volume(deployment: Deployment) -> None:
    """repo2docker puts the repository in the image's home: nothing may be mounted over it."""
    container = _user_container(deployment)
    for mount in container.get("volumeMounts") or []:
        path = mount["mountPath"].rstrip("/")
        assert not (path == IMAGE_HOME or IMAGE_HOME.startswith(path + "/")), (
            f"{mount['name']} is mounted at {mount['mountPath']}, hiding the repository in {IMAGE_HOME}"
        )


def test_server_command_fits_the_login_mode(deployment: Deployment) -> None:
    container = _user_container(deployment)
    argv = [*(container.get("command") or []), *(container.get("args") or [])]
    env = {e["name"]: e.get("value") for e in container.get("env") or []}
    user, server = deployment.binderhub["launch_user"], deployment.binderhub["launch_server_name"]
    prefix = f"/user/{user}/" + (f"{server}/" if server else "")
    if deployment.authenticated:
        # The hub's single-user server: it reads JUPYTERHUB_* and requires login through the hub.
        assert argv[0] == "jupyterhub-singleuser", argv
        assert env["JUPYTERHUB_SERVICE_PREFIX"] == prefix
        assert env["JUPYTERHUB_API_TOKEN"]
        assert not any("token=" in arg for arg in argv), "a logged-in server must not take a static token"
    else:
        # An anonymous Binder server: open on all interfaces, at the hub's prefix, with the token
        # BinderHub handed the visitor.
        token = deployment.launch_options["token"]
        assert f"--ServerApp.token={token}" in argv
        assert f"--ServerApp.base_url={prefix}" in argv
        assert "--ip=0.0.0.0" in argv or "--ServerApp.ip=0.0.0.0" in argv


def test_user_pod_can_pull_the_built_image(deployment: Deployment) -> None:
    """By the kubelet's own matching of the pod's image pull secrets, or by the nodes' identity."""
    registry = registry_type(deployment.variant)
    if registry == "none":
        pytest.skip("no registry: the image stays on the single node that built it")
    pod = deployment.launch["pod"]
    image = _user_container(deployment)["image"]
    secrets = [deployment.secret(ref["name"]) for ref in pod["spec"].get("imagePullSecrets") or []]
    credentials = kubelet_keyring.image_pull_credentials(secrets, image)
    if registry in NODE_IDENTITY_REGISTRIES:
        # The nodes' identity is granted pull on the stack's registry (see the cloud tests): the
        # image must live there.
        registry_host = str(deployment.run.outputs["registry_url"].value).removeprefix("https://").split("/")[0]
        assert image.split("/", 1)[0] == registry_host
        return
    assert credentials, f"no image pull secret of the pod matches {image}: the kubelet pulls anonymously"
    assert credentials[0].password, "the matching credential carries the registry password"


def test_build_pod_pushes_where_the_launch_pulls(deployment: Deployment) -> None:
    """The build pod's registry credentials match the image it pushes (docker-py and docker CLI
    rules), and, where BinderHub launches, that image is the one the user's pod runs."""
    result = deployment.binderhub
    if not result["use_registry"]:
        pytest.skip("no registry: the build stays on the node")
    pod = result["build_pod"]
    image = result["image"]
    assert image == _user_container(deployment)["image"]
    builder = pod["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in builder.get("env") or []}
    if "CONTAINER_ENGINE_REGISTRY_CREDENTIALS" in env:
        # Short-lived push token from the registry helper (ECR): repo2docker logs in to its registry.
        token = json.loads(env["CONTAINER_ENGINE_REGISTRY_CREDENTIALS"])
        assert docker_cli_auth.convert_to_hostname(token["registry"]) == image.split("/", 1)[0]
        return
    mount = next(m for m in builder["volumeMounts"] if m["mountPath"].startswith("/root/.docker"))
    volume = next(v for v in pod["spec"]["volumes"] if v["name"] == mount["name"])
    config = secret_data(deployment.secret(volume["secret"]["secretName"]))[mount.get("subPath", "config.json")]
    document = json.loads(config)
    for lookup in (
        docker_cli_auth.docker_py_push_credentials(document, image),
        docker_cli_auth.cli_push_credentials(docker_cli_auth.load_cli_config(document), image),
    ):
        assert isinstance(lookup, docker_cli_auth.AuthEntry), f"no push credentials for {image} in {list(document)}"
        assert lookup.password


# ------------------------------------------------------------------ the ingress


def _ingresses(deployment: Deployment) -> list[dict[str, Any]]:
    return [o for o in deployment.objects if o.get("kind") == "Ingress"]


def test_every_ingress_passes_the_controllers_validation(deployment: Deployment) -> None:
    """F5 NGINX drops an Ingress whole on any annotation error: binder.<host> would never be served."""
    if NGINX not in deployment.variant.charts:
        pytest.skip("an existing ingress controller: its own rules apply")
    for ingress in _ingresses(deployment):
        assert f5_ingress_annotations.validate_ingress(ingress) == [], ingress["metadata"]["name"]


def test_kernels_get_websockets_through_the_hub_ingress(deployment: Deployment) -> None:
    """Kernels and terminals speak WebSocket: F5 NGINX upgrades only for the Services named."""
    if NGINX not in deployment.variant.charts:
        pytest.skip("an existing ingress controller")
    hub = next(i for i in _ingresses(deployment) if "proxy-public" in f5_ingress_annotations.spec_services(i["spec"]))
    named = hub["metadata"].get("annotations", {}).get("nginx.org/websocket-services", "")
    assert "proxy-public" in f5_ingress_annotations.parse_service_list(named)


def test_event_streams_reach_the_browser_unbuffered(deployment: Deployment) -> None:
    """Build logs (/build/...) and launch progress (/hub/api/.../progress) are text/event-stream."""
    if NGINX not in deployment.variant.charts:
        pytest.skip("an existing ingress controller")
    for ingress in _ingresses(deployment):
        annotations = ingress["metadata"].get("annotations") or {}
        value = annotations.get("nginx.org/proxy-buffering")
        assert value is not None, f"{ingress['metadata']['name']}: responses are buffered by default"
        assert f5_ingress_annotations.parse_bool(value) is False


# ------------------------------------------------------------------ named servers


def test_binder_launches_leave_nothing_behind(deployment: Deployment) -> None:
    """Each launch with named servers is a new server: it must claim no volume, and the culler
    must delete it (the hub counts stopped named servers against namedServerLimitPerUser)."""
    assert deployment.launch.get("pvc") is None, "a Binder launch claimed a volume"
    if deployment.binderhub["launch_server_name"]:
        assert deployment.hub["named_servers"]
        assert "--remove-named-servers" in " ".join(deployment.hub["culler_command"])


def test_logged_in_launches_go_to_the_logged_in_user(deployment: Deployment) -> None:
    if not deployment.authenticated:
        assert deployment.binderhub["launch_user"] != LOGGED_IN_USER
        return
    assert deployment.binderhub["launch_user"] == LOGGED_IN_USER


# ------------------------------------------------------------------ the operator's Helm values

# The variant deploying the README's binderhub:helmValues examples (variants.HELM_VALUES_EXAMPLES).
HELM_VALUES_VARIANT = "service-github-helm-values"


def test_the_helm_values_examples_reach_the_hub_and_binderhub() -> None:
    """Another default user image: the server a user starts from the hub's own page runs it (a
    Binder launch still runs the image BinderHub built). A BinderHub option: BinderHub holds it."""
    if HELM_VALUES_VARIANT not in hub_variants():
        pytest.skip(f"{HELM_VALUES_VARIANT} is not among BEHAVIOUR_VARIANTS")
    deployment = deployments()[HELM_VALUES_VARIANT]
    image = HELM_VALUES_EXAMPLES["jupyterhub"]["singleuser"]["image"]
    launch = next(entry for entry in deployment.hub["launches"] if entry["name"] == "hub-page")
    assert "error" not in launch, f"the hub failed to spawn {HUB_PAGE_USER}'s server: {launch['error']}"
    container = next(c for c in launch["pod"]["spec"]["containers"] if c["name"] == "notebook")
    assert container["image"] == f"{image['name']}:{image['tag']}"
    assert _user_container(deployment)["image"] == deployment.binderhub["image"]
    banner = HELM_VALUES_EXAMPLES["binderhub-service"]["config"]["BinderHub"]["banner_message"]
    assert deployment.binderhub["traits"] == {"banner_message": banner}
