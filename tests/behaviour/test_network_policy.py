"""The NetworkPolicy port (rules/network_policy.py), then the build policies the program adds."""

import pytest

from components.values.network_policy import BUILD_POD, BUILDER_DAEMON, build_egress_policies

from .rules.network_policy import egress_allowed

METADATA = "169.254.169.254"
GITHUB = "140.82.112.3"
LAN_REGISTRY = "10.20.0.5"
DENY_ALL = {"spec": {"podSelector": {}, "policyTypes": ["Egress"]}}
ALLOW_ALL = {"spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{}]}}


def only_public(labels: dict[str, str]) -> dict:
    return {
        "spec": {
            "podSelector": {"matchLabels": labels},
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.169.254/32"]}}]}],
        }
    }


def test_a_pod_no_policy_selects_reaches_anything() -> None:
    assert egress_allowed([only_public({"app": "other"})], {"app": "mine"}, METADATA, 80)


def test_a_selecting_policy_without_rules_denies_everything() -> None:
    assert not egress_allowed([DENY_ALL], {"app": "mine"}, GITHUB, 443)


def test_an_except_block_is_carved_out_of_the_cidr() -> None:
    policies = [only_public({"app": "mine"})]
    assert egress_allowed(policies, {"app": "mine"}, GITHUB, 443)
    assert not egress_allowed(policies, {"app": "mine"}, METADATA, 80)


def test_policies_only_add_allowances() -> None:
    # Why the chart's permissive builder policies are switched off rather than complemented.
    assert egress_allowed([only_public({"app": "mine"}), ALLOW_ALL], {"app": "mine"}, METADATA, 80)


def test_ports_and_protocols_restrict_a_rule() -> None:
    dns_only = {
        "spec": {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}],
        }
    }
    assert egress_allowed([dns_only], {}, "10.96.0.10", 53, "UDP")
    assert not egress_allowed([dns_only], {}, "10.96.0.10", 53, "TCP")
    assert not egress_allowed([dns_only], {}, GITHUB, 443)


def test_match_expressions_select_pods() -> None:
    policy = {
        "spec": {
            "podSelector": {"matchExpressions": [{"key": "component", "operator": "In", "values": ["a", "b"]}]},
            "policyTypes": ["Egress"],
        }
    }
    assert not egress_allowed([policy], {"component": "b"}, GITHUB, 443)
    assert egress_allowed([policy], {"component": "c"}, GITHUB, 443)


@pytest.mark.parametrize("shape", ["classic", "service"])
def test_build_pods_reach_repositories_but_not_metadata_or_the_cluster(shape: str) -> None:
    policies = build_egress_policies("binderhub", shape, private_registry=True)
    assert egress_allowed(policies, BUILD_POD, GITHUB, 443)
    for address in (METADATA, "169.254.170.2", "100.100.100.200", LAN_REGISTRY, "fd00:ec2::254"):
        assert not egress_allowed(policies, BUILD_POD, address, 80), address


@pytest.mark.parametrize("shape", ["classic", "service"])
def test_the_builder_daemon_reaches_a_private_registry_only_when_there_is_one(shape: str) -> None:
    daemon = BUILDER_DAEMON[shape]
    assert not egress_allowed(
        build_egress_policies("binderhub", shape, private_registry=False), daemon, LAN_REGISTRY, 443
    )
    policies = build_egress_policies("binderhub", shape, private_registry=True)
    assert egress_allowed(policies, daemon, LAN_REGISTRY, 443)
    assert egress_allowed(policies, daemon, GITHUB, 443)
    assert not egress_allowed(policies, daemon, METADATA, 80)
    assert not egress_allowed(policies, daemon, "fd00:ec2::254", 80)
