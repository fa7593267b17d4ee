"""The whole program under mocks: every committed stack file and the existing-cluster variants."""

import time
from typing import Any

import pytest

from harness import (
    LOAD_BALANCER_IP,
    Program,
    ProgramRun,
    RunOptions,
    find_plain,
    is_secret,
    run_stack,
    stack_file_config,
    stack_files,
    unwrap,
)
from schemas import assert_all_values_valid

# Values a test can search for: none may appear outside a secret wrapper anywhere.
SECRET_VALUES = {
    "registryPassword": "dckr_pat_0123456789abcdef",
    "oauthClientSecret": "oauth-client-secret-abcdef0123",
    "githubToken": "ghp_0123456789abcdefghijklmnop",
    "gitlabToken": "glpat-0123456789abcdefghij",
    "kubeconfig": "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user: {token: given-kube-token-42}\n",
}
STACK_SECRETS = {
    # what each committed stack needs (the README lists the `--secret` lines)
    "dev": ["registryPassword"],
    "prod": ["oauthClientSecret"],
    "aws": [],
    "gcp": [],
    "baremetal": ["registryPassword", "oauthClientSecret"],
}
K8S_PROVIDER = "pulumi:providers:kubernetes"
EXISTING = {"cloud": "existing", "registry": {"type": "dockerhub", "username": "alice"}}


def secrets_for(names: list[str]) -> dict[str, str]:
    return {name: SECRET_VALUES[name] for name in names}


def run_ok(config: dict[str, Any], secrets: list[str], **options: Any) -> ProgramRun:
    run = Program(config, secrets_for(secrets), options=RunOptions(**options)).run()
    assert run.error is None, f"program failed: {run.error!r}"
    return run


def hub_release(run: ProgramRun):
    return run.chart("binderhub")


def binderhub_values(run: ProgramRun) -> dict[str, Any]:
    return unwrap(hub_release(run).inputs["values"])


# ------------------------------------------------------------------ every committed stack


@pytest.mark.parametrize("stack", stack_files())
def test_committed_stack_deploys_and_validates(stack: str) -> None:
    run = run_stack(stack, secrets_for(STACK_SECRETS.get(stack, [])))
    # Timed on a second run: the first one also imports the cloud SDKs (over a second for GCP).
    started = time.perf_counter()
    run_stack(stack, secrets_for(STACK_SECRETS.get(stack, [])))
    elapsed = time.perf_counter() - started
    assert run.error is None, f"Pulumi.{stack}.yaml: {run.error!r}"
    assert assert_all_values_valid(run) >= 2
    expected = {
        "binder_url",
        "hub_url",
        "image_prefix",
        "registry_url",
        "ingress_address",
        "cluster_name",
        "kubeconfig",
    }
    # the OAuth app's callback is printed whenever users log in
    if stack_file_config(stack).get("auth", {}).get("type", "none") != "none":
        expected.add("oauth_callback_url")
    assert set(run.outputs) == expected
    assert run.outputs["kubeconfig"].secret
    assert run.outputs["binder_url"].value.startswith(("http://", "https://"))
    print(
        f"\nPulumi.{stack}.yaml: program evaluated under mocks in {elapsed:.2f} s ({len(run.registrations)} resources)"
    )
    assert elapsed < 2.0, f"evaluation took {elapsed:.2f} s"


@pytest.mark.parametrize("stack", stack_files())
def test_committed_stack_files_hold_no_secret(stack: str) -> None:
    config = stack_file_config(stack)  # asserts no `secure:` value
    text = repr(config)
    for value in SECRET_VALUES.values():
        assert value not in text


# ------------------------------------------------------------------ variants on an existing cluster

VARIANTS: dict[str, tuple[dict[str, Any], list[str]]] = {
    "no domain": (EXISTING, ["registryPassword"]),
    "domain + TLS": (
        {**EXISTING, "domain": "example.org", "tls": {"email": "ops@example.org", "server": "staging"}},
        ["registryPassword"],
    ),
    "custom registry": (
        {
            **EXISTING,
            "registry": {
                "type": "custom",
                "url": "https://harbor.example.org",
                "tokenUrl": "https://harbor.example.org/service/token?service=harbor-registry",
                "username": "robot$binder",
                "project": "binder",
            },
        },
        ["registryPassword"],
    ),
    "existing ingress class": (
        {**EXISTING, "ingress": {"controller": "existing", "className": "traefik", "address": "198.51.100.4"}},
        ["registryPassword"],
    ),
    "pink builder": ({**EXISTING, "builder": "pink"}, ["registryPassword"]),
    "repo tokens + cors": (
        {**EXISTING, "cors": {"allowOrigin": "*"}},
        ["registryPassword", "githubToken", "gitlabToken"],
    ),
    "given kubeconfig": ({**EXISTING, "cluster": {"context": "lab"}}, ["registryPassword", "kubeconfig"]),
    "bare metal: openebs + host ports": (
        {**EXISTING, "cluster": {"storage": "openebs", "externalIPs": ["192.0.2.10"], "exposeIngress": "hostPorts"}},
        ["registryPassword"],
    ),
    "bare metal: one docker node, no registry": (
        {
            "cloud": "existing",
            "cluster": {"runtime": "docker", "nodes": 1},
            "builder": "host",
            "registry": {"type": "none"},
        },
        [],
    ),
}


@pytest.fixture(params=list(VARIANTS), ids=list(VARIANTS))
def variant(request: pytest.FixtureRequest) -> tuple[str, ProgramRun, list[str]]:
    config, secrets = VARIANTS[request.param]
    return request.param, run_ok(config, secrets), secrets


def test_variant_values_validate_against_chart_schemas(variant: tuple[str, ProgramRun, list[str]]) -> None:
    _, run, _ = variant
    assert assert_all_values_valid(run) >= 1


def test_every_kubernetes_resource_uses_the_cluster_provider(variant: tuple[str, ProgramRun, list[str]]) -> None:
    _, run, _ = variant
    providers = run.of_type(K8S_PROVIDER)
    assert len(providers) == 1
    provider_urn = providers[0].urn
    k8s = [r for r in run.registrations if r.type.startswith("kubernetes:")]
    assert k8s
    for reg in k8s:
        refs = [reg.provider, *reg.providers.values()]
        assert any(ref.startswith(provider_urn + "::") for ref in refs), f"{reg.type} {reg.name} uses {refs}"


def test_no_credential_appears_in_plain_text(variant: tuple[str, ProgramRun, list[str]]) -> None:
    _, run, secrets = variant
    needles = [SECRET_VALUES[s] for s in secrets if s != "kubeconfig"] + ["given-kube-token-42", "ambient-kube-token"]
    # generated tokens too: whatever RandomBytes returned
    for reg in run.of_type("random:index/randomBytes:RandomBytes"):
        assert "hex" in reg.additional_secret_outputs
        assert is_secret(reg.outputs["hex"])
        needles.append(reg.outputs["hex"]["value"])
    for reg in run.registrations:
        for needle in needles:
            leaks = find_plain(reg.raw_inputs, needle)
            assert not leaks, f"{reg.type} {reg.name} holds a credential in plain text at {leaks}"
    for name, output in run.outputs.items():
        for needle in needles:
            assert output.secret or needle not in str(output.value), f"stack output {name} leaks a credential"


def test_two_runs_produce_identical_inputs(variant: tuple[str, ProgramRun, list[str]]) -> None:
    name, run, secrets = variant
    again = run_ok(VARIANTS[name][0], secrets)
    # registration order is asynchronous; what each resource receives must not change
    assert {r.urn: r.inputs for r in run.registrations} == {r.urn: r.inputs for r in again.registrations}


# ------------------------------------------------------------------ behaviour


def test_hub_urls_come_from_the_load_balancer_in_the_first_run() -> None:
    run = run_ok(EXISTING, ["registryPassword"])
    values = binderhub_values(run)
    assert values["config"]["BinderHub"]["hub_url"] == f"http://hub.{LOAD_BALANCER_IP}.nip.io/"
    assert values["ingress"]["hosts"] == [f"binder.{LOAD_BALANCER_IP}.nip.io"]
    assert values["jupyterhub"]["ingress"]["hosts"] == [f"hub.{LOAD_BALANCER_IP}.nip.io"]
    assert run.outputs["binder_url"].value == f"http://binder.{LOAD_BALANCER_IP}.nip.io/"
    assert run.outputs["ingress_address"].value == LOAD_BALANCER_IP
    # the address is read from the controller's Service once its release is installed
    service = run.one("kubernetes:core/v1:Service")
    assert service.read and service.inputs["id"] == "nginx-ingress/nginx-ingress-controller"


def test_external_ips_are_the_address_and_no_load_balancer_is_read() -> None:
    run = run_ok({**EXISTING, "cluster": {"externalIPs": ["192.0.2.10", "192.0.2.11"]}}, ["registryPassword"])
    controller = unwrap(run.chart("nginx-ingress").inputs["values"])
    assert controller["controller"]["service"]["externalIPs"] == ["192.0.2.10", "192.0.2.11"]
    assert run.of_type("kubernetes:core/v1:Service") == []
    assert binderhub_values(run)["config"]["BinderHub"]["hub_url"] == "http://hub.192.0.2.10.nip.io/"


def test_a_load_balancer_hostname_fails_with_advice() -> None:
    run = Program(
        EXISTING,
        secrets_for(["registryPassword"]),
        options=RunOptions(load_balancer_address="a1b2c3.elb.us-east-1.amazonaws.com"),
    ).run()
    assert run.error is not None
    assert "is a hostname, not an IP" in str(run.error) and "binderhub:domain" in str(run.error)


def test_tls_wires_cert_manager_and_the_hub_waits_for_the_issuer() -> None:
    config = {**EXISTING, "domain": "example.org", "tls": {"email": "ops@example.org"}}
    run = run_ok(config, ["registryPassword"])
    issuer = run.one("kubernetes:cert-manager.io/v1:ClusterIssuer")
    assert issuer.inputs["kind"] == "ClusterIssuer"
    spec = issuer.inputs["spec"]["acme"]
    assert spec["server"] == "https://acme-v02.api.letsencrypt.org/directory"
    assert spec["email"] == "ops@example.org"
    assert spec["solvers"][0]["http01"]["ingress"]["ingressClassName"] == "nginx"
    cert_manager = run.chart("cert-manager")
    assert cert_manager.inputs["values"]["crds"]["enabled"] is True
    assert run.depends_on(issuer, cert_manager)
    hub = hub_release(run)
    assert run.depends_on(hub, issuer)
    # with a domain, hosts are known up front: the hub does not wait for the ingress controller
    assert not run.depends_on(hub, run.chart("nginx-ingress"))
    values = binderhub_values(run)
    assert values["config"]["BinderHub"]["hub_url"] == "https://hub.example.org/"
    assert values["jupyterhub"]["ingress"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt-production"
    assert run.outputs["binder_url"].value == "https://binder.example.org/"


def test_without_tls_there_is_no_cert_manager() -> None:
    run = run_ok(EXISTING, ["registryPassword"])
    assert not [r for r in run.registrations if r.inputs.get("name") == "cert-manager"]
    assert "tls" not in binderhub_values(run)["ingress"]


def test_existing_ingress_class_deploys_no_controller() -> None:
    run = run_ok(VARIANTS["existing ingress class"][0], ["registryPassword"])
    assert not [r for r in run.registrations if r.inputs.get("name") == "nginx-ingress"]
    values = binderhub_values(run)
    assert values["ingress"]["ingressClassName"] == "traefik"
    assert values["config"]["BinderHub"]["hub_url"] == "http://hub.198.51.100.4.nip.io/"


def test_generated_secrets_reach_the_chart_as_secrets() -> None:
    run = run_ok(EXISTING, ["registryPassword"])
    values = hub_release(run).raw_inputs["values"]
    hub = values["jupyterhub"]
    tokens = {r.name: r.outputs["hex"] for r in run.of_type("random:index/randomBytes:RandomBytes")}
    assert hub["proxy"]["secretToken"] == tokens["hub-proxy-token"]
    assert hub["hub"]["cookieSecret"] == tokens["hub-cookie-secret"]
    assert hub["hub"]["config"]["CryptKeeper"]["keys"] == [tokens["hub-crypt-key"]]
    assert hub["hub"]["services"]["binder"]["apiToken"] == tokens["hub-binder-api-token"]
    assert all(is_secret(v) for v in tokens.values())
    registry = values["registry"]
    assert is_secret(registry["password"]) and registry["password"]["value"] == SECRET_VALUES["registryPassword"]


def test_components_parent_their_children() -> None:
    run = run_ok(EXISTING, ["registryPassword"])
    for reg in run.registrations:
        if reg.type.startswith("kubernetes:helm.sh"):
            assert reg.parent, f"{reg.name} has no parent component"
            assert run.by_urn(reg.parent).type.startswith("binderhub:")
