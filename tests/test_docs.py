"""The documentation a newcomer follows stays true to the program."""

import re

from pydantic import BaseModel
from render_graph import mermaid

import config
from harness import ROOT_DIR, stack_files
from variants import deploy

README = (ROOT_DIR / "README.md").read_text()
ARCHITECTURE = (ROOT_DIR / "docs" / "architecture.md").read_text()
# Object keys and the models that define their fields.
NESTED: dict[str, list[type[BaseModel]]] = {
    "cluster": list(config.CLUSTER_MODELS.values()),
    "registry": [config.RegistryConfig],
    "hosts": [config.HostsConfig],
    "tls": [config.TlsConfig],
    "ingress": [config.IngressConfig],
    "auth": [config.AuthConfig],
    "cull": [config.CullConfig],
    "cors": [config.CorsConfig],
    "namedServers": [config.NamedServersConfig],
    "fancyProfiles": [config.FancyProfilesConfig],
}


def keys(model: type[BaseModel]) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()}


def reference_rows() -> dict[str, str]:
    """README's configuration table: each key of the first column -> the row's text."""
    section = README.split("## Configuration reference", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        first, rest = line.split(" | ", 1)
        for key in re.findall(r"`([^`]+)`", first):
            rows[key] = rest
    return rows


def test_config_reference_lists_every_key_and_no_other() -> None:
    rows = reference_rows()
    documented = set(rows)
    expected = keys(config.StackConfig) | set(config.SECRET_KEYS)
    assert documented == expected, f"missing: {expected - documented}; not in the model: {documented - expected}"


def test_config_reference_names_every_nested_key() -> None:
    rows = reference_rows()
    for key, models in NESTED.items():
        mentioned = set(re.findall(r"`([A-Za-z]+)`", rows[key]))
        fields = set().union(*(keys(model) for model in models))
        assert fields <= mentioned, f"{key}: the README does not describe {sorted(fields - mentioned)}"


def test_every_committed_stack_has_a_quickstart() -> None:
    for stack in stack_files():
        assert f"(`{stack}`)" in README, f"no quickstart heading for the {stack} stack"


def test_linked_documents_exist() -> None:
    for target in re.findall(r"\]\(([^)#:]+)\)", README + ARCHITECTURE):
        base = ROOT_DIR if not target.startswith("../") else ROOT_DIR / "docs"
        assert (base / target).exists() or (ROOT_DIR / "docs" / target).exists(), f"broken link {target}"


def test_architecture_diagram_is_the_recorded_graph_of_prod() -> None:
    block = re.search(r"<!-- graph:prod \(generated\) -->\n```mermaid\n(.*?)```", ARCHITECTURE, re.S)
    assert block, "docs/architecture.md lost its generated diagram"
    # The graph depends on which secrets are set, not on their values: the prod variant's run.
    run = deploy("prod")
    assert block.group(1) == mermaid(run), "regenerate: .venv/bin/python tests/render_graph.py prod"


def test_every_component_file_is_described_in_the_architecture() -> None:
    for path in sorted((ROOT_DIR / "components").rglob("*.py")):
        relative = path.relative_to(ROOT_DIR).as_posix()
        if (path.name == "__init__.py" and path.parent.name != "cluster") or "/values/" in relative:
            continue
        folder = path.parent.relative_to(ROOT_DIR).as_posix()
        # Files of a sub-package (registry/) may be described by their folder.
        described = relative in ARCHITECTURE or (folder != "components" and f"`{folder}/`" in ARCHITECTURE)
        assert described, relative
