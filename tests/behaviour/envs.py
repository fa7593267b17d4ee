"""The separate Python environments that run the deployed software, and how tests call into them.

Each image the charts deploy gets its own venv (made by `scripts/behaviour_envs.sh` from the
hashed lock files in `requirements/`): the z2jh hub image of each pinned z2jh version, and
BinderHub's image with BinderHub's package at the binderhub chart's commit. Their pins clash
with each other and with the program's, so tests talk to them through a probe script run in
that venv: JSON jobs on stdin, JSON results on stdout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT_DIR = Path(__file__).resolve().parents[2]
PROBES = Path(__file__).resolve().parent / "probes"
VENVS = ROOT_DIR / ".venv-behaviour"
JOBS_PER_PROCESS = 8


def charts_dir() -> Path:
    """The offline chart cache: `BINDERHUB_CHARTS_DIR`, else `../shared/charts` beside the project."""
    return Path(os.environ.get("BINDERHUB_CHARTS_DIR") or ROOT_DIR.parent / "shared" / "charts").resolve()


def hub_env(z2jh_version: str, fancy_profiles: bool = False) -> str:
    """The venv name of the z2jh hub image of `z2jh_version` (e.g. "4.4.0"); with
    `fancy_profiles`, that image plus jupyterhub-fancy-profiles (what `fancyProfiles.hubImage` holds)."""
    return f"hub-{z2jh_version}" + ("-fancy-profiles" if fancy_profiles else "")


def run_probe(env: str, probe: str, jobs: list[dict[str, Any]], timeout: float = 300) -> list[dict[str, Any]]:
    """Run `probes/<probe>.py` in venv `env` on `jobs`; one result per job, in order.

    Raises AssertionError (with the probe's stderr) when the venv is missing or the probe crashes:
    a probe reports the software's own errors inside its results, so a crash is a test bug.
    """
    python = VENVS / env / "bin" / "python"
    assert python.exists(), f"{python} is missing: run `make test` (scripts/behaviour_envs.sh makes it)"
    completed = subprocess.run(
        [str(python), "-X", "utf8", str(PROBES / f"{probe}.py")],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        timeout=timeout,
        env={k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))},
        check=False,
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stderr[-20000:])
        raise AssertionError(f"probe {probe} in {env} exited {completed.returncode}: {completed.stderr[-3000:]}")
    results = json.loads(completed.stdout.strip().splitlines()[-1])
    assert len(results) == len(jobs)
    return results


def run_probes(env_of: list[str], probe: str, jobs: list[dict[str, Any]], processes: int = 2) -> list[dict[str, Any]]:
    """`run_probe` for jobs that may need different venvs (`env_of[i]` for `jobs[i]`), spread over
    `processes` concurrent probe processes (the machines have two cores); results in job order."""
    # A probe process spends seconds importing the software before its first job (the hub's
    # jupyter_events builds a grammar at import): an env gets a second process only for
    # enough jobs to pay for it.
    split = {env: max(1, min(processes, env_of.count(env) // JOBS_PER_PROCESS)) for env in set(env_of)}
    chunks: dict[tuple[str, int], list[int]] = {}
    per_env: dict[str, int] = {}
    for index, env in enumerate(env_of):
        slot = per_env.get(env, 0)
        per_env[env] = slot + 1
        chunks.setdefault((env, slot % split[env]), []).append(index)
    results: list[dict[str, Any]] = [{} for _ in jobs]
    with ThreadPoolExecutor(processes) as pool:
        futures = {
            pool.submit(run_probe, env, probe, [jobs[i] for i in indices]): indices
            for (env, _), indices in chunks.items()
        }
        for future, indices in futures.items():
            for index, result in zip(indices, future.result(), strict=True):
                results[index] = result
    return results
