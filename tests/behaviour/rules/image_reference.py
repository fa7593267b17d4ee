"""How kubelet and the docker CLI read an image reference: `reference.ParseNormalizedNamed`.

Port of distribution/reference `normalize.go` (`ParseNormalizedNamed`, `splitDockerDomain`),
`reference.go` (`Parse`) and `regexp.go` (the grammar), tag v0.6.0 (commit ff14fafe), the version
kubelet (`pkg/util/parsers.ParseImageName`) and docker/cli v29 vendor. Digest algorithms are the
ones kubelet registers (sha256, sha384, sha512), as `opencontainers/go-digest` checks them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_REPO_PREFIX = "library/"
NAME_TOTAL_LENGTH_MAX = 255

# The grammar, in the same pieces as upstream's regexp.go; `re.ASCII` because Go's \w and \d are ASCII.
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_HOST = rf"(?:{_DOMAIN_NAME}|\[(?:[a-fA-F0-9:]+)\])"
_DOMAIN_AND_PORT = rf"{_HOST}(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_REMOTE_NAME = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_NAME = rf"(?:{_DOMAIN_AND_PORT}/)?{_REMOTE_NAME}"
_REFERENCE_RE = re.compile(rf"({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?", re.ASCII)
_ANCHORED_NAME_RE = re.compile(rf"(?:({_DOMAIN_AND_PORT})/)?({_REMOTE_NAME})", re.ASCII)
_IDENTIFIER_RE = re.compile(r"[a-f0-9]{64}")
# go-digest: a registered algorithm and an encoded part of its exact length, lower-case hex.
_DIGEST_HEX_LENGTH = {"sha256": 64, "sha384": 96, "sha512": 128}


class InvalidReferenceError(ValueError):
    """The string is not an image reference the Go parser accepts."""


@dataclass(frozen=True)
class NormalizedName:
    """A parsed reference: `docker.io/library/ubuntu:22.04` has domain `docker.io`, path `library/ubuntu`."""

    domain: str
    path: str
    tag: str = ""
    digest: str = ""

    @property
    def name(self) -> str:
        """`Named.Name()`: domain and path, without tag or digest (what kubelet looks credentials up by)."""
        return f"{self.domain}/{self.path}"


def split_docker_domain(name: str) -> tuple[str, str]:
    """Domain and remainder of a familiar name, Docker Hub filled in (`splitDockerDomain`)."""
    first, sep, rest = name.partition("/")
    if not sep:
        # A single element ("ubuntu", "ubuntu:22.04") is an official Docker Hub image.
        return DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX + name
    # A first element is a registry when it is localhost, has a dot or a port, or has upper case
    # (repository names are lower case); otherwise it is a Docker Hub namespace.
    if first == "localhost" or ":" in first or "." in first or first.lower() != first:
        domain, remainder = first, rest
    else:
        domain, remainder = DEFAULT_DOMAIN, name
    if domain == LEGACY_DEFAULT_DOMAIN:  # the Docker Index's old name means Docker Hub
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = OFFICIAL_REPO_PREFIX + remainder
    return domain, remainder


def _validate_digest(digest: str) -> None:
    algorithm, _, encoded = digest.partition(":")
    if algorithm not in _DIGEST_HEX_LENGTH:
        raise InvalidReferenceError(f"unsupported digest algorithm {algorithm!r}")
    if len(encoded) != _DIGEST_HEX_LENGTH[algorithm] or not re.fullmatch(r"[a-f0-9]+", encoded):
        raise InvalidReferenceError(f"invalid checksum digest {digest!r}")


def parse_normalized_named(reference: str) -> NormalizedName:
    """Parse `reference` as kubelet and the docker CLI do, filling in Docker Hub and `library/`.

    Raises `InvalidReferenceError` where upstream returns an error (upper case in the repository,
    a 64-hex identifier, bad grammar, a path over 255 characters, an unknown digest).
    """
    if _IDENTIFIER_RE.fullmatch(reference):
        raise InvalidReferenceError(
            f"invalid repository name ({reference}), cannot specify 64-byte hexadecimal strings"
        )
    domain, remainder = split_docker_domain(reference)
    remote = remainder.split(":", 1)[0]
    if remote.lower() != remote:
        raise InvalidReferenceError(f"invalid reference format: repository name ({remote}) must be lowercase")
    whole = f"{domain}/{remainder}"
    match = _REFERENCE_RE.fullmatch(whole)
    if match is None:
        raise InvalidReferenceError(f"invalid reference format: {whole!r}")
    name, tag, digest = match.group(1), match.group(2) or "", match.group(3) or ""
    name_match = _ANCHORED_NAME_RE.fullmatch(name)
    # The whole string matched the name grammar, so the anchored name pattern matches too.
    assert name_match is not None
    parsed_domain, path = name_match.group(1) or "", name_match.group(2)
    if len(path) > NAME_TOTAL_LENGTH_MAX:
        raise InvalidReferenceError("repository name must not be more than 255 characters")
    if digest:
        _validate_digest(digest)
    return NormalizedName(domain=parsed_domain, path=path, tag=tag, digest=digest)
