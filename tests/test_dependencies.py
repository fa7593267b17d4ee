"""The package set: pyproject.toml's pins, uv.lock made from them, and a program that runs on
what `make up` installs (the lock without the `dev` group)."""

import ast
import re
import sys
import tomllib
from collections.abc import Iterable
from importlib.metadata import packages_distributions
from pathlib import Path
from typing import Any

from harness import ROOT_DIR

PYPROJECT = tomllib.loads((ROOT_DIR / "pyproject.toml").read_text())
LOCK = tomllib.loads((ROOT_DIR / "uv.lock").read_text())
PACKAGES: dict[str, dict[str, Any]] = {p["name"]: p for p in LOCK["package"]}
PROJECT = PACKAGES[PYPROJECT["project"]["name"]]
# The program: what `pulumi up` runs. Not tests or scripts, nor the hub's own configuration
# files (components/values/hub_files/), which run inside the hub image, not here.
HUB_FILES = ROOT_DIR / "components" / "values" / "hub_files"
PROGRAM_FILES = [
    ROOT_DIR / "__main__.py",
    *sorted((ROOT_DIR / "config").rglob("*.py")),
    ROOT_DIR / "kubeconfig.py",
    ROOT_DIR / "versions.py",
    *sorted(p for p in (ROOT_DIR / "components").rglob("*.py") if HUB_FILES not in p.parents),
    *sorted((ROOT_DIR / "stacks").rglob("*.py")),
]
FIRST_PARTY = {"config", "kubeconfig", "versions", "components", "stacks"}


def normalize(name: str) -> str:
    """PEP 503 name, as uv.lock spells packages."""
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(requirements: Iterable[dict[str, Any]]) -> set[str]:
    """Every locked package a set of lock requirements pulls in, extras followed."""
    seen: set[str] = set()
    pending = list(requirements)
    while pending:
        requirement = pending.pop()
        package = PACKAGES[requirement["name"]]
        for extra in requirement.get("extra", []):
            pending.extend(package.get("optional-dependencies", {}).get(extra, []))
        if package["name"] in seen:
            continue
        seen.add(package["name"])
        pending.extend(package.get("dependencies", []))
    return seen


def pins(requirements: list[str]) -> dict[str, str]:
    """`name[extra]==version` lines -> {name: version}; anything but an exact pin fails."""
    found: dict[str, str] = {}
    for line in requirements:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[a-z0-9,]+\])?==([0-9][^\s;]*)", line)
        assert match, f"pyproject.toml: {line!r} is not pinned to one version"
        found[normalize(match.group(1))] = match.group(3)
    return found


def test_every_dependency_is_pinned_and_the_lock_was_made_from_these_pins() -> None:
    runtime = pins(PYPROJECT["project"]["dependencies"])
    dev = pins(PYPROJECT["dependency-groups"]["dev"])
    metadata = PROJECT["metadata"]
    assert {r["name"]: r["specifier"] for r in metadata["requires-dist"]} == {n: f"=={v}" for n, v in runtime.items()}
    locked_dev = metadata["requires-dev"]["dev"]
    assert {r["name"]: r["specifier"] for r in locked_dev} == {n: f"=={v}" for n, v in dev.items()}
    for name, version in {**runtime, **dev}.items():
        assert PACKAGES[name]["version"] == version, name


def test_every_locked_package_has_hashes() -> None:
    for package in LOCK["package"]:
        if package is PROJECT:
            continue
        files = package.get("wheels", []) + ([package["sdist"]] if "sdist" in package else [])
        assert files, f"{package['name']}: nothing to install from"
        for file in files:
            assert file.get("hash", "").startswith("sha256:"), f"{package['name']}: {file.get('url')} has no hash"


def third_party_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n not in FIRST_PARTY and n != "__future__"}


def test_the_program_imports_only_what_make_up_installs() -> None:
    # make up: the project's dependencies, without the dev group (pytest, jsonschema, ...)
    runtime = closure(PROJECT["dependencies"])
    dev_only = closure(PROJECT["dev-dependencies"]["dev"]) - runtime
    assert dev_only, "the dev group adds nothing: this test would prove nothing"
    distributions = packages_distributions()  # module -> distributions, from the installed .venv
    for path in PROGRAM_FILES:
        for module in third_party_imports(path):
            providers = {normalize(d) for d in distributions.get(module, [])}
            assert providers, f"{path.relative_to(ROOT_DIR)} imports {module}, which no installed package provides"
            assert providers & runtime, (
                f"{path.relative_to(ROOT_DIR)} imports {module} from {sorted(providers)}, "
                "which `make up` does not install (add it to [project].dependencies)"
            )
