"""Whether a pod fits a node, and how many nodes N such pods need: the scheduler's filters.

A port of three of kube-scheduler's filter plugins (kubernetes/kubernetes,
pkg/scheduler/framework/plugins): TaintToleration (every NoSchedule/NoExecute taint of the
node tolerated), NodeAffinity (`requiredDuringSchedulingIgnoredDuringExecution` terms: any term
whose expressions all match; plus nodeSelector), and NodeResourcesFit (requests within what is
allocatable, summed over the pods on the node). Nodes are templates: what a pool's new node
would carry (its labels, taints and allocatable), as the cluster autoscaler simulates them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

_QUANTITY = re.compile(r"(\d+(?:\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?")
_FACTORS = {
    None: 1.0,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
}


def quantity(value: Any) -> float:
    """A Kubernetes quantity (`500m`, `2G`, `1.5Gi`, or a number) as a float of base units."""
    if isinstance(value, (int, float)):
        return float(value)
    match = _QUANTITY.fullmatch(str(value))
    if not match:
        raise ValueError(f"not a Kubernetes quantity: {value!r}")
    return float(match.group(1)) * _FACTORS[match.group(2)]


@dataclass(frozen=True)
class NodeTemplate:
    """A node of a pool: labels, taints ({key, value, effect}) and allocatable cpu/memory."""

    name: str
    labels: Mapping[str, str]
    taints: Sequence[Mapping[str, str]]
    cpu: float
    memory: float


@dataclass
class Pod:
    """What the filters read of a pod spec: tolerations, affinity, nodeSelector, requests."""

    tolerations: Sequence[Mapping[str, Any]] = field(default_factory=list)
    required_terms: Sequence[Mapping[str, Any]] = field(default_factory=list)
    node_selector: Mapping[str, str] = field(default_factory=dict)
    cpu: float = 0.0
    memory: float = 0.0

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any]) -> Pod:
        required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
            "requiredDuringSchedulingIgnoredDuringExecution"
        ) or {}
        cpu = memory = 0.0
        for container in spec.get("containers") or []:
            requests = (container.get("resources") or {}).get("requests") or {}
            cpu += quantity(requests.get("cpu", 0))
            memory += quantity(requests.get("memory", 0))
        return cls(
            tolerations=list(spec.get("tolerations") or []),
            required_terms=list(required.get("nodeSelectorTerms") or []),
            node_selector=dict(spec.get("nodeSelector") or {}),
            cpu=cpu,
            memory=memory,
        )


def _tolerates(toleration: Mapping[str, Any], taint: Mapping[str, str]) -> bool:
    if toleration.get("effect") and toleration["effect"] != taint["effect"]:
        return False
    if toleration.get("operator", "Equal") == "Exists":
        return not toleration.get("key") or toleration["key"] == taint["key"]
    return toleration.get("key") == taint["key"] and toleration.get("value", "") == taint.get("value", "")


def _expression_matches(expr: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    key, op, values = expr["key"], expr["operator"], expr.get("values") or []
    if op == "In":
        return labels.get(key) in values
    if op == "NotIn":
        return labels.get(key) not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    raise ValueError(f"operator {op} not ported")


def why_not(pod: Pod, node: NodeTemplate, used_cpu: float = 0.0, used_memory: float = 0.0) -> str | None:
    """None when `pod` may run on `node` beside pods using `used_*`; else the filter that fails."""
    for taint in node.taints:
        if taint["effect"] in ("NoSchedule", "NoExecute") and not any(_tolerates(t, taint) for t in pod.tolerations):
            return f"untolerated taint {taint['key']}={taint.get('value', '')}:{taint['effect']}"
    if any(node.labels.get(k) != v for k, v in pod.node_selector.items()):
        return "nodeSelector does not match"
    if pod.required_terms and not any(
        all(_expression_matches(e, node.labels) for e in term.get("matchExpressions") or [])
        for term in pod.required_terms
    ):
        return "required node affinity does not match"
    if used_cpu + pod.cpu > node.cpu + 1e-9 or used_memory + pod.memory > node.memory:
        return "insufficient cpu or memory"
    return None


def nodes_needed(pod: Pod, node: NodeTemplate, count: int) -> int:
    """Nodes of `node`'s pool that `count` copies of `pod` need (packed by requests)."""
    if why_not(pod, node) is not None:
        raise ValueError(f"the pod cannot run on {node.name}: {why_not(pod, node)}")
    per_node = min(
        math.floor(node.cpu / pod.cpu) if pod.cpu else count,
        math.floor(node.memory / pod.memory) if pod.memory else count,
    )
    return math.ceil(count / max(per_node, 1))
