"""binderhub:monitoring under the mocks: what it adds, what it takes from the config, its secrets,
its Helm values overlay, and the dashboards shipped in components/monitoring/dashboards/.

What the deployed software does with it (scrape targets, the hub's metrics token, Grafana's
provisioning) is shown on the rendered charts in tests/behaviour/test_monitoring.py.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import tarfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from components.values import overlay
from harness import Program, ProgramRun, find_plain, unwrap
from scripts import build_dashboards
from variants import VARIANTS
from versions import BINDERHUB_COMMIT, CHARTS

DASHBOARDS = build_dashboards.DEST
MONITORING_CHARTS = {"prometheus", "grafana"}


def run_with(stack: str, **overrides: Any) -> ProgramRun:
    """The committed stack `stack` with top-level keys replaced, evaluated afresh."""
    variant = VARIANTS[stack]
    run = Program({**variant.config, **overrides}, variant.secret_values, stack=variant.stack).run()
    assert run.error is None, repr(run.error)
    return run


# Grafana has a login: monitoring needs HTTPS, here on the wildcard-DNS hosts.
HTTPS = {"enabled": True, "email": "ops@example.edu"}


@cache
def dev_monitoring() -> ProgramRun:
    """The `dev` stack (an existing cluster, anonymous, no domain) with monitoring and HTTPS on."""
    return run_with("dev", monitoring={"enabled": True}, tls=HTTPS)


def values(run: ProgramRun, release: str) -> dict[str, Any]:
    return unwrap(run.chart(release).inputs["values"])


def releases(run: ProgramRun) -> set[str]:
    return {
        str(r.inputs.get("name"))
        for r in run.registrations
        if r.type in ("kubernetes:helm.sh/v4:Chart", "kubernetes:helm.sh/v3:Release")
    }


# ------------------------------------------------------------------ on, off, and its keys


def test_monitoring_is_off_unless_asked() -> None:
    run = VARIANTS["dev"].run()
    assert not MONITORING_CHARTS & releases(run)
    assert not {"grafana_url", "grafana_admin_password"} & set(run.outputs)
    hub = values(run, "binderhub")["jupyterhub"]["hub"]
    assert set(hub["services"]) == {"binder"}
    assert "networkPolicy" not in hub


def test_the_production_stack_has_it_on() -> None:
    run = VARIANTS["prod"].run()
    assert releases(run) >= MONITORING_CHARTS
    assert run.outputs["grafana_url"].value == "https://grafana.example.edu/"
    assert run.outputs["grafana_admin_password"].secret


def test_without_a_domain_grafana_is_a_wildcard_dns_host_over_https() -> None:
    run = dev_monitoring()
    hub_url = run.outputs["hub_url"].value
    assert hub_url.startswith("https://hub.") and hub_url.endswith(".nip.io/")
    assert run.outputs["grafana_url"].value == hub_url.replace("://hub.", "://grafana.", 1)
    grafana = values(run, "grafana")
    host = run.outputs["grafana_url"].value.split("/")[2]
    assert grafana["ingress"]["hosts"] == [host]
    assert grafana["ingress"]["tls"] == [{"hosts": [host], "secretName": "grafana-tls"}]


def test_grafana_over_plain_http_is_refused() -> None:
    run = Program({**VARIANTS["dev"].config, "monitoring": {"enabled": True}}, VARIANTS["dev"].secret_values).run()
    assert run.registrations == [] and "monitoring.enabled needs HTTPS" in str(run.error)


def test_an_explicit_grafana_host_is_used() -> None:
    run = run_with(
        "prod",
        domain="",
        hosts={"binder": "mybinder.example.edu", "hub": "jupyter.example.edu", "grafana": "dash.example.edu"},
    )
    assert run.outputs["grafana_url"].value == "https://dash.example.edu/"
    grafana = values(run, "grafana")
    assert grafana["ingress"]["hosts"] == ["dash.example.edu"]
    assert grafana["ingress"]["tls"] == [{"hosts": ["dash.example.edu"], "secretName": "grafana-tls"}]


def test_retention_and_volume_size_come_from_the_config() -> None:
    run = run_with("prod", monitoring={"enabled": True, "retentionDays": 30, "volumeSize": "50Gi"})
    server = values(run, "prometheus")["server"]
    assert server["retention"] == "30d"
    assert server["persistentVolume"]["size"] == "50Gi"
    assert "storageClass" not in server["persistentVolume"]  # AKS: the cluster's default class


def test_prometheus_keeps_its_volume_on_the_stacks_storage_class() -> None:
    run = run_with("baremetal", monitoring={"enabled": True})
    assert values(run, "prometheus")["server"]["persistentVolume"]["storageClass"] == "openebs-hostpath"


def test_the_ingress_controller_exports_its_metrics_on_a_service() -> None:
    controller = values(VARIANTS["prod"].run(), "nginx-ingress")
    assert controller["prometheus"]["create"] is True
    assert controller["prometheus"]["service"]["create"] is True


def test_with_an_existing_ingress_controller_its_metrics_are_not_scraped() -> None:
    run = run_with(
        "dev", monitoring={"enabled": True}, ingress={"controller": "existing"}, domain="example.edu", tls=HTTPS
    )
    jobs = values(run, "prometheus")["scrapeConfigs"]
    assert "ingress-controller" not in jobs  # not ours: its metrics are wherever its owner put them
    assert {"jupyterhub", "binderhub", "kube-state-metrics", "node-exporter"} <= set(jobs)


def test_the_hub_metrics_token_and_grafana_password_are_never_plain() -> None:
    for run in (VARIANTS["prod"].run(), dev_monitoring()):
        token = next(r for r in run.registrations if r.name == "monitoring-hub-metrics-token")
        password = next(r for r in run.registrations if r.name == "monitoring-grafana-admin-password")
        needles = [unwrap(token.outputs["hex"]), unwrap(password.outputs["result"])]
        assert all(len(n) >= 32 for n in needles)
        for reg in run.registrations:
            for needle in needles:
                for document in (reg.raw_inputs, reg.inputs, reg.outputs):
                    assert not find_plain(document, needle), f"{reg.type} {reg.name} holds a monitoring secret"
        for name, output in run.outputs.items():
            if any(needle in json.dumps(output.value) for needle in needles):
                assert name == "grafana_admin_password" and output.secret, name


def test_destroy_drains_prometheus_volume_before_the_namespace_goes() -> None:
    run = dev_monitoring()
    namespace = run.one("kubernetes:core/v1:Namespace", "monitoring-namespace")
    assert namespace.hooks == {"before_delete": ["monitoring-drain-user-storage"]}
    assert not namespace.protect  # metrics are not users' data: destroy removes them
    for release in ("prometheus", "grafana"):
        assert run.depends_on(run.chart(release), namespace), f"{release} outlives its namespace"


# ------------------------------------------------------------------ binderhub:helmValues


def test_an_overlay_may_name_prometheus_and_grafana_only_with_monitoring_on() -> None:
    cfg_off = VARIANTS["dev"].config
    overlays = {"prometheus": {"server": {"resources": {"requests": {"memory": "1Gi"}}}}}
    run = Program({**cfg_off, "helmValues": overlays}, VARIANTS["dev"].secret_values).run()
    assert run.error is not None and "this stack does not install prometheus" in str(run.error)
    run = Program(
        {**cfg_off, "monitoring": {"enabled": True}, "tls": HTTPS, "helmValues": overlays},
        VARIANTS["dev"].secret_values,
    ).run()
    assert run.error is None, run.error
    assert values(run, "prometheus")["server"]["resources"]["requests"]["memory"] == "1Gi"


@pytest.mark.parametrize(
    ("chart", "given", "names"),
    [
        ("prometheus", {"server": {"retention": "90d"}}, "binderhub:monitoring.retentionDays"),
        ("prometheus", {"scrapeConfigs": {"jupyterhub": {"enabled": False}}}, "binderhub:monitoring.enabled"),
        ("grafana", {"admin": {"existingSecret": "mine"}}, "a secret the program generates"),
        ("binderhub", {"jupyterhub": {"hub": {"services": {"prometheus": {"apiToken": "x" * 32}}}}}, "monitoring"),
    ],
)
def test_an_overlay_cannot_change_what_monitoring_wires(chart: str, given: dict[str, Any], names: str) -> None:
    variant = VARIANTS["dev"]
    run = Program(
        {**variant.config, "monitoring": {"enabled": True}, "tls": HTTPS, "helmValues": {chart: given}},
        variant.secret_values,
    ).run()
    assert run.error is not None
    assert names in str(run.error), str(run.error)


def test_the_prometheus_values_pass_the_charts_own_schema() -> None:
    given = values(VARIANTS["prod"].run(), "prometheus")
    assert overlay.has_schema("prometheus")
    assert overlay.schema_problems("prometheus", CHARTS["prometheus"].version, given) == []


# ------------------------------------------------------------------ the shipped dashboards


def sources() -> dict[str, Any]:
    return json.loads(build_dashboards.SOURCES.read_text())


def test_every_shipped_dashboard_is_the_file_its_build_recorded() -> None:
    recorded = sources()["files"]
    on_disk = {p.relative_to(DASHBOARDS).as_posix() for p in DASHBOARDS.glob("*/*.json")}
    assert set(recorded) == on_disk
    for path, digest in recorded.items():
        assert hashlib.sha256((DASHBOARDS / path).read_bytes()).hexdigest() == digest, (
            f"{path} was changed by hand: run scripts/build_dashboards.py"
        )


def _tarball() -> Path:
    path = build_dashboards.default_cache() / build_dashboards.tarball_name()
    assert path.is_file(), f"the pinned dashboards' sources are not in the chart cache: {path}"
    return path


def test_jupyterhubs_dashboards_were_built_from_the_pinned_sources() -> None:
    record = sources()
    tarball = _tarball()
    assert record["commit"] == build_dashboards.GRAFANA_DASHBOARDS_COMMIT
    assert record["tarball"] == tarball.name
    assert record["sources"] == build_dashboards.source_digests(tarball), "rebuild: scripts/build_dashboards.py"
    built_from = {Path(path).stem for path in record["sources"] if path.endswith(".jsonnet")}
    shipped = {p.stem for p in (DASHBOARDS / "jupyterhub").glob("*.json")}
    assert built_from and shipped == built_from


def test_binderhubs_dashboard_is_what_the_script_builds() -> None:
    shipped = (DASHBOARDS / "binderhub" / "binderhub.json").read_text()
    assert shipped == build_dashboards.dump(build_dashboards.binderhub_dashboard()), (
        "run scripts/build_dashboards.py --binderhub-only"
    )


@cache
def binderhub_metric_names() -> set[str]:
    """The metrics BinderHub defines (prometheus_client's first argument), read from its source
    at the binderhub chart's commit in the chart cache."""
    path = build_dashboards.default_cache() / f"binderhub-python-{BINDERHUB_COMMIT[:8]}.tar.gz"
    found: set[str] = set()
    with tarfile.open(path) as archive:
        for member in archive.getmembers():
            if member.name.endswith(".py"):
                data = archive.extractfile(member)
                assert data is not None
                text = data.read().decode()
                found |= set(re.findall(r'(?:Histogram|Counter|Gauge)\(\s*"(binderhub_\w+)"', text))
    return found


def test_binderhubs_dashboard_asks_for_metrics_binderhub_exports() -> None:
    defined = binderhub_metric_names()
    assert {"binderhub_launch_count", "binderhub_build_time_seconds"} <= defined
    dashboard = json.loads((DASHBOARDS / "binderhub" / "binderhub.json").read_text())
    queried = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\bbinderhub_\w+", target["expr"])
    }
    # prometheus_client adds _total to counters and _bucket/_count/_sum to histograms.
    bare = {re.sub(r"_(total|bucket|count|sum)$", "", name) for name in queried}
    bare = {name if name in defined else re.sub(r"_total$", "", name) for name in bare}
    assert bare <= defined, sorted(bare - defined)
    titles = {panel["title"] for panel in dashboard["panels"]}
    assert {"Launches per minute", "Build duration", "Launch failures", "Pending pods", "User nodes"} <= titles


VENDOR_ENV = "BINDERHUB_DASHBOARDS_VENDOR"


@pytest.mark.skipif(
    not os.environ.get(VENDOR_ENV) or importlib.util.find_spec("_jsonnet") is None,
    reason=f"a fresh jsonnet build needs the jsonnet package and ${VENDOR_ENV} (grafonnet, see docs/monitoring.md)",
)
def test_a_fresh_build_of_jupyterhubs_dashboards_matches_the_shipped_ones() -> None:
    vendor = Path(os.environ[VENDOR_ENV])
    assert build_dashboards.tree_digest(vendor) == sources()["vendor_sha256"], "not the vendor folder recorded"
    built = build_dashboards.build_jupyterhub(_tarball(), vendor)
    for name, text in built.items():
        assert (DASHBOARDS / "jupyterhub" / f"{name}.json").read_text() == text, name


@pytest.mark.parametrize(
    ("monitoring", "hosts", "said"),
    [
        ({"enabled": True, "volumeSize": "0"}, None, "monitoring.volumeSize '0' is too small"),
        ({"enabled": True, "volumeSize": "512Mi"}, None, "at least 1Gi"),
        ({"retentionDays": 30}, None, "monitoring.retentionDays only applies with monitoring.enabled true"),
        ({"enabled": False, "volumeSize": "50Gi", "retentionDays": 9}, None, "monitoring.retentionDays, "),
        ({}, {"grafana": "dash.uni.edu"}, "hosts.grafana is only used with monitoring.enabled true"),
        ({"enabled": True}, {"grafana": "jupyter.uni.edu"}, "Grafana needs a host of its own"),
        ({"enabled": True}, {"grafana": "binder.uni.edu"}, "Grafana needs a host of its own"),
        # grafana. + the hub host without its first label would be grafana.edu: not the operator's.
        ({"enabled": True}, {"hub": "uni.edu"}, "hosts.grafana is needed"),
        # Dots are no guide: grafana.co.uk is a public suffix's name, not the operator's.
        ({"enabled": True}, {"hub": "example.co.uk", "binder": "binder.example.co.uk"}, "hosts.grafana is needed"),
    ],
)
def test_monitoring_settings_that_would_fail_or_do_nothing_are_refused(
    monitoring: dict[str, Any], hosts: dict[str, str] | None, said: str
) -> None:
    cfg: dict[str, Any] = {**VARIANTS["dev"].config, "tls": HTTPS, "monitoring": monitoring}
    if hosts is not None:
        cfg["hosts"] = {"binder": "binder.uni.edu", "hub": "jupyter.uni.edu", **hosts}
    run = Program(cfg, VARIANTS["dev"].secret_values).run()
    assert run.registrations == [] and said in str(run.error), run.error


def test_a_grafana_host_lets_encrypt_would_refuse_is_refused_before_anything_exists() -> None:
    hosts = {"binder": "binder.uni.edu", "hub": "jupyter.uni.edu", "grafana": "grafana.example.com"}
    cfg = {**VARIANTS["dev"].config, "tls": HTTPS, "monitoring": {"enabled": True}, "hosts": hosts}
    run = Program(cfg, VARIANTS["dev"].secret_values).run()
    assert run.registrations == [] and "hosts.grafana: the TLS host 'grafana.example.com'" in str(run.error)


def test_the_monitoring_namespace_is_not_the_one_other_stacks_use() -> None:
    # kube-prometheus-stack and many clusters' own monitoring live in `monitoring`.
    namespaces = {
        unwrap(r.inputs)["metadata"]["name"] for r in VARIANTS["prod"].run().of_type("kubernetes:core/v1:Namespace")
    }
    assert "monitoring" not in namespaces and "binderhub-monitoring" in namespaces
