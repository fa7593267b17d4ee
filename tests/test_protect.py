"""`binderhub:protect`: what users' data and DNS depend on refuses deletion, and nothing else.

Protected: the cluster (and its resource group), the registry, the public address the DNS
records point at, the hub namespace (users' servers and volumes live in it; on AWS also the
registry helper's namespace) and the hub database's volume claim. Checked on every committed
stack with the protection switched on (as `pulumi config set binderhub:protect true` would) and
on every variant that sets it. Without it nothing is protected: test_invariants.py.

The engine refuses to delete (or replace) a protected resource; a child of a protected
component inherits the flag, so the registry component protects everything in it.
"""

from __future__ import annotations

import functools
from typing import Any

import pulumi
import pytest

from harness import Program, ProgramRun, Registration, stack_files
from variants import VARIANTS, deploy

NAMESPACE = "kubernetes:core/v1:Namespace"
VOLUME_CLAIM = "kubernetes:core/v1:PersistentVolumeClaim"
HUB_COMPONENTS = ("binderhub:hub:BinderHubRelease", "binderhub:hub:JupyterHubRelease")


def _any(_: str) -> bool:
    return True


# What users' data and DNS depend on, by resource type (and, where a type also serves other
# purposes, by name): these must be protected.
KEPT: dict[str, Any] = {
    # clusters: the nodes' disks, the volumes' driver, everything in them
    "azure-native:resources:ResourceGroup": _any,
    "azure-native:containerservice:ManagedCluster": _any,
    "eks:index:Cluster": _any,
    "gcp:container/cluster:Cluster": _any,
    # registries: the images built so far
    "azure-native:containerregistry:Registry": _any,
    "binderhub:registry:EcrRegistry": _any,
    "gcp:artifactregistry/repository:Repository": _any,
    # the public address DNS records point at (not, on AWS, the NAT gateway's)
    "azure-native:network:PublicIPAddress": _any,
    "aws:ec2/eip:Eip": lambda name: name.startswith("ingress-ip"),
    "gcp:compute/address:Address": _any,
    # the hub namespace (and, on AWS, the one the protected registry helper runs in)
    NAMESPACE: lambda name: name in ("hub-namespace", "registry-namespace"),
}
# The address resource of each managed cloud: a protected stack must have one, protected.
ADDRESS = {
    "azure": "azure-native:network:PublicIPAddress",
    "aws": "aws:ec2/eip:Eip",
    "gcp": "gcp:compute/address:Address",
}


def must_keep(reg: Registration) -> bool:
    keep = KEPT.get(reg.type)
    return keep is not None and keep(reg.name)


def _cases() -> list[Any]:
    """Each committed stack, protection on; then the catalogue's other protected variants."""
    cases = [pytest.param(stack, id=f"{stack}+protect") for stack in stack_files()]
    cases += [
        pytest.param(v.name, id=v.name) for v in VARIANTS.values() if v.config.get("protect") and v.stack != v.name
    ]
    return cases


@functools.cache
def protected_run(name: str) -> ProgramRun:
    """The run of variant `name` with binderhub:protect on (its own, if it sets it already)."""
    variant = VARIANTS[name]
    if variant.config.get("protect"):
        return deploy(name)
    run = Program({**variant.config, "protect": True}, variant.secret_values, stack=variant.stack).run()
    assert run.error is None, f"{name} with protect: {run.error!r}"
    return run


def ancestors(run: ProgramRun, reg: Registration) -> list[Registration]:
    found = []
    by_urn = {r.urn: r for r in run.registrations}
    parent = by_urn.get(reg.parent)
    while parent is not None:
        found.append(parent)
        parent = by_urn.get(parent.parent)
    return found


@pytest.mark.parametrize("name", _cases())
def test_what_users_data_and_dns_depend_on_is_protected(name: str) -> None:
    run = protected_run(name)
    kept = [r for r in run.registrations if must_keep(r)]
    assert "hub-namespace" in [r.name for r in kept]
    cloud = VARIANTS[name].cloud
    if cloud in ADDRESS:
        assert run.of_type(ADDRESS[cloud]), f"{name}: no public address resource to protect"
    unprotected = [f"{r.type} {r.name}" for r in kept if not r.protect]
    assert not unprotected, f"{name}: not protected: {unprotected}"


@pytest.mark.parametrize("name", _cases())
def test_nothing_else_is_protected(name: str) -> None:
    # Protection blocks deletes and replacements: on anything else it would only get in the way
    # (an upgrade that replaces a node pool, a chart that drops an object).
    run = protected_run(name)
    extra = [
        f"{r.type} {r.name}"
        for r in run.registrations
        if r.protect and not must_keep(r) and not any(must_keep(a) for a in ancestors(run, r))
    ]
    assert not extra, f"{name}: protected without reason: {extra}"


@pytest.mark.parametrize("name", _cases())
def test_the_user_volume_drain_cannot_run(name: str) -> None:
    # The hook deletes every user server and volume claim before the namespace goes: protected,
    # it is not bound at all (the namespace cannot go either).
    run = protected_run(name)
    namespace = run.one(NAMESPACE, "hub-namespace")
    assert namespace.protect
    assert namespace.hooks == {}


def _transform_result(transform: Any, type_: str, name: str) -> pulumi.ResourceTransformResult | None:
    args = pulumi.ResourceTransformArgs(
        custom=True, type_=type_, name=name, props={"metadata": {"name": name}}, opts=pulumi.ResourceOptions()
    )
    return transform(args)


@pytest.mark.parametrize("name", _cases())
def test_the_hub_database_claim_is_protected_through_the_hub_releases(name: str) -> None:
    # The hub charts render the hub database's claim (z2jh `hub-db-dir`); it is a child of a
    # remote component, so the protection reaches it through a transform on the hub releases.
    run = protected_run(name)
    hubs = [r for r in run.registrations if r.type in HUB_COMPONENTS]
    assert hubs
    for hub in hubs:
        assert hub.transforms, f"{hub.name} carries no transform"
        claims = [_transform_result(t, VOLUME_CLAIM, "hub-db-dir") for t in hub.transforms]
        protected_claims = [c for c in claims if c is not None and c.opts.protect]
        assert protected_claims, f"{hub.name}: the hub database's claim would not be protected"
        for other in ("kubernetes:apps/v1:Deployment", "kubernetes:core/v1:Secret", "kubernetes:helm.sh/v4:Chart"):
            for transform in hub.transforms:
                result = _transform_result(transform, other, "hub")
                assert result is None or not result.opts.protect, f"{hub.name} would protect a {other}"
    # The add-ons hold no user data: no transform there.
    others = [r for r in run.registrations if r.transforms and r.type not in HUB_COMPONENTS]
    assert not others, [r.name for r in others]
