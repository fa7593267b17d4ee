"""`make up` (scripts/up.sh) with a fake `pulumi` on PATH that records the calls it receives."""

import shutil
import stat
import subprocess
from pathlib import Path

from harness import ROOT_DIR

FAKE_PULUMI = """#!/usr/bin/env bash
echo "$*" >> "$FAKE_PULUMI_LOG"
echo "PULUMI_BACKEND_URL=${PULUMI_BACKEND_URL:-}" >> "$FAKE_PULUMI_LOG"
if [ "$1" = whoami ]; then exit ${FAKE_WHOAMI_EXIT:-1}; fi
if [ "$1 $2" = "config set" ]; then echo "stdin=$(cat)" >> "$FAKE_PULUMI_LOG"; fi
if [ "$1 $2 $3" = "config get binderhub:protect" ]; then echo "${FAKE_PROTECT:-}"; fi
exit 0
"""


def run_up(
    tmp_path: Path,
    *,
    with_pulumi: bool = True,
    kubeconfig: bool = True,
    args: tuple[str, ...] = ("dev", "up"),
    stdin: str | None = None,
    **env: str,
) -> tuple[int, str, list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = tmp_path / "pulumi.log"
    if with_pulumi:
        fake = bin_dir / "pulumi"
        fake.write_text(FAKE_PULUMI)
        fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    kube = tmp_path / "kubeconfig"
    if kubeconfig:
        kube.write_text("apiVersion: v1\nkind: Config\n")
    # only the basics on PATH: no real pulumi can be picked up
    for tool in (
        "bash",
        "sed",
        "grep",
        "tr",
        "ls",
        "cat",
        "sha256sum",
        "cut",
        "mkdir",
        "dirname",
        "basename",
        "python3",
    ):
        found = shutil.which(tool)
        if found and not (bin_dir / tool).exists():
            (bin_dir / tool).symlink_to(found)
    environment = {
        "PATH": str(bin_dir),
        "HOME": str(tmp_path),
        "KUBECONFIG": str(kube),
        "FAKE_PULUMI_LOG": str(log),
        "PULUMI_CONFIG_PASSPHRASE": "test-passphrase",
        **env,
    }
    result = subprocess.run(
        ["bash", str(ROOT_DIR / "scripts" / "up.sh"), *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
    )
    calls = log.read_text().splitlines() if log.exists() else []
    return result.returncode, result.stdout + result.stderr, calls


def test_missing_cli_fails_clearly(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path, with_pulumi=False)
    assert code != 0
    assert "Pulumi CLI is not installed" in output
    assert calls == []


def test_missing_kubeconfig_fails_before_pulumi_runs(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path, kubeconfig=False)
    assert code != 0
    assert "no kubeconfig was found" in output and "binderhub:kubeconfig" in output
    assert calls == []


def test_local_backend_and_passphrase_by_default(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path)
    assert code == 0, output
    commands = [c for c in calls if not c.startswith("PULUMI_BACKEND_URL=")]
    assert commands[0] == "whoami"
    assert "stack select --create dev --secrets-provider passphrase" in commands
    assert commands[-1] == "up --stack dev"
    backend = [c for c in calls if c.startswith("PULUMI_BACKEND_URL=")][-1]
    assert backend == f"PULUMI_BACKEND_URL=file://{ROOT_DIR}/.pulumi-state"


def test_a_logged_in_user_keeps_their_backend(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path, FAKE_WHOAMI_EXIT="0")
    assert code == 0, output
    assert "PULUMI_BACKEND_URL=" in calls  # nothing forced
    assert "up --stack dev" in calls


def test_no_passphrase_without_a_terminal_fails_clearly(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path, PULUMI_CONFIG_PASSPHRASE="")
    assert code != 0
    assert "export PULUMI_CONFIG_PASSPHRASE" in output
    assert "up --stack dev" not in calls


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


def test_make_secret_refuses_a_key_the_program_does_not_read(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path, args=("dev", "secret", "registrypassword"), stdin="x")
    assert code != 0
    assert "registrypassword" in output and "registryPassword" in output
    assert calls == []


def test_make_destroy_runs_the_program_for_its_delete_hooks(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path, args=("dev", "destroy"))
    assert code == 0, output
    assert calls[-2] == "destroy --run-program --stack dev"


def test_destroying_a_protected_stack_says_how_to_unprotect(tmp_path: Path) -> None:
    code, output, calls = run_up(tmp_path, args=("dev", "destroy"), FAKE_PROTECT="true")
    assert code != 0
    assert "is protected" in output and "pulumi config set binderhub:protect false --stack dev" in output
    assert not any(c.startswith("destroy") for c in calls)
