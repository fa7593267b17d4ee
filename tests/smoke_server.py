"""A stand-in for a deployed BinderHub and JupyterHub on the loopback, for scripts/smoke.py's tests.

It speaks what the smoke test reads, as the real services do:
- `GET /health`: BinderHub's health report, `{"ok": bool, "checks": [{"service", "ok", ...}]}`,
  503 when a counted check fails (binderhub/health.py HealthHandler);
- `GET /build/<provider>/<spec>` with `Accept: text/event-stream`: 400 without that header, else
  an event stream in chunked transfer encoding, as tornado sends BinderHub's: `data: <json>`
  events separated by a blank line, `:keepalive` comments (binderhub/builder.py BuildHandler);
- `GET /user/<name>/api/status` and `POST /user/<name>/api/shutdown`: a Jupyter server that
  accepts only `Authorization: token <the token the ready event carried>`;
- `GET /hub/health`, `GET /hub/api` (`{"version": ...}`) and `GET /hub/oauth_login` (a redirect
  to the login provider): JupyterHub with an OAuthenticator.

What it answers is a `Scenario`; every request is recorded. It listens on 127.0.0.1 only, with
TLS when given a certificate (`self_signed_certificate`, made by the openssl CLI: no network).
"""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SERVER_PATH = "/user/smoke-abc123/"
SERVER_TOKEN = "server-token-0123456789"
HEALTHY = {
    "ok": True,
    "checks": [
        {"service": "JupyterHub API", "ok": True},
        {"service": "Docker registry", "ok": True},
        {"service": "Pod quota", "ok": True, "total_pods": 0, "quota": 42, "_ignore_failure": True},
    ],
}
# A build that goes through every phase BinderHub reports, with several log lines while building.
BUILD_PHASES = ("waiting", "fetching", "building", "pushing", "built", "launching")
STALL = "stall"  # in Scenario.events: keepalives only, until the client gives up or the server stops


@dataclass(frozen=True)
class Raw:
    """In Scenario.events: text sent as it is (an event written over several `data:` lines, say)."""

    text: str


def event(phase: str, message: str = "", **extra: Any) -> dict[str, Any]:
    return {"phase": phase, "message": message + "\n" if message else "", **extra}


def successful_build() -> list[Any]:
    """The events of a build and launch that works; the ready event's url is filled in on send."""
    events: list[Any] = [event("waiting", "Waiting for build to start..."), event("fetching", "Fetching repository")]
    events += [event("building", f"Step {n}/3 : RUN true") for n in (1, 2, 3)]
    events += [event("pushing", "Pushing image"), event("built", "Built image, launching...")]
    events += [event("launching", "Launching server..."), event("launching", "Server requested")]
    events.append(event("ready", "server running", url="{server}", token=SERVER_TOKEN, image="r/i:t"))
    return events


@dataclass
class Scenario:
    """What the services answer. `health`: (status, body) answers of /health, the last one
    repeated; `health_delay`: seconds before each /health answer; `events`: dicts are sent as
    events, Raw as its text, a float is a pause in seconds, STALL sends keepalives until the
    client leaves; `build_delay`: seconds before the build API sends its headers (BinderHub sends
    them with its first event); `login_location`: where /hub/oauth_login redirects."""

    health: list[tuple[int, Any]] = field(default_factory=lambda: [(200, HEALTHY)])
    events: list[Any] = field(default_factory=successful_build)
    build_status: int = 200
    status_answers: list[int] = field(default_factory=lambda: [200])
    shutdown_status: int = 200
    hub_version: str = "5.3.0"
    login_location: str | None = None
    keepalive_interval: float = 0.02
    health_delay: float = 0.0
    build_delay: float = 0.0


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, scenario: Scenario, tls: ssl.SSLContext | None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.scenario = scenario
        self.requests: list[Request] = []
        self.keepalives = 0
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.scheme = "https" if tls else "http"
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def url(self, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}/"

    def paths(self, method: str = "GET") -> list[str]:
        return [r.path for r in self.requests if r.method == method]

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that left mid-stream, or refused the certificate: expected in these tests


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    @property
    def service(self) -> LoopbackServer:
        assert isinstance(self.server, LoopbackServer)
        return self.server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _record(self) -> Scenario:
        with self.service.lock:
            self.service.requests.append(Request(self.command, self.path, dict(self.headers.items())))
        return self.service.scenario

    def _answer(self, status: int, body: Any = b"", headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorized(self) -> bool:
        return self.headers.get("Authorization") == f"token {SERVER_TOKEN}"

    def do_GET(self) -> None:
        scenario = self._record()
        path = self.path.split("?")[0]
        if path == "/health":
            if scenario.health_delay and self.service.stopping.wait(scenario.health_delay):
                return
            with self.service.lock:
                status, body = scenario.health[0] if len(scenario.health) == 1 else scenario.health.pop(0)
            self._answer(status, body if isinstance(body, (dict, bytes)) else str(body).encode())
        elif path.startswith("/build/"):
            self._stream(scenario)
        elif path == f"{SERVER_PATH}api/status":
            with self.service.lock:
                status = (
                    scenario.status_answers[0] if len(scenario.status_answers) == 1 else scenario.status_answers.pop(0)
                )
            if status == 200 and not self._authorized():
                status = 403
            self._answer(status, {"started": "2026-01-01T00:00:00Z", "kernels": 0} if status == 200 else b"")
        elif path == "/hub/health":
            self._answer(200, b"")
        elif path == "/hub/api":
            self._answer(200, {"version": scenario.hub_version})
        elif path == "/hub/oauth_login" and scenario.login_location:
            self._answer(302, b"", {"Location": scenario.login_location})
        else:
            self._answer(404, b"<html>404 Not Found</html>", {"Content-Type": "text/html"})

    def do_POST(self) -> None:
        scenario = self._record()
        if self.path == f"{SERVER_PATH}api/shutdown":
            status = scenario.shutdown_status if self._authorized() else 403
            self._answer(status, {} if status == 200 else b"")
        else:
            self._answer(404, b"")

    def _chunk(self, text: str) -> None:
        data = text.encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _stream(self, scenario: Scenario) -> None:
        if "text/event-stream" not in self.headers.get("Accept", ""):
            self._answer(400, b"Missing Accept header: text/event-stream")
            return
        if scenario.build_delay and self.service.stopping.wait(scenario.build_delay):
            return
        if scenario.build_status != 200:
            self._answer(scenario.build_status, b"<html>Bad Gateway</html>", {"Content-Type": "text/html"})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        server_url = f"{self.service.url(self.headers.get('Host', '').split(':')[0] or '127.0.0.1')}{SERVER_PATH[1:]}"
        try:
            for item in scenario.events:
                if item == STALL:
                    while not self.service.stopping.wait(scenario.keepalive_interval):
                        self._chunk(":keepalive\n\n")
                        with self.service.lock:
                            self.service.keepalives += 1
                    return
                if isinstance(item, float):
                    if self.service.stopping.wait(item):
                        return
                    continue
                if isinstance(item, Raw):
                    self._chunk(item.text.replace('"{server}"', json.dumps(server_url)))
                    continue
                payload = json.dumps(item).replace('"{server}"', json.dumps(server_url))
                self._chunk(f"data: {payload}\n\n")
            self._chunk("")  # the last chunk: the stream ends
        except OSError:
            return  # the client gave up (a phase timeout): what a stalled build ends with


@contextmanager
def serving(scenario: Scenario, tls: ssl.SSLContext | None = None) -> Iterator[LoopbackServer]:
    """A LoopbackServer answering `scenario` while the block runs; stopped (streams too) after it."""
    server = LoopbackServer(scenario, tls)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def self_signed_certificate(directory: Path, *hosts: str, name: str | None = None) -> tuple[Path, Path]:
    """(certificate, key) PEM files for `hosts`, self-signed by the openssl CLI (offline). `name`:
    its subject's and so its issuer's CN (default: the first host)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("the openssl CLI is needed to make a test certificate")
    cert, key = directory / "cert.pem", directory / "key.pem"
    names = ",".join(f"DNS:{host}" for host in hosts)
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"),
            *("-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={name or hosts[0]}"),
            *("-addext", f"subjectAltName={names}"),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return cert, key


def server_tls(cert: Path, key: Path, alert: int | None = None) -> ssl.SSLContext:
    """The server's TLS. `alert`: refuse every handshake with that TLS alert once the client has
    named its host (SNI), as the F5 NGINX Ingress Controller does (ssl_reject_handshake) for a
    host whose certificate Secret does not exist yet."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    if alert is not None:
        context.sni_callback = lambda sock, name, ctx: alert
    return context
