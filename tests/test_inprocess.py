"""Notebooks run in the long-lived workers (helpers.reports.inprocess): the page is a fresh kernel's, process-wide
settings are put back, and timeouts, Ctrl-C, SIGTERM and kill -9 stop them as they stop kernels.

The signal tests start a real batch in a child process (a spawn pool of two workers) against a tiny project
in a temporary folder, and follow its process tree through /proc, like tests/test_runner_signals.py.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import signal
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import altair as alt
import numpy as np
import polars as pl
import pytest
import yaml
from support import alive, descendants, interrupt_batch, owned, rerun_statuses, signal_and_wait, start_batch, wait_until

from helpers import paths
from helpers.reports import reportsets, runner, worker
from helpers.reports.process_state import restored_afterwards

pytestmark = pytest.mark.notebook

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
MANIFEST = "file,source,ssb_tables,description,retrieved,sha256,licence\n"
KERNEL_TEMP = re.compile(r"/tmp/ipykernel_\d+/")  # where a kernel says a cell's code lives: its process id


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(FIXTURES, tmp_path / "notebooks")
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "data" / "raw" / "MANIFEST.csv").write_text(MANIFEST)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    return tmp_path


def sets(*entries: tuple[str, str, dict], folder: str = "notebooks") -> list[reportsets.ReportSet]:
    return [reportsets.ReportSet(name, f"{folder}/{notebook}.ipynb", f"{name}.html", parameters)
            for name, notebook, parameters in entries]


def fixture_sets(*entries: tuple[str, str, dict]) -> list[reportsets.ReportSet]:
    """Sets of the fixture notebooks in this project (whose paths this process and its workers share: a
    worker runs a notebook in-process only for the project its modules were imported for)."""
    return sets(*entries, folder="tests/fixtures/notebooks")


def test_the_engine_is_chosen_by_the_notebook_unless_asked() -> None:
    assert worker.engine_for(FIXTURES / "outputs.ipynb") == worker.INPROCESS
    assert worker.engine_for(FIXTURES / "simple.ipynb") == worker.KERNEL  # asks for nothing: a fresh kernel
    assert worker.engine_for(FIXTURES / "outputs.ipynb", worker.KERNEL) == worker.KERNEL
    assert worker.engine_for(Path("no/such.ipynb")) == worker.KERNEL


def test_an_inprocess_page_is_a_fresh_kernels_page_every_time(project: Path) -> None:
    """Tables, Markdown, HTML, a chart, a warning, stdout and stderr, a last value: byte for byte the page a
    fresh kernel gives (but for the kernel's process id in the warning), also for the next notebook the same
    worker runs; the warning shows again in every run, as in a fresh kernel."""
    batch = fixture_sets(("a", "outputs", {"kommune": "3203"}), ("b", "outputs", {"kommune": "3203"}))
    results = runner.run_batch(batch, root=paths.ROOT, reports_dir=project / "worker", workers=1, force=True)
    assert [(r.status, r.kernel_seconds) for r in results] == [("ok", 0.0), ("ok", 0.0)]
    alone = runner.run_batch(batch, root=paths.ROOT, reports_dir=project / "kernel", workers=2, force=True,
                             engine=runner.KERNEL)
    assert [r.status for r in alone] == ["ok", "ok"] and all(r.kernel_seconds > 0 for r in alone)
    for name in ("a", "b"):
        page, kernel_page = (KERNEL_TEMP.sub("", (project / folder / f"{name}.html").read_text(encoding="utf-8"))
                             for folder in ("worker", "kernel"))
        assert page == kernel_page
        assert "UserWarning: en advarsel om 3203" in page and "til stderr" in page and "to linjer" in page
        assert page.count('class="oms-chart"') == 1 and "'kommune': '3203', 'n': 3" in html.unescape(page)


def test_process_wide_settings_are_put_back_after_a_notebook(tmp_path: Path) -> None:
    before = (os.getcwd(), dict(os.environ), list(sys.path), pl.Config.save(), alt.theme.active,
              np.get_printoptions()["precision"], list(warnings.filters))
    with restored_afterwards():
        os.chdir(tmp_path)
        os.environ["OMS_LEAK"] = "1"
        sys.path.insert(0, str(tmp_path))
        pl.Config.set_tbl_rows(2)
        alt.theme.enable("dark")
        np.set_printoptions(precision=1)
        warnings.simplefilter("ignore")
    after = (os.getcwd(), dict(os.environ), list(sys.path), pl.Config.save(), alt.theme.active,
             np.get_printoptions()["precision"], list(warnings.filters))
    assert after == before
    with pytest.raises(RuntimeError), restored_afterwards():  # a notebook that fails half-way, too
        os.environ["OMS_LEAK"] = "2"
        raise RuntimeError("midt i")
    assert "OMS_LEAK" not in os.environ


def test_an_inprocess_run_times_out_in_a_thread_and_in_a_worker(project: Path) -> None:
    slow = fixture_sets(("slow", "sleeps_inprocess", {"seconds": 60}), ("quick", "sleeps_inprocess", {"seconds": 0}))
    with ThreadPoolExecutor(1) as threads:  # a run in a thread is stopped by an asynchronous exception
        started = time.monotonic()
        results = runner.run_batch(slow, root=paths.ROOT, reports_dir=project / "threads", executor=threads,
                                   timeout=3, force=True)
    assert time.monotonic() - started < 20
    assert [(r.status, r.kernel_seconds) for r in results] == [("failed", 0.0), ("ok", 0.0)]
    assert "timed out after 3 s" in results[0].error
    # a run in a worker's main thread is stopped by a signal, which also ends its time.sleep
    results = runner.run_batch(slow, root=paths.ROOT, reports_dir=project / "pool", workers=1, timeout=3,
                               force=True)
    assert [r.status for r in results] == ["failed", "ok"] and results[0].seconds < 15
    assert "timed out after 3 s" in results[0].error
    assert "woke up" in (project / "pool" / "quick.html").read_text(encoding="utf-8")


def write_sets(root: Path, slow: float) -> None:
    entries = [{"name": name, "notebook": "notebooks/sleeps_inprocess.ipynb", "output": f"{name}.html",
                "parameters": {"seconds": seconds, "started": str(root / f"{name}.started")}}
               for name, seconds in (("q1", 0), ("q2", 0), ("slow1", slow), ("slow2", slow))]
    (root / "reports.yml").write_text(yaml.safe_dump(entries), encoding="utf-8")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="follows processes through /proc (Linux)")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_stops_inprocess_runs_promptly_and_the_next_batch_resumes(project: Path, signum: int) -> None:
    reports = project / "reports"
    write_sets(project, slow=60)
    batch = start_batch(project, "q1", "q2", "slow1", "slow2")
    with owned(batch) as tree:
        wait_until(lambda: (reports / ".state" / "q1.json").exists() and (reports / ".state" / "q2.json").exists()
                   and (project / "slow1.started").exists() and (project / "slow2.started").exists(),
                   what="q1 and q2 done, slow1 and slow2 running in the workers")
        tree |= descendants(batch.pid)
        interrupt_batch(batch, signum, tree)
    assert sorted(p.name for p in (reports / ".state").iterdir()) == ["q1.json", "q2.json"]
    assert not (reports / "slow1.html").exists() and not (reports / "slow2.html").exists()
    assert not list((reports / ".executed").glob("slow*"))  # a stopped run leaves no executed notebook

    write_sets(project, slow=0.1)
    statuses = rerun_statuses(project, "q1", "q2", "slow1", "slow2")
    assert statuses == {"q1": "skipped", "q2": "skipped", "slow1": "ok", "slow2": "ok"}


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="follows processes through /proc (Linux)")
def test_a_killed_main_process_takes_its_inprocess_workers_with_it(project: Path) -> None:
    write_sets(project, slow=60)
    batch = start_batch(project, "slow1", "slow2")
    with owned(batch) as tree:
        wait_until(lambda: (project / "slow1.started").exists() and (project / "slow2.started").exists(),
                   what="two runs in the workers")
        tree |= descendants(batch.pid)
        assert len(alive(tree)) >= 2
        signal_and_wait(batch, signal.SIGKILL, tree)
    assert not (project / "reports" / "slow1.html").exists()


def test_a_job_for_another_project_runs_in_a_kernel(project: Path) -> None:
    job = runner.plan(sets(("q", "sleeps_inprocess", {"seconds": 0})), project, project / "reports").jobs[0]
    assert job.engine == worker.INPROCESS
    assert not worker._same_project(job)  # this test process's helpers.paths point at the real project
    result = runner.run_job(job)
    assert (result.status, result.error) == ("ok", "") and result.kernel_seconds > 0
