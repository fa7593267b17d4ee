"""Which `~/.docker/config.json` entry a push sends to the registry, for the two clients
that push BinderHub's images.

BinderHub's build pods mount the push Secret's `config.json` at `/root/.docker/config.json`
(binderhub `build.py` `KubernetesBuildExecutor.get_builder_volumes`, commit b9fad995) and run
repo2docker with `--push`:
- repo2docker 2024.07.0 (binderhub b9fad995's default `build_image`) pushes with docker-py
  (`DockerEngine.push` -> `APIClient.push`, no `auth_config`), so docker-py's own lookup picks
  the entry: `docker_py_push_credentials`, ported from docker/docker-py tag 7.1.0 (a3652028;
  `docker/auth.py` `resolve_repository_name`, `split_repo_name`, `resolve_index_name`,
  `convert_to_hostname`, `AuthConfig.load_config` / `parse_auth` / `resolve_authconfig`;
  `docker/utils/utils.py` `parse_repository_tag`; `docker/api/image.py` `push`), the version
  current when that image was built (its `auth.py` is unchanged in 7.2.0). Tests ported from
  docker-py's `tests/unit/auth_test.py` at 7.1.0.
- repo2docker 2026.04.0 and later runs `docker push`, so the docker CLI's lookup picks it:
  `cli_push_credentials`, ported from docker/cli tag v29.7.2 (`cli/command/registry.go`
  `RetrieveAuthTokenFromImage`, `cli/config/configfile/file.go` `getAuthConfigKey`,
  `GetAuthConfig`, `GetCredentialsStore`, `getConfiguredCredentialStore`, `LoadFromReader`,
  `decodeAuth`; `cli/config/credentials/file_store.go` `fileStore.Get`, `ConvertToHostname`).
  v27.3.1 resolves the same keys (it names Docker Hub's key through `registry.IndexServer`).
  Tests ported from docker/cli `cli/config/credentials/file_store_test.go` and
  `cli/config/configfile/file_test.go` at v29.7.2.

The two differ for Docker Hub: the CLI reads only the key `https://index.docker.io/v1/`,
while docker-py accepts any key whose host is `docker.io` or `index.docker.io`.
Credential helpers (`credsStore`, `credHelpers`) cannot be evaluated offline: a lookup that
reaches one returns `CredentialHelper`. The CLI's `DOCKER_AUTH_CONFIG` variable is not modelled.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import go_url
from .image_reference import parse_normalized_named

CLI_INDEX_SERVER = "https://index.docker.io/v1/"  # docker/cli `authConfigKey`
DOCKER_PY_INDEX_NAME = "docker.io"
DOCKER_PY_INDEX_URL = "https://index.docker.io/v1/"


class ConfigError(ValueError):
    """The config file does not load (the CLI warns and goes on with what it read; docker-py raises)."""


class InvalidRepositoryError(ValueError):
    """docker-py refuses the repository name before pushing."""


@dataclass(frozen=True)
class AuthEntry:
    """The credentials a push sends (`X-Registry-Auth`), from one `auths` entry."""

    server_address: str  # the config key the entry came from
    username: str = ""
    password: str = ""
    email: str = ""
    identity_token: str = ""
    registry_token: str = ""

    @property
    def is_empty(self) -> bool:
        """True when the entry carries no secret at all: the registry sees an anonymous push."""
        return not (self.username or self.password or self.identity_token or self.registry_token)


@dataclass(frozen=True)
class CredentialHelper:
    """The lookup is delegated to `docker-credential-<name>`; `fallback` is docker-py's
    answer from `auths` when the helper has no entry (the CLI has none)."""

    name: str
    fallback: AuthEntry | None = None


# --- docker CLI ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CliConfig:
    """The parts of a loaded `ConfigFile` a push reads, `auths` in document order."""

    auths: dict[str, AuthEntry]
    creds_store: str = ""
    cred_helpers: Mapping[str, str] | None = None


def _go_struct_field(obj: Mapping[str, Any], name: str) -> Any:
    """Go's encoding/json matches keys to field tags case-insensitively; a later key wins."""
    value = None
    for key, item in obj.items():
        if key.lower() == name.lower():
            value = item
    return value


def _go_string(obj: Mapping[str, Any], name: str) -> str:
    value = _go_struct_field(obj, name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ConfigError(f"json: cannot unmarshal {type(value).__name__} into string field {name}")
    return value


def cli_decode_auth(auth: str) -> tuple[str, str]:
    """`decodeAuth` (v29): padded standard base64 of `user:password`, the user non-empty.

    Go's decoder skips CR/LF; trailing NULs are trimmed from the password. Raises `ConfigError`.
    """
    text = auth.replace("\r", "").replace("\n", "")
    try:
        if len(text) % 4:
            raise ConfigError("illegal base64 data")
        decoded = base64.b64decode(text, validate=True).decode("utf-8", "surrogateescape")
    except binascii.Error as e:
        raise ConfigError("illegal base64 data") from e
    username, sep, password = decoded.partition(":")
    if not sep or not username:
        raise ConfigError("invalid auth configuration file")
    return username, password.strip("\x00")


def load_cli_config(data: bytes | str | Mapping[str, Any]) -> CliConfig:
    """`ConfigFile.LoadFromReader`: decode, then turn every `auth` into username/password.

    Accepts the file's bytes or its already-decoded JSON object. Raises `ConfigError` where
    the CLI's load fails (bad JSON, wrong types, an undecodable `auth`).
    """
    obj: Any = data
    if isinstance(data, (bytes, str)):
        try:
            obj = json.loads(data)
        except ValueError as e:
            raise ConfigError(str(e)) from e
    if not isinstance(obj, Mapping):
        raise ConfigError("json: cannot unmarshal into ConfigFile")
    raw_auths = _go_struct_field(obj, "auths") or {}
    if not isinstance(raw_auths, Mapping):
        raise ConfigError("json: cannot unmarshal into auths")
    auths: dict[str, AuthEntry] = {}
    for address, raw in raw_auths.items():
        entry = raw or {}
        if not isinstance(entry, Mapping):
            raise ConfigError(f"json: cannot unmarshal into AuthConfig {address!r}")
        username, password = _go_string(entry, "username"), _go_string(entry, "password")
        auth = _go_string(entry, "auth")
        if auth:
            username, password = cli_decode_auth(auth)
        auths[address] = AuthEntry(
            server_address=address,
            username=username,
            password=password,
            email=_go_string(entry, "email"),
            identity_token=_go_string(entry, "identitytoken"),
            registry_token=_go_string(entry, "registrytoken"),
        )
    helpers = _go_struct_field(obj, "credHelpers") or {}
    if not isinstance(helpers, Mapping) or not all(isinstance(v, str) for v in helpers.values()):
        raise ConfigError("json: cannot unmarshal into credHelpers")
    return CliConfig(auths=auths, creds_store=_go_string(obj, "credsStore"), cred_helpers=dict(helpers))


def cli_auth_config_key(domain: str) -> str:
    """`getAuthConfigKey`: Docker Hub's credentials live under `https://index.docker.io/v1/`."""
    return CLI_INDEX_SERVER if domain in ("docker.io", "index.docker.io") else domain


def convert_to_hostname(maybe_url: str) -> str:
    """docker/cli `ConvertToHostname`: a key with a scheme is reduced to host[:port];
    one without is cut at its first "/"."""
    if "://" in maybe_url:
        try:
            parsed = go_url.parse(maybe_url)
        except go_url.URLError:
            parsed = None
        if parsed is not None and parsed.hostname():
            if not parsed.port():
                return parsed.hostname()
            return go_url.join_host_port(parsed.hostname(), parsed.port())
        host = _host_from_url_fallback(maybe_url)
        if host:
            return host
    return maybe_url.split("/", 1)[0]


def _host_from_url_fallback(maybe_url: str) -> str:
    """`hostFromURLFallback`: the authority of a scheme URL Go refused (unbracketed IPv6)."""
    _, sep, rest = maybe_url.partition("://")
    if not sep:
        return ""
    host = rest.split("/", 1)[0]
    if host.count(":") > 1 and not host.startswith("["):
        address, _, port = host.rpartition(":")
        if address and port.isascii() and port.isdigit():
            return go_url.join_host_port(address, port)
    return host


def cli_get_auth_config(config: CliConfig, registry_hostname: str) -> AuthEntry | CredentialHelper | None:
    """`ConfigFile.GetAuthConfig(hostname)` without `DOCKER_AUTH_CONFIG`.

    A per-registry helper, else the `credsStore`, takes the lookup; otherwise the file store
    answers with the exact key, else the first key whose `convert_to_hostname` equals it
    (Go walks the map in random order; document order here). None when nothing matches.
    """
    key = cli_auth_config_key(registry_hostname)
    helper = (config.cred_helpers or {}).get(key) if key else None
    helper = helper or config.creds_store
    if helper:
        return CredentialHelper(helper)
    if key in config.auths:
        return config.auths[key]
    for address, entry in config.auths.items():
        if convert_to_hostname(address) == key:
            return entry
    return None


def cli_push_credentials(config: CliConfig, image: str) -> AuthEntry | CredentialHelper | None:
    """What `docker push <image>` sends: the entry for the image's registry domain.

    Raises `image_reference.InvalidReferenceError` for an image the CLI cannot parse.
    """
    return cli_get_auth_config(config, parse_normalized_named(image).domain)


# --- docker-py (repo2docker 2024.07.0) -------------------------------------------------------


def parse_repository_tag(repo_name: str) -> tuple[str, str | None]:
    """docker-py `parse_repository_tag`: split off `@digest`, else a `:tag` holding no "/"."""
    repository, at, digest = repo_name.rpartition("@")
    if at:
        return repository, digest
    repository, colon, tag = repo_name.rpartition(":")
    if colon and "/" not in tag:
        return repository, tag
    return repo_name, None


def docker_py_convert_to_hostname(url: str) -> str:
    """docker-py `convert_to_hostname`: drop every `http://`/`https://`, keep up to the first "/"."""
    return url.replace("http://", "").replace("https://", "").split("/", 1)[0]


def docker_py_resolve_index_name(index_name: str) -> str:
    """docker-py `resolve_index_name`: host of the key, `index.docker.io` read as `docker.io`."""
    host = docker_py_convert_to_hostname(index_name)
    return DOCKER_PY_INDEX_NAME if host == f"index.{DOCKER_PY_INDEX_NAME}" else host


def docker_py_resolve_repository_name(repo_name: str) -> tuple[str, str]:
    """docker-py `resolve_repository_name`: (registry, remote name); raises `InvalidRepositoryError`."""
    if "://" in repo_name:
        raise InvalidRepositoryError(f"Repository name cannot contain a scheme ({repo_name})")
    first, sep, rest = repo_name.partition("/")
    if not sep or ("." not in first and ":" not in first and first != "localhost"):
        index_name, remote = DOCKER_PY_INDEX_NAME, repo_name
    else:
        index_name, remote = first, rest
    if index_name.startswith("-") or index_name.endswith("-"):
        raise InvalidRepositoryError(f"Invalid index name ({index_name}). Cannot begin or end with a hyphen.")
    return docker_py_resolve_index_name(index_name), remote


def _docker_py_entry(registry: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    if "identitytoken" in entry:
        return {"IdentityToken": entry["identitytoken"]}
    if "auth" not in entry:
        return {}  # allowed since engine API 1.23; it sends no credentials
    try:
        login, password = base64.b64decode(entry["auth"]).split(b":", 1)
        username, secret = login.decode("utf8"), password.decode("utf8")
    except (ValueError, TypeError) as e:  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise ConfigError(f"cannot decode auth for {registry}") from e
    return {"username": username, "password": secret, "email": entry.get("email"), "serveraddress": registry}


def _docker_py_parse_auth(entries: Mapping[str, Any], *, raise_on_error: bool) -> dict[str, dict[str, Any]]:
    conf: dict[str, dict[str, Any]] = {}
    for registry, entry in entries.items():
        if not isinstance(entry, dict):
            if raise_on_error:
                raise ConfigError(f"Invalid configuration for registry {registry}")
            return {}
        conf[registry] = _docker_py_entry(registry, entry)
    return conf


def _as_entry(registry: str, conf: Mapping[str, Any]) -> AuthEntry | None:
    # get_config_header sends nothing for an empty entry.
    if not conf:
        return None
    return AuthEntry(
        server_address=registry,
        username=conf.get("username") or "",
        password=conf.get("password") or "",
        email=conf.get("email") or "",
        identity_token=conf.get("IdentityToken") or "",
    )


def docker_py_push_credentials(config_json: Mapping[str, Any], image: str) -> AuthEntry | CredentialHelper | None:
    """What docker-py's `APIClient.push(image)` sends, given the decoded `config.json`.

    Exact key first, then the first key (document order) whose `docker_py_resolve_index_name`
    equals the image's registry. None means no `X-Registry-Auth` header (anonymous push).
    Raises `ConfigError` / `InvalidRepositoryError` where docker-py raises.
    """
    repository, _ = parse_repository_tag(image)
    registry, _ = docker_py_resolve_repository_name(repository)
    config = dict(config_json)
    auths: dict[str, dict[str, Any]]
    if config.get("auths"):
        auths = _docker_py_parse_auth(config["auths"], raise_on_error=True)
    elif config.get("credsStore") or config.get("credHelpers"):
        auths = {}
    else:
        # No auth section at all: docker-py reads the whole file as a legacy auth map.
        auths = _docker_py_parse_auth(config, raise_on_error=False)
    from_auths = None
    if registry in auths:
        from_auths = _as_entry(registry, auths[registry])
    else:
        for key, conf in auths.items():
            if docker_py_resolve_index_name(key) == registry:
                from_auths = _as_entry(key, conf)
                break
    helper_key = DOCKER_PY_INDEX_URL if registry == DOCKER_PY_INDEX_NAME else registry
    store = (config.get("credHelpers") or {}).get(helper_key) or config.get("credsStore")
    if store:
        return CredentialHelper(store, fallback=from_auths)
    return from_auths
