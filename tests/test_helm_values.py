"""`binderhub:helmValues`: the operator's Helm values per chart, over the program's.

Pure parts first (Helm's merge rules, program-owned keys, the charts' schemas, the vendored
schema files), then the program: the documented examples deploy, refusals stop the run before
anything is registered, and secrets in an overlay stay secret.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any, get_args

import pulumi
import pytest
import yaml
from helm_python import Chart
from pydantic import BaseModel

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
from config import CLUSTER_MODELS, SECRET_KEYS, ConfigError, StackConfig, parse_config
from harness import ROOT_DIR, Program, find_plain, is_secret, stack_file_config, unwrap
from schemas import assert_all_values_valid, helm_releases
from scripts import vendor_chart_schemas
from variants import AUTH, FANCY_HUB_IMAGE, HELM_VALUES_EXAMPLES, SECRET_VALUES, VARIANTS, WITH_DOMAIN, deploy
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
    for chart, given in HELM_VALUES_EXAMPLES.items():
        assert schema_problems(chart, PINNED[chart], given) == []
    assert schema_problems("binderhub", PINNED["binderhub"], {"config": {"BinderHub": {"banner_message": "hi"}}}) == []


def test_a_chart_without_a_schema_has_nothing_to_refuse() -> None:
    assert not overlay.has_schema("localpv-provisioner")
    assert schema_problems("localpv-provisioner", PINNED["localpv-provisioner"], {"anything": [1]}) == []


# The variant deploying the README's two worked examples (variants.HELM_VALUES_EXAMPLES).
EXAMPLES = "service-github-helm-values"


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


# ------------------------------------------------------------------ the program


def _overlays_in_readme() -> list[dict[str, Any]]:
    """The YAML blocks of the README's "Helm values overlay" section, as stack config."""
    text = (ROOT_DIR / "README.md").read_text()
    section = text.split("\n## Helm values overlay\n", 1)[1].split("\n## ", 1)[0]
    blocks = [block.split("```", 1)[0] for block in section.split("```yaml\n")[1:]]
    return [yaml.safe_load(block)["config"]["binderhub:helmValues"] for block in blocks]


def test_the_readme_examples_are_the_ones_deployed_here() -> None:
    assert _overlays_in_readme()[0] == HELM_VALUES_EXAMPLES == VARIANTS[EXAMPLES].config["helmValues"]


def test_the_examples_reach_the_charts_beside_the_programs_values() -> None:
    run = deploy(EXAMPLES)
    hub = unwrap(run.chart("jupyterhub").inputs["values"])
    binder = unwrap(run.chart("binderhub").inputs["values"])
    assert hub["singleuser"]["image"] == {"name": "quay.io/jupyter/scipy-notebook", "tag": "2025-03-17"}
    assert binder["config"]["BinderHub"]["banner_message"] == "Builds are kept for a week: save your work."
    # Merged, not replaced: the program's keys beside them are still there.
    assert hub["singleuser"]["storage"] == {"type": "none"}
    assert binder["config"]["BinderHub"]["base_url"] == "/services/binder/"
    without = unwrap(deploy("service-github").chart("jupyterhub").inputs["values"])
    assert {**without, "singleuser": hub["singleuser"]} == hub


def test_the_classic_charts_spelling_of_the_examples_deploys() -> None:
    """The same two examples on the classic chart (its hub is the binderhub chart's `jupyterhub:`)."""
    given = {
        "binderhub": {
            "config": {"BinderHub": {"banner_message": "Maintenance on Friday"}},
            "jupyterhub": HELM_VALUES_EXAMPLES["jupyterhub"],
        }
    }
    run = Program({**WITH_DOMAIN, "helmValues": given}, {"registryPassword": SECRET_VALUES["registryPassword"]}).run()
    assert run.error is None, run.error
    values = unwrap(run.chart("binderhub").inputs["values"])
    assert values["config"]["BinderHub"]["banner_message"] == "Maintenance on Friday"
    assert values["jupyterhub"]["singleuser"]["image"]["name"] == "quay.io/jupyter/scipy-notebook"
    assert assert_all_values_valid(run) >= 1


def test_a_null_reaches_the_chart_to_remove_its_default() -> None:
    """Pulumi passes a nested null through to Helm, which drops the chart's default there."""
    given = {"jupyterhub": {"singleuser": {"extraLabels": None}}}
    run = Program({**WITH_DOMAIN, "shape": "service", "helmValues": given}, {"registryPassword": "x" * 12}).run()
    assert run.error is None, run.error
    singleuser = run.chart("jupyterhub").raw_inputs["values"]["singleuser"]
    assert "extraLabels" in singleuser and singleuser["extraLabels"] is None


def _refused(config: dict[str, Any], secrets: dict[str, str] | None = None) -> str:
    run = Program(config, secrets or {"registryPassword": SECRET_VALUES["registryPassword"]}).run()
    assert isinstance(run.error, ConfigError), run.error
    assert run.registrations == [], "refused before anything is registered"
    return str(run.error)


def test_an_overlay_on_a_program_owned_key_is_refused_naming_the_key() -> None:
    message = _refused(
        {**WITH_DOMAIN, "shape": "service", "helmValues": {"jupyterhub": {"ingress": {"hosts": ["hub.mine.org"]}}}}
    )
    assert "binderhub:helmValues.jupyterhub.ingress.hosts: the program sets this from binderhub:domain" in message


def test_an_overlay_the_schema_refuses_stops_the_run_before_anything_is_registered() -> None:
    message = _refused(
        {**WITH_DOMAIN, "helmValues": {"nginx-ingress": {"controller": {"replicaCount": "two"}}}},
    )
    assert "binderhub:helmValues.nginx-ingress.controller.replicaCount: " in message
    assert "'two' is not of type 'integer'" in message


def test_an_overlay_for_a_chart_the_stack_does_not_install_is_refused() -> None:
    message = _refused({**WITH_DOMAIN, "helmValues": {"jupyterhub": {"singleuser": {}}}})
    assert "binderhub:helmValues.jupyterhub: this stack does not install jupyterhub" in message
    assert "binderhub:helmValues.binderhub.jupyterhub" in message


def test_every_problem_of_an_overlay_is_reported_at_once() -> None:
    given = {
        "binderhub": {"config": {"BinderHub": {"hub_url": "https://elsewhere/"}}, "imageBuilderTyp": "pink"},
        "cert-manager": {"crds": {"keep": True}},
    }
    message = _refused({**WITH_DOMAIN, "helmValues": given})
    for key in ("binderhub.config.BinderHub.hub_url", "binderhub.imageBuilderTyp", "cert-manager.crds.keep"):
        assert f"binderhub:helmValues.{key}: " in message


SECRET_IN_OVERLAY = "lti-shared-secret-0a1b2c3d4e5f"


def test_a_secret_in_the_overlay_stays_secret() -> None:
    """`pulumi config set --secret --path binderhub:helmValues.jupyterhub.hub.config...` marks the
    whole key secret: no resource input may hold the value in plain text, yet it reaches the chart."""
    given = {"jupyterhub": {"hub": {"config": {"LTI13Authenticator": {"client_secret": SECRET_IN_OVERLAY}}}}}
    secrets = {"registryPassword": SECRET_VALUES["registryPassword"], "helmValues": json.dumps(given)}
    run = Program({**WITH_DOMAIN, "shape": "service"}, secrets).run()
    assert run.error is None, run.error
    for reg in run.registrations:
        assert not find_plain(reg.raw_inputs, SECRET_IN_OVERLAY), f"{reg.type} {reg.name} holds the secret in plain"
    hub = unwrap(run.chart("jupyterhub").inputs["values"])
    assert hub["hub"]["config"]["LTI13Authenticator"]["client_secret"] == SECRET_IN_OVERLAY
    for output in run.outputs.values():
        assert SECRET_IN_OVERLAY not in json.dumps(output.value) or output.secret


def test_a_secret_overlay_is_not_echoed_in_errors() -> None:
    given = {"jupyterhub": {"singleuser": {"image": {"name": SECRET_IN_OVERLAY, "tag": 7}}}}
    message = _refused(
        {**WITH_DOMAIN, "shape": "service"},
        {"registryPassword": SECRET_VALUES["registryPassword"], "helmValues": json.dumps(given)},
    )
    assert "binderhub:helmValues.jupyterhub.singleuser.image.tag: " in message
    assert SECRET_IN_OVERLAY not in message


def test_a_multi_line_value_is_the_charts_to_judge() -> None:
    """Control characters are refused in every other key; a hub.extraConfig snippet is lines."""
    snippet = "c.JupyterHub.shutdown_on_logout = True\nc.Spawner.default_url = '/lab'\n"
    given = {"jupyterhub": {"hub": {"extraConfig": {"99-mine": snippet}}}}
    run = Program({**WITH_DOMAIN, "shape": "service", "helmValues": given}, {"registryPassword": "x" * 12}).run()
    assert run.error is None, run.error
    assert unwrap(run.chart("jupyterhub").inputs["values"])["hub"]["extraConfig"]["99-mine"] == snippet


# ------------------------------------------------------------------ the table against the program


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_the_charts_an_overlay_may_name_are_the_ones_the_stack_installs(name: str) -> None:
    variant = VARIANTS[name]
    cfg = parse_config(json.loads(json.dumps(variant.config)), set(variant.secrets))
    assert overlay.installed_charts(cfg) == set(variant.charts)


# Configurations that set what the catalogue (variants.py) leaves unset, so that every
# protected path is shown in what the program renders.
EVERY_LOGIN_KEY = {
    # allowAll is refused beside a rule that restricts, so it gets configurations of its own.
    "github": {**AUTH["github"], "allowedUsers": ["bob"], "adminUsers": ["root"], "passTokens": True},
    "github-all": {"type": "github", "clientId": "gh-client-id", "allowAll": True},
    "generic": {**AUTH["generic"], "allowedUsers": ["bob"], "passTokens": True},
    "generic-all": {**{k: v for k, v in AUTH["generic"].items() if k != "allowedGroups"}, "allowAll": True},
}
ALL_TOKENS = {"registryPassword", "oauthClientSecret", "githubToken", "gitlabToken"}
MORE_KEYS = [
    ({**WITH_DOMAIN, "shape": shape, "auth": auth, "cors": {"allowOrigin": "*"}}, ALL_TOKENS)
    for shape in ("classic", "service")
    for auth in EVERY_LOGIN_KEY.values()
] + [
    ({**stack_file_config("aws"), "shape": "service"}, set()),
    ({**stack_file_config("gcp"), "userPlaceholders": 1}, set()),  # the classic chart's placeholders
    # binderhub:monitoring on the service shape (z2jh's own chart) with a storage class of its own
    ({**stack_file_config("baremetal"), "monitoring": {"enabled": True}}, {"registryPassword", "oauthClientSecret"}),
]


@cache
def rendered_paths() -> dict[str, set[tuple[str, ...]]]:
    """Chart (versions.py name) -> every path in the values the program gives it, over the
    catalogue and MORE_KEYS."""
    runs = [variant.run() for variant in VARIANTS.values()]
    for config, secrets in MORE_KEYS:
        runs.append(Program(config, {k: SECRET_VALUES[k] for k in secrets}).run())
    by_chart = {ref.chart: name for name, ref in CHARTS.items()}
    found: dict[str, set[tuple[str, ...]]] = {}
    for run in runs:
        assert run.error is None, run.error
        for release in helm_releases(run):
            paths = found.setdefault(by_chart[release.inputs["chart"]], set())
            paths.update(path for path, _ in _walk(unwrap(release.inputs["values"])))
    return found


def _walk(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*path, key), item
            yield from _walk(item, (*path, key))


@pytest.mark.parametrize("chart", sorted(PROTECTED))
def test_every_protected_path_is_one_the_program_sets(chart: str) -> None:
    """The table follows the values builders: a path they stop setting fails here."""
    missing = [format_path(e.path) for e in PROTECTED[chart] if e.path not in rendered_paths()[chart]]
    assert missing == [], f"{chart}: protected but never set by the program"


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_secret_the_program_puts_in_values_is_protected(name: str) -> None:
    """A generated secret or credential the table misses would be an overlay's to replace."""
    by_chart = {ref.chart: chart for chart, ref in CHARTS.items()}
    for release in helm_releases(VARIANTS[name].run()):
        chart = by_chart[release.inputs["chart"]]
        for path in _secret_paths(release.raw_inputs["values"]):
            assert any(path[: len(e.path)] == e.path for e in PROTECTED[chart]), (
                f"{chart}: the secret at {format_path(path)} is not protected"
            )


def _secret_paths(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Where the program put a secret in a values document (as sent, secret markers in place)."""
    if is_secret(value):
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _secret_paths(item, (*path, key))
    elif isinstance(value, list):
        for item in value:
            yield from _secret_paths(item, path)  # a list is replaced whole: its path is the list's


def test_every_config_key_the_table_names_exists() -> None:
    keys = {key for entries in PROTECTED.values() for entry in entries for key in entry.owner.keys}
    assert keys, "the table names no config key"
    known = set(SECRET_KEYS) | _model_keys(StackConfig)
    for model in CLUSTER_MODELS.values():
        known |= {f"cluster.{key}" for key in _model_keys(model)}
    assert sorted(keys - known) == []


def _model_keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for name, field in model.model_fields.items():
        key = prefix + (field.alias or name)
        keys.add(key)
        for arg in (field.annotation, *get_args(field.annotation)):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                keys |= _model_keys(arg, key + ".")
    return keys


def test_the_hub_image_is_the_operators_unless_fancy_profiles_sets_it() -> None:
    given = {"jupyterhub": {"hub": {"image": {"name": "quay.io/lab/hub-with-lti", "tag": "4.4.0-1"}}}}
    config = {**WITH_DOMAIN, "shape": "service", "auth": AUTH["github"], "helmValues": given}
    secrets = {"registryPassword", "oauthClientSecret"}
    assert parse_config(config, secrets).helm_values == given
    fancy = {"enabled": True, "hubImage": FANCY_HUB_IMAGE}
    with pytest.raises(ConfigError, match=r"helmValues\.jupyterhub\.hub\.image: .*binderhub:fancyProfiles\.hubImage"):
        parse_config({**config, "fancyProfiles": fancy}, secrets)


def test_a_chart_version_without_a_vendored_schema_is_left_to_helm_with_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """binderhub:charts may pin a version the program has no schema for: Helm checks at install."""
    given = {"nginx-ingress": {"controller": {"replicaCount": "two"}}}
    warnings: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *_, **__: warnings.append(message))
    secrets = {"registryPassword": SECRET_VALUES["registryPassword"]}
    run = Program({**WITH_DOMAIN, "charts": {"nginx-ingress": "2.7.0"}, "helmValues": given}, secrets).run()
    assert run.error is None, run.error
    assert [w for w in warnings if w.startswith("binderhub:helmValues.nginx-ingress: not checked")]
    assert unwrap(run.chart("nginx-ingress").inputs["values"])["controller"]["replicaCount"] == "two"
