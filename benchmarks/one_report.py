"""Benchmark: one ad hoc report, `python -m helpers report --kommune 3201 --force`, from the command to the HTML
file, run N times as that command into a temporary reports folder; prints each run's wall time, the time of
the run itself (the worker's execute + export, from the report's state file) and the rest (start-up of the
command and its worker, the index), then the median, min and max.

    .venv/bin/python benchmarks/one_report.py [--kommune 3201] [--runs 8] [--against CHECKOUT]
                                              [-- extra report options]

The command runs with OMSORGSKAPASITET_ROOT pointing at a folder that links data/ and notebooks/ of this
project (the real reports/ is not touched). Timings on a 2-core machine vary by some tenths of a second from
run to run, and the machine's speed drifts over a day: quote the median, and compare two versions with
`--against` (their runs alternate) rather than with figures taken hours apart. Prints figures; asserts nothing.
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
    parser.add_argument("--against", type=Path, metavar="CHECKOUT",
                        help="another checkout of the project (e.g. a git worktree of an older commit): each round "
                             "runs its code and notebooks first, then this one's, on this project's data")
    parser.add_argument("extra", nargs="*", help="further options of `report`, after --")
    args = parser.parse_args(argv)

    command = [sys.executable, "-m", "helpers", "report", "--kommune", args.kommune, "--force", *args.extra]
    base = {key: value for key, value in os.environ.items() if key not in ("CI", "PYTHONPATH")}
    print(f"python -m helpers report --kommune {args.kommune} --force {' '.join(args.extra)}"
          f"  ({args.runs} runs, {os.cpu_count()} CPUs)")
    with tempfile.TemporaryDirectory(prefix="oms-one-") as tmp:
        versions = {"this checkout": (site_root(Path(tmp)), {})}
        if args.against:
            against = args.against.resolve()
            versions = {str(against): (site_root(Path(tmp), against), {"PYTHONPATH": str(against / "src")}),
                        **versions}
        figures: dict[str, dict[str, list[float]]] = {name: {"command": [], "the run": [], "the rest": []}
                                                      for name in versions}
        print(f"{'run':>4}  {'code':24}{'command':>10}{'the run':>10}{'the rest':>10}{'peak MiB':>10}")
        for number in range(1, args.runs + 1):
            for name, (root, extra_env) in versions.items():
                env = {**base, **extra_env, "OMSORGSKAPASITET_ROOT": str(root)}
                wall, run, peak, summary = one_run(command, root, env)
                for key, value in (("command", wall), ("the run", run), ("the rest", wall - run)):
                    figures[name][key].append(value)
                print(f"{number:>4}  {name[-24:]:24}{wall:10.2f}{run:10.2f}{wall - run:10.2f}{peak / 2**20:10.0f}"
                      f"   {summary}")
    for name, columns in figures.items():
        print(f"\n{name}")
        for key, values in columns.items():
            print(f"  {key:10}median {statistics.median(values):5.2f} s   min {min(values):5.2f}   "
                  f"max {max(values):5.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
