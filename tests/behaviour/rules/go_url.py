"""The parts of Go's `net/url` and `net` that registry-credential matching depends on.

Re-expressed from the Go standard library (`net/url/url.go`: `Parse`, `getScheme`,
`parseAuthority`, `parseHost`, `validOptionalPort`, `unescape`, `shouldEscape` in host mode,
`URL.Hostname`/`URL.Port`; `net/ipsock.go`: `SplitHostPort`, `JoinHostPort`), Go 1.24.
Only what kubelet's keyring and the docker CLI's `ConvertToHostname` read is kept: scheme,
host and unescaped path, and the errors that make them skip a key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEX = "0123456789abcdefABCDEF"
# Characters a host may hold unescaped (RFC 3986 unreserved and sub-delims, as Go allows them).
_HOST_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~!$&'()*+,;=:[]<>\"")


class URLError(ValueError):
    """Where Go's `url.Parse` returns an error."""


@dataclass(frozen=True)
class GoURL:
    """The fields of a parsed URL that credential matching reads."""

    scheme: str
    host: str  # host[:port], brackets kept for IPv6, as Go's URL.Host
    path: str  # unescaped

    def hostname(self) -> str:
        """`URL.Hostname()`: the host without port or IPv6 brackets."""
        return _split_host_port_lenient(self.host)[0]

    def port(self) -> str:
        """`URL.Port()`: the digits after the host's last colon, or ""."""
        return _split_host_port_lenient(self.host)[1]


def _valid_optional_port(port: str) -> bool:
    if port == "":
        return True
    return port[0] == ":" and all("0" <= c <= "9" for c in port[1:])


def _split_host_port_lenient(host_port: str) -> tuple[str, str]:
    host, port = host_port, ""
    colon = host.rfind(":")
    if colon != -1 and _valid_optional_port(host[colon:]):
        host, port = host[:colon], host[colon + 1 :]
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, port


def _unescape(text: str, *, host: bool) -> str:
    """Decode %XX escapes; in a host, also refuse characters Go would require escaped."""
    out = bytearray()
    i = 0
    raw = text.encode("utf-8", "surrogateescape")
    while i < len(raw):
        c = raw[i]
        if c == ord("%"):
            pair = raw[i + 1 : i + 3].decode("latin-1")
            if len(pair) != 2 or pair[0] not in _HEX or pair[1] not in _HEX:
                raise URLError(f"invalid URL escape {raw[i : i + 3]!r}")
            # A host may percent-encode only non-ASCII bytes (and %25 in an IPv6 zone).
            if host and int(pair[0], 16) < 8 and pair != "25":
                raise URLError(f"invalid URL escape %{pair}")
            out.append(int(pair, 16))
            i += 3
            continue
        if host and c < 0x80 and chr(c) not in _HOST_OK:
            raise URLError(f"invalid character {chr(c)!r} in host name")
        out.append(c)
        i += 1
    return out.decode("utf-8", "surrogateescape")


def _parse_host(host: str) -> str:
    if host.startswith("["):
        end = host.rfind("]")
        if end < 0:
            raise URLError("missing ']' in host")
        if not _valid_optional_port(host[end + 1 :]):
            raise URLError(f"invalid port {host[end + 1 :]!r} after host")
    else:
        colon = host.rfind(":")
        if colon != -1 and not _valid_optional_port(host[colon:]):
            raise URLError(f"invalid port {host[colon:]!r} after host")
    return _unescape(host, host=True)


def _get_scheme(raw: str) -> tuple[str, str]:
    for i, c in enumerate(raw):
        if c.isascii() and c.isalpha():
            continue
        if c.isascii() and (c.isdigit() or c in "+-."):
            if i == 0:
                return "", raw
            continue
        if c == ":":
            if i == 0:
                raise URLError("missing protocol scheme")
            return raw[:i], raw[i + 1 :]
        return "", raw
    return "", raw


def parse(raw: str) -> GoURL:
    """`url.Parse`, keeping scheme, host and path; raises `URLError` where Go errors."""
    if re.search(r"[\x00-\x1f\x7f]", raw):
        raise URLError("net/url: invalid control character in URL")
    without_fragment, _, fragment = raw.partition("#")
    _unescape(fragment, host=False)  # a bad escape in the fragment fails the parse too
    scheme, rest = _get_scheme(without_fragment)
    scheme = scheme.lower()
    rest = rest.split("?", 1)[0]  # the query (or a lone trailing "?") is not part of the path
    if not rest.startswith("/") and scheme:
        return GoURL(scheme=scheme, host="", path="")  # opaque URL, e.g. "mailto:x"
    host = ""
    if rest.startswith("//") and (scheme or not rest.startswith("///")):
        authority, slash, tail = rest[2:].partition("/")
        rest = slash + tail
        host = _parse_host(authority.rpartition("@")[2])
    return GoURL(scheme=scheme, host=host, path=_unescape(rest, host=False))


def split_host_port(host_port: str) -> tuple[str, str]:
    """`net.SplitHostPort`: raises `URLError` for a missing port or too many colons."""
    i = host_port.rfind(":")
    if i < 0:
        raise URLError("missing port in address")
    j = k = 0
    if host_port.startswith("["):
        end = host_port.find("]")
        if end < 0:
            raise URLError("missing ']' in address")
        if end + 1 == len(host_port):
            raise URLError("missing port in address")
        if end + 1 != i:
            raise URLError("too many colons in address" if host_port[end + 1] == ":" else "missing port in address")
        host = host_port[1:end]
        j, k = 1, end + 1
    else:
        host = host_port[:i]
        if ":" in host:
            raise URLError("too many colons in address")
    if "[" in host_port[j:]:
        raise URLError("unexpected '[' in address")
    if "]" in host_port[k:]:
        raise URLError("unexpected ']' in address")
    return host, host_port[i + 1 :]


def join_host_port(host: str, port: str) -> str:
    """`net.JoinHostPort`: brackets a host that holds a colon (IPv6)."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
