"""Which image pull secret credentials kubelet tries for an image, and in which order.

Ported from kubernetes/kubernetes, read through the code index (the repository is too large
to fetch here; the files below are the stored versions named):
- `pkg/credentialprovider/keyring.go` (the TrackedAuthConfig version of v1.33 and later):
  `BasicDockerKeyring.Add` / `Lookup`, `isDefaultRegistryMatch`, `ParseSchemelessURL`,
  `SplitURL`, `URLsMatchStr` / `URLsMatch`. Upstream tests ported: `keyring_test.go`
  at 6fbbec6a (TestUrlsMatch, TestDockerKeyringForGlob, TestKeyringMiss, TestKeyringHit*,
  TestIsDefaultRegistryMatch, TestDockerKeyringLookup, TestIssue3797).
- `pkg/credentialprovider/config.go` at 78fc8e44: `DockerConfigJSON`, `DockerConfigEntry.UnmarshalJSON`,
  `decodeDockerConfigFieldAuth` (padded and unpadded base64).
- `pkg/credentialprovider/secrets/secrets.go` at 09284d92: `MakeDockerKeyring`: every pod secret
  of type `kubernetes.io/dockerconfigjson` (key `.dockerconfigjson`) or `kubernetes.io/dockercfg`
  (key `.dockercfg`) goes into one keyring, in the pod's `imagePullSecrets` order.
- kubelet looks credentials up by `parsers.ParseImageName(image)`'s repository, i.e. the
  normalized name (`docker.io/library/ubuntu` for `ubuntu`) without tag or digest
  (`pkg/kubelet/images/image_manager.go`), then tries each credential in turn until a pull works,
  and pulls anonymously when none matches.

What upstream leaves random is kept in insertion order here: Go iterates a secret's `auths`
map in random order, so two keys of one secret that land on the same keyring key (for example
`https://index.docker.io/v1/` and `index.docker.io`) are tried in an unspecified order.
Only username, password and email survive `Add`: an `identitytoken` or `registrytoken` is dropped.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import go_url
from .image_reference import parse_normalized_named

DEFAULT_REGISTRY_HOST = "index.docker.io"
DOCKERCONFIGJSON_TYPE = "kubernetes.io/dockerconfigjson"
DOCKERCONFIGJSON_KEY = ".dockerconfigjson"
DOCKERCFG_TYPE = "kubernetes.io/dockercfg"
DOCKERCFG_KEY = ".dockercfg"


class ConfigError(ValueError):
    """Where kubelet's JSON decoding of a pull secret fails (the pull then fails with it)."""


@dataclass(frozen=True)
class Credential:
    """What kubelet hands the container runtime for one pull attempt."""

    username: str
    password: str
    email: str = ""


# --- config.go: decoding a .dockerconfigjson / .dockercfg -----------------------------------


def _go_field(pairs: Sequence[tuple[str, Any]], name: str) -> tuple[bool, Any]:
    """The value Go's encoding/json stores in a struct field tagged `name`.

    Go matches object keys to field tags case-insensitively and a later key overwrites an
    earlier one, so the last key that folds to `name` wins.
    """
    found, value = False, None
    for key, item in pairs:
        if key == name or key.lower() == name.lower():
            found, value = True, item
    return found, value


def _pairs(value: Any, what: str) -> list[tuple[str, Any]] | None:
    """An object's key/value pairs in document order; None for JSON null; error otherwise."""
    if value is None:
        return None
    if not isinstance(value, _Pairs):
        raise ConfigError(f"json: cannot unmarshal {type(value).__name__} into {what}")
    return list(value)


class _Pairs(list[tuple[str, Any]]):
    """A JSON object kept as its key/value pairs, so duplicate keys and their order survive."""


def _load(data: bytes | str) -> Any:
    try:
        return json.loads(data, object_pairs_hook=_Pairs)
    except (ValueError, UnicodeDecodeError) as e:
        raise ConfigError("error occurred while trying to unmarshal json") from e


def _string_field(pairs: Sequence[tuple[str, Any]], name: str) -> str:
    _, value = _go_field(pairs, name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ConfigError(f"json: cannot unmarshal {type(value).__name__} into string field {name}")
    return value


def decode_auth_field(field: str) -> tuple[str, str]:
    """`decodeDockerConfigFieldAuth`: base64 of `user:password`, padded or not.

    Padded input (ending in `=` once spaces are trimmed) must be valid standard base64,
    unpadded input valid raw base64; Go's decoder skips CR and LF. Raises `ConfigError`.
    """
    text = field.replace("\r", "").replace("\n", "")
    try:
        if field.strip().endswith("="):
            if len(text) % 4:
                raise ConfigError("illegal base64 data")
            decoded = base64.b64decode(text, validate=True)
        else:
            if "=" in text or len(text) % 4 == 1:
                raise ConfigError("illegal base64 data")
            decoded = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error as e:
        raise ConfigError("illegal base64 data") from e
    username, sep, password = decoded.decode("utf-8", "surrogateescape").partition(":")
    if not sep:
        raise ConfigError("unable to parse auth field, must be formatted as base64(username:password)")
    return username, password


def _entry(value: Any, location: str) -> Credential:
    pairs = _pairs(value, f"DockerConfigEntry {location!r}")
    if pairs is None:
        return Credential("", "", "")
    username = _string_field(pairs, "username")
    password = _string_field(pairs, "password")
    email = _string_field(pairs, "email")
    auth = _string_field(pairs, "auth")
    if auth:
        # A non-empty `auth` replaces username and password.
        username, password = decode_auth_field(auth)
    return Credential(username, password, email)


def _docker_config(value: Any) -> dict[str, Credential]:
    pairs = _pairs(value, "DockerConfig")
    config: dict[str, Credential] = {}
    for location, entry in pairs or ():
        config[location] = _entry(entry, location)
    return config


def parse_dockerconfigjson(data: bytes | str) -> dict[str, Credential]:
    """The `auths` map of a `.dockerconfigjson` (`{"auths": {...}}`), as kubelet decodes it.

    Raises `ConfigError` where kubelet's unmarshalling fails (invalid JSON, wrong types, an
    undecodable `auth`).
    """
    top = _pairs(_load(data), "DockerConfigJSON")
    if top is None:
        return {}
    _, headers = _go_field(top, "HttpHeaders")
    for _, header in _pairs(headers, "HttpHeaders") or ():
        if not isinstance(header, str):
            raise ConfigError("json: cannot unmarshal into HttpHeaders value")
    _, auths = _go_field(top, "auths")
    return _docker_config(auths)


def parse_dockercfg(data: bytes | str) -> dict[str, Credential]:
    """A legacy `.dockercfg`: the registry map itself, without `auths`."""
    return _docker_config(_load(data))


# --- keyring.go: URL matching -----------------------------------------------------------------


def _glob_to_regex(pattern: str) -> re.Pattern[str] | None:
    """Go's `filepath.Match` pattern as a regex; None for a malformed pattern (never matches)."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\":
            if i + 1 >= len(pattern):
                return None
            i += 1
            out.append(re.escape(pattern[i]))
        elif c == "[":
            i += 1
            negate = i < len(pattern) and pattern[i] == "^"
            if negate:
                i += 1
            ranges: list[str] = []
            while True:
                if i < len(pattern) and pattern[i] == "]" and ranges:
                    break
                lo, i = _class_char(pattern, i)
                if lo is None:
                    return None
                hi = lo
                if i < len(pattern) and pattern[i] == "-":
                    hi, i = _class_char(pattern, i + 1)
                    if hi is None:
                        return None
                ranges.append(f"{re.escape(lo)}-{re.escape(hi)}" if lo <= hi else "(?!)")
            # A range whose low end is above its high end is legal in Go but matches nothing.
            alternatives = "".join(r for r in ranges if r != "(?!)")
            if negate:
                out.append(f"[^{alternatives}]" if alternatives else ".")
            else:
                out.append(f"[{alternatives}]" if alternatives else "(?!)")
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _class_char(pattern: str, i: int) -> tuple[str | None, int]:
    """One character of a class (`getEsc`): `-` and `]` must be escaped, the class must close."""
    if i >= len(pattern) or pattern[i] in "-]":
        return None, i
    if pattern[i] == "\\":
        i += 1
        if i >= len(pattern):
            return None, i
    return pattern[i], i + 1


def go_filepath_match(pattern: str, name: str) -> bool:
    """`filepath.Match(pattern, name)` on Unix, a malformed pattern counting as no match."""
    regex = _glob_to_regex(pattern)
    return regex is not None and regex.fullmatch(name) is not None


def _parse_schemeless(text: str) -> go_url.GoURL:
    return go_url.parse("https://" + text)


def _split_url(url: go_url.GoURL) -> tuple[list[str], str]:
    try:
        host, port = go_url.split_host_port(url.host)
    except go_url.URLError:
        host, port = url.host, ""
    return host.split("."), port


def urls_match_str(glob: str, target: str) -> bool:
    """`URLsMatchStr`: does `target` (registry host[:port][/path]) fall under `glob`?

    Ports must be equal, host names must have as many dot-separated parts and each part must
    match its glob (`*.azurecr.io` covers one label only), and the glob's path must be a string
    prefix of the target's path. An unparseable side never matches.
    """
    try:
        glob_url, target_url = _parse_schemeless(glob), _parse_schemeless(target)
    except go_url.URLError:
        return False
    glob_parts, glob_port = _split_url(glob_url)
    target_parts, target_port = _split_url(target_url)
    if glob_port != target_port or len(glob_parts) != len(target_parts):
        return False
    if not target_url.path.startswith(glob_url.path):
        return False
    return all(go_filepath_match(g, t) for g, t in zip(glob_parts, target_parts, strict=True))


def keyring_key(location: str) -> str | None:
    """The keyring index key `Add` files an `auths` key under; None when kubelet skips the key.

    A scheme is added when missing; a path starting `/v1/` or `/v2/` loses that prefix and a
    remaining path of "/" is dropped, so `https://index.docker.io/v1/` becomes
    `index.docker.io` while `https://index.docker.io/v1` stays `index.docker.io/v1`.
    """
    value = location if location.startswith(("https://", "http://")) else "https://" + location
    try:
        parsed = go_url.parse(value)
    except go_url.URLError:
        return None
    path = parsed.path
    if path.startswith(("/v2/", "/v1/")):
        path = path[3:]
    return parsed.host + path if path not in ("", "/") else parsed.host


def is_default_registry_match(image: str) -> bool:
    """`isDefaultRegistryMatch`: would `image` be pulled from Docker Hub by its looks."""
    first, sep, _ = image.partition("/")
    if not first:
        return False
    if not sep or first in ("docker.io", DEFAULT_REGISTRY_HOST):
        return True
    return not ("." in first or ":" in first)


class Keyring:
    """`BasicDockerKeyring`: credentials indexed by registry key, most specific key first."""

    def __init__(self) -> None:
        self._creds: dict[str, list[Credential]] = {}

    def add(self, config: Mapping[str, Credential]) -> None:
        """File each entry of one decoded config under its key (`Add`)."""
        for location, credential in config.items():
            key = keyring_key(location)
            if key is not None:
                self._creds.setdefault(key, []).append(credential)

    @property
    def index(self) -> list[str]:
        """The keys in the order `Lookup` walks them: deduplicated, reverse-sorted bytewise."""
        return sorted(self._creds, key=lambda k: k.encode("utf-8", "surrogateescape"), reverse=True)

    def lookup(self, repository: str) -> list[Credential]:
        """`Lookup(repository)` for an already-normalized repository name (no tag/digest).

        Every key that `urls_match_str` matches contributes its credentials, longest first;
        when none does and the repository is Docker Hub's, the `index.docker.io` key applies.
        """
        found = [c for key in self.index if urls_match_str(key, repository) for c in self._creds[key]]
        if found:
            return found
        if is_default_registry_match(repository) and DEFAULT_REGISTRY_HOST in self._creds:
            return list(self._creds[DEFAULT_REGISTRY_HOST])
        return []


def repository_to_pull(image: str) -> str:
    """The name kubelet looks credentials up by: normalized, without tag or digest.

    Raises `image_reference.InvalidReferenceError` for an image kubelet cannot parse.
    """
    return parse_normalized_named(image).name


def lookup(auths: Mapping[str, Any], image: str) -> list[Credential]:
    """Credentials kubelet tries, in order, to pull `image` with one secret's `auths` map.

    `auths` maps registry keys to entries as they appear in a `.dockerconfigjson`
    (`{"auth": base64(user:password)}` or `username`/`password`/`email`); an empty list means
    kubelet pulls anonymously. Raises `ConfigError` for an entry kubelet cannot decode.
    """
    keyring = Keyring()
    keyring.add(parse_dockerconfigjson(json.dumps({"auths": auths})))
    return keyring.lookup(repository_to_pull(image))


def _secret_bytes(secret: Mapping[str, Any], key: str) -> bytes | None:
    """A Secret's value as the API server stores it: `stringData` wins over base64 `data`."""
    string_data = secret.get("stringData") or {}
    if key in string_data:
        return str(string_data[key]).encode()
    data = secret.get("data") or {}
    if key in data:
        return base64.b64decode(data[key])
    return None


def image_pull_credentials(secrets: Iterable[Mapping[str, Any]], image: str) -> list[Credential]:
    """Credentials kubelet tries for `image` from a pod's image pull Secrets, in order.

    `secrets` are the Secret objects the pod's `imagePullSecrets` name, in that order. Secrets
    of another type, or without the type's key, or with an empty value, are ignored, as
    upstream does. No node-level credentials are assumed (the default keyring is empty).
    """
    keyring = Keyring()
    for secret in secrets:
        kind = secret.get("type")
        if kind == DOCKERCONFIGJSON_TYPE:
            raw = _secret_bytes(secret, DOCKERCONFIGJSON_KEY)
            if raw:
                keyring.add(parse_dockerconfigjson(raw))
        elif kind == DOCKERCFG_TYPE:
            raw = _secret_bytes(secret, DOCKERCFG_KEY)
            if raw:
                keyring.add(parse_dockercfg(raw))
    return keyring.lookup(repository_to_pull(image))
