"""The cluster-autoscaler release on EKS, rendered with the pinned chart: what its pod runs with.

The chart ships no values schema, so the check is the rendered Deployment itself: the flags the
autoscaler starts with, its region, the service account and the IAM role that account carries.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness import ProgramRun
from variants import deploy

from .charts import Rendered, render_release


@pytest.fixture(scope="module")
def run() -> ProgramRun:
    return deploy("aws")


@pytest.fixture(scope="module")
def rendered(run: ProgramRun) -> Rendered:
    return render_release(run.chart("cluster-autoscaler"))


def deployment(rendered: Rendered) -> dict[str, Any]:
    (found,) = rendered.of_kind("Deployment")
    return found


def test_the_autoscaler_discovers_this_clusters_groups_on_aws(rendered: Rendered) -> None:
    (container,) = deployment(rendered)["spec"]["template"]["spec"]["containers"]
    flags = container["command"]
    assert "--cloud-provider=aws" in flags
    # The ASGs it manages: those carrying both tags, whatever their values.
    assert (
        "--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/binderhub-aws"
        in flags
    )
    assert "--expander=least-waste" in flags and "--scale-down-unneeded-time=5m" in flags
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    assert env["AWS_REGION"] == "us-east-1"
    # The autoscaler of the control plane's minor version (Pulumi.aws.yaml: 1.33).
    assert container["image"] == "registry.k8s.io/autoscaling/cluster-autoscaler:v1.33.0"


def test_the_pod_runs_as_the_account_the_iam_role_trusts(run: ProgramRun, rendered: Rendered) -> None:
    spec = deployment(rendered)["spec"]["template"]["spec"]
    account = rendered.get("ServiceAccount", spec["serviceAccountName"])
    role = run.one("aws:iam/role:Role", "cluster-autoscaler-role")
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == role.outputs["arn"]
    assert f"system:serviceaccount:{account['metadata']['namespace']}:{account['metadata']['name']}" in str(
        role.inputs["assumeRolePolicy"]
    )


def test_the_autoscaler_runs_on_the_core_nodes(rendered: Rendered) -> None:
    spec = deployment(rendered)["spec"]["template"]["spec"]
    assert spec["nodeSelector"] == {"hub.jupyter.org/node-purpose": "core"}
    assert not spec.get("tolerations"), "it must not be scheduled on user nodes it may remove"
