"""A repository token on an anonymous hub is allowed, with a warning at preview."""

from config import parse_config
from config.advice import advice
from harness import Program
from variants import SECRET_VALUES

EXISTING = {"cloud": "existing", "registry": {"type": "dockerhub", "username": "alice"}}
SECRETS = {"registryPassword": SECRET_VALUES["registryPassword"], "githubToken": SECRET_VALUES["githubToken"]}


def test_a_token_on_an_anonymous_hub_is_warned_about() -> None:
    (message,) = advice(parse_config(EXISTING, set(SECRETS)), set(SECRETS))
    assert "binderhub:githubToken" in message and "anonymous" in message and "private ones" in message


def test_a_token_behind_login_is_not() -> None:
    cfg = {**EXISTING, "auth": {"type": "github", "clientId": "Iv1.abc", "allowAll": True}}
    secrets = {*SECRETS, "oauthClientSecret"}
    assert advice(parse_config(cfg, secrets), secrets) == []


def test_the_warning_reaches_the_pulumi_log_and_the_deployment_goes_on() -> None:
    run = Program(EXISTING, SECRETS).run()
    assert run.error is None and run.registrations
    assert any("binderhub:githubToken: this hub is anonymous" in w for w in run.warnings)
    assert SECRET_VALUES["githubToken"] not in " ".join(run.warnings)
