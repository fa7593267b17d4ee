"""Monitoring (binderhub:monitoring), shown on what the pinned charts render and the real hub.

For each configuration below with monitoring on, the program runs under the mocks and its
releases are rendered with the pinned charts (charts.py): the prometheus, grafana, hub and
ingress controller charts. The tests read Prometheus' rendered configuration and match each
scrape target against the Services those charts render; start the real hub from its rendered
Deployment (probes/run_hub_metrics.py) and ask it for /hub/metrics with the token Prometheus
mounts, another service's token and none; and read Grafana's provisioned data source, dashboards
and Ingress from its rendered ConfigMaps and Ingress.

Configurations: the committed `prod` stack (classic chart, GitHub login, a domain and TLS), the
`baremetal` stack with monitoring on (service shape, OpenEBS storage class, TLS) and the `dev`
stack with monitoring on (classic, anonymous, no domain: nip.io hosts, plain HTTP).
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from helm_python import Chart

from behaviour.charts import Manifest, Rendered, chart_archive, render_release, secret_data
from behaviour.envs import hub_env, run_probes
from behaviour.pods import container_view, materialize
from behaviour.rules import f5_ingress_annotations
from harness import Program, ProgramRun, Registration, unwrap
from variants import VARIANTS
from versions import BINDERHUB_BUNDLED_JUPYTERHUB, CHARTS

MONITORING = {"enabled": True}
CONFIGURATIONS = {
    "prod": (VARIANTS["prod"], {}),
    "baremetal-monitoring": (VARIANTS["baremetal"], {"monitoring": MONITORING}),
    # Grafana's login needs HTTPS: the nip.io hosts get certificates.
    "dev-monitoring": (
        VARIANTS["dev"],
        {"monitoring": MONITORING, "tls": {"enabled": True, "email": "ops@example.edu"}},
    ),
}
# The jobs the issue asks for: the hub, BinderHub, the ingress controller, kube-state-metrics and
# node-exporter (the chart's own `prometheus` and kubelet jobs come beside them).
REQUIRED_JOBS = {"jupyterhub", "binderhub", "ingress-controller", "kube-state-metrics", "node-exporter"}


@dataclass
class Monitored:
    """One configuration with monitoring on, rendered."""

    name: str
    run: ProgramRun
    releases: dict[str, Rendered]  # by release name: prometheus, grafana, nginx-ingress, hub releases
    program_objects: list[Manifest]

    @property
    def services(self) -> list[Manifest]:
        return [o for r in self.releases.values() for o in r.of_kind("Service")]

    @property
    def objects(self) -> list[Manifest]:
        return [o for r in self.releases.values() for o in r.objects] + self.program_objects

    @property
    def scrape_configs(self) -> dict[str, dict[str, Any]]:
        config_map = self.releases["prometheus"].get("ConfigMap", "prometheus-server")
        config = yaml.safe_load(config_map["data"]["prometheus.yml"])
        return {job["job_name"]: job for job in config["scrape_configs"]}

    @property
    def service_shape(self) -> bool:
        return "jupyterhub" in self.releases

    @property
    def hub_values(self) -> dict[str, Any]:
        """The z2jh values the program gives the hub (either chart)."""
        if self.service_shape:
            return unwrap(self.run.chart("jupyterhub").inputs["values"])
        return unwrap(self.run.chart("binderhub").inputs["values"])["jupyterhub"]


def render_without_schema(release: Registration) -> Rendered:
    """A release of a chart whose values.schema.json refers to remote documents (nginx-ingress:
    Kubernetes' definitions online), rendered with the schema left out: offline, Helm cannot
    fetch them (its values are checked against the vendored schema elsewhere)."""
    inputs = unwrap(release.inputs)
    with tempfile.TemporaryDirectory() as scratch:
        with tarfile.open(chart_archive(inputs["chart"], inputs["version"])) as archive:
            # The crds link points outside the chart (crds are not installed: skipCrds).
            regular = [m for m in archive.getmembers() if not (m.issym() or m.islnk())]
            archive.extractall(scratch, members=regular, filter="data")
        folder = next(p for p in Path(scratch).iterdir() if p.is_dir())
        (folder / "values.schema.json").unlink(missing_ok=True)
        with Chart.load(folder) as loaded:
            manifests = loaded.render(
                inputs["values"], name=inputs["name"], namespace=inputs["namespace"], is_install=True
            )
        shutil.rmtree(folder)
    objects = [doc for t, text in sorted(manifests.items()) if t.endswith(".yaml") for doc in yaml.safe_load_all(text)]
    objects = [o for o in objects if o]
    for obj in objects:
        obj.setdefault("metadata", {}).setdefault("namespace", inputs["namespace"])
    return Rendered(inputs["name"], inputs["namespace"], tuple(objects))


def _program_objects(run: ProgramRun) -> list[Manifest]:
    """The Secrets and ConfigMaps the program creates itself (tokens, Grafana's dashboards)."""
    objects = []
    for kind in ("Secret", "ConfigMap"):
        for reg in run.of_type(f"kubernetes:core/v1:{kind}"):
            inputs = unwrap(reg.inputs)
            objects.append(
                {"kind": kind, **{k: v for k, v in inputs.items() if k in ("metadata", "data", "stringData")}}
            )
    return objects


@cache
def monitored(name: str) -> Monitored:
    variant, overrides = CONFIGURATIONS[name]
    run = variant.run() if not overrides else Program({**variant.config, **overrides}, variant.secret_values).run()
    assert run.error is None, f"{name}: {run.error!r}"
    releases = {r: render_release(run.chart(r)) for r in ("prometheus", "grafana")}
    hub_releases = tuple(r for r in ("jupyterhub", "binderhub") if _has_release(run, r))
    releases |= {r: render_release(run.chart(r)) for r in hub_releases}
    releases["nginx-ingress"] = render_without_schema(run.chart("nginx-ingress"))
    return Monitored(name, run, releases, _program_objects(run))


def _has_release(run: ProgramRun, release: str) -> bool:
    return any(
        r.type in ("kubernetes:helm.sh/v4:Chart", "kubernetes:helm.sh/v3:Release") and r.inputs.get("name") == release
        for r in run.registrations
    )


@pytest.fixture(params=sorted(CONFIGURATIONS))
def config(request: pytest.FixtureRequest) -> Monitored:
    return monitored(request.param)


def _service(services: list[Manifest], name: str, namespace: str) -> Manifest:
    found = [s for s in services if s["metadata"]["name"] == name and s["metadata"]["namespace"] == namespace]
    assert len(found) == 1, f"no Service {namespace}/{name} is rendered: {[s['metadata']['name'] for s in services]}"
    return found[0]


def _resolve(services: list[Manifest], address: str) -> Manifest:
    """The rendered Service behind `<service>.<namespace>.svc:<port>`, checked to serve that port."""
    host, _, port = address.rpartition(":")
    name, namespace, suffix = host.split(".", 2)
    assert suffix == "svc", f"{address} is not a Service address"
    service = _service(services, name, namespace)
    assert int(port) in [p["port"] for p in service["spec"]["ports"]], f"{address}: {service['spec']['ports']}"
    return service


# ------------------------------------------------------------------ Prometheus' scrape targets


def test_prometheus_reaches_every_target_at_a_service_the_charts_render(config: Monitored) -> None:
    jobs = config.scrape_configs
    assert set(jobs) >= REQUIRED_JOBS, sorted(jobs)
    services = config.services
    hub_ns = config.run.chart("binderhub").inputs["namespace"]
    # Static targets: the hub, BinderHub, kube-state-metrics, each a Service and port rendered.
    for job in ("jupyterhub", "binderhub", "kube-state-metrics"):
        targets = [t for group in jobs[job]["static_configs"] for t in group["targets"]]
        assert targets, job
        for target in targets:
            _resolve(services, target)
    hub_service = _resolve(services, jobs["jupyterhub"]["static_configs"][0]["targets"][0])
    assert hub_service["metadata"]["namespace"] == hub_ns
    assert hub_service["metadata"]["name"] == "hub"
    # The ingress controller: a headless Service, so its DNS name resolves to every controller pod.
    for dns in jobs["ingress-controller"]["dns_sd_configs"]:
        for name in dns["names"]:
            service_name, namespace, _ = name.split(".", 2)
            service = _service(services, service_name, namespace)
            assert service["spec"].get("clusterIP") == "None"
            assert dns["port"] in [p["port"] for p in service["spec"]["ports"]]
            controller = config.releases["nginx-ingress"].get("Deployment", "nginx-ingress-controller")
            ports = [
                p["containerPort"] for c in controller["spec"]["template"]["spec"]["containers"] for p in c["ports"]
            ]
            assert dns["port"] in ports, "the controller does not export its metrics on that port"
    # node-exporter: the endpoints of its Service (one per node), kept by Service name and port.
    keep = next(r for r in jobs["node-exporter"]["relabel_configs"] if r.get("action") == "keep")
    service_name, port = keep["regex"].split(";")
    namespaces = jobs["node-exporter"]["kubernetes_sd_configs"][0]["namespaces"]["names"]
    service = _service(services, service_name, namespaces[0])
    assert int(port) in [p["port"] for p in service["spec"]["ports"]]
    daemonset = config.releases["prometheus"].of_kind("DaemonSet")
    assert [d["metadata"]["name"] for d in daemonset] == [service_name], "node-exporter runs on every node"


def test_binderhub_serves_metrics_where_prometheus_asks(config: Monitored) -> None:
    """BinderHub's handlers live under its base URL: /metrics, or /services/binder/metrics on the hub."""
    job = config.scrape_configs["binderhub"]
    if config.service_shape:
        base_url = unwrap(config.run.chart("binderhub").inputs["values"])["config"]["BinderHub"]["base_url"]
    else:
        base_url = "/"
    assert job["metrics_path"] == posixpath.join(base_url, "metrics")


def _token_mount(config: Monitored) -> tuple[str, bytes]:
    """(path, content) of the token file Prometheus' server container reads for the hub job."""
    path = config.scrape_configs["jupyterhub"]["authorization"]["credentials_file"]
    server = config.releases["prometheus"].get("Deployment", "prometheus-server")
    view = container_view(server, "prometheus-server", config.objects)
    for mount in view.mounts:
        if path.startswith(mount.path.rstrip("/") + "/") and path[len(mount.path.rstrip("/")) + 1 :] in mount.files:
            return path, mount.files[path[len(mount.path.rstrip("/")) + 1 :]]
    raise AssertionError(f"nothing mounted at {path} in the Prometheus server: {[m.path for m in view.mounts]}")


def test_prometheus_reads_the_hub_token_from_a_mounted_secret_never_its_config(config: Monitored) -> None:
    _, token = _token_mount(config)
    assert len(token) >= 32
    config_map = config.releases["prometheus"].get("ConfigMap", "prometheus-server")
    assert token.decode() not in json.dumps(config_map)


def test_the_hub_network_policy_lets_the_prometheus_server_in(config: Monitored) -> None:
    """With network policies enforced (every cluster the program creates), the hub's own policy
    admits only listed sources to its port: the Prometheus server pod must be one."""
    hub_release = config.releases["jupyterhub" if config.service_shape else "binderhub"]
    policy = hub_release.get("NetworkPolicy", "hub")
    server = config.releases["prometheus"].get("Deployment", "prometheus-server")
    labels = server["spec"]["template"]["metadata"]["labels"]
    namespace = config.releases["prometheus"].namespace
    hub = hub_release.get("Deployment", "hub")
    port_names = {
        p["name"]: p["containerPort"] for c in hub["spec"]["template"]["spec"]["containers"] for p in c["ports"]
    }
    admitted = False
    for rule in policy["spec"]["ingress"]:
        ports = [port_names.get(p["port"], p["port"]) for p in rule.get("ports", [])]
        for source in rule.get("from", []):
            ns_ok = source.get("namespaceSelector", {}).get("matchLabels", {}) == {
                "kubernetes.io/metadata.name": namespace
            }
            pod_labels = source.get("podSelector", {}).get("matchLabels", {})
            if ns_ok and pod_labels and all(labels.get(k) == v for k, v in pod_labels.items()) and 8081 in ports:
                admitted = True
    assert admitted, policy["spec"]["ingress"]


# ------------------------------------------------------------------ the hub accepts read:metrics


@cache
def metrics_responses() -> dict[str, dict[str, Any]]:
    """Each configuration's hub, started from its rendered Deployment, asked for /hub/metrics."""
    scratch = Path(tempfile.mkdtemp(prefix="behaviour-metrics-"))
    jobs, envs = [], []
    names = sorted(CONFIGURATIONS)
    for name in names:
        config = monitored(name)
        hub_release = config.releases["jupyterhub" if config.service_shape else "binderhub"]
        workload = hub_release.get("Deployment", "hub")
        job = materialize(container_view(workload, "hub", config.objects), scratch / name)
        _, token = _token_mount(config)
        binder_token = config.hub_values["hub"]["services"]["binder"]["apiToken"]
        job["requests"] = [
            {"name": "monitoring", "token": token.decode()},
            {"name": "binder", "token": binder_token},
            {"name": "none", "token": None},
        ]
        jobs.append(job)
        envs.append(hub_env(CHARTS["jupyterhub"].version if config.service_shape else BINDERHUB_BUNDLED_JUPYTERHUB))
    return dict(zip(names, run_probes(envs, "run_hub_metrics", jobs), strict=True))


def test_the_hub_answers_metrics_to_the_monitoring_token_only(config: Monitored) -> None:
    result = metrics_responses()[config.name]
    assert result["errors"] == [], result["errors"][0][-3000:]
    responses = {r["name"]: r for r in result["responses"]}
    ok = responses["monitoring"]
    assert ok["status"] == 200, ok["body"][:500]
    assert ok["content_type"].startswith("text/plain")
    assert "jupyterhub_" in ok["body"]  # the hub's own metrics, in Prometheus' text format
    # BinderHub's token has other scopes, but not read:metrics; without a token, nothing.
    assert responses["binder"]["status"] == 403
    assert responses["none"]["status"] == 403


def test_the_monitoring_service_has_only_the_read_metrics_scope(config: Monitored) -> None:
    roles = config.hub_values["hub"]["loadRoles"]
    granted = [r for r in roles.values() if "prometheus" in r.get("services", [])]
    assert [r["scopes"] for r in granted] == [["read:metrics"]]


# ------------------------------------------------------------------ Grafana


PROVISIONING = "/etc/grafana/provisioning"  # grafana.ini's paths.provisioning (the chart's default)


def _provisioning(config: Monitored, kind: str) -> dict[str, Any]:
    """The provisioning file(s) Grafana reads for `kind` (datasources, dashboards), merged."""
    found: dict[str, Any] = {}
    for path, text in _mounted_files(config).items():
        if posixpath.dirname(path) == f"{PROVISIONING}/{kind}" and path.endswith(".yaml"):
            document = yaml.safe_load(text)
            for key, value in document.items():
                found[key] = found.get(key, []) + value if isinstance(value, list) else value
    return found


def test_grafana_queries_the_rendered_prometheus(config: Monitored) -> None:
    datasources = _provisioning(config, "datasources")["datasources"]
    assert len(datasources) == 1
    source = datasources[0]
    assert source["type"] == "prometheus" and source["isDefault"] is True
    scheme, _, address = source["url"].partition("://")
    assert scheme == "http"
    service = _resolve(config.services, address)
    server = config.releases["prometheus"].get("Deployment", "prometheus-server")
    selector = service["spec"]["selector"]
    assert all(server["spec"]["template"]["metadata"]["labels"].get(k) == v for k, v in selector.items())


def _grafana_container(config: Monitored) -> tuple[Manifest, Manifest]:
    deployment = config.releases["grafana"].get("Deployment", "grafana")
    spec = deployment["spec"]["template"]["spec"]
    return spec, next(c for c in spec["containers"] if c["name"] == "grafana")


def _mounted_files(config: Monitored) -> dict[str, str]:
    """Every file Grafana's container sees from a ConfigMap, by its path: whole ConfigMaps (one
    file per key) and single keys (`subPath`), as the kubelet mounts them.

    (behaviour.pods.container_view would do this, but stops at the chart's GOMEMLIMIT, whose
    `resourceFieldRef` it does not resolve.)"""
    spec, container = _grafana_container(config)
    volumes = {v["name"]: v for v in spec["volumes"]}
    files: dict[str, str] = {}
    for mount in container["volumeMounts"]:
        source = volumes[mount["name"]].get("configMap")
        if source is None:
            continue
        config_map = next(
            o for o in config.objects if o.get("kind") == "ConfigMap" and o["metadata"]["name"] == source["name"]
        )
        data = dict(config_map.get("data") or {})
        if mount.get("subPath"):
            files[mount["mountPath"]] = data[mount["subPath"]]
        else:
            files |= {posixpath.join(mount["mountPath"], key): text for key, text in data.items()}
    return files


def _env_from_secret(config: Monitored, name: str) -> str:
    """A Grafana environment variable set from a Secret, as the kubelet resolves it."""
    _, container = _grafana_container(config)
    ref = next(e for e in container["env"] if e["name"] == name)["valueFrom"]["secretKeyRef"]
    secret = next(s for s in config.objects if s.get("kind") == "Secret" and s["metadata"]["name"] == ref["name"])
    return secret_data(secret)[ref["key"]].decode()


def test_grafana_provisions_every_shipped_dashboard(config: Monitored) -> None:
    providers = _provisioning(config, "dashboards")["providers"]
    mounted = _mounted_files(config)
    shipped = Path(__file__).resolve().parents[2] / "components" / "monitoring" / "dashboards"
    for provider in providers:
        name = provider["name"]
        folder = provider["options"]["path"].rstrip("/")
        files = {posixpath.basename(p): text for p, text in mounted.items() if posixpath.dirname(p) == folder}
        assert files, f"nothing mounted at the {name} provider's path {provider['options']['path']}"
        expected = {p.name: json.loads(p.read_text()) for p in (shipped / name).glob("*.json")}
        assert expected, name
        assert {k: json.loads(v) for k, v in files.items()} == expected
    assert {p["name"] for p in providers} == {"jupyterhub", "binderhub"}


def test_grafanas_admin_is_the_generated_password(config: Monitored) -> None:
    password = config.run.outputs["grafana_admin_password"]
    assert password.secret
    assert len(password.value) >= 32
    assert _env_from_secret(config, "GF_SECURITY_ADMIN_PASSWORD") == password.value
    assert _env_from_secret(config, "GF_SECURITY_ADMIN_USER") == "admin"
    # Grafana reads it only at start: the rendered pod changes with it, so a new password restarts Grafana.
    deployment = config.releases["grafana"].get("Deployment", "grafana")
    annotations = deployment["spec"]["template"]["metadata"].get("annotations") or {}
    digest = hashlib.sha256(password.value.encode()).hexdigest()
    assert digest in annotations.values(), annotations


def test_grafanas_ingress_is_the_hubs_class_with_tls_when_the_stack_has_a_domain(config: Monitored) -> None:
    ingress = config.releases["grafana"].get("Ingress", "grafana")
    hub_release = config.releases["jupyterhub" if config.service_shape else "binderhub"]
    hub_ingress = next(i for i in hub_release.of_kind("Ingress") if "hub" in i["spec"]["rules"][0]["host"])
    assert ingress["spec"]["ingressClassName"] == hub_ingress["spec"]["ingressClassName"]
    host = ingress["spec"]["rules"][0]["host"]
    url = config.run.outputs["grafana_url"].value
    assert url.rstrip("/").endswith("://" + host)
    hub_host = hub_ingress["spec"]["rules"][0]["host"]
    assert host == "grafana." + hub_host.split(".", 1)[1]
    assert f5_ingress_annotations.validate_ingress(ingress) == []
    if "tls" in hub_ingress["spec"]:
        assert ingress["spec"]["tls"] == [{"hosts": [host], "secretName": "grafana-tls"}]
        annotations = ingress["metadata"]["annotations"]
        hub_annotations = hub_ingress["metadata"]["annotations"]
        assert annotations["cert-manager.io/cluster-issuer"] == hub_annotations["cert-manager.io/cluster-issuer"]
        assert url.startswith("https://")
    else:  # the config refuses Grafana without HTTPS
        raise AssertionError(f"{config.name}: Grafana's Ingress has no TLS")
    assert config.name != "prod" or host == "grafana.example.edu"


def test_prometheus_keeps_its_metrics_on_a_volume_of_the_configured_size(config: Monitored) -> None:
    prometheus = config.releases["prometheus"]
    claim = prometheus.get("PersistentVolumeClaim", "prometheus-server")
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi"
    server = prometheus.get("Deployment", "prometheus-server")
    container = next(c for c in server["spec"]["template"]["spec"]["containers"] if c["name"] == "prometheus-server")
    assert "--storage.tsdb.retention.time=15d" in container["args"]
    # ... or 85% of the 20Gi volume, whichever comes first (a full disk stops ingestion).
    assert f"--storage.tsdb.retention.size={20 * 1024 * 85 // 100}MB" in container["args"]
    volumes = server["spec"]["template"]["spec"]["volumes"]
    assert {"name": "storage-volume", "persistentVolumeClaim": {"claimName": "prometheus-server"}} in volumes
    if config.name == "baremetal-monitoring":
        assert claim["spec"]["storageClassName"] == "openebs-hostpath"
    else:
        assert "storageClassName" not in claim["spec"]  # the cluster's default class
    # No alertmanager or pushgateway: nothing here alerts or pushes.
    names = {o["metadata"]["name"] for o in prometheus.objects if o["kind"] in ("Deployment", "StatefulSet")}
    assert names == {"prometheus-server", "prometheus-kube-state-metrics"}


# ------------------------------------------------------------------ what it costs


def _quantity(value: str) -> float:
    """A Kubernetes quantity in base units (CPU in cores, memory in bytes): the forms used here."""
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    for suffix, factor in units.items():
        if value.endswith(suffix):
            return float(value[: -len(suffix)]) * factor
    return float(value)


def test_the_readme_states_what_monitoring_requests_at_the_default_settings() -> None:
    """The README's cost figures are the sums of what the rendered charts request."""
    config = monitored("prod")
    once = {"cpu": 0.0, "memory": 0.0}
    per_node = {"cpu": 0.0, "memory": 0.0}
    pods = 0
    for release in ("prometheus", "grafana"):
        for workload in config.releases[release].objects:
            if workload["kind"] not in ("Deployment", "StatefulSet", "DaemonSet"):
                continue
            daemon = workload["kind"] == "DaemonSet"
            pods += 0 if daemon else workload["spec"].get("replicas", 1)
            for container in workload["spec"]["template"]["spec"]["containers"]:
                requests = (container.get("resources") or {}).get("requests") or {}
                assert set(requests) == {"cpu", "memory"}, f"{workload['metadata']['name']}/{container['name']}"
                target = per_node if daemon else once
                for resource in target:
                    target[resource] += _quantity(requests[resource])
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    claim = config.releases["prometheus"].get("PersistentVolumeClaim", "prometheus-server")
    volume = claim["spec"]["resources"]["requests"]["storage"].removesuffix("Gi")
    stated = (
        f"{pods} pods (Prometheus server, kube-state-metrics, Grafana) plus a\n"
        f"node-exporter on every node; requests of {round(once['cpu'] * 1000)}m CPU and "
        f"{round(once['memory'] / 2**20)} MiB of memory on the core nodes plus\n"
        f"{round(per_node['cpu'] * 1000)}m and {round(per_node['memory'] / 2**20)} MiB per node; "
        f"one {volume} GiB volume."
    )
    assert stated in readme, stated


# ------------------------------------------------------------------ the dashboards' data


def _allowlist(args: list[str], flag: str) -> dict[str, set[str]]:
    """kube-state-metrics' `--metric-labels-allowlist=pods=[a,b],nodes=[c]` -> {"pods": {"a", "b"}, ...}."""
    value = next((a.split("=", 1)[1] for a in args if a.startswith(f"--{flag}=")), "")
    return {kind: set(keys.split(",")) for kind, keys in re.findall(r"(\w+)=\[([^\]]*)\]", value)}


def _label_name(key: str, prefix: str) -> str:
    """The Prometheus label kube-state-metrics makes of a Kubernetes label or annotation key."""
    return prefix + re.sub(r"[^a-zA-Z0-9_]", "_", key)


# Labels the JupyterHub dashboards query that belong to software this program does not deploy
# (`label_replace` and `label_values` are PromQL and Grafana functions, not labels).
NOT_DEPLOYED = ("label_gateway_dask_org_",)  # Dask Gateway's clusters


def test_kube_state_metrics_exports_every_label_the_dashboards_select_on() -> None:
    config = monitored("prod")
    ksm = config.releases["prometheus"].get("Deployment", "prometheus-kube-state-metrics")
    args = ksm["spec"]["template"]["spec"]["containers"][0]["args"]
    exported = {
        _label_name(key, "label_") for keys in _allowlist(args, "metric-labels-allowlist").values() for key in keys
    } | {
        _label_name(key, "annotation_")
        for keys in _allowlist(args, "metric-annotations-allowlist").values()
        for key in keys
    }
    shipped = Path(__file__).resolve().parents[2] / "components" / "monitoring" / "dashboards"
    wanted: set[str] = set()
    for path in shipped.glob("*/*.json"):
        text = path.read_text()
        found = set(re.findall(r"\b((?:label|annotation)_[a-z0-9_]+)", text))
        wanted |= found - {"label_replace", "label_values"}
    wanted = {w for w in wanted if not w.startswith(NOT_DEPLOYED)}
    assert wanted, "the dashboards select on no pod or node label"
    assert wanted <= exported, sorted(wanted - exported)
