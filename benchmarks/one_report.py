"""Benchmark: one ad hoc report, `python -m helpers report --kommune 3201 --force`, from the command to the HTML
file, run N times as that command into a temporary reports folder; prints each run's wall time, the time of
the run itself (the worker's execute + export, from the report's state file) and the rest (start-up of the
command and its worker, the index), then the median, min and max.

    .venv/bin/python benchmarks/one_report.py [--kommune 3201] [--runs 8] [-- extra report options]

The command runs with OMSORGSKAPASITET_ROOT pointing at a folder that links data/ and notebooks/ of this
project (the real reports/ is not touched). Timings on a 2-core machine vary by some tenths of a second from
run to run: quote the median. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

from every_kommune import run_measured, site_root


def one_run(command: list[str], root: Path, env: dict[str, str]) -> tuple[float, float, int, str]:
    """(wall seconds, seconds of the run itself, peak bytes of the command and its worker, exit summary)."""
    process, out, err, wall, peak = run_measured(command, env, root)
    states = list((root / "reports" / ".state").glob("kommune_*.json"))
    run = json.loads(states[0].read_text(encoding="utf-8"))["seconds"] if states else float("nan")
    summary = next((line for line in out.splitlines() if " ok, " in line), err.strip()[-200:])
    return wall, run, peak["bytes"], f"exit {process.returncode}; {summary}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kommune", default="3201")
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("extra", nargs="*", help="further options of `report`, after --")
    args = parser.parse_args(argv)

    command = [sys.executable, "-m", "helpers", "report", "--kommune", args.kommune, "--force", *args.extra]
    env = {**os.environ, "OMSORGSKAPASITET_ROOT": ""}
    env.pop("CI", None)
    print(f"python -m helpers report --kommune {args.kommune} --force {' '.join(args.extra)}"
          f"  ({args.runs} runs, {os.cpu_count()} CPUs)")
    print(f"{'run':>4}{'command':>10}{'the run':>10}{'the rest':>10}{'peak MiB':>10}")
    walls, runs, rests = [], [], []
    with tempfile.TemporaryDirectory(prefix="oms-one-") as tmp:
        root = site_root(Path(tmp))
        env["OMSORGSKAPASITET_ROOT"] = str(root)
        for number in range(1, args.runs + 1):
            wall, run, peak, summary = one_run(command, root, env)
            walls.append(wall)
            runs.append(run)
            rests.append(wall - run)
            print(f"{number:>4}{wall:10.2f}{run:10.2f}{wall - run:10.2f}{peak / 2**20:10.0f}   {summary}")
    print()
    for name, values in (("command", walls), ("the run", runs), ("the rest", rests)):
        print(f"{name:10}median {statistics.median(values):5.2f} s   min {min(values):5.2f}   max {max(values):5.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
