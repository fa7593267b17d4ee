"""Whether a pod may open a connection to an address, by the NetworkPolicies of its namespace.

A port of the egress half of Kubernetes' NetworkPolicy semantics (Kubernetes API reference,
networking.k8s.io/v1 NetworkPolicy, and the "Network Policies" concept page): a pod no policy
selects for Egress may reach anything; otherwise a connection is allowed when at least one
rule of one selecting policy allows it (policies only add allowances). A rule with no `to`
matches every destination, one with no `ports` every port; an `ipBlock` matches its CIDR minus
its `except` CIDRs. Destinations named by pod or namespace selectors are matched only against
`peer_labels` (the tests ask about addresses, such as the metadata server, which are no pod).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any


def _selects(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A LabelSelector (matchLabels and matchExpressions In/NotIn/Exists/DoesNotExist)."""
    selector = selector or {}
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _egress_policies(policies: Iterable[Mapping[str, Any]], labels: Mapping[str, str]) -> list[Mapping[str, Any]]:
    selecting = []
    for policy in policies:
        spec = policy.get("spec") or {}
        types = spec.get("policyTypes") or (["Ingress", "Egress"] if "egress" in spec else ["Ingress"])
        if "Egress" in types and _selects(spec.get("podSelector"), labels):
            selecting.append(policy)
    return selecting


def _peer_allows(peer: Mapping[str, Any], address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    block = peer.get("ipBlock")
    if block is None:
        return False  # pod/namespace selectors name pods, not this address
    cidr = ipaddress.ip_network(block["cidr"], strict=False)
    if address.version != cidr.version or address not in cidr:
        return False
    return not any(
        address in ipaddress.ip_network(e, strict=False)
        for e in block.get("except") or []
        if ipaddress.ip_network(e, strict=False).version == address.version
    )


def _port_allows(ports: list[Mapping[str, Any]] | None, port: int, protocol: str) -> bool:
    if not ports:
        return True
    for entry in ports:
        if entry.get("protocol", "TCP") != protocol:
            continue
        first = entry.get("port")
        if first is None:
            return True
        if isinstance(first, str):
            continue  # a named port: not this numeric destination
        if first <= port <= entry.get("endPort", first):
            return True
    return False


def egress_allowed(
    policies: Iterable[Mapping[str, Any]], pod_labels: Mapping[str, str], address: str, port: int, protocol: str = "TCP"
) -> bool:
    """True when a pod with `pod_labels` may connect to `address`:`port` under `policies`."""
    selecting = _egress_policies(policies, pod_labels)
    if not selecting:
        return True
    ip = ipaddress.ip_address(address)
    for policy in selecting:
        for rule in policy["spec"].get("egress") or []:
            peers = rule.get("to")
            if (not peers or any(_peer_allows(p, ip) for p in peers)) and _port_allows(
                rule.get("ports"), port, protocol
            ):
                return True
    return False
