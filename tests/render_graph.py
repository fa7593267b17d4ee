"""Render the resource graph of a stack (run under the mocks) as a Mermaid diagram.

    .venv/bin/python tests/render_graph.py prod     (prints the diagram docs/architecture.md embeds)

Boxes are components, arrows go from a resource to what waits for it: creation follows the
arrows, `pulumi destroy` goes against them.
"""

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import ProgramRun, Registration, load_cloud_mocks

# Placeholder secrets: only their presence matters to the graph.


def _node_id(reg: Registration) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", f"{reg.type.rsplit(':', 1)[-1]}_{reg.name}")


def _label(reg: Registration) -> str:
    kind = reg.type.rsplit(":", 1)[-1].split("/")[-1]
    return f"{reg.name}<br/><small>{kind}</small>"


def mermaid(run: ProgramRun) -> str:
    shown = [r for r in run.registrations if not r.read]
    by_urn = {r.urn: r for r in shown}
    children: dict[str, list[Registration]] = {}
    for reg in shown:
        children.setdefault(reg.parent if reg.parent in by_urn else "", []).append(reg)
    lines = ["graph LR"]

    def emit(parent: str, indent: str) -> None:
        # Sorted: registration order varies from run to run (outputs resolve concurrently).
        for reg in sorted(children.get(parent, []), key=_node_id):
            if reg.urn in children:
                lines.append(f'{indent}subgraph {_node_id(reg)}["{_label(reg)}"]')
                emit(reg.urn, indent + "  ")
                lines.append(f"{indent}end")
            else:
                lines.append(f'{indent}{_node_id(reg)}["{_label(reg)}"]')

    emit("", "  ")
    edges: set[str] = set()
    for reg in shown:
        prerequisites = [*reg.dependencies, *([reg.provider_urn] if reg.provider_urn else [])]
        for urn in prerequisites:
            if urn in by_urn and urn != reg.parent:
                edges.add(f"  {_node_id(by_urn[urn])} --> {_node_id(reg)}")
    lines += sorted(edges)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    stack = sys.argv[1] if len(sys.argv) > 1 else "prod"
    load_cloud_mocks()
    from variants import VARIANTS  # the committed stack with the secrets it needs (as the tests run it)

    run = VARIANTS[stack].run()
    if run.error is not None:
        raise SystemExit(f"Pulumi.{stack}.yaml failed under the mocks: {run.error!r}")
    sys.stdout.write(mermaid(run))
