"""scripts/smoke.py against a stand-in BinderHub and JupyterHub on the loopback (tests/smoke_server.py).

Each test runs the real client (sockets, TLS, chunked event streams) with timeouts of a
fraction of a second and names only 127.0.0.x addresses: host names reach the client through
an injected resolver, never through DNS.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import socket
import ssl
import sys
import textwrap
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
    Raw,
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


# ------------------------------------------------------------------ the reviewer's cases (issue #17 follow-up)


def test_a_failure_event_from_repo2docker_is_a_failed_build() -> None:
    """repo2docker reports `phase: failure`, which BinderHub passes on as it is (builder.py counts
    it as a failed build): the stream may then end without BinderHub's own `failed`."""
    events = [*successful_build()[:4], event("failure", "The command '/bin/sh -c false' returned 1")]
    with serving(Scenario(events=events)) as server:
        passed, summary, entries, _ = run_smoke(server)
    assert not passed
    assert f"the build of {REPOSITORY} failed: The command '/bin/sh -c false' returned 1" in summary
    assert entries[0] == smoke.T_BUILD


def test_each_phase_gets_its_own_time_so_a_build_longer_than_one_phase_timeout_passes() -> None:
    # five phases of 0.3 s each (1.5 s together), each well within the 0.8 s phase timeout
    build = successful_build()
    events: list[Any] = []
    for item in build:
        if item["phase"] in ("fetching", "building", "pushing", "built", "launching") and item is next(
            e for e in build if e["phase"] == item["phase"]
        ):
            events.append(0.3)
        events.append(item)
    assert sum(e for e in events if isinstance(e, float)) > 0.8
    with serving(Scenario(events=events)) as server:
        passed, _, _, output = run_smoke(server, phase_timeout=0.8)
    assert passed, output


def test_an_event_written_over_several_data_lines_is_one_event() -> None:
    # the server-sent events format: `data:` lines of one event are joined with newlines
    ready = 'data: {"phase": "ready",\ndata: "url": "{server}",\ndata: "token": "TOKEN"}\n\n'.replace(
        "TOKEN", SERVER_TOKEN
    )
    with serving(Scenario(events=[*successful_build()[:-1], Raw(ready)])) as server:
        passed, _, _, output = run_smoke(server)
    assert passed, output
    assert server.paths("POST") == [f"{SERVER_PATH}api/shutdown"]


def test_health_ok_false_with_every_listed_check_passing_fails_saying_so() -> None:
    odd = {"ok": False, "checks": [{"service": "JupyterHub API", "ok": True}]}
    with serving(Scenario(health=[(503, odd)])) as server:
        passed, summary, _, _ = run_smoke(server, phase_timeout=0.3)
    assert not passed
    assert "BinderHub /health answers 503 with ok false although none of the checks it lists fails" in summary


@pytest.mark.parametrize("body", [{"ok": True, "checks": None}, {"ok": True, "checks": "all fine"}, [1, 2]])
def test_a_health_report_of_the_wrong_shape_is_a_failure_not_a_traceback(body: Any) -> None:
    with serving(Scenario(health=[(200, json.dumps(body).encode())])) as server:
        passed, summary, _, _ = run_smoke(server, phase_timeout=0.3)
    assert not passed
    assert "from BinderHub's /health (no health report)" in summary


def test_a_server_url_with_no_usable_port_is_a_failure_not_a_traceback() -> None:
    events = [*successful_build()[:-1], event("ready", "", url="http://127.0.0.1:99999/user/x/", token="t")]
    with serving(Scenario(events=events)) as server:
        passed, summary, _, _ = run_smoke(server)
    assert not passed
    assert "http://127.0.0.1:99999/user/x/api/status has no usable port" in summary


def test_an_output_url_with_no_usable_port_fails_with_a_reason() -> None:
    out = io.StringIO()
    outputs = {"binder_url": "http://127.0.0.1:http/", "hub_url": "http://127.0.0.1/"}
    assert smoke.run(outputs, {}, out) == 1
    assert "the stack's binder_url output: http://127.0.0.1:http/ has no usable port" in out.getvalue()


def test_run_reports_an_unforeseen_error_as_a_failure() -> None:
    def broken(host: str, port: int) -> list[str]:
        raise RuntimeError("resolver exploded")

    with serving(Scenario()) as server:
        passed, summary, entries, _ = run_smoke(server, host=BINDER_HOST, resolver=broken)
    assert not passed
    assert summary.startswith("smoke test FAILED") and "RuntimeError: resolver exploded" in summary
    assert entries


def test_a_load_balancer_known_by_name_needs_a_cname_record() -> None:
    with serving(Scenario()) as server:
        passed, summary, entries, _ = run_smoke(
            server, host=BINDER_HOST, address="ingress-lb.example.net", resolver=resolver_of({}), phase_timeout=0.3
        )
    assert not passed
    assert "it needs a CNAME record pointing at ingress-lb.example.net" in summary
    assert smoke.T_DNS in entries


def test_a_generic_login_is_compared_as_urls_are_not_as_text() -> None:
    """auth.authorizeUrl written with capitals and the default port is where the hub sends logins
    to, spelt as browsers and OAuthenticator normalise it."""
    written = "HTTPS://Keycloak.Example.EDU:443/realms/lab/protocol/openid-connect/auth"
    scenario = login_scenario()
    with serving(scenario) as server:
        scenario.login_location = github_login(server, client_id="binder").replace(
            "https://github.com/login/oauth/authorize", KEYCLOAK
        )
        passed, _, _, output = run_smoke(server, auth_type="generic", client_id="binder", authorize_url=written)
        assert passed, output
        # another port or path is another endpoint
        elsewhere = written.replace(":443", ":8443")
        passed, summary, _, _ = run_smoke(server, auth_type="generic", client_id="binder", authorize_url=elsewhere)
        assert not passed and f"not {elsewhere}" in summary


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTPS://Hub.Example.EDU:443/hub/x?y=1", "https://hub.example.edu/hub/x"),
        ("http://hub.example.edu:80", "http://hub.example.edu/"),
        ("http://hub.example.edu:443/", "http://hub.example.edu:443/"),
        ("https://[::1]:443/a", "https://[::1]/a"),
    ],
)
def test_urls_are_normalised_as_rfc_3986_says(url: str, expected: str) -> None:
    assert smoke.normalised(url) == expected


def test_a_build_api_answering_after_the_connect_timeout_but_within_the_phase_is_waited_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """BinderHub sends its headers with the first event, after resolving the ref and checking the
    registry: that is the phase's time, not a connection's (scaled down: 0.2 s and 3 s)."""
    monkeypatch.setattr(smoke, "CONNECT_TIMEOUT", 0.2)
    with serving(Scenario(build_delay=0.6)) as server:
        passed, _, _, output = run_smoke(server, phase_timeout=3.0)
    assert passed, output


def test_a_build_api_silent_for_the_whole_phase_fails_as_no_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(smoke, "CONNECT_TIMEOUT", 0.1)
    with serving(Scenario(build_delay=5.0)) as server:
        passed, summary, entries, _ = run_smoke(server, phase_timeout=0.4)
    assert not passed
    assert "the build API took longer than smoke.phaseTimeout (0.4 s)" in summary
    assert "accepted the connection but sent no answer yet" in summary and "cannot connect" not in summary
    assert entries[0] == smoke.T_BINDER_LOGS


def test_a_slow_answer_is_worded_as_no_answer_yet_not_as_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(smoke, "CONNECT_TIMEOUT", 0.1)
    with serving(Scenario(health_delay=5.0)) as server:
        passed, summary, _, _ = run_smoke(server, phase_timeout=0.3)
    assert not passed
    assert "no answer yet from 127.0.0.1 (connected; nothing came back in" in summary
    assert "cannot connect" not in summary


# ------------------------------------------------------------------ handshakes refused, staging certificates


def test_a_refused_handshake_is_a_certificate_not_served_yet(certificate: tuple[Path, Path]) -> None:
    """The F5 NGINX Ingress Controller refuses the handshake (alert unrecognized_name) for a host
    whose certificate Secret does not exist yet: what a first `make up` with TLS starts with."""
    resolve = resolver_of({BINDER_HOST: "127.0.0.1"})
    refusing = server_tls(*certificate, alert=ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME)
    with serving(Scenario(), refusing) as server:
        passed, summary, entries, output = run_smoke(
            server, host=BINDER_HOST, address="127.0.0.1", resolver=resolve, phase_timeout=0.3
        )
        assert not passed
        assert f"no certificate served for {BINDER_HOST} yet (the TLS handshake was refused" in summary
        assert "cannot connect" not in output
        assert entries == (smoke.T_CERTIFICATES,)
        # and when DNS points elsewhere, that is named as the likely cause
        passed, summary, entries, _ = run_smoke(
            server, host=BINDER_HOST, address="127.0.0.3", resolver=resolve, phase_timeout=0.3
        )
    assert not passed
    assert f"no certificate served for {BINDER_HOST} yet" in summary
    assert f"DNS for {BINDER_HOST} does not point at 127.0.0.3" in summary
    assert entries == (smoke.T_DNS, smoke.T_CERTIFICATES)


@pytest.fixture(scope="module")
def staging_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A certificate for the hosts whose issuer names itself as Let's Encrypt's staging ones do."""
    if not shutil.which("openssl"):
        pytest.skip("the openssl CLI makes the test certificate")
    directory = tmp_path_factory.mktemp("staging")
    return self_signed_certificate(directory, BINDER_HOST, HUB_HOST, name="(STAGING) Pretend Pear X1")


def test_a_staging_certificate_is_accepted_with_tls_server_staging_and_said_so(
    staging_certificate: tuple[Path, Path],
) -> None:
    resolve = resolver_of({BINDER_HOST: "127.0.0.1"})
    with serving(Scenario(), server_tls(*staging_certificate)) as server:
        passed, _, _, output = run_smoke(server, host=BINDER_HOST, resolver=resolve, tls_staging=True)
        assert passed, output
        assert output.count(f"note: {BINDER_HOST} serves a Let's Encrypt staging certificate") == 1
        # the same certificate is no certificate at all for a production stack
        passed, summary, _, _ = run_smoke(server, host=BINDER_HOST, resolver=resolve, phase_timeout=0.3)
        assert not passed and f"certificate for {BINDER_HOST} not issued yet or not valid" in summary


def test_with_staging_the_host_name_is_still_checked(staging_certificate: tuple[Path, Path]) -> None:
    other = "other.example.edu"  # the certificate names binder. and hub., not this host
    resolve = resolver_of({other: "127.0.0.1"})
    with serving(Scenario(), server_tls(*staging_certificate)) as server:
        passed, summary, _, _ = run_smoke(server, host=other, resolver=resolve, tls_staging=True, phase_timeout=0.3)
    assert not passed
    assert f"certificate for {other} not issued yet or not valid" in summary


def test_with_staging_a_certificate_from_another_issuer_is_not_accepted(certificate: tuple[Path, Path]) -> None:
    resolve = resolver_of({BINDER_HOST: "127.0.0.1"})
    with serving(Scenario(), server_tls(*certificate)) as server:
        passed, summary, _, output = run_smoke(
            server, host=BINDER_HOST, resolver=resolve, tls_staging=True, phase_timeout=0.3
        )
    assert not passed
    assert f"certificate for {BINDER_HOST} not issued yet or not valid" in summary
    assert "staging certificate" not in output


def test_tls_server_staging_is_read_from_the_stacks_configuration() -> None:
    outputs = {"binder_url": "https://binder.example.edu/", "hub_url": "https://hub.example.edu/"}
    staging = {"binderhub:tls": {"objectValue": {"email": "a@example.edu", "server": "staging"}, "secret": False}}
    assert smoke.target_from(outputs, staging).tls_staging is True
    assert smoke.target_from(outputs, {}).tls_staging is False


# ------------------------------------------------------------------ values Pulumi lists as secrets

# `pulumi`: logs its arguments; `config --json` and `stack output --json` answer as the CLI does
# for a stack whose binderhub:auth holds a secret and whose hub_url output is secret: hidden
# without --show-secrets, in plaintext with it.
FAKE_PULUMI = """#!PYTHON
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_PULUMI_LOG"], "a") as log:
    print(" ".join(args), file=log)
show = "--show-secrets" in args
auth = {"type": "github", "clientId": "gh-client-id", "clientSecret": "TOP-SECRET-4711"}
if args[:2] == ["config", "--json"]:
    entry = {"value": json.dumps(auth), "objectValue": auth, "secret": True} if show else {"secret": True}
    client_secret = {"value": "TOP-SECRET-4711", "secret": True} if show else {"secret": True}
    print(json.dumps({"binderhub:auth": entry, "binderhub:oauthClientSecret": client_secret}))
elif args[:3] == ["stack", "output", "--json"]:
    print(json.dumps({"binder_url": os.environ["URL"], "hub_url": os.environ["URL"] if show else "[secret]"}))
else:
    sys.exit(1)
"""


def fake_pulumi(tmp_path: Path, url: str) -> tuple[dict[str, str], Path]:
    """An environment whose PATH holds only the fake `pulumi`, and the file it logs its calls to."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "pulumi"
    tool.write_text(textwrap.dedent(FAKE_PULUMI).replace("PYTHON", sys.executable))
    tool.chmod(0o755)
    log = tmp_path / "calls.log"
    return {"PATH": str(bin_dir), "FAKE_PULUMI_LOG": str(log), "URL": url}, log


def test_values_pulumi_lists_as_secrets_are_read_with_show_secrets_and_never_printed(tmp_path: Path) -> None:
    """binderhub:auth set with --secret (the README allows it) and a secret hub_url output: the
    smoke test reads them with --show-secrets in memory and prints no secret."""
    scenario = login_scenario()
    with serving(scenario) as server:
        scenario.login_location = github_login(server)
        env, log = fake_pulumi(tmp_path, server.url())
        pulumi = smoke.pulumi_cli("dev", env)
        listed_config = json.loads(pulumi(["config", "--json"]))
        listed_outputs = json.loads(pulumi(["stack", "output", "--json"]))
        assert listed_config["binderhub:auth"] == {"secret": True} and listed_outputs["hub_url"] == "[secret]"
        out = io.StringIO()
        code = smoke.run(listed_outputs, listed_config, out, pulumi=pulumi)
    assert code == 0, out.getvalue()
    assert "login goes to the github provider" in out.getvalue()
    assert "TOP-SECRET-4711" not in out.getvalue()
    calls = log.read_text().splitlines()
    assert "config --json --show-secrets --stack dev" in calls
    assert "stack output --json --show-secrets --stack dev" in calls


def test_without_pulumi_a_secret_setting_or_output_is_named_as_the_cause() -> None:
    out = io.StringIO()
    outputs = {"binder_url": "https://b.example.edu/", "hub_url": "https://h.example.edu/"}
    assert smoke.run(outputs, {"binderhub:auth": {"secret": True}}, out) == 1
    assert "binderhub:auth is stored as a secret and was not read with --show-secrets" in out.getvalue()
    out = io.StringIO()
    assert smoke.run({**outputs, "hub_url": "[secret]"}, {}, out) == 1
    assert "the stack's hub_url output is a secret" in out.getvalue() and "not deployed" not in out.getvalue()


def test_a_failing_pulumi_is_reported_not_raised(tmp_path: Path) -> None:
    env, _ = fake_pulumi(tmp_path, "http://127.0.0.1/")
    (tmp_path / "bin" / "pulumi").write_text("#!/bin/sh\necho 'error: decrypting: bad passphrase' >&2\nexit 255\n")
    out = io.StringIO()
    outputs = {"binder_url": "https://b.example.edu/", "hub_url": "https://h.example.edu/"}
    code = smoke.run(outputs, {"binderhub:auth": {"secret": True}}, out, pulumi=smoke.pulumi_cli("dev", env))
    assert code == 1
    assert (
        "`pulumi config --json --show-secrets --stack dev` failed: error: decrypting: bad passphrase" in out.getvalue()
    )
