"""Start the hub as its pod would, then spawn servers as BinderHub asks it to (hub venv only).

Reads JSON jobs on stdin: a container view of the hub Deployment (pod_fs.py) plus `launches`,
each `{"user": name, "server_name": str, "options": user_options}` as BinderHub's launcher posts
them. For each job, in a forked child so no state leaks between jobs:
1. `JupyterHub.initialize(argv)` with the container's own arguments: z2jh's
   `jupyterhub_config.py`, `hub.config`, `hub.extraConfig`, the authenticator, the database,
   services, roles and tokens, all as in the pod;
2. for each launch, `User.spawn(server_name, options)`: the hub's own spawn path, with the one
   call that would create the pod (`KubeSpawner._start`, after it applies the user options and
   profiles) replaced by recording KubeSpawner's
   `get_pod_manifest()`, and the waits on the network (server polling, HTTP readiness) skipped.
Writes one JSON result per job: errors, warnings, classes in use, and each launch's pod.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import os
import sys
import traceback
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# Imported before forking, as the hub image has them installed.
import kubespawner
import oauthenticator  # noqa: F401
from hub_app import initialize_hub
from jupyterhub import orm
from jupyterhub.spawner import Spawner
from jupyterhub.user import User
from kubernetes_asyncio.client import ApiClient
from pod_fs import CapturedLogs, run_jobs

# The hub loads every installed authenticator, spawner and proxy class when it starts: done
# once here, before forking, instead of once per job.
for _group in ("jupyterhub.authenticators", "jupyterhub.spawners", "jupyterhub.proxies"):
    for _entry in importlib.metadata.entry_points(group=_group):
        with contextlib.suppress(Exception):  # the hub skips a class that fails to import too
            _entry.load()


async def _record_pod(self: kubespawner.KubeSpawner) -> tuple[str, int]:
    """`KubeSpawner._start` up to the pod: the user options (profiles) applied, then the manifest
    it would create, recorded; watching pods and events, and the API call, are not made."""
    await self.load_user_options()
    pod = await self.get_pod_manifest()
    async with ApiClient() as client:
        self._recorded_pod = client.sanitize_for_serialization(pod)
    return ("198.51.100.24", self.port)


async def _no_wait(self: Any, *args: Any, **kwargs: Any) -> None:
    return None


async def run_job(job: dict[str, Any], logs: CapturedLogs) -> dict[str, Any]:
    result: dict[str, Any] = {"errors": [], "launches": []}
    kubespawner.KubeSpawner._start = _record_pod  # type: ignore[method-assign]
    User._wait_up = _no_wait  # type: ignore[method-assign]
    Spawner.start_polling = lambda self: None  # type: ignore[method-assign]
    app = await initialize_hub(job, result)
    if app is None:
        return result
    result["authenticator"] = f"{type(app.authenticator).__module__}.{type(app.authenticator).__name__}"
    result["spawner_mro"] = [c.__name__ for c in app.spawner_class.__mro__]
    result["services"] = sorted(app._service_map)
    culler = app._service_map.get("jupyterhub-idle-culler")
    result["culler_command"] = list(culler.command) if culler is not None else []
    result["named_servers"] = app.allow_named_servers
    result["named_server_limit_per_user"] = app.named_server_limit_per_user
    for launch in job.get("launches", []):
        entry: dict[str, Any] = {"name": launch["name"]}
        try:
            orm_user = orm.User.find(app.db, launch["user"])
            if orm_user is None:
                orm_user = orm.User(name=launch["user"])
                app.db.add(orm_user)
                app.db.commit()
            user = app.users[orm_user]
            await user.spawn(launch["server_name"], options=launch["options"])
            spawner = user.spawners[launch["server_name"]]
            entry["pod"] = spawner._recorded_pod
            entry["pvc"] = None
            if spawner.storage_pvc_ensure:
                async with ApiClient() as client:
                    entry["pvc"] = client.sanitize_for_serialization(spawner.get_pvc_manifest())
        except BaseException as exc:
            entry["error"] = f"{exc!r}\n{traceback.format_exc()}"
        result["launches"].append(entry)
    return result


def main() -> None:
    run_jobs(lambda job, logs: asyncio.run(run_job(job, logs)), "srv-jupyterhub-")


if __name__ == "__main__":
    main()
