"""The seams the next cloud and the next ingress controller plug into (docs/architecture.md:
"Adding a cloud", "Adding an ingress controller")."""

import ast
import importlib
import inspect
from pathlib import Path
from typing import get_args

import config

ROOT = Path(__file__).resolve().parent.parent


def test_every_ingress_controller_choice_has_an_implementation_and_nothing_else_does() -> None:
    # A choice without an implementation would fail only when a stack picks it; an implementation
    # without a choice could never be picked.
    from stacks.platform import INGRESS_CONTROLLERS

    choices = set(get_args(config.IngressConfig.model_fields["controller"].annotation))
    assert set(INGRESS_CONTROLLERS) == choices


def test_every_cloud_has_a_builder_returning_its_target() -> None:
    from stacks.target import Target

    for cloud in config.CLOUDS:
        build = importlib.import_module(f"stacks.{cloud}").build
        assert inspect.signature(build).return_annotation in (Target, "Target"), cloud


def _stack_modules() -> list[Path]:
    return sorted((ROOT / "stacks").glob("*.py"))


def test_no_stack_module_names_a_chart_builds_values_or_creates_kubernetes_objects() -> None:
    """Chart internals live in the components that install the charts: a cloud module or the
    platform that named a chart, imported values builders or created a Kubernetes object would
    have to change with every chart."""
    problems = []
    for path in _stack_modules():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            # A chart is named through versions.chart/CHARTS or a StackCharts lookup.
            if isinstance(node, ast.ImportFrom) and node.module == "versions":
                named = [a.name for a in node.names if a.name in ("chart", "CHARTS")]
                problems += [f"{path.name}:{node.lineno}: imports versions.{name}" for name in named]
            if isinstance(node, ast.Attribute) and node.attr == "ref":
                problems.append(f"{path.name}:{node.lineno}: looks a chart up")
            # Hosts and the Ingresses' settings are the platform's to decide; values documents are not.
            wiring = ("Hosts", "compute_hosts", "IngressSettings")
            if (
                isinstance(node, ast.ImportFrom)
                and (node.module or "").startswith("components.values")
                and any(alias.name not in wiring for alias in node.names)
            ):
                problems.append(f"{path.name}:{node.lineno}: imports values builders from {node.module}")
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                if any(name.startswith("pulumi_kubernetes") for name in names):
                    problems.append(f"{path.name}:{node.lineno}: imports pulumi_kubernetes")
    assert not problems, problems
