"""Profile one detailed before/after report: where its time goes, phase by phase, and by package.

    .venv/bin/python benchmarks/profile_report.py [--kommune 3201] [--before 2018-2019] [--after 2021-2022]

Phases, each measured on its own (seconds; the in-process phases are the second of two runs, so caches
that live for a worker's lifetime are warm, as in a batch; the first run is shown too):
- imports: a fresh interpreter importing what the notebook imports (polars, altair, helpers.*) and what a
  worker imports (papermill, nbconvert);
- kernel start: a fresh Jupyter kernel until it answers (what the `kernel` engine pays per report);
- load: the processed table, the reforms and the parameter check (the notebook's first cell);
- analysis: `report_data.prepare_report`, split into its steps;
- charts: building every chart the notebook shows and formatting it for display (Altair's validation);
- text and tables: the sentences and tables of the notebook;
- export: the executed notebook to the HTML page (`export.export_html`);
- whole report: `worker.run_job` in this process, from the notebook file to the HTML file.
Then the time of analysis + charts + text by package (cProfile, own time). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from helpers import paths
from helpers.reports import reportsets, runner, worker

NOTEBOOK_IMPORTS = ("import helpers, polars, altair, helpers.reports.report_data, helpers.present.charts, "
                    "helpers.present.text, helpers.present.tables")
WORKER_IMPORTS = "import helpers, papermill, nbconvert"


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def import_seconds(statement: str, repeat: int = 3) -> float:
    """Median seconds of `statement` in a fresh interpreter (without the interpreter's own start)."""
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
            for _ in range(repeat)]
    return statistics.median(runs)


def kernel_start_seconds(repeat: int = 3) -> float:
    """Median seconds from starting a fresh python3 kernel until it answers."""
    from jupyter_client.manager import start_new_kernel

    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        manager, client = start_new_kernel(kernel_name=runner.KERNEL_NAME, startup_timeout=60,
                                           stderr=subprocess.DEVNULL)
        runs.append(time.perf_counter() - start)
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return statistics.median(runs)


def display_bundle(value: object) -> dict:
    """What a notebook's display does with a value: every mimetype the kernel would send."""
    from IPython.core.formatters import DisplayFormatter

    return DisplayFormatter().format(value)[0]


def load(kommune: str, before: list[int], after: list[int]) -> tuple[Any, Any, Any]:
    from helpers.reports.parameters import check_report_parameters, check_structure
    from helpers.table.processed import table_for_structure
    from helpers.table.reforms import load_reforms

    reforms = load_reforms()
    table = table_for_structure(check_structure("2024", reforms))
    params = check_report_parameters(table, kommune, "2024", before, after, "default", "matched", reforms)
    return reforms, table, params


def analysis_steps(params: Any, table: pl.DataFrame, reforms: Any) -> dict[str, float]:
    """prepare_report's steps, timed one by one (the same calls, in the same order)."""
    from helpers import analysis
    from helpers.reports import report_data

    steps = {}
    panel = table.filter(pl.col("structure") == params.structure)
    present, _ = report_data._available(panel, params.kommune, params.indicators, params.before, params.after)
    window = {"before": params.before, "after": params.after, "pre_start": params.first_year}
    steps["group"], group = timed(lambda: report_data.comparison_group(params, panel, reforms, present))
    steps["compare"], _ = timed(lambda: analysis.compare(panel, params.kommune, group, present, **window))
    steps["sensitivity"], _ = timed(lambda: analysis.sensitivity(panel, params.kommune, present, **window,
                                                                 reforms=reforms, report_group=group))
    steps["its"], _ = timed(lambda: analysis.interrupted_time_series(panel, params.kommune, present, **window,
                                                                     placebo_codes=list(group.codes)))
    steps["synthetic"], _ = timed(lambda: analysis.synthetic_controls(panel, params.kommune, list(group.codes),
                                                                      present, **window))
    return steps


def charts_of(data: Any) -> list[Any]:
    """Every chart notebook 02 shows for a detailed report, built as the notebook builds them."""
    from helpers.present import charts, text

    params, result = data.params, data.comparison
    shown = [charts.overview_chart(result.series, before=params.before, after=params.after,
                                   breaks=data.reform_breaks), charts.slope_chart(result)]
    for row in text.indicator_rows(result).iter_rows(named=True):
        shown.append(charts.time_series_chart(result.series.filter(pl.col("indicator") == row["indicator"]),
                                              before=params.before, after=params.after, breaks=data.reform_breaks,
                                              title=row["label"]))
        if row["p_value"] is not None:
            shown.append(charts.placebo_chart(
                result.did.placebo.filter(pl.col("indicator") == row["indicator"]),
                axis_title=text.deviation_axis(row["scale"], row["unit"]), title="Placebofordeling",
                subtitle=f"{text.rank_phrase(row['rank'], row['n_units']).capitalize()}; placebo-p = "
                         f"{text.format_p(row['p_value'], row['rank'], row['n_units'], row['at_floor'])}"))
    for indicator, sc in data.synthetic.items():
        if sc.ok:
            row = result.before_after.filter(pl.col("indicator") == indicator)
            unit = "indeks (førperioden = 100)" if sc.indexed else row["unit"][0]
            shown.append(charts.synthetic_chart(sc, kommune=result.kommune, title=row["label"][0], unit=unit))
    return [display_bundle(chart) for chart in shown]


def texts_of(data: Any) -> list[Any]:
    """The sentences and tables of notebook 02."""
    from helpers.present import text
    from helpers.present.tables import display_table

    result = data.comparison
    labels = {r["indicator"]: r["short_label"] for r in result.before_after.iter_rows(named=True)}
    units = {r["indicator"]: (r["unit"], r["decimals"]) for r in result.before_after.iter_rows(named=True)}
    shown = [text.title(result, data.params.structure), text.summary_sentences(result),
             text.caveats(result, data.panel, data.reform_breaks, data.missing_indicators, data.params.requested,
                          data.params.structure),
             text.group_description(result.group), display_table(text.indicator_table(result)),
             display_table(text.sensitivity_table(data.sensitivity, labels, units)),
             display_table(text.pretrend_table(result)), display_table(text.its_table(data.its)),
             display_table(text.synthetic_table(data.synthetic))]
    shown += [display_table(text.weights_table(sc)) for sc in data.synthetic.values() if sc.ok]
    return [display_bundle(item) for item in shown]


def by_package(profile: cProfile.Profile, top: int = 12) -> list[tuple[str, float]]:
    """Own time summed by package (site-packages/<name>, helpers.<module>, or the standard library)."""
    totals: dict[str, float] = defaultdict(float)
    for (filename, _, _), (_, _, own, _, _) in pstats.Stats(profile).stats.items():  # type: ignore[attr-defined]
        path = filename.replace("\\", "/")
        if "site-packages/" in path:
            name = path.split("site-packages/", 1)[1].split("/", 1)[0]
        elif "/helpers/" in path:
            name = "helpers." + path.split("/helpers/", 1)[1].split("/", 1)[0].removesuffix(".py")
        elif path.startswith("<") or path == "~":
            name = "builtins"
        else:
            name = "stdlib"
        totals[name.split(".", 2)[0] if not name.startswith("helpers") else name] += own
    return sorted(totals.items(), key=lambda item: -item[1])[:top]


def in_process(kommune: str, before: list[int], after: list[int]) -> tuple[dict[str, float], cProfile.Profile]:
    from helpers.reports.report_data import prepare_report

    phases: dict[str, float] = {}
    phases["load"], (reforms, table, params) = timed(lambda: load(kommune, before, after))
    for step, seconds in analysis_steps(params, table, reforms).items():
        phases[f"analysis: {step}"] = seconds
    phases["analysis (prepare_report)"], data = timed(lambda: prepare_report(params, table, reforms))
    phases["charts (build + display)"], _ = timed(lambda: charts_of(data))
    phases["text and tables"], _ = timed(lambda: texts_of(data))
    profile = cProfile.Profile()
    profile.enable()
    charts_of(prepare_report(params, table, reforms))
    texts_of(data)
    profile.disable()
    return phases, profile


def whole_report(kommune: str, before: list[int], after: list[int], folder: Path) -> tuple[float, Any, Any]:
    """run_job for the report in this process; returns (seconds, result, the job)."""
    report = reportsets.before_after_set(kommune, before, after)
    work = runner.plan([report], paths.project_root(), folder, force=True)
    job = work.jobs[0]
    return (*timed(lambda: worker.run_job(job)), job)


def export_seconds(job: Any) -> float:
    import nbformat

    from helpers.reports import export

    nb = nbformat.read(job.executed_path, as_version=4)
    export.export_html(nb, job.context)
    return timed(lambda: export.export_html(nb, job.context))[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kommune", default="3201")
    parser.add_argument("--before", default="2018-2019")
    parser.add_argument("--after", default="2021-2022")
    args = parser.parse_args(argv)
    before, after = reportsets.parse_years(args.before), reportsets.parse_years(args.after, "--after")

    print(f"One detailed report: kommune {args.kommune}, {args.before} vs {args.after}, on {os.cpu_count()} CPUs")
    rows = [("imports, notebook (fresh interpreter)", import_seconds(NOTEBOOK_IMPORTS)),
            ("imports, worker (fresh interpreter)", import_seconds(WORKER_IMPORTS)),
            ("kernel start (fresh kernel)", kernel_start_seconds())]
    first, _ = in_process(args.kommune, before, after)
    second, profile = in_process(args.kommune, before, after)
    with tempfile.TemporaryDirectory(prefix="oms-profile-") as tmp:
        whole_report(args.kommune, before, after, Path(tmp))
        seconds, result, job = whole_report(args.kommune, before, after, Path(tmp))
        exported = export_seconds(job) if result.status == runner.OK else float("nan")
    print()
    print(f"{'phase':44}{'seconds':>9}{'first run':>11}")
    for name, value in rows:
        print(f"{name:44}{value:9.3f}")
    for name, value in second.items():
        print(f"{name:44}{value:9.3f}{first[name]:11.3f}")
    print(f"{'export (executed notebook -> HTML)':44}{exported:9.3f}")
    print(f"{'whole report, run_job in this process':44}{seconds:9.3f}   ({result.status}; kernel "
          f"{result.kernel_seconds:.2f}, execute {result.execute_seconds:.2f}, export {result.export_seconds:.2f})")
    print()
    print("analysis + charts + text, own time by package (cProfile, inflated by profiling):")
    for name, own in by_package(profile):
        print(f"  {name:40}{own:8.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
