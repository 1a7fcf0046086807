"""The runner cleans up after itself: workers die with a killed main process, Ctrl-C and SIGTERM stop a batch
promptly with its state consistent (the next run resumes), and a second batch in the same folder is refused.

Each test starts a real batch in a child process (the default spawn pool of two workers) against a tiny
project in a temporary folder, and follows its process tree through /proc.
"""

from __future__ import annotations

import shutil
import signal
import time
from pathlib import Path

import pytest
import yaml
from support import alive, descendants, interrupt_batch, owned, rerun_statuses, signal_and_wait, start_batch, wait_until

pytestmark = [
    pytest.mark.notebook,
    pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="follows processes through /proc (Linux)"),
]

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
MANIFEST = "file,source,ssb_tables,description,retrieved,sha256,licence\n"


def kernels(pids: set[int]) -> set[int]:
    found = set()
    for pid in alive(pids):
        try:
            if b"ipykernel" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.add(pid)
        except OSError:
            continue
    return found


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES, tmp_path / "notebooks")
    (tmp_path / "data" / "raw").mkdir(parents=True)
    (tmp_path / "data" / "raw" / "MANIFEST.csv").write_text(MANIFEST)
    write_sets(tmp_path, slow=60)
    return tmp_path


def write_sets(root: Path, slow: float) -> None:
    entries = [{"name": name, "notebook": "notebooks/simple.ipynb", "output": f"{name}.html",
                "parameters": {"value": value}} for name, value in (("q1", 1), ("q2", 2))]
    entries += [{"name": name, "notebook": "notebooks/sleeps.ipynb", "output": f"{name}.html",
                 "parameters": {"seconds": slow}} for name in ("slow1", "slow2")]
    (root / "reports.yml").write_text(yaml.safe_dump(entries), encoding="utf-8")


def stray_files(reports: Path) -> list[str]:
    return sorted(p.name for p in reports.rglob("*") if ".pid" in p.name)


def test_a_killed_main_process_takes_its_workers_and_kernels_with_it(project: Path) -> None:
    batch = start_batch(project, "slow1", "slow2")
    with owned(batch) as tree:
        wait_until(lambda: len(kernels(descendants(batch.pid))) == 2, what="two kernels running")
        tree |= descendants(batch.pid)  # the workers, their kernels and multiprocessing's resource tracker
        signal_and_wait(batch, signal.SIGKILL, tree)
    time.sleep(1)
    assert not (project / "reports" / "slow1.html").exists() and not (project / "reports" / ".state").exists()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_stops_the_batch_promptly_and_the_next_run_resumes(project: Path, signum: int) -> None:
    reports = project / "reports"
    batch = start_batch(project, "q1", "q2", "slow1", "slow2")
    with owned(batch) as tree:
        wait_until(lambda: (reports / ".state" / "q2.json").exists() and (reports / ".state" / "q1.json").exists()
                   and len(kernels(descendants(batch.pid))) == 2, what="q1 and q2 done, slow1 and slow2 running")
        tree |= descendants(batch.pid)
        err = interrupt_batch(batch, signum, tree)
    assert "Traceback" not in err
    assert sorted(p.name for p in (reports / ".state").iterdir()) == ["q1.json", "q2.json"]
    assert not (reports / "slow1.html").exists() and not (reports / "slow2.html").exists()
    assert stray_files(reports) == []
    assert "q1.html" in (reports / "index.html").read_text(encoding="utf-8")

    write_sets(project, slow=0.1)
    statuses = rerun_statuses(project, "q1", "q2", "slow1", "slow2")
    assert statuses == {"q1": "skipped", "q2": "skipped", "slow1": "ok", "slow2": "ok"}


def test_a_second_batch_in_the_same_folder_exits_with_a_message(project: Path) -> None:
    first = start_batch(project, "slow1")
    with owned(first) as tree:
        wait_until(lambda: len(kernels(descendants(first.pid))) == 1, what="the first batch's kernel")
        tree |= descendants(first.pid)
        second = start_batch(project, "q1")
        _, err = second.communicate(timeout=60)
        assert second.returncode == 2
        assert err.startswith(f"omsorgskapasitet: {project / 'reports'} is being written by another report batch "
                              f"(pid {first.pid}, started ")
        assert "wait for it to finish" in err and err.count("\n") == 1
        assert first.poll() is None  # the first batch goes on
        signal_and_wait(first, signal.SIGTERM, tree)
    assert not (project / "reports" / "q1.html").exists()
