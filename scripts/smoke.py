"""The smoke test `make up` runs after a successful `pulumi up` (and `make smoke STACK=...` alone).

Standard library only, like scripts/up.py, which reads the stack's outputs and configuration
through the Pulumi CLI and calls `run`. What it proves, against the deployed hosts:

1. BinderHub answers `<binder_url>health` with `{"ok": true, "checks": [...]}`, every check
   passing (binderhub/health.py: HealthHandler.get answers 503 when one fails). Until then it
   waits, saying why: DNS not pointing at the `ingress_address` output, no certificate served
   yet (the ingress controller refuses the handshake) or one not issued yet, the ingress not
   routing the host, a 5xx. With `binderhub:tls.server: staging`, Let's Encrypt staging
   certificates are accepted as StagingTrust says.
2. On an anonymous hub (`binderhub:auth.type` none): BinderHub builds and launches
   `binderhub:smoke.repository` through its build API, `GET <binder_url>build/<provider>/<spec>`
   with `Accept: text/event-stream` (binderhub/builder.py: BuildHandler). The answer is an event
   stream: `data: <json>` events, `:keepalive` comment lines every 25 s; each event has a
   `phase` (waiting, fetching, building, pushing, built, launching, ready, failed) and a
   `message`; `ready` carries the server's `url` and `token`, `failed` ends the build. Then the
   server answers `GET <url>api/status` with `Authorization: token <token>` (the token BinderHub
   generated and the server was started with: binderhub/launcher.py, binderspawner_mixin.py
   `--ServerApp.token`), and is stopped with `POST <url>api/shutdown` (Jupyter Server's
   ShutdownHandler): the stream's token is the server's own, not a hub API token, so the hub's
   `DELETE /hub/api/users/<name>/server` would refuse it; the hub notices the stopped server.
3. On a hub with login: `<hub_url>hub/health` answers 200, `<hub_url>hub/api` gives the hub's
   version, and `<hub_url>hub/oauth_login` redirects to the configured provider's authorization
   endpoint (github.com/login/oauth/authorize, or `auth.authorizeUrl`) with this hub's
   `client_id` and `redirect_uri` = the `oauth_callback_url` output.

Every wait is bounded by `smoke.phaseTimeout` (seconds per phase: reaching a host, each build
phase, the server) and the whole by `smoke.timeout`. A phase's clock starts when it starts, so
keepalives do not keep a stalled build alive. The last line is one summary; `run` returns the
exit code (0 passed, 1 failed) and, on failure, the README troubleshooting entries to read.
Values Pulumi lists as secrets are read through a `pulumi` runner with --show-secrets (`revealed`).
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

# binderhub:smoke's defaults (config/model.py SmokeConfig; tests/test_smoke.py keeps them equal).
DEFAULT_REPOSITORY = "gh/binderhub-ci-repos/cached-minimal-dockerfile/HEAD"
DEFAULT_TIMEOUT = 1200
DEFAULT_PHASE_TIMEOUT = 600
# Where each OAuthenticator sends a login (oauthenticator's GitHubOAuthenticator.authorize_url
# default; the generic one takes auth.authorizeUrl).
GITHUB_AUTHORIZE_URL = "https://github.com/login/oauth/authorize"
# Seconds between two tries of a host that is not ready yet.
POLL_INTERVAL = 5.0
# Seconds one connection attempt (and one plain request's answer) may take before it counts as a
# failed try. The build API's answer may take the whole phase (see build_and_launch).
CONNECT_TIMEOUT = 10.0
# What the issuer of a Let's Encrypt staging certificate says (its intermediates are named
# "(STAGING) Artificial Apricot R3", "(STAGING) Ersatz Edamame E1", ...; O "(STAGING) Let's Encrypt").
STAGING_MARK = "(STAGING)"
# What `pulumi stack output --json` prints for an output holding a secret.
SECRET_OUTPUT = "[secret]"
# The stack's configuration keys and outputs the smoke test reads (see `revealed`).
CONFIG_KEYS = ("binderhub:smoke", "binderhub:auth", "binderhub:tls")
OUTPUT_KEYS = ("binder_url", "hub_url", "ingress_address", "oauth_callback_url")
# Build events that end a build as failed: BinderHub's own `failed`, and repo2docker's `failure`,
# which BinderHub passes on as it comes (binderhub/builder.py counts both as a failed build).
FAILED_PHASES = ("failed", "failure")

# README.md "Troubleshooting" entries (their bold titles) a failure points to.
T_RUNNING = "Is everything running?"
T_HUB_LOGS = "Hub logs"
T_BINDER_LOGS = "BinderHub logs"
T_BUILD = "A build"
T_ADDRESS = "The ingress address"
T_DNS = "DNS"
T_CERTIFICATES = "Certificates"
T_LOGIN = "Login fails with a redirect error"
T_LAUNCH = "A launch fails or stalls"
TROUBLESHOOTING = (T_RUNNING, T_HUB_LOGS, T_BINDER_LOGS, T_BUILD, T_ADDRESS, T_DNS, T_CERTIFICATES, T_LOGIN, T_LAUNCH)


class Output(Protocol):
    """Where the smoke test prints: a text stream (sys.stdout, io.StringIO, up.py's scrubbed one)."""

    def write(self, text: str, /) -> int: ...

    def flush(self) -> None: ...


class SmokeError(Exception):
    """The smoke test failed: `str()` says what in one line; `details` (lines, printed before the
    summary) what led to it; `troubleshooting` names README entries to read."""

    def __init__(self, message: str, troubleshooting: tuple[str, ...] = (), details: str = "") -> None:
        super().__init__(message)
        self.troubleshooting = troubleshooting
        self.details = details


class SmokeConfigError(Exception):
    """The stack's outputs or configuration cannot drive a smoke test (a missing output, a secret)."""


# Runs `pulumi <args>` on the stack and returns what it printed on stdout; SmokeConfigError when
# it fails. `pulumi_cli` is the real one; the tests put a fake `pulumi` on PATH.
PulumiRun = Callable[[list[str]], str]


def pulumi_cli(stack: str, env: Mapping[str, str] | None = None, cwd: str | None = None) -> PulumiRun:
    """`pulumi <args> --stack <stack>` with `env` (up.py's, which chose the backend), stdout
    captured and never printed (it may hold revealed secrets), no stdin (it fails, never prompts)."""

    def run(args: list[str]) -> str:
        result = subprocess.run(
            ["pulumi", *args, "--stack", stack],
            env=dict(env) if env is not None else None,
            cwd=cwd,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        if result.returncode != 0:
            raise SmokeConfigError(f"`pulumi {' '.join(args)} --stack {stack}` failed: {result.stderr.strip()}")
        return result.stdout

    return run


def _hidden_config(config: Mapping[str, Mapping[str, object]]) -> list[str]:
    """The keys the smoke test reads that `pulumi config --json` lists as a secret without a value
    ({"secret": true}: the key, or a map holding a secret value, was set with --secret)."""
    return [
        key for key in CONFIG_KEYS if (entry := config.get(key)) and entry.get("secret") and "objectValue" not in entry
    ]


def _hidden_outputs(outputs: Mapping[str, object]) -> list[str]:
    """The outputs the smoke test reads that `pulumi stack output --json` shows as "[secret]" (an
    output holding a secret value is marked secret as a whole)."""
    return [key for key in OUTPUT_KEYS if outputs.get(key) == SECRET_OUTPUT]


def revealed(
    outputs: Mapping[str, object], config: Mapping[str, Mapping[str, object]], pulumi: PulumiRun | None
) -> tuple[dict[str, object], dict[str, Mapping[str, object]]]:
    """`outputs` and `config` with the values the smoke test reads that Pulumi listed as secrets
    replaced by their plaintext, read with `--show-secrets` through `pulumi` and kept in memory:
    only the keys in CONFIG_KEYS and OUTPUT_KEYS are taken from that listing (never an OAuth
    client secret, say), and the smoke test prints none of them but URLs, the client id and the
    address. Without `pulumi` (or when nothing is hidden) they are returned as given; a hidden
    value then fails in `target_from` naming the cause."""
    outputs, config = dict(outputs), dict(config)
    if pulumi is None:
        return outputs, config
    if hidden := _hidden_config(config):
        listing = _json_object(pulumi(["config", "--json", "--show-secrets"]), "pulumi config --json --show-secrets")
        for key in hidden:
            entry = listing.get(key)
            if isinstance(entry, dict):
                config[key] = entry
    if hidden := _hidden_outputs(outputs):
        listing = _json_object(
            pulumi(["stack", "output", "--json", "--show-secrets"]), "pulumi stack output --json --show-secrets"
        )
        for key in hidden:
            outputs[key] = listing.get(key)
    return outputs, config


def _json_object(text: str, command: str) -> dict[str, Any]:
    """A JSON object Pulumi printed; SmokeConfigError (not quoting the text: it holds secrets) else."""
    try:
        value = json.loads(text or "{}")
    except ValueError as error:
        raise SmokeConfigError(f"`{command}` printed no JSON ({type(error).__name__})") from None
    if not isinstance(value, dict):
        raise SmokeConfigError(f"`{command}` printed no JSON object")
    return value


@dataclass(frozen=True)
class Settings:
    """binderhub:smoke. `timeout` and `phase_timeout` in seconds (floats, so tests can use small ones)."""

    enabled: bool = True
    repository: str = DEFAULT_REPOSITORY
    timeout: float = DEFAULT_TIMEOUT
    phase_timeout: float = DEFAULT_PHASE_TIMEOUT


@dataclass(frozen=True)
class Target:
    """What is checked: the stack's outputs (URLs end with '/') and its login settings."""

    binder_url: str
    hub_url: str
    ingress_address: str | None = None
    auth_type: str = "none"  # none | github | generic (binderhub:auth.type)
    client_id: str | None = None
    authorize_url: str | None = None  # generic: auth.authorizeUrl
    callback_url: str | None = None  # the oauth_callback_url output
    tls_staging: bool = False  # binderhub:tls.server is staging: see StagingTrust


def _object(config: Mapping[str, Mapping[str, object]], key: str) -> dict[str, object]:
    """An object-valued key of `pulumi config --json` ({"objectValue": {...}}), {} when unset."""
    entry = config.get(key)
    if entry is None:
        return {}
    value = entry.get("objectValue")
    if entry.get("secret") and value is None:
        raise SmokeConfigError(
            f"{key} is stored as a secret and was not read with --show-secrets: the smoke test needs its plain value"
        )
    if not isinstance(value, dict):
        raise SmokeConfigError(f"{key} is not an object in the stack's configuration")
    return value


def settings_from_config(config: Mapping[str, Mapping[str, object]]) -> Settings:
    """binderhub:smoke from `pulumi config --json`, with SmokeConfig's defaults. The program
    validates the ranges at `pulumi up`; here only the types, for `make smoke` on its own."""
    smoke = _object(config, "binderhub:smoke")
    enabled = smoke.get("enabled", True)
    repository = smoke.get("repository", DEFAULT_REPOSITORY)
    timeout = smoke.get("timeout", DEFAULT_TIMEOUT)
    phase_timeout = smoke.get("phaseTimeout", DEFAULT_PHASE_TIMEOUT)
    if not isinstance(enabled, bool):
        raise SmokeConfigError(f"binderhub:smoke.enabled must be true or false, not {enabled!r}")
    if not isinstance(repository, str) or "/" not in repository or any(c.isspace() for c in repository):
        raise SmokeConfigError(
            f"binderhub:smoke.repository must be a BinderHub spec <provider>/<spec>, not {repository!r}"
        )
    for name, value in (("timeout", timeout), ("phaseTimeout", phase_timeout)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise SmokeConfigError(f"binderhub:smoke.{name} must be a number of seconds, not {value!r}")
    assert isinstance(timeout, int) and isinstance(phase_timeout, int)
    return Settings(enabled, repository, float(timeout), float(phase_timeout))


def target_from(outputs: Mapping[str, object], config: Mapping[str, Mapping[str, object]]) -> Target:
    """The Target from `pulumi stack output --json` and `pulumi config --json`."""

    def url(name: str) -> str:
        value = outputs.get(name)
        if value == SECRET_OUTPUT:
            raise SmokeConfigError(
                f"the stack's {name} output is a secret (`pulumi stack output --json` shows {SECRET_OUTPUT}): "
                "`make smoke` reads it with --show-secrets; run on its own, the smoke test cannot"
            )
        if not isinstance(value, str) or not value.startswith(("http://", "https://")):
            raise SmokeConfigError(f"the stack has no {name} output (is it deployed? `pulumi stack output` lists them)")
        try:
            _port(urllib.parse.urlsplit(value))
        except SmokeError as problem:
            raise SmokeConfigError(f"the stack's {name} output: {problem}") from None
        return value if value.endswith("/") else value + "/"

    auth = _object(config, "binderhub:auth")
    auth_type = auth.get("type", "none")
    if auth_type not in ("none", "github", "generic"):
        raise SmokeConfigError(f"binderhub:auth.type {auth_type!r} is none of none, github, generic")
    address = outputs.get("ingress_address")
    callback = outputs.get("oauth_callback_url")
    client_id = auth.get("clientId")
    authorize_url = auth.get("authorizeUrl")
    binder_url, hub_url = url("binder_url"), url("hub_url")
    for name, value in (("ingress_address", address), ("oauth_callback_url", callback)):
        if value == SECRET_OUTPUT:
            raise SmokeConfigError(
                f"the stack's {name} output is a secret (`pulumi stack output --json` shows {SECRET_OUTPUT}): "
                "`make smoke` reads it with --show-secrets; run on its own, the smoke test cannot"
            )
    tls = _object(config, "binderhub:tls")
    return Target(
        binder_url=binder_url,
        hub_url=hub_url,
        ingress_address=address if isinstance(address, str) and address else None,
        auth_type=str(auth_type),
        client_id=client_id if isinstance(client_id, str) else None,
        authorize_url=authorize_url if isinstance(authorize_url, str) else None,
        # the hub's callback (components/values/hosts.py Hosts.oauth_callback_url)
        callback_url=callback if isinstance(callback, str) else f"{hub_url}hub/oauth_callback",
        tls_staging=tls.get("server") == "staging",
    )


def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses as this machine resolves them (socket.gaierror when it does not)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _port(parts: urllib.parse.SplitResult) -> int:
    """The URL's port, its scheme's default when it names none; SmokeError for one that is no
    port (urllib raises ValueError for `:99999` or `:http`)."""
    try:
        port = parts.port
    except ValueError as error:
        raise SmokeError(f"{urllib.parse.urlunsplit(parts)} has no usable port ({error})", (T_BINDER_LOGS,)) from None
    return port or (443 if parts.scheme == "https" else 80)


def normalised(url: str) -> str:
    """A URL without query and fragment, compared as browsers do: scheme and host lowercase, a
    default port (80 for http, 443 for https) dropped, an empty path as "/" (RFC 3986 6.2.2-6.2.3).
    SmokeError for a port that is none."""
    parts = urllib.parse.urlsplit(url.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    port = _port(parts)
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port == {"http": 80, "https": 443}.get(scheme) else f"{host}:{port}"
    return urllib.parse.urlunsplit((scheme, netloc, parts.path or "/", "", ""))


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass
class Response:
    """An HTTP answer, its body read."""

    status: int
    reason: str
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8", "replace"))


def _connect_any(addresses: list[str], port: int, timeout: float | None) -> socket.socket:
    """A connection to the first of `addresses` that accepts one (as socket.create_connection
    tries each address a name resolves to); the last error when none does."""
    error: OSError = OSError(f"no address to connect to on port {port}")
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout)
        except OSError as problem:
            error = problem
    raise error


class _HTTPConnection(http.client.HTTPConnection):
    """Connects to addresses resolved beforehand (what the DNS check looks at), sending the URL's
    host in the Host header; keeps the socket so a stream's reads can get deadlines."""

    def __init__(self, host: str, port: int, addresses: list[str], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.addresses = addresses
        self.raw: socket.socket | None = None

    def connect(self) -> None:
        self.sock = self.raw = _connect_any(self.addresses, self.port, self.timeout)


class StagingTrust:
    """Certificates for `binderhub:tls.server: staging`, which no trust store holds: Let's Encrypt's
    staging roots are for testing and in no operating system's list.

    A connection is first verified as any other (`context`). When that fails on the chain, the
    certificate the server presented is fetched without verification and used as the only trust
    anchor of a second connection (OpenSSL's partial-chain flag): OpenSSL then checks the host name
    (SNI and subjectAltName) and the validity dates as usual, but not who signed it; this is
    accepted only when the certificate's issuer names itself "(STAGING)", as Let's Encrypt's staging
    intermediates do. Anything else fails with the first verification error. `accepted` records the
    hosts where this was needed, for the report."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self.context = context
        self.accepted: set[str] = set()

    def wrap(self, addresses: list[str], port: int, host: str, timeout: float | None) -> ssl.SSLSocket:
        sock = _connect_any(addresses, port, timeout)
        try:
            return self.context.wrap_socket(sock, server_hostname=host)
        except ssl.SSLCertVerificationError as error:
            sock.close()
            return self._staging(addresses, port, host, timeout, error)
        except BaseException:
            sock.close()
            raise

    def _staging(
        self, addresses: list[str], port: int, host: str, timeout: float | None, error: ssl.SSLCertVerificationError
    ) -> ssl.SSLSocket:
        unverified = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        unverified.check_hostname = False
        unverified.verify_mode = ssl.CERT_NONE
        with unverified.wrap_socket(_connect_any(addresses, port, timeout), server_hostname=host) as peek:
            presented = peek.getpeercert(binary_form=True)
        if not presented:
            raise error
        pinned = ssl.create_default_context(cadata=presented)
        pinned.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
        sock = _connect_any(addresses, port, timeout)
        try:
            secured = pinned.wrap_socket(sock, server_hostname=host)  # host name and dates checked here
        except BaseException:
            sock.close()
            raise
        issuer = [str(value) for rdn in (secured.getpeercert() or {}).get("issuer", ()) for _, value in rdn]
        if not any(STAGING_MARK in value for value in issuer):
            secured.close()
            raise error
        self.accepted.add(host)
        return secured


class _HTTPSConnection(http.client.HTTPSConnection):
    """As _HTTPConnection, over TLS: the certificate is checked against the URL's host (SNI), by
    `trust`'s context or, for a Let's Encrypt staging certificate, as StagingTrust says."""

    def __init__(
        self,
        host: str,
        port: int,
        addresses: list[str],
        timeout: float,
        context: ssl.SSLContext,
        staging: StagingTrust | None,
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self.addresses = addresses
        self.context = context
        self.staging = staging
        self.raw: socket.socket | None = None

    def connect(self) -> None:
        if self.staging is not None:
            self.sock = self.raw = self.staging.wrap(self.addresses, self.port, self.host, self.timeout)
            return
        sock = _connect_any(self.addresses, self.port, self.timeout)
        try:
            self.sock = self.raw = self.context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


class HandshakeRefusedError(ConnectionError):
    """The server ended the TLS handshake with an alert (ssl.SSLError other than a certificate
    verification failure) before any certificate could be checked; `reason` is OpenSSL's name
    for it (TLSV1_UNRECOGNIZED_NAME, ...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NoAnswerYetError(TimeoutError):
    """Connected, the request sent, but no answer (not even its headers) came within the time
    given: the service is busy or stuck, not unreachable."""


@dataclass
class Smoke:
    """One smoke test of `target`. `resolver`, `ssl_context`, `clock`, `sleep` and
    `poll_interval` are injectable so the tests run against a loopback server in a few seconds."""

    target: Target
    settings: Settings
    out: Output = field(default_factory=lambda: sys.stdout)
    resolver: Callable[[str, int], list[str]] = system_resolver
    ssl_context: ssl.SSLContext = field(default_factory=ssl.create_default_context)
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    poll_interval: float = POLL_INTERVAL
    started: float = 0.0
    staging: StagingTrust | None = None

    def __post_init__(self) -> None:
        if self.target.tls_staging:
            self.staging = StagingTrust(self.ssl_context)
        self._staging_said: set[str] = set()

    # ------------------------------------------------------------------ output and time

    def say(self, message: str) -> None:
        print(f"  [{self.clock() - self.started:7.1f}s] {message}", file=self.out, flush=True)

    def deadline(self, phase_start: float) -> float:
        return min(phase_start + self.settings.phase_timeout, self.started + self.settings.timeout)

    def timed_out(self, phase: str, phase_start: float) -> str:
        """Which limit ended `phase`: the phase's own or the whole test's."""
        if phase_start + self.settings.phase_timeout <= self.started + self.settings.timeout:
            return f"{phase} took longer than smoke.phaseTimeout ({self.settings.phase_timeout:g} s)"
        return f"the smoke test took longer than smoke.timeout ({self.settings.timeout:g} s) during {phase}"

    def try_timeout(self, phase_start: float) -> float:
        """Seconds one request may take: CONNECT_TIMEOUT, less when the phase ends sooner."""
        return max(0.01, min(CONNECT_TIMEOUT, self.deadline(phase_start) - self.clock()))

    # ------------------------------------------------------------------ HTTP

    def _addresses(self, host: str, port: int) -> list[str]:
        return [host] if _is_ip(host) else self.resolver(host, port)

    def open(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None = None,
        timeout: float = CONNECT_TIMEOUT,
        answer_timeout: float | None = None,
    ) -> tuple[_HTTPConnection | _HTTPSConnection, http.client.HTTPResponse]:
        """Send a request (no redirect is followed); the caller reads the answer and closes.
        `timeout` bounds connecting (and the TLS handshake); `answer_timeout` (default: `timeout`)
        how long the answer's headers may take once connected, NoAnswerYetError after it.
        Raises SmokeError (a URL with no usable port), socket.gaierror (DNS),
        ssl.SSLCertVerificationError, HandshakeRefusedError, NoAnswerYetError, OSError, http.client errors."""
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        port = _port(parts)
        addresses = self._addresses(host, port)
        connection: _HTTPConnection | _HTTPSConnection
        if parts.scheme == "https":
            connection = _HTTPSConnection(host, port, addresses, timeout, self.ssl_context, self.staging)
        else:
            connection = _HTTPConnection(host, port, addresses, timeout)
        path = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        try:
            try:
                connection.connect()
            except ssl.SSLCertVerificationError:
                raise
            except ssl.SSLError as error:  # only the handshake's: a later one is no refusal
                raise HandshakeRefusedError(getattr(error, "reason", None) or str(error)) from error
            self._note_staging(host)
            if connection.sock is not None and answer_timeout is not None:
                connection.sock.settimeout(answer_timeout)
            connection.request(method, path, headers={"User-Agent": "binderhub-smoke", **(headers or {})})
            try:
                return connection, connection.getresponse()
            except TimeoutError as error:
                waited = timeout if answer_timeout is None else answer_timeout
                raise NoAnswerYetError(
                    f"no answer yet from {host} (connected; nothing came back in {waited:g} s)"
                ) from error
        except BaseException:
            connection.close()
            raise

    def _note_staging(self, host: str) -> None:
        """Say once per host that its certificate was accepted as a Let's Encrypt staging one."""
        if self.staging is not None and host in self.staging.accepted and host not in self._staging_said:
            self._staging_said.add(host)
            self.say(
                f"note: {host} serves a Let's Encrypt staging certificate (binderhub:tls.server: staging): "
                "its host name and dates are checked, not its chain, which no browser trusts"
            )

    def fetch(
        self, method: str, url: str, headers: Mapping[str, str] | None = None, timeout: float = CONNECT_TIMEOUT
    ) -> Response:
        connection, response = self.open(method, url, headers, timeout)
        try:
            return Response(response.status, response.reason, response.headers, response.read())
        finally:
            connection.close()

    # ------------------------------------------------------------------ waiting for a host

    def dns_problem(self, url: str) -> str | None:
        """Why the URL's host may not reach the ingress: it does not resolve, or not to the
        `ingress_address` output; None when it does (or there is nothing to compare)."""
        parts = urllib.parse.urlsplit(url)
        host, port = parts.hostname or "", _port(parts)
        address = self.target.ingress_address
        if _is_ip(host):
            return None
        try:
            resolved = self.resolver(host, port)
        except OSError:
            # A load balancer known by name (AWS's) takes a CNAME record; an IP address an A record.
            record = "a CNAME record" if address and not _is_ip(address) else "an A record"
            where = f" pointing at {address}" if address else ""
            return f"DNS for {host} does not resolve yet (it needs {record}{where})"
        if not address:
            return None
        try:
            expected = [address] if _is_ip(address) else self.resolver(address, port)
        except OSError:
            return None  # the load balancer's own name not resolving: nothing to compare with
        if set(resolved) & set(expected):
            return None
        return f"DNS for {host} does not point at {address} (it resolves to {', '.join(resolved)})"

    def why_unreachable(self, url: str, error: BaseException) -> tuple[str, tuple[str, ...]]:
        """A failed try of `url`, in words, and the README entries that help."""
        host = urllib.parse.urlsplit(url).hostname or ""
        dns = self.dns_problem(url)
        if isinstance(error, socket.gaierror):
            return dns or f"DNS for {host} does not resolve: {error}", (T_DNS, T_ADDRESS)
        if isinstance(error, ssl.SSLCertVerificationError):
            if dns:
                return f"certificate not issued yet: {dns}", (T_DNS, T_CERTIFICATES)
            reason = error.verify_message or str(error)
            return f"certificate for {host} not issued yet or not valid ({reason})", (T_CERTIFICATES,)
        if isinstance(error, HandshakeRefusedError):
            # The handshake itself refused (an alert such as unrecognized_name): the F5 NGINX
            # Ingress Controller does so (ssl_reject_handshake) for a host whose Ingress names a
            # certificate Secret that does not exist yet, which is how a first `make up` with TLS
            # starts until cert-manager has one.
            reason = error.reason
            if dns:
                return f"no certificate served for {host} yet ({reason}): {dns}", (T_DNS, T_CERTIFICATES)
            return f"no certificate served for {host} yet (the TLS handshake was refused: {reason})", (T_CERTIFICATES,)
        if isinstance(error, NoAnswerYetError):
            return str(error), (T_RUNNING, T_BINDER_LOGS, T_HUB_LOGS)
        detail = getattr(error, "strerror", None) or str(error) or type(error).__name__
        message = f"cannot connect to {host}: {detail}"
        return (f"{message}; {dns}", (T_DNS, T_ADDRESS)) if dns else (message, (T_ADDRESS, T_RUNNING))

    def wait_for(self, phase: str, url: str, accept: Callable[[Response], str | None]) -> Response:
        """GET `url` until `accept` finds nothing wrong with the answer (it returns None, else why
        not), printing each new reason to wait; SmokeError with the last one when the phase's
        time is up."""
        start = self.clock()
        self.say(f"{phase}: GET {url}")
        last: tuple[str, tuple[str, ...]] | None = None
        while True:
            try:
                response = self.fetch("GET", url, timeout=self.try_timeout(start))
            except (OSError, http.client.HTTPException) as error:
                reason = self.why_unreachable(url, error)
            else:
                problem = accept(response)
                if problem is None:
                    return response
                reason = (problem, self.troubleshooting_for(response))
            if reason != last:
                self.say(f"waiting: {reason[0]}")
                last = reason
            if self.clock() + self.poll_interval >= self.deadline(start):
                raise SmokeError(f"{self.timed_out(phase, start)}: {reason[0]}", reason[1])
            self.sleep(self.poll_interval)

    @staticmethod
    def troubleshooting_for(response: Response) -> tuple[str, ...]:
        if response.status == 404:
            return (T_ADDRESS, T_RUNNING)  # the controller's default backend: the host is not routed
        return (T_RUNNING, T_BINDER_LOGS, T_HUB_LOGS)

    # ------------------------------------------------------------------ the checks

    def check_health(self) -> None:
        """BinderHub's /health: every check it reports passes (informational ones, which BinderHub
        marks `_ignore_failure` such as the pod quota, are printed but do not fail it)."""

        def accept(response: Response) -> str | None:
            try:
                health = response.json()
            except ValueError:
                health = None
            if not isinstance(health, dict) or not isinstance(health.get("checks"), list):
                return f"{response.status} {response.reason} from BinderHub's /health (no health report)"
            failing = [c for c in health["checks"] if isinstance(c, dict) and not c.get("ok")]
            counted = [c for c in failing if not c.get("_ignore_failure")]
            if counted or (failing and health.get("ok") is not True):
                return "BinderHub /health: failing checks: " + "; ".join(_check_text(c) for c in counted or failing)
            if health.get("ok") is not True:
                return (
                    f"BinderHub /health answers {response.status} with ok {json.dumps(health.get('ok'))} "
                    "although none of the checks it lists fails"
                )
            for check in failing:
                self.say(f"note: {_check_text(check)} (informational)")
            return None

        response = self.wait_for("BinderHub health", f"{self.target.binder_url}health", accept)
        names = [str(c.get("service")) for c in response.json()["checks"] if isinstance(c, dict)]
        self.say(f"BinderHub healthy: {', '.join(names) or 'no checks reported'}")

    def build_and_launch(self) -> dict[str, Any]:
        """The build API's event stream, each phase printed as it arrives; the `ready` event."""
        spec = urllib.parse.quote(self.settings.repository, safe="/%:@~!$&'()*+,;=")
        url = f"{self.target.binder_url}build/{spec}"
        self.say(f"build: GET {url}")
        current = _Phase("connecting", self.clock())
        messages: list[str] = []
        reached: set[str] = set()
        try:
            # BinderHub sends the headers with its first event, once it has resolved the ref and
            # checked the registry: that may take the phase's whole time, not a connection's.
            connection, response = self.open(
                "GET",
                url,
                {"Accept": "text/event-stream"},
                self.try_timeout(current.start),
                answer_timeout=max(0.01, self.deadline(current.start) - self.clock()),
            )
        except NoAnswerYetError as error:
            raise SmokeError(
                f"{self.timed_out('the build API', current.start)}: BinderHub accepted the connection but sent "
                "no answer yet (it answers once it has resolved the repository's ref and checked the registry)",
                (T_BINDER_LOGS, T_RUNNING),
            ) from error
        except (OSError, http.client.HTTPException) as error:
            reason, entries = self.why_unreachable(url, error)
            raise SmokeError(f"the build API did not answer: {reason}", entries) from error
        try:
            if response.status != 200:
                body = response.read(2000).decode("utf-8", "replace").strip()
                raise SmokeError(
                    f"the build API answered {response.status} {response.reason}: {body[:300]}",
                    (T_RUNNING, T_BINDER_LOGS),
                )
            for event in self._events(connection, response, lambda: self.deadline(current.start)):
                new = str(event.get("phase", current.name))
                message = str(event.get("message", "")).rstrip()
                if message:
                    messages = [*messages[-19:], message]
                if new != current.name:
                    current.name, current.start = new, self.clock()
                    reached.add(new)
                    first = message.splitlines()[0] if message else ""
                    self.say(f"{current.name}: {first}" if first else current.name)
                if current.name in FAILED_PHASES:
                    launching = "launching" in reached
                    first = message.splitlines()[0] if message else "(no message)"
                    raise SmokeError(
                        f"BinderHub reports the {'launch' if launching else 'build'} of "
                        f"{self.settings.repository} failed: {first}",
                        (T_LAUNCH, T_HUB_LOGS) if launching else (T_BUILD, T_BINDER_LOGS),
                        _indent("last messages", messages),
                    )
                if current.name == "ready":
                    if not isinstance(event.get("url"), str) or not isinstance(event.get("token"), str):
                        raise SmokeError("BinderHub's ready event has no server url and token", (T_BINDER_LOGS,))
                    return event
            raise SmokeError(
                f"the build stream ended during {current.name} without ready or failed",
                (T_BINDER_LOGS, T_RUNNING),
                _indent("last messages", messages),
            )
        except TimeoutError as error:
            entries = (T_BUILD, T_BINDER_LOGS) if current.name in ("fetching", "building", "pushing") else (T_LAUNCH,)
            raise SmokeError(
                self.timed_out(current.name, current.start), entries, _indent("last messages", messages)
            ) from error
        except (OSError, http.client.HTTPException) as error:
            raise SmokeError(
                f"the build stream broke during {current.name}: {error}", (T_BINDER_LOGS, T_RUNNING)
            ) from error
        finally:
            connection.close()

    def _events(
        self,
        connection: _HTTPConnection | _HTTPSConnection,
        response: http.client.HTTPResponse,
        deadline: Callable[[], float],
    ) -> Iterator[dict[str, Any]]:
        """The stream's events (server-sent events: `data:` lines until a blank line; lines
        starting with ':' are comments, BinderHub's keepalives). Each read may take until
        `deadline()` (re-read after each line, as the phase changes); TimeoutError after it."""
        data: list[str] = []
        sock = connection.raw
        while True:
            remaining = deadline() - self.clock()
            if remaining <= 0:
                raise TimeoutError
            if sock is not None:
                sock.settimeout(remaining)
            line = response.readline()
            if not line:
                return
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            if text.startswith(":"):
                continue
            if text.startswith("data:"):
                data.append(text[5:].removeprefix(" "))
            elif not text and data:
                try:
                    event = json.loads("\n".join(data))
                except ValueError:
                    event = {"message": "\n".join(data)}
                data = []
                if isinstance(event, dict):
                    yield event

    def check_server(self, ready: Mapping[str, Any]) -> None:
        """The launched server answers its status API with the stream's token, then is stopped."""
        server = str(ready["url"])
        server = server if server.endswith("/") else server + "/"
        auth = {"Authorization": f"token {ready['token']}"}

        def accept(response: Response) -> str | None:
            if response.status != 200:
                return f"the server answered {response.status} {response.reason} to api/status"
            try:
                status = response.json()
            except ValueError:
                return "the server's api/status is not JSON"
            return None if isinstance(status, dict) else "the server's api/status is not a JSON object"

        self.say(f"server: {server}")
        url = f"{server}api/status"
        start = self.clock()
        last = ""
        while True:
            try:
                problem = accept(self.fetch("GET", url, auth, self.try_timeout(start)))
            except (OSError, http.client.HTTPException) as error:
                problem = self.why_unreachable(url, error)[0]
            if problem is None:
                break
            if problem != last:
                self.say(f"waiting: {problem}")
                last = problem
            if self.clock() + self.poll_interval >= self.deadline(start):
                raise SmokeError(f"{self.timed_out('the server', start)}: {problem}", (T_LAUNCH, T_HUB_LOGS))
            self.sleep(self.poll_interval)
        self.say("server answered api/status")
        try:
            stopped = self.fetch("POST", f"{server}api/shutdown", auth)
        except (OSError, http.client.HTTPException) as error:
            raise SmokeError(f"could not stop the server at {server}: {error}", (T_HUB_LOGS,)) from error
        if not 200 <= stopped.status < 300:
            raise SmokeError(
                f"could not stop the server at {server}: api/shutdown answered {stopped.status} {stopped.reason} "
                "(the culler stops it once idle)",
                (T_HUB_LOGS,),
            )
        self.say("server stopped")

    def check_login(self) -> str:
        """The hub with login: health, version, and where a login goes. Returns the hub's version."""
        hub = self.target.hub_url
        self.wait_for("hub health", f"{hub}hub/health", _ok)
        api = self.wait_for("hub API", f"{hub}hub/api", _ok)
        try:
            version = str(api.json()["version"])
        except (ValueError, KeyError, TypeError) as error:
            raise SmokeError(f"{hub}hub/api gave no version: {api.body[:200]!r}", (T_HUB_LOGS,)) from error
        self.say(f"JupyterHub {version}")
        expected = GITHUB_AUTHORIZE_URL if self.target.auth_type == "github" else self.target.authorize_url
        url = f"{hub}hub/oauth_login"
        response = self.wait_for("login redirect", url, _redirect)
        location = urllib.parse.urljoin(url, response.headers.get("Location", ""))
        self.say(f"login redirects to {location.split('?')[0]}")
        parts = urllib.parse.urlsplit(location)
        query = urllib.parse.parse_qs(parts.query)
        wrong: list[str] = []
        if expected is None:
            wrong.append("auth.authorizeUrl is not set, so where a login should go is unknown")
        elif normalised(location) != normalised(expected):
            wrong.append(f"it goes to {parts.scheme}://{parts.netloc}{parts.path}, not {expected}")
        if query.get("client_id") != [self.target.client_id]:
            wrong.append(f"client_id is {query.get('client_id')}, not [{self.target.client_id!r}] (auth.clientId)")
        if query.get("redirect_uri") != [self.target.callback_url]:
            wrong.append(
                f"redirect_uri is {query.get('redirect_uri')}, not [{self.target.callback_url!r}] (oauth_callback_url)"
            )
        if wrong:
            raise SmokeError("the login redirect is wrong: " + "; ".join(wrong), (T_LOGIN, T_HUB_LOGS))
        return version

    # ------------------------------------------------------------------ the whole test

    def run(self) -> tuple[bool, str, tuple[str, ...]]:
        """(passed, the summary line, README entries to read). Never raises for a failed check."""
        self.started = self.clock()
        anonymous = self.target.auth_type == "none"
        what = f"build and launch of {self.settings.repository}" if anonymous else f"{self.target.auth_type} login"
        print(f"Smoke test: {what} at {self.target.binder_url}", file=self.out, flush=True)
        try:
            self.check_health()
            if anonymous:
                ready = self.build_and_launch()
                self.check_server(ready)
                done = f"built and launched {self.settings.repository}, the server answered and was stopped"
            else:
                version = self.check_login()
                done = f"BinderHub healthy, JupyterHub {version}, login goes to the {self.target.auth_type} provider"
        except SmokeError as failure:
            if failure.details:
                print(failure.details, file=self.out)
            took = self.clock() - self.started
            return False, f"smoke test FAILED after {took:.0f} s: {failure}", failure.troubleshooting
        except Exception as error:  # an answer nobody foresaw: still a failed smoke test, not a traceback
            took = self.clock() - self.started
            summary = (
                f"smoke test FAILED after {took:.0f} s: an answer the smoke test could not read "
                f"({type(error).__name__}: {error}; a bug of scripts/smoke.py if the services are fine)"
            )
            return False, summary, (T_RUNNING, T_BINDER_LOGS, T_HUB_LOGS)
        took = self.clock() - self.started
        return True, f"smoke test passed in {took:.0f} s: {done}", ()


@dataclass
class _Phase:
    """The build stream's current phase and when (clock seconds) it began."""

    name: str
    start: float


def _check_text(check: Mapping[str, Any]) -> str:
    details = {k: v for k, v in check.items() if k not in ("service", "ok", "_ignore_failure")}
    return f"{check.get('service', '?')}" + (f" {json.dumps(details, sort_keys=True)}" if details else "")


def _ok(response: Response) -> str | None:
    return None if response.status == 200 else f"{response.status} {response.reason}"


def _redirect(response: Response) -> str | None:
    if response.status in (301, 302, 303, 307, 308) and response.headers.get("Location"):
        return None
    return f"{response.status} {response.reason} instead of a redirect to the login provider"


def _indent(title: str, lines: list[str]) -> str:
    shown = [line for message in lines for line in message.splitlines()][-20:]
    return f"  {title}:\n" + "\n".join(f"    {line}" for line in shown) if shown else ""


def report(passed: bool, summary: str, troubleshooting: tuple[str, ...], out: Output) -> int:
    """Print the summary (last line but the pointers) and the README entries; the exit code."""
    if not passed and troubleshooting:
        entries = ", ".join(f'"{entry}"' for entry in troubleshooting)
        print(f"See README.md, Troubleshooting: {entries}.", file=out)
    print(summary, file=out, flush=True)
    return 0 if passed else 1


def run(
    outputs: Mapping[str, object],
    config: Mapping[str, Mapping[str, object]],
    out: Output | None = None,
    pulumi: PulumiRun | None = None,
) -> int:
    """The smoke test of a deployed stack: 0 passed, 1 failed (or could not start). `outputs` and
    `config` as `pulumi stack output --json` and `pulumi config --json` list them; `pulumi`
    (`pulumi_cli(stack, env)`) reads what they show as secrets (see `revealed`)."""
    stream = out or sys.stdout
    try:
        outputs, config = revealed(outputs, config, pulumi)
        smoke = Smoke(target_from(outputs, config), settings_from_config(config), out=stream)
    except SmokeConfigError as problem:
        return report(False, f"smoke test FAILED: {problem}", (), stream)
    return report(*smoke.run(), out=stream)
