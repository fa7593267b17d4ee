"""`make up` (scripts/up.sh) in a copy of the project, with fakes on PATH that record their calls:
`pulumi`, `python3` (whose `-m pip install --target` lays down a fake `uv`) and that `uv`."""

import re
import shutil
import stat
import subprocess
from pathlib import Path

import yaml

from harness import ROOT_DIR

FAKE_PULUMI = """#!/usr/bin/env bash
echo "$*" >> "$FAKE_PULUMI_LOG"
echo "PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-}" >> "$FAKE_PULUMI_LOG"
if [ "$1" = whoami ]; then exit ${FAKE_WHOAMI_EXIT:-1}; fi
if [ "$1 $2" = "config set" ]; then echo "stdin=$(cat)" >> "$FAKE_PULUMI_LOG"; fi
if [ "$1 $2 $3" = "config get binderhub:protect" ]; then echo "${FAKE_PROTECT:-}"; fi
# Pulumi.yaml's uv toolchain looks uv up on PATH when it runs the program.
case "$1" in up|preview|destroy) echo "pulumi finds uv: $(command -v uv || echo none)" >> "$FAKE_PULUMI_LOG" ;; esac
exit 0
"""
# uv: its version, or a logged call (with the environment it would sync).
FAKE_UV = """#!/usr/bin/env bash
if [ "$1" = --version ]; then echo "uv VERSION (fake)"; exit 0; fi
echo "uv $* UV_PROJECT_ENVIRONMENT=${UV_PROJECT_ENVIRONMENT:-}" >> "$FAKE_PULUMI_LOG"
"""
# python3: only `-m pip install ... --target DIR uv==VERSION` is expected; it installs FAKE_UV.
FAKE_PYTHON = """#!/usr/bin/env bash
echo "python3 $*" >> "$FAKE_PULUMI_LOG"
[ "$1 $2 $3" = "-m pip install" ] || exit 1
while [ $# -gt 0 ]; do
  case "$1" in --target) target=$2; shift ;; uv==*) version=${1#uv==} ;; esac
  shift
done
mkdir -p "$target/bin"
sed "s/VERSION/$version/" "$FAKE_UV_TEMPLATE" > "$target/bin/uv"
chmod +x "$target/bin/uv"
"""
_pin = re.search(r"^version=(\S+)$", (ROOT_DIR / "scripts" / "uv.sh").read_text(), re.M)
assert _pin, "scripts/uv.sh no longer pins uv with a version= line"
PINNED_UV = _pin.group(1)


def project_copy(tmp_path: Path) -> Path:
    """What up.sh reads, copied: its runs must not touch the real work tree (.tools, .venv, state)."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT_DIR / "scripts", repo / "scripts")
    for path in ROOT_DIR.glob("Pulumi*.yaml"):
        shutil.copy(path, repo / path.name)
    return repo


def write_tool(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def run_up(
    tmp_path: Path,
    *,
    with_pulumi: bool = True,
    kubeconfig: bool = True,
    uv_on_path: str | None = None,
    args: tuple[str, ...] = ("dev", "up"),
    stdin: str | None = None,
    **env: str,
) -> tuple[int, str, list[str]]:
    """Run up.sh in the copy; `uv_on_path` puts a uv of that version on PATH. Returns the exit
    code, the output, and the calls the fakes logged, in order."""
    repo = tmp_path / "repo"
    if not repo.exists():
        project_copy(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = tmp_path / "pulumi.log"
    if with_pulumi:
        write_tool(bin_dir / "pulumi", FAKE_PULUMI)
    write_tool(bin_dir / "python3", FAKE_PYTHON)
    (tmp_path / "uv.template").write_text(FAKE_UV)
    if uv_on_path is not None:
        write_tool(bin_dir / "uv", FAKE_UV.replace("VERSION", uv_on_path))
    kube = tmp_path / "kubeconfig"
    if kubeconfig:
        kube.write_text("apiVersion: v1\nkind: Config\n")
    # only the basics on PATH: no real pulumi, uv or python can be picked up
    for tool in ("bash", "sed", "grep", "tr", "ls", "cat", "cut", "mkdir", "mktemp", "mv", "rm", "chmod", "dirname"):
        found = shutil.which(tool)
        if found and not (bin_dir / tool).exists():
            (bin_dir / tool).symlink_to(found)
    environment = {
        "PATH": str(bin_dir),
        "HOME": str(tmp_path),
        "KUBECONFIG": str(kube),
        "FAKE_PULUMI_LOG": str(log),
        "FAKE_UV_TEMPLATE": str(tmp_path / "uv.template"),
        "PULUMI_CONFIG_PASSPHRASE": "test-passphrase",
        **env,
    }
    result = subprocess.run(
        ["bash", str(repo / "scripts" / "up.sh"), *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
    )
    calls = log.read_text().splitlines() if log.exists() else []
    return result.returncode, result.stdout + result.stderr, calls


def installs(calls: list[str]) -> list[str]:
    """The calls that install something: pip (bootstrapping uv) or uv itself."""
    return [c for c in calls if c.startswith(("python3 ", "uv "))]


def pulumi_commands(calls: list[str]) -> list[str]:
    return [c for c in calls if not c.startswith(("PULUMI_BACKEND_URL=", "pulumi finds uv:", "python3 ", "uv "))]


def test_missing_cli_fails_clearly_before_installing_anything(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path, with_pulumi=False)
    assert code != 0
    assert "Pulumi CLI is not installed" in output
    assert calls == []  # no pip, no uv, no pulumi
    assert not (tmp_path / "repo" / ".tools").exists()


def test_missing_kubeconfig_fails_before_pulumi_runs(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path, kubeconfig=False)
    assert code != 0
    assert "no kubeconfig was found" in output and "binderhub:kubeconfig" in output
    assert calls == []


def test_local_backend_and_passphrase_by_default(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path)
    assert code == 0, output
    commands = pulumi_commands(calls)
    assert commands[0] == "whoami"
    assert "stack select --create dev --secrets-provider passphrase" in commands
    assert commands[-1] == "up --stack dev"
    backend = [c for c in calls if c.startswith("PULUMI_BACKEND_URL=")][-1]
    assert backend == f"PULUMI_BACKEND_URL=file://{tmp_path / 'repo'}/.pulumi-state"


def test_a_fresh_machine_gets_the_pinned_uv_from_pip_and_the_locked_runtime_packages(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    code, output, calls = run_up(tmp_path)
    assert code == 0, output
    pip, sync = installs(calls)
    # uv from PyPI through pip, into the project's own tools directory
    assert pip.startswith("python3 -m pip install ") and f" uv=={PINNED_UV}" in pip
    assert " --target .tools/" in pip  # relative to the project (up.sh runs there)
    # the lock as it is (a stale one is refused), without the dev group, into the environment Pulumi runs
    project = yaml.safe_load((repo / "Pulumi.yaml").read_text())["runtime"]
    assert project["options"]["toolchain"] == "uv"
    assert sync.startswith("uv sync ") and " --locked " in sync and " --no-dev " in sync
    assert sync.endswith(f"UV_PROJECT_ENVIRONMENT={repo / project['options']['virtualenv']}")
    # installed before the program runs, and Pulumi finds that same uv
    assert calls.index(sync) < calls.index("up --stack dev")
    uv_for_pulumi = next(c for c in calls if c.startswith("pulumi finds uv:"))
    assert uv_for_pulumi == f"pulumi finds uv: {repo}/.tools/uv-{PINNED_UV}/bin/uv"


def test_the_next_run_reuses_the_installed_uv(tmp_path: Path) -> None:
    run_up(tmp_path)
    (tmp_path / "pulumi.log").unlink()
    code, output, calls = run_up(tmp_path)
    assert code == 0, output
    assert [c.split()[0:2] for c in installs(calls)] == [["uv", "sync"]]  # no pip this time


def test_a_uv_of_the_pinned_version_on_path_is_used_and_another_is_not(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path, uv_on_path=PINNED_UV)
    assert code == 0, output
    assert [c.split()[0:2] for c in installs(calls)] == [["uv", "sync"]]
    assert f"pulumi finds uv: {tmp_path}/bin/uv" in calls

    other = tmp_path / "other"
    other.mkdir()
    code, output, calls = run_up(other, uv_on_path="0.1.0")
    assert code == 0, output
    assert [c.split()[0:2] for c in installs(calls)] == [["python3", "-m"], ["uv", "sync"]]
    assert f"pulumi finds uv: {other}/repo/.tools/uv-{PINNED_UV}/bin/uv" in calls


def test_a_logged_in_user_keeps_their_backend(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path, FAKE_WHOAMI_EXIT="0")
    assert code == 0, output
    assert "PULUMI_BACKEND_URL=" in calls  # nothing forced
    assert "up --stack dev" in calls


def test_no_passphrase_without_a_terminal_fails_clearly_before_installing(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path, PULUMI_CONFIG_PASSPHRASE="")
    assert code != 0
    assert "export PULUMI_CONFIG_PASSPHRASE" in output
    assert "up --stack dev" not in calls
    assert installs(calls) == []


def test_make_secret_stores_stdin_encrypted_in_the_stack(tmp_path: Path) -> None:
    # No kubeconfig needed yet: it may be the very secret being stored.
    code, output, calls = run_up(
        tmp_path, kubeconfig=False, args=("baremetal", "secret", "oauthClientSecret"), stdin="s3cret-value"
    )
    assert code == 0, output
    assert "stack select --create baremetal --secrets-provider passphrase" in calls
    assert "config set --secret --stack baremetal binderhub:oauthClientSecret" in calls
    assert "stdin=s3cret-value" in calls
    assert not any(c.startswith("up ") for c in calls)
    assert installs(calls) == []  # storing a secret runs no program


def test_make_secret_refuses_a_key_the_program_does_not_read(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path, args=("dev", "secret", "registrypassword"), stdin="x")
    assert code != 0
    assert "registrypassword" in output and "registryPassword" in output
    assert calls == []


def test_make_destroy_runs_the_program_for_its_delete_hooks(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path, args=("dev", "destroy"))
    assert code == 0, output
    assert pulumi_commands(calls)[-1] == "destroy --run-program --stack dev"
    assert any(c.startswith("uv sync ") for c in calls)  # the program's packages, for its hooks


def test_destroying_a_protected_stack_says_how_to_unprotect(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path, args=("dev", "destroy"), FAKE_PROTECT="true")
    assert code != 0
    assert "is protected" in output and "pulumi config set binderhub:protect false --stack dev" in output
    assert not any(c.startswith("destroy") for c in calls)
    assert installs(calls) == []
