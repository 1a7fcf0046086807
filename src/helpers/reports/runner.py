"""Run report notebooks with papermill and export them to offline HTML, in parallel and incrementally.

- A bounded pool of long-lived worker processes (`ProcessPoolExecutor`, spawn) whose initializer imports
  papermill and nbconvert once, so a report costs a kernel start plus its own work, not the 4-5 s of
  starting the `papermill` and `jupyter nbconvert` commands. Any `concurrent.futures.Executor` can be
  passed instead, e.g. a Dask cluster: `run_batch(sets, executor=Client(...).get_executor())`. What runs in
  a worker (a fresh kernel over IPC per run, timeouts, one retry of a dead kernel) is helpers.reports.worker.
- Incremental: a run whose notebook bytes, parameters, input sha256s (data/processed/indicators.parquet and
  every raw file, verified against its manifest before the batch starts), package versions and helpers
  source are unchanged since its last successful run is skipped (`force=True` overrides). State lives in
  reports/.state/<name>.json. The report's footer lists the same inputs with their sha256.
- Cleans up after itself: workers die with the main process (also on `kill -9`); Ctrl-C or SIGTERM cancels
  the runs not started, kills the kernels of those in progress and records only finished runs, so the next
  batch resumes where this one stopped (`BatchInterrupted`); one batch at a time writes a reports folder (a
  second one gets helpers.processes.BusyError), and temporary files of killed runs are removed at the start.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, CancelledError, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from helpers import paths
from helpers.atomic import atomic_write_text, remove_stale
from helpers.processes import Interrupted, StopRequests, exclusive, signals_as_requests
from helpers.reports import export
from helpers.reports.reportsets import ReportSet, check_notebooks_exist
from helpers.reports.worker import (  # noqa: F401  (part of this module's interface)
    DEFAULT_TIMEOUT,
    FAILED,
    INTERRUPTED,
    KERNEL_NAME,
    OK,
    SKIPPED,
    RunJob,
    RunResult,
    RunTimeout,
    describe_error,
    run_job,
    warm_worker,
)
from helpers.sources.manifest import sha256_file, verify_raw

STATE_DIR = ".state"
EXECUTED_DIR = ".executed"
VERSION_PACKAGES = ("polars", "altair", "papermill", "nbconvert", "vl-convert-python")
STOP_GRACE = 20.0
"""Seconds the runs in progress get to stop after Ctrl-C/SIGTERM before their worker processes are killed."""
POLL = 0.2
"""Seconds between looks at whether a stop was asked for, while waiting for runs."""


class BatchInterrupted(Interrupted):
    """The batch stopped on a signal: finished runs are recorded, the others run in the next batch."""

    def __init__(self, signum: int, finished: int, left: int) -> None:
        super().__init__(signum)
        self.finished, self.left = finished, left

    def __str__(self) -> str:
        return (f"interrupted ({signal.Signals(self.signum).name}): {self.finished} report(s) finished and "
                f"recorded, {self.left} not run; run the same command again to continue")


# ---------------------------------------------------------------- inputs and state


def built_live_run(root: Path) -> Path | None:
    """The fetch folder the processed table was built from (build_info.json), or None for the snapshot."""
    try:
        info = json.loads(paths.build_info(root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    run = info.get("live_run") if isinstance(info, dict) else None
    return root / "data" / "raw" / run if isinstance(run, str) and run else None


def input_hashes(root: Path) -> dict[str, str]:
    """{path relative to the root: sha256} of what the reports read: the processed table and every raw file,
    each verified against its manifest first (DataError naming the file when one does not match)."""
    raw = verify_raw(paths.raw_dir(root), built_live_run(root))
    hashes = {f"data/raw/{name}": digest for name, digest in raw.items()}
    # the tables notebooks read (helpers.table.build.table_for_structure): the default one and any other
    # structure year's, from the processed folder the notebooks are pointed at
    for table in sorted(paths.processed_dir(root).glob("indicators*.parquet")):
        hashes[f"processed/{table.name}"] = sha256_file(table)
    return hashes


def package_versions() -> dict[str, str]:
    """Versions of the packages that shape a report (shown in its stamp)."""
    versions = {"python": sys.version.split()[0]}
    for package in (*VERSION_PACKAGES, "omsorgskapasitet"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "ikke installert"
    return versions


def helpers_digest() -> str:
    """sha256 over the helpers package's source, templates and caveats register (a change re-runs the reports)."""
    digest = hashlib.sha256()
    package = paths.package_dir()
    for path in sorted(p for p in package.rglob("*") if p.suffix in (".py", ".yml", ".html")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def git_commit(root: Path) -> str:
    """`git rev-parse HEAD` at the root, or '' when git or the repository is absent."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def data_summary(root: Path) -> tuple[str, dict[str, str]]:
    """(data vintage text, {kommunenr: name}) from data/processed/indicators.parquet, if present."""
    parquet = paths.indicators_parquet(root)
    if not parquet.exists():
        return "Øyeblikksbilde i data/raw (se sjekksummene under Reproduserbarhet)", {}
    import polars as pl

    try:
        frame = pl.read_parquet(parquet, columns=["kommunenr", "kommune", "structure", "year"])
    except (pl.exceptions.PolarsError, OSError):
        return "data/processed/indicators.parquet (kunne ikke leses)", {}
    first, last = frame["year"].min(), frame["year"].max()
    names = (
        frame.sort("structure")  # a structure year ("2024") sorts before "as_reported": its name wins
        .select("kommunenr", "kommune")
        .drop_nulls()
        .unique("kommunenr", keep="first", maintain_order=True)
        .sort("kommunenr")
    )
    text = f"SSB-tall for {first}–{last}, fra data/processed/indicators.parquet"
    return text, dict(zip(names["kommunenr"], names["kommune"], strict=True))


def fingerprint(report: ReportSet, notebook_sha256: str, inputs: dict[str, str], versions: dict[str, str],
                code: str, static: bool) -> str:
    """sha256 of everything a report's HTML depends on (except the run time and git commit)."""
    payload = {
        "notebook": report.notebook,
        "notebook_sha256": notebook_sha256,
        "output": report.output,
        "parameters": report.parameters,
        "inputs": inputs,
        "versions": versions,
        "helpers": code,
        "static": static,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def state_path(reports_dir: Path, name: str) -> Path:
    """reports/.state/<name>.json."""
    return reports_dir / STATE_DIR / f"{name}.json"


def read_state(reports_dir: Path, name: str) -> dict[str, Any]:
    """The recorded state of a report, or {} when none (or unreadable)."""
    try:
        return json.loads(state_path(reports_dir, name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def all_states(reports_dir: Path) -> list[dict[str, Any]]:
    """Every recorded state, for the index."""
    folder = reports_dir / STATE_DIR
    states = [read_state(reports_dir, path.stem) for path in sorted(folder.glob("*.json"))]
    return [state for state in states if state.get("name")]


def write_index(reports_dir: Path) -> Path:
    """reports/index.html, listing every report with a recorded state."""
    entries = []
    for state in all_states(reports_dir):
        entries.append({**state, "html_exists": (reports_dir / state.get("output", "")).is_file()})
    return export.write_page(reports_dir / "index.html", export.render_index(entries))


# ---------------------------------------------------------------- batch


def kernel_env(root: Path) -> dict[str, str]:
    """Environment the kernels get from the batch: the project root and SOURCE_DATE_EPOCH if set."""
    env = {"OMSORGSKAPASITET_ROOT": str(root)}
    if os.environ.get("SOURCE_DATE_EPOCH"):
        env["SOURCE_DATE_EPOCH"] = os.environ["SOURCE_DATE_EPOCH"]
    return env


def quiet_by_default() -> bool:
    """No progress bar under CI (CI=true) or when stderr is not a terminal."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes") or not sys.stderr.isatty()


def default_workers() -> int:
    """The pool size when none is given: the number of CPUs."""
    return os.cpu_count() or 1


def make_pool(workers: int) -> ProcessPoolExecutor:
    """A process pool whose workers die with this process and have papermill and nbconvert imported
    (spawn: no fork of threads)."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=warm_worker, initargs=(os.getpid(),))


def _outcome(future: Future[RunResult], job: RunJob) -> RunResult:
    """The result of a finished future (a lost worker or a cancelled run becomes a result too)."""
    try:
        return future.result()
    except CancelledError:
        return RunResult(job.name, INTERRUPTED, error="not started", output=job.html_path)
    except Exception as exc:  # the worker process died or the executor failed
        return RunResult(job.name, FAILED, error=f"worker failed: {describe_error(exc)}", output=job.html_path,
                         worker_died=isinstance(exc, BrokenProcessPool))


def _workers(pool: Executor) -> list[Any]:
    """The worker processes of a ProcessPoolExecutor (none for other executors)."""
    return list((getattr(pool, "_processes", None) or {}).values())


def _stop_pool(pool: ProcessPoolExecutor, futures: dict[Future[RunResult], RunJob], record: Any,
               stop: StopRequests) -> None:
    """Stop a pool's runs: SIGTERM makes each worker kill its kernel; record the runs that still finish
    within STOP_GRACE; then kill the workers that have not exited (a second Ctrl-C skips the wait)."""
    processes = _workers(pool)
    for process in processes:
        with contextlib.suppress(ProcessLookupError, OSError):
            os.kill(process.pid, signal.SIGTERM)
    deadline, seen = time.monotonic() + STOP_GRACE, stop.count
    remaining = {future for future in futures if not future.done()}
    while remaining and time.monotonic() < deadline and stop.count == seen:
        done, remaining = wait(remaining, timeout=POLL, return_when=FIRST_COMPLETED)
        for future in done:
            result = _outcome(future, futures[future])
            if not result.worker_died:
                record(result)
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if stop.count == seen:
            process.join(max(deadline - time.monotonic(), 0.1))
        if process.is_alive():
            process.kill()


@dataclass
class Plan:
    """The runs of a batch: jobs to execute and results of runs skipped as up to date."""

    jobs: list[RunJob]
    skipped: list[RunResult]
    fingerprints: dict[str, str]
    sets: dict[str, ReportSet]
    run_time: str = ""


def plan(sets: Iterable[ReportSet], root: Path, reports_dir: Path, force: bool = False, static: bool = False,
         timeout: float = DEFAULT_TIMEOUT, kernel_name: str = KERNEL_NAME) -> Plan:
    """Decide which sets must run and build their jobs."""
    sets = list(sets)
    check_notebooks_exist(sets, root)
    inputs, versions, code = input_hashes(root), package_versions(), helpers_digest()
    commit, run_time = git_commit(root), export.run_timestamp()
    vintage, names = data_summary(root) if sets else ("", {})
    result = Plan(jobs=[], skipped=[], fingerprints={}, sets={}, run_time=run_time)
    for report in sets:
        notebook = report.notebook_path(root)
        notebook_sha = sha256_file(notebook)
        key = fingerprint(report, notebook_sha, inputs, versions, code, static)
        result.fingerprints[report.name], result.sets[report.name] = key, report
        html_path = reports_dir / report.output
        state = read_state(reports_dir, report.name)
        if not force and state.get("status") == OK and state.get("fingerprint") == key and html_path.exists():
            result.skipped.append(RunResult(report.name, SKIPPED, output=str(html_path)))
            continue
        kommune = str(report.parameters.get("kommune", ""))
        context = export.ReportContext(
            name=report.name,
            notebook=report.notebook,
            parameters=report.parameters,
            kommune=f"{kommune} {names[kommune]}" if kommune in names else kommune,
            data_vintage=vintage,
            inputs={report.notebook: notebook_sha, **inputs},
            versions=versions,
            git_commit=commit,
            run_time=run_time,
        )
        result.jobs.append(RunJob(
            name=report.name,
            notebook=str(notebook),
            parameters=report.parameters,
            html_path=str(html_path),
            executed_path=str(reports_dir / EXECUTED_DIR / f"{report.name}.ipynb"),
            cwd=str(notebook.parent),
            context=context,
            env=kernel_env(root),
            timeout=timeout,
            kernel_name=kernel_name,
            static=static,
        ))
    return result


def _record(reports_dir: Path, report: ReportSet, key: str, result: RunResult, run_time: str) -> None:
    """Write reports/.state/<name>.json for a finished run (atomic)."""
    state = {
        "name": report.name,
        "status": result.status,
        "fingerprint": key,
        "notebook": report.notebook,
        "output": report.output,
        "parameters": report.parameters,
        "run_time": run_time,
        "seconds": round(result.seconds, 2),
        "error": result.error,
    }
    atomic_write_text(state_path(reports_dir, report.name), json.dumps(state, indent=2, ensure_ascii=False))


def run_batch(
    sets: Iterable[ReportSet],
    *,
    root: Path | None = None,
    reports_dir: Path | None = None,
    workers: int | None = None,
    executor: Executor | None = None,
    force: bool = False,
    static: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    kernel_name: str = KERNEL_NAME,
    progress: bool | None = None,
) -> list[RunResult]:
    """Run the report sets (skipping up-to-date ones), write reports/index.html; results in input order.

    `executor`: any concurrent.futures.Executor (e.g. a Dask `Client(...).get_executor()`); by default a
    pool of `workers` (CPU count) processes is created for the batch and shut down after it. Raises
    BusyError when another batch writes the same reports folder, BatchInterrupted on Ctrl-C or SIGTERM.
    """
    from tqdm import tqdm

    root = root or paths.project_root()
    reports_dir = reports_dir or root / "reports"
    with exclusive(reports_dir, "report batch"):
        for folder in (reports_dir, reports_dir / STATE_DIR, reports_dir / EXECUTED_DIR):
            remove_stale(folder)  # temporary files of runs killed before they could clean up
        work = plan(sets, root, reports_dir, force=force, static=static, timeout=timeout, kernel_name=kernel_name)
        results: dict[str, RunResult] = {result.name: result for result in work.skipped}
        if not work.jobs:
            if work.skipped:
                write_index(reports_dir)
            return [results[name] for name in work.sets]
        if not static:
            export.vega_bundle()  # build the cached JavaScript bundle once, before the workers need it
        disable = quiet_by_default() if progress is None else not progress
        bar = tqdm(total=len(work.jobs), unit="rapport", disable=disable, file=sys.stderr)

        def record(result: RunResult) -> None:
            if result.status == INTERRUPTED or result.name in results:
                return  # an interrupted run keeps its previous state and page
            results[result.name] = result
            _record(reports_dir, work.sets[result.name], work.fingerprints[result.name], result, work.run_time)
            bar.update(1)

        with signals_as_requests() as stop:
            _run_rounds(work.jobs, record, executor, workers, stop)
        bar.close()
        write_index(reports_dir)
        if stop.signum is not None:
            finished = sum(result.status != SKIPPED for result in results.values())
            raise BatchInterrupted(stop.signum, finished, len(work.jobs) - finished)
        return [results[name] for name in work.sets]


def _run_rounds(jobs: list[RunJob], record: Any, executor: Executor | None, workers: int | None,
                stop: StopRequests) -> None:
    """Run the jobs, recording each result as it arrives; a second round only for runs lost with a crashed
    worker process. When a stop is requested (Ctrl-C, SIGTERM): cancel what has not started, stop what runs,
    record what finishes within STOP_GRACE, and return."""
    own, pending = executor is None, jobs
    for final in (False, True):
        pool = make_pool(min(workers or default_workers(), len(pending))) if own else executor
        futures = {pool.submit(run_job, job): job for job in pending}
        remaining, lost = set(futures), set()
        try:
            while remaining and stop.signum is None:
                done, remaining = wait(remaining, timeout=POLL, return_when=FIRST_COMPLETED)
                for future in done:
                    result = _outcome(future, futures[future])
                    if result.worker_died and own and not final:
                        lost.add(result.name)
                    else:
                        record(result)
            if stop.signum is not None:
                for future in remaining:
                    future.cancel()
                if own:
                    _stop_pool(pool, futures, record, stop)
                return
        finally:
            if own:
                pool.shutdown(wait=True, cancel_futures=True)
        pending = [job for job in pending if job.name in lost]
        if not pending:
            return


def summary_table(results: list[RunResult]) -> str:
    """A plain-text table: name, status, seconds; then a count line and the failures' messages."""
    width = max([len("name"), *(len(result.name) for result in results)])
    lines = [f"{'name':<{width}}  {'status':<7}  {'seconds':>7}"]
    lines += [f"{r.name:<{width}}  {r.status:<7}  {r.seconds:>7.1f}" for r in results]
    counts = {status: sum(r.status == status for r in results) for status in (OK, FAILED, SKIPPED)}
    lines.append(f"{counts[OK]} ok, {counts[FAILED]} failed, {counts[SKIPPED]} skipped")
    lines += [f"failed: {r.name}: {r.error}" for r in results if r.status == FAILED]
    return "\n".join(lines)
