"""A repository token on an anonymous hub is allowed, with a warning at preview."""

from config import parse_config
from config.advice import advice
from harness import Program
from variants import SECRET_VALUES

EXISTING = {"cloud": "existing", "registry": {"type": "dockerhub", "username": "alice"}}
SECRETS = {"registryPassword": SECRET_VALUES["registryPassword"], "githubToken": SECRET_VALUES["githubToken"]}


def test_a_token_on_an_anonymous_hub_is_warned_about() -> None:
    (message,) = [m for m in advice(parse_config(EXISTING, set(SECRETS)), set(SECRETS)) if "githubToken" in m]
    assert "binderhub:githubToken" in message and "anonymous" in message and "private ones" in message


def test_a_token_behind_login_is_not() -> None:
    cfg = {**EXISTING, "domain": "uni.edu", "tls": {"email": "ops@uni.edu"}}
    cfg["auth"] = {"type": "github", "clientId": "Iv1.abc", "allowAll": True}
    secrets = {*SECRETS, "oauthClientSecret"}
    assert not any("githubToken" in m for m in advice(parse_config(cfg, secrets), secrets))


def test_an_existing_cluster_is_told_that_policies_depend_on_its_network_plugin() -> None:
    (note,) = advice(parse_config(EXISTING, {"registryPassword"}), {"registryPassword"})
    assert "network plugin enforces them" in note and "flannel" in note
    # The clusters the program creates enforce them (test_node_pools): no note there.
    assert advice(parse_config({"cloud": "aws"}), set()) == []


def test_the_warning_reaches_the_pulumi_log_and_the_deployment_goes_on() -> None:
    run = Program(EXISTING, SECRETS).run()
    assert run.error is None and run.registrations
    assert any("binderhub:githubToken: this hub is anonymous" in w for w in run.warnings)
    assert SECRET_VALUES["githubToken"] not in " ".join(run.warnings)


def test_a_production_api_open_to_every_address_is_warned_about_until_narrowed() -> None:
    prod = {"cloud": "azure", "protect": True}
    (note,) = advice(parse_config(prod), set())
    assert "binderhub:cluster.apiAccessCidrs is 0.0.0.0/0" in note and "CI runners" in note
    narrowed = {**prod, "cluster": {"apiAccessCidrs": ["198.51.100.0/24"]}}
    assert advice(parse_config(narrowed), set()) == []
    # A trial stack (not protected) is not nagged.
    assert advice(parse_config({"cloud": "gcp", "cluster": {"project": "my-project-1"}}), set()) == []
