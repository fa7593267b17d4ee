"""Bad input, by kind: each kind of mistake is refused over every key it applies to.

Every refusal names the key, the value and what would be valid, and comes before anything is
registered (`Program(...).run()` records registrations; the pure `parse_config` is used where
a whole sweep of keys is checked). The keys of each sweep are read from the config model, so
a key added later is swept too.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterator
from typing import Any, get_args, get_origin

import pytest
import yaml
from pydantic import BaseModel
from pydantic.alias_generators import to_camel

import config
from components.values.auth import authenticator_config
from config import AuthConfig, ConfigError, StackConfig, parse_config
from harness import Program, ProgramRun, find_plain, unwrap
from variants import SECRET_VALUES, deploy
from versions import CHARTS

PASSWORD = {"registryPassword": SECRET_VALUES["registryPassword"]}
EXISTING: dict[str, Any] = {"cloud": "existing", "registry": {"type": "dockerhub", "username": "alice"}}
# Login needs HTTPS: the same cluster with a domain (TLS on by default).
LOGIN: dict[str, Any] = {**EXISTING, "domain": "uni.edu", "tls": {"email": "ops@uni.edu"}}
# A valid value for every cloud's required cluster keys.
CLOUD_BASE: dict[str, dict[str, Any]] = {
    "existing": EXISTING,
    "azure": {"cloud": "azure"},
    "aws": {"cloud": "aws"},
    "gcp": {"cloud": "gcp", "cluster": {"project": "my-binder-123"}},
}


def refused(cfg: dict[str, Any], secrets: dict[str, str] | None = None) -> str:
    """The program's refusal of `cfg`: asserts it failed with a ConfigError before registering anything."""
    run = Program(cfg, {**PASSWORD, **(secrets or {})} if secrets is None or secrets else {}).run()
    assert isinstance(run.error, ConfigError), f"expected a ConfigError, got {run.error!r}"
    assert run.registrations == [], f"registered before refusing: {[r.name for r in run.registrations]}"
    return str(run.error)


def parse_error(cfg: dict[str, Any], secrets: set[str] | None = None) -> str:
    with pytest.raises(ConfigError) as error:
        parse_config(cfg, {"registryPassword"} if secrets is None else secrets)
    return str(error.value)


def nested(path: str, value: Any) -> dict[str, Any]:
    """{'a': {'b': value}} from 'a.b'."""
    head, _, rest = path.partition(".")
    return {head: nested(rest, value) if rest else value}


def merged(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    out = json.loads(json.dumps(base))
    for key, value in change.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


# ------------------------------------------------------------------ the model's string keys


def _strings(annotation: Any) -> tuple[str, Any] | None:
    """('str' | 'list' | 'dict', model) when `annotation` holds strings; ('model', cls) for a nested model."""
    origin = get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in get_args(annotation):
            if arg is not type(None) and (found := _strings(arg)):
                return found
        return None
    if origin is typing.Annotated:
        return _strings(get_args(annotation)[0])
    if annotation is str or origin is typing.Literal:
        return ("str", None)
    if origin is list:
        return ("list", None) if _strings(get_args(annotation)[0]) else None
    if origin is dict:
        return ("dict", None)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return ("model", annotation)
    return None


def string_keys(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(dotted camelCase key, 'str' | 'list' | 'dict') for every string-holding key of `model`."""
    for name, field in model.model_fields.items():
        key = prefix + (field.alias or name)
        found = _strings(field.annotation)
        if found and found[0] == "model":
            yield from string_keys(found[1], key + ".")
        elif found:
            yield key, found[0]


STRING_KEYS = [
    (cloud, key, kind)
    for cloud, cluster_model in config.CLUSTER_MODELS.items()
    for key, kind in [
        *(("cluster." + k, kind) for k, kind in string_keys(cluster_model)),
        # helmValues: the charts judge Helm values (a hub.extraConfig snippet is lines of Python).
        *(
            (k, kind)
            for k, kind in string_keys(StackConfig)
            if cloud == "existing" and k not in ("cluster", "helmValues")
        ),
    ]
]


@pytest.mark.parametrize(("cloud", "key", "kind"), STRING_KEYS, ids=[f"{c}:{k}" for c, k, _ in STRING_KEYS])
def test_a_control_character_in_any_string_is_refused_naming_the_key(cloud: str, key: str, kind: str) -> None:
    bad = "value\n"
    value: Any = {"chart": bad} if kind == "dict" else [bad] if kind == "list" else bad
    where = f"binderhub:{key}" + (".chart" if kind == "dict" else "[0]" if kind == "list" else "")
    message = parse_error(merged(CLOUD_BASE[cloud], nested(key, value)))
    assert f"{where}: 'value\\n' contains a control character (U+000A)" in message


def test_the_string_sweep_covers_the_models_keys() -> None:
    keys = {key for _, key, _ in STRING_KEYS}
    # A few every user sets, so an empty sweep cannot pass.
    assert {"namespace", "domain", "registry.username", "auth.clientId", "cors.allowOrigin", "charts"} <= keys
    assert {"cluster.location", "cluster.region", "cluster.project", "cluster.context"} <= keys


def test_the_issue_examples_of_control_characters_register_nothing() -> None:
    assert "binderhub:namespace: 'binderhub\\n' contains a control character" in refused(
        {**EXISTING, "namespace": "binderhub\n"}
    )
    # A zero-width space is invisible in the stack file and breaks a host name.
    assert "U+200B" in refused({**EXISTING, "domain": "example\u200b.edu", "tls": {"email": "a@example.edu"}})


# The kubeconfig is a document and gitCredentials lines of git's credential format: lines are their shape.
@pytest.mark.parametrize("key", [key for key in config.SECRET_KEYS if key not in ("kubeconfig", "gitCredentials")])
def test_a_one_line_secret_with_a_trailing_newline_is_refused_without_echoing_it(key: str) -> None:
    value = "s3cr3t-value-987\n"
    cfg = {**EXISTING, "auth": {"type": "github", "clientId": "Iv1.abc", "allowAll": True}}
    message = refused(cfg, {**PASSWORD, "oauthClientSecret": "oauth-secret-1", key: value})
    assert f"binderhub:{key}: the secret has surrounding spaces, a line break" in message
    assert "s3cr3t" not in message


# ------------------------------------------------------------------ URLs, parsed

URL_KEYS = {
    # key: (config putting a value there, may a path follow the host?)
    "registry.url": (lambda v: {"registry": {"type": "custom", "url": v, "username": "robot", "project": "p"}}, False),
    "registry.tokenUrl": (
        lambda v: {
            "registry": {
                "type": "custom",
                "url": "https://harbor.uni.edu",
                "tokenUrl": v,
                "username": "r",
                "project": "p",
            }
        },
        True,
    ),
    **{
        f"auth.{key}": (
            lambda v, key=key: {
                "auth": {
                    "type": "generic",
                    "clientId": "binder",
                    "allowAll": True,
                    **{k: "https://kc.uni.edu/x" for k in ("authorizeUrl", "tokenUrl", "userdataUrl")},
                    key: v,
                }
            },
            True,
        )
        for key in ("authorizeUrl", "tokenUrl", "userdataUrl")
    },
    "cors.allowOrigin": (lambda v: {"cors": {"allowOrigin": v}}, False),
}
NOT_URLS = [
    "https://harbor.uni.edu evil",  # the issue's example: a space after the host
    "harbor.uni.edu",  # no scheme
    "ftp://harbor.uni.edu",
    "https://user:pass@harbor.uni.edu",
    "https://harbor.uni.edu:99999",
    "https://harbor.uni.edu/#frag",
    "https://-bad-.uni.edu",
    "https://",
]


def test_every_url_key_is_swept() -> None:
    url_like = {
        key
        for _, key, kind in STRING_KEYS
        if kind == "str" and (key.lower().endswith("url") or "origin" in key.lower())
    }
    assert url_like == set(URL_KEYS)


@pytest.mark.parametrize("key", sorted(URL_KEYS))
@pytest.mark.parametrize("value", NOT_URLS)
def test_a_value_that_is_not_a_url_is_refused(key: str, value: str) -> None:
    build, _ = URL_KEYS[key]
    message = parse_error(merged(EXISTING, build(value)), {"registryPassword", "oauthClientSecret"})
    assert f"binderhub:{key}: {value!r} is not valid: expected" in message


@pytest.mark.parametrize("key", sorted(URL_KEYS))
def test_what_may_follow_the_host_is_said_per_key(key: str) -> None:
    build, takes_path = URL_KEYS[key]
    secrets = {"registryPassword", "oauthClientSecret"} if key.startswith("auth.") else {"registryPassword"}
    base = LOGIN if key.startswith("auth.") else EXISTING
    cfg = merged(base, build("https://harbor.uni.edu/v2/token"))
    if takes_path:
        parse_config(cfg, secrets)
    else:
        message = parse_error(cfg, secrets)
        assert "nothing after the host" in message or "scheme://host[:port] (no path" in message
    # In-cluster and port forms are URLs too.
    parse_config(merged(base, build("http://keycloak:8080")), secrets)


@pytest.mark.parametrize("origin", ["*", "https://binder.uni.edu", "http://localhost:8888"])
def test_cors_origins_that_browsers_send_are_accepted(origin: str) -> None:
    assert parse_config({**EXISTING, "cors": {"allowOrigin": origin}}, {"registryPassword"}).cors.allow_origin == origin


def test_a_cors_origin_with_a_line_break_registers_nothing() -> None:
    message = refused({**EXISTING, "cors": {"allowOrigin": "https://a.uni.edu\r\nX-Evil: 1"}})
    assert "binderhub:cors.allowOrigin" in message and "control character (U+000A, U+000D)" in message


# ------------------------------------------------------------------ image references


@pytest.mark.parametrize(
    ("registry", "key"),
    [
        ({"type": "dockerhub", "username": "My Docker ID"}, "registry.username"),
        ({"type": "dockerhub", "username": "ab"}, "registry.username"),  # Docker IDs have 4-30 characters
        ({"type": "dockerhub", "username": "binder-bot"}, "registry.username"),
        ({"type": "dockerhub", "username": "alice", "organization": "My-Org"}, "registry.organization"),
        ({"type": "dockerhub", "username": "alice", "prefix": "Binder Images"}, "registry.prefix"),
        (
            {"type": "custom", "url": "https://harbor.uni.edu", "username": "robot$b", "project": "Team A"},
            "registry.project",
        ),
    ],
)
def test_values_that_become_image_names_are_refused_unless_valid(registry: dict[str, Any], key: str) -> None:
    message = refused({**EXISTING, "registry": registry})
    assert key in message and ("lowercase letters and digits" in message)


def test_a_prefix_ending_in_a_dash_is_accepted_as_binderhubs_docs_write_it() -> None:
    run = Program(
        {**EXISTING, "registry": {"type": "dockerhub", "username": "alice", "prefix": "binder-dev-"}}, PASSWORD
    ).run()
    assert run.error is None
    assert run.outputs["image_prefix"].value == "docker.io/alice/binder-dev-"


# ------------------------------------------------------------------ names the program owns


@pytest.mark.parametrize("namespace", [*sorted(config.RESERVED_NAMESPACES), "kube-flannel"])
def test_the_programs_own_and_the_systems_namespaces_are_refused(namespace: str) -> None:
    message = parse_error({**EXISTING, "namespace": namespace})
    assert (
        f"binderhub: namespace {namespace!r} belongs to the cluster or to a component this program installs" in message
    )


def test_cert_manager_as_hub_namespace_registers_nothing() -> None:
    assert "namespace 'cert-manager'" in refused(
        {**EXISTING, "namespace": "cert-manager", "domain": "uni.edu", "tls": {"email": "a@uni.edu"}}
    )


def test_every_namespace_the_program_creates_besides_the_hubs_is_reserved() -> None:
    # The reserved list cannot drift from what the components install.
    for name in ("aws", "gcp", "prod", "baremetal", "existing-tls", "aws-tls"):
        run = deploy(name)
        created = {unwrap(r.inputs)["metadata"]["name"] for r in run.of_type("kubernetes:core/v1:Namespace")}
        hub = {"binderhub"}
        assert created - hub <= config.RESERVED_NAMESPACES, f"{name}: {created - hub}"


# ------------------------------------------------------------------ addresses


SPECIAL_ADDRESSES = ["127.0.0.1", "0.0.0.0", "169.254.10.1", "224.0.0.1", "::1", "fe80::1", "::"]
ADDRESS_KEYS = {
    "cluster.externalIPs": lambda ip: {"cluster": {"externalIPs": [ip]}},
    "ingress.address": lambda ip: {"ingress": {"controller": "existing", "address": ip}},
}


@pytest.mark.parametrize("key", sorted(ADDRESS_KEYS))
@pytest.mark.parametrize("address", SPECIAL_ADDRESSES)
def test_addresses_kubernetes_refuses_are_refused(key: str, address: str) -> None:
    message = parse_error(merged(EXISTING, ADDRESS_KEYS[key](address)))
    assert f"binderhub:{key}" in message and "Kubernetes refuses" in message


def test_loopback_external_ip_registers_nothing() -> None:
    assert "binderhub:cluster.externalIPs.0: '127.0.0.1' is a special address" in refused(
        {**EXISTING, "cluster": {"externalIPs": ["127.0.0.1"]}}
    )


# ------------------------------------------------------------------ Let's Encrypt


@pytest.mark.parametrize(
    ("email", "why"),
    [
        ("admin@example.org", "reserved documentation domain"),
        ("admin@example.com", "reserved documentation domain"),
        ("ops@binder.test", "special-use name"),
        ("ops@corp.internal", "special-use name"),
        ("ops@uni.lan", "not under a public suffix"),
        ("ops@co.uk", "not under a public suffix"),
    ],
)
def test_an_email_lets_encrypt_refuses_is_refused(email: str, why: str) -> None:
    message = parse_error({**EXISTING, "domain": "uni.edu", "tls": {"email": email}})
    assert f"binderhub: tls.email {email!r} " in message and why in message


@pytest.mark.parametrize(
    ("change", "key", "why"),
    [
        ({"domain": "example.org"}, "domain", "reserved documentation domain"),
        ({"domain": "binder.local"}, "domain", "special-use name"),
        ({"hosts": {"binder": "binder.uni.lan", "hub": "hub.uni.lan"}}, "hosts", "not under a public suffix"),
        ({"domain": ("a" * 60 + ".") * 4 + "edu"}, "domain", "longer than a certificate name may be"),
        ({"tls": {"enabled": True, "email": "a@uni.edu"}, "wildcardDns": "lan.internal"}, "wildcardDns", "special-use"),
    ],
)
def test_hosts_lets_encrypt_refuses_are_refused_when_tls_is_on(change: dict[str, Any], key: str, why: str) -> None:
    cfg = merged({**EXISTING, "tls": {"email": "a@uni.edu"}}, change)
    message = parse_error(cfg)
    assert f"binderhub: {key}: the TLS host" in message and why in message
    # The same hosts over plain HTTP are the operator's business (a lab network).
    parse_config(merged(cfg, {"tls": {"enabled": False}}), {"registryPassword"})


@pytest.mark.parametrize("stack", ["prod", "baremetal"])
def test_the_committed_placeholders_are_refused_until_filled_in(stack: str) -> None:
    from harness import committed_stack_config

    run = Program(committed_stack_config(stack), {**PASSWORD, "oauthClientSecret": "s"}, stack=stack).run()
    assert isinstance(run.error, ConfigError) and run.registrations == []
    assert "binderhub: tls.email 'you@example.org' uses a reserved documentation domain" in str(run.error)
    # With the email filled in, the domain placeholder is next.
    cfg = merged(committed_stack_config(stack), {"tls": {"email": "ops@uni.edu"}})
    message = str(Program(cfg, {**PASSWORD, "oauthClientSecret": "s"}, stack=stack).run().error)
    assert "binderhub: domain: the TLS host 'binder.example.org' uses a reserved documentation domain" in message


def test_the_dev_stacks_docker_id_placeholder_is_refused() -> None:
    from harness import committed_stack_config

    message = str(Program(committed_stack_config("dev"), PASSWORD, stack="dev").run().error)
    assert "registry.username 'your-docker-id'" in message and "4-30 lowercase letters and digits" in message


# ------------------------------------------------------------------ auth: every key used or refused


AUTH_VALUES: dict[str, Any] = {
    "client_id": "other-client",
    "allowed_organizations": ["binder-team"],
    "authorize_url": "https://idp.uni.edu/other/auth",
    "token_url": "https://idp.uni.edu/other/token",
    "userdata_url": "https://idp.uni.edu/other/userinfo",
    "username_claim": "email",
    "scope": ["openid", "groups"],
    "allowed_groups": ["staff"],
    "allowed_users": ["grace"],
    "admin_users": ["ada"],
    "allow_all": True,
    "groups_claim": "roles",
    "pass_tokens": True,
}
AUTH_BASE: dict[str, dict[str, Any]] = {
    "github": {"type": "github", "clientId": "Iv1.abc", "allowedUsers": ["alice"]},
    "generic": {
        "type": "generic",
        "clientId": "binder",
        "allowedUsers": ["alice"],
        "authorizeUrl": "https://idp.uni.edu/auth",
        "tokenUrl": "https://idp.uni.edu/token",
        "userdataUrl": "https://idp.uni.edu/userinfo",
    },
    "none": {},
}
AUTH_CASES = [(kind, name) for kind in AUTH_BASE for name in AuthConfig.model_fields if name != "type"]


def test_every_auth_key_has_a_value_to_try() -> None:
    assert set(AUTH_VALUES) == set(AuthConfig.model_fields) - {"type"}


@pytest.mark.parametrize(("kind", "name"), AUTH_CASES, ids=[f"{k}-{n}" for k, n in AUTH_CASES])
def test_every_auth_key_reaches_the_authenticator_or_is_refused(kind: str, name: str) -> None:
    """Behaviour, not the table: with the key set, the hub's authenticator config changes, or
    the config is refused naming the key. A key that silently does nothing fails here."""
    key = to_camel(name)
    base = AUTH_BASE[kind]
    changed = {**base, key: AUTH_VALUES[name]}
    if name == "groups_claim":  # read with a group rule, as the docs say
        base = {**base, "allowedGroups": ["staff"]} if kind == "generic" else base
        changed = {**changed, **({"allowedGroups": ["staff"]} if kind == "generic" else {})}
    secrets = {"registryPassword", "oauthClientSecret"}
    try:
        with_key = parse_config({**LOGIN, "auth": changed}, secrets)
    except ConfigError as error:
        assert f"auth.{key}" in str(error), f"refused without naming auth.{key}: {error}"
        return
    without = parse_config({**LOGIN, "auth": base}, secrets)
    assert authenticator_config(with_key.auth, "s", "cb") != authenticator_config(without.auth, "s", "cb"), (
        f"auth.{key} was accepted for auth.type {kind!r} but changes nothing the hub receives"
    )


def test_the_issue_examples_of_auth_keys_that_do_nothing_register_nothing() -> None:
    anonymous = refused({**EXISTING, "auth": {"clientId": "Iv1.abc", "allowedUsers": ["alice"]}})
    assert "auth.clientId is not used by auth.type 'none'" in anonymous
    assert "auth.allowedUsers is not used by auth.type 'none'" in anonymous
    github_groups = refused(
        {**LOGIN, "auth": {**AUTH_BASE["github"], "allowedGroups": ["staff"]}},
        {"oauthClientSecret": "s", **PASSWORD},
    )
    assert "auth.allowedGroups is not used by auth.type 'github'; it is for auth.type 'generic'" in github_groups


@pytest.mark.parametrize("kind", ["github", "generic"])
@pytest.mark.parametrize(
    "where",
    [{}, {"tls": {"enabled": False}}, {"domain": "uni.edu", "tls": {"enabled": False, "email": "ops@uni.edu"}}],
    ids=["no-domain", "tls-off", "domain-tls-off"],
)
def test_a_login_over_plain_http_is_refused(kind: str, where: dict[str, Any]) -> None:
    """OAuth callbacks carry the code and the hub sets its login cookie: never over HTTP."""
    message = refused({**EXISTING, **where, "auth": AUTH_BASE[kind]}, {"oauthClientSecret": "s", **PASSWORD})
    assert f"auth.type {kind!r} needs HTTPS" in message and "tls.enabled true" in message
    # With a domain set, the message does not ask for one.
    assert ("set binderhub:domain" in message) == ("domain" not in where)
    # The same login with HTTPS on the nip.io hosts is accepted.
    https = {**EXISTING, **where, "tls": {"enabled": True, "email": "ops@uni.edu"}, "auth": AUTH_BASE[kind]}
    parse_config(https, {"oauthClientSecret", "registryPassword"})


REGISTRY_VALUES: dict[str, Any] = {
    "prefix": "other",
    "username": "otheruser",
    "organization": "otherorg",
    "url": "https://registry.uni.edu",
    "token_url": "https://registry.uni.edu/token",
    "project": "otherproject",
    "expire_after_days": 7,
    "credential_lifetime_days": 30,
    "credential_rotation": "2026-12-01",
}
REGISTRY_BASE: dict[str, tuple[str, dict[str, Any]]] = {
    "acr": ("azure", {"type": "acr"}),
    "ecr": ("aws", {"type": "ecr"}),
    "artifact-registry": ("gcp", {"type": "artifact-registry"}),
    "dockerhub": ("existing", {"type": "dockerhub", "username": "alice"}),
    "custom": ("existing", {"type": "custom", "url": "https://harbor.uni.edu", "username": "robot", "project": "p"}),
}
REGISTRY_CASES = [
    (kind, name) for kind in REGISTRY_BASE for name in config.RegistryConfig.model_fields if name != "type"
]


def test_every_registry_key_has_a_value_to_try() -> None:
    assert set(REGISTRY_VALUES) == set(config.RegistryConfig.model_fields) - {"type"}


def registry_effect(run: ProgramRun) -> str:
    """Everything the registry settings can reach: resource inputs and outputs, as text."""
    # Sorted: registrations arrive in whatever order the engine's threads finish.
    entries = [json.dumps([r.type, r.name, unwrap(r.inputs)], sort_keys=True, default=str) for r in run.registrations]
    return "\n".join(sorted(entries))


@pytest.mark.parametrize(("kind", "name"), REGISTRY_CASES, ids=[f"{k}-{n}" for k, n in REGISTRY_CASES])
def test_every_registry_key_changes_the_deployment_or_is_refused(kind: str, name: str) -> None:
    cloud, registry = REGISTRY_BASE[kind]
    base = merged(CLOUD_BASE[cloud], {"registry": registry})
    key = to_camel(name)
    # Only the registries that take a password get one (a password that does nothing is refused).
    password = PASSWORD if kind in ("dockerhub", "custom") else {}
    run = Program(merged(base, {"registry": {key: REGISTRY_VALUES[name]}}), password).run()
    if run.error is not None:
        assert isinstance(run.error, ConfigError) and run.registrations == []
        assert f"registry.{key} is not used by registry.type {kind!r}" in str(run.error)
        return
    without = Program(base, password).run()
    assert without.error is None
    assert registry_effect(run) != registry_effect(without), f"registry.{key} does nothing with {kind!r}"


# ------------------------------------------------------------------ exact versions


@pytest.mark.parametrize(
    "version", ["*", "latest", "^4.2.0", "~4.2", ">=4.0.0", "4", "4.2", "4.x", "v4.2", "4.2.0 || 4.3.0"]
)
@pytest.mark.parametrize("chart", sorted(CHARTS))
def test_a_chart_version_that_floats_is_refused(chart: str, version: str) -> None:
    message = parse_error({**EXISTING, "charts": {chart: version}})
    assert "binderhub:charts" in message and f"chart {chart!r} needs an exact version" in message
    assert repr(version) in message


def test_an_exact_prerelease_version_is_accepted() -> None:
    parse_config({**EXISTING, "charts": {"binderhub": "1.0.0-0.dev.git.3959.hb9fad995"}}, {"registryPassword"})


# ------------------------------------------------------------------ secrets


@pytest.mark.parametrize("key", config.SECRET_KEYS)
def test_a_secret_written_in_plain_text_is_refused_without_echoing_it(key: str) -> None:
    value = SECRET_VALUES[key]
    cfg = {**EXISTING, key: value}  # in `config`, not `secrets`: no `secure:` in the stack file
    run = Program(cfg, PASSWORD if key != "registryPassword" else {}).run()
    assert isinstance(run.error, ConfigError) and run.registrations == []
    message = str(run.error)
    assert f"binderhub:{key}: stored in plain text in the stack file" in message
    assert f"pulumi config set --secret binderhub:{key}" in message
    assert value.splitlines()[0] not in message or (key == "kubeconfig" and "apiVersion" not in message)


# Helm values may be set with --secret (tests/test_helm_values.py: they stay secret).
PLAIN_ONLY = sorted(set(StackConfig.model_fields) - {"auth", "registry", "helm_values"})


@pytest.mark.parametrize("name", PLAIN_ONLY)
def test_a_public_key_set_with_secret_is_refused(name: str) -> None:
    key = StackConfig.model_fields[name].alias or name
    example = {"namespace": "hub-secret", "domain": "uni.edu", "protect": "true"}.get(key, "x")
    run = Program(EXISTING, {**PASSWORD, key: example}).run()
    assert isinstance(run.error, ConfigError) and run.registrations == []
    assert f"binderhub:{key}: set with --secret, but its value becomes public names" in str(run.error)


def test_a_registry_set_with_secret_stays_secret_in_values_and_outputs() -> None:
    registry = {"type": "custom", "url": "https://harbor.uni.edu", "username": "robot$hidden", "project": "hiddenteam"}
    run = Program({"cloud": "existing"}, {**PASSWORD, "registry": json.dumps(registry)}).run()
    assert run.error is None
    for reg in run.registrations:
        for needle in ("robot$hidden", "hiddenteam"):
            assert not find_plain(reg.raw_inputs, needle), f"{reg.type} {reg.name} holds {needle} in plain"
    assert (
        run.outputs["image_prefix"].secret and run.outputs["image_prefix"].value == "harbor.uni.edu/hiddenteam/binder-"
    )


def test_a_secret_marked_key_is_not_echoed_in_errors() -> None:
    registry = {"type": "dockerhub", "username": "Hidden Name"}
    run = Program({"cloud": "existing"}, {**PASSWORD, "registry": json.dumps(registry)}).run()
    assert isinstance(run.error, ConfigError)
    assert "binderhub:registry" in str(run.error) and "Hidden" not in str(run.error)


# ------------------------------------------------------------------ crashes become messages


def test_a_template_as_namespace_is_a_message_not_a_traceback() -> None:
    message = refused({**EXISTING, "namespace": "{{ .Release.Namespace }}"})
    assert "binderhub:namespace: '{{ .Release.Namespace }}' is not a DNS label" in message


WRONG_TYPES: list[Any] = ["text", 3, True, ["a"], {"a": "b"}, "{not json", "[1, 2"]


@pytest.mark.parametrize("key", sorted(set(StackConfig.model_fields) - {"cloud"}))
@pytest.mark.parametrize("value", WRONG_TYPES, ids=[repr(v) for v in WRONG_TYPES])
def test_any_value_of_any_key_is_accepted_or_refused_with_a_message(key: str, value: Any) -> None:
    alias = StackConfig.model_fields[key].alias or key
    run = Program({**EXISTING, alias: value}, PASSWORD).run()
    if run.error is not None:
        assert isinstance(run.error, ConfigError), f"{alias}={value!r}: {run.error!r}"
        assert run.registrations == [] and alias in str(run.error)


def test_gkes_extended_release_channel_is_valid() -> None:
    cfg = parse_config({**CLOUD_BASE["gcp"], "cluster": {"project": "my-binder-123", "releaseChannel": "EXTENDED"}})
    assert cfg.cluster.release_channel == "EXTENDED"


# ------------------------------------------------------------------ kubeconfig, checked first


KUBECONFIG_TWO_CONTEXTS = {
    "apiVersion": "v1",
    "kind": "Config",
    "current-context": "lab",
    "clusters": [
        {"name": "lab", "cluster": {"server": "https://198.51.100.7:6443"}},
        {"name": "payroll", "cluster": {"server": "https://10.0.0.9:6443"}},
    ],
    "contexts": [
        {"name": "lab", "context": {"cluster": "lab", "user": "lab-admin"}},
        {"name": "payroll", "context": {"cluster": "payroll", "user": "payroll-admin"}},
    ],
    "users": [
        {"name": "lab-admin", "user": {"token": "lab-token-0123"}},
        {"name": "payroll-admin", "user": {"token": "payroll-token-4567"}},
    ],
}


@pytest.mark.parametrize(
    ("kubeconfig", "context", "expected"),
    [
        ("apiVersion: v1", None, "is not a kubeconfig for a cluster: it defines no contexts"),
        ("{{ not: yaml", None, "is not YAML"),
        ("- a\n- list", None, "is not a kubeconfig"),
        (yaml.safe_dump(KUBECONFIG_TWO_CONTEXTS), "staging", "has no context 'staging'"),
        (yaml.safe_dump({**KUBECONFIG_TWO_CONTEXTS, "current-context": ""}), None, "has no current-context"),
        (yaml.safe_dump({**KUBECONFIG_TWO_CONTEXTS, "clusters": []}), None, "names cluster 'lab'"),
    ],
)
def test_a_kubeconfig_secret_that_cannot_reach_a_cluster_is_refused_first(
    kubeconfig: str, context: str | None, expected: str
) -> None:
    cfg = {**EXISTING, **({"cluster": {"context": context}} if context else {})}
    message = refused(cfg, {**PASSWORD, "kubeconfig": kubeconfig})
    assert "binderhub:kubeconfig" in message and expected in message
    assert "token" not in message


def test_a_missing_ambient_kubeconfig_is_refused_before_any_resource(monkeypatch: pytest.MonkeyPatch) -> None:
    import harness

    monkeypatch.setattr(harness, "KUBECONFIG", None)
    message = refused(EXISTING)
    assert "no kubeconfig found at" in message and "binderhub:kubeconfig" in message


def test_only_the_stacks_context_reaches_state_and_outputs() -> None:
    run = Program(
        {**EXISTING, "cluster": {"context": "lab"}}, {**PASSWORD, "kubeconfig": yaml.safe_dump(KUBECONFIG_TWO_CONTEXTS)}
    ).run()
    assert run.error is None
    everything = json.dumps([unwrap(r.inputs) for r in run.registrations]) + json.dumps(
        {k: o.value for k, o in run.outputs.items()}, default=str
    )
    assert "lab-token-0123" in everything, "the stack's own credentials must reach its provider"
    assert "payroll" not in everything


# ------------------------------------------------------------------ found by a newcomer's review


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"registry": {"type": "dockerhub", "username": "alice "}}, "registry.username"),
        ({"auth": {"type": "github", "clientId": " Iv1.abc", "allowAll": True}}, "auth.clientId"),
        ({"auth": {"type": "github", "clientId": "Iv1.abc", "allowedUsers": ["alice "]}}, "auth.allowedUsers[0]"),
    ],
)
def test_spaces_around_a_value_are_refused(change: dict[str, Any], key: str) -> None:
    message = parse_error(merged(EXISTING, change), {"registryPassword", "oauthClientSecret"})
    assert f"binderhub:{key}: " in message and "has spaces around it" in message


@pytest.mark.parametrize(
    "value",
    ["https://harbor.uni.edu?", "https://harbor.uni.edu/?", "https://harbor.uni.edu#", "https://harbor.uni.edu:"],
)
def test_a_registry_url_with_an_empty_query_fragment_or_port_is_refused(value: str) -> None:
    build, _ = URL_KEYS["registry.url"]
    assert f"binderhub:registry.url: {value!r} is not valid" in parse_error(merged(EXISTING, build(value)))


@pytest.mark.parametrize(
    ("origin", "why"),
    [
        ("https://a.uni.edu/", "no trailing '/'"),
        ("https://A.Uni.edu", "lowercase"),
        ("https://a.uni.edu:443", "default port"),
        ("http://a.uni.edu:80", "default port"),
    ],
)
def test_a_cors_origin_is_written_as_browsers_send_it(origin: str, why: str) -> None:
    message = parse_error({**EXISTING, "cors": {"allowOrigin": origin}})
    assert f"binderhub:cors.allowOrigin: {origin!r}" in message and why in message


@pytest.mark.parametrize(
    "image",
    ["quay.io/yuvipanda/Z2JH-hub:v1", "quay.io/yuvipanda/z2jh hub:v1", "quay.io/x/hub:v1:v2", "quay.io/x/hub:-bad"],
)
def test_a_hub_image_that_is_no_image_reference_is_refused(image: str) -> None:
    cfg = {
        **EXISTING,
        "shape": "service",
        "auth": {"type": "github", "clientId": "Iv1.abc", "allowAll": True},
        "fancyProfiles": {"enabled": True, "hubImage": image},
    }
    message = parse_error(cfg, {"registryPassword", "oauthClientSecret"})
    assert "binderhub:fancyProfiles.hubImage" in message and "is not a pinned image" in message


@pytest.mark.parametrize("namespace", ["gmp-system", "gke-managed-system", "aks-command", "calico-system"])
def test_managed_clusters_own_namespaces_are_refused(namespace: str) -> None:
    assert f"namespace {namespace!r} belongs to the cluster" in parse_error({**EXISTING, "namespace": namespace})


@pytest.mark.parametrize("address", ["::ffff:127.0.0.1", "::ffff:169.254.169.254"])
def test_ipv4_mapped_special_addresses_are_refused(address: str) -> None:
    message = parse_error({**EXISTING, "cluster": {"externalIPs": [address]}})
    assert "binderhub:cluster.externalIPs.0" in message and "special address" in message


@pytest.mark.parametrize("email", ["ops@uni.edu.", "mailto:ops@uni.edu", "ops@uni..edu"])
def test_an_email_that_is_no_address_is_refused(email: str) -> None:
    message = parse_error({**EXISTING, "domain": "uni.edu", "tls": {"email": email}})
    assert f"binderhub:tls.email: {email!r} is not an email address" in message


def test_a_reserved_email_is_fine_while_tls_is_off() -> None:
    parse_config({**EXISTING, "tls": {"enabled": False, "email": "admin@example.org"}}, {"registryPassword"})


def test_one_host_for_binder_and_hub_is_refused_in_the_classic_shape() -> None:
    cfg = {**EXISTING, "hosts": {"binder": "binder.uni.edu", "hub": "binder.uni.edu"}, "tls": {"email": "a@uni.edu"}}
    assert "hosts.binder and hosts.hub are both 'binder.uni.edu'" in parse_error(cfg)


@pytest.mark.parametrize("org", ["https://github.com/example-org", "example org", "example-org:"])
def test_a_github_organization_that_is_no_login_is_refused(org: str) -> None:
    cfg = {**EXISTING, "auth": {"type": "github", "clientId": "Iv1.abc", "allowedOrganizations": [org]}}
    message = parse_error(cfg, {"registryPassword", "oauthClientSecret"})
    assert "binderhub:auth.allowedOrganizations.0" in message and "GitHub organization" in message


def test_allow_all_beside_a_restricting_rule_is_refused() -> None:
    cfg = {**EXISTING, "auth": {**AUTH_BASE["generic"], "allowAll": True, "allowedGroups": ["staff"]}}
    message = parse_error(cfg, {"registryPassword", "oauthClientSecret"})
    assert "auth.allowAll admits everyone" in message and "auth.allowedGroups" in message


@pytest.mark.parametrize(
    ("cfg", "secrets", "expected"),
    [
        (EXISTING, {"registryPassword", "oauthClientSecret"}, "oauthClientSecret is set but auth.type is 'none'"),
        ({"cloud": "aws"}, {"registryPassword"}, "registryPassword is set but registry.type 'ecr' does not use it"),
    ],
)
def test_a_secret_that_does_nothing_is_refused(cfg: dict[str, Any], secrets: set[str], expected: str) -> None:
    assert expected in parse_error(cfg, secrets)


@pytest.mark.parametrize(
    ("change", "chart"),
    [({"charts": {"cert-manager": "v1.21.1"}}, "cert-manager"), ({"charts": {"jupyterhub": "4.4.0"}}, "jupyterhub")],
)
def test_a_chart_version_for_a_chart_the_stack_does_not_install_is_refused(change: dict[str, Any], chart: str) -> None:
    message = parse_error({**EXISTING, "tls": {"enabled": False}, **change})
    assert f"binderhub:charts.{chart}: this stack does not install {chart}" in message


def test_values_kubernetes_accepts_are_accepted() -> None:
    cfg = parse_config(
        {**EXISTING, "builderCacheSize": "50G", "ingress": {"className": "nginx.internal"}, "shape": "service"},
        {"registryPassword"},
    )
    assert cfg.builder_cache_size == "50G" and cfg.ingress.class_name == "nginx.internal"
    assert parse_config({"cloud": "aws", "cluster": {"region": "eusc-de-east-1"}}).cluster.region == "eusc-de-east-1"


@pytest.mark.parametrize("path", ["/", "/srv/../etc", "/srv/openebs/.."])
def test_an_openebs_path_that_would_hold_volumes_in_the_wrong_place_is_refused(path: str) -> None:
    cfg = {**EXISTING, "cluster": {"storage": "openebs", "openebsBasePath": path}}
    assert "binderhub:cluster.openebsBasePath" in parse_error(cfg)


def test_a_secret_marked_key_is_redacted_only_where_its_value_is_quoted() -> None:
    registry = {"type": "custom", "url": "https://harbor.uni.edu", "username": "robot", "project": "binder"}
    with pytest.raises(ConfigError) as error:
        parse_config(
            {"cloud": "existing", "registry": registry, "namespace": "Bad_NS"}, {"registryPassword"}, {"registry"}
        )
    message = str(error.value)
    assert "binderhub:namespace: 'Bad_NS' is not a DNS label" in message  # 'binder' inside words is left alone


def test_a_number_where_text_is_expected_says_to_quote_it() -> None:
    message = parse_error({"cloud": "aws", "cluster": {"kubernetesVersion": 1.3}})
    assert "got the number 1.3" in message and "in quotes" in message


@pytest.mark.parametrize(
    "document",
    [
        {**KUBECONFIG_TWO_CONTEXTS, "contexts": ["lab"]},
        {**KUBECONFIG_TWO_CONTEXTS, "clusters": ["lab"]},
        {**KUBECONFIG_TWO_CONTEXTS, "current-context": ["lab"]},
        {**KUBECONFIG_TWO_CONTEXTS, "contexts": [{"name": 5, "context": {}}]},
    ],
)
def test_a_kubeconfig_of_the_wrong_shape_is_a_message_not_a_traceback(document: dict[str, Any]) -> None:
    from kubeconfig import KubeconfigError, resolve_kubeconfig

    with pytest.raises(KubeconfigError, match="is not a kubeconfig"):
        resolve_kubeconfig(yaml.safe_dump(document), None)


def test_relative_paths_in_the_ambient_kubeconfig_are_resolved_from_its_directory(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kubeconfig import resolve_kubeconfig

    document = json.loads(json.dumps(KUBECONFIG_TWO_CONTEXTS))
    document["clusters"][0]["cluster"]["certificate-authority"] = "ca.crt"
    document["users"][0]["user"] = {"client-certificate": "certs/admin.crt", "client-key": "/abs/admin.key"}
    (tmp_path / "config").write_text(yaml.safe_dump(document))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "config"))
    resolved = yaml.safe_load(resolve_kubeconfig(None, "lab"))
    assert resolved["clusters"][0]["cluster"]["certificate-authority"] == str(tmp_path / "ca.crt")
    assert resolved["users"][0]["user"]["client-certificate"] == str(tmp_path / "certs" / "admin.crt")
    assert resolved["users"][0]["user"]["client-key"] == "/abs/admin.key"


# ------------------------------------------------------------------ capacity (issue #16)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"resources": {"user": {"memoryGuarantee": "3G"}}}, "memoryGuarantee (3G) exceeds memoryLimit (2G)"),
        ({"resources": {"build": {"cpuGuarantee": 4}}}, "cpuGuarantee (4.0) exceeds cpuLimit (2.0)"),
        ({"resources": {"user": {"memoryLimit": "64G"}}}, "resources.user.memoryLimit '64G' does not fit a user node"),
        ({"resources": {"build": {"cpuLimit": 16}}}, "resources.build.cpuLimit 16 exceeds the 4 vCPUs"),
        ({"resources": {"user": {"memoryLimit": "2 GB"}}}, "is not a memory size"),
        ({"launchQuota": {"total": 0}}, "binderhub:launchQuota.total"),
    ],
)
def test_resources_a_user_node_cannot_give_are_refused_first(change: dict[str, Any], fragment: str) -> None:
    from harness import stack_file_config

    message = refused(merged(stack_file_config("prod"), change), {"oauthClientSecret": "s"})
    assert fragment in message


def test_quotas_follow_the_user_pool_and_only_anonymous_hubs_get_a_per_repository_quota() -> None:
    from harness import stack_file_config

    # prod: 10 user nodes of Standard_E4s_v5 (32 GiB, about 28.8 GiB allocatable): 30 servers of 1 GB each.
    prod = parse_config(stack_file_config("prod"), {"oauthClientSecret"})
    assert prod.launch_quotas == (300, None)
    # aws (anonymous): 3 nodes of m5.2xlarge (32 GiB): 90 servers, half of them for one repository.
    assert parse_config(stack_file_config("aws")).launch_quotas == (90, 45)
    # An existing cluster's size is unknown: no quota unless configured.
    assert parse_config(EXISTING, {"registryPassword"}).launch_quotas == (None, None)
    configured = parse_config({**EXISTING, "launchQuota": {"total": 40}}, {"registryPassword"})
    assert configured.launch_quotas == (40, 20)


# ------------------------------------------------------------------ stacks sharing cloud names


@pytest.mark.parametrize(
    ("cloud", "stack", "fragment"),
    [
        ("gcp", "team.a", "lowercase letters, digits and '-'"),
        ("azure", "Prod", "lowercase letters, digits and '-'"),
        ("aws", "team_a", "lowercase letters, digits and '-'"),
        ("gcp", "teaching-europe-winter-term-2025-a", "longer than the 40-character limit of GKE names"),
        ("azure", "x" * 50, "longer than the 54-character limit of AKS names"),
    ],
)
def test_a_stack_name_two_stacks_would_share_as_cloud_names_is_refused(cloud: str, stack: str, fragment: str) -> None:
    run = Program(CLOUD_BASE[cloud], {}, stack=stack).run()
    assert isinstance(run.error, ConfigError) and run.registrations == [], repr(run.error)
    assert f"stack {stack!r}" in str(run.error) and fragment in str(run.error)


def test_an_explicit_gke_name_lifts_the_length_rule_and_existing_clusters_take_any_name() -> None:
    named = {**CLOUD_BASE["gcp"], "cluster": {"project": "my-binder-123", "name": "teaching-a"}}
    assert Program(named, {}, stack="teaching-europe-winter-term-2025-a").run().error is None
    assert Program(EXISTING, PASSWORD, stack="Team.A_dev").run().error is None


# ------------------------------------------------------------------ control-plane access


@pytest.mark.parametrize("cloud", ["azure", "aws", "gcp"])
@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("10.0.0.1/24", "host bits must be zero"),
        ("2001:db8::/32", "IPv6"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("203.0.113.0/33", "IPv4 CIDR block like"),
        ("office", "IPv4 CIDR block like"),
    ],
)
def test_an_api_access_block_the_cloud_would_refuse_or_never_match_is_refused(
    cloud: str, value: str, said: str
) -> None:
    cfg = merged(CLOUD_BASE[cloud], {"cluster": {"apiAccessCidrs": ["198.51.100.0/24", value]}})
    message = refused(cfg, {})
    assert "binderhub:cluster.apiAccessCidrs" in message and repr(value) in message and said in message


@pytest.mark.parametrize("count", [0, 41])
def test_an_api_access_list_is_between_one_and_forty_blocks(count: int) -> None:
    blocks = [f"198.51.{i}.0/24" for i in range(count)]
    message = refused({"cloud": "aws", "cluster": {"apiAccessCidrs": blocks}}, {})
    assert "binderhub:cluster.apiAccessCidrs" in message and ("at least 1" in message or "at most 40" in message)


def test_an_admin_group_must_be_an_entra_object_id() -> None:
    message = refused({"cloud": "azure", "cluster": {"adminGroupObjectIds": ["binder-admins"]}}, {})
    assert "binderhub:cluster.adminGroupObjectIds" in message and "'binder-admins'" in message and "GUID" in message


@pytest.mark.parametrize(
    ("blocks", "said"),
    [
        (["0.0.0.0/32"], "admits no workstation or CI runner"),
        (["0.0.0.0/0", "198.51.100.0/24"], "restrict nothing"),
        (["198.51.100.0/24", "198.51.100.0/24"], "more than once"),
        # The public endpoint never sees a private source: a LAN range alone locks pulumi out.
        (["10.0.0.0/8"], "private or carrier-grade NAT"),
        (["192.168.1.0/24", "198.51.100.0/24"], "private or carrier-grade NAT"),
        (["100.64.0.0/16"], "private or carrier-grade NAT"),
    ],
)
def test_an_api_access_list_that_locks_out_or_restricts_nothing_is_refused(blocks: list[str], said: str) -> None:
    for cloud in ("azure", "aws", "gcp"):
        message = refused(merged(CLOUD_BASE[cloud], {"cluster": {"apiAccessCidrs": blocks}}), {})
        assert "binderhub:cluster" in message and "apiAccessCidrs" in message and said in message


def test_an_admin_group_listed_twice_is_refused_in_any_letter_case() -> None:
    group = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
    message = refused({"cloud": "azure", "cluster": {"adminGroupObjectIds": [group, group.upper()]}}, {})
    assert "binderhub:cluster" in message and f"adminGroupObjectIds lists {group} more than once" in message
