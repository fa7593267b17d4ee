"""`make test` (scripts/test.sh) in a copy of the project, with recording fakes for uv and for
the tools it runs from .venv: which checks run, and that any failing one fails the command."""

import shutil
import subprocess
from pathlib import Path

from test_make_up import FAKE_UV, PINNED_UV, write_tool

from harness import ROOT_DIR

# A tool in .venv/bin: logs its name and arguments, prints a report, exits with FAKE_<NAME>_EXIT.
FAKE_TOOL = """#!/usr/bin/env bash
echo "NAME $*" >> "$FAKE_PULUMI_LOG"
echo "NAME report"
exit ${FAKE_VAR_EXIT:-0}
"""


def run_make_test(tmp_path: Path, **exits: int) -> tuple[int, str, list[str]]:
    """Run test.sh; `exits` maps ruff / pyright / python to their exit codes (default 0)."""
    repo = tmp_path / "repo"
    shutil.copytree(ROOT_DIR / "scripts", repo / "scripts")
    # The behaviour tests' environments: their own script, given the pinned uv (logged here).
    write_tool(repo / "scripts" / "behaviour_envs.sh", 'echo "behaviour_envs $*" >> "$FAKE_PULUMI_LOG"\n')
    venv_bin = repo / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    for name in ("ruff", "pyright", "python"):
        write_tool(venv_bin / name, FAKE_TOOL.replace("NAME", name).replace("VAR", name.upper()))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    write_tool(bin_dir / "uv", FAKE_UV.replace("VERSION", PINNED_UV))
    for tool in ("bash", "cat", "cut", "dirname", "mktemp", "rm"):
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    log = tmp_path / "calls.log"
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path), "FAKE_PULUMI_LOG": str(log)}
    env.update({f"FAKE_{name.upper()}_EXIT": str(code) for name, code in exits.items()})
    result = subprocess.run(
        ["bash", str(repo / "scripts" / "test.sh")], env=env, capture_output=True, text=True, timeout=60
    )
    calls = log.read_text().splitlines() if log.exists() else []
    return result.returncode, result.stdout + result.stderr, calls


def test_installs_the_dev_group_then_lints_type_checks_and_tests(tmp_path: Path) -> None:
    code, output, calls = run_make_test(tmp_path)
    pinned_uv = tmp_path / "bin" / "uv"  # the uv of the pinned version found on PATH
    assert code == 0, output
    sync = calls[0]
    assert sync.startswith("uv sync ") and " --locked " in sync and " --group dev " in sync
    assert calls[1] == f"behaviour_envs {pinned_uv}"
    assert "ruff check ." in calls and "ruff format --check ." in calls
    assert any(c.startswith("pyright") for c in calls)
    assert any(c.startswith("python -m pytest -n 2 ") for c in calls)  # both cores
    assert "pyright report" in output  # shown, though it ran in the background


def test_a_lint_error_fails_before_the_tests_run(tmp_path: Path) -> None:
    code, _, calls = run_make_test(tmp_path, ruff=1)
    assert code != 0
    assert not any(c.startswith(("python ", "pyright")) for c in calls)


def test_a_type_error_fails_even_when_the_tests_pass(tmp_path: Path) -> None:
    code, output, calls = run_make_test(tmp_path, pyright=1)
    assert code != 0
    assert any(c.startswith("python -m pytest") for c in calls)
    assert "pyright report" in output


def test_the_test_runner_exit_code_is_kept(tmp_path: Path) -> None:
    # pytest's 5 (no test collected) must reach CI as a failure, not be masked by pyright's 0
    code, _, _ = run_make_test(tmp_path, python=5)
    assert code == 5
