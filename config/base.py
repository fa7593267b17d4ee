"""Shared pieces of the configuration model: the error type, value rules and the `Model` base.

Each rule raises ValueError with what a valid value looks like; `config.load` turns those into
`binderhub:<key>: <value> <what is valid>` lines.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlsplit

import pulumi
from publicsuffixlist import PublicSuffixList
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    model_validator,
)
from pydantic.alias_generators import to_camel

NAMESPACE = "binderhub"

# Keys whose values are secrets; they are read with get_secret and never enter the model.
SECRET_KEYS = ("kubeconfig", "registryPassword", "oauthClientSecret", "githubToken", "gitlabToken", "gitCredentials")
# What each secret is (the README table and the JSON schema); a test keeps the keys equal.
SECRET_DESCRIPTIONS: dict[str, str] = {
    "kubeconfig": "cloud existing: the cluster's kubeconfig (default: $KUBECONFIG, else ~/.kube/config).",
    "registryPassword": "registry dockerhub or custom: the password or access token.",
    "oauthClientSecret": "auth github or generic: the OAuth app's client secret.",
    "githubToken": "A GitHub token for BinderHub's API calls (rate limits, private repositories).",
    "gitlabToken": (
        "A GitLab token for BinderHub's API calls and clones (private repositories on repoProviders.gitlab.hostname)."
    ),
    "gitCredentials": (
        "git credential lines (protocol=https, host, username, password) for private git/ repositories on that one "
        "host; the git provider then builds only from it."
    ),
}

DNS_NAME_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
# Docker repository path component: lowercase alphanumerics separated by '.', '_', '__' or '-'.
IMAGE_PATH_COMPONENT = re.compile(r"^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$")
# A URL's host: DNS labels, one or more (an in-cluster Service name like `keycloak` counts).
_URL_HOST = re.compile(r"(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*")
# local@domain: no spaces or ':' (a "mailto:" prefix), a DNS name after the '@' (no trailing dot).
_EMAIL = re.compile(r"[^@\s:]+@(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")
K8S_VERSION = re.compile(r"^\d+\.\d+(\.\d+)?$")


class ConfigError(pulumi.RunError):
    """Bad stack configuration. RunError: Pulumi prints the message without a traceback."""


def matching(pattern: str, what: str) -> AfterValidator:
    """A string validator whose error says what a valid value looks like."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"is not valid: expected {what}")
        return value

    return AfterValidator(check)


def _dns_name(value: str) -> str:
    if not DNS_NAME_RE.fullmatch(value):
        raise ValueError("is not a DNS name: use lowercase labels separated by dots, e.g. example.org")
    return value


def _dns_label(value: str) -> str:
    if not _DNS_LABEL.fullmatch(value):
        raise ValueError("is not a DNS label: lowercase letters, digits and '-', at most 63 characters")
    return value


def url_check(*, path: bool, what: str) -> Callable[[str], str]:
    """A parsed http(s) URL: a host (DNS name or IP) and optional port, no user info, no
    fragment; with `path=False` nothing may follow the host (a registry URL, a CORS origin)."""

    def check(value: str) -> str:
        try:
            parts = urlsplit(value)
            port = parts.port  # raises on a port that is not a number in 1-65535
        except ValueError:
            parts, port = None, None
        host = (parts.hostname or "") if parts else ""
        valid = (
            parts is not None
            and parts.scheme in ("http", "https")
            and not parts.username
            and not parts.password
            and not parts.fragment
            and not any(c.isspace() for c in value)
            # urlsplit drops an empty query, fragment or port ("https://h?", "https://h:"),
            # which the raw text would then carry into image names and headers.
            and not value.rstrip("/").endswith((":", "?", "#"))
            and "#" not in value
            and (path or "?" not in value)
            and (_URL_HOST.fullmatch(host) is not None or is_ip(host))
            and (port is None or port > 0)
            and (path or (parts.path in ("", "/") and not parts.query))
        )
        if not valid:
            raise ValueError(f"is not valid: expected {what}")
        return value

    return check


def _url(*, path: bool, what: str) -> AfterValidator:
    return AfterValidator(url_check(path=path, what=what))


def is_ip(value: str) -> bool:
    """True for an IPv4 or IPv6 address."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _email(value: str) -> str:
    if not _EMAIL.fullmatch(value):
        raise ValueError("is not an email address")
    return value


def _ip(value: str) -> str:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        raise ValueError("is not an IP address, e.g. 203.0.113.10") from None
    # An IPv4-mapped IPv6 address (::ffff:127.0.0.1) is its IPv4 address to Kubernetes (Go's To4).
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    # Kubernetes' Service validation (ValidateNonSpecialIP) refuses these for externalIPs.
    if address.is_unspecified or address.is_loopback or address.is_link_local or address.is_multicast:
        raise ValueError(
            "is a special address (unspecified, loopback, link-local or multicast) that Kubernetes refuses "
            "for a Service's external IPs; use the node's routable address, e.g. 203.0.113.10"
        )
    return str(address)


def _ipv4_cidr(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=True)
    except ValueError as error:
        hint = " (its host bits must be zero)" if "host bits set" in str(error) else ""
        raise ValueError(f"is not an IPv4 CIDR block like 203.0.113.0/24{hint}") from None
    # AKS authorized IP ranges and EKS public access CIDRs take IPv4 only.
    if not isinstance(network, ipaddress.IPv4Network):
        raise ValueError("is an IPv6 block; the clouds' API access lists take IPv4 blocks like 203.0.113.0/24")
    if network.prefixlen and (network.is_loopback or network.is_link_local or network.is_multicast):
        raise ValueError("is a loopback, link-local or multicast block, which never reaches a cloud API endpoint")
    return str(network)


# Names RFC 2606 and RFC 6761 reserve (documentation, testing, local use, and the special-use
# names IANA lists): Let's Encrypt refuses them as account contacts and as certificate names.
_RESERVED_DOMAINS = ("example.com", "example.net", "example.org")
_SPECIAL_USE_TLDS = ("example", "test", "invalid", "localhost", "local", "internal", "onion", "alt", "home.arpa")
_PUBLIC_SUFFIXES = PublicSuffixList(accept_unknown=False)


def registrable_domain(host: str) -> str | None:
    """The domain someone registered that `host` is in (example.co.uk for hub.example.co.uk),
    by the Public Suffix List; None for a public suffix itself or a name under none."""
    return _PUBLIC_SUFFIXES.privatesuffix(host.lower().rstrip("."))


def acme_domain(domain: str, what: str) -> str:
    """`domain` if Let's Encrypt accepts it (a name under a public suffix, not a reserved one).

    Rules from Boulder's policy authority (letsencrypt/boulder, policy/pa.go): a name must end in
    a public suffix (Mozilla's Public Suffix List), must not be a public suffix itself, and must
    not be reserved; a certificate name is at most 253 characters, 63 per label.
    """
    name = domain.lower().rstrip(".")
    if name in _RESERVED_DOMAINS or name.endswith(tuple("." + d for d in _RESERVED_DOMAINS)):
        raise ValueError(f"uses a reserved documentation domain (RFC 2606) that Let's Encrypt refuses as {what}")
    if name.rsplit(".", 1)[-1] in _SPECIAL_USE_TLDS or name.endswith(tuple("." + t for t in _SPECIAL_USE_TLDS)):
        raise ValueError(f"uses a special-use name (RFC 6761) that Let's Encrypt refuses as {what}")
    if _PUBLIC_SUFFIXES.privatesuffix(name) is None:
        raise ValueError(
            f"is not under a public suffix (Public Suffix List), so Let's Encrypt refuses it as {what}: use a "
            "registered domain such as uni.edu"
        )
    return domain


def acme_email(value: str) -> str:
    acme_domain(value.rpartition("@")[2], "an account email domain")
    return value


DnsName = Annotated[str, AfterValidator(_dns_name)]
DnsLabel = Annotated[str, AfterValidator(_dns_label)]
# A URL with a path (OAuth endpoints, a token service), and one that is only scheme://host[:port].
HttpUrl = Annotated[str, _url(path=True, what="an http(s) URL: http(s)://host[:port][/path], no spaces or user info")]
HostUrl = Annotated[
    str, _url(path=False, what="http(s)://host[:port] with nothing after the host (no path, query or spaces)")
]
Email = Annotated[str, AfterValidator(_email)]
IpAddress = Annotated[str, AfterValidator(_ip)]
Ipv4Cidr = Annotated[str, AfterValidator(_ipv4_cidr)]


class Model(BaseModel):
    """Config objects: camelCase keys, immutable, typos rejected with the list of valid keys."""

    # Attribute docstrings are the fields' descriptions (the JSON schema, the README table).
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, frozen=True, use_attribute_docstrings=True)

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            known = {field.alias or name for name, field in cls.model_fields.items()}
            unknown = sorted(set(data) - known)
            if unknown:
                raise ValueError(f"unknown key(s) {', '.join(unknown)} (valid keys: {', '.join(sorted(known))})")
        return data
