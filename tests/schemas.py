"""Validate Helm values documents against the real chart schemas in ../shared/chart-schemas.

Helm validates the *merged* values (chart defaults coalesced with ours), so we do the same;
for the classic chart, the `jupyterhub:` part is validated by the bundled z2jh schema.
"""

from __future__ import annotations

import copy
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from harness import ROOT_DIR, ProgramRun, Registration, unwrap
from scripts.fetch_chart_schemas import BUNDLED_JUPYTERHUB_FOLDER
from scripts.fetch_chart_schemas import SCHEMA_FOLDERS as FETCHED_FOLDERS
from versions import CHARTS

SCHEMA_ENV = "BINDERHUB_CHART_SCHEMAS"

# chart name (as deployed) -> folder in chart-schemas, for the pinned versions
SCHEMA_FOLDERS = {CHARTS[name].chart: folder for name, folder in FETCHED_FOLDERS.items()}
BUNDLED_JUPYTERHUB = BUNDLED_JUPYTERHUB_FOLDER


def schema_dir() -> Path:
    configured = os.environ.get(SCHEMA_ENV)
    path = Path(configured) if configured else ROOT_DIR.parent / "shared" / "chart-schemas"
    if not path.is_dir():
        pytest.skip(f"chart schemas not found at {path} (set {SCHEMA_ENV}); values not validated")
    return path


@cache
def _load(folder: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    base = schema_dir() / folder
    defaults = yaml.safe_load((base / "values.yaml").read_text()) or {}
    schema_path = base / "values.schema.json"
    schema = json.loads(schema_path.read_text()) if schema_path.exists() else None
    return defaults, schema


def coalesce(defaults: Any, overrides: Any) -> Any:
    """Helm's merge: maps merge recursively, anything else replaces; null deletes a default."""
    if isinstance(defaults, dict) and isinstance(overrides, dict):
        merged = copy.deepcopy(defaults)
        for key, value in overrides.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = coalesce(merged.get(key), value)
        return merged
    return copy.deepcopy(overrides)


def _offline(schema: Any) -> Any:
    """The schema with remote `$ref`s replaced by "anything".

    nginx-ingress points at Kubernetes' own definitions online; offline those few subtrees
    (label selectors, probes, affinities) accept anything, the chart's own keys stay strict.
    """
    if isinstance(schema, dict):
        if str(schema.get("$ref", "")).startswith("http"):
            return {}
        return {k: _offline(v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_offline(v) for v in schema]
    return schema


def _errors(schema: dict[str, Any], document: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(_offline(schema))
    return [f"{'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in validator.iter_errors(document)]


def validate_values(chart: str, values: dict[str, Any]) -> list[str]:
    """Schema errors of `values` for `chart` (empty when valid)."""
    folder = SCHEMA_FOLDERS[chart]
    defaults, schema = _load(folder)
    merged = coalesce(defaults, unwrap(values))
    errors = _errors(schema, merged) if schema else []
    if chart == "binderhub":
        sub_defaults, sub_schema = _load(BUNDLED_JUPYTERHUB)
        assert sub_schema is not None
        hub = coalesce(sub_defaults, merged.get("jupyterhub", {}))
        errors += [f"jupyterhub.{e}" for e in _errors(sub_schema, hub)]
    return errors


def helm_releases(run: ProgramRun) -> list[Registration]:
    return [r for r in run.registrations if r.type in ("kubernetes:helm.sh/v4:Chart", "kubernetes:helm.sh/v3:Release")]


def assert_all_values_valid(run: ProgramRun) -> int:
    """Validate every Helm values document the run would deploy; returns how many were checked."""
    checked = 0
    for release in helm_releases(run):
        chart = release.inputs["chart"]
        if chart not in SCHEMA_FOLDERS:
            continue  # charts without a published schema (see chart-schemas/README.md)
        errors = validate_values(chart, release.inputs.get("values", {}))
        assert not errors, f"{release.name} ({chart}) values rejected by the chart schema:\n" + "\n".join(errors)
        checked += 1
    return checked
