"""The two ways this program installs a chart, each written once.

Both install `values` with the operator's overlay for the chart (`chart.overlay`, from
`binderhub:helmValues`, checked at config time by components/values/overlay.py) merged over
them as Helm merges a second values file: the one place the two meet.
"""

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.values.overlay import merge
from config import keep_secret
from versions import ChartRef


def helm_chart(
    name: str,
    chart: ChartRef,
    release_name: str,
    namespace: pulumi.Input[str],
    values: Mapping[str, Any],
    opts: pulumi.ResourceOptions,
) -> k8s.helm.v4.Chart:
    """A v4 Chart (the hub charts): previews diff each Kubernetes object, not one opaque release."""
    return k8s.helm.v4.Chart(
        name,
        chart=chart.chart,
        version=chart.version,
        repository_opts=k8s.helm.v4.RepositoryOptsArgs(repo=chart.repo) if chart.repo else None,
        name=release_name,
        namespace=namespace,
        values=_values(chart, values),
        opts=opts,
    )


def release_in_own_namespace(
    name: str,
    *,
    parent: pulumi.Resource,
    chart: ChartRef,
    release_name: str,
    namespace: str,
    values: Mapping[str, Any],
    timeout: int | None = None,
    skip_crds: bool = False,
    depends_on: Sequence[pulumi.Resource] = (),
) -> k8s.helm.v3.Release:
    """A namespace and a v3 Release in it (cluster add-ons whose charts rely on Helm's hooks,
    CRD installation and waits). Helm waits on uninstall too, until the objects are gone."""
    ns = k8s.core.v1.Namespace(f"{name}-ns", metadata={"name": namespace}, opts=pulumi.ResourceOptions(parent=parent))
    return k8s.helm.v3.Release(
        f"{name}-release",
        name=release_name,
        chart=chart.chart,
        version=chart.version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repo) if chart.repo else None,
        namespace=ns.metadata.name,
        values=_values(chart, values),
        timeout=timeout,
        skip_crds=skip_crds or None,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)),
    )


def _values(chart: ChartRef, values: Mapping[str, Any]) -> Any:
    """The program's values with the operator's overlay merged over them; secret when they hold
    a value the user set with --secret (config.keep_secret: an overlay set with --secret too)."""
    return keep_secret(merge(values, chart.overlay))
