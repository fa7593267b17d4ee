"""Benchmark: every committed stack evaluated under the test mocks (`make bench`; not a test).

    .venv/bin/python scripts/bench.py [--samples N] [STACK ...]

Each stack (`Pulumi.<stack>.yaml`, with the secrets the tests give it) is sampled N times. A
sample is two fresh processes, run one after the other, forked from this one once it imported
tests/harness.py and the cloud mocks (nothing else):

  evaluation  the program's first run under the mocks: what Python spends on the program during
              `pulumi up`, importing the stack's cloud SDK modules included;
  baseline    the same SDK modules imported (the ones the evaluation loaded), then an empty
              program run under the same mocks: the fixed cost this stack cannot go below;
  warm        in the evaluation's process, a second run: the program alone, SDKs loaded.

Times are wall-clock seconds (`time.perf_counter`). `ratio` is the median over samples of
evaluation / baseline, each pair measured a few seconds apart: on a busy machine both slow
down alike, so the ratio keeps its meaning when the seconds do not (1.0: the program costs
nothing beyond its SDKs and the runtime). The order inside a pair alternates, so a load that
rises or falls during the run weighs on both alike.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from variants import Variant

ROOT_DIR = Path(__file__).resolve().parent.parent
for path in (ROOT_DIR, ROOT_DIR / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


# --------------------------------------------------------------------------- one sample


def _variant(stack: str) -> Variant:
    """The committed stack as the test suite evaluates it: its file, and the secrets it sets."""
    from variants import VARIANTS

    return VARIANTS[stack]


def _sdk_modules(loaded_before: set[str]) -> list[str]:
    """Cloud SDK modules (`pulumi_*` packages) imported since `loaded_before`, in import order."""
    return [m for m in sys.modules if m not in loaded_before and m.split(".")[0].startswith("pulumi_")]


def _evaluate(stack: str) -> dict[str, Any]:
    variant = _variant(stack)
    loaded_before = set(sys.modules)
    started = time.perf_counter()
    run = variant.program().run()
    seconds = time.perf_counter() - started
    if run.error is not None:
        raise RuntimeError(f"Pulumi.{stack}.yaml failed under the mocks: {run.error!r}")
    modules = _sdk_modules(loaded_before)
    started = time.perf_counter()
    variant.program().run()
    warm = time.perf_counter() - started
    return {"seconds": seconds, "warm": warm, "resources": len(run.registrations), "modules": modules}


def _baseline(stack: str, modules: list[str]) -> dict[str, Any]:
    import harness

    def empty_program() -> None:
        for name in modules:
            importlib.import_module(name)

    # The harness runs __main__.py through this hook; the baseline runs the empty program instead.
    harness._run_main = empty_program  # pyright: ignore[reportPrivateUsage]
    program = _variant(stack).program()
    started = time.perf_counter()
    run = program.run()
    seconds = time.perf_counter() - started
    if run.error is not None:
        raise RuntimeError(f"baseline of {stack} failed: {run.error!r}")
    return {"seconds": seconds}


def _forked(sample: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run `sample` in a forked child and return its result.

    The parent only ever imports the harness and the mocks, so each child starts as a fresh
    interpreter would be once those are loaded (no cloud SDK, no earlier run), without paying
    again for the second a new interpreter spends importing them.
    """
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            result: dict[str, Any] = {"ok": sample()}
        except BaseException as exc:  # reported by the parent
            result = {"error": repr(exc)}
        with os.fdopen(write, "w") as out:
            json.dump(result, out)
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        reply = pipe.read()
    os.waitpid(pid, 0)
    if not reply:
        raise SystemExit("bench: a sample died without a result")
    result = json.loads(reply)
    if "error" in result:
        raise SystemExit(f"bench: {result['error']}")
    return result["ok"]


@dataclass
class StackFigures:
    stack: str
    resources: int
    evaluation: list[float]
    baseline: list[float]
    warm: list[float]

    @property
    def ratio(self) -> float:
        return statistics.median(e / b for e, b in zip(self.evaluation, self.baseline, strict=True))


def measure(stack: str, samples: int) -> StackFigures:
    # A first evaluation, not counted: it finds the SDK modules the baseline imports, and warms
    # the file cache so the first counted sample is not the only cold one.
    first = _forked(lambda: _evaluate(stack))
    modules: list[str] = first["modules"]
    figures = StackFigures(stack, first["resources"], [], [], [])
    for index in range(samples):
        if index % 2 == 0:
            evaluation = _forked(lambda: _evaluate(stack))
            baseline = _forked(lambda: _baseline(stack, modules))
        else:
            baseline = _forked(lambda: _baseline(stack, modules))
            evaluation = _forked(lambda: _evaluate(stack))
        figures.evaluation.append(evaluation["seconds"])
        figures.warm.append(evaluation["warm"])
        figures.baseline.append(baseline["seconds"])
    return figures


def machine() -> str:
    """What the figures came from: CPU model (Linux), core count, Python."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    model = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "")
    cpu = model or platform.processor() or platform.machine()
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def table(rows: list[StackFigures]) -> str:
    header = (
        f"{'stack':<10} {'resources':>9}  {'evaluation min':>14} {'median':>7}  "
        f"{'baseline min':>12} {'median':>7}  {'ratio':>5}  {'warm median':>11}"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r.stack:<10} {r.resources:>9}  {min(r.evaluation):>12.2f} s {statistics.median(r.evaluation):>5.2f} s  "
            f"{min(r.baseline):>10.2f} s {statistics.median(r.baseline):>5.2f} s  {r.ratio:>5.2f}  "
            f"{statistics.median(r.warm):>9.2f} s"
        )
    return "\n".join(lines)


def main() -> None:
    import harness

    harness.load_cloud_mocks()
    _variant("dev")  # the catalogue of variants imported here, once, not in every sample

    # Counted samples read the bytecode the first evaluation of each stack wrote, as on any
    # machine after one run, instead of compiling hundreds of SDK files from source each time.
    sys.dont_write_bytecode = False

    parser = argparse.ArgumentParser(description="Evaluate every committed stack under the test mocks.")
    parser.add_argument("stacks", nargs="*", help="stacks to measure (default: every Pulumi.<stack>.yaml)")
    parser.add_argument("--samples", type=int, default=5, help="evaluation/baseline pairs per stack (default 5)")
    args = parser.parse_args()
    stacks = args.stacks or harness.stack_files()
    unknown = sorted(set(stacks) - set(harness.stack_files()))
    if unknown:
        parser.error(f"no Pulumi.<stack>.yaml for {unknown}")
    if args.samples < 1:
        parser.error("--samples must be at least 1")

    print(f"Machine: {machine()}; load average {os.getloadavg()[0]:.2f} at start", flush=True)
    print(f"{args.samples} samples per stack: fresh processes for each evaluation and each baseline\n", flush=True)
    started = time.perf_counter()
    rows: list[StackFigures] = []
    for stack in stacks:
        print(f"measuring {stack}...", file=sys.stderr, flush=True)
        rows.append(measure(stack, args.samples))
    print(table(rows))
    print(
        f"\nevaluation: the program's first run in a fresh process (its cloud SDKs imported on the way);"
        f"\nbaseline: the same SDK modules imported and an empty program run under the same mocks;"
        f"\nratio: median of evaluation/baseline over the pairs; warm: a second run in the same process."
        f"\nLoad average {os.getloadavg()[0]:.2f} at the end; {time.perf_counter() - started:.0f} s in all."
    )


if __name__ == "__main__":
    main()
