"""The kubeconfig of an existing cluster: found, checked and cut down to one context at config time.

`resolve_kubeconfig` runs before any resource is registered, so a missing file, a secret that is
not a kubeconfig, or a context that does not exist is a configuration error, not a failed
provider. Only the context the stack uses (its cluster and user) goes into state and outputs,
never the other clusters and credentials of the user's `~/.kube/config`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml


class KubeconfigError(ValueError):
    """The kubeconfig cannot be used. The message never repeats the file's contents."""


def ambient_kubeconfig_paths() -> list[Path]:
    """The files kubectl reads: each entry of $KUBECONFIG, else ~/.kube/config."""
    paths = [Path(p) for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    return paths or [Path.home() / ".kube" / "config"]


def read_ambient_kubeconfig() -> dict[str, Any]:
    """kubectl's view of the ambient kubeconfig files, merged.

    Merge rule of client-go's loader (k8s.io/client-go/tools/clientcmd, `ClientConfigLoadingRules.Load`):
    the first file to name a cluster, context or user wins, and the first `current-context` set wins.
    Files that do not exist are skipped; none existing is an error.
    """
    paths = ambient_kubeconfig_paths()
    merged: dict[str, Any] = {"clusters": [], "contexts": [], "users": []}
    found = False
    for path in paths:
        if not path.is_file():
            continue
        found = True
        document = _with_absolute_paths(_parse(path.read_text(), f"the kubeconfig {path}"), path.parent)
        if not merged.get("current-context") and document.get("current-context"):
            merged["current-context"] = document["current-context"]
        for section in ("clusters", "contexts", "users"):
            known = {entry.get("name") for entry in merged[section]}
            merged[section] += [e for e in _entries(document, section) if e.get("name") not in known]
    if not found:
        shown = os.pathsep.join(str(p) for p in paths)
        raise KubeconfigError(
            f"no kubeconfig found at {shown}: point KUBECONFIG at your cluster's kubeconfig, or set it as a "
            "secret: pulumi config set --secret binderhub:kubeconfig < kubeconfig.yaml"
        )
    return merged


def resolve_kubeconfig(secret: str | None, context: str | None) -> str:
    """A kubeconfig (YAML text) holding only `context` (default: the current context).

    secret: the `binderhub:kubeconfig` secret's text, or None for the ambient files.
    Raises KubeconfigError naming what is wrong (never the credentials) when the text is not a
    kubeconfig, the context is missing, or the context's cluster or user is missing.
    """
    where = "binderhub:kubeconfig" if secret is not None else "the ambient kubeconfig"
    document = _parse(secret, where) if secret is not None else read_ambient_kubeconfig()
    name = context or document.get("current-context")
    contexts = {e.get("name"): e for e in _entries(document, "contexts")}
    if not contexts:
        raise KubeconfigError(f"{where} is not a kubeconfig for a cluster: it defines no contexts")
    if not name:
        raise KubeconfigError(
            f"{where} has no current-context: set binderhub:cluster.context to one of "
            + ", ".join(repr(n) for n in contexts)
        )
    if name not in contexts:
        key = "binderhub:cluster.context" if context else "its current-context"
        raise KubeconfigError(
            f"{where} has no context {name!r} ({key}); contexts: " + (", ".join(repr(n) for n in contexts) or "(none)")
        )
    name = str(name)
    spec = contexts[name].get("context") or {}
    cluster = _named(document, "clusters", spec.get("cluster"), where, name)
    user = _named(document, "users", spec.get("user"), where, name)
    if not (cluster.get("cluster") or {}).get("server"):
        raise KubeconfigError(f"{where}: cluster {cluster.get('name')!r} of context {name!r} has no server address")
    minimal = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [cluster],
        "contexts": [contexts[name]],
        "users": [user],
        "current-context": name,
    }
    return yaml.safe_dump(minimal, sort_keys=False)


def _parse(text: str, where: str) -> dict[str, Any]:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        raise KubeconfigError(f"{where} is not YAML: expected a kubeconfig (kubectl config view --raw)") from None
    if not isinstance(document, dict) or document.get("kind", "Config") != "Config":
        raise KubeconfigError(f"{where} is not a kubeconfig: expected a YAML document of kind Config")
    for section in ("clusters", "contexts", "users"):
        value = document.get(section)
        entry_key = section[:-1]  # each entry: {name: <string>, cluster|context|user: <map>}
        if value is not None and not (
            isinstance(value, list)
            and all(
                isinstance(e, dict) and isinstance(e.get("name"), str) and isinstance(e.get(entry_key) or {}, dict)
                for e in value
            )
        ):
            raise KubeconfigError(
                f"{where} is not a kubeconfig: {section} must be a list of entries with a name and a {entry_key} map"
            )
    if not isinstance(document.get("current-context") or "", str):
        raise KubeconfigError(f"{where} is not a kubeconfig: current-context must be a context's name")
    return document


# Fields holding file paths, which kubectl resolves relative to the kubeconfig file's directory
# (client-go clientcmd `ResolveLocalPaths`); the provider would resolve them from the project.
_PATH_FIELDS = {"clusters": ("certificate-authority",), "users": ("client-certificate", "client-key", "tokenFile")}


def _with_absolute_paths(document: dict[str, Any], base: Path) -> dict[str, Any]:
    for section, fields in _PATH_FIELDS.items():
        for entry in _entries(document, section):
            spec = entry.get(section[:-1]) or {}
            for name in fields:
                if isinstance(spec.get(name), str) and spec[name] and not Path(spec[name]).is_absolute():
                    spec[name] = str((base / spec[name]).resolve())
    return document


def _entries(document: dict[str, Any], section: str) -> list[dict[str, Any]]:
    return list(document.get(section) or [])


def _named(document: dict[str, Any], section: str, name: Any, where: str, context: str) -> dict[str, Any]:
    for entry in _entries(document, section):
        if entry.get("name") == name:
            return entry
    kind = section[:-1]
    raise KubeconfigError(f"{where}: context {context!r} names {kind} {name!r}, which it does not define")
