"""Private repositories: a self-hosted GitLab (repoProviders.gitlab.hostname, gitlabToken) and git
credentials for another git server (gitCredentials), on both shapes.

Under the mocks: the keys reach BinderHub's configuration in the chart values, the credentials
as Pulumi secrets and nowhere in plain text; bad credentials are refused without being shown.
The behaviour layer (tests/behaviour/test_private_repos.py) starts BinderHub on the rendered
charts and resolves and builds repositories with them.
"""

from __future__ import annotations

from typing import Any

import pytest
from behaviour.rules.git_credential_env import git_reads

from components.values.overlay import protected_problems
from config import ConfigError
from harness import Program, ProgramRun, find_plain, is_secret, unwrap
from variants import (
    EXISTING,
    PRIVATE_GIT_HOST,
    PRIVATE_GIT_PASSWORD,
    PRIVATE_GIT_USER,
    PRIVATE_GITLAB_HOST,
    SECRET_VALUES,
    VARIANTS,
    deploy,
)

# The variant of each shape with the private-repository keys, and its BinderHub release.
PRIVATE = {"classic": ("existing-private-repos-cors", "binderhub"), "service": ("service-private-repos", "binderhub")}
REGISTRY_PASSWORD = {"registryPassword": SECRET_VALUES["registryPassword"]}


def binderhub_config(run: ProgramRun, release: str) -> dict[str, Any]:
    """BinderHub's traitlets (`config:`) in the release's values, as sent (secret markers kept)."""
    return run.chart(release).raw_inputs["values"]["config"]


@pytest.mark.parametrize("shape", list(PRIVATE))
def test_the_self_hosted_gitlab_and_its_token_reach_binderhub(shape: str) -> None:
    variant, release = PRIVATE[shape]
    gitlab = binderhub_config(deploy(variant), release)["GitLabRepoProvider"]
    assert gitlab["hostname"] == PRIVATE_GITLAB_HOST
    assert is_secret(gitlab["private_token"])
    assert unwrap(gitlab["private_token"]) == SECRET_VALUES["gitlabToken"]


@pytest.mark.parametrize("shape", list(PRIVATE))
def test_the_git_credential_reaches_binderhub_as_a_secret_git_reads_unchanged(shape: str) -> None:
    variant, release = PRIVATE[shape]
    git = binderhub_config(deploy(variant), release)["GitRepoProvider"]
    assert is_secret(git["git_credentials"]) and is_secret(git["allowed_specs"])
    # What git in the build pod gets from repo2docker's helper: the password has a backslash.
    read = git_reads(unwrap(git["git_credentials"]), PRIVATE_GIT_HOST)
    assert (read["username"], read["password"]) == (PRIVATE_GIT_USER, PRIVATE_GIT_PASSWORD)


def test_a_public_self_hosted_gitlab_needs_no_token() -> None:
    run = Program({**EXISTING, "repoProviders": {"gitlab": {"hostname": "gitlab.uni.edu"}}}, REGISTRY_PASSWORD).run()
    assert run.error is None, run.error
    config = unwrap(binderhub_config(run, "binderhub"))
    assert config["GitLabRepoProvider"] == {"hostname": "gitlab.uni.edu"}
    assert "GitRepoProvider" not in config


@pytest.mark.parametrize("name", sorted(n for n, v in VARIANTS.items() if "gitCredentials" in v.secrets))
def test_the_git_credential_is_never_plain(name: str) -> None:
    """In no resource's inputs (as sent or as read back), outputs or stack outputs; the password
    also in the form BinderHub gets it (backslashes doubled)."""
    run = deploy(name)
    needles = [PRIVATE_GIT_PASSWORD, PRIVATE_GIT_PASSWORD.replace("\\", "\\\\"), SECRET_VALUES["gitCredentials"]]
    for reg in run.registrations:
        for document in (reg.raw_inputs, reg.inputs, reg.outputs):
            for needle in needles:
                assert not find_plain(document, needle), f"{reg.type} {reg.name}: {find_plain(document, needle)}"
    for output_name, output in run.outputs.items():
        assert not any(needle in str(output.value) for needle in needles), output_name


def refused(secret: str) -> str:
    run = Program(EXISTING, {**REGISTRY_PASSWORD, "gitCredentials": secret}).run()
    assert isinstance(run.error, ConfigError), run.error
    assert run.registrations == []
    return str(run.error)


@pytest.mark.parametrize(
    ("secret", "expected"),
    [
        # A token pasted alone, or a git-credentials URL (the store helper's file format)
        ("hunter2-secret-token", "line 1 is not key=value"),
        ("https://bot:hunter2-secret-token@git.example.org", "line 1 is not key=value"),
        ("host=git.example.org\nuser=bot\npassword=hunter2-secret-token", "line 2 has an attribute"),
        ("username=bot\npassword=hunter2-secret-token", "needs host"),
        ("host=git.example.org\nusername=bot", "needs password"),
        (
            "host=git.example.org\nusername=bot\npassword=hunter2-secret-token\npassword=x",
            "password is given more than",
        ),
        ("protocol=http\nhost=git.example.org\nusername=bot\npassword=hunter2-secret-token", "protocol must be https"),
        ("host=https://git.example.org\nusername=bot\npassword=hunter2-secret-token", "host is not a host name"),
        ("host=git.example.org:99999\nusername=bot\npassword=hunter2-secret-token", "host has a port that is not"),
        ("host=git.example.org\nusername=bot\npassword=hunter2-secret-token ", "password has surrounding spaces"),
        ("host=git.example.org\nusername=bot\npassword=hunter2-secret-token\t", "password has surrounding spaces"),
        ("host=git.example.org\nusername=bot\npassword=hunter2\x00secret-token", "password contains a control"),
    ],
)
def test_bad_git_credentials_are_refused_without_being_shown(secret: str, expected: str) -> None:
    message = refused(secret)
    assert f"binderhub:gitCredentials: {expected}" in message
    assert "hunter2" not in message


def test_git_credentials_from_a_windows_file_are_read() -> None:
    text = f"protocol=https\r\nhost={PRIVATE_GIT_HOST}:8443\r\nusername=bot\r\npassword=pw\\\\x\r\n"
    run = Program(EXISTING, {**REGISTRY_PASSWORD, "gitCredentials": text}).run()
    assert run.error is None, run.error
    git = unwrap(binderhub_config(run, "binderhub")["GitRepoProvider"])
    assert git_reads(git["git_credentials"], f"{PRIVATE_GIT_HOST}:8443")["password"] == "pw\\\\x"


@pytest.mark.parametrize("hostname", ["https://gitlab.uni.edu", "GitLab.uni.edu", "gitlab.uni.edu:8443", "gitlab"])
def test_a_gitlab_hostname_that_is_not_a_dns_name_is_refused(hostname: str) -> None:
    run = Program({**EXISTING, "repoProviders": {"gitlab": {"hostname": hostname}}}, REGISTRY_PASSWORD).run()
    assert isinstance(run.error, ConfigError)
    assert "binderhub:repoProviders.gitlab.hostname: " in str(run.error) and "is not a DNS name" in str(run.error)


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ({"GitRepoProvider": {"allowed_specs": [".*"]}}, "binderhub:gitCredentials"),
        ({"GitRepoProvider": {"git_credentials": "username=x\\npassword=y"}}, "binderhub:gitCredentials"),
        ({"GitLabRepoProvider": {"hostname": "gitlab.uni.edu"}}, "binderhub:repoProviders.gitlab.hostname"),
    ],
)
@pytest.mark.parametrize("chart", ["binderhub", "binderhub-service"])
def test_helm_values_cannot_widen_or_replace_what_these_keys_set(chart: str, path: dict[str, Any], key: str) -> None:
    """Opening git/ to other hosts would hand them the credential; a credential in Helm values
    would be plain text in the stack file."""
    (problem,) = protected_problems(chart, {"config": path})
    assert key in problem
