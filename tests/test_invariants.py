"""What every stack must keep, checked on every committed stack file and every variant.

One home for the shared invariants: the program deploys, installs the charts its config asks
for with values the charts' schemas accept, exports the same outputs, keeps every credential
secret, creates every Kubernetes object through the cluster's provider, and can be destroyed
in an order that leaks nothing. The variants are `variants.VARIANTS`; behaviour particular to
a target or a configuration lives in the other test modules.

`pulumi destroy` deletes a resource before everything it was created after, so "A is deleted
before B" is "A depends on B" in the recorded graph (dependencies, inputs, providers,
components).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from behaviour.rules.image_reference import parse_normalized_named

from cloud_mocks.azure import AKS_KUBE_TOKEN
from harness import ProgramRun, Registration, find_plain, is_secret, stack_file_config, stack_files, unwrap
from schemas import SCHEMA_FOLDERS, assert_all_values_valid, helm_releases
from variants import KUBE_TOKENS, SECRET_VALUES, STACKS, VARIANTS, Variant, deploy
from versions import CHARTS

K8S_PROVIDER = "pulumi:providers:kubernetes"
# Charts by the name `helm` would install them from (a release's `chart` input) -> versions.py name.
CHART_NAMES = {ref.chart: name for name, ref in CHARTS.items()}
SCHEMA_CHARTS = {CHART_NAMES[chart] for chart in SCHEMA_FOLDERS}
# Every stack exports these; `oauth_callback_url` too when users log in (the OAuth app needs it).
OUTPUTS = {"binder_url", "hub_url", "image_prefix", "registry_url", "ingress_address", "cluster_name", "kubeconfig"}
# The cluster resource of each managed target, and what its ingress address lives in.
CLUSTER = {
    "azure": "azure-native:containerservice:ManagedCluster",
    "aws": "eks:index:Cluster",
    "gcp": "gcp:container/cluster:Cluster",
}
NETWORK = {
    "azure": ["azure-native:network:PublicIPAddress"],
    "aws": ["aws:ec2/eip:Eip", "aws:ec2/vpc:Vpc"],
    "gcp": ["gcp:compute/address:Address"],
}
HUB_CHARTS = ("binderhub", "binderhub-service", "jupyterhub")


def _verbatim(value: str) -> list[str]:
    return [value]


def _key_file_material(encoded: str) -> list[str]:
    """A GCP service account key (base64 of the JSON key file): the file, its key id, and each
    line of its PEM key (found whether the key is copied as text or JSON-escaped)."""
    text = base64.b64decode(encoded).decode()
    key = json.loads(text)
    return [encoded, text, key["private_key_id"], *key["private_key"].splitlines()]


# Outputs that carry a credential the program generates, per resource type, and the forms in
# which that credential could show up in a document.
CREDENTIAL_OUTPUTS: dict[str, list[tuple[str, Callable[[str], list[str]]]]] = {
    "random:index/randomBytes:RandomBytes": [("hex", _verbatim), ("base64", _verbatim)],
    "random:index/randomPassword:RandomPassword": [("result", _verbatim)],
    "azuread:index/applicationPassword:ApplicationPassword": [("value", _verbatim)],
    "gcp:serviceaccount/key:Key": [("privateKey", _key_file_material)],
}


def chart_name(release: Registration) -> str:
    """The versions.py name of the chart a release installs (the chart reference if unknown)."""
    chart = str(release.inputs["chart"])
    return CHART_NAMES.get(chart, chart)


def _param(variant: Variant) -> Any:
    return pytest.param(variant, id=variant.name)


def variants(*charts: str) -> list[Any]:
    """Every variant (that installs all of `charts`), as parameters of the `variant` fixture."""
    return [_param(v) for v in VARIANTS.values() if set(charts) <= v.charts]


# A second evaluation costs as much as the first, and the managed clouds' are the slow ones
# (about a second for AKS): there, the committed stack file stands for its variants.
RERUN = [_param(v) for v in VARIANTS.values() if not v.managed or v.name in {s.name for s in STACKS}]


@pytest.fixture(scope="module", params=variants())
def variant(request: pytest.FixtureRequest) -> Variant:
    """Each variant in turn. Module-scoped, so pytest runs all tests of one variant together:
    xdist hands a worker consecutive tests, and a worker evaluates each variant once."""
    return request.param


# ------------------------------------------------------------------ the committed stack files


@pytest.mark.parametrize("stack", stack_files())
def test_committed_stack_file_holds_no_secret(stack: str) -> None:
    config = stack_file_config(stack)  # refuses a `secure:` value
    text = repr(config)
    for value in SECRET_VALUES.values():
        assert value not in text


@pytest.mark.parametrize("variant", [_param(v) for v in STACKS], indirect=True)
def test_committed_stack_previews_without_resolved_outputs(variant: Variant) -> None:
    run = variant.run(preview=True)
    assert run.error is None, f"Pulumi.{variant.stack}.yaml under preview: {run.error!r}"


# ------------------------------------------------------------------ deploys, charts, values, outputs


def test_deploys_in_one_run(variant: Variant) -> None:
    run = variant.run()
    assert run.error is None, f"{variant.name}: {run.error!r}"
    assert run.registrations


def test_installs_exactly_the_charts_its_config_asks_for(variant: Variant) -> None:
    run = deploy(variant.name)
    installed = sorted(chart_name(r) for r in helm_releases(run))
    assert installed == sorted(variant.charts), "each chart once, and no other"


def test_values_are_valid_against_the_chart_schemas(variant: Variant) -> None:
    run = deploy(variant.name)
    # Fails naming the key on the first invalid document; counts the documents it checked.
    assert assert_all_values_valid(run) == len(variant.charts & SCHEMA_CHARTS)


def test_exports_the_outputs_a_user_reads(variant: Variant) -> None:
    run = deploy(variant.name)
    monitoring = bool((variant.config.get("monitoring") or {}).get("enabled"))
    expected = (
        OUTPUTS
        | ({"oauth_callback_url"} if variant.auth_type != "none" else set())
        | ({"grafana_url", "grafana_admin_password"} if monitoring else set())
    )
    assert set(run.outputs) == expected
    # Only the kubeconfig and Grafana's admin password are secret: URLs and the image prefix
    # are printed for the user.
    secret = {"kubeconfig"} | ({"grafana_admin_password"} if monitoring else set())
    assert {name for name, output in run.outputs.items() if output.secret} == secret
    for url in ("binder_url", "hub_url"):
        assert run.outputs[url].value.startswith(("http://", "https://")), run.outputs[url].value
        assert run.outputs[url].value.endswith("/")


# What BinderHub appends to the image prefix: a build slug (escaped repository name, a hash of
# the spec) and a tag; a long one, so a prefix that only just fits still fails.
BUILD_SLUG = "binder-2dexamples-2drequirements-" + "5" * 40 + ":" + "f" * 40


def test_every_image_the_hub_builds_is_a_valid_reference(variant: Variant) -> None:
    """The image names BinderHub will push and the kubelet will pull parse as the kubelet parses them."""
    prefix = deploy(variant.name).outputs["image_prefix"].value
    parsed = parse_normalized_named(prefix + BUILD_SLUG)  # raises on an invalid reference
    assert parsed.name.endswith(BUILD_SLUG.split(":")[0])


def received(run: ProgramRun) -> dict[str, Any]:
    """What each resource is sent, by URN: inputs as serialized (a reference to another resource
    is its URN there; deserialized, it would be a fresh Python object each run)."""
    return {r.urn: r.inputs if r.read else r.raw_inputs for r in run.registrations}


@pytest.mark.parametrize("variant", RERUN, indirect=True)
def test_two_runs_produce_identical_inputs(variant: Variant) -> None:
    run = deploy(variant.name)
    again = variant.program().run()  # a fresh evaluation, not the cached one
    assert again.error is None, repr(again.error)
    # registration order is asynchronous; what each resource receives must not change
    assert received(run) == received(again)


# ------------------------------------------------------------------ the cluster's provider, components


def test_every_kubernetes_object_is_created_on_the_cluster_provider(variant: Variant) -> None:
    run = deploy(variant.name)
    providers = run.of_type(K8S_PROVIDER)
    assert len(providers) == 1, [p.name for p in providers]
    provider = providers[0]
    k8s = [r for r in run.registrations if r.type.startswith("kubernetes:")]
    assert k8s
    for reg in k8s:
        refs = [reg.provider, *reg.providers.values()]
        assert any(ref.startswith(provider.urn + "::") for ref in refs), f"{reg.type} {reg.name} uses {refs}"


def test_components_parent_their_releases(variant: Variant) -> None:
    run = deploy(variant.name)
    for reg in helm_releases(run):
        assert reg.parent, f"{reg.name} has no parent component"
        assert run.by_urn(reg.parent).type.startswith("binderhub:")


def test_protects_resources_only_when_asked(variant: Variant) -> None:
    # (what exactly is protected when asked: test_protect.py)
    run = deploy(variant.name)
    protected = [r.name for r in run.registrations if r.protect]
    transformed = [r.name for r in run.registrations if r.transforms]  # protection for chart objects
    if variant.config.get("protect"):
        assert protected, "binderhub:protect is set but nothing is protected"
    else:
        assert not protected, "without binderhub:protect, `pulumi destroy` must be able to remove everything"
        assert not transformed, f"without binderhub:protect, {transformed} still change their charts' objects"


# ------------------------------------------------------------------ credentials


def generated_credentials(run: ProgramRun) -> list[str]:
    """Every credential the run's resources generate, in each form it could be copied in."""
    found: list[str] = []
    for reg in run.registrations:
        for output, forms in CREDENTIAL_OUTPUTS.get(reg.type, []):
            found += forms(unwrap(reg.outputs[output]))
    return found


def test_generated_credentials_are_secret_outputs(variant: Variant) -> None:
    run = deploy(variant.name)
    generators = [r for r in run.registrations if r.type in CREDENTIAL_OUTPUTS]
    assert generators, "no generated credential at all (the hub's tokens are)"
    for reg in generators:
        for output, _ in CREDENTIAL_OUTPUTS[reg.type]:
            assert output in reg.additional_secret_outputs, f"{reg.type} {reg.name}: {output} not declared secret"
            assert is_secret(reg.outputs[output]), f"{reg.type} {reg.name}: {output} not secret"


def test_no_credential_appears_in_plain_text(variant: Variant) -> None:
    run = deploy(variant.name)
    given = [value for name, value in variant.secret_values.items() if name != "kubeconfig"]
    kube_tokens = [*KUBE_TOKENS, AKS_KUBE_TOKEN]
    needles = given + generated_credentials(run) + kube_tokens
    for reg in run.registrations:
        for needle in needles:
            # As sent (markers where the program put them), as the engine reads them, as returned.
            for where, document in (("inputs", reg.raw_inputs), ("inputs", reg.inputs), ("outputs", reg.outputs)):
                leaks = find_plain(document, needle)
                assert not leaks, f"{reg.type} {reg.name} holds a credential in plain {where} at {leaks}"
    # Grafana's admin password is an output for its admin to read, as a secret (monitoring on).
    grafana = [
        unwrap(r.outputs["result"])
        for r in run.of_type("random:index/randomPassword:RandomPassword")
        if r.name == "monitoring-grafana-admin-password"
    ]
    for name, output in run.outputs.items():
        text = json.dumps(output.value)
        for needle in needles:
            if needle in kube_tokens:  # the kubeconfig output carries the cluster's own credential
                assert output.secret or needle not in text, f"stack output {name} shows a cluster credential"
            elif needle in grafana and name == "grafana_admin_password":
                assert output.secret, "the Grafana admin password is shown in plain text"
            else:
                assert needle not in text, f"stack output {name} holds a credential"


# ------------------------------------------------------------------ destroy order


def hub_namespace(run: ProgramRun) -> Registration:
    return run.one("kubernetes:core/v1:Namespace", "hub-namespace")


def hub_releases(run: ProgramRun) -> list[Registration]:
    namespace = "binderhub"
    return [
        r
        for r in helm_releases(run)
        if r.inputs.get("chart") in HUB_CHARTS and r.inputs.get("namespace", namespace) == namespace
    ]


def deleted_before(run: ProgramRun, first: Registration, then: Registration) -> bool:
    return run.depends_on(first, then)


def test_releases_go_before_their_namespace_and_namespaces_before_the_cluster(variant: Variant) -> None:
    run = deploy(variant.name)
    namespace = hub_namespace(run)
    releases = hub_releases(run)
    assert releases, "no hub release found"
    for release in releases:
        assert deleted_before(run, release, namespace), f"{release.name} outlives its namespace"
    provider = next(r for r in run.registrations if r.type == K8S_PROVIDER and r.urn == namespace.provider_urn)
    assert deleted_before(run, namespace, provider)
    if variant.managed:
        cluster = run.one(CLUSTER[variant.cloud])
        for reg in run.registrations:
            if reg.type.startswith("kubernetes:") and reg.custom and not reg.read:
                assert deleted_before(run, reg, cluster), f"{reg.type} {reg.name} outlives the cluster"


@pytest.mark.parametrize("variant", variants("cert-manager"), indirect=True)
def test_the_hub_namespace_and_releases_go_while_cert_manager_still_runs(variant: Variant) -> None:
    # The ACME challenges for the hub's certificates live in the hub namespace and carry a
    # finalizer only cert-manager removes: with cert-manager gone first, the namespace hangs.
    run = deploy(variant.name)
    cert_manager = run.chart("cert-manager")
    issuer = run.one("kubernetes:cert-manager.io/v1:ClusterIssuer")
    for first in [hub_namespace(run), *hub_releases(run)]:
        assert deleted_before(run, first, issuer), f"{first.name} outlives the ClusterIssuer"
        assert deleted_before(run, first, cert_manager), f"{first.name} outlives cert-manager"


@pytest.mark.parametrize("variant", variants("prometheus", "grafana"), indirect=True)
def test_monitoring_goes_before_what_its_namespace_needs(variant: Variant) -> None:
    # Prometheus' volume claim and Grafana's Ingress (whose ACME challenges carry cert-manager's
    # finalizers) live in the monitoring namespace: its charts go first, then the namespace, after
    # its volumes are drained and while cert-manager and the storage provisioner still run.
    run = deploy(variant.name)
    namespace = run.one("kubernetes:core/v1:Namespace", "monitoring-namespace")
    for release in (run.chart("prometheus"), run.chart("grafana")):
        assert deleted_before(run, release, namespace), f"{release.name} outlives its namespace"
    assert namespace.hooks == {"before_delete": ["monitoring-drain-user-storage"]}
    if "cert-manager" in variant.charts:
        assert deleted_before(run, namespace, run.one("kubernetes:cert-manager.io/v1:ClusterIssuer"))
    if "localpv-provisioner" in variant.charts:
        assert deleted_before(run, namespace, run.chart("openebs-localpv"))


@pytest.mark.parametrize("variant", variants("nginx-ingress"), indirect=True)
def test_the_load_balancer_goes_before_its_address_and_network(variant: Variant) -> None:
    run = deploy(variant.name)
    controller = run.chart("nginx-ingress")
    # Helm waits on uninstall (no skipAwait): the Service, hence the cloud load balancer, is gone
    # before the release counts as deleted.
    assert not controller.inputs.get("skipAwait")
    for token in NETWORK.get(variant.cloud, []):
        for network in run.of_type(token):
            if network.name.startswith("ingress") or token.endswith("Vpc"):
                assert deleted_before(run, controller, network), f"the LB outlives {network.name}"


def test_user_servers_and_their_disks_are_drained_before_the_namespace(variant: Variant) -> None:
    run = deploy(variant.name)
    # A protected namespace cannot go, and nothing may delete its volumes (test_protect.py).
    expected = {} if variant.config.get("protect") else {"before_delete": ["hub-drain-user-storage"]}
    assert hub_namespace(run).hooks == expected


def test_nothing_cluster_wide_is_left_behind_by_the_charts(variant: Variant) -> None:
    run = deploy(variant.name)
    # Helm never deletes CRDs it installed from a chart's crds/: install none.
    if "nginx-ingress" in variant.charts:
        controller = run.chart("nginx-ingress")
        assert controller.inputs["skipCrds"] is True
        assert unwrap(controller.inputs["values"])["controller"]["enableCustomResources"] is False
    for release in run.of_type("kubernetes:helm.sh/v3:Release"):
        if release.inputs["chart"] == "cert-manager":
            assert unwrap(release.inputs["values"])["crds"] == {"enabled": True, "keep": False}
    assert not [r.name for r in run.registrations if r.type.startswith("kubernetes:apiextensions.k8s.io")]


def test_an_unreachable_cluster_fails_the_run_instead_of_being_forgotten(variant: Variant) -> None:
    run = deploy(variant.name)
    provider = run.one(K8S_PROVIDER)
    # deleteUnreachable in the provider's config would hold for every later refresh and destroy:
    # one from outside cluster.apiAccessCidrs, or with an expired login, would drop every
    # Kubernetes object from the state and leave disks and load balancers billing. Only
    # `make destroy` turns it on (PULUMI_K8S_DELETE_UNREACHABLE), once the cloud confirms the
    # cluster is gone (scripts/up.py, tests/test_make_up.py).
    assert "deleteUnreachable" not in provider.inputs, f"{provider.name}: {provider.inputs['deleteUnreachable']!r}"


@pytest.mark.parametrize("variant", variants("localpv-provisioner"), indirect=True)
def test_local_volumes_go_while_their_provisioner_still_runs(variant: Variant) -> None:
    run = deploy(variant.name)
    assert deleted_before(run, hub_namespace(run), run.chart("openebs-localpv"))


@pytest.mark.parametrize("variant", variants("binderhub-container-registry-helper"), indirect=True)
def test_ecr_repositories_created_at_run_time_go_after_the_hub_and_helper(variant: Variant) -> None:
    run = deploy(variant.name)
    role = run.one("aws:iam/role:Role", "registry-helper")
    assert role.hooks == {"after_delete": ["registry-delete-repositories"]}
    for release in [*hub_releases(run), run.chart("binderhub-container-registry-helper")]:
        assert deleted_before(run, release, role), f"{release.name} could still create repositories"
