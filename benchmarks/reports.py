"""Benchmark: render N kommune reports with the `papermill` + `jupyter nbconvert` commands in a plain
sequential loop, and with the runner (long-lived workers, `--workers 2` by default); print the wall
times side by side and where the time of one report goes (start-up, kernel start, execution, export).

    .venv/bin/python benchmarks/reports.py [--n 8] [--notebook PATH] [--workers 1,2]

Outputs go to a temporary folder (reports/ is not touched). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat
import yaml

from helpers import paths
from helpers.reports import reportsets, runner, worker

FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "notebooks" / "charts.ipynb"
SAMPLE_KOMMUNER = ["0301", "1103", "3203", "4601", "5001", "1804", "3105", "4204", "3301", "1506"]


def default_notebook(root: Path) -> Path:
    """The before/after notebook when it exists, else the two-chart test fixture."""
    notebook = root / reportsets.BEFORE_AFTER_NOTEBOOK
    return notebook if notebook.exists() else FIXTURE


def report_sets(notebook: Path, root: Path, n: int) -> list[reportsets.ReportSet]:
    """N parameter sets: real kommuner for the before/after notebook, sample numbers for a fixture."""
    relative = os.path.relpath(notebook, root)
    if notebook == root / reportsets.BEFORE_AFTER_NOTEBOOK:
        try:
            numbers = reportsets.kommuner(root=root)[:n]
        except Exception:
            numbers = SAMPLE_KOMMUNER[:n]
        sets = [reportsets.before_after_set(nr, [2018, 2019], [2021, 2022]) for nr in numbers]
        return [reportsets.ReportSet(s.name, relative, s.output, s.parameters) for s in sets]
    numbers = (SAMPLE_KOMMUNER * (n // len(SAMPLE_KOMMUNER) + 1))[:n]
    return [reportsets.ReportSet(f"bench_{i:02d}_{nr}", relative, f"bench_{i:02d}_{nr}.html", {"kommune": nr})
            for i, nr in enumerate(numbers)]


def run_commands(sets: list[reportsets.ReportSet], root: Path, out: Path) -> tuple[float, list[dict]]:
    """The plain way: for each report, `papermill` then `jupyter nbconvert --to html --no-input`."""
    bin_dir = Path(sys.executable).parent
    rows = []
    start = time.perf_counter()
    for report in sets:
        notebook = report.notebook_path(root)
        executed = out / f"{report.name}.ipynb"
        params = out / f"{report.name}.yml"
        params.write_text(yaml.safe_dump(report.parameters), encoding="utf-8")
        began = datetime.now().astimezone()
        t0 = time.perf_counter()
        subprocess.run([str(bin_dir / "papermill"), str(notebook), str(executed), "-f", str(params),
                        "-k", runner.KERNEL_NAME, "--cwd", str(notebook.parent), "--no-progress-bar"],
                       check=True, capture_output=True)
        t1 = time.perf_counter()
        subprocess.run([str(bin_dir / "jupyter"), "nbconvert", "--to", "html", "--no-input",
                        "--output-dir", str(out), str(executed)], check=True, capture_output=True)
        t2 = time.perf_counter()
        nb = nbformat.read(executed, as_version=4)
        first = worker.first_cell_start(nb)
        end = max((datetime.fromisoformat(c.metadata["papermill"]["end_time"]) for c in nb.cells
                   if c.get("metadata", {}).get("papermill", {}).get("end_time")), default=None)
        meta = nb.metadata.get("papermill", {})
        nb_start = datetime.fromisoformat(meta["start_time"]) if meta.get("start_time") else began
        kernel = (first - nb_start).total_seconds() if first else 0.0
        execute = (end - first).total_seconds() if first and end else 0.0
        rows.append({"startup": (t1 - t0) - kernel - execute, "kernel": kernel, "execute": execute,
                     "export": t2 - t1, "total": t2 - t0})
    return time.perf_counter() - start, rows


def run_runner(sets: list[reportsets.ReportSet], root: Path, out: Path, workers: int) -> tuple[float, list]:
    """The runner: a pool of `workers` warm processes, one fresh kernel per report."""
    start = time.perf_counter()
    results = runner.run_batch(sets, root=root, reports_dir=out, workers=workers, force=True, progress=False)
    wall = time.perf_counter() - start
    failed = [r for r in results if r.status != runner.OK]
    for result in failed:
        print(f"  runner: {result.name} {result.status}: {result.error}")
    return wall, results


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=8, help="number of kommune reports (default 8)")
    parser.add_argument("--notebook", type=Path, default=None, help="notebook to render")
    parser.add_argument("--workers", default="2", help="runner pool sizes to try, comma-separated (default 2)")
    args = parser.parse_args(argv)

    root = paths.project_root()
    notebook = (args.notebook or default_notebook(root)).resolve()
    sets = report_sets(notebook, root, args.n)
    pools = [int(w) for w in args.workers.split(",")]
    print(f"Rendering {len(sets)} reports of {os.path.relpath(notebook, root)} on {os.cpu_count()} CPUs")

    with tempfile.TemporaryDirectory(prefix="oms-bench-") as tmp:
        out = Path(tmp)
        (out / "cmd").mkdir()
        command_wall, command_rows = run_commands(sets, root, out / "cmd")
        runs = {w: run_runner(sets, root, out / f"runner{w}", w) for w in pools}

    n = len(sets)
    print()
    print(f"{'':34}{'wall s':>9}{'s/report':>10}{'speed-up':>10}")
    print(f"{'papermill + nbconvert commands':34}{command_wall:9.1f}{command_wall / n:10.2f}{1:10.2f}x")
    for workers, (wall, _) in runs.items():
        print(f"{f'runner --workers {workers}':34}{wall:9.1f}{wall / n:10.2f}{command_wall / wall:10.2f}x")

    print()
    print("Per report, median seconds:")
    print(f"{'':34}{'start-up':>9}{'kernel':>9}{'execute':>9}{'export':>9}{'total':>9}")
    print(f"{'papermill + nbconvert commands':34}"
          + "".join(f"{median([r[key] for r in command_rows]):9.2f}"
                    for key in ("startup", "kernel", "execute", "export", "total")))
    for workers, (_, results) in runs.items():
        ok = [r for r in results if r.status == runner.OK]
        figures = [0.0, median([r.kernel_seconds for r in ok]), median([r.execute_seconds for r in ok]),
                   median([r.export_seconds for r in ok]), median([r.seconds for r in ok])]
        print(f"{f'runner --workers {workers}':34}" + "".join(f"{value:9.2f}" for value in figures))
    print()
    print("start-up: process start and imports of the papermill command (the runner's workers pay it once);")
    print("export: `jupyter nbconvert` command vs in-process nbconvert with the offline Vega bundle.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
