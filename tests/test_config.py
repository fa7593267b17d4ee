"""Bad configuration fails before anything is created, naming the key, the value and what is valid."""

from typing import Any

import pytest

from config import ConfigError, parse_config
from harness import Program

DOCKERHUB = {"type": "dockerhub", "username": "alice"}
BASE: dict[str, Any] = {"cloud": "existing", "registry": DOCKERHUB}
PASSWORD = {"registryPassword": "dckr_pat_secret"}


def with_(**changes: Any) -> dict[str, Any]:
    return {**BASE, **changes}


BAD_CONFIGS = [
    # (id, config, secrets, fragments the message must contain)
    (
        "unknown cloud",
        with_(cloud="azur"),
        PASSWORD,
        ["binderhub:cloud", "'azur'", "'azure', 'aws', 'gcp' or 'existing'"],
    ),
    (
        "unknown registry type",
        with_(registry={"type": "quay"}),
        PASSWORD,
        ["binderhub:registry.type", "'quay'", "'dockerhub'"],
    ),
    (
        "dockerhub without username",
        with_(registry={"type": "dockerhub"}),
        PASSWORD,
        ["binderhub:registry", "registry.username"],
    ),
    ("dockerhub without password", BASE, {}, ["binderhub:registryPassword", "pulumi config set --secret"]),
    (
        "custom without project",
        with_(registry={"type": "custom", "url": "https://harbor.example.edu", "username": "robot"}),
        PASSWORD,
        ["binderhub:registry", "registry.project"],
    ),
    (
        "custom url not a URL",
        with_(registry={"type": "custom", "url": "harbor.example.edu", "username": "r", "project": "p"}),
        PASSWORD,
        ["binderhub:registry.url", "'harbor.example.edu'", "http(s)://"],
    ),
    ("TLS without email", with_(domain="example.edu"), PASSWORD, ["tls.email is required"]),
    (
        "domain not a DNS name",
        with_(domain="My Binder.org"),
        PASSWORD,
        ["binderhub:domain", "'My Binder.org'", "DNS name"],
    ),
    (
        "registry prefix illegal",
        with_(registry={**DOCKERHUB, "prefix": "Binder_Images!"}),
        PASSWORD,
        ["binderhub:registry.prefix", "'Binder_Images!'", "lowercase letters and digits"],
    ),
    (
        "host builder",
        with_(builder="host"),
        PASSWORD,
        ["binderhub:", "builder 'host'", "containerd", "cluster.runtime: docker"],
    ),
    (
        "unknown builder",
        with_(builder="kaniko"),
        PASSWORD,
        ["binderhub:builder", "'kaniko'", "'dind', 'pink' or 'host'"],
    ),
    (
        "node count zero",
        {"cloud": "azure", "cluster": {"nodeCount": 0}},
        {},
        ["binderhub:cluster.nodeCount", "(got 0)", "greater than or equal to 1"],
    ),
    (
        "user pool min above max",
        {"cloud": "azure", "cluster": {"userMinNodes": 5, "userMaxNodes": 2}},
        {},
        ["binderhub:cluster", "userMinNodes (5) must not exceed userMaxNodes (2)"],
    ),
    (
        "typo inside an object",
        with_(registry={**DOCKERHUB, "prefx": "b"}),
        PASSWORD,
        ["binderhub:registry", "unknown key(s) prefx", "valid keys:", "prefix"],
    ),
    ("typo at the top level", with_(domian="example.edu"), PASSWORD, ["binderhub:domian", "unknown key", "domain"]),
    (
        "unknown TLS server",
        with_(tls={"email": "ops@example.edu", "server": "prod"}),
        PASSWORD,
        ["binderhub:tls.server", "'prod'", "'staging' or 'production'"],
    ),
    ("cull timeout too short", with_(cull={"timeout": 10}), PASSWORD, ["binderhub:cull.timeout", "(got 10)", "60"]),
    (
        "floating chart version",
        with_(charts={"binderhub": "latest"}),
        PASSWORD,
        ["binderhub:charts", "exact version", "'latest'"],
    ),
    (
        "unknown chart",
        with_(charts={"jupyterhubb": "4.4.0"}),
        PASSWORD,
        ["binderhub:charts", "'jupyterhubb'", "jupyterhub"],
    ),
    (
        "kubeconfig for a managed cloud",
        {"cloud": "azure"},
        {"kubeconfig": "apiVersion: v1"},
        ["kubeconfig is only for cloud 'existing'"],
    ),
    (
        "registry of another cloud",
        with_(registry={"type": "ecr"}),
        PASSWORD,
        ["registry.type 'ecr' needs cloud 'aws'", "'dockerhub'"],
    ),
    (
        "existing ingress without hosts",
        with_(ingress={"controller": "existing", "className": "traefik"}),
        PASSWORD,
        ["ingress.controller 'existing' needs binderhub:domain", "ingress.address"],
    ),
    (
        "malformed external IP",
        with_(cluster={"externalIPs": ["192.0.2.300"]}),
        PASSWORD,
        ["binderhub:cluster.externalIPs.0", "'192.0.2.300'", "IP address"],
    ),
    (
        "malformed email",
        with_(domain="example.edu", tls={"email": "ops-at-example"}),
        PASSWORD,
        ["binderhub:tls.email", "'ops-at-example'", "email"],
    ),
    (
        "domain and hosts together",
        with_(domain="example.edu", hosts={"binder": "b.example.edu", "hub": "h.example.edu"}, tls={"enabled": False}),
        PASSWORD,
        ["either domain", "or hosts"],
    ),
    (
        "github auth without client",
        with_(auth={"type": "github"}),
        PASSWORD,
        ["auth.clientId", "binderhub:oauthClientSecret"],
    ),
    (
        "generic auth without allow rule",
        with_(
            auth={
                "type": "generic",
                "clientId": "binder",
                "authorizeUrl": "https://kc/auth",
                "tokenUrl": "https://kc/token",
                "userdataUrl": "https://kc/userinfo",
            }
        ),
        {**PASSWORD, "oauthClientSecret": "s"},
        ["denies everyone without an allow rule", "auth.allowedGroups"],
    ),
    ("gcp without project", {"cloud": "gcp"}, {}, ["binderhub:cluster.project", "required"]),
    (
        "gcp zone outside region",
        {"cloud": "gcp", "cluster": {"project": "my-project-1", "region": "europe-west1", "zone": "us-central1-a"}},
        {},
        ["binderhub:cluster", "'us-central1-a' is not in cluster.region 'europe-west1'"],
    ),
]


@pytest.mark.parametrize(
    ("config", "secrets", "fragments"), [c[1:] for c in BAD_CONFIGS], ids=[c[0] for c in BAD_CONFIGS]
)
def test_bad_config_is_refused_before_anything_is_created(
    config: dict[str, Any], secrets: dict[str, str], fragments: list[str]
) -> None:
    run = Program(config, secrets).run()
    assert isinstance(run.error, ConfigError), run.error
    message = str(run.error)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from:\n{message}"
    assert run.registrations == [], "a resource was registered despite bad config"


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(
            with_(domain="bad domain", builder="kaniko", registry={**DOCKERHUB, "prefix": "UPPER"}), set(PASSWORD)
        )
    message = str(error.value)
    assert "binderhub:domain" in message and "binderhub:builder" in message and "binderhub:registry.prefix" in message


def test_defaults_a_user_relies_on() -> None:
    cfg = parse_config(BASE, set(PASSWORD))
    assert (cfg.shape, cfg.builder, cfg.namespace, cfg.wildcard_dns) == ("classic", "dind", "binderhub", "nip.io")
    assert cfg.tls_enabled is False  # no domain: plain HTTP unless asked
    assert cfg.cull_users is True  # anonymous users are deleted when culled
    with_domain = parse_config(with_(domain="example.edu", tls={"email": "ops@example.edu"}), set(PASSWORD))
    assert with_domain.tls_enabled and with_domain.tls.server == "production"


def test_managed_clouds_default_to_their_own_registry() -> None:
    assert parse_config({"cloud": "azure"}).registry.type == "acr"
    assert parse_config({"cloud": "aws"}).registry.type == "ecr"
    assert parse_config({"cloud": "gcp", "cluster": {"project": "my-project-1"}}).registry.type == "artifact-registry"


def test_empty_string_defaults_from_pulumi_yaml_mean_unset() -> None:
    assert parse_config(with_(domain=""), set(PASSWORD)).domain is None
