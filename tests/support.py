"""Small helpers shared by tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from helpers import paths


def value_of(table: pl.DataFrame, kommunenr: str, structure: str, year: int, indicator: str) -> float | None:
    """The single value of one key in the tidy table (asserts the key exists once)."""
    rows = table.filter(
        pl.col("kommunenr") == kommunenr, pl.col("structure") == structure, pl.col("year") == year,
        pl.col("indicator") == indicator,
    )
    assert rows.height == 1, f"expected one row for {kommunenr}/{structure}/{year}/{indicator}, got {rows.height}"
    return rows["value"][0]


def copy_raw(tmp: Path) -> Path:
    """A writable copy of data/raw for tests that corrupt a file."""
    import shutil

    target = tmp / "raw"
    shutil.copytree(paths.RAW, target, ignore=shutil.ignore_patterns("live"))
    return target


def start_chromium(width: int = 1280):
    """A started headless Chromium, or a skipped test (with the reason) where none can run."""
    import pytest
    from browser import BrowserError, HeadlessChromium, find_chromium

    if find_chromium() is None:
        pytest.skip("no Chromium installed (Debian: apt-get install chromium; .ci/run installs it)")
    browser = HeadlessChromium(width=width)
    try:
        browser.start()
    except BrowserError as exc:
        browser.close()
        pytest.skip(f"Chromium would not start here: {exc}")
    return browser


def accept_change(raw: Path, relative: str) -> None:
    """Give a changed file of a copied snapshot its new sha256 in the copy's manifest (as if it had been added
    properly), so that a test reaches the reader behind the manifest check."""
    import csv
    import io

    from helpers.sources.manifest import MANIFEST_COLUMNS, read_manifest, sha256_file

    rows = read_manifest(raw / "MANIFEST.csv")
    for row in rows:
        if row["file"] == relative:
            row["sha256"] = sha256_file(raw / relative)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    (raw / "MANIFEST.csv").write_text(buffer.getvalue(), encoding="utf-8")


# ---------------------------------------------------------------- following processes through /proc (Linux)


def _parents() -> dict[int, int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    return parents


def descendants(pid: int) -> set[int]:
    parents, found, frontier = _parents(), set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    """The processes of `pids` that still run (zombies count as gone)."""
    running = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state not in ("Z", "X"):
            running.add(pid)
    return running


def reap(pids: set[int]) -> None:
    """Kill what a failed test would otherwise leave running."""
    for pid in alive(pids):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def owned(process: subprocess.Popen) -> Iterator[set[int]]:
    """A set for the test to fill with `process`'s descendants; the process and whatever of them still runs
    are killed when the block ends, however it ends."""
    tree: set[int] = set()
    try:
        yield tree
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        reap(tree)


def signal_and_wait(process: subprocess.Popen, signum: int, tree: set[int], timeout: float = 15.0) -> None:
    """Send `signum` to `process`, wait for it to end, then for every process of `tree`."""
    process.send_signal(signum)
    process.wait(timeout=30)
    wait_until(lambda: not alive(tree), timeout=timeout, what=f"{sorted(alive(tree))} to end")


def wait_until(condition, timeout: float = 90.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


# ---------------------------------------------------------------- notebooks


def run_notebook(name: str, out: Path, *, processed: Path | None = None, **parameters) -> dict:
    """Execute notebooks/<name> with papermill in a fresh kernel (from the notebooks folder), the processed
    tables read from `processed` when given; return the executed notebook as JSON (the one way tests run a
    notebook: PapermillExecutionError propagates for the tests of bad parameters)."""
    import json
    import os

    import papermill as pm

    previous = os.environ.get("OMSORGSKAPASITET_PROCESSED")
    if processed is not None:
        os.environ["OMSORGSKAPASITET_PROCESSED"] = str(processed)
    try:
        pm.execute_notebook(str(paths.NOTEBOOKS / name), str(out), parameters=parameters, kernel_name="python3",
                            cwd=str(paths.NOTEBOOKS), progress_bar=False)
    finally:
        if previous is None:
            os.environ.pop("OMSORGSKAPASITET_PROCESSED", None)
        else:
            os.environ["OMSORGSKAPASITET_PROCESSED"] = previous
    return json.loads(out.read_text())


def outputs_text(notebook: dict) -> str:
    """Everything a notebook displayed (HTML, Markdown, text, streams) as one text, character references of
    escaped file text decoded."""
    import html

    parts = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            parts += ["".join(data[key]) for key in ("text/html", "text/markdown", "text/plain") if key in data]
            parts.append("".join(output.get("text", "")))
    return html.unescape("\n".join(parts))
# ---------------------------------------------------------------- a report batch in a child process


def start_batch(root: Path, *names: str) -> subprocess.Popen[str]:
    """`python -m helpers report --workers 2 --name ...` for the project at `root`, in its own process group."""
    import sys

    env = {**os.environ, "OMSORGSKAPASITET_ROOT": str(root), "SOURCE_DATE_EPOCH": "1700000000"}
    command = [sys.executable, "-m", "helpers", "report", "--workers", "2"]
    for name in names:
        command += ["--name", name]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # its own process group, like a command in a terminal


def interrupt_batch(batch: subprocess.Popen[str], signum: int, tree: set[int]) -> str:
    """Ctrl-C (to the whole process group, as a terminal sends it) or SIGTERM; the batch must end within 15 s
    with 128 + the signal's number and one line saying q1 and q2 were recorded and two runs were not; its
    processes must end. Returns what it wrote to stderr."""
    started = time.monotonic()
    if signum == signal.SIGINT:
        os.killpg(batch.pid, signal.SIGINT)
    else:
        batch.send_signal(signum)
    _, err = batch.communicate(timeout=60)
    seconds = time.monotonic() - started
    wait_until(lambda: not alive(tree), timeout=10, what="the workers (and kernels) to end")
    assert batch.returncode == 128 + signum
    assert seconds < 15, f"took {seconds:.1f} s to stop"
    assert err.strip().splitlines() == [
        f"omsorgskapasitet: interrupted ({signal.Signals(signum).name}): 2 report(s) finished and recorded, "
        "2 not run; run the same command again to continue"]
    return err


def rerun_statuses(root: Path, *names: str) -> dict[str, str]:
    """Run the same batch again to its end; {name: status} from its summary."""
    again = start_batch(root, *names)
    out, err = again.communicate(timeout=180)
    assert again.returncode == 0, err
    return {line.split()[0]: line.split()[1] for line in out.splitlines()[1:len(names) + 1]}
