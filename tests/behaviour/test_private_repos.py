"""Private repositories, as BinderHub started from the rendered charts handles them.

For each hub variant with the private-repository keys (a self-hosted GitLab in
`repoProviders.gitlab.hostname` with `gitlabToken`, and `gitCredentials` for another git host),
run_binderhub.py takes the specs in deployments.PRIVATE_REPO_SPECS through BinderHub's own
providers: what BinderHub asks GitLab (host and token), which git/ specs it allows, and the
build pod it makes, whose GIT_CREDENTIAL_ENV is read back the way git in repo2docker reads it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from behaviour.charts import secret_data
from behaviour.deployments import PRIVATE_SHA, Deployment, deployments, has_private_repos, hub_variants
from behaviour.rules.git_credential_env import git_reads
from variants import (
    PRIVATE_GIT_HOST,
    PRIVATE_GIT_PASSWORD,
    PRIVATE_GIT_USER,
    PRIVATE_GITLAB_HOST,
    SECRET_VALUES,
    VARIANTS,
)

GITLAB_TOKEN = SECRET_VALUES["gitlabToken"]


@pytest.fixture(params=[name for name in hub_variants() if has_private_repos(VARIANTS[name])])
def deployment(request: pytest.FixtureRequest) -> Deployment:
    found = deployments()[request.param]
    assert found.binderhub["errors"] == [], found.binderhub["errors"][0][-3000:]
    return found


def _credential_env(repo: dict[str, Any]) -> str:
    """The build container's GIT_CREDENTIAL_ENV (BinderHub sets it only when there are credentials)."""
    container = repo["build_pod"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container.get("env") or []}
    assert "GIT_CREDENTIAL_ENV" in env, f"the build pod of {repo['spec']} gets no git credentials"
    return env["GIT_CREDENTIAL_ENV"]


def test_gitlab_repositories_come_from_the_self_hosted_gitlab_with_the_token(deployment: Deployment) -> None:
    repo = deployment.private_repo("gitlab")
    assert repo["hostname"] == PRIVATE_GITLAB_HOST
    assert not repo["banned"]
    # The ref is resolved with GitLab's API on that host, the token as its private_token parameter.
    (request,) = repo["api_requests"]
    url = urlsplit(request["url"])
    assert (url.scheme, url.hostname) == ("https", PRIVATE_GITLAB_HOST)
    assert url.path == "/api/v4/projects/lab%2Fprivate-project/repository/commits/main"
    assert parse_qs(url.query)["private_token"] == [GITLAB_TOKEN]
    # The build clones from that host, and git there is given the token.
    assert repo["repo_url"] == f"https://{PRIVATE_GITLAB_HOST}/lab/private-project.git"
    assert git_reads(_credential_env(repo), PRIVATE_GITLAB_HOST)["password"] == GITLAB_TOKEN


def test_a_git_repository_on_the_credentials_host_builds_with_them(deployment: Deployment) -> None:
    repo = deployment.private_repo("git-host")
    assert not repo["banned"]
    assert repo["resolved_ref"] == PRIVATE_SHA
    assert repo["repo_url"] == f"https://{PRIVATE_GIT_HOST}/lab/private.git"
    container = repo["build_pod"]["spec"]["containers"][0]
    assert repo["repo_url"] in container["args"]
    read = git_reads(_credential_env(repo), PRIVATE_GIT_HOST)
    assert (read["username"], read["password"]) == (PRIVATE_GIT_USER, PRIVATE_GIT_PASSWORD)


@pytest.mark.parametrize("name", ["other-host", "longer-name", "user-info", "plain-http"])
def test_git_specs_that_would_send_the_credential_elsewhere_are_refused(deployment: Deployment, name: str) -> None:
    """git answers any server's request for credentials with the helper's: BinderHub refuses
    these specs before resolving or building them."""
    repo = deployment.private_repo(name)
    assert repo["banned"], f"{repo['spec']} is built with the credential for {PRIVATE_GIT_HOST}"
    assert "build_pod" not in repo


def test_the_credentials_live_in_secrets_only(deployment: Deployment) -> None:
    """Among the rendered objects, only Secrets hold the credentials (BinderHub reads its
    configuration from one); no ConfigMap, Deployment or other object shows them."""
    needles = [PRIVATE_GIT_PASSWORD.replace("\\", "\\\\"), GITLAB_TOKEN]
    in_secrets = b"".join(
        value for o in deployment.objects if o.get("kind") == "Secret" for value in secret_data(o).values()
    )
    for needle in needles:
        assert needle.encode() in in_secrets
    for o in deployment.objects:
        if o.get("kind") != "Secret":
            shown = [leaf for leaf in _strings(o) if any(needle in leaf for needle in needles)]
            assert shown == [], f"{o['kind']} {o['metadata']['name']}"


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in (*_strings(key), *_strings(item))]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return [value] if isinstance(value, str) else []
