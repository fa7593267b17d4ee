"""Start BinderHub as its pod would, build a repository's pod, and launch it (BinderHub venv only).

Reads JSON jobs on stdin: a container view of the BinderHub Deployment (pod_fs.py) plus
`repo` (`{"provider": "gh", "spec": "owner/name/ref", "url": ..., "resolved_ref": sha}`) and
`username` (the logged-in user; None when anonymous), and `traits` (BinderHub options whose
values to report). For each job, in a forked child:
1. `BinderHub.initialize(argv)` with the container's arguments (the chart's config file, its
   values, the mounted docker config, the environment);
2. the image name BinderHub gives the repository, with its own slug rules;
3. the build pod: BinderHub's build class as BuildHandler constructs it (push credentials from
   the registry class included), with the one call that creates the pod
   (`CoreV1Api.create_namespaced_pod`) recorded instead of sent;
4. the launch: `Launcher.launch` as BuildHandler calls it, with the hub API replaced by a
   recorder that answers like the hub (user created, server spawned, progress ready);
5. with `private_repos` (`[{"provider": "gl" | "git", "spec": ...}]`), each spec as BuildHandler
   takes it: the provider object BinderHub makes for it, its allowed/banned check, the ref it
   resolves (the provider's API requests recorded and answered), and its build pod with the
   provider's git credentials.
Writes one JSON result per job: errors, warnings, image name, build pod, the hub requests, and
what each private repository's spec gave.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import sys
import traceback
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kubernetes.client
from binderhub import app as binderhub_app
from binderhub import builder, launcher, registry, repoproviders
from pod_fs import CapturedLogs, run_jobs


class _PodCreatedError(Exception):
    """Raised by the recorder: the build executor stops where the pod would go to the API."""


def run_job(job: dict[str, Any], logs: CapturedLogs) -> dict[str, Any]:
    result: dict[str, Any] = {"errors": [], "hub_requests": []}
    registry.ExternalRegistryHelper._request = _registry_helper(job.get("registry_helper"))  # type: ignore[method-assign]
    argv = [*job["command"], *job["args"]]
    app = binderhub_app.BinderHub.instance()
    try:
        app.initialize(argv)
    except BaseException as exc:
        result["errors"].append(f"binderhub initialize: {exc!r}\n{traceback.format_exc()}")
        return result
    result["start_warnings"] = list(logs.messages)
    settings = app.tornado_settings
    result["use_registry"] = settings["use_registry"]
    result["auth_enabled"] = settings["auth_enabled"]
    result["registry_class"] = type(settings["registry"]).__name__ if settings["use_registry"] else None
    # Options the job names (those an overlay sets), as the BinderHub app holds them.
    result["traits"] = {name: getattr(app, name) for name in job.get("traits", [])}

    repo = job["repo"]
    slug = builder._safe_build_slug(  # the slug rules BuildHandler applies (builder.py)
        repo["build_slug"], limit=255 - len(settings["image_prefix"])
    )
    ref = repo["resolved_ref"]
    image = f"{settings['image_prefix']}{slug}:{ref}".replace("_", "-").lower()
    result["image"] = image
    build_name = builder._generate_build_name(repo["build_slug"], ref, prefix="build-")

    async def build_and_launch() -> None:
        build = settings["build_class"](
            parent=settings["traitlets_parent"],
            q=queue.Queue(),
            name=build_name,
            repo_url=repo["url"],
            ref=ref,
            image_name=image,
            git_credentials="",  # the repo provider default (no private-host credentials)
        )
        if settings["use_registry"]:
            name, _, tag = image.rpartition(":")
            token = await settings["registry"].get_credentials(name, tag)
            if token:
                build.registry_credentials = token
        else:
            build.push_secret = ""

        def record(self: Any, namespace: str, body: Any, **_: Any) -> None:
            result["build_namespace"] = namespace
            result["build_pod"] = kubernetes.client.ApiClient().sanitize_for_serialization(body)
            raise _PodCreatedError

        def no_pods(self: Any, namespace: str, **_: Any) -> Any:
            # Sticky builds list the running builders (raw response, `_preload_content=False`).
            return SimpleNamespace(read=lambda: b'{"items": []}')

        kubernetes.client.CoreV1Api.create_namespaced_pod = record  # type: ignore[method-assign]
        kubernetes.client.CoreV1Api.list_namespaced_pod = no_pods  # type: ignore[method-assign]
        with contextlib.suppress(_PodCreatedError):
            build.submit()

        async def hub_api(self: Any, url: str, *args: Any, **kwargs: Any) -> Any:
            body = kwargs.get("body")
            result["hub_requests"].append(
                {
                    "url": url,
                    "method": kwargs.get("method", "GET"),
                    "body": json.loads(body) if body else None,
                }
            )
            if url.endswith("progress"):
                kwargs["streaming_callback"](b'data: {"ready": true, "progress": 100, "message": "ready"}\n\n')
                await asyncio.sleep(0)
            servers = {} if job["username"] else {"": {}}
            return SimpleNamespace(body=json.dumps({"name": job["username"], "servers": servers}).encode(), code=200)

        launcher.Launcher.api_request = hub_api  # type: ignore[method-assign]
        the_launcher = settings["launcher"]
        # As BuildHandler.launch: the logged-in user when BinderHub has login, else a temporary one.
        if settings["auth_enabled"]:
            assert job["username"], "BinderHub has login on: the launch needs a logged-in user"
            username = job["username"]
            server_name = the_launcher.unique_name_from_repo(repo["url"]) if the_launcher.allow_named_servers else ""
        else:
            username, server_name = the_launcher.unique_name_from_repo(repo["url"]), ""
        result["launch_user"], result["launch_server_name"] = username, server_name
        info = await the_launcher.launch(
            image=image,
            username=username,
            server_name=server_name,
            repo_url=repo["url"],
            extra_args={
                "binder_ref_url": repo["ref_url"],
                "binder_launch_host": job["launch_host"],
                "binder_request": f"v2/{repo['provider']}/{repo['spec']}",
                "binder_persistent_request": f"v2/{repo['provider']}/{repo['resolved_spec']}",
                "binder_client_ip": "198.51.100.7",
            },
        )
        result["launch_url"] = info["url"]
        result["private_repos"] = [
            await _through_provider(settings, entry, build_name) for entry in job.get("private_repos") or []
        ]

    try:
        asyncio.run(build_and_launch())
    except BaseException as exc:
        result["errors"].append(f"build/launch: {exc!r}\n{traceback.format_exc()}")
    return result


async def _through_provider(settings: dict[str, Any], entry: dict[str, str], build_name: str) -> dict[str, Any]:
    """A spec through BinderHub's provider as BuildHandler.get uses it (builder.py): the provider
    object (BaseHandler.get_provider), is_banned, the repository URL, get_resolved_ref with the
    provider's HTTP requests recorded (answered with a commit), and the build pod made with
    `provider.git_credentials`, as BuildHandler passes them to the build class."""
    found: dict[str, Any] = {**entry, "api_requests": []}
    provider = settings["repo_providers"][entry["provider"]](config=settings["traitlets_config"], spec=entry["spec"])
    found["hostname"] = getattr(provider, "hostname", None)
    found["banned"] = provider.is_banned()
    if found["banned"]:
        return found
    found["repo_url"] = provider.get_repo_url()

    class RecordingClient:
        """repoproviders' AsyncHTTPClient: requests recorded, a commit returned."""

        async def fetch(self, request: Any, **kwargs: Any) -> Any:
            url = request if isinstance(request, str) else request.url
            found["api_requests"].append({"url": url, "headers": dict(kwargs.get("headers") or {})})
            return SimpleNamespace(body=json.dumps({"id": "f" * 40}).encode(), headers={})

    real_client = repoproviders.AsyncHTTPClient
    repoproviders.AsyncHTTPClient = RecordingClient  # type: ignore[misc, assignment]
    try:
        found["resolved_ref"] = await provider.get_resolved_ref()
    finally:
        repoproviders.AsyncHTTPClient = real_client  # type: ignore[misc]
    build = settings["build_class"](
        parent=settings["traitlets_parent"],
        q=queue.Queue(),
        name=f"{build_name}-{entry['provider']}",
        repo_url=found["repo_url"],
        ref=found["resolved_ref"],
        image_name=f"{settings['image_prefix']}private:{found['resolved_ref']}",
        git_credentials=provider.git_credentials,
    )
    build.push_secret = ""
    pods: dict[str, Any] = {}

    def record(self: Any, namespace: str, body: Any, **_: Any) -> None:
        pods["pod"] = kubernetes.client.ApiClient().sanitize_for_serialization(body)
        raise _PodCreatedError

    kubernetes.client.CoreV1Api.create_namespaced_pod = record  # type: ignore[method-assign]
    with contextlib.suppress(_PodCreatedError):
        build.submit()
    found["build_pod"] = pods.get("pod")
    return found


def _registry_helper(helper: dict[str, Any] | None) -> Any:
    """A stand-in for the registry helper's HTTP API, answering as the deployed helper would.

    `helper` describes the helper as rendered: its in-cluster URL, the token it requires
    (BINDERHUB_AUTH_TOKEN) and the registry its cloud identity reaches. A request to another
    address or with another token fails, as it would against the real helper.
    """

    async def request(self: Any, endpoint: str, **kwargs: Any) -> Any:
        url = f"{self.service_url}{endpoint}"
        if helper is None or not url.startswith(helper["service_url"].rstrip("/") + "/"):
            raise ConnectionRefusedError(f"no registry helper at {url}")
        headers = kwargs.get("headers") or {}
        if self.auth_token != helper["auth_token"]:
            raise PermissionError(f"the registry helper refuses the token BinderHub sends ({headers and 'set'})")
        if endpoint.startswith("/token/"):
            return {"username": "AWS", "password": "ecr-push-token", "registry": helper["registry"], "expires": "2099"}
        raise AssertionError(f"unexpected registry helper call {endpoint}")

    return request


def main() -> None:
    run_jobs(run_job, "binderhub-")


if __name__ == "__main__":
    main()
