"""Wrong input on the command line: one line naming the input and what to do, a non-zero exit, no traceback.

Each case runs `python -m helpers ...` in a child process against a temporary project root
(OMSORGSKAPASITET_ROOT), as a user would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import accept_change, copy_raw

from helpers import paths

pytestmark = pytest.mark.slow  # kernels, servers or subprocesses: not in `make test-fast`

PANEL = "ssb/paneldata_2007_2025_bred.csv"


def helpers_cli(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "OMSORGSKAPASITET_ROOT": str(root), **env}
    environment.pop("OMSORGSKAPASITET_PROCESSED", None)
    return subprocess.run([sys.executable, "-m", "helpers", *args], env=environment, capture_output=True,
                          text=True, timeout=300)


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("omsorgskapasitet: ")
    return done.stderr


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A project root with a copy of the snapshot (no processed table yet)."""
    copy_raw(tmp_path / "data")
    (tmp_path / "data" / "processed").mkdir()
    return tmp_path


def test_a_non_numeric_cell_names_file_line_and_column(root: Path) -> None:
    raw = root / "data" / "raw"
    panel = raw / PANEL
    panel.write_bytes(panel.read_bytes().replace(b",2007,5659,2782,8032,16473,", b",2007,5659,2782,8O32,16473,"))
    accept_change(raw, PANEL)  # as if the file had been added with its manifest row: the reader must catch it
    err = one_line(helpers_cli(root, "build"))
    assert f"{panel}: line 2, column 'Y_1_a_80p': '8O32' is not a number" in err
    assert "restore it from git" in err
    assert not (root / "data" / "processed" / "indicators.parquet").exists()


@pytest.mark.parametrize("command", [["atlas"], ["report", "--every-kommune"]], ids=["atlas", "every-kommune"])
def test_a_damaged_processed_table_says_to_rebuild(root: Path, command: list[str]) -> None:
    table = root / "data" / "processed" / "indicators.parquet"
    table.write_bytes((paths.indicators_parquet().read_bytes() if paths.indicators_parquet().exists()
                       else b"PAR1" + b"x" * 5000)[:4000])
    err = one_line(helpers_cli(root, *command))
    assert f"{table}: cannot be read (parquet: " in err and "rebuild it with `python -m helpers build`" in err


@pytest.mark.parametrize("where", ["folder", "under-a-file", "proc"])
def test_atlas_out_must_be_a_writable_file(root: Path, where: str) -> None:
    (root / "a-file").write_text("x")
    out = {"folder": root, "under-a-file": root / "a-file" / "utforsk.html",
           "proc": Path("/proc/utforsk/utforsk.html")}[where]
    err = one_line(helpers_cli(root, "atlas", "--out", str(out)))
    assert f"--out {out}: " in err
    assert ("is a folder; give a file name such as" in err) if where == "folder" else ("cannot write there" in err)


@pytest.mark.parametrize("epoch", ["abc", "1.5", "-1", "99999999999999999999"])
def test_a_bad_source_date_epoch_stops_the_batch_before_it_starts(root: Path, epoch: str) -> None:
    err = one_line(helpers_cli(root, "report", "--kommune", "3203", SOURCE_DATE_EPOCH=epoch))
    assert f"SOURCE_DATE_EPOCH={epoch!r} is not a whole number of seconds since 1970-01-01" in err
    assert not (root / "reports").exists()


@pytest.mark.parametrize(("value", "shown"), [("-5", "-5"), ("0", "0"), ("nan", "nan"), ("1e300", "1e+300")])
def test_timeout_must_be_positive(root: Path, value: str, shown: str) -> None:
    err = one_line(helpers_cli(root, "report", "--kommune", "3203", "--timeout", value))
    assert f"--timeout must be a positive number of seconds (default 900), got {shown}." in err


def test_a_failed_validation_keeps_its_table_readable(root: Path) -> None:
    """The first line says what failed; the offending rows follow as a table, not squashed onto one line."""
    raw = root / "data" / "raw"
    panel = raw / PANEL
    panel.write_bytes(panel.read_bytes().replace(b'"0301","0301",2007,', b'"0301","0302",2007,', 1))
    accept_change(raw, PANEL)
    done = helpers_cli(root, "build")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == "omsorgskapasitet: The indicator table failed validation:"
    assert any("0302" in line and "as_reported" in line and "2007" in line for line in lines[1:])
    assert len(lines) > 5


def test_the_reports_folder_must_be_writable(root: Path) -> None:
    if os.geteuid() == 0:
        (root / "reports").write_text("a file where the folder should be")
    else:
        (root / "reports").mkdir(mode=0o500)
    shutil.copytree(Path(__file__).parent / "fixtures" / "notebooks", root / "notebooks")
    (root / "reports.yml").write_text("- {name: a, notebook: notebooks/simple.ipynb, output: a.html, "
                                      "parameters: {}}\n")
    err = one_line(helpers_cli(root, "report", "--all"))
    assert "reports" in err and "check that the disk has room and the path is writable" in err


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path: Path) -> None:
    """`python -m helpers list | head -1`: no message about a broken pipe (or a full disk), exit code 141."""
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "n.ipynb").write_text("{}", encoding="utf-8")
    (tmp_path / "reports.yml").write_text("- name: a\n  notebook: notebooks/n.ipynb\n  output: a.html\n"
                                          "  parameters: {}\n", encoding="utf-8")
    environment = {**os.environ, "OMSORGSKAPASITET_ROOT": str(tmp_path)}
    process = subprocess.Popen([sys.executable, "-m", "helpers", "list"], env=environment,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    process.stdout.close()  # before the command has printed anything
    _, err = process.communicate(timeout=60)
    assert (process.returncode, err) == (141, "")
