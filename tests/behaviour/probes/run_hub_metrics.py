"""Start the hub as its pod would, then ask it for /hub/metrics as Prometheus would (hub venv only).

Reads JSON jobs on stdin: a container view of the hub Deployment (pod_fs.py) plus `requests`,
each `{"name": str, "token": str | null}`. For each job, in a forked child:
1. `JupyterHub.initialize(argv)` with the container's own arguments (z2jh's jupyterhub_config.py,
   hub.services, hub.loadRoles: the service tokens and roles are loaded into the hub's database
   as in the pod);
2. the hub's own Tornado application served on a Unix socket (the probes refuse network
   connections), and for each request `GET /hub/metrics` with `Authorization: Bearer <token>`
   (no header when the token is null), sent from a thread while the hub's loop serves it.
Writes one JSON result per job: errors, and each response's status, content type and body.
"""

from __future__ import annotations

import asyncio
import http.client
import os
import socket
import sys
import tempfile
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hub_app import initialize_hub
from pod_fs import CapturedLogs, run_jobs
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_unix_socket

METRICS_PATH = "/hub/metrics"


class UnixConnection(http.client.HTTPConnection):
    """An HTTP connection to a Unix socket (the Host header still names the hub's Service)."""

    def __init__(self, path: str) -> None:
        super().__init__("hub", 8081, timeout=30)
        self.socket_path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(self.socket_path)


def fetch(path: str, token: str | None) -> dict[str, Any]:
    connection = UnixConnection(path)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        connection.request("GET", METRICS_PATH, headers=headers)
        response = connection.getresponse()
        body = response.read().decode(errors="replace")
        return {"status": response.status, "content_type": response.getheader("Content-Type") or "", "body": body}
    finally:
        connection.close()


async def run_job(job: dict[str, Any], logs: CapturedLogs) -> dict[str, Any]:
    result: dict[str, Any] = {"errors": [], "responses": []}
    app = await initialize_hub(job, result)
    if app is None:
        return result
    result["services"] = sorted(app._service_map)
    path = os.path.join(tempfile.mkdtemp(prefix="hub-sock-"), "hub.sock")
    server = HTTPServer(app.tornado_application)
    server.add_socket(bind_unix_socket(path))
    try:
        for request in job["requests"]:
            response = await asyncio.to_thread(fetch, path, request["token"])
            result["responses"].append({"name": request["name"], **response})
    finally:
        server.stop()
    return result


def main() -> None:
    run_jobs(lambda job, logs: asyncio.run(run_job(job, logs)), "srv-jupyterhub-metrics-")


if __name__ == "__main__":
    main()
