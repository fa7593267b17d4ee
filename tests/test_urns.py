"""Refactors never replace live resources: every committed stack keeps its resources' URNs.

`tests/urns/<stack>.txt` lists the engine URNs (see `Registration.engine_urn`) of each
committed stack as deployed. A resource whose URN changed is deleted and recreated by the
next `pulumi up` (a cluster, a registry, a volume), unless the new resource carries a Pulumi
alias naming the old URN. The test fails on any recorded URN that no resource has any more,
either as its URN or as one of its aliases. New resources are fine; a resource removed on
purpose is removed from the list in the same commit, which a reviewer sees.

Record (only when the set of live resources changes on purpose): `python tests/test_urns.py`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness import stack_files
from variants import deploy

URNS_DIR = Path(__file__).parent / "urns"


def engine_urns(stack: str) -> tuple[set[str], set[str]]:
    """(URNs, alias URNs) of the committed stack `stack` under the mocks."""
    run = deploy(stack)
    return {r.engine_urn for r in run.registrations}, {a for r in run.registrations for a in r.alias_urns}


@pytest.mark.parametrize("stack", stack_files())
def test_no_live_resource_of_a_committed_stack_would_be_replaced(stack: str) -> None:
    recorded = set((URNS_DIR / f"{stack}.txt").read_text().split())
    assert recorded, f"tests/urns/{stack}.txt is empty: record it (python tests/test_urns.py)"
    urns, aliases = engine_urns(stack)
    lost = sorted(recorded - urns - aliases)
    assert not lost, (
        f"stack {stack}: these resources would be deleted and recreated; keep their names or add "
        f"pulumi.Alias(...) naming the old URN:\n  " + "\n  ".join(lost)
    )


def test_alias_specs_become_the_urns_the_engine_matches() -> None:
    """The harness turns the SDK's alias specs into URNs as the engine does (pulumi/pulumi
    pkg/resource/deploy: an alias inherits the resource's name, type and parent unless it sets them)."""
    import pulumi
    from pulumi.runtime.proto import alias_pb2, resource_pb2

    from harness import Mocks, RecordingMonitor, RunOptions

    pulumi.runtime.set_mocks(Mocks(RunOptions()), project="binderhub", stack="dev")
    monitor = RecordingMonitor(Mocks(RunOptions()))
    parent = "urn:pulumi:dev::binderhub::pulumi:pulumi:Stack$binderhub:hub:Hub::hub"
    monitor.qualified_types[parent] = "binderhub:hub:Hub"
    spec = alias_pb2.Alias.Spec
    request = resource_pb2.RegisterResourceRequest(
        type="kubernetes:core/v1:Namespace",
        name="hub-namespace",
        parent=parent,
        aliases=[
            alias_pb2.Alias(spec=spec(name="namespace")),
            alias_pb2.Alias(spec=spec(noParent=True)),
            alias_pb2.Alias(urn="urn:pulumi:dev::binderhub::kubernetes:core/v1:Namespace::old"),
        ],
    )
    assert monitor._alias_urns(request) == [
        "urn:pulumi:dev::binderhub::binderhub:hub:Hub$kubernetes:core/v1:Namespace::namespace",
        "urn:pulumi:dev::binderhub::kubernetes:core/v1:Namespace::hub-namespace",
        "urn:pulumi:dev::binderhub::kubernetes:core/v1:Namespace::old",
    ]


def record() -> None:
    """Write tests/urns/<stack>.txt from the program as it is now."""
    import harness

    harness.load_cloud_mocks()
    URNS_DIR.mkdir(exist_ok=True)
    for stack in stack_files():
        urns, _ = engine_urns(stack)
        (URNS_DIR / f"{stack}.txt").write_text("\n".join(sorted(urns)) + "\n")
        print(f"{stack}: {len(urns)} URNs")


if __name__ == "__main__":
    sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parent.parent)]
    record()
