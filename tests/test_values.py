"""Pure functions: hosts, registry settings and Helm values, without Pulumi."""

import pytest

from components.registry.external import custom, docker_hub
from components.values.binderhub import classic_values
from components.values.hosts import HostnameAddressError, compute_hosts
from components.values.ingress import controller_values, hub_ingress_annotations
from components.values.settings import HubSecrets, HubSettings, IngressSettings, RepoProviderTokens
from config import CullConfig
from schemas import validate_values

WEBSOCKETS = "nginx.org/websocket-services"

SECRETS = HubSecrets(
    proxy_token="p" * 64,
    cookie_secret="c" * 64,
    crypt_key="k" * 64,
    binder_api_token="t" * 64,
    build_token_secret="b" * 64,
)


def settings(**changes: object) -> HubSettings:
    base: dict[str, object] = {
        "binder_host": "binder.example.edu",
        "hub_host": "hub.example.edu",
        "hub_url": "https://hub.example.edu/",
        "ingress": IngressSettings("nginx", {"cert-manager.io/cluster-issuer": "letsencrypt-production"}, tls=True),
        "registry": docker_hub("alice", None, "binder", "dckr_pat"),  # type: ignore[arg-type]
        "secrets": SECRETS,
    }
    base.update(changes)
    return HubSettings(**base)  # type: ignore[arg-type]


def test_hosts_from_domain() -> None:
    hosts = compute_hosts(
        domain="example.edu", binder_host=None, hub_host=None, wildcard_dns="nip.io", address=None, tls=True
    )
    assert (hosts.binder_url, hosts.hub_url) == ("https://binder.example.edu/", "https://hub.example.edu/")


def test_hosts_from_the_ingress_ip_and_wildcard_dns() -> None:
    hosts = compute_hosts(
        domain=None, binder_host=None, hub_host=None, wildcard_dns="nip.io", address="203.0.113.7", tls=False
    )
    assert (hosts.binder, hosts.hub_url) == ("binder.203.0.113.7.nip.io", "http://hub.203.0.113.7.nip.io/")


def test_explicit_hosts_win() -> None:
    hosts = compute_hosts(
        domain=None,
        binder_host="mybinder.lab.org",
        hub_host="hub.lab.org",
        wildcard_dns="nip.io",
        address="203.0.113.7",
        tls=True,
    )
    assert (hosts.binder, hosts.hub) == ("mybinder.lab.org", "hub.lab.org")


def test_a_hostname_address_asks_for_a_domain() -> None:
    with pytest.raises(HostnameAddressError, match="set binderhub:domain"):
        compute_hosts(
            domain=None,
            binder_host=None,
            hub_host=None,
            wildcard_dns="nip.io",
            address="a1b2.elb.us-east-1.amazonaws.com",
            tls=False,
        )


def test_classic_values_wire_urls_services_and_ingress() -> None:
    values = classic_values(settings())
    binderhub = values["config"]["BinderHub"]
    assert binderhub["hub_url"] == "https://hub.example.edu/"
    assert binderhub["hub_url_local"] == "http://proxy-public"
    assert values["service"]["type"] == "ClusterIP"
    assert values["jupyterhub"]["proxy"]["service"]["type"] == "ClusterIP"
    assert values["ingress"]["hosts"] == ["binder.example.edu"]
    assert values["ingress"]["tls"] == [{"hosts": ["binder.example.edu"], "secretName": "binder-tls"}]
    assert values["jupyterhub"]["ingress"]["tls"] == [{"hosts": ["hub.example.edu"], "secretName": "hub-tls"}]
    assert values["ingress"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt-production"
    assert "https" not in values["ingress"]  # the chart's kube-lego mode would replace our TLS block


def test_generated_secrets_are_all_supplied() -> None:
    hub = classic_values(settings())["jupyterhub"]
    assert hub["proxy"]["secretToken"] == "p" * 64
    assert hub["hub"]["cookieSecret"] == "c" * 64
    assert hub["hub"]["config"]["CryptKeeper"]["keys"] == ["k" * 64]
    assert hub["hub"]["services"]["binder"]["apiToken"] == "t" * 64


def test_pushes_and_lookups_use_the_same_registry() -> None:
    values = classic_values(settings())
    assert values["registry"]["url"] == values["config"]["DockerRegistry"]["auth_config_url"]
    # BinderHub matches the Docker Hub key only without a trailing slash; with it every launch rebuilds.
    assert (
        values["registry"]["url"] == "https://index.docker.io/v1/"
    )  # the key the kubelet and docker CLI match to docker.io
    assert values["config"]["DockerRegistry"]["url"] == "https://registry-1.docker.io"
    assert values["config"]["BinderHub"]["image_prefix"] == "docker.io/alice/binder-"


def test_custom_registry_prefix_has_the_project_level() -> None:
    registry = custom(
        "https://harbor.example.edu/",
        "https://harbor.example.edu/service/token?service=harbor-registry",
        "robot$binder",
        "binder",
        "bh",
        "pw",
    )  # type: ignore[arg-type]
    assert registry.image_prefix == "harbor.example.edu/binder/bh-"
    values = classic_values(settings(registry=registry))
    assert values["config"]["DockerRegistry"] == {
        "url": "https://harbor.example.edu",
        "token_url": "https://harbor.example.edu/service/token?service=harbor-registry",
        "auth_config_url": "https://harbor.example.edu",
    }
    assert values["jupyterhub"]["imagePullSecret"]["create"] is True


def test_repo_tokens_cull_cors_and_builder() -> None:
    values = classic_values(
        settings(
            tokens=RepoProviderTokens(github="ghp_x", gitlab="glpat_y"),
            builder="pink",
            cull=CullConfig.model_validate({"timeout": 900, "maxAge": 0}),
            cull_users=False,
            cors_allow_origin="*",
        )
    )
    assert values["config"]["GitHubRepoProvider"] == {"access_token": "ghp_x"}
    assert values["config"]["GitLabRepoProvider"] == {"private_token": "glpat_y"}
    assert values["imageBuilderType"] == "pink"
    assert values["jupyterhub"]["cull"] == {"enabled": True, "users": False, "timeout": 900, "every": 660, "maxAge": 0}
    assert values["config"]["BinderHub"]["cors_allow_origin"] == "*"
    assert values["jupyterhub"]["hub"]["config"]["BinderSpawner"]["cors_allow_origin"] == "*"


def test_classic_values_pass_the_chart_schemas() -> None:
    assert validate_values("binderhub", classic_values(settings())) == []


def test_schema_check_catches_a_misspelt_key() -> None:
    errors = validate_values("binderhub", {**classic_values(settings()), "imageBuilderTyp": "dind"})
    assert any("imageBuilderTyp" in e for e in errors)
    hub_errors = validate_values("binderhub", {"jupyterhub": {"hub": {"services": {"binder": {}}}, "prxy": {}}})
    assert any("prxy" in e for e in hub_errors)


def test_controller_values() -> None:
    values = controller_values(class_name="nginx", external_ips=["192.0.2.10"], load_balancer_ip=None)
    assert values["controller"]["service"]["externalIPs"] == ["192.0.2.10"]
    assert values["controller"]["ingressClass"]["name"] == "nginx"
    assert validate_values("oci://ghcr.io/nginx/charts/nginx-ingress", values) == []


def test_only_the_hub_ingress_names_the_proxy_as_websocket_backend() -> None:
    ingress = IngressSettings("nginx", hub_ingress_annotations(), tls=False, websocket_annotation=WEBSOCKETS)
    values = classic_values(settings(ingress=ingress))
    hub_annotations = values["jupyterhub"]["ingress"]["annotations"]
    assert hub_annotations[WEBSOCKETS] == "proxy-public"  # the hub Ingress's own backend
    # BinderHub's Ingress routes to Service `binder`: naming proxy-public there gets it rejected.
    assert WEBSOCKETS not in values["ingress"]["annotations"]
    for annotations in (hub_annotations, values["ingress"]["annotations"]):
        assert annotations["nginx.org/proxy-buffering"] == "false"  # event streams arrive live
        assert annotations["acme.cert-manager.io/http01-edit-in-place"] == "true"
