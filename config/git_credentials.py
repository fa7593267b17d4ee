"""The `binderhub:gitCredentials` secret: one credential for private git repositories on one host.

The secret holds lines in git's credential format (`git help credential`, "INPUT/OUTPUT
FORMAT": one `key=value` attribute per line; git never reads past a blank line):

    protocol=https
    host=git.example.org
    username=binder-bot
    password=<a password or access token>

BinderHub hands `GitRepoProvider.git_credentials` to every build pod of a `git/...` repository
(binderhub/build.py: the GIT_CREDENTIAL_ENV variable), where repo2docker's credential helper
prints it to git for any server that asks (repo2docker docker/git-credential-env). git does not
compare the `host` a helper answers with the server it talks to, so the program uses `host` to
let the git provider build only repositories on that host (see
components/values/binderhub.py).

Nothing here puts a part of the secret into an error message: problems name the line and the
attribute, never a value.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from config.base import DNS_NAME_RE

# The attributes this credential uses; git knows others (path, url, ...), which mean nothing
# to a helper that answers every request with the same credential.
ATTRIBUTES = ("protocol", "host", "username", "password")
REQUIRED = ("host", "username", "password")
_FORMAT = "protocol=https, host=<git server>, username=<user>, password=<password or token>, one per line"


@dataclass(frozen=True)
class GitCredential:
    """A parsed gitCredentials secret.

    host: the git server, `name` or `name:port` (git's `host` attribute includes the port).
    """

    host: str
    username: str
    password: str
    protocol: str = "https"

    @property
    def hostname(self) -> str:
        return self.host.partition(":")[0]

    @property
    def port(self) -> int | None:
        _, _, port = self.host.partition(":")
        return int(port) if port else None


def _host_problem(host: str) -> str | None:
    name, colon, port = host.partition(":")
    if not DNS_NAME_RE.fullmatch(name):
        return "host is not a host name: expected a lowercase DNS name, optionally with :port (git.example.org:8443)"
    if colon and not (port.isdigit() and port.isascii() and 0 < int(port) < 65536):
        return "host has a port that is not a number in 1-65535"
    return None


def _parse(text: str) -> tuple[dict[str, str], list[str]]:
    """(attributes, problems) of `text`; lines may end in CRLF, blank lines are skipped."""
    values: dict[str, str] = {}
    problems: list[str] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.removesuffix("\r")
        if not line.strip():
            continue
        key, equals, value = line.partition("=")
        if not equals:
            problems.append(f"line {number} is not key=value ({_FORMAT})")
            continue
        if key not in ATTRIBUTES:
            # The key is not named: a line without a key may be the password itself.
            problems.append(
                f"line {number} has an attribute this credential does not use (use {', '.join(ATTRIBUTES)})"
            )
            continue
        if key in values:
            problems.append(f"{key} is given more than once: BinderHub passes one credential")
            continue
        if not value:
            problems.append(f"{key} is empty")
        elif value != value.strip():
            problems.append(f"{key} has surrounding spaces (git would send them); remove them")
        elif any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value):
            problems.append(f"{key} contains a control character; remove it")
        values[key] = value
    return values, problems


def git_credential_problems(text: str) -> list[str]:
    """What is wrong with a gitCredentials secret, one line each (empty: it is valid)."""
    values, problems = _parse(text)
    missing = [key for key in REQUIRED if key not in values]
    if missing:
        problems.append(
            f"needs {', '.join(missing)} ({_FORMAT})"
            + (
                "; the host because the git provider then builds only from it: BinderHub hands the credential "
                "to every server a build clones from"
                if "host" in missing
                else ""
            )
        )
    if values.get("host"):
        problem = _host_problem(values["host"])
        if problem:
            problems.append(problem)
    if values.get("protocol", "https") != "https":
        problems.append("protocol must be https: the credential must not travel unencrypted")
    return problems


def parse_git_credential(text: str) -> GitCredential:
    """The credential in `text`; raises ValueError (naming no value) when it is not valid."""
    problems = git_credential_problems(text)
    if problems:
        raise ValueError("; ".join(problems))
    values, _ = _parse(text)
    return GitCredential(**values)


def same_host_spec(credential: GitCredential) -> str:
    """A regex BinderHub's `GitRepoProvider.allowed_specs` takes: `git/` specs of https URLs on
    the credential's host (and port) only.

    A spec is `<url-escaped repository URL>/<ref>` and BinderHub matches it case-insensitively
    from its start (binderhub/repoproviders.py, RepoProvider.is_banned); the URL's `:` may be
    escaped (%3A, as BinderHub's page sends it) or not. `%2F` must follow the host, so the URL's
    host is that host: nothing (`@`, `.`, a port) can extend it.
    """
    colon = "(%3A|:)"
    port = f"{colon}{credential.port}" if credential.port is not None else ""
    return f"^https{colon}%2F%2F{re.escape(credential.hostname)}{port}%2F"
