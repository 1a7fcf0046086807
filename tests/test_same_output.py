"""Same output however a report is run: with SOURCE_DATE_EPOCH set, every before/after report of a batch run in
one long-lived worker (helpers.reports.inprocess) is byte-identical to the same report rendered alone in a fresh
kernel, also after a report that changed process-wide settings and its own table and then failed half-way,
and after one that fails in the analysis. Nothing leaks from one report into the next.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from helpers import paths
from helpers.reports import reportsets, runner
from helpers.table.build import build_indicators

pytestmark = pytest.mark.notebook

NOTEBOOK = "notebooks/02_for_etter_kapasitet.ipynb"
LEAKY = "notebooks/02_feiler_midt_i.ipynb"
# Everything a notebook could change for the next one short of a module's own variables, then an error.
LEAKY_CELL = """import os
import sys
import warnings

import altair as alt
import numpy as np

pl.Config.set_tbl_rows(2)
pl.Config.set_float_precision(1)
alt.theme.enable("dark")
np.set_printoptions(precision=1)
warnings.simplefilter("ignore")
os.environ["OMS_LEAK"] = "1"
sys.path.insert(0, "/nowhere")
os.chdir("/")
table.drop_in_place("flag")
raise RuntimeError("tilsiktet feil midt i rapporten")
"""


def leaky_copy(source: Path, target: Path) -> None:
    """Notebook 02 with LEAKY_CELL right after the overview chart."""
    nb = json.loads(source.read_text(encoding="utf-8"))
    at = next(i for i, cell in enumerate(nb["cells"]) if "overview_chart" in "".join(cell["source"]))
    nb["cells"].insert(at + 1, {"cell_type": "code", "execution_count": None, "id": "cell-leak", "metadata": {},
                                "outputs": [], "source": LEAKY_CELL.splitlines(keepends=True)})
    target.write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with the real raw snapshot, a freshly built table, notebook 02 and its leaky copy."""
    root = tmp_path_factory.mktemp("same_output")
    (root / "data").mkdir()
    (root / "data" / "raw").symlink_to(paths.RAW, target_is_directory=True)
    build_indicators(out=root / "data" / "processed" / "indicators.parquet")
    (root / "notebooks").mkdir()
    shutil.copy(paths.ROOT / NOTEBOOK, root / NOTEBOOK)
    leaky_copy(paths.ROOT / NOTEBOOK, root / LEAKY)
    return root


def report_sets() -> list[reportsets.ReportSet]:
    years = ([2018, 2019], [2021, 2022])
    bærum = reportsets.before_after_set("3201", *years)
    leaky = reportsets.before_after_set("5001", *years)
    leaky = reportsets.ReportSet("leaky_5001", LEAKY, "leaky_5001.html", leaky.parameters)
    return [
        bærum,
        leaky,  # changes settings and its table, then fails half-way
        reportsets.before_after_set("5001", *years),  # the same kommune: its reforms drawn as breaks
        reportsets.before_after_set("1508", *years),  # fails in the analysis: no size measure to match on
        reportsets.before_after_set("3203", [2012, 2013], [2015, 2016]),  # windows on old borders
        reportsets.before_after_set("0301", *years, detailed=False),
    ]


def test_a_batch_in_one_worker_gives_each_report_as_a_fresh_kernel_alone(project: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    monkeypatch.setenv("OMSORGSKAPASITET_ROOT", str(project))  # the workers' project
    sets = report_sets()
    batch = runner.run_batch(sets, root=project, reports_dir=project / "batch", workers=1, force=True)
    alone = runner.run_batch(sets, root=project, reports_dir=project / "alone", workers=2, force=True,
                             engine=runner.KERNEL)
    assert [r.kernel_seconds == 0 for r in batch] == [True] * len(sets)  # all in the one worker
    assert all(r.kernel_seconds > 0 for r in alone if r.status == "ok")  # each in a fresh kernel
    statuses = [r.status for r in batch]
    assert statuses == ["ok", "failed", "ok", "failed", "ok", "ok"] == [r.status for r in alone]
    assert batch[1].error == alone[1].error and "RuntimeError: tilsiktet feil midt i rapporten" in batch[1].error
    assert batch[3].error == alone[3].error and "no size measure" in batch[3].error
    for report, result in zip(sets, batch, strict=True):
        if result.status == "ok":
            page = (project / "batch" / report.output).read_bytes()
            assert page == (project / "alone" / report.output).read_bytes(), report.name
            assert b"Kommune: <strong>" in page and b"2023-11-14 22:13:20 UTC" in page
    assert b'class="oms-chart"' in (project / "batch" / sets[2].output).read_bytes()
