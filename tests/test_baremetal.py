"""Bare metal (`cloud: existing` on your own servers): storage, entry point, registries, config errors.

The configurations deployed are in variants.py; what every stack keeps (schemas, outputs,
secrets, destroy order) is checked on all of them in test_invariants.py.
"""

from typing import Any

import pytest

from config import ConfigError
from harness import Program, ProgramRun, is_secret, unwrap
from variants import HARBOR, SECRET_VALUES, SINGLE_DOCKER_NODE, deploy

REGISTRY_PASSWORD = SECRET_VALUES["registryPassword"]
PUBLIC_IP = "203.0.113.10"  # the server's address in Pulumi.baremetal.yaml
LOCALPV = "localpv-provisioner"


@pytest.fixture
def baremetal() -> ProgramRun:
    return deploy("baremetal")


@pytest.fixture
def no_domain() -> ProgramRun:
    return deploy("baremetal-no-domain")


def values(run: ProgramRun, release: str) -> dict[str, Any]:
    return unwrap(run.chart(release).inputs["values"])


# ------------------------------------------------------------------ storage


def test_openebs_hostpath_becomes_the_default_storage_class(baremetal: ProgramRun) -> None:
    release = baremetal.chart("openebs-localpv")
    assert release.inputs["chart"] == LOCALPV and release.inputs["version"] == "4.2.0"
    assert release.inputs["repositoryOpts"]["repo"] == "https://openebs.github.io/dynamic-localpv-provisioner"
    hostpath = unwrap(release.inputs["values"])["hostpathClass"]
    assert hostpath["enabled"] is True and hostpath["isDefaultClass"] is True
    assert hostpath["basePath"] == "/srv/openebs/local"  # openebsBasePath in the stack file
    assert unwrap(release.inputs["values"])["analytics"] == {"enabled": False}


def test_hub_database_uses_it_and_waits_for_it(baremetal: ProgramRun) -> None:
    release = baremetal.chart("openebs-localpv")
    class_name = unwrap(release.inputs["values"])["hostpathClass"]["name"]
    hub = baremetal.chart("jupyterhub")
    hub_values = values(baremetal, "jupyterhub")
    assert hub_values["hub"]["db"]["pvc"]["storageClassName"] == class_name == "openebs-hostpath"
    # Binder servers get no home volume: it would hide the repository in the image's home.
    assert hub_values["singleuser"]["storage"] == {"type": "none"}
    assert baremetal.depends_on(hub, release), "the hub's volume claim would wait for a missing provisioner"


def test_default_base_path_and_classic_shape_hub_database() -> None:
    run = deploy("existing-openebs-harbor")
    assert values(run, "openebs-localpv")["hostpathClass"]["basePath"] == "/var/openebs/local"
    hub = values(run, "binderhub")["jupyterhub"]["hub"]
    assert hub["db"]["pvc"]["storageClassName"] == "openebs-hostpath"
    assert run.depends_on(run.chart("binderhub"), run.chart("openebs-localpv"))


def test_existing_storage_is_left_alone() -> None:
    run = deploy("existing-harbor")
    assert not [r for r in run.registrations if r.inputs.get("chart") == LOCALPV]
    assert "db" not in values(run, "binderhub")["jupyterhub"]["hub"]  # the cluster's default class


# ------------------------------------------------------------------ entry point and hosts


def test_controller_listens_on_the_external_ips_without_a_load_balancer(baremetal: ProgramRun) -> None:
    service = values(baremetal, "nginx-ingress")["controller"]["service"]
    assert service["externalIPs"] == [PUBLIC_IP]
    # A LoadBalancer Service would stay pending on bare metal and Helm would wait for it.
    assert service["type"] == "ClusterIP"
    assert baremetal.of_type("kubernetes:core/v1:Service") == []
    assert baremetal.outputs["ingress_address"].value == PUBLIC_IP


def test_domain_hosts_and_tls(baremetal: ProgramRun) -> None:
    hub = values(baremetal, "jupyterhub")
    assert hub["ingress"]["hosts"] == ["hub.example.edu"]
    assert hub["ingress"]["tls"][0]["hosts"] == ["hub.example.edu"]
    assert baremetal.outputs["hub_url"].value == "https://hub.example.edu/"
    assert baremetal.outputs["binder_url"].value == "https://hub.example.edu/services/binder/"


def test_without_a_domain_hosts_derive_from_the_external_ip_in_the_first_run(no_domain: ProgramRun) -> None:
    # Keycloak login needs HTTPS: the certificate is for the nip.io host.
    assert no_domain.outputs["hub_url"].value == f"https://hub.{PUBLIC_IP}.nip.io/"
    assert values(no_domain, "jupyterhub")["ingress"]["hosts"] == [f"hub.{PUBLIC_IP}.nip.io"]
    assert values(no_domain, "jupyterhub")["ingress"]["tls"][0]["hosts"] == [f"hub.{PUBLIC_IP}.nip.io"]
    assert no_domain.outputs["oauth_callback_url"].value == f"https://hub.{PUBLIC_IP}.nip.io/hub/oauth_callback"


def test_host_ports_run_a_controller_on_every_node() -> None:
    run = deploy("baremetal-host-ports")
    controller = values(run, "nginx-ingress")["controller"]
    assert controller["kind"] == "daemonset"
    assert controller["hostPort"] == {"enable": True, "http": 80, "https": 443}
    assert controller["service"] == {"type": "ClusterIP"}
    assert run.outputs["ingress_address"].value == PUBLIC_IP


# ------------------------------------------------------------------ login and registry


def test_keycloak_login_with_admins_and_named_servers(baremetal: ProgramRun) -> None:
    hub_values = baremetal.chart("jupyterhub").raw_inputs["values"]
    oauth = unwrap(hub_values)["hub"]["config"]["GenericOAuthenticator"]
    assert oauth["authorize_url"].startswith("https://keycloak.example.org/realms/")
    assert oauth["allowed_groups"] == ["binder-users"] and oauth["admin_users"] == ["alice", "bob"]
    assert unwrap(hub_values)["hub"]["allowNamedServers"] is True
    assert unwrap(hub_values)["cull"]["users"] is False  # logged-in users keep their accounts
    # (no credential in plain text anywhere: test_invariants.py)
    assert is_secret(unwrap_path(hub_values, ["hub", "config", "GenericOAuthenticator", "client_secret"]))


def test_harbor_project_receives_the_images(baremetal: ProgramRun) -> None:
    assert baremetal.outputs["image_prefix"].value == "harbor.example.org/binder/bare-"
    binder = values(baremetal, "binderhub")
    assert binder["buildPodsRegistryCredentials"]["server"] == "https://harbor.example.org"
    assert binder["buildPodsRegistryCredentials"]["password"] == REGISTRY_PASSWORD
    assert values(baremetal, "jupyterhub")["imagePullSecret"]["create"] is True


def test_registry_none_on_a_single_docker_node_builds_with_the_node_docker() -> None:
    run = deploy("existing-docker-node-external-ip")
    binder = values(run, "binderhub")
    assert binder["imageBuilderType"] == "host"
    assert binder["config"]["BinderHub"]["use_registry"] is False
    assert "registry" not in binder and "DockerRegistry" not in binder["config"]
    assert "imagePullSecret" not in binder["jupyterhub"]


NONE_REFUSED = {
    "dind on one docker node": {"builder": "dind"},
    "pink on one docker node": {"builder": "pink"},
    "several nodes": {"cluster": {"runtime": "docker", "nodes": 3}},
    "node count unknown": {"cluster": {"runtime": "docker"}},
    "containerd nodes": {"cluster": {"nodes": 1}},
}


@pytest.mark.parametrize("change", NONE_REFUSED.values(), ids=list(NONE_REFUSED))
def test_registry_none_is_refused_where_images_cannot_reach_the_kubelet(change: dict[str, Any]) -> None:
    run = Program({**SINGLE_DOCKER_NODE, **change}).run()
    assert isinstance(run.error, ConfigError)
    message = str(run.error)
    assert "registry.type 'none'" in message and "builder 'host' on a single Docker Engine node" in message
    assert "'custom'" in message  # what to use instead
    assert run.registrations == []


# ------------------------------------------------------------------ config errors

BAD = {
    "malformed IP": ({"cluster": {"externalIPs": ["203.0.113.300"]}}, ["cluster.externalIPs.0", "'203.0.113.300'"]),
    "hostname as IP": ({"cluster": {"externalIPs": ["lb.example.edu"]}}, ["is not an IP address"]),
    "CIDR as IP": ({"cluster": {"externalIPs": ["203.0.113.0/24"]}}, ["'203.0.113.0/24'", "is not an IP address"]),
    "repeated IP": ({"cluster": {"externalIPs": [PUBLIC_IP, PUBLIC_IP]}}, [f"lists {PUBLIC_IP} more than once"]),
    "unknown storage": ({"cluster": {"storage": "longhorn"}}, ["cluster.storage", "'longhorn'", "'openebs'"]),
    "relative base path": (
        {"cluster": {"storage": "openebs", "openebsBasePath": "var/openebs"}},
        ["cluster.openebsBasePath", "'var/openebs'", "absolute path"],
    ),
    "base path without openebs": (
        {"cluster": {"storage": "existing", "openebsBasePath": "/data"}},
        ["cluster.openebsBasePath is only used with cluster.storage 'openebs'"],
    ),
    "host ports without addresses": (
        {"cluster": {"exposeIngress": "hostPorts"}},
        ["cluster.exposeIngress 'hostPorts' needs cluster.externalIPs"],
    ),
    "unknown exposure": ({"cluster": {"exposeIngress": "nodePort"}}, ["cluster.exposeIngress", "'hostPorts'"]),
    "unknown runtime": ({"cluster": {"runtime": "cri-o"}}, ["cluster.runtime", "'cri-o'", "'containerd'"]),
    "external IPs with an existing controller": (
        {"cluster": {"externalIPs": [PUBLIC_IP]}, "ingress": {"controller": "existing", "address": PUBLIC_IP}},
        ["cluster.externalIPs expose the controller this program installs", "ingress.address"],
    ),
    "host builder on containerd": ({"builder": "host"}, ["builder 'host'", "cluster.runtime: docker"]),
    "host builder with binderhub-service": (
        {"builder": "host", "cluster": {"runtime": "docker"}, "shape": "service"},
        ["builder 'host' needs shape 'classic'"],
    ),
    "custom registry without project": (
        {"registry": {k: v for k, v in HARBOR.items() if k != "project"}},
        ["registry type 'custom' needs registry.project"],
    ),
}


@pytest.mark.parametrize(("change", "expected"), BAD.values(), ids=list(BAD))
def test_bad_bare_metal_config_names_the_key_and_creates_nothing(change: dict[str, Any], expected: list[str]) -> None:
    config = {"cloud": "existing", "registry": HARBOR, **change}
    run = Program(config, {"registryPassword": REGISTRY_PASSWORD}).run()
    assert isinstance(run.error, ConfigError), run.error
    for fragment in expected:
        assert fragment in str(run.error)
    assert run.registrations == []


def test_custom_registry_without_its_password_is_refused() -> None:
    run = Program({"cloud": "existing", "registry": HARBOR}).run()
    assert isinstance(run.error, ConfigError)
    assert "binderhub:registryPassword" in str(run.error) and run.registrations == []


def unwrap_path(document: Any, path: list[str]) -> Any:
    """The value at `path`, walking through secret wrappers but returning the last one as is."""
    for key in path:
        if is_secret(document):
            document = document["value"]
        document = document[key]
    return document
