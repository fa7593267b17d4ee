"""The ported upstream rules reproduce their upstream's own test cases.

Each block names the upstream test file the cases come from. A few cases marked "derived"
are worked out by hand from the upstream code named in the rule module's docstring (for the
registry keys and images this project uses); none is read off the port's output.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from .rules import docker_cli_auth as dca
from .rules import f5_ingress_annotations as f5
from .rules import kubelet_keyring as kk
from .rules.image_reference import InvalidReferenceError, parse_normalized_named


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# --- distribution/reference v0.6.0 normalize_test.go ------------------------------------------


@pytest.mark.parametrize(
    ("reference", "domain", "name"),
    [
        # TestParseRepositoryInfo
        ("localhost/fooo", "localhost", "localhost/fooo"),
        ("localhost/fooo/bar", "localhost", "localhost/fooo/bar"),
        ("LOCALDOMAIN/fooo", "LOCALDOMAIN", "LOCALDOMAIN/fooo"),
        ("fooo/bar", "docker.io", "docker.io/fooo/bar"),
        ("index.docker.io/fooo/bar", "docker.io", "docker.io/fooo/bar"),
        ("ubuntu", "docker.io", "docker.io/library/ubuntu"),
        ("library/ubuntu", "docker.io", "docker.io/library/ubuntu"),
        ("docker.io/foo", "docker.io", "docker.io/library/foo"),
        ("other/library", "docker.io", "docker.io/other/library"),
        ("127.0.0.1:8000/private/moonbase", "127.0.0.1:8000", "127.0.0.1:8000/private/moonbase"),
        ("example.com:8000/privatebasee", "example.com:8000", "example.com:8000/privatebasee"),
        ("index.docker.io/library/ubuntu-12.04-base", "docker.io", "docker.io/library/ubuntu-12.04-base"),
        ("library/foo/bar", "docker.io", "docker.io/library/foo/bar"),
        ("Foo/bar", "Foo", "Foo/bar"),
    ],
)
def test_reference_normalization(reference: str, domain: str, name: str) -> None:
    parsed = parse_normalized_named(reference)
    assert (parsed.domain, parsed.name) == (domain, name)


@pytest.mark.parametrize(
    "reference",
    # TestValidateRemoteName, invalid names
    [
        "docker/Docker",
        "docker///docker",
        "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
        "-docker/docker",
        "docker-/docker",
        "____/____",
        "_docker/_docker",
        "dock..er/docker",
        "dock_.er/docker",
        "docker/",
        "a" * 256 + "/docker",
    ],
)
def test_reference_rejected(reference: str) -> None:
    with pytest.raises(InvalidReferenceError):
        parse_normalized_named(reference)


@pytest.mark.parametrize(
    "reference",
    ["docker/docker", "docker-rules/docker", "docker---rules/docker", "d/docker", "jess/t", "dock__er/docker"],
)
def test_reference_accepted(reference: str) -> None:
    assert parse_normalized_named(reference).domain == "docker.io"


def test_reference_tag_and_digest_are_not_part_of_the_name() -> None:
    # docker/cli registry_test.go TestRetrieveAuthTokenFromImage uses these reference forms.
    digest = "sha256:72297848456d5d37d1262630108ab308d3e9ec7ed1c3286a32fe09856619a782"
    parsed = parse_normalized_named(f"ubuntu:latest@{digest}")
    assert (parsed.name, parsed.tag, parsed.digest) == ("docker.io/library/ubuntu", "latest", digest)


# --- kubernetes pkg/credentialprovider keyring_test.go / config_test.go ---------------------


@pytest.mark.parametrize(
    ("glob", "target", "expected"),
    [  # TestUrlsMatch
        ("*.kubernetes.io", "prefix.kubernetes.io", True),
        ("prefix.*.io", "prefix.kubernetes.io", True),
        ("prefix.kubernetes.*", "prefix.kubernetes.io", True),
        ("*-good.kubernetes.io", "prefix-good.kubernetes.io", True),
        ("*.kubernetes.io/blah", "prefix.kubernetes.io/blah", True),
        ("prefix.*.io/foo", "prefix.kubernetes.io/foo/bar", True),
        ("*.kubernetes.io:1111/blah", "prefix.kubernetes.io:1111/blah", True),
        ("prefix.*.io:1111/foo", "prefix.kubernetes.io:1111/foo/bar", True),
        ("*.kubernetes.io", "kubernetes.io", False),
        ("*.*.kubernetes.io", "prefix.kubernetes.io", False),
        ("*.*.kubernetes.io", "kubernetes.io", False),
        ("kubernetes.io", "kubernetes.com", False),
        ("k*.io", "quay.io", False),
        ("*.kubernetes.io:1234/blah", "prefix.kubernetes.io:1111/blah", False),
        ("prefix.*.io/foo", "prefix.kubernetes.io:1111/foo/bar", False),
    ],
)
def test_urls_match(glob: str, target: str, expected: bool) -> None:
    assert kk.urls_match_str(glob, target) is expected


def _one_entry_keyring(location: str) -> kk.Keyring:
    keyring = kk.Keyring()
    config = json.dumps({location: {"email": "foo@bar.baz", "auth": b64("foo:bar")}})
    keyring.add(kk.parse_dockercfg(config))
    return keyring


FOO = kk.Credential("foo", "bar", "foo@bar.baz")


@pytest.mark.parametrize(
    ("location", "target"),
    [  # TestDockerKeyringForGlob
        ("https://hello.kubernetes.io", "hello.kubernetes.io"),
        ("https://*.docker.io", "prefix.docker.io"),
        ("https://prefix.*.io", "prefix.docker.io"),
        ("https://prefix.docker.*", "prefix.docker.io"),
        ("https://*.docker.io/path", "prefix.docker.io/path"),
        ("https://prefix.*.io/path", "prefix.docker.io/path/subpath"),
        ("https://prefix.docker.*/path", "prefix.docker.io/path"),
        ("https://*.docker.io:8888", "prefix.docker.io:8888"),
        ("https://prefix.*.io:8888", "prefix.docker.io:8888"),
        ("https://prefix.docker.*:8888", "prefix.docker.io:8888"),
        ("https://*.docker.io/path:1111", "prefix.docker.io/path:1111"),
        ("https://*.docker.io/v1/", "prefix.docker.io/path:1111"),
        ("https://*.docker.io/v2/", "prefix.docker.io/path:1111"),
        ("https://prefix.docker.*/path:1111", "prefix.docker.io/path:1111"),
        ("prefix.docker.io:1111", "prefix.docker.io:1111/path"),
        ("*.docker.io:1111", "prefix.docker.io:1111/path"),
    ],
)
def test_keyring_glob_hits(location: str, target: str) -> None:
    assert _one_entry_keyring(location).lookup(target + "/foo/bar")[0] == FOO


@pytest.mark.parametrize(
    ("location", "target"),
    [  # TestKeyringMiss, TestKeyringMissWithDockerHubCredentials
        ("https://hello.kubernetes.io", "world.mesos.org/foo/bar"),
        ("https://*.docker.com", "prefix.docker.io"),
        ("https://suffix.*.io", "prefix.docker.io"),
        ("https://prefix.docker.c*", "prefix.docker.io"),
        ("https://prefix.*.io/path:1111", "prefix.docker.io/path/subpath:1111"),
        ("suffix.*.io", "prefix.docker.io"),
        ("https://index.docker.io/v1/", "world.mesos.org/foo"),
    ],
)
def test_keyring_misses(location: str, target: str) -> None:
    assert _one_entry_keyring(location).lookup(target + "/foo/bar") == []


@pytest.mark.parametrize(
    "repository",
    # TestKeyringHitWithUnqualifiedDockerHub, ...UnqualifiedLibraryDockerHub, ...QualifiedDockerHub
    ["google/docker-registry", "jenkins", "index.docker.io/v1//google/docker-registry"],
)
def test_keyring_docker_hub_key(repository: str) -> None:
    found = _one_entry_keyring("https://index.docker.io/v1/").lookup(repository)
    assert found[0] == FOO
    assert len(found) <= 2


@pytest.mark.parametrize(
    ("image", "expected"),
    [  # TestIsDefaultRegistryMatch
        ("foo/bar", True),
        ("docker.io/foo/bar", True),
        ("index.docker.io/foo/bar", True),
        ("foo", True),
        ("", False),
        ("registry.tld/foo/bar", False),
        ("registry:5000/foo/bar", False),
        ("myhostdocker.io/foo/bar", False),
    ],
)
def test_is_default_registry_match(image: str, expected: bool) -> None:
    assert kk.is_default_registry_match(image) is expected


ADA = kk.Credential("ada", "smash", "ada@example.com")
GRACE = kk.Credential("grace", "squash", "grace@example.com")


@pytest.mark.parametrize(
    ("repository", "expected"),
    [  # TestDockerKeyringLookup
        ("bar.example.com", [ADA]),
        ("bar.example.com/pong", [GRACE, ADA]),
        ("bar.example.com/ping", [ADA]),
        ("bar.example.com/pongz", [GRACE, ADA]),
        ("bar.example.com/pong/pang", [GRACE, ADA]),
        ("example.com", []),
        ("foo.example.com", []),
    ],
)
def test_keyring_more_specific_path_first(repository: str, expected: list[kk.Credential]) -> None:
    keyring = kk.Keyring()
    keyring.add({"bar.example.com/pong": GRACE, "bar.example.com": ADA})
    assert keyring.lookup(repository) == expected


@pytest.mark.parametrize("repository", ["quay.io", "quay.io/foo", "quay.io/foo/bar"])
def test_keyring_scheme_and_v1_path_match_host(repository: str) -> None:
    # TestIssue3797
    rex = kk.Credential("rex", "tiny arms", "rex@example.com")
    keyring = kk.Keyring()
    keyring.add({"https://quay.io/v1/": rex})
    assert keyring.lookup(repository) == [rex]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [  # TestDockerConfigEntryJSONDecode
        (
            {"username": "foo", "password": "bar", "email": "foo@example.com"},
            kk.Credential("foo", "bar", "foo@example.com"),
        ),
        ({"auth": "Zm9vOmJhcg==", "email": "foo@example.com"}, kk.Credential("foo", "bar", "foo@example.com")),
        (
            {"username": "foo", "password": "bar", "auth": "cGluZzpwb25n", "email": "foo@example.com"},
            kk.Credential("ping", "pong", "foo@example.com"),
        ),
        # derived from decodeDockerConfigFieldAuth: unpadded base64 is decoded as raw base64
        ({"auth": "Zm9vOmJhcg"}, kk.Credential("foo", "bar", "")),
    ],
)
def test_config_entry_decoding(entry: dict[str, Any], expected: kk.Credential) -> None:
    assert kk.parse_dockerconfigjson(json.dumps({"auths": {"r.example": entry}})) == {"r.example": expected}


@pytest.mark.parametrize(
    "entry",
    # TestDockerConfigEntryJSONDecode / TestDecodeDockerConfigFieldAuth failures
    [{"auth": "pants", "email": "foo@example.com"}, {"email": False}, {"auth": "cGFudHM="}],
)
def test_config_entry_decoding_failures(entry: dict[str, Any]) -> None:
    with pytest.raises(kk.ConfigError):
        kk.parse_dockerconfigjson(json.dumps({"auths": {"r.example": entry}}))


def test_config_json_decode_keeps_every_registry() -> None:
    # TestDockerConfigJsonJSONDecode
    data = (
        '{"auths": {"http://foo.example.com":{"username": "foo", "password": "bar", "email": "foo@example.com"},'
        ' "http://bar.example.com":{"username": "bar", "password": "baz", "email": "bar@example.com"}}}'
    )
    assert kk.parse_dockerconfigjson(data) == {
        "http://foo.example.com": kk.Credential("foo", "bar", "foo@example.com"),
        "http://bar.example.com": kk.Credential("bar", "baz", "bar@example.com"),
    }


# Derived by hand from keyring.go (Add's key, URLsMatch, the index.docker.io fallback) and
# kubelet's normalized lookup name, for the registry keys and images BinderHub deployments use.
HUB_CREDS = {"auth": b64("alice:s3cret")}
ALICE = kk.Credential("alice", "s3cret")


@pytest.mark.parametrize(
    ("key", "image", "found"),
    [
        ("https://index.docker.io/v1/", "docker.io/alice/binder-x:tag", True),
        ("https://index.docker.io/v1/", "alice/binder-x", True),
        ("https://index.docker.io/v1/", "index.docker.io/alice/binder-x", True),
        ("index.docker.io", "alice/binder-x:tag", True),
        ("docker.io", "alice/binder-x:tag", True),
        ("https://docker.io", "docker.io/alice/binder-x", True),
        # no trailing slash: the key keeps the path "/v1", which no image path starts with
        ("https://index.docker.io/v1", "docker.io/alice/binder-x:tag", False),
        ("https://index.docker.io/v1/", "myregistry.azurecr.io/binder/x:tag", False),
        ("myregistry.azurecr.io", "myregistry.azurecr.io/binder/x:tag", True),
        ("*.azurecr.io", "myregistry.azurecr.io/binder/x:tag", True),
        ("https://*.azurecr.io", "myregistry.azurecr.io/binder/x:tag", True),
        ("*.azurecr.io", "a.b.azurecr.io/binder/x", False),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com", "123456789012.dkr.ecr.us-east-1.amazonaws.com/binder/x", True),
        ("https://europe-west1-docker.pkg.dev", "europe-west1-docker.pkg.dev/proj/repo/x", True),
        ("europe-west1-docker.pkg.dev/proj", "europe-west1-docker.pkg.dev/proj/repo/x", True),
        ("europe-west1-docker.pkg.dev/other", "europe-west1-docker.pkg.dev/proj/repo/x", False),
        ("https://harbor.example.org", "harbor.example.org/binder/x:tag", True),
        ("https://harbor.example.org/v2/", "harbor.example.org/binder/x:tag", True),
        ("harbor.example.org:5000", "harbor.example.org/binder/x:tag", False),
        ("harbor.example.org", "harbor.example.org:5000/binder/x:tag", False),
        ("harbor.example.org:5000", "harbor.example.org:5000/binder/x:tag", True),
    ],
)
def test_kubelet_lookup_for_binderhub_registries(key: str, image: str, found: bool) -> None:
    assert kk.lookup({key: HUB_CREDS}, image) == ([ALICE] if found else [])


def test_image_pull_secrets_in_pod_order() -> None:
    # secrets.go MakeDockerKeyring: one keyring over the pod's secrets, in their order;
    # a secret of another type is ignored.
    def secret(kind: str, key: str, user: str) -> dict[str, Any]:
        body = json.dumps({"auths": {"harbor.example.org": {"auth": b64(f"{user}:pw")}}})
        return {"type": kind, "data": {key: b64(body)}}

    secrets = [
        secret("Opaque", ".dockerconfigjson", "ignored"),
        secret(kk.DOCKERCONFIGJSON_TYPE, ".dockerconfigjson", "first"),
        secret(kk.DOCKERCONFIGJSON_TYPE, ".dockerconfigjson", "second"),
    ]
    found = kk.image_pull_credentials(secrets, "harbor.example.org/binder/x:tag")
    assert [c.username for c in found] == ["first", "second"]


# --- docker/cli v29.7.2 and docker-py 7.1.0 --------------------------------------------------


@pytest.mark.parametrize(
    ("key", "hostname"),
    [  # cli/config/credentials/file_store_test.go TestConvertToHostname
        ("127.0.0.1", "127.0.0.1"),
        ("::1", "::1"),
        ("[::1]", "[::1]"),
        ("example.com", "example.com"),
        ("http://example.com", "example.com"),
        ("https://example.com", "example.com"),
        ("https://example.com/", "example.com"),
        ("https://example.com/v2/", "example.com"),
        ("unix:///var/run/docker.sock", "unix:"),
        ("ftp://example.com", "example.com"),
        ("127.0.0.1:6556", "127.0.0.1:6556"),
        ("::1:6556", "::1:6556"),
        ("[::1]:6556", "[::1]:6556"),
        ("example.com:6555", "example.com:6555"),
        ("https://127.0.0.1:6555/v2/", "127.0.0.1:6555"),
        ("https://::1:6555/v2/", "[::1]:6555"),
        ("https://[::1]:6555/v2/", "[::1]:6555"),
        ("http://example.com:6555", "example.com:6555"),
        ("https://example.com:6555", "example.com:6555"),
        ("https://example.com:6555/v2/", "example.com:6555"),
    ],
)
def test_cli_convert_to_hostname(key: str, hostname: str) -> None:
    assert dca.convert_to_hostname(key) == hostname


CLI_CONFIG = dca.load_cli_config(
    {
        "auths": {
            key: {"auth": "dXNlcm5hbWU6cGFzc3dvcmQ="}
            for key in [
                "https://index.docker.io/v1/",
                "[::1]",
                "[::1]:5000",
                "127.0.0.1",
                "127.0.0.1:5000",
                "localhost",
                "localhost:5000",
                "registry-1.docker.io",
                "registry.hub.docker.com",
            ]
        }
    }
)
REMOTE_REFS = [
    "ubuntu",
    "ubuntu:latest",
    "ubuntu@sha256:72297848456d5d37d1262630108ab308d3e9ec7ed1c3286a32fe09856619a782",
    "library/ubuntu",
    "library/ubuntu:latest",
]


@pytest.mark.parametrize(
    ("prefix", "address"),
    [  # cli/command/registry_test.go TestRetrieveAuthTokenFromImage
        ("", "https://index.docker.io/v1/"),
        ("docker.io", "https://index.docker.io/v1/"),
        ("index.docker.io", "https://index.docker.io/v1/"),
        ("registry-1.docker.io", "registry-1.docker.io"),
        ("registry.hub.docker.com", "registry.hub.docker.com"),
        ("[::1]", "[::1]"),
        ("[::1]:5000", "[::1]:5000"),
        ("127.0.0.1", "127.0.0.1"),
        ("localhost", "localhost"),
        ("localhost:5000", "localhost:5000"),
        ("no-auth.example.com", None),
    ],
)
def test_cli_push_credentials(prefix: str, address: str | None) -> None:
    for ref in REMOTE_REFS:
        found = dca.cli_push_credentials(CLI_CONFIG, f"{prefix}/{ref}" if prefix else ref)
        if address is None:
            assert found is None
        else:
            assert found == dca.AuthEntry(server_address=address, username="username", password="password")


@pytest.mark.parametrize("entry", [{"username": "user", "password": "pass"}, {"auth": b64("user:pass")}])
def test_cli_load_username_password_or_auth(entry: dict[str, str]) -> None:
    # cli/config/configfile/file_test.go TestLoadFromReaderWithUsernamePassword
    config = dca.load_cli_config(json.dumps({"auths": {"example.com/foo": entry}}))
    found = dca.cli_get_auth_config(config, "example.com/foo")
    assert isinstance(found, dca.AuthEntry)
    assert (found.username, found.password) == ("user", "pass")


DOCKER_PY_CONFIG = {
    "auths": {
        "https://index.docker.io/v1/": {"auth": b64("indexuser:")},
        "my.registry.net": {"auth": b64("privateuser:")},
        "http://legacy.registry.url/v1/": {"auth": b64("legacyauth:")},
    }
}


@pytest.mark.parametrize(
    ("image", "username"),
    [  # docker-py tests/unit/auth_test.py ResolveAuthTest (registry from resolve_repository_name)
        ("image", "indexuser"),
        ("username/image", "indexuser"),
        ("docker.io/username/image", "indexuser"),
        ("index.docker.io/username/image", "indexuser"),
        ("my.registry.net/image", "privateuser"),
        ("legacy.registry.url/image", "legacyauth"),
        ("other.registry.net/image", None),
    ],
)
def test_docker_py_push_credentials(image: str, username: str | None) -> None:
    found = dca.docker_py_push_credentials(DOCKER_PY_CONFIG, image)
    assert (found.username if isinstance(found, dca.AuthEntry) else found) == username


@pytest.mark.parametrize(
    ("repository", "registry"),
    [  # docker-py ResolveRepositoryNameTest
        ("image", "docker.io"),
        ("image.valid", "docker.io"),
        ("docker.io/image", "docker.io"),
        ("index.docker.io/image", "docker.io"),
        ("my.registry.net:5000/image", "my.registry.net:5000"),
        ("hostname:5000/username/image", "hostname:5000"),
        ("localhost/username/image", "localhost"),
    ],
)
def test_docker_py_resolve_repository_name(repository: str, registry: str) -> None:
    assert dca.docker_py_resolve_repository_name(repository)[0] == registry


def test_docker_py_refuses_hyphenated_index() -> None:
    with pytest.raises(dca.InvalidRepositoryError):
        dca.docker_py_resolve_repository_name("-gecko.com/image")


# Derived by hand from both clients' code: which Docker Hub keys each accepts for a push.
@pytest.mark.parametrize(
    ("key", "cli_finds", "docker_py_finds"),
    [
        ("https://index.docker.io/v1/", True, True),
        ("https://index.docker.io/v1", False, True),
        ("index.docker.io", False, True),
        ("docker.io", False, True),
        ("https://docker.io", False, True),
    ],
)
def test_docker_hub_keys_per_client(key: str, cli_finds: bool, docker_py_finds: bool) -> None:
    config = {"auths": {key: {"auth": b64("alice:s3cret")}}}
    image = "docker.io/alice/binder-x:tag"
    assert (dca.cli_push_credentials(dca.load_cli_config(config), image) is not None) is cli_finds
    assert (dca.docker_py_push_credentials(config, image) is not None) is docker_py_finds


@pytest.mark.parametrize(
    "key",
    ["harbor.example.org", "https://harbor.example.org", "https://harbor.example.org/v2/", "harbor.example.org/x"],
)
def test_other_registry_keys_match_by_host_in_both_clients(key: str) -> None:
    # Derived: the CLI's ConvertToHostname and docker-py's resolve_index_name both reduce to the host.
    config = {"auths": {key: {"auth": b64("robot:pw")}}}
    image = "harbor.example.org/binder/x:tag"
    for found in (
        dca.cli_push_credentials(dca.load_cli_config(config), image),
        dca.docker_py_push_credentials(config, image),
    ):
        assert isinstance(found, dca.AuthEntry)
        assert found.username == "robot"


# --- nginx/kubernetes-ingress v5.5.4 internal/k8s/validation_test.go -------------------------


def ingress(annotations: dict[str, str] | None = None, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "x", "annotations": annotations or {}},
        "spec": spec if spec is not None else {"rules": [{"host": "example.com"}]},
    }


def one_path(service: str = "test-svc", host: str = "example.com") -> dict[str, Any]:
    return {
        "rules": [
            {
                "host": host,
                "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": service}}}]},
            }
        ]
    }


@pytest.mark.parametrize(
    ("annotations", "expected"),
    [  # TestValidateNginxIngressAnnotations
        ({"nginx.org/proxy-read-timeout": "10s"}, []),
        (
            {"nginx.org/proxy-read-timeout": "not_a_time"},
            ['annotations.nginx.org/proxy-read-timeout: Invalid value: "not_a_time": must be a time'],
        ),
        ({"nginx.org/proxy-send-timeout": "10s"}, []),
        ({"nginx.org/client-max-body-size": "16M"}, []),
        (
            {"nginx.org/client-max-body-size": "not_an_offset"},
            ['annotations.nginx.org/client-max-body-size: Invalid value: "not_an_offset": must be an offset'],
        ),
        ({"nginx.org/proxy-buffering": "true"}, []),
        (
            {"nginx.org/proxy-buffering": "not_a_boolean"},
            ['annotations.nginx.org/proxy-buffering: Invalid value: "not_a_boolean": must be a boolean'],
        ),
        ({"nginx.org/mergeable-ingress-type": "master"}, []),
        ({"nginx.org/mergeable-ingress-type": "minion"}, []),
        ({"nginx.org/mergeable-ingress-type": ""}, ["annotations.nginx.org/mergeable-ingress-type: Required value"]),
        (
            {"nginx.org/mergeable-ingress-type": "abc"},
            [
                'annotations.nginx.org/mergeable-ingress-type: Invalid value: "abc": '
                "must be one of: 'master' or 'minion'"
            ],
        ),
        (
            {"nginx.org/server-snippets": "snippet-1"},
            ["annotations.nginx.org/server-snippets: Forbidden: snippet specified but snippets feature is not enabled"],
        ),
    ],
)
def test_annotation_validation(annotations: dict[str, str], expected: list[str]) -> None:
    assert f5.validate_annotations(annotations, ()) == expected


@pytest.mark.parametrize("name", ["nginx.org/server-snippets", "nginx.org/location-snippets"])
@pytest.mark.parametrize("value", ["snippet-1", "snippet-1\nsnippet-2\nsnippet-3"])
def test_snippets_allowed_when_enabled(name: str, value: str) -> None:
    assert f5.validate_annotations({name: value}, (), snippets_enabled=True) == []


@pytest.mark.parametrize(
    ("value", "services", "expected"),
    [  # TestValidateNginxIngressAnnotations, nginx.org/websocket-services cases
        ("service-1", ["service-1"], []),
        ("service-1,service-2", ["service-1", "service-2"], []),
        (
            "service-1,service-2",
            ["service-1"],
            [
                'annotations.nginx.org/websocket-services: Invalid value: "service-1,service-2": must be a '
                "comma-separated list of services. The following services were not found: service-2"
            ],
        ),
    ],
)
def test_websocket_services_must_be_backends(value: str, services: list[str], expected: list[str]) -> None:
    assert f5.validate_annotations({"nginx.org/websocket-services": value}, services) == expected


@pytest.mark.parametrize(
    ("annotations", "spec", "expected"),
    [  # TestValidateIngress
        ({}, {"rules": [{"host": "example.com"}]}, []),
        (
            {"nginx.org/mergeable-ingress-type": "invalid"},
            {"rules": [{"host": ""}]},
            [
                'annotations.nginx.org/mergeable-ingress-type: Invalid value: "invalid": must be one of: '
                "'master' or 'minion'",
                "spec.rules[0].host: Required value",
            ],
        ),
        (
            {"nginx.org/mergeable-ingress-type": "master"},
            one_path(),
            ["spec.rules[0].http.paths: Too many: 1: must have at most 0 items"],
        ),
        (
            {"nginx.org/mergeable-ingress-type": "minion"},
            {"rules": [{"host": "example.com"}]},
            ["spec.rules[0].http.paths: Required value: must include at least one path"],
        ),
    ],
)
def test_ingress_validation(annotations: dict[str, str], spec: dict[str, Any], expected: list[str]) -> None:
    assert f5.validate_ingress(ingress(annotations, spec)) == expected


def test_hostless_ingress_when_allowed() -> None:
    # TestValidateIngress "valid hostless ingress when allowed"
    assert f5.validate_ingress(ingress({}, {"rules": [{"host": ""}]}), allow_empty_host=True) == []


def test_master_with_two_hosts() -> None:
    # TestValidateMasterSpec "too many hosts"
    spec = {"rules": [{"host": "foo.example.com"}, {"host": "bar.example.com"}]}
    assert "spec.rules: Too many: 2: must have at most 1 item" in f5.validate_ingress(
        ingress({"nginx.org/mergeable-ingress-type": "master"}, spec)
    )


@pytest.mark.parametrize(
    ("spec", "count"),
    [  # TestValidateIngressSpec (its cases compare error types; counted here)
        ({"rules": []}, 1),
        ({"rules": [{"host": ""}]}, 1),
        ({"rules": [{"host": "foo.example.com"}, {"host": "foo.example.com"}]}, 1),
        ({"defaultBackend": {}, "rules": [{"host": "foo.example.com"}]}, 1),
        (one_path(), 0),
        ({"rules": [{"host": "foo.example.com", "http": {"paths": [{"path": "/", "backend": {}}]}}]}, 1),
        ({"rules": [{"host": "foo.example.com", "http": {"paths": [{"path": "", "backend": {"service": {}}}]}}]}, 1),
        (
            {
                "rules": [
                    {
                        "host": "foo.example.com",
                        "http": {"paths": [{"path": "/tea\\{custom_value}", "backend": {"service": {}}}]},
                    }
                ]
            },
            1,
        ),
    ],
)
def test_ingress_spec_validation(spec: dict[str, Any], count: int) -> None:
    assert len(f5.validate_ingress(ingress({}, spec))) == count


def test_unknown_annotations_are_not_validated() -> None:
    # validateIngressAnnotations only walks the annotationValidations table.
    annotations = {"acme.cert-manager.io/http01-edit-in-place": "not-a-bool"}
    assert f5.validate_ingress(ingress(annotations, one_path())) == []


def test_parse_bool_is_go_strconv() -> None:
    # internal/configs ParseBool is strconv.ParseBool: these are all its accepted spellings.
    for value in ["1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"]:
        assert f5.validate_annotations({"nginx.org/proxy-buffering": value}, ()) == []
    for value in ["yes", "no", "off", "on", " true"]:
        assert f5.validate_annotations({"nginx.org/proxy-buffering": value}, ()) != []


@pytest.mark.parametrize(
    "path",
    [  # TestValidatePath valid paths (pathType Exact)
        "/",
        "/path",
        "/a-1/_A/",
        "/[A-Za-z]{6}/[a-z]{1,2}",
        "/[0-9a-z]{4}[0-9]",
        "/foo.*\\.jpg",
        "/Bar.*\\.jpg",
        '/f\\"oo.*\\\\.jpg',
        "/[0-9a-z]{4}[0-9]+",
        "/abc}{abc",
    ],
)
def test_path_accepted(path: str) -> None:
    assert f5.validate_path(path, "Exact") == []


@pytest.mark.parametrize(
    "path",
    [  # TestValidatePath invalid paths, TestValidateCurlyBraces, TestValidateIllegalKeywords
        "",
        " /",
        "/ ",
        "/abc;",
        "/path\\",
        "/path\\n",
        "/var/run/secrets",
        "/{autoindex on; root /var/run/secrets;}location /tea",
        "/{root}",
        "//evil.com/payload",
        "/api/../etc/passwd",
        "/api/..\\admin",
        "/api/..",
        "/a/b/..",
        "/[A-Z]{a}",
        "/{abc}abc",
        "/abc{a1}",
        "/root",
        "/etc/nginx/secrets",
        "/etc/passwd",
    ],
)
def test_path_refused(path: str) -> None:
    assert f5.validate_path(path, "Exact") != []


def test_implementation_specific_path_may_be_empty() -> None:
    # TestValidatePath, last case
    assert f5.validate_path("", "ImplementationSpecific") == []
