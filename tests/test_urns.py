"""Refactors never replace live resources: every committed stack keeps its resources' URNs.

`tests/urns/<stack>.txt` lists the engine URNs (see `Registration.engine_urn`) of each
committed stack as deployed. A resource whose URN changed is deleted and recreated by the
next `pulumi up` (a cluster, a registry, a volume), unless the new resource carries a Pulumi
alias naming the old URN. The test matches the run's resources with the recorded URNs as the
engine does (`harness.engine_takeover`: own URN first, then aliases, a parent's matched alias
passed on to its children) and fails on any recorded URN no resource would take over. A read
(`Service.get`) carries no aliases; the engine drops an old read from the state without
deleting anything, so a recorded read is accounted for by the read standing where it stood.
New resources are fine; a resource removed on purpose is removed from the list in the same
commit, which a reviewer sees.

Record (only when the set of live resources changes on purpose): `python tests/test_urns.py`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness import Registration, engine_takeover, stack_files
from variants import deploy

URNS_DIR = Path(__file__).parent / "urns"


def engine_urns(stack: str) -> set[str]:
    """The engine URNs of the committed stack `stack` under the mocks."""
    return {r.engine_urn for r in deploy(stack).registrations}


@pytest.mark.parametrize("stack", stack_files())
def test_no_live_resource_of_a_committed_stack_would_be_replaced(stack: str) -> None:
    recorded = set((URNS_DIR / f"{stack}.txt").read_text().split())
    assert recorded, f"tests/urns/{stack}.txt is empty: record it (python tests/test_urns.py)"
    takeover = engine_takeover(deploy(stack).registrations, recorded)
    assert not takeover.conflicts, f"stack {stack}: the engine would refuse these aliases: {takeover.conflicts}"
    lost = sorted(recorded - set(takeover.taken) - set(takeover.read))
    assert not lost, (
        f"stack {stack}: these resources would be deleted and recreated; keep their names or add "
        f"pulumi.Alias(...) naming the old URN:\n  " + "\n  ".join(lost)
    )


# ---------------------------------------------------------------------------- the engine's alias rule

STACK, PROJECT = "dev", "binderhub"
THING = "test:index:Thing"


def _urn(qualified_type: str, name: str) -> str:
    return f"urn:pulumi:{STACK}::{PROJECT}::{qualified_type}::{name}"


def _register(build: Callable[[], None]) -> list[Registration]:
    """What `build` registers, as the engine would receive it (alias specs, not URNs)."""
    import pulumi
    from pulumi.runtime.settings import ROOT, SETTINGS
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    from harness import Mocks, RecordingMonitor, RunOptions

    mocks = Mocks(RunOptions())
    monitor = RecordingMonitor(mocks)
    ROOT.set(None)
    runtime: Any = SETTINGS
    runtime.rpc_manager.clear()
    runtime.outputs.clear()
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=STACK, monitor=monitor)
    _sync_await(run_pulumi_func(build))
    return monitor.registrations


def _component(type_: str, name: str, **opts: Any) -> Any:
    import pulumi

    return pulumi.ComponentResource(type_, name, None, pulumi.ResourceOptions(**opts))


def _thing(name: str, **opts: Any) -> Any:
    import pulumi

    return pulumi.CustomResource(THING, name, {}, pulumi.ResourceOptions(**opts))


def test_a_renamed_component_type_carries_its_children_and_grandchildren() -> None:
    import pulumi

    def build() -> None:
        outer = _component("binderhub:ingress:New", "ingress", aliases=[pulumi.Alias(type_="binderhub:ingress:Old")])
        inner = _component("binderhub:ingress:Part", "ingress-part", parent=outer)
        _thing("ingress-ns", parent=outer)
        _thing("ingress-part-release", parent=inner)

    olds = {
        _urn("binderhub:ingress:Old", "ingress"),
        _urn("binderhub:ingress:Old$binderhub:ingress:Part", "ingress-part"),
        _urn(f"binderhub:ingress:Old${THING}", "ingress-ns"),
        _urn(f"binderhub:ingress:Old$binderhub:ingress:Part${THING}", "ingress-part-release"),
    }
    takeover = engine_takeover(_register(build), olds)
    assert set(takeover.taken) == olds
    assert takeover.taken[_urn(f"binderhub:ingress:Old${THING}", "ingress-ns")] == _urn(
        f"binderhub:ingress:New${THING}", "ingress-ns"
    )


def test_a_renamed_component_carries_children_named_after_it() -> None:
    import pulumi

    def build() -> None:
        site = _component("test:index:Site", "site", aliases=[pulumi.Alias(name="web")])
        _thing("site-bucket", parent=site)
        _thing("logs", parent=site)

    olds = {
        _urn("test:index:Site", "web"),
        _urn(f"test:index:Site${THING}", "web-bucket"),
        _urn(f"test:index:Site${THING}", "logs"),
    }
    assert set(engine_takeover(_register(build), olds).taken) == olds


def test_resources_moved_under_a_new_component_need_their_own_alias() -> None:
    """A new component matched nothing, so its children inherit no alias: each names its old parent."""
    import pulumi

    def build() -> None:
        hub = _component("binderhub:hub:Hub", "hub")
        _thing("hub-namespace", parent=hub, aliases=[pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)])
        _thing("hub-token", parent=hub)
        release = _component("binderhub:hub:Release", "binderhub", parent=hub, aliases=[pulumi.Alias(parent=None)])
        _thing("binderhub-chart", parent=release)

    olds = {
        _urn(THING, "hub-namespace"),
        _urn(THING, "hub-token"),
        _urn("binderhub:hub:Release", "binderhub"),
        _urn(f"binderhub:hub:Release${THING}", "binderhub-chart"),
    }
    takeover = engine_takeover(_register(build), olds)
    assert set(olds) - set(takeover.taken) == {_urn(THING, "hub-token")}


def test_only_the_alias_a_parent_matched_is_inherited() -> None:
    import pulumi

    def build() -> None:
        parent = _component("test:index:Now", "app", aliases=[pulumi.Alias(type_="test:index:Before")])
        _thing("app-db", parent=parent)

    # The parent is found under its own URN: no alias used, so the child inherits none.
    olds = {_urn("test:index:Now", "app"), _urn(f"test:index:Before${THING}", "app-db")}
    assert set(engine_takeover(_register(build), olds).taken) == {_urn("test:index:Now", "app")}


def test_an_old_urn_claimed_twice_is_what_the_engine_refuses() -> None:
    import pulumi

    def build() -> None:
        _thing("a", aliases=[pulumi.Alias(name="old")])
        _thing("b", aliases=[pulumi.Alias(name="old")])

    takeover = engine_takeover(_register(build), {_urn(THING, "old")})
    assert takeover.conflicts


def record() -> None:
    """Write tests/urns/<stack>.txt from the program as it is now."""
    import harness

    harness.load_cloud_mocks()
    URNS_DIR.mkdir(exist_ok=True)
    for stack in stack_files():
        urns = engine_urns(stack)
        (URNS_DIR / f"{stack}.txt").write_text("\n".join(sorted(urns)) + "\n")
        print(f"{stack}: {len(urns)} URNs")


if __name__ == "__main__":
    sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parent.parent)]
    record()
