"""scripts/smoke.py against a stand-in BinderHub and JupyterHub on the loopback (tests/smoke_server.py).

Each test runs the real client (sockets, TLS, chunked event streams) with timeouts of a
fraction of a second and names only 127.0.0.x addresses: host names reach the client through
an injected resolver, never through DNS.
"""

from __future__ import annotations

import io
import re
import shutil
import socket
import ssl
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from smoke_server import (
    HEALTHY,
    SERVER_PATH,
    SERVER_TOKEN,
    STALL,
    LoopbackServer,
    Scenario,
    event,
    self_signed_certificate,
    server_tls,
    serving,
    successful_build,
)

from harness import ROOT_DIR

sys.path.insert(0, str(ROOT_DIR / "scripts"))
import smoke

REPOSITORY = "gh/binderhub-ci-repos/cached-minimal-dockerfile/HEAD"
BINDER_HOST = "binder.example.edu"
HUB_HOST = "hub.example.edu"
GITHUB_CLIENT = "gh-client-id"
KEYCLOAK = "https://keycloak.example.edu/realms/lab/protocol/openid-connect/auth"


def resolver_of(table: dict[str, str]) -> Callable[[str, int], list[str]]:
    """Names to loopback addresses; any other name does not resolve (as a missing record)."""

    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [table[host]]

    return resolve


def run_smoke(
    server: LoopbackServer,
    *,
    host: str = "127.0.0.1",
    address: str | None = None,
    resolver: Callable[[str, int], list[str]] | None = None,
    context: ssl.SSLContext | None = None,
    timeout: float = 10.0,
    phase_timeout: float = 2.0,
    **auth: Any,
) -> tuple[bool, str, tuple[str, ...], str]:
    """(passed, summary, README entries, everything printed) of a smoke test of `server`, its
    binder and hub URLs on `host` (resolved by `resolver`), `address` the ingress_address output."""
    out = io.StringIO()
    url = server.url(host)
    target = smoke.Target(
        binder_url=url,
        hub_url=url,
        ingress_address=address,
        callback_url=f"{url}hub/oauth_callback",
        **auth,
    )
    settings = smoke.Settings(repository=REPOSITORY, timeout=timeout, phase_timeout=phase_timeout)
    check = smoke.Smoke(
        target,
        settings,
        out=out,
        resolver=resolver or smoke.system_resolver,
        ssl_context=context or ssl.create_default_context(),
        poll_interval=0.02,
    )
    passed, summary, entries = check.run()
    return passed, summary, entries, out.getvalue()


def phases_printed(output: str) -> list[str]:
    return re.findall(r"^\s+\[\s*[\d.]+s\] (\w+)(?::|$)", output, re.M)


# ------------------------------------------------------------------ anonymous hub: build and launch


def test_a_working_hub_builds_launches_reaches_and_stops_the_server() -> None:
    with serving(Scenario()) as server:
        passed, summary, entries, output = run_smoke(server)
    assert passed, output
    assert summary.startswith("smoke test passed") and REPOSITORY in summary
    assert entries == ()
    # each phase printed once, in the order it arrived (building had three events)
    printed = [p for p in phases_printed(output) if p in (*smoke_phases(), "ready")]
    assert printed == [*smoke_phases(), "ready"]
    build = next(r for r in server.requests if r.path.startswith("/build/"))
    assert build.path == f"/build/{REPOSITORY}" and build.headers["Accept"] == "text/event-stream"
    # the server reached and stopped with the stream's token
    status = next(r for r in server.requests if r.path == f"{SERVER_PATH}api/status")
    assert status.headers["Authorization"] == f"token {SERVER_TOKEN}"
    assert server.paths("POST") == [f"{SERVER_PATH}api/shutdown"]


def smoke_phases() -> list[str]:
    return ["waiting", "fetching", "building", "pushing", "built", "launching"]


def test_a_failed_build_fails_with_binderhubs_message_and_points_at_the_build_logs() -> None:
    events = [*successful_build()[:4], event("failed", "Error during build: Step 2/3 : RUN false returned 1")]
    with serving(Scenario(events=events)) as server:
        passed, summary, entries, output = run_smoke(server)
    assert not passed
    assert "build of gh/binderhub-ci-repos/cached-minimal-dockerfile/HEAD failed" in summary
    assert "RUN false returned 1" in summary
    assert "\n" not in summary  # one line; the build's last messages are printed above it
    assert "Step 1/3 : RUN true" in output
    assert smoke.T_BUILD in entries
    assert not any("api/status" in r.path for r in server.requests)  # nothing launched to reach


def test_a_failed_launch_points_at_the_launch_and_the_hub() -> None:
    events = [*successful_build()[:-1], event("failed", "Launch attempt 3 failed: spawn timeout")]
    with serving(Scenario(events=events)) as server:
        passed, summary, entries, _ = run_smoke(server)
    assert not passed and "launch of" in summary and "spawn timeout" in summary
    assert entries[0] == smoke.T_LAUNCH and smoke.T_HUB_LOGS in entries


def test_a_stalled_build_fails_at_the_phase_timeout_although_keepalives_arrive() -> None:
    events = [*successful_build()[:3], STALL]
    with serving(Scenario(events=events)) as server:
        passed, summary, entries, output = run_smoke(server, phase_timeout=0.5)
        keepalives = server.keepalives
    assert not passed
    assert "building took longer than smoke.phaseTimeout (0.5 s)" in summary
    assert keepalives > 0  # the stream was alive, only the build did not move on
    assert entries[0] == smoke.T_BUILD
    assert phases_printed(output)[-1] == "building"


def test_the_whole_test_is_bounded_even_when_each_phase_moves_on() -> None:
    # a new phase every 0.15 s, never ready: no phase times out, the whole test does
    events = [e for phase in ["waiting", "fetching", "building", "pushing"] * 20 for e in (event(phase, "..."), 0.15)]
    with serving(Scenario(events=events)) as server:
        passed, summary, _, _ = run_smoke(server, timeout=0.6, phase_timeout=5.0)
    assert not passed
    assert "the smoke test took longer than smoke.timeout (0.6 s)" in summary


def test_a_stream_that_ends_without_ready_fails() -> None:
    with serving(Scenario(events=successful_build()[:-1])) as server:
        passed, summary, _, _ = run_smoke(server)
    assert not passed and "ended during launching without ready or failed" in summary


def test_a_server_that_is_slow_to_answer_is_waited_for_then_stopped() -> None:
    with serving(Scenario(status_answers=[503, 503, 200])) as server:
        passed, _, _, output = run_smoke(server)
    assert passed, output
    assert output.count("waiting: the server answered 503") == 1  # said once, not at every try
    assert server.paths("POST") == [f"{SERVER_PATH}api/shutdown"]


def test_a_server_that_cannot_be_stopped_fails() -> None:
    with serving(Scenario(shutdown_status=500)) as server:
        passed, summary, _, _ = run_smoke(server)
    assert not passed and "could not stop the server" in summary and "500" in summary


# ------------------------------------------------------------------ BinderHub's health


def test_5xx_from_health_fails_at_the_phase_timeout_naming_the_status() -> None:
    with serving(Scenario(health=[(502, b"<html>502 Bad Gateway</html>")])) as server:
        passed, summary, entries, _ = run_smoke(server, phase_timeout=0.3)
    assert not passed
    assert "BinderHub health took longer than smoke.phaseTimeout (0.3 s)" in summary
    assert "502 Bad Gateway" in summary
    assert smoke.T_RUNNING in entries
    assert not any(r.path.startswith("/build/") for r in server.requests)


def test_failing_health_checks_are_named_and_passing_ones_are_not() -> None:
    unhealthy = {
        "ok": False,
        "checks": [
            {"service": "JupyterHub API", "ok": True},
            {"service": "Docker registry", "ok": False},
        ],
    }
    with serving(Scenario(health=[(503, unhealthy)])) as server:
        passed, summary, _, _ = run_smoke(server, phase_timeout=0.3)
    assert not passed
    assert "failing checks: Docker registry" in summary and "JupyterHub API" not in summary


def test_a_hub_that_becomes_healthy_is_waited_for() -> None:
    unhealthy = {"ok": False, "checks": [{"service": "JupyterHub API", "ok": False}]}
    with serving(Scenario(health=[(503, unhealthy), (503, unhealthy), (200, HEALTHY)])) as server:
        passed, _, _, output = run_smoke(server)
    assert passed, output
    assert output.count("waiting: BinderHub /health: failing checks: JupyterHub API") == 1


def test_an_informational_check_over_its_limit_does_not_fail_the_test() -> None:
    # BinderHub marks the pod quota `_ignore_failure`: over quota is not unhealthy
    over_quota = {
        "ok": True,
        "checks": [
            {"service": "JupyterHub API", "ok": True},
            {"service": "Pod quota", "ok": False, "total_pods": 50, "quota": 42, "_ignore_failure": True},
        ],
    }
    with serving(Scenario(health=[(200, over_quota)])) as server:
        passed, _, _, output = run_smoke(server)
    assert passed, output
    assert "note: Pod quota" in output


# ------------------------------------------------------------------ DNS and certificates


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if not shutil.which("openssl"):
        pytest.skip("the openssl CLI makes the test certificate")
    return self_signed_certificate(tmp_path_factory.mktemp("tls"), BINDER_HOST, HUB_HOST)


def test_a_certificate_not_issued_yet_is_waited_for_then_reported(certificate: tuple[Path, Path]) -> None:
    """The ingress serves a certificate nobody trusts (the controller's own, before cert-manager
    has one): the test waits, then says the certificate is not issued."""
    resolve = resolver_of({BINDER_HOST: "127.0.0.1"})
    with serving(Scenario(), server_tls(*certificate)) as server:
        passed, summary, entries, _ = run_smoke(
            server, host=BINDER_HOST, address="127.0.0.1", resolver=resolve, phase_timeout=0.3
        )
    assert not passed
    assert f"certificate for {BINDER_HOST} not issued yet or not valid" in summary
    assert entries == (smoke.T_CERTIFICATES,)


def test_a_trusted_certificate_for_the_host_is_accepted(certificate: tuple[Path, Path]) -> None:
    """The same server once its certificate is trusted: the client checks it against the URL's
    host (SNI) and sends that host, although it connects to the resolved address."""
    resolve = resolver_of({BINDER_HOST: "127.0.0.1"})
    trusting = ssl.create_default_context(cafile=str(certificate[0]))
    with serving(Scenario(), server_tls(*certificate)) as server:
        passed, _, _, output = run_smoke(
            server, host=BINDER_HOST, address="127.0.0.1", resolver=resolve, context=trusting
        )
    assert passed, output
    assert {r.headers["Host"] for r in server.requests} == {f"{BINDER_HOST}:{server.port}"}


def test_dns_pointing_elsewhere_explains_the_missing_certificate(certificate: tuple[Path, Path]) -> None:
    """DNS sends the host to another server (an old one, here the loopback stand-in) whose
    certificate does not fit: Let's Encrypt cannot reach the ingress, and the message says why."""
    resolve = resolver_of({BINDER_HOST: "127.0.0.1"})
    with serving(Scenario(), server_tls(*certificate)) as server:
        passed, summary, entries, _ = run_smoke(
            server, host=BINDER_HOST, address="127.0.0.3", resolver=resolve, phase_timeout=0.3
        )
    assert not passed
    assert f"certificate not issued yet: DNS for {BINDER_HOST} does not point at 127.0.0.3" in summary
    assert "it resolves to 127.0.0.1" in summary
    assert entries == (smoke.T_DNS, smoke.T_CERTIFICATES)


def test_dns_pointing_where_nothing_answers_is_reported() -> None:
    with serving(Scenario()) as server:
        # 127.0.0.2 is loopback too, and nothing listens there
        resolve = resolver_of({BINDER_HOST: "127.0.0.2"})
        passed, summary, entries, _ = run_smoke(
            server, host=BINDER_HOST, address="127.0.0.1", resolver=resolve, phase_timeout=0.3
        )
    assert not passed
    assert f"cannot connect to {BINDER_HOST}" in summary
    assert f"DNS for {BINDER_HOST} does not point at 127.0.0.1 (it resolves to 127.0.0.2)" in summary
    assert smoke.T_DNS in entries


def test_every_address_the_host_resolves_to_is_tried() -> None:
    """As browsers do: a first address that refuses (an IPv6 record nothing serves, say) is not the end."""
    with serving(Scenario()) as server:
        passed, _, _, output = run_smoke(
            server, host=BINDER_HOST, resolver=lambda host, port: ["127.0.0.2", "127.0.0.1"]
        )
    assert passed, output


def test_a_host_without_dns_record_is_reported() -> None:
    with serving(Scenario()) as server:
        passed, summary, _, _ = run_smoke(
            server, host=BINDER_HOST, address="127.0.0.1", resolver=resolver_of({}), phase_timeout=0.3
        )
    assert not passed
    assert f"DNS for {BINDER_HOST} does not resolve yet (it needs an A record pointing at 127.0.0.1)" in summary


def test_dns_records_created_while_waiting_are_picked_up() -> None:
    table: dict[str, str] = {}
    lookups = 0

    def resolve(host: str, port: int) -> list[str]:
        nonlocal lookups
        lookups += 1
        if lookups == 3:  # the record appears after the first tries
            table[BINDER_HOST] = "127.0.0.1"
        return resolver_of(table)(host, port)

    with serving(Scenario()) as server:
        passed, _, _, output = run_smoke(server, host=BINDER_HOST, address="127.0.0.1", resolver=resolve)
    assert passed, output
    assert "waiting: DNS for binder.example.edu does not resolve yet" in output


# ------------------------------------------------------------------ a hub with login


def github_login(server: LoopbackServer, client_id: str = GITHUB_CLIENT, callback: str | None = None) -> str:
    redirect = callback or f"{server.url()}hub/oauth_callback"
    query = f"response_type=code&redirect_uri={_quote(redirect)}&client_id={client_id}&state=eyJzdGF0ZSI"
    return f"https://github.com/login/oauth/authorize?{query}"


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


def login_scenario() -> Scenario:
    return Scenario(events=[])  # a hub with login is not built on: a stream would not be read


def test_a_github_login_going_to_github_with_this_hubs_client_and_callback_passes() -> None:
    scenario = login_scenario()
    with serving(scenario) as server:
        scenario.login_location = github_login(server)
        passed, summary, _, output = run_smoke(server, auth_type="github", client_id=GITHUB_CLIENT)
    assert passed, output
    assert "JupyterHub 5.3.0" in summary
    assert {"/health", "/hub/health", "/hub/api", "/hub/oauth_login"} <= set(server.paths())
    assert not any(r.path.startswith("/build/") for r in server.requests)


@pytest.mark.parametrize(
    ("wrong", "expected"),
    [
        ({"client_id": "someone-elses-app"}, "client_id is ['someone-elses-app'], not ['gh-client-id']"),
        ({"callback": "http://127.0.0.1:1/hub/oauth_callback"}, "redirect_uri is ['http://127.0.0.1:1/hub/"),
    ],
)
def test_a_github_login_with_another_client_or_callback_fails(wrong: dict[str, str], expected: str) -> None:
    scenario = login_scenario()
    with serving(scenario) as server:
        scenario.login_location = github_login(server, **wrong)
        passed, summary, entries, _ = run_smoke(server, auth_type="github", client_id=GITHUB_CLIENT)
    assert not passed
    assert "the login redirect is wrong" in summary and expected in summary
    assert entries[0] == smoke.T_LOGIN


def test_a_generic_login_must_go_to_the_configured_provider() -> None:
    scenario = login_scenario()
    with serving(scenario) as server:
        scenario.login_location = github_login(server, client_id="binder")
        passed, summary, _, _ = run_smoke(server, auth_type="generic", client_id="binder", authorize_url=KEYCLOAK)
        assert not passed
        assert f"it goes to https://github.com/login/oauth/authorize, not {KEYCLOAK}" in summary
        scenario.login_location = github_login(server, client_id="binder").replace(
            "https://github.com/login/oauth/authorize", KEYCLOAK
        )
        passed, _, _, output = run_smoke(server, auth_type="generic", client_id="binder", authorize_url=KEYCLOAK)
        assert passed, output


def test_a_hub_that_does_not_redirect_to_a_login_fails() -> None:
    with serving(login_scenario()) as server:  # no login_location: /hub/oauth_login is a 404
        passed, summary, _, _ = run_smoke(server, auth_type="github", client_id=GITHUB_CLIENT, phase_timeout=0.3)
    assert not passed and "404 Not Found instead of a redirect to the login provider" in summary


# ------------------------------------------------------------------ outputs, config, README


def test_the_defaults_are_the_config_models() -> None:
    from config.model import SmokeConfig

    model = SmokeConfig.model_validate({})
    settings = smoke.settings_from_config({})
    assert (settings.enabled, settings.repository) == (model.enabled, model.repository)
    assert (settings.timeout, settings.phase_timeout) == (model.timeout, model.phase_timeout)


def test_settings_and_target_come_from_pulumis_listings() -> None:
    config = {
        "binderhub:smoke": {"objectValue": {"repository": "gh/org/repo/main", "phaseTimeout": 30}, "secret": False},
        "binderhub:auth": {"objectValue": {"type": "github", "clientId": "abc"}, "secret": False},
    }
    settings = smoke.settings_from_config(config)
    assert (settings.repository, settings.phase_timeout, settings.timeout) == ("gh/org/repo/main", 30, 1200)
    outputs = {"binder_url": "https://binder.example.edu/", "hub_url": "https://hub.example.edu/", "kubeconfig": "x"}
    target = smoke.target_from({**outputs, "ingress_address": "192.0.2.7"}, config)
    assert (target.auth_type, target.client_id, target.ingress_address) == ("github", "abc", "192.0.2.7")
    assert target.callback_url == "https://hub.example.edu/hub/oauth_callback"


@pytest.mark.parametrize(
    ("outputs", "config", "message"),
    [
        ({}, {}, "no binder_url output"),
        (
            {"binder_url": "http://b/", "hub_url": "http://h/"},
            {"binderhub:smoke": {"secret": True}},
            "binderhub:smoke is stored as a secret",
        ),
        (
            {"binder_url": "http://b/", "hub_url": "http://h/"},
            {"binderhub:smoke": {"objectValue": {"timeout": "soon"}, "secret": False}},
            "binderhub:smoke.timeout must be a number of seconds",
        ),
    ],
)
def test_unusable_outputs_or_config_fail_with_a_reason(
    outputs: dict[str, Any], config: dict[str, Any], message: str
) -> None:
    out = io.StringIO()
    assert smoke.run(outputs, config, out) == 1
    assert message in out.getvalue() and out.getvalue().strip().splitlines()[-1].startswith("smoke test FAILED")


def test_every_troubleshooting_entry_the_smoke_test_names_is_in_the_readme() -> None:
    readme = (ROOT_DIR / "README.md").read_text()
    section = readme.split("\n## Troubleshooting\n", 1)[1].split("\n## ", 1)[0]
    titles = set(re.findall(r"^- \*\*(.+?)\*\*", section, re.M))
    assert set(smoke.TROUBLESHOOTING) <= titles, set(smoke.TROUBLESHOOTING) - titles


def test_failure_prints_the_readme_entries_before_the_summary_line() -> None:
    out = io.StringIO()
    code = smoke.report(False, "smoke test FAILED after 3 s: x", (smoke.T_BUILD, smoke.T_BINDER_LOGS), out)
    lines = out.getvalue().splitlines()
    assert code == 1
    assert lines == ['See README.md, Troubleshooting: "A build", "BinderHub logs".', "smoke test FAILED after 3 s: x"]
