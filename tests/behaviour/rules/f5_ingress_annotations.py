"""Whether the F5 NGINX Ingress Controller accepts an Ingress, by its own validation.

Port of nginx/kubernetes-ingress tag v5.5.4 (commit f92a24e4, the app version of chart 2.6.4):
- `internal/k8s/validation.go`: `validateIngress`, `validateIngressAnnotations`,
  `validateIngressAnnotation` (validators run in order, the first failure stops that
  annotation), the `annotationValidations` table, the per-annotation validators,
  `validateProxyRedirectPair`, `validateIngressSpec`, `validateBackend`, `validatePath`,
  `validateCurlyBraces`, `validateIllegalKeywords`, `validateMasterSpec`, `validateMinionSpec`,
  `validateChallengeIngress`, `getSpecServices`;
- `internal/configs/parsing_helpers.go`: `ParseBool`, `ParseTime`, `ParseOffset`, `ParseSize`,
  `ParseProxyBuffersSpec`, `ParsePortList`, `ParseServiceList`, `ParseAddHeaderInherit`;
- `pkg/apis/configuration/validation/common.go`: `ValidateSize`;
- `internal/k8s/utils.go`: `isMaster`, `isMinion`, `isChallengeIngress`;
- error strings as k8s.io/apimachinery `field.Error.Error()` prints them.
Tests are ported from `internal/k8s/validation_test.go` at v5.5.4.

What the controller does with the result (`internal/k8s/configuration.go`
`Configuration.AddOrUpdateIngress`): any error rejects the whole Ingress — it is removed from
the configuration (none of its hosts or paths are served) and a `Rejected` warning event
carries the joined errors. Annotations outside the table (e.g.
`acme.cert-manager.io/http01-edit-in-place`) are not validated at all.

Not ported (they raise `NotPortedError` when reached): `nginx.org/lb-method`, `proxy-set-headers`,
`add-header`, `rewrites`, `rewrite-target`, `sticky-cookie-services`, `http-redirect-code`,
`app-root`, `proxy-redirect-from`/`-to`, `policies`, `nginx.com/jwt-login-url`, and the App
Protect log/policy annotations. Path regexes are compiled with Python's `re`, not regexp2.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MERGEABLE_TYPE = "nginx.org/mergeable-ingress-type"
CHALLENGE_LABEL = "acme.cert-manager.io/http01-solver"
PROXY_REDIRECT_FROM = "nginx.org/proxy-redirect-from"
PROXY_REDIRECT_TO = "nginx.org/proxy-redirect-to"

# Go regexp's \s and \d are ASCII only.
_GO_SPACE = r"[\t\n\f\r ]"
_TIME_RE = re.compile(
    rf"(\d+y)??{_GO_SPACE}*(\d+M)??{_GO_SPACE}*(\d+w)??{_GO_SPACE}*(\d+d)??{_GO_SPACE}*(\d+h)??"
    rf"{_GO_SPACE}*(\d+m)??{_GO_SPACE}*(\d+s?)??{_GO_SPACE}*(\d+ms)??",
    re.ASCII,
)
_OFFSET_RE = re.compile(r"\d+[kKmMgG]?", re.ASCII)
SIZE_FMT = r"\d+[kKmM]?"
_SIZE_RE = re.compile(SIZE_FMT, re.ASCII)
_SIZE_ERR = "must consist of numeric characters followed by a valid size suffix. 'k|K|m|M"
_PROXY_BUFFERS_RE = re.compile(r"\d+ \d+[kKmM]?", re.ASCII)
_PROXY_BUFFERS_ANY_UNIT_RE = re.compile(r"(\d+) (\d+)([a-zA-Z]?)", re.ASCII)
ANNOTATION_VALUE_FMT = r'([^"$\\]|\\[^$])*'
_ANNOTATION_VALUE_RE = re.compile(ANNOTATION_VALUE_FMT)
_ANNOTATION_VALUE_ERR = (
    "a valid annotation value must have all '\"' escaped and must not contain any '$' or end with an unescaped '\\'"
)
_JWT_TOKEN_FMT = "\\$" + ANNOTATION_VALUE_FMT
_JWT_TOKEN_ERR = (
    "a valid annotation value must start with '$', have all '\"' escaped, and must not contain any '$' "
    "or end with an unescaped '\\'"
)
_LIMIT_REQ_KEY_FMT = r"^(\$\{[a-zA-Z_][a-zA-Z0-9_]*\}|\$[a-zA-Z_][a-zA-Z0-9_]*)+$"
_REALM_ERR = "a valid realm must have all '\"' escaped and must not contain any '$' or end with an unescaped '\\'"
_HTTP_HEADER_FMT = "[-A-Za-z0-9]+"
_DNS1123_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL + "(\\." + _DNS1123_LABEL + ")*"
_PATH_FMT = r"/[^\s;]*"
_PATH_RE = re.compile(r"/[^\t\n\f\r ;]*")
_PATH_ERR = "must start with / and must not include any whitespace character or `;`"
_ESCAPED_FMT = r'([^"\\]|\\.)*'
_ESCAPED_ERR = "must have all '\"' (double quotes) escaped and must not end with an unescaped '\\' (backslash)"
# Upstream anchors only the first and last alternatives ("^" + "/etc/|...|\\r" + "$") and
# searches: any "/root", "/var" or literal "\\n" anywhere in a path is refused.
_ILLEGAL_KEYWORD_RE = re.compile(r"^/etc/|/root|/var|\\n|\\r\Z")
_NEXT_UPSTREAM = {
    "error", "timeout", "invalid_header", "http_500", "http_502", "http_503", "http_504",
    "http_403", "http_404", "http_429", "non_idempotent", "off",
}  # fmt: skip


class NotPortedError(NotImplementedError):
    """The Ingress uses an annotation whose validator this port does not reproduce."""


# --- k8s.io/apimachinery field errors ---------------------------------------------------------


def go_quote(value: str) -> str:
    """Go's `%q` of a string (`strconv.Quote`)."""
    special = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}
    out = []
    for ch in value:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch in special:
            out.append(special[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return '"' + "".join(out) + '"'


def _invalid(path: str, value: str, detail: str) -> str:
    return f"{path}: Invalid value: {go_quote(value)}: {detail}"


def _required(path: str, detail: str = "") -> str:
    return f"{path}: Required value" + (f": {detail}" if detail else "")


def _forbidden(path: str, detail: str) -> str:
    return f"{path}: Forbidden: {detail}"


def _duplicate(path: str, value: str) -> str:
    return f"{path}: Duplicate value: {go_quote(value)}"


def _too_many(path: str, actual: int, maximum: int) -> str:
    return f"{path}: Too many: {actual}: must have at most {maximum} item{'' if maximum == 1 else 's'}"


def regex_error(msg: str, fmt: str, *examples: str) -> str:
    """k8s `validation.RegexError`: the message, examples and the regex it checks against."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    listed = " or ".join(f"'{e}', " for e in examples)
    return f"{msg} (e.g. {listed}regex used for validation is '{fmt}')"


def is_dns1123_subdomain(value: str) -> list[str]:
    """k8s `validation.IsDNS1123Subdomain` messages (empty = valid)."""
    errs = []
    if len(value) > 253:
        errs.append("must be no more than 253 characters")
    if not re.fullmatch(_DNS1123_SUBDOMAIN_FMT, value):
        errs.append(
            regex_error(
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                "and must start and end with an alphanumeric character",
                _DNS1123_SUBDOMAIN_FMT,
                "example.com",
            )
        )
    return errs


# --- parsing helpers ---------------------------------------------------------------------------


def parse_bool(value: str) -> bool:
    """Go `strconv.ParseBool`; raises ValueError for anything else (e.g. "yes", "on")."""
    if value in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if value in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise ValueError(f"invalid syntax: {value!r}")


def _go_int(value: str, *, bits: int, signed: bool) -> int:
    """Go `strconv.ParseInt`/`ParseUint` in base 10: optional sign (signed only), ASCII digits, in range."""
    digits = value[1:] if signed and value[:1] in ("+", "-") else value
    if not digits or not all("0" <= c <= "9" for c in digits):
        raise ValueError(f"invalid syntax: {value!r}")
    number = int(value)
    low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    if not low <= number <= high:
        raise ValueError(f"value out of range: {value!r}")
    return number


def parse_time(value: str) -> str:
    """nginx time (`ParseTime`): e.g. "60s", "1h 30m", "3600" (seconds); raises ValueError."""
    if value.strip() == "":
        raise ValueError("invalid time string")
    match = _TIME_RE.fullmatch(value)
    if match is None:
        raise ValueError("invalid time string")
    return value


def parse_offset(value: str) -> str:
    """nginx offset (`ParseOffset`): digits and an optional k/m/g suffix, e.g. "0", "16M"."""
    if not _OFFSET_RE.fullmatch(value.strip()):
        raise ValueError("invalid offset string")
    return value.strip()


def parse_size(value: str) -> str:
    """nginx size (`ParseSize`): digits and an optional k/m suffix (no g), e.g. "4k"."""
    if not _SIZE_RE.fullmatch(value.strip()):
        raise ValueError("invalid size string")
    return value.strip()


def parse_service_list(value: str) -> list[str]:
    """`ParseServiceList`: comma-separated, not trimmed ("a, b" names " b")."""
    return list(dict.fromkeys(value.split(",")))


# --- annotation validators ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    annotations: Mapping[str, str]
    spec_services: frozenset[str]
    name: str
    value: str
    path: str
    hostless: bool
    is_plus: bool
    app_protect: bool
    app_protect_dos: bool
    internal_routes: bool
    snippets: bool


_Validator = Callable[[_Context], list[str]]


def _required_v(c: _Context) -> list[str]:
    return [_required(c.path)] if c.value == "" else []


def _gate(enabled: Callable[[_Context], bool], detail: str) -> _Validator:
    return lambda c: [] if enabled(c) else [_forbidden(c.path, detail)]


_plus_only = _gate(lambda c: c.is_plus, "annotation requires NGINX Plus")
_app_protect_only = _gate(lambda c: c.app_protect, "annotation requires AppProtect")
_app_protect_dos_only = _gate(lambda c: c.app_protect_dos, "annotation requires AppProtectDos")
_internal_routes_only = _gate(lambda c: c.internal_routes, "annotation requires Internal Routes enabled")
_snippets = _gate(lambda c: c.snippets, "snippet specified but snippets feature is not enabled")


def _parsed(parse: Callable[[str], object], detail: str) -> _Validator:
    def validate(c: _Context) -> list[str]:
        try:
            parse(c.value)
        except ValueError:
            return [_invalid(c.path, c.value, detail)]
        return []

    return validate


_bool = _parsed(parse_bool, "must be a boolean")
_time = _parsed(parse_time, "must be a time")
_offset = _parsed(parse_offset, "must be an offset")
_uint64 = _parsed(lambda v: _go_int(v, bits=64, signed=False), "must be a non-negative integer")
_int64 = _parsed(lambda v: _go_int(v, bits=64, signed=True), "must be an integer")
_int = _parsed(lambda v: _go_int(v, bits=64, signed=True), "must be an integer")


def _size(c: _Context) -> list[str]:
    if c.value == "":
        return []
    try:
        parse_size(c.value)
    except ValueError:
        return [_invalid(c.path, c.value, regex_error(_SIZE_ERR, SIZE_FMT, "16", "32k", "64M"))]
    return []


def _parse_proxy_buffers(value: str) -> str:
    value = value.strip()
    if _PROXY_BUFFERS_RE.fullmatch(value):
        return value
    match = _PROXY_BUFFERS_ANY_UNIT_RE.fullmatch(value)
    if match and match.group(3).lower() in ("", "k", "m"):
        return f"{match.group(1)} {match.group(2)}{match.group(3).lower()}"
    raise ValueError("invalid proxy buffers string")


_proxy_buffers = _parsed(_parse_proxy_buffers, "must be a proxy buffer spec")


def _parse_port_list(value: str) -> list[int]:
    ports = [_go_int(part, bits=32, signed=True) for part in value.split(",")]
    if any(port <= 0 for port in ports):
        raise ValueError("port number should be greater than zero")
    return ports


_port_list = _parsed(_parse_port_list, "must be a comma-separated list of port numbers")


def _service_list(c: _Context) -> list[str]:
    # Upstream walks a Go map: with several unknown services their order is random.
    unknown = [s for s in parse_service_list(c.value) if s not in c.spec_services]
    if unknown:
        detail = "must be a comma-separated list of services. The following services were not found: " + ",".join(
            unknown
        )
        return [_invalid(c.path, c.value, detail)]
    return []


def _mergeable_type(c: _Context) -> list[str]:
    if c.value not in ("master", "minion"):
        return [_invalid(c.path, c.value, "must be one of: 'master' or 'minion'")]
    return []


def _server_tokens(c: _Context) -> list[str]:
    if not c.is_plus:
        try:
            parse_bool(c.value)
        except ValueError:
            return [_invalid(c.path, c.value, "must be a boolean")]
    if not _ANNOTATION_VALUE_RE.fullmatch(c.value):
        return [_invalid(c.path, c.value, _ANNOTATION_VALUE_ERR)]
    return []


def _related(name: str, check: Callable[[str], None]) -> _Validator:
    def validate(c: _Context) -> list[str]:
        if name not in c.annotations:
            return [_forbidden(c.path, f"related annotation {name}: must be set")]
        try:
            check(c.annotations[name])
        except ValueError as e:
            return [_forbidden(c.path, f"related annotation {name}: {e}")]
        return []

    return validate


def _is_bool(value: str) -> None:
    try:
        parse_bool(value)
    except ValueError:
        # Go prints the strconv error of ParseBool.
        raise ValueError(f"strconv.ParseBool: parsing {go_quote(value)}: invalid syntax") from None


def _is_true(value: str) -> None:
    _is_bool(value)
    if not parse_bool(value):
        raise ValueError("must be true")


def _noop(_: str) -> None:
    return None


def _dns_subdomain(c: _Context) -> list[str]:
    return [_invalid(c.path, c.value, msg) for msg in is_dns1123_subdomain(c.value)]


def _realm(c: _Context) -> list[str]:
    if not _ANNOTATION_VALUE_RE.fullmatch(c.value):
        return [_invalid(c.path, c.value, _REALM_ERR)]
    return []


def _jwt_realm(c: _Context) -> list[str]:
    if not _ANNOTATION_VALUE_RE.fullmatch(c.value):
        msg = regex_error(_ANNOTATION_VALUE_ERR, ANNOTATION_VALUE_FMT, "My Realm", "Cafe App")
        return [_invalid(c.path, c.value, msg)]
    return []


def _jwt_token(c: _Context) -> list[str]:
    if not re.fullmatch(_JWT_TOKEN_FMT, c.value):
        return [
            _invalid(c.path, c.value, regex_error(_JWT_TOKEN_ERR, _JWT_TOKEN_FMT, "$http_token", "$cookie_auth_token"))
        ]
    return []


def _limit_req_key(c: _Context) -> list[str]:
    if not re.fullmatch(_LIMIT_REQ_KEY_FMT, c.value):
        msg = regex_error(
            "must consist of one or more NGINX variable references ($varname or ${varname}); "
            "must not contain ';', '\"', '\\', or newline characters",
            _LIMIT_REQ_KEY_FMT,
            "$binary_remote_addr",
            "${request_uri}",
        )
        return [_invalid(c.path, c.value, msg)]
    return []


def _http_headers(c: _Context) -> list[str]:
    errs = []
    for header in c.value.split(","):
        header = header.strip()
        if not re.fullmatch(_HTTP_HEADER_FMT, header):
            msg = regex_error(
                "a valid HTTP header must consist of alphanumeric characters or '-'", _HTTP_HEADER_FMT, "X-Header-Name"
            )
            errs.append(_invalid(c.path, header, msg))
    return errs


def _add_header_inherit(c: _Context) -> list[str]:
    if c.value.strip().lower() not in ("on", "off", "merge"):
        return [_invalid(c.path, c.value, "must be one of: 'on', 'off' or 'merge'")]
    return []


def _proxy_next_upstream(c: _Context) -> list[str]:
    allowed = _NEXT_UPSTREAM | ({"denied"} if c.is_plus else set())
    errs, seen = [], set()
    for method in c.value.split():
        if method in seen:
            errs.append(_invalid(c.path, c.value, f"duplicate value: {method}"))
            continue
        if method not in allowed:
            options = ", ".join(sorted(allowed))
            errs.append(
                _invalid(c.path, c.value, f"must be a space-separated list with any of the following values: {options}")
            )
        seen.add(method)
    return errs


def _path_regex(c: _Context) -> list[str]:
    if c.value not in ("case_sensitive", "case_insensitive", "exact"):
        return [_invalid(c.path, c.value, "allowed values: 'case_sensitive', 'case_insensitive' or 'exact'")]
    return []


def _hostless_forbidden(c: _Context) -> list[str]:
    return [_forbidden(c.path, "annotation is not supported for hostless Ingress")] if c.hostless else []


def _not_ported(c: _Context) -> list[str]:
    raise NotPortedError(f"the F5 NGINX validator of {c.name} is not ported")


_HSTS_RELATED = _related("nginx.org/hsts", _is_bool)

# `annotationValidations` at v5.5.4: each annotation's validators, run in order until one fails.
ANNOTATION_VALIDATIONS: dict[str, list[_Validator]] = {
    MERGEABLE_TYPE: [_required_v, _mergeable_type],
    "nginx.org/lb-method": [_required_v, _not_ported],
    "nginx.com/health-checks": [_plus_only, _required_v, _bool],
    "nginx.com/health-checks-mandatory": [
        _plus_only,
        _related("nginx.com/health-checks", _is_true),
        _required_v,
        _bool,
    ],
    "nginx.com/health-checks-mandatory-queue": [
        _plus_only,
        _related("nginx.com/health-checks-mandatory", _is_true),
        _required_v,
        _uint64,
    ],
    "nginx.com/slow-start": [_plus_only, _required_v, _time],
    "nginx.org/server-tokens": [_server_tokens],
    "nginx.org/server-snippets": [_snippets],
    "nginx.org/location-snippets": [_snippets],
    "nginx.org/add-header-inherit": [_required_v, _add_header_inherit],
    "nginx.org/proxy-connect-timeout": [_required_v, _time],
    "nginx.org/proxy-read-timeout": [_required_v, _time],
    "nginx.org/proxy-send-timeout": [_required_v, _time],
    "nginx.org/proxy-hide-headers": [_http_headers],
    "nginx.org/proxy-pass-headers": [_http_headers],
    "nginx.org/proxy-set-headers": [_required_v, _not_ported],
    "nginx.org/add-header": [_required_v, _not_ported],
    "nginx.org/client-max-body-size": [_required_v, _offset],
    "nginx.org/client-body-buffer-size": [_required_v, _size],
    "nginx.org/redirect-to-https": [_required_v, _bool],
    "ingress.kubernetes.io/ssl-redirect": [_required_v, _bool],
    "nginx.org/ssl-redirect": [_required_v, _bool],
    "nginx.org/proxy-buffering": [_required_v, _bool],
    "nginx.org/hsts": [_required_v, _bool],
    "nginx.org/hsts-max-age": [_HSTS_RELATED, _required_v, _int64],
    "nginx.org/hsts-include-subdomains": [_HSTS_RELATED, _required_v, _bool],
    "nginx.org/hsts-behind-proxy": [_HSTS_RELATED, _required_v, _bool],
    "nginx.org/proxy-buffers": [_required_v, _proxy_buffers],
    "nginx.org/proxy-buffer-size": [_required_v, _size],
    "nginx.org/proxy-busy-buffers-size": [_size],
    "nginx.org/proxy-max-temp-file-size": [_required_v, _size],
    "nginx.org/proxy-next-upstream": [_required_v, _proxy_next_upstream],
    "nginx.org/proxy-next-upstream-timeout": [_required_v, _time],
    "nginx.org/proxy-next-upstream-tries": [_required_v, _uint64],
    "nginx.org/upstream-zone-size": [_required_v, _size],
    "nginx.org/basic-auth-secret": [_required_v, _dns_subdomain],
    "nginx.org/basic-auth-realm": [_related("nginx.org/basic-auth-secret", _noop), _realm],
    "nginx.com/jwt-realm": [_plus_only, _required_v, _jwt_realm],
    "nginx.com/jwt-key": [_plus_only, _required_v, _dns_subdomain],
    "nginx.com/jwt-token": [_plus_only, _jwt_token],
    "nginx.com/jwt-login-url": [_plus_only, _not_ported],
    "nginx.org/listen-ports": [_hostless_forbidden, _required_v, _port_list],
    "nginx.org/listen-ports-ssl": [_hostless_forbidden, _required_v, _port_list],
    "nginx.org/keepalive": [_required_v, _int],
    "nginx.org/max-fails": [_required_v, _uint64],
    "nginx.org/max-conns": [_required_v, _uint64],
    "nginx.org/fail-timeout": [_required_v, _time],
    "nginx.org/limit-req-key": [_required_v, _limit_req_key],
    "appprotect.f5.com/app-protect-enable": [_app_protect_only, _plus_only, _required_v, _bool],
    "appprotect.f5.com/app-protect-security-log-enable": [_app_protect_only, _plus_only, _required_v, _bool],
    "appprotect.f5.com/app-protect-policy": [_app_protect_only, _plus_only, _required_v, _not_ported],
    "appprotect.f5.com/app-protect-security-log": [_app_protect_only, _plus_only, _required_v, _not_ported],
    "appprotect.f5.com/app-protect-security-log-destination": [
        _app_protect_only,
        _plus_only,
        _required_v,
        _not_ported,
    ],
    "appprotectdos.f5.com/app-protect-dos-resource": [_app_protect_dos_only, _plus_only, _not_ported],
    "nsm.nginx.com/internal-route": [_internal_routes_only, _required_v, _bool],
    "nginx.org/websocket-services": [_required_v, _service_list],
    "nginx.org/ssl-services": [_required_v, _service_list],
    "nginx.org/grpc-services": [_required_v, _service_list],
    "nginx.org/rewrites": [_required_v, _not_ported],
    "nginx.org/rewrite-target": [_required_v, _not_ported],
    "nginx.org/sticky-cookie-services": [_required_v, _not_ported],
    "nginx.com/sticky-cookie-services": [_plus_only, _required_v, _not_ported],
    "nginx.org/path-regex": [_path_regex],
    "nginx.org/use-cluster-ip": [_bool],
    "nginx.org/http-redirect-code": [_required_v, _not_ported],
    "nginx.org/app-root": [_not_ported],
    PROXY_REDIRECT_FROM: [_required_v, _not_ported],
    PROXY_REDIRECT_TO: [_required_v, _not_ported],
    "nginx.org/policies": [_required_v, _not_ported],
    "nginx.com/policies": [_plus_only, _required_v, _not_ported],
}


# --- the Ingress -------------------------------------------------------------------------------


def _rules(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list(spec.get("rules") or [])


def _paths(rule: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    http = rule.get("http")
    if http is None:
        return None
    return list(http.get("paths") or [])


def spec_services(spec: Mapping[str, Any]) -> frozenset[str]:
    """`getSpecServices`: the Services the default backend and every path point at."""
    names = set()
    default = spec.get("defaultBackend") or {}
    if default.get("service"):
        names.add(default["service"].get("name", ""))
    for rule in _rules(spec):
        for path in _paths(rule) or []:
            service = (path.get("backend") or {}).get("service")
            if service:
                names.add(service.get("name", ""))
    return frozenset(names)


def _validate_backend(backend: Mapping[str, Any], path: str) -> list[str]:
    if backend.get("resource") is not None:
        return [_forbidden(f"{path}.resource", "resource backends are not supported")]
    if backend.get("service") is None:
        return [_required(f"{path}.service", "service backend must be specified")]
    return []


def validate_path(value: str, path_type: str | None, path: str = "path") -> list[str]:
    """`validatePath`: errors for one Ingress path (`path` names the field in messages)."""
    if value == "" and path_type == "ImplementationSpecific":
        return []
    if value == "":
        return [_required(path, "path is required for Exact and Prefix PathTypes")]
    if value.startswith("//"):
        return [_invalid(path, value, "protocol-relative URIs not allowed, must not start with '//'")]
    if ".." in re.split(r"[/\\]", value):
        return [_invalid(path, value, "path traversal not allowed, path must not contain '..' segments")]
    if not _PATH_RE.fullmatch(value):
        return [_invalid(path, value, regex_error(_PATH_ERR, _PATH_FMT, "/", "/path", "/path/subpath-123"))]
    errs: list[str] = []
    try:
        re.compile(value)  # upstream compiles with regexp2 (.NET syntax); Python's re is close
    except re.error as e:
        errs.append(_invalid(path, value, f"must be a valid regular expression: {e}"))
    else:
        if not re.fullmatch(_ESCAPED_FMT, value):
            errs.append(
                _invalid(path, value, regex_error(_ESCAPED_ERR, _ESCAPED_FMT, "*.jpg", "^/images/image_*.png$"))
            )
    for inside in re.findall(r"\{(.*?)\}", value):
        if re.search("[A-Za-z]", inside):
            errs.append(_invalid(path, value, "must not include curly braces containing alphabetical characters"))
            break
    if _ILLEGAL_KEYWORD_RE.search(value):
        errs.append(_invalid(path, value, "must not contain invalid paths"))
    return errs


def _validate_spec(spec: Mapping[str, Any], allow_empty_host: bool) -> list[str]:
    errs: list[str] = []
    if spec.get("defaultBackend") is not None:
        errs += _validate_backend(spec["defaultBackend"], "spec.defaultBackend")
    rules = _rules(spec)
    if not rules:
        return [*errs, _required("spec.rules")]
    hosts: set[str] = set()
    has_empty = False
    for i, rule in enumerate(rules):
        host = rule.get("host") or ""
        host_path = f"spec.rules[{i}].host"
        if host == "":
            if not allow_empty_host:
                errs.append(_required(host_path))
            elif has_empty:
                errs.append(_duplicate(host_path, ""))
            else:
                has_empty = True
        elif host in hosts:
            errs.append(_duplicate(host_path, host))
        else:
            hosts.add(host)
        for j, entry in enumerate(_paths(rule) or []):
            base = f"spec.rules[{i}].http.paths[{j}]"
            errs += validate_path(entry.get("path") or "", entry.get("pathType"), f"{base}.path")
            errs += _validate_backend(entry.get("backend") or {}, f"{base}.backend")
    return errs


def _validate_master(spec: Mapping[str, Any]) -> list[str]:
    rules = _rules(spec)
    if len(rules) != 1:
        return [_too_many("spec.rules", len(rules), 1)]
    paths = _paths(rules[0])
    if paths:
        return [_too_many("spec.rules[0].http.paths", len(paths), 0)]
    return []


def _validate_minion(spec: Mapping[str, Any]) -> list[str]:
    errs: list[str] = []
    tls = list(spec.get("tls") or [])
    if tls:
        errs.append(_too_many("spec.tls", len(tls), 0))
    rules = _rules(spec)
    if len(rules) != 1:
        return [*errs, _too_many("spec.rules", len(rules), 1)]
    if not _paths(rules[0]):
        return [*errs, _required("spec.rules[0].http.paths", "must include at least one path")]
    return errs


def _validate_challenge(spec: Mapping[str, Any]) -> list[str]:
    rules = _rules(spec)
    if len(rules) != 1:
        return [_forbidden("spec.rules", "challenge Ingress must have exactly 1 rule defined")]
    paths = _paths(rules[0]) or []
    if len(paths) != 1:
        return [_forbidden("spec.rules.HTTP.Paths", "challenge Ingress must have exactly 1 path defined")]
    service = (paths[0].get("backend") or {}).get("service")
    if service is None:
        return [
            _required(
                "spec.rules.HTTP.Paths[0].Backend.Service", "challenge Ingress must have a Backend Service defined"
            )
        ]
    if (service.get("port") or {}).get("name"):
        return [
            _forbidden(
                "spec.rules.HTTP.Paths[0].Backend.Service.Port.Name",
                "challenge Ingress must have a Backend Service Port Number defined, not Name",
            )
        ]
    return []


def _validate_proxy_redirect_pair(annotations: Mapping[str, str]) -> list[str]:
    has_from, has_to = PROXY_REDIRECT_FROM in annotations, PROXY_REDIRECT_TO in annotations
    source = annotations.get(PROXY_REDIRECT_FROM, "")
    if has_to and not has_from:
        return [
            _invalid(
                f"annotations.{PROXY_REDIRECT_TO}",
                "",
                f"{PROXY_REDIRECT_TO} requires {PROXY_REDIRECT_FROM} to also be set",
            )
        ]
    if has_from and source in ("off", "default") and has_to:
        return [
            _invalid(
                f"annotations.{PROXY_REDIRECT_TO}",
                "",
                f"{PROXY_REDIRECT_TO} cannot be set when {PROXY_REDIRECT_FROM} is {go_quote(source)}",
            )
        ]
    if has_from and source not in ("off", "default") and not has_to:
        return [
            _invalid(
                f"annotations.{PROXY_REDIRECT_FROM}",
                source,
                f"{PROXY_REDIRECT_FROM} with a URL or regex value requires {PROXY_REDIRECT_TO} to also be set",
            )
        ]
    return []


def validate_annotations(
    annotations: Mapping[str, str],
    services: Sequence[str] | frozenset[str],
    *,
    snippets_enabled: bool = False,
    is_plus: bool = False,
    app_protect_enabled: bool = False,
    app_protect_dos_enabled: bool = False,
    internal_routes_enabled: bool = False,
    hostless: bool = False,
) -> list[str]:
    """`validateIngressAnnotations`: errors for the annotations in the table, by name order."""
    errs: list[str] = []
    for name in sorted(ANNOTATION_VALIDATIONS):
        if name not in annotations:
            continue
        context = _Context(
            annotations=annotations,
            spec_services=frozenset(services),
            name=name,
            value=annotations[name],
            path=f"annotations.{name}",
            hostless=hostless,
            is_plus=is_plus,
            app_protect=app_protect_enabled,
            app_protect_dos=app_protect_dos_enabled,
            internal_routes=internal_routes_enabled,
            snippets=snippets_enabled,
        )
        for validator in ANNOTATION_VALIDATIONS[name]:
            found = validator(context)
            if found:
                errs += found
                break
    return errs


def validate_ingress(
    ingress: Mapping[str, Any],
    *,
    snippets_enabled: bool = False,
    is_plus: bool = False,
    app_protect_enabled: bool = False,
    app_protect_dos_enabled: bool = False,
    internal_routes_enabled: bool = False,
    allow_empty_host: bool = False,
) -> list[str]:
    """Errors the controller reports for a `networking.k8s.io/v1` Ingress; [] means accepted.

    Defaults are the chart 2.6.4 defaults (`controller.enableSnippets: false`,
    `controller.allowEmptyIngressHost: false`, NGINX OSS, no App Protect, no internal routes).
    Any error makes the controller drop the whole Ingress. Raises `NotPortedError` for an
    annotation whose upstream validator this port does not reproduce.
    """
    metadata = ingress.get("metadata") or {}
    annotations: Mapping[str, str] = metadata.get("annotations") or {}
    labels: Mapping[str, str] = metadata.get("labels") or {}
    spec: Mapping[str, Any] = ingress.get("spec") or {}
    hostless = allow_empty_host and any((rule.get("host") or "") == "" for rule in _rules(spec))
    errs = validate_annotations(
        annotations,
        spec_services(spec),
        snippets_enabled=snippets_enabled,
        is_plus=is_plus,
        app_protect_enabled=app_protect_enabled,
        app_protect_dos_enabled=app_protect_dos_enabled,
        internal_routes_enabled=internal_routes_enabled,
        hostless=hostless,
    )
    errs += _validate_proxy_redirect_pair(annotations)
    errs += _validate_spec(spec, allow_empty_host)
    if hostless:
        for i, tls in enumerate(spec.get("tls") or []):
            for j, host in enumerate(tls.get("hosts") or []):
                if host == "":
                    errs.append(
                        _forbidden(
                            f"spec.tls[{i}].hosts[{j}]",
                            "empty host is not allowed in tls.hosts; TLS for the default catch-all server is "
                            "configured via the -default-server-tls-secret CLI flag",
                        )
                    )
    kind = annotations.get(MERGEABLE_TYPE)
    if kind == "master":
        errs += _validate_master(spec)
    elif kind == "minion":
        errs += _validate_minion(spec)
    if labels.get(CHALLENGE_LABEL) == "true":
        errs += _validate_challenge(spec)
    return errs
