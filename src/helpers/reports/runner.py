"""Run report notebooks with papermill and export them to offline HTML, in parallel and incrementally.

- A bounded pool of long-lived worker processes (`ProcessPoolExecutor`, spawn) whose initializer imports
  papermill and nbconvert once (and, for in-process notebooks, what they import), so a report costs its own
  work, not the 4-5 s of starting the `papermill` and `jupyter nbconvert` commands. The pool starts while
  the batch is still being planned. Any `concurrent.futures.Executor` can be passed instead, e.g. a Dask
  cluster: `run_batch(sets, executor=Client(...).get_executor())`. What runs in a worker (a notebook in
  the worker itself or in a fresh kernel over IPC, timeouts, one retry of a dead kernel) is helpers.reports.worker;
  `engine="auto"` lets each notebook's metadata choose (helpers.reports.inprocess), `"kernel"` gives every run a
  fresh kernel. With one worker (an ad hoc report, `--workers 1`) this process writes the pages from the
  executed notebooks while the worker runs the next (`pages_in_main`).
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
import json
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, CancelledError, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from helpers import paths
from helpers.atomic import atomic_write_text, remove_stale
from helpers.processes import Interrupted, StopRequests, exclusive, signals_as_requests
from helpers.reports import export
from helpers.reports.reportsets import ReportSet, check_notebooks_exist
from helpers.reports.run_inputs import (  # noqa: F401  (part of this module's interface)
    STATE_DIR,
    VERSION_PACKAGES,
    all_states,
    built_live_run,
    data_summary,
    fingerprint,
    git_commit,
    helpers_digest,
    input_hashes,
    kernel_env,
    package_versions,
    read_state,
    state_path,
)
from helpers.reports.worker import (  # noqa: F401  (part of this module's interface)
    AUTO,
    DEFAULT_TIMEOUT,
    FAILED,
    INPROCESS,
    INTERRUPTED,
    KERNEL,
    KERNEL_NAME,
    OK,
    SKIPPED,
    RunJob,
    RunResult,
    RunTimeout,
    describe_error,
    engine_for,
    finish_page,
    run_job,
    warm_worker,
)
from helpers.sources.manifest import sha256_file

EXECUTED_DIR = ".executed"
NOTEBOOK_MODULES = ("polars", "altair", "helpers.reports.report_data", "helpers.present.charts", "helpers.present.text",
                    "helpers.present.tables", "scipy.optimize")
"""Imported by each worker before its first in-process run (what the report notebooks import; scipy.optimize
is what the synthetic control imports when it first runs)."""
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


def write_index(reports_dir: Path) -> Path:
    """reports/index.html, listing every report with a recorded state."""
    entries = []
    for state in all_states(reports_dir):
        entries.append({**state, "html_exists": (reports_dir / state.get("output", "")).is_file()})
    return export.write_page(reports_dir / "index.html", export.render_index(entries))


# ---------------------------------------------------------------- batch


def quiet_by_default() -> bool:
    """No progress bar under CI (CI=true) or when stderr is not a terminal."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes") or not sys.stderr.isatty()


def default_workers() -> int:
    """The pool size when none is given: the number of CPUs."""
    return os.cpu_count() or 1


def pool_size(workers: int | None, runs: int) -> int:
    """Worker processes for `runs` runs: `workers` (default: the CPU count), never more than there are runs."""
    return min(workers or default_workers(), runs)


def pool_modules(engines: Iterable[str]) -> tuple[str, ...]:
    """What a pool's workers import before their first run: the report notebooks' modules, unless every run
    gets a fresh kernel."""
    return NOTEBOOK_MODULES if any(engine != KERNEL for engine in engines) else ()


def pages_in_main(workers: int) -> bool:
    """True when the main process writes the pages: with one worker it would otherwise only wait, and the
    worker then need not import the page exporter (0.3 s) nor export (0.25 s the first time) before the one
    report of an ad hoc run is done."""
    return workers == 1


def make_pool(workers: int, modules: tuple[str, ...] = ()) -> ProcessPoolExecutor:
    """A process pool whose workers die with this process and have papermill, `modules` and (when they write
    the pages) nbconvert imported (spawn: no fork of threads)."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=warm_worker,
                               initargs=(os.getpid(), modules, not pages_in_main(workers)))


def start_pool(workers: int, modules: tuple[str, ...] = ()) -> ProcessPoolExecutor:
    """A pool whose `workers` processes start now, importing what the runs need (`pool_modules`) while the batch
    is still being planned (for `run_batch(pool=...)`)."""
    pool = make_pool(workers, modules)
    for _ in range(workers):
        pool.submit(int)  # a task per worker makes the pool start its processes
    return pool


def dismiss(pool: ProcessPoolExecutor) -> None:
    """Shut down a pool whose runs have all finished: its idle workers are killed rather than left to tear
    down their interpreters (a second or so each)."""
    for process in _workers(pool):
        with contextlib.suppress(OSError):
            process.kill()
    pool.shutdown(wait=True, cancel_futures=True)


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
    to_run: list[ReportSet] | None = None
    inputs: dict[str, str] | None = None
    versions: dict[str, str] | None = None
    engines: dict[str, str] | None = None


def decide(sets: Iterable[ReportSet], root: Path, reports_dir: Path, force: bool = False, static: bool = False,
           engine: str = AUTO, shared_assets: bool = False) -> Plan:
    """Which sets must run (fingerprints against the recorded states) and with which engine; no jobs yet."""
    sets = list(sets)
    check_notebooks_exist(sets, root)
    inputs, versions, code = input_hashes(root), package_versions(), helpers_digest()
    result = Plan(jobs=[], skipped=[], fingerprints={}, sets={}, run_time=export.run_timestamp(), to_run=[],
                  inputs=inputs, versions=versions, engines={})
    for report in sets:
        notebook = report.notebook_path(root)
        key = fingerprint(report, sha256_file(notebook), inputs, versions, code, static, shared_assets)
        result.fingerprints[report.name], result.sets[report.name] = key, report
        html_path = reports_dir / report.output
        state = read_state(reports_dir, report.name)
        if not force and state.get("status") == OK and state.get("fingerprint") == key and html_path.exists():
            result.skipped.append(RunResult(report.name, SKIPPED, output=str(html_path)))
            continue
        result.to_run.append(report)
        result.engines[report.name] = engine_for(notebook, engine)
    return result


def add_jobs(work: Plan, root: Path, reports_dir: Path, static: bool = False, timeout: float = DEFAULT_TIMEOUT,
             kernel_name: str = KERNEL_NAME, shared_assets: bool = False) -> Plan:
    """Build the jobs of the sets `decide` chose to run (their title blocks read the processed table)."""
    commit = git_commit(root)
    vintage, names = data_summary(root) if work.to_run else ("", {})
    inputs, versions = work.inputs or {}, work.versions or {}
    for report in work.to_run or []:
        notebook = report.notebook_path(root)
        html_path = reports_dir / report.output
        kommune = str(report.parameters.get("kommune", ""))
        context = export.ReportContext(
            name=report.name,
            notebook=report.notebook,
            parameters=report.parameters,
            kommune=f"{kommune} {names[kommune]}" if kommune in names else kommune,
            data_vintage=vintage,
            inputs={report.notebook: sha256_file(notebook), **inputs},
            versions=versions,
            git_commit=commit,
            run_time=work.run_time,
        )
        work.jobs.append(RunJob(
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
            engine=(work.engines or {}).get(report.name, KERNEL),
            shared_assets=shared_assets,
        ))
    return work


def plan(sets: Iterable[ReportSet], root: Path, reports_dir: Path, force: bool = False, static: bool = False,
         timeout: float = DEFAULT_TIMEOUT, kernel_name: str = KERNEL_NAME, engine: str = AUTO,
         shared_assets: bool = False) -> Plan:
    """Decide which sets must run and build their jobs."""
    work = decide(sets, root, reports_dir, force=force, static=static, engine=engine, shared_assets=shared_assets)
    return add_jobs(work, root, reports_dir, static=static, timeout=timeout, kernel_name=kernel_name,
                    shared_assets=shared_assets)


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
    engine: str = AUTO,
    shared_assets: bool = False,
    pool: ProcessPoolExecutor | None = None,
) -> list[RunResult]:
    """Run the report sets (skipping up-to-date ones), write reports/index.html; results in input order.

    `executor`: any concurrent.futures.Executor (e.g. a Dask `Client(...).get_executor()`); by default a
    pool of `workers` (CPU count) processes is created for the batch and shut down after it (`pool`: one
    from `start_pool`, already starting, which the batch then owns). `engine`: AUTO
    (each notebook's metadata decides), INPROCESS or KERNEL. `shared_assets`: pages load the chart
    libraries from reports/assets/ instead of carrying them. Raises BusyError when another batch writes the
    same reports folder, BatchInterrupted on Ctrl-C or SIGTERM.
    """
    root = root or paths.project_root()
    reports_dir = reports_dir or paths.reports_dir(root)
    try:
        with exclusive(reports_dir, "report batch"):
            for folder in (reports_dir, reports_dir / STATE_DIR, reports_dir / EXECUTED_DIR):
                remove_stale(folder)  # temporary files of runs killed before they could clean up
            work = decide(sets, root, reports_dir, force=force, static=static, engine=engine,
                          shared_assets=shared_assets)
            if not work.to_run:
                if work.skipped:
                    write_index(reports_dir)
                return list(work.skipped)
            if executor is None and pool is None:
                pool = start_pool(pool_size(workers, len(work.to_run)), pool_modules((work.engines or {}).values()))
            return _run_planned(work, root, reports_dir, executor, pool, workers, static=static, timeout=timeout,
                                kernel_name=kernel_name, progress=progress, shared_assets=shared_assets)
    finally:
        if pool is not None:
            dismiss(pool)


def _run_planned(work: Plan, root: Path, reports_dir: Path, executor: Executor | None,
                 pool: ProcessPoolExecutor | None, workers: int | None, *, static: bool, timeout: float,
                 kernel_name: str, progress: bool | None, shared_assets: bool) -> list[RunResult]:
    """Build the jobs of a decided batch, run them, record each, write the index."""
    from tqdm import tqdm

    add_jobs(work, root, reports_dir, static=static, timeout=timeout, kernel_name=kernel_name,
             shared_assets=shared_assets)
    here = executor is None and pages_in_main(pool_size(workers, len(work.jobs)))
    if here:
        work.jobs[:] = [replace(job, page=False) for job in work.jobs]
    jobs = {job.name: job for job in work.jobs}
    results: dict[str, RunResult] = {result.name: result for result in work.skipped}
    if not static:
        export.vega_bundle()  # build the cached JavaScript bundle once, before the workers need it
    if shared_assets and not static:
        export.write_assets(reports_dir)
    disable = quiet_by_default() if progress is None else not progress
    bar = tqdm(total=len(work.jobs), unit="rapport", disable=disable, file=sys.stderr)

    def record(result: RunResult) -> None:
        if result.status == INTERRUPTED or result.name in results:
            return  # an interrupted run keeps its previous state and page
        results[result.name] = finish_page(jobs[result.name], result)
        _record(reports_dir, work.sets[result.name], work.fingerprints[result.name], result, work.run_time)
        bar.update(1)

    def prepare() -> None:  # while the workers run
        if here:
            with contextlib.suppress(Exception):  # an exporter that cannot start fails each page, with its message
                export.ready_exporter()
        front_page_ready(root)

    with signals_as_requests() as stop:
        _run_rounds(work.jobs, record, executor, workers, stop, pool, prepare=prepare)
    bar.close()
    write_index(reports_dir)
    if stop.signum is not None:
        finished = sum(result.status != SKIPPED for result in results.values())
        raise BatchInterrupted(stop.signum, finished, len(work.jobs) - finished)
    return [results[name] for name in work.sets]


def front_page_ready(root: Path) -> None:
    """Draw (or fetch from the cache) the index page's map while the workers run, not after them."""
    from helpers.reports import front_page

    with contextlib.suppress(Exception):  # the index is written afterwards in any case, and says what fails
        front_page.overview_map(paths.indicators_parquet(root))


def _run_rounds(jobs: list[RunJob], record: Any, executor: Executor | None, workers: int | None,
                stop: StopRequests, first: ProcessPoolExecutor | None = None,
                prepare: Any = None) -> None:
    """Run the jobs, recording each result as it arrives; a second round only for runs lost with a crashed
    worker process. When a stop is requested (Ctrl-C, SIGTERM): cancel what has not started, stop what runs,
    record what finishes within STOP_GRACE, and return. `first`: the own pool of the first round, already
    started (a pool whose start failed counts as lost workers); `prepare()` runs once the jobs are submitted."""
    own, pending = executor is None, jobs
    modules = pool_modules(job.engine for job in jobs)
    for final in (False, True):
        if not own:
            pool = executor
        elif first is not None and not final:
            pool = first
        else:
            pool = make_pool(pool_size(workers, len(pending)), modules)
        try:
            futures = {pool.submit(run_job, job): job for job in pending}
        except BrokenProcessPool:  # its workers died while starting: the second round starts new ones
            if final or not own:
                raise
            pool.shutdown(wait=False, cancel_futures=True)
            continue
        if prepare is not None:
            prepare()
            prepare = None
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
                dismiss(pool)
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
