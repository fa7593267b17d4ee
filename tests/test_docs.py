"""The documentation a newcomer follows stays true to the program."""

import re
import typing

import jsonschema
import pytest
from pydantic import BaseModel
from render_graph import mermaid

import config
from config import reference
from harness import ROOT_DIR, stack_file_config, stack_files
from variants import deploy

README = (ROOT_DIR / "README.md").read_text()
ARCHITECTURE = (ROOT_DIR / "docs" / "architecture.md").read_text()


def models(model: type[BaseModel]) -> list[type[BaseModel]]:
    """`model` and every model nested in it (each cloud's cluster included)."""
    found = [model]
    for field in model.model_fields.values():
        for arg in (field.annotation, *typing.get_args(field.annotation)):
            if isinstance(arg, type) and issubclass(arg, BaseModel) and arg not in found:
                found += models(arg)
    return found


ALL_MODELS = {m for cloud in config.CLOUDS.values() for m in models(cloud.stack)}


def test_every_config_key_has_a_description() -> None:
    missing = [
        f"{model.__name__}.{name}"
        for model in ALL_MODELS
        for name, field in model.model_fields.items()
        if not (field.description or "").strip() and name != "cloud"
    ]
    assert not missing, f"fields without a description (a docstring under the field): {missing}"
    assert set(config.SECRET_DESCRIPTIONS) == set(config.SECRET_KEYS)


def test_readme_table_and_json_schema_are_generated_from_the_model() -> None:
    assert reference.readme_with_table(README) == README, "README's table is stale: python -m config.reference"
    assert reference.SCHEMA_PATH.read_text() == reference.schema_text(), (
        "docs/config.schema.json is stale: python -m config.reference"
    )


def test_readme_table_names_every_key_of_every_cloud() -> None:
    table = README.split(reference.TABLE_START, 1)[1].split(reference.TABLE_END, 1)[0]
    documented = set(re.findall(r"^\| `([^`]+)`", table, re.M))
    for cloud in config.CLOUDS.values():
        cluster = cloud.stack.model_fields["cluster"].annotation
        assert isinstance(cluster, type)
        assert {f"cluster.{f.alias or n}" for n, f in cluster.model_fields.items()} <= documented
    assert {f.alias or n for n, f in config.StackConfig.model_fields.items()} | set(config.SECRET_KEYS) <= documented
    assert {"tls.email", "auth.allowedGroups", "registry.prefix", "cull.maxAge"} <= documented


def test_the_json_schema_accepts_the_committed_stacks_and_refuses_a_typo() -> None:
    schema = reference.json_schema()
    for stack in stack_files():
        jsonschema.validate(stack_file_config(stack), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**stack_file_config("dev"), "namepsace": "x"}, schema)


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
