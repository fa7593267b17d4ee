"""Warnings about configurations that work but expose more than the operator may think.

Shown in `pulumi preview` and `pulumi up` (Pulumi's log, not an error): the operator decides.
"""

from __future__ import annotations

from typing import Any

from config.model import StackConfig

# Repository credentials BinderHub uses for every build it runs.
REPOSITORY_SECRETS = {
    "githubToken": "GitHub token",
    "gitlabToken": "GitLab token",
    "gitCredentials": "git credentials",
}


def advice(cfg: StackConfig[Any], secrets: set[str] | frozenset[str]) -> list[str]:
    """One message per exposure: today, a repository credential on an anonymous hub."""
    messages = []
    if cfg.auth.type == "none":
        for key in sorted(set(REPOSITORY_SECRETS) & set(secrets)):
            messages.append(
                f"binderhub:{key}: this hub is anonymous (auth.type 'none'), so anyone who can reach it can "
                f"build and launch any repository the {REPOSITORY_SECRETS[key]} can read, private ones "
                "included, and read their contents in the running server. Use a token that reads public "
                "repositories only (a fine-grained GitHub token with no repository access, or a GitLab token "
                "with read_api on public projects), which still lifts API rate limits; or set an auth.type."
            )
    return messages
