"""Run report notebooks with papermill and export them to offline HTML, in parallel and incrementally.

- A bounded pool of long-lived worker processes (`ProcessPoolExecutor`, spawn) whose initializer imports
  papermill and nbconvert once, so a report costs a kernel start plus its own work, not the 4-5 s of
  starting the `papermill` and `jupyter nbconvert` commands. Any `concurrent.futures.Executor` can be
  passed instead, e.g. a Dask cluster: `run_batch(sets, executor=Client(...).get_executor())`.
- Every run gets a fresh kernel that talks over IPC (Unix sockets in a private temporary folder), not
  TCP: jupyter_client picks TCP ports by binding and releasing them, which races between processes that
  start kernels at the same time (papermill#511, "ZMQError: Address already in use").
- A per-run timeout kills the kernel; a kernel that dies is retried once; a failed run never stops the
  others; the result of each run is a `RunResult` (ok, failed or skipped, with seconds).
- Incremental: a run whose notebook bytes, parameters, input sha256s (data/processed/indicators.parquet and
  every raw file, verified against its manifest before the batch starts), package versions and helpers
  source are unchanged since its last successful run is skipped (`force=True` overrides). State lives in
  reports/.state/<name>.json. The report's footer lists the same inputs with their sha256.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from helpers import export, paths
from helpers.atomic import atomic_write_text
from helpers.manifest import sha256_file, verify_raw
from helpers.reportsets import ReportSet, check_notebooks_exist

OK, FAILED, SKIPPED = "ok", "failed", "skipped"
KERNEL_NAME = "python3"
DEFAULT_TIMEOUT = 900.0
STATE_DIR = ".state"
EXECUTED_DIR = ".executed"
VERSION_PACKAGES = ("polars", "altair", "papermill", "nbconvert", "vl-convert-python")


@dataclass(frozen=True)
class RunJob:
    """Everything a worker needs to run one report (picklable; paths are absolute)."""

    name: str
    notebook: str
    parameters: dict[str, Any]
    html_path: str
    executed_path: str
    cwd: str
    context: export.ReportContext
    env: dict[str, str] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT
    kernel_name: str = KERNEL_NAME
    static: bool = False


@dataclass
class RunResult:
    """Outcome of one report: status ok/failed/skipped, seconds and where the time went."""

    name: str
    status: str
    seconds: float = 0.0
    kernel_seconds: float = 0.0
    execute_seconds: float = 0.0
    export_seconds: float = 0.0
    attempts: int = 0
    error: str = ""
    output: str = ""
    worker_died: bool = field(default=False, repr=False)


class RunTimeout(Exception):
    """The run took longer than its timeout; its kernel was killed."""


# ---------------------------------------------------------------- worker side


def warm_worker() -> None:
    """Pool initializer: import papermill and nbconvert and compile the HTML template once."""
    import nbclient  # noqa: F401
    import papermill  # noqa: F401

    export.html_exporter()


class _KernelWatch:
    """Remembers the run's kernel manager so that a timer can kill the kernel on timeout."""

    def __init__(self) -> None:
        self.km: Any = None
        self.timed_out = False

    def kill(self) -> None:
        """Kill the kernel process (nbclient then raises DeadKernelError)."""
        self.timed_out = True
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        if process is not None and process.poll() is None:
            process.kill()


def _kernel_manager_class(watch: _KernelWatch, ipc_dir: str, env: dict[str, str]) -> type:
    """An AsyncKernelManager subclass for one run: IPC transport in `ipc_dir`, registered in `watch`,
    `env` added to the kernel's environment (a long-lived worker may have been started for another root)."""
    from jupyter_client.manager import AsyncKernelManager

    class RunKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs: Any) -> None:
            kwargs.setdefault("transport", "ipc")
            kwargs.setdefault("ip", os.path.join(ipc_dir, "kernel"))
            super().__init__(**kwargs)
            watch.km = self

        async def start_kernel(self, **kwargs: Any) -> None:
            kwargs["env"] = {**kwargs.get("env", os.environ), **env}
            await super().start_kernel(**kwargs)

    return RunKernelManager


def _first_cell_start(nb: Any) -> datetime | None:
    """When papermill started the first cell (the kernel was up by then)."""
    for cell in nb.cells:
        start = cell.get("metadata", {}).get("papermill", {}).get("start_time")
        if start:
            return datetime.fromisoformat(start)
    return None


def _execute(job: RunJob) -> tuple[Any, float]:
    """Execute the notebook once in a fresh kernel; returns (notebook, kernel start seconds)."""
    import papermill

    watch = _KernelWatch()
    Path(job.executed_path).parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="oms-kernel-") as ipc_dir:
        timer = threading.Timer(job.timeout, watch.kill)
        timer.daemon = True
        begun = datetime.now().astimezone()
        timer.start()
        try:
            nb = papermill.execute_notebook(
                job.notebook,
                job.executed_path,
                parameters=job.parameters,
                kernel_name=job.kernel_name,
                progress_bar=False,
                request_save_on_cell_execute=False,
                cwd=job.cwd,
                kernel_manager_class=_kernel_manager_class(watch, ipc_dir, job.env),
            )
        except Exception as exc:
            if watch.timed_out:
                raise RunTimeout(f"timed out after {job.timeout:g} s; the kernel was stopped") from exc
            raise
        finally:
            timer.cancel()
    first = _first_cell_start(nb)
    return nb, (first - begun).total_seconds() if first else 0.0


def _kernel_died(exc: BaseException) -> bool:
    """True for a kernel that died or failed to start (worth one retry), not for a notebook error."""
    from nbclient.exceptions import DeadKernelError

    if isinstance(exc, RunTimeout):
        return False
    return isinstance(exc, DeadKernelError) or (isinstance(exc, RuntimeError) and "Kernel died" in str(exc))


def describe_error(exc: BaseException) -> str:
    """A one-line description of why a run failed."""
    ename, evalue = getattr(exc, "ename", None), getattr(exc, "evalue", None)
    if ename:
        cell = getattr(exc, "exec_count", None)
        text = f"{ename}: {evalue} (cell [{cell}])" if cell else f"{ename}: {evalue}"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())[:500]


def _context_for(job: RunJob, nb: Any) -> export.ReportContext:
    """The job's context, with the title and any data vintage the notebook itself declares."""
    meta = nb.metadata.get("omsorgskapasitet", {}) if hasattr(nb, "metadata") else {}
    vintage = job.parameters.get("data_vintage") or meta.get("data_vintage") or job.context.data_vintage
    title = meta.get("title") or export.notebook_title(nb, job.name)
    return replace(job.context, title=str(title), data_vintage=str(vintage))


def run_job(job: RunJob) -> RunResult:
    """Run one report in this process: execute (retrying once on a dead kernel), then export HTML."""
    start = time.perf_counter()
    result = RunResult(name=job.name, status=FAILED, output=job.html_path)
    try:
        for attempt in (1, 2):
            result.attempts = attempt
            try:
                nb, result.kernel_seconds = _execute(job)
                break
            except Exception as exc:
                if attempt == 1 and _kernel_died(exc):
                    continue
                raise
        executed = time.perf_counter()
        result.execute_seconds = max(executed - start - result.kernel_seconds, 0.0)
        page = export.export_html(nb, _context_for(job, nb), static=job.static)
        export.write_page(job.html_path, page)
        result.export_seconds = time.perf_counter() - executed
        result.status = OK
    except Exception as exc:
        result.error = describe_error(exc)
    result.seconds = time.perf_counter() - start
    return result


# ---------------------------------------------------------------- inputs and state


def built_live_run(root: Path) -> Path | None:
    """The fetch folder the processed table was built from (build_info.json), or None for the snapshot."""
    try:
        info = json.loads((root / "data" / "processed" / "build_info.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    run = info.get("live_run") if isinstance(info, dict) else None
    return root / "data" / "raw" / run if isinstance(run, str) and run else None


def input_hashes(root: Path) -> dict[str, str]:
    """{path relative to the root: sha256} of what the reports read: the processed table and every raw file,
    each verified against its manifest first (DataError naming the file when one does not match)."""
    raw = verify_raw(root / "data" / "raw", built_live_run(root))
    hashes = {f"data/raw/{name}": digest for name, digest in raw.items()}
    parquet = root / "data" / "processed" / "indicators.parquet"
    if parquet.exists():
        hashes["data/processed/indicators.parquet"] = sha256_file(parquet)
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
    """sha256 over the helpers package's source files (a code change re-runs the reports)."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
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
    parquet = root / "data" / "processed" / "indicators.parquet"
    if not parquet.exists():
        return "Øyeblikksbilde i data/raw (se sjekksummene under Reproduserbarhet)", {}
    import polars as pl

    try:
        frame = pl.read_parquet(parquet, columns=["kommunenr", "kommune", "structure", "year"])
    except (pl.exceptions.PolarsError, OSError):
        return "data/processed/indicators.parquet (kunne ikke leses)", {}
    first, last = frame["year"].min(), frame["year"].max()
    names = (
        frame.filter(pl.col("structure") != "as_reported")
        .select("kommunenr", "kommune")
        .drop_nulls()
        .unique("kommunenr", keep="first")
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
    """A process pool whose workers have papermill and nbconvert imported (spawn: no fork of threads)."""
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=warm_worker
    )


def _collect(jobs: list[RunJob], executor: Executor) -> Iterator[RunResult]:
    """Submit the jobs and yield every result as it arrives (a lost worker becomes a failed result)."""
    futures: dict[Future[RunResult], RunJob] = {executor.submit(run_job, job): job for job in jobs}
    for future in as_completed(futures):
        job = futures[future]
        try:
            yield future.result()
        except Exception as exc:  # the worker process died or the executor failed
            yield RunResult(job.name, FAILED, error=f"worker failed: {describe_error(exc)}",
                            output=job.html_path, worker_died=isinstance(exc, BrokenProcessPool))


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
    pool of `workers` (CPU count) processes is created for the batch and shut down after it.
    """
    from tqdm import tqdm

    root = root or paths.project_root()
    reports_dir = reports_dir or root / "reports"
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
        results[result.name] = result
        _record(reports_dir, work.sets[result.name], work.fingerprints[result.name], result, work.run_time)
        bar.update(1)

    own, pending = executor is None, work.jobs
    for final in (False, True):  # a second round only for runs lost with a crashed worker process
        pool = make_pool(min(workers or default_workers(), len(pending))) if own else executor
        lost = set()
        try:
            for result in _collect(pending, pool):
                if result.worker_died and own and not final:
                    lost.add(result.name)
                else:
                    record(result)
        finally:
            if own:
                pool.shutdown(wait=True, cancel_futures=True)
        pending = [job for job in pending if job.name in lost]
        if not pending:
            break
    bar.close()
    write_index(reports_dir)
    return [results[name] for name in work.sets]


def summary_table(results: list[RunResult]) -> str:
    """A plain-text table: name, status, seconds; then a count line and the failures' messages."""
    width = max([len("name"), *(len(result.name) for result in results)])
    lines = [f"{'name':<{width}}  {'status':<7}  {'seconds':>7}"]
    lines += [f"{r.name:<{width}}  {r.status:<7}  {r.seconds:>7.1f}" for r in results]
    counts = {status: sum(r.status == status for r in results) for status in (OK, FAILED, SKIPPED)}
    lines.append(f"{counts[OK]} ok, {counts[FAILED]} failed, {counts[SKIPPED]} skipped")
    lines += [f"failed: {r.name}: {r.error}" for r in results if r.status == FAILED]
    return "\n".join(lines)

