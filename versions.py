"""Every Helm chart this program deploys, pinned in one place.

`binderhub:charts` may override a version per stack; nothing floats to `latest`.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ChartRef:
    chart: str
    repo: str | None  # None when `chart` is an OCI reference
    version: str


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
}

# z2jh version bundled inside the pinned binderhub chart (its values are validated against it).
BINDERHUB_BUNDLED_JUPYTERHUB = "4.2.0"


def chart(name: str, overrides: dict[str, str] | None = None) -> ChartRef:
    """The pinned chart, with the stack's version override applied if any."""
    ref = CHARTS[name]
    version = (overrides or {}).get(name)
    return ChartRef(ref.chart, ref.repo, version) if version else ref


# The BinderHub source commit the pinned binderhub chart was built from (its version's `h<sha>`):
# the behaviour tests run BinderHub's Python package at this commit.
BINDERHUB_COMMIT = "b9fad995d5529e487c25a9f0795f4fe150a96f25"
