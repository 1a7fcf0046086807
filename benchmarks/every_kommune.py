"""Benchmark: `python -m helpers report --every-kommune --workers 2 --force` (the detailed before/after report
for every kommune), run as that command into a temporary reports folder; prints the wall time, reports per
minute, the peak memory of the command and its workers, and the size of the site.

    .venv/bin/python benchmarks/every_kommune.py [--workers 2] [--limit N] [--compact] [--shared-assets]
                                                 [--engine auto|inprocess|kernel]

`--limit N` renders only every (total/N)-th kommune and extrapolates to all of them (say so when quoting).
The reports go to a temporary copy of the project's layout (the real reports/ is not touched): the command
runs with OMSORGSKAPASITET_ROOT pointing at a folder that links data/ and notebooks/ of this project.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

from helpers import cli, paths
from helpers.reports import reportsets


def tree_rss(pid: int) -> int:
    """Resident memory (bytes) of a process and all its descendants, read from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        parents[int(entry.name)] = int(fields.get("PPid", "0").strip() or 0)
        rss[int(entry.name)] = int(fields.get("VmRSS", "0 kB").split()[0]) * 1024 if "VmRSS" in fields else 0
    members, frontier = {pid}, {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - members
        members |= frontier
    return sum(rss.get(member, 0) for member in members)


def sample_peak(process: subprocess.Popen, interval: float = 0.2) -> dict[str, int]:
    """Start a thread that records the peak resident memory of `process`'s tree until it ends."""
    peak = {"bytes": 0}

    def watch() -> None:
        while process.poll() is None:
            peak["bytes"] = max(peak["bytes"], tree_rss(process.pid))
            time.sleep(interval)

    threading.Thread(target=watch, daemon=True).start()
    return peak


def run_measured(command: list[str], env: dict[str, str], cwd: Path
                 ) -> tuple[subprocess.Popen, str, str, float, dict[str, int]]:
    """Run `command` to its end: (the finished process, stdout, stderr, wall seconds, {"bytes": peak memory})."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = sample_peak(process)
    out, err = process.communicate()
    return process, out, err, time.perf_counter() - started, peak


def site_root(tmp: Path, checkout: Path = paths.ROOT) -> Path:
    """A project root whose data/ is this project's, whose notebooks/ are `checkout`'s (this project's by
    default), and whose reports/ is empty."""
    root = tmp / f"project-{checkout.name}"
    root.mkdir()
    (root / "data").symlink_to(paths.ROOT / "data", target_is_directory=True)
    (root / "notebooks").symlink_to(checkout / "notebooks", target_is_directory=True)
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None, help="render about N kommuner and extrapolate")
    parser.add_argument("--compact", action="store_true", help="the compact report instead of the detailed one")
    parser.add_argument("--shared-assets", action="store_true", help="pages load the chart libraries from assets/")
    parser.add_argument("--engine", default="auto", choices=("auto", "inprocess", "kernel"))
    args = parser.parse_args(argv)

    # the command's own default windows, as it will plan them
    windows = cli._years(cli._parser().parse_args(["report", "--every-kommune"]))
    sets, left_out = reportsets.every_kommune_sets(*windows, detailed=not args.compact)
    total = len(sets)
    with tempfile.TemporaryDirectory(prefix="oms-every-") as tmp:
        root = site_root(Path(tmp))
        command = [sys.executable, "-m", "helpers", "report", "--workers", str(args.workers), "--force",
                   "--engine", args.engine]
        command += ["--shared-assets"] * args.shared_assets
        if args.limit:  # the chosen sets in a reports.yml of the temporary project, run by name
            chosen = sets[::max(total // args.limit, 1)]
            (root / "reports.yml").write_text(yaml.safe_dump(
                [{"name": s.name, "notebook": s.notebook, "output": s.output, "parameters": s.parameters}
                 for s in chosen], allow_unicode=True), encoding="utf-8")
            command += [part for s in chosen for part in ("--name", s.name)]
        else:
            chosen = sets
            command += ["--every-kommune"] + ["--compact"] * args.compact
        env = {**os.environ, "OMSORGSKAPASITET_ROOT": str(root)}
        env.pop("CI", None)
        shown = " ".join(["python", *command[1:12]]) + (" ..." if len(command) > 12 else "")
        print(f"{shown}  ({len(chosen)} of {total} kommuner; "
              f"{len(left_out)} left out for lack of data; {os.cpu_count()} CPUs)")
        process, out, err, wall, peak = run_measured(command, env, root)
        reports = root / "reports"
        pages = [p for p in reports.glob("kommune_*.html")]
        assets = sum(p.stat().st_size for p in (reports / "assets").glob("*")) if (reports / "assets").exists() else 0
        size = sum(p.stat().st_size for p in pages)
    summary = [line for line in out.splitlines() if " ok, " in line]
    failed = [line for line in out.splitlines() if line.startswith("failed:")]
    print(f"exit code {process.returncode}; {summary[0] if summary else err.strip()[-300:]}")
    for line in failed:
        print(f"  {line[:160]}")
    print()
    print(f"{'wall time':32}{wall:10.1f} s")
    print(f"{'reports per minute':32}{len(chosen) / wall * 60:10.1f}")
    print(f"{'seconds per report':32}{wall / len(chosen):10.2f}")
    if args.limit:
        print(f"{'extrapolated to all ' + str(total):32}{wall / len(chosen) * total:10.1f} s (from {len(chosen)})")
    print(f"{'peak memory (command + workers)':32}{peak['bytes'] / 2**20:10.0f} MiB")
    print(f"{'site size':32}{(size + assets) / 2**20:10.1f} MiB ({len(pages)} pages, "
          f"{size / max(len(pages), 1) / 2**10:.0f} KiB each, assets {assets / 2**10:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
