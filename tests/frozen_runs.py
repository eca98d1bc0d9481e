"""The frozen-clock runs of `make test`: the tests that need no server, once per frozen moment.

No test may depend on today's date, the time of day or the month. This runs pytest once per moment
of ``tests/frozen_moments.txt`` with ``--frozen-at`` (``tests/frozen_clock.py``), three runs at
a time (the runs wait on sockets and threads as much as on the CPU: on this 2-core machine three
at a time took 142 s for the six moments, two at a time 215 s),
prints each run's report as it ends and fails, naming the moments, if any run failed.

Left out of the runs: the tests marked ``temporal`` (the Temporal server keeps its own clock) and
``tests/e2e`` (real programs: the CLI, the dev stack, ``docker compose config``; a freeze of this
process cannot reach their clocks, and the one unmarked module there reads no clock).

    .venv/bin/python -m tests.frozen_runs [--jobs N] [PYTEST ARGS...]   # e.g. tests/unit
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MOMENTS_FILE = ROOT / "tests" / "frozen_moments.txt"
SELECTION = ("-m", "not temporal", "--ignore=tests/e2e")


def moments(path: Path = MOMENTS_FILE) -> list[str]:
    """The moments of ``path``: one a line, blank lines and ``#`` comments left out."""
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


@dataclass(frozen=True)
class Run:
    moment: str
    returncode: int
    seconds: float
    output: str


def run_at(moment: str, pytest_args: list[str]) -> Run:
    venv_bin = str(Path(sys.executable).parent)
    env = os.environ | {"PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = [
        sys.executable,
        "-m",
        "pytest",
        *SELECTION,
        "-q",
        "-p",
        "no:cacheprovider",
        f"--frozen-at={moment}",
        *pytest_args,
    ]
    started = time.monotonic()
    done = subprocess.run(  # noqa: S603 -- this interpreter's pytest, fixed arguments.
        command,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    return Run(moment, done.returncode, time.monotonic() - started, done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=3, help="runs at a time (default 3)")
    known, pytest_args = parser.parse_known_args(argv)
    started = time.monotonic()
    failed: list[str] = []
    with ThreadPoolExecutor(max_workers=max(1, known.jobs)) as pool:
        runs = [pool.submit(run_at, moment, pytest_args) for moment in moments()]
        for future in as_completed(runs):
            run = future.result()
            verdict = "passed" if run.returncode == 0 else f"FAILED (exit {run.returncode})"
            print(f"== frozen clock at {run.moment}: {verdict} in {run.seconds:.0f} s")  # noqa: T201
            print(run.output.rstrip(), flush=True)  # noqa: T201
            if run.returncode != 0:
                failed.append(run.moment)
    elapsed = time.monotonic() - started
    print(f"== frozen runs: {len(runs)} moments in {elapsed:.0f} s")  # noqa: T201
    if failed:
        print("== frozen runs failed at: " + ", ".join(failed))  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
