"""The scheduler filter port (rules/scheduling.py) on cases from kube-scheduler's documentation."""

import pytest

from .rules.scheduling import NodeTemplate, Pod, nodes_needed, quantity, why_not

USER_TAINT = {"key": "hub.jupyter.org/dedicated", "value": "user", "effect": "NoSchedule"}
USER_NODE = NodeTemplate("user", {"hub.jupyter.org/node-purpose": "user"}, [USER_TAINT], cpu=3.8, memory=14e9)
CORE_NODE = NodeTemplate("core", {"hub.jupyter.org/node-purpose": "core"}, [], cpu=1.8, memory=6e9)
REQUIRE_USER = [{"matchExpressions": [{"key": "hub.jupyter.org/node-purpose", "operator": "In", "values": ["user"]}]}]
TOLERATE_USER = [{"key": "hub.jupyter.org/dedicated", "operator": "Equal", "value": "user", "effect": "NoSchedule"}]


@pytest.mark.parametrize(("text", "value"), [("500m", 0.5), ("2G", 2e9), ("1Gi", 2.0**30), (1, 1.0)])
def test_quantities(text: object, value: float) -> None:
    assert quantity(text) == value


def test_a_taint_keeps_out_pods_that_do_not_tolerate_it() -> None:
    assert why_not(Pod(), USER_NODE) == "untolerated taint hub.jupyter.org/dedicated=user:NoSchedule"
    assert why_not(Pod(tolerations=TOLERATE_USER), USER_NODE) is None
    assert why_not(Pod(tolerations=[{"operator": "Exists"}]), USER_NODE) is None


def test_required_affinity_keeps_pods_on_their_pool() -> None:
    pod = Pod(tolerations=TOLERATE_USER, required_terms=REQUIRE_USER)
    assert why_not(pod, CORE_NODE) == "required node affinity does not match"
    assert why_not(pod, USER_NODE) is None


def test_requests_add_up_on_a_node() -> None:
    pod = Pod(tolerations=TOLERATE_USER, cpu=0.1, memory=1e9)
    assert why_not(pod, USER_NODE, used_memory=13.5e9) == "insufficient cpu or memory"
    assert nodes_needed(pod, USER_NODE, 30) == 3  # 14 per node by memory


def test_a_pod_that_fits_no_node_of_the_pool_is_an_error() -> None:
    with pytest.raises(ValueError, match="untolerated taint"):
        nodes_needed(Pod(), USER_NODE, 1)
