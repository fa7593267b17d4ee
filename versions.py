"""Every Helm chart this program deploys, pinned in one place.

`binderhub:charts` may override a version per stack; nothing floats to `latest`.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ChartRef:
    chart: str
    repo: str | None  # None when `chart` is an OCI reference
    version: str
    # The operator's values for this chart (`binderhub:helmValues.<name>`), which
    # components/helm.py merges over the program's; empty when there are none.
    overlay: Mapping[str, Any] = field(default_factory=dict, hash=False)


CHARTS: dict[str, ChartRef] = {
    "binderhub": ChartRef("binderhub", "https://hub.jupyter.org/helm-chart/", "1.0.0-0.dev.git.3959.hb9fad995"),
    "binderhub-service": ChartRef(
        "binderhub-service", "https://2i2c.org/binderhub-service", "0.1.0-0.dev.git.336.hca79dc0"
    ),
    "jupyterhub": ChartRef("jupyterhub", "https://hub.jupyter.org/helm-chart/", "4.4.0"),
    "cert-manager": ChartRef("cert-manager", "https://charts.jetstack.io", "v1.21.1"),
    "nginx-ingress": ChartRef("oci://ghcr.io/nginx/charts/nginx-ingress", None, "2.6.4"),
    "localpv-provisioner": ChartRef(
        "localpv-provisioner", "https://openebs.github.io/dynamic-localpv-provisioner", "4.2.0"
    ),
    "binderhub-container-registry-helper": ChartRef(
        "binderhub-container-registry-helper",
        "https://www.manicstreetpreacher.co.uk/binderhub-container-registry-helper/",
        "0.2.4",
    ),
    # EKS only: it resizes the user node group (AKS and GKE have an autoscaler of their own).
    "cluster-autoscaler": ChartRef("cluster-autoscaler", "https://kubernetes.github.io/autoscaler", "9.59.0"),
    # binderhub:monitoring: Prometheus (with kube-state-metrics and node-exporter inside) and Grafana.
    "prometheus": ChartRef("prometheus", "https://prometheus-community.github.io/helm-charts", "29.27.0"),
    # The grafana chart's home since grafana/helm-charts handed it over.
    "grafana": ChartRef("grafana", "https://grafana-community.github.io/helm-charts", "12.11.1"),
}

# z2jh version bundled inside the pinned binderhub chart (its values are validated against it).
BINDERHUB_BUNDLED_JUPYTERHUB = "4.2.0"


def chart(
    name: str, overrides: Mapping[str, str] | None = None, overlays: Mapping[str, Mapping[str, Any]] | None = None
) -> ChartRef:
    """The pinned chart, with the stack's version override (`binderhub:charts`) and values
    overlay (`binderhub:helmValues`) for it, if any."""
    ref = CHARTS[name]
    return ChartRef(ref.chart, ref.repo, (overrides or {}).get(name) or ref.version, (overlays or {}).get(name) or {})


@dataclass(frozen=True)
class StackCharts:
    """A stack's choices about the charts it installs: exact versions (`binderhub:charts`) and
    values overlays (`binderhub:helmValues`), both keyed by the names in `CHARTS`.

    Handed to the components, each of which looks up the chart it installs (`ref`), so the
    chart names live beside the values they take and the stacks never name a chart.
    """

    versions: Mapping[str, str] = field(default_factory=dict)
    overlays: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def ref(self, name: str) -> ChartRef:
        """The chart `name` (a key of `CHARTS`; KeyError otherwise) as this stack installs it."""
        return chart(name, self.versions, self.overlays)


# The BinderHub source commit the pinned binderhub chart was built from (its version's `h<sha>`):
# the behaviour tests run BinderHub's Python package at this commit.
BINDERHUB_COMMIT = "b9fad995d5529e487c25a9f0795f4fe150a96f25"

# The JupyterHub project's Grafana dashboards (jupyterhub/grafana-dashboards) that
# binderhub:monitoring provisions, built to JSON by scripts/build_dashboards.py from their
# sources at this commit (`jupyterhub-grafana-dashboards-<commit[:8]>.tar.gz` in the chart cache).
GRAFANA_DASHBOARDS_COMMIT = "ef44b4ed0b439734f2acd5dbd81c4f7d3b513f76"
