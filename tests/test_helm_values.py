"""`binderhub:helmValues`: the operator's Helm values per chart, over the program's.

Pure parts first (Helm's merge rules, program-owned keys, the charts' schemas, the vendored
schema files), then the program: the documented examples deploy, refusals stop the run before
anything is registered, and secrets in an overlay stay secret.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from helm_python import Chart

from components.values import overlay
from components.values.overlay import (
    PROTECTED,
    coalesce,
    format_path,
    merge,
    parse_path,
    protected_problems,
    schema_problems,
    subchart_values,
)
from scripts import vendor_chart_schemas
from versions import CHARTS

# ------------------------------------------------------------------ Helm's merge rules


def test_the_overlay_merges_as_a_second_values_file() -> None:
    """Maps merge key by key; lists and scalars replace; a null is kept for Helm to apply."""
    program = {"hub": {"config": {"A": 1}, "args": ["--x"]}, "image": "a", "proxy": {"https": {"on": True}}}
    given = {"hub": {"config": {"B": 2}, "args": ["--y"]}, "image": {"name": "b"}, "proxy": {"https": None}}
    assert merge(program, given) == {
        "hub": {"config": {"A": 1, "B": 2}, "args": ["--y"]},
        "image": {"name": "b"},
        "proxy": {"https": None},
    }


def test_the_programs_values_are_carried_over_not_copied() -> None:
    """Program values hold Pulumi Outputs: they must reach the chart as the same objects."""
    output = object()
    merged = merge({"hub": {"cookieSecret": output, "db": {"url": output}}}, {"hub": {"db": {"type": "sqlite"}}})
    assert merged["hub"]["cookieSecret"] is output
    assert merged["hub"]["db"]["url"] is output


def test_the_overlay_is_not_shared_with_the_merged_values() -> None:
    given: dict[str, Any] = {"singleuser": {"extraEnv": {"A": "1"}, "args": ["--x"]}}
    merged = merge({}, given)
    merged["singleuser"]["extraEnv"]["A"] = "2"
    merged["singleuser"]["args"].append("--y")
    assert given == {"singleuser": {"extraEnv": {"A": "1"}, "args": ["--x"]}}


TOP_DEFAULTS = {
    "a": {"b": 1, "c": [1, 2], "n": None},
    "m": {"n": None, "k": 1},
    "t": None,
    "d": "x",
    "sub": {"p": 1},
}
SUB_DEFAULTS = {"p": 0, "q": {"r": 1, "s": 2}, "z": None}
# What an operator may write, each through Helm's engine and through coalesce().
COALESCE_CASES = [
    {},
    {"a": {"b": None, "e": None}},  # removes a default; a null with no default stays
    {"t": None, "m": None},
    {"d": {"y": 1}},  # a map over a scalar
    {"a": 5},  # a scalar over a map
    {"a": {"c": [3]}},  # lists replace
    {"a": {"n": None}, "new": {"x": None, "y": 1}},
    {"a": {"n": {"x": None}}},
    {"sub": None},  # the parent's defaults for the subchart go, the subchart's stay
    {"sub": {"q": None, "zz": None}},
    {"sub": {"q": {"r": None}, "p": None}},
    {"sub": {"z": None}},
    {"sub": {"q": 3}},
    {"global": {"g": 1}, "sub": {"global": {"h": 2}}},
]


@pytest.fixture(scope="module")
def two_level_chart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A chart with one subchart whose templates print the values Helm hands them."""
    root = tmp_path_factory.mktemp("chart") / "top"
    for folder, name, defaults in ((root, "top", TOP_DEFAULTS), (root / "charts" / "sub", "sub", SUB_DEFAULTS)):
        (folder / "templates").mkdir(parents=True)
        (folder / "Chart.yaml").write_text(yaml.safe_dump({"apiVersion": "v2", "name": name, "version": "0.1.0"}))
        (folder / "values.yaml").write_text(yaml.safe_dump(defaults))
        (folder / "templates" / "values.yaml").write_text("{{ toJson .Values }}\n")
    return root


@pytest.mark.parametrize("given", COALESCE_CASES, ids=json.dumps)
def test_coalesce_gives_what_helms_engine_renders(two_level_chart: Path, given: dict[str, Any]) -> None:
    with Chart.load(two_level_chart) as chart:
        rendered = chart.render(json.loads(json.dumps(given)), name="r", namespace="ns")
    by_helm = json.loads(rendered["top/templates/values.yaml"])
    ours = coalesce(TOP_DEFAULTS, given, subcharts={"sub"})
    ours["sub"] = subchart_values(SUB_DEFAULTS, ours, "sub")
    assert ours == by_helm
    assert ours["sub"] == json.loads(rendered["top/charts/sub/templates/values.yaml"])


# ------------------------------------------------------------------ paths


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("hub.config.JupyterHub", ("hub", "config", "JupyterHub")),
        (
            'ingress.annotations["cert-manager.io/cluster-issuer"]',
            ("ingress", "annotations", "cert-manager.io/cluster-issuer"),
        ),
        ("hub.extraConfig.10-binder-spawner", ("hub", "extraConfig", "10-binder-spawner")),
        ('a["with \\"quotes\\""].b', ("a", 'with "quotes"', "b")),
    ],
)
def test_paths_read_and_print_as_pulumi_config_paths(text: str, path: tuple[str, ...]) -> None:
    assert parse_path(text) == path
    assert format_path(path) == text


@pytest.mark.parametrize("text", ["a..b", 'a["b"', "a.b]"])
def test_a_malformed_path_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a value path"):
        parse_path(text)


# ------------------------------------------------------------------ program-owned keys


def test_a_key_the_program_sets_is_refused_naming_the_key_that_controls_it() -> None:
    problems = protected_problems("jupyterhub", {"ingress": {"hosts": ["hub.mine.org"]}})
    assert len(problems) == 1
    assert problems[0].startswith("binderhub:helmValues.jupyterhub.ingress.hosts: ")
    assert "binderhub:domain" in problems[0] and "binderhub:hosts" in problems[0]


def test_a_generated_secret_is_refused_as_the_programs_own() -> None:
    (problem,) = protected_problems("binderhub", {"jupyterhub": {"proxy": {"secretToken": "mine"}}})
    assert problem.startswith("binderhub:helmValues.binderhub.jupyterhub.proxy.secretToken: ")
    assert "no config key" in problem and "generates" in problem


def test_keys_under_a_protected_one_are_refused_once() -> None:
    problems = protected_problems(
        "jupyterhub", {"hub": {"services": {"binder": {"apiToken": "x", "url": "http://elsewhere"}}}}
    )
    assert len(problems) == 1
    assert problems[0].startswith("binderhub:helmValues.jupyterhub.hub.services.binder: ")


@pytest.mark.parametrize(
    ("chart", "given", "named"),
    [
        ("jupyterhub", {"proxy": None}, "jupyterhub.proxy: removing it would change proxy.secretToken"),
        (
            "jupyterhub",
            {"ingress": {"annotations": None}},
            'annotations: removing it would change ingress.annotations["',
        ),
        ("binderhub", {"jupyterhub": {"ingress": []}}, "binderhub.jupyterhub.ingress: replacing it would change"),
        ("binderhub-service", {"config": "x"}, "binderhub-service.config: replacing it would change config.BinderHub."),
    ],
)
def test_removing_or_replacing_a_map_that_holds_a_protected_key_is_refused(
    chart: str, given: dict[str, Any], named: str
) -> None:
    (problem,) = protected_problems(chart, given)
    assert named in problem


def test_keys_beside_the_programs_own_are_the_operators() -> None:
    given = {
        "ingress": {"annotations": {"nginx.org/client-body-buffer-size": "1m"}},
        "hub": {
            "config": {"GitHubOAuthenticator": {"populate_teams_in_auth_state": True}},
            "services": {"grafana": {"apiToken": "x"}},
            "extraConfig": {"99-mine": "c.JupyterHub.shutdown_on_logout = True"},
        },
        "singleuser": {"image": {"name": "quay.io/jupyter/scipy-notebook", "tag": "2025-03-17"}},
    }
    assert protected_problems("jupyterhub", given) == []


def test_the_fancy_profiles_hub_image_is_protected_only_with_fancy_profiles() -> None:
    given = {"hub": {"image": {"name": "quay.io/me/hub", "tag": "1"}}}
    entry = next(e for e in PROTECTED["jupyterhub"] if e.path == ("hub", "image"))
    assert protected_problems("jupyterhub", given, lambda e: e is not entry) == []
    (problem,) = protected_problems("jupyterhub", given)
    assert "binderhub:fancyProfiles.hubImage" in problem


# ------------------------------------------------------------------ the charts' schemas

PINNED = {name: ref.version for name, ref in CHARTS.items()}


@pytest.mark.parametrize("chart", [c for c in CHARTS if overlay.has_schema(c)])
def test_a_chart_alone_satisfies_its_schema(chart: str) -> None:
    """No overlay, no complaint: the check must not refuse what the chart itself ships."""
    assert schema_problems(chart, PINNED[chart], {}) == []


def test_a_misspelt_key_is_refused_with_the_key_it_resembles() -> None:
    (problem,) = schema_problems("jupyterhub", PINNED["jupyterhub"], {"singleuser": {"imgae": {"name": "x"}}})
    assert problem.startswith("binderhub:helmValues.jupyterhub.singleuser.imgae: ")
    assert "'image'" in problem


def test_a_wrong_type_is_refused_with_the_schemas_complaint() -> None:
    (problem,) = schema_problems("nginx-ingress", PINNED["nginx-ingress"], {"controller": {"replicaCount": "two"}})
    assert problem.startswith("binderhub:helmValues.nginx-ingress.controller.replicaCount: ")
    assert "not of type 'integer'" in problem


def test_a_null_that_removes_a_required_key_is_refused() -> None:
    (problem,) = schema_problems("jupyterhub", PINNED["jupyterhub"], {"singleuser": {"image": {"tag": None}}})
    assert problem.startswith("binderhub:helmValues.jupyterhub.singleuser.image: ")
    assert "'tag' is a required property" in problem


def test_the_binderhub_charts_hub_is_checked_by_its_bundled_z2jh_schema() -> None:
    (problem,) = schema_problems("binderhub", PINNED["binderhub"], {"jupyterhub": {"singleuser": {"imgae": "x"}}})
    assert problem.startswith("binderhub:helmValues.binderhub.jupyterhub.singleuser.imgae: ")


def test_the_worked_examples_satisfy_the_schemas() -> None:
    assert schema_problems("jupyterhub", PINNED["jupyterhub"], EXAMPLE_USER_IMAGE["jupyterhub"]) == []
    for chart in ("binderhub", "binderhub-service"):
        assert schema_problems(chart, PINNED[chart], {"config": {"BinderHub": {"banner_message": "hi"}}}) == []


def test_a_chart_without_a_schema_has_nothing_to_refuse() -> None:
    assert not overlay.has_schema("localpv-provisioner")
    assert schema_problems("localpv-provisioner", PINNED["localpv-provisioner"], {"anything": [1]}) == []


# The README's two worked examples (tests below read them from the README too).
EXAMPLE_USER_IMAGE = {
    "jupyterhub": {"singleuser": {"image": {"name": "quay.io/jupyter/scipy-notebook", "tag": "2025-03-17"}}}
}


# ------------------------------------------------------------------ the vendored schema files


def test_the_vendored_schemas_are_the_pinned_charts_own() -> None:
    """components/values/charts/ holds exactly what the pinned archives ship (refresh it with
    scripts/vendor_chart_schemas.py after changing a version in versions.py)."""
    cache = vendor_chart_schemas.default_cache()
    if not cache.is_dir():
        pytest.skip(f"no chart cache at {cache} (set BINDERHUB_CHARTS_DIR)")
    expected, missing = vendor_chart_schemas.vendored_files(cache)
    assert expected, f"no pinned chart with a schema in {cache}"
    on_disk = {
        str(path.relative_to(overlay.CHART_FILES)): path.read_bytes()
        for path in overlay.CHART_FILES.rglob("*")
        if path.is_file()
    }
    missing_folders = {f"{name}-{version}" for name, version in (m.split(" ") for m in missing)}
    on_disk = {k: v for k, v in on_disk.items() if k.split("/")[0] not in missing_folders}
    assert sorted(on_disk) == sorted(expected)
    for name, content in expected.items():
        assert on_disk[name] == content, f"{name} differs from the pinned chart's: run scripts/vendor_chart_schemas.py"


def test_every_pinned_chart_that_ships_a_schema_is_checked(tmp_path: Path) -> None:
    """A chart archive with a values.schema.json is vendored under its own name and version,
    its direct subcharts too; one without is not."""

    def archive(name: str, version: str, files: dict[str, str]) -> None:
        with tarfile.open(tmp_path / vendor_chart_schemas.archive_name(name, version), "w:gz") as tar:
            for path, text in files.items():
                info = tarfile.TarInfo(path)
                data = text.encode()
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))

    chart = lambda name, version: yaml.safe_dump({"name": name, "version": version})  # noqa: E731
    ref = CHARTS["binderhub"]
    archive(
        "binderhub",
        ref.version,
        {
            "binderhub/Chart.yaml": chart("binderhub", ref.version),
            "binderhub/values.yaml": "a: 1\n",
            "binderhub/values.schema.json": "{}",
            "binderhub/charts/jupyterhub/Chart.yaml": chart("jupyterhub", "9.9.9"),
            "binderhub/charts/jupyterhub/values.yaml": "b: 2\n",
            "binderhub/charts/jupyterhub/values.schema.json": '{"type": "object"}',
        },
    )
    helper = CHARTS["binderhub-container-registry-helper"]
    archive(
        helper.chart,
        helper.version,
        {f"{helper.chart}/Chart.yaml": chart(helper.chart, helper.version), f"{helper.chart}/values.yaml": "c: 3\n"},
    )
    files, missing = vendor_chart_schemas.vendored_files(tmp_path)
    assert files == {
        f"binderhub-{ref.version}/values.yaml": b"a: 1\n",
        f"binderhub-{ref.version}/values.schema.json": b"{}",
        "jupyterhub-9.9.9/values.yaml": b"b: 2\n",
        "jupyterhub-9.9.9/values.schema.json": b'{"type": "object"}',
    }
    assert f"{helper.chart} {helper.version}" not in missing
    assert f"jupyterhub {CHARTS['jupyterhub'].version}" in missing
