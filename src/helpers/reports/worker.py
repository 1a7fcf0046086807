"""One report run, in a worker process: execute the notebook with papermill, export HTML.

- `warm_worker` is the pool's initializer: the worker dies with the batch's main process
  (helpers.processes.die_with_parent), ignores Ctrl-C (the terminal sends SIGINT to the whole process group;
  the main process decides what stops), stops its run on SIGTERM, and imports papermill and nbconvert once
  (and, for batches with in-process runs, the modules those notebooks import).
- Two engines (`RunJob.engine`): `kernel` gives every run a fresh kernel that talks over IPC (Unix sockets
  in a private temporary folder), not TCP: jupyter_client picks TCP ports by binding and releasing them,
  which races between processes that start kernels at the same time (papermill#511, "ZMQError: Address
  already in use"). `inprocess` runs the notebook in the worker itself, in a fresh namespace
  (helpers.reports.inprocess): no kernel start and no imports per report.
- A per-run timeout kills the kernel (or stops the in-process run, helpers.reports.interrupts); a kernel that dies
  is retried once; SIGTERM stops the run in progress and makes this and every later run of the worker end
  as `interrupted` without output.
- Nothing is half-written: the executed notebook is written under a temporary name and renamed, the HTML
  atomically (helpers.atomic); an interrupted run leaves neither.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import logging
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

from helpers.atomic import temporary_name
from helpers.processes import die_with_parent
from helpers.reports import export, interrupts

OK, FAILED, SKIPPED, INTERRUPTED = "ok", "failed", "skipped", "interrupted"
AUTO, KERNEL, INPROCESS = "auto", "kernel", "inprocess"
NOTEBOOK_METADATA = "omsorgskapasitet"  # the notebook metadata key holding {"engine": "inprocess"}
KERNEL_NAME = "python3"
DEFAULT_TIMEOUT = 900.0
KERNEL_LOG = "kernel.log"


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
    engine: str = KERNEL
    shared_assets: bool = False
    page: bool = True  # the worker writes the HTML page; False: the main process does (finish_page)


@dataclass
class RunResult:
    """Outcome of one report: status ok/failed/skipped/interrupted, seconds and where the time went."""

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


class RunInterrupted(Exception):
    """The batch is stopping (SIGTERM to the worker); the run's kernel was killed."""


class _KernelWatch:
    """Remembers the run's kernel manager so that a timer or a signal can kill the kernel."""

    def __init__(self) -> None:
        self.km: Any = None
        self.timed_out = False
        self.interrupted = False

    def kill(self, *, interrupted: bool = False) -> None:
        """Kill the kernel process (nbclient then raises DeadKernelError)."""
        if interrupted:
            self.interrupted = True
        else:
            self.timed_out = True
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        if process is not None and process.poll() is None:
            process.kill()


_RUNNING: _KernelWatch | None = None  # the kernel run in progress in this worker process
_IN_PROCESS: interrupts.ActiveRun | None = None  # the in-process run in progress
_STOPPING = threading.Event()


def _stop(signum: int, frame: FrameType | None) -> None:
    """SIGTERM in a worker: stop the running kernel or in-process run; this and later runs end as
    interrupted. Logging stops too: nbclient would report the kernel it lost, which is what was asked for."""
    _STOPPING.set()
    logging.disable(logging.CRITICAL)
    if _RUNNING is not None:
        _RUNNING.kill(interrupted=True)
    if _IN_PROCESS is not None:
        _IN_PROCESS.stop("stopped")


PAPERMILL_UNUSED = ("pyarrow.fs",)
"""Optional imports of papermill's that reports never use: pyarrow.fs only serves hdfs:// paths, and importing it
costs a fresh worker 0.2 s (nothing else in a report imports pyarrow)."""


@contextlib.contextmanager
def _declined(modules: tuple[str, ...]) -> Iterator[None]:
    """Within the block, importing `modules` raises ImportError, as if the optional packages were absent (a
    library's `try: import ... except ImportError` then takes its fallback); afterwards they import normally."""
    hidden = [name for name in modules if name not in sys.modules]
    sys.modules.update(dict.fromkeys(hidden))
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name, "") is None:
                del sys.modules[name]


def warm_worker(parent_pid: int | None = None, modules: tuple[str, ...] = (), pages: bool = True) -> None:
    """Pool initializer: die with the parent, leave Ctrl-C to it, stop on SIGTERM, import papermill once
    (and `modules`, which the in-process notebooks of the batch import; and the page exporter unless `pages` is
    False: the main process writes the pages)."""
    if parent_pid is not None:
        die_with_parent(parent_pid)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, _stop)
        interrupts.install()
    gc.disable()  # the imports make objects that live as long as the worker: collecting them is wasted (0.35 s)
    try:
        import nbclient  # noqa: F401

        with _declined(PAPERMILL_UNUSED):
            import papermill  # noqa: F401

        from helpers.reports import inprocess  # noqa: F401 - registers the in-process engine with papermill

        if pages:
            export.ready_exporter()
        for module in modules:
            importlib.import_module(module)
    finally:
        gc.freeze()  # ... and later collections need not walk them
        gc.enable()


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
            # The kernel's own log (not the notebook's output, which travels over IOPub) goes to a file
            # rather than the batch's terminal; its end is quoted when the kernel dies.
            with open(os.path.join(ipc_dir, KERNEL_LOG), "ab") as log:
                await super().start_kernel(**kwargs, stdout=log, stderr=log)
            if watch.interrupted or _STOPPING.is_set():  # stopped while the kernel was starting
                watch.kill(interrupted=True)

    return RunKernelManager


def engine_for(notebook: Path | str, requested: str = AUTO) -> str:
    """The engine a notebook runs with: `requested`, or with AUTO what its metadata asks for
    (`"omsorgskapasitet": {"engine": "inprocess"}`), else a fresh kernel."""
    if requested != AUTO:
        return requested
    try:
        metadata = json.loads(Path(notebook).read_bytes()).get("metadata", {})
    except (OSError, ValueError, AttributeError):
        return KERNEL
    wanted = (metadata.get(NOTEBOOK_METADATA) or {}).get("engine") if isinstance(metadata, dict) else None
    return INPROCESS if wanted == INPROCESS else KERNEL


def first_cell_start(nb: Any) -> datetime | None:
    """When papermill started the first cell (the kernel was up by then)."""
    for cell in nb.cells:
        start = cell.get("metadata", {}).get("papermill", {}).get("start_time")
        if start:
            return datetime.fromisoformat(start)
    return None


def _executed_paths(job: RunJob) -> tuple[Path, Path]:
    """(where the executed notebook goes, the temporary name it is written under first)."""
    executed = Path(job.executed_path)
    executed.parent.mkdir(parents=True, exist_ok=True)
    return executed, executed.with_name(temporary_name(executed.name) + "ipynb")


def _papermill(job: RunJob, partial: Path, **engine: Any) -> Any:
    """papermill.execute_notebook with the job's notebook, parameters and folder; `engine`: how it runs."""
    import papermill

    return papermill.execute_notebook(job.notebook, str(partial), parameters=job.parameters,
                                      kernel_name=job.kernel_name, progress_bar=False,
                                      request_save_on_cell_execute=False, cwd=job.cwd, **engine)


def _settle(partial: Path, executed: Path, keep: bool) -> None:
    """Keep the executed notebook, failed or not, for reading afterwards (not when the run was stopped)."""
    if partial.exists() and keep:
        os.replace(partial, executed)
    partial.unlink(missing_ok=True)


def _same_project(job: RunJob) -> bool:
    """True when this process's helpers.paths point at the job's project (a worker's modules read their paths
    once, at import; a job for another project root runs in a fresh kernel instead)."""
    from helpers import paths

    root = job.env.get("OMSORGSKAPASITET_ROOT")
    return root is None or Path(root).resolve() == paths.ROOT


def _execute_inprocess(job: RunJob) -> tuple[Any, float]:
    """Execute the notebook in this process (helpers.reports.inprocess); returns (notebook, 0.0: no kernel start)."""
    from helpers.reports import inprocess

    global _IN_PROCESS
    executed, partial = _executed_paths(job)
    run = interrupts.ActiveRun()
    timer = threading.Timer(job.timeout, run.stop, args=("timeout",))
    timer.daemon = True
    try:
        with run:
            _IN_PROCESS = run
            if _STOPPING.is_set():
                raise RunInterrupted("the batch was stopped before the run began")
            timer.start()
            nb = _papermill(job, partial, engine_name=inprocess.ENGINE, env=job.env)
    except BaseException as exc:
        if run.reason == "timeout" and not _STOPPING.is_set():
            raise RunTimeout(f"timed out after {job.timeout:g} s; the run was stopped") from exc
        if run.reason or _STOPPING.is_set():
            raise RunInterrupted("the batch was stopped; the run was stopped") from exc
        raise
    finally:
        _IN_PROCESS = None
        timer.cancel()
        _settle(partial, executed, keep=not (run.reason == "stopped" or _STOPPING.is_set()))
    return nb, 0.0


def _execute(job: RunJob) -> tuple[Any, float]:
    """Execute the notebook once (in a fresh kernel, or in this process for INPROCESS jobs); returns
    (notebook, kernel start seconds)."""
    if job.engine == INPROCESS and _same_project(job):
        return _execute_inprocess(job)
    global _RUNNING
    watch = _KernelWatch()
    executed, partial = _executed_paths(job)
    with tempfile.TemporaryDirectory(prefix="oms-kernel-") as ipc_dir:
        timer = threading.Timer(job.timeout, watch.kill)
        timer.daemon = True
        begun = datetime.now().astimezone()
        timer.start()
        _RUNNING = watch
        try:
            if _STOPPING.is_set():
                raise RunInterrupted("the batch was stopped before the run began")
            nb = _papermill(job, partial, kernel_manager_class=_kernel_manager_class(watch, ipc_dir, job.env))
        except Exception as exc:
            if watch.interrupted or _STOPPING.is_set():
                raise RunInterrupted("the batch was stopped; the kernel was stopped") from exc
            if watch.timed_out:
                raise RunTimeout(f"timed out after {job.timeout:g} s; the kernel was stopped") from exc
            if _kernel_died(exc):
                raise RuntimeError(f"Kernel died ({describe_error(exc)}); its log ends: "
                                   f"{_tail(Path(ipc_dir) / KERNEL_LOG)}") from exc
            raise
        finally:
            _RUNNING = None
            timer.cancel()
            _settle(partial, executed, keep=not (watch.interrupted or _STOPPING.is_set()))
    first = first_cell_start(nb)
    return nb, (first - begun).total_seconds() if first else 0.0


def _tail(path: Path, chars: int = 300) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return " ".join(text[-chars:].split()) or "(empty)"


def _kernel_died(exc: BaseException) -> bool:
    """True for a kernel that died or failed to start (worth one retry), not for a notebook error."""
    from nbclient.exceptions import DeadKernelError

    if isinstance(exc, RunTimeout | RunInterrupted):
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


def _export(job: RunJob, nb: Any, result: RunResult) -> None:
    """Export the executed notebook to the job's HTML page (written atomically), timed in `result.export_seconds`."""
    start = time.perf_counter()
    page = export.export_html(nb, _context_for(job, nb), static=job.static, shared_assets=job.shared_assets)
    export.write_page(job.html_path, page)
    result.export_seconds = time.perf_counter() - start


def run_job(job: RunJob) -> RunResult:
    """Run one report in this process: execute (retrying once on a dead kernel), then export HTML (unless the
    job leaves the page to the main process: `finish_page`)."""
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
        if _STOPPING.is_set():
            raise RunInterrupted("the batch was stopped before the export")
        result.execute_seconds = max(time.perf_counter() - start - result.kernel_seconds, 0.0)
        if job.page:
            _export(job, nb, result)
        result.status = OK
    except RunInterrupted as exc:
        result.status, result.error = INTERRUPTED, str(exc)
    except Exception as exc:
        result.error = describe_error(exc)
    result.seconds = time.perf_counter() - start
    return result


def finish_page(job: RunJob, result: RunResult) -> RunResult:
    """In the main process: write the page of a run that left it here (`job.page` False), from the executed
    notebook the worker saved; a page that cannot be written fails the run."""
    if job.page or result.status != OK:
        return result
    try:
        import nbformat

        _export(job, nbformat.read(job.executed_path, as_version=4), result)
    except Exception as exc:
        result.status, result.error = FAILED, f"writing the page from {job.executed_path}: {describe_error(exc)}"
    result.seconds += result.export_seconds
    return result
