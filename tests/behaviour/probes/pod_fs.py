"""Shared by the probes (runs inside a behaviour venv, standard library only).

A probe job describes one container (see tests/behaviour/pods.py `materialize`): its scratch
`root`, the absolute `mounts` it has, its `env`, `command` and `args`. `PodFilesystem` maps the
container's absolute paths under those mounts into the root, by wrapping the few file functions
the charts' configuration code uses (open, os.path.exists/isfile/isdir, glob.glob): the software
reads its configuration files from the paths it would use in the pod, unchanged.
`CapturedLogs` keeps every warning the software logs or warns, so tests can fail on them.
"""

from __future__ import annotations

import builtins
import glob
import importlib.abc
import importlib.machinery
import io
import json
import logging
import os
import socket
import ssl
import sys
import tempfile
import traceback
import warnings
from collections.abc import Callable
from typing import Any


class PodFilesystem:
    def __init__(self, job: dict[str, Any]) -> None:
        self.root = job["root"]
        self.mounts = [m.rstrip("/") for m in job["mounts"]]

    def map(self, path: Any) -> Any:
        if isinstance(path, int) or not isinstance(path, (str, os.PathLike)):
            return path
        text = os.fspath(path)
        if isinstance(text, str) and any(text == m or text.startswith(m + "/") for m in self.mounts):
            return self.root + text
        return path

    def holds(self, folder: str) -> bool:
        """True if `folder` is a mount or a folder with a mount inside it."""
        folder = folder.rstrip("/")
        return any(m == folder or m.startswith(folder + "/") for m in self.mounts) and folder != ""

    def install(self) -> None:
        real_open, real_exists, real_isfile = builtins.open, os.path.exists, os.path.isfile
        real_isdir, real_glob = os.path.isdir, glob.glob
        mapped = self.map

        def _open(file: Any, *args: Any, **kwargs: Any) -> Any:
            return real_open(mapped(file), *args, **kwargs)

        builtins.open = _open
        io.open = _open
        os.path.exists = lambda p: real_exists(mapped(p))
        os.path.isfile = lambda p: real_isfile(mapped(p))
        os.path.isdir = lambda p: real_isdir(mapped(p))

        def _glob(pattern: str, *args: Any, **kwargs: Any) -> list[str]:
            found = real_glob(mapped(pattern), *args, **kwargs)
            return [f[len(self.root) :] if f.startswith(self.root + "/") else f for f in found]

        glob.glob = _glob
        real_verify = ssl.SSLContext.load_verify_locations

        def _load_verify_locations(context: ssl.SSLContext, cafile: Any = None, *args: Any, **kwargs: Any) -> None:
            real_verify(context, mapped(cafile), *args, **kwargs)

        ssl.SSLContext.load_verify_locations = _load_verify_locations  # type: ignore[method-assign]
        sys.meta_path.insert(0, _MountedModules(self))


class _MountedModules(importlib.abc.MetaPathFinder):
    """Imports from mounted folders on sys.path (z2jh puts its own folder there)."""

    def __init__(self, fs: PodFilesystem) -> None:
        self.fs = fs

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if path is not None:
            return None  # submodules: their package's own __path__ is already mapped
        mounted = [self.fs.root + p for p in sys.path if isinstance(p, str) and self.fs.holds(p)]
        return importlib.machinery.PathFinder.find_spec(name, mounted) if mounted else None


class CapturedLogs(logging.Handler):
    """Every record at WARNING or above from any logger, and every `warnings.warn`."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []
        real_handle = logging.Logger.handle
        handler = self

        def handle(logger: logging.Logger, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                handler.messages.append(f"{record.levelname} {logger.name}: {record.getMessage()}")
            real_handle(logger, record)

        logging.Logger.handle = handle  # type: ignore[method-assign]

        def showwarning(message: Any, category: Any, filename: str, lineno: int, *_: Any) -> None:
            if issubclass(category, (DeprecationWarning, PendingDeprecationWarning)):
                return  # libraries' deprecations, not the deployment's configuration
            handler.messages.append(f"{category.__name__}: {message} ({os.path.basename(filename)}:{lineno})")

        warnings.showwarning = showwarning
        warnings.simplefilter("always")


class NoNetworkError(OSError):
    pass


def forbid_network() -> None:
    """Refuse every connection: the probes run the software offline, and no test may reach a
    cluster address (the container's Service and API addresses are made up)."""
    real_connect = socket.socket.connect

    def connect(sock: socket.socket, address: Any) -> Any:
        if sock.family == socket.AF_UNIX:
            return real_connect(sock, address)
        raise NoNetworkError(f"probe: network access to {address!r} refused")

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect  # type: ignore[method-assign, assignment]


def enter_container(job: dict[str, Any], workdir: str) -> None:
    """Environment, working directory and file view of the container for this process."""
    forbid_network()
    os.environ.clear()
    os.environ.update({"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": job.get("home") or workdir, **job["env"]})
    os.makedirs(workdir, exist_ok=True)
    os.chdir(workdir)
    PodFilesystem(job).install()


def run_jobs(run_job: Callable[[dict[str, Any], CapturedLogs], dict[str, Any]], workdir_prefix: str) -> None:
    """Read the JSON jobs on stdin; run each in a forked child (in its container view, so no
    state leaks between jobs); write the list of results as one JSON line on the real stdout.

    A result is `run_job`'s dict (a crash of the probe itself becomes an `errors` entry) plus
    `warnings`: everything logged at WARNING or above while it ran.
    """
    out = real_stdout()
    jobs = json.load(sys.stdin)
    results = []
    for job in jobs:
        read, write = os.pipe()
        child = os.fork()
        if child == 0:
            os.close(read)
            logs = CapturedLogs()
            try:
                enter_container(job, tempfile.mkdtemp(prefix=workdir_prefix))
                result = run_job(job, logs)
            except BaseException as exc:
                result = {"errors": [f"probe: {exc!r}\n{traceback.format_exc()}"]}
            result["warnings"] = logs.messages
            with os.fdopen(write, "w") as pipe:
                json.dump(result, pipe, default=str)
            os._exit(0)
        os.close(write)
        with os.fdopen(read) as pipe:
            text = pipe.read()
        os.waitpid(child, 0)
        results.append(json.loads(text))
    out.write(json.dumps(results) + "\n")
    out.flush()


def real_stdout() -> io.TextIOBase:
    """Results go to the real stdout; what the software prints goes to stderr."""
    out = sys.stdout
    sys.stdout = sys.stderr
    return out  # type: ignore[return-value]
