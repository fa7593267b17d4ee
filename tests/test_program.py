"""The whole program under mocks on an existing cluster: hosts, the ingress entry, TLS, generated secrets.

What every stack must keep (charts, schemas, outputs, secrets, providers, destroy order) is
checked on every variant in test_invariants.py; the variants are in variants.py.
"""

from typing import Any

from harness import LOAD_BALANCER_IP, Program, ProgramRun, RunOptions, is_secret, unwrap
from variants import EXISTING, SECRET_VALUES, deploy


def hub_release(run: ProgramRun):
    return run.chart("binderhub")


def binderhub_values(run: ProgramRun) -> dict[str, Any]:
    return unwrap(hub_release(run).inputs["values"])


def test_hub_urls_come_from_the_load_balancer_in_the_first_run() -> None:
    run = deploy("existing-no-domain")
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
    run = deploy("existing-external-ips")
    controller = unwrap(run.chart("nginx-ingress").inputs["values"])
    assert controller["controller"]["service"]["externalIPs"] == ["192.0.2.10", "192.0.2.11"]
    assert run.of_type("kubernetes:core/v1:Service") == []
    assert binderhub_values(run)["config"]["BinderHub"]["hub_url"] == "http://hub.192.0.2.10.nip.io/"


def test_a_load_balancer_hostname_fails_with_advice() -> None:
    run = Program(
        EXISTING,
        {"registryPassword": SECRET_VALUES["registryPassword"]},
        options=RunOptions(load_balancer_address="a1b2c3.elb.us-east-1.amazonaws.com"),
    ).run()
    assert run.error is not None
    assert "is a hostname, not an IP" in str(run.error) and "binderhub:domain" in str(run.error)


def test_tls_wires_cert_manager_and_the_hub_waits_for_the_issuer() -> None:
    run = deploy("existing-tls")
    issuer = run.one("kubernetes:cert-manager.io/v1:ClusterIssuer")
    assert issuer.inputs["kind"] == "ClusterIssuer"
    spec = issuer.inputs["spec"]["acme"]
    assert spec["server"] == "https://acme-v02.api.letsencrypt.org/directory"
    assert spec["email"] == "ops@example.edu"
    assert spec["solvers"][0]["http01"]["ingress"]["ingressClassName"] == "nginx"
    cert_manager = run.chart("cert-manager")
    assert cert_manager.inputs["values"]["crds"]["enabled"] is True
    assert run.depends_on(issuer, cert_manager)
    hub = hub_release(run)
    assert run.depends_on(hub, issuer)
    # with a domain, hosts are known up front: the hub does not wait for the ingress controller
    assert not run.depends_on(hub, run.chart("nginx-ingress"))
    values = binderhub_values(run)
    assert values["config"]["BinderHub"]["hub_url"] == "https://hub.example.edu/"
    assert values["jupyterhub"]["ingress"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt-production"
    assert run.outputs["binder_url"].value == "https://binder.example.edu/"


def test_without_tls_there_is_no_cert_manager() -> None:
    run = deploy("existing-no-domain")
    assert not [r for r in run.registrations if r.inputs.get("name") == "cert-manager"]
    assert "tls" not in binderhub_values(run)["ingress"]


def test_existing_ingress_class_deploys_no_controller() -> None:
    run = deploy("existing-ingress-class")
    assert not [r for r in run.registrations if r.inputs.get("name") == "nginx-ingress"]
    values = binderhub_values(run)
    assert values["ingress"]["ingressClassName"] == "traefik"
    assert values["config"]["BinderHub"]["hub_url"] == "http://hub.198.51.100.4.nip.io/"


def test_generated_secrets_reach_the_chart_as_secrets() -> None:
    run = deploy("existing-no-domain")
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
