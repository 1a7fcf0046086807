"""The report runner and CLI: reports.yml schema, incremental skips, failures, retries, timeouts."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl
import pytest
import yaml

from helpers import cli
from helpers.errors import DataError, InputError
from helpers.reports import reportsets, runner

pytestmark = pytest.mark.slow  # kernels, servers or subprocesses: not in `make test-fast`

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tiny project root: fixture notebooks, a raw manifest, and OMSORGSKAPASITET_ROOT pointing at it."""
    shutil.copytree(FIXTURES, tmp_path / "notebooks")
    raw = tmp_path / "data" / "raw"
    raw.mkdir(parents=True)
    (raw / "MANIFEST.csv").write_text("file,source,ssb_tables,description,retrieved,sha256,licence\n")
    monkeypatch.setenv("OMSORGSKAPASITET_ROOT", str(tmp_path))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    return tmp_path


@pytest.fixture(scope="module")
def pool():
    """Threads as the executor (no process start-up); the CLI test covers the default process pool."""
    with ThreadPoolExecutor(2) as executor:
        yield executor


def write_sets(root: Path, entries: list[dict]) -> Path:
    path = root / "reports.yml"
    path.write_text(yaml.safe_dump(entries, sort_keys=False), encoding="utf-8")
    return path


def add_raw_file(root: Path, name: str, data: bytes) -> str:
    """A file in the project's data/raw with its manifest row; returns its sha256."""
    from helpers.sources.manifest import sha256_file

    raw = root / "data" / "raw"
    (raw / name).write_bytes(data)
    digest = sha256_file(raw / name)
    with (raw / "MANIFEST.csv").open("a", encoding="utf-8") as manifest:
        manifest.write(f"{name},test,,a test file,2026-01-01,{digest},CC BY 4.0\n")
    return digest


def entry(name: str, notebook: str = "simple", **parameters: object) -> dict:
    return {"name": name, "notebook": f"notebooks/{notebook}.ipynb", "output": f"{name}.html",
            "parameters": parameters}


# ---------------------------------------------------------------- reports.yml


def test_reports_yml_of_the_project_is_valid_yaml_with_the_default_sets() -> None:
    data = yaml.safe_load((Path(__file__).parents[1] / "reports.yml").read_text(encoding="utf-8"))
    assert [item["name"] for item in data] == [
        "rens", "asker_2012_2016", "asker_fusjon_2018_2022", "paastander_2015", "programsporing",
        "asker_3203_2012_2016"]
    assert data[2]["parameters"]["before"] == [2018, 2019] and data[2]["parameters"]["after"] == [2021, 2022]
    # the 2015 annual report is about old Asker on its own borders; 3203 on 2024 borders is a named set
    assert data[1]["parameters"] == {"kommune": "0220", "structure": "as_reported", "before": [2012, 2013],
                                     "after": [2015, 2016], "comparison": "matched"}
    assert data[5]["parameters"]["kommune"] == "3203" and data[5]["parameters"]["structure"] == "2024"


def test_load_reportsets_reads_a_valid_file(project: Path) -> None:
    write_sets(project, [entry("a", value=2), entry("b", "charts", kommune="3203")])
    sets = reportsets.load_reportsets()
    assert [(s.name, s.notebook, s.output, s.parameters) for s in sets] == [
        ("a", "notebooks/simple.ipynb", "a.html", {"value": 2}),
        ("b", "notebooks/charts.ipynb", "b.html", {"kommune": "3203"}),
    ]


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"name": "a"}, "expected a non-empty YAML list"),
        ([], "expected a non-empty YAML list"),
        (["just a string"], "entry 1: expected a mapping"),
        ([{"name": "a", "notebook": "notebooks/simple.ipynb", "output": "a.html"}],
         "entry 1 ('a'): missing field(s) ['parameters']"),
        ([{**entry("a"), "colour": "red"}], "entry 1 ('a'): unknown field(s) ['colour']"),
        ([entry("a"), {**entry("b"), "notebook": "notebooks/nope.ipynb"}],
         "entry 2 ('b'): field 'notebook': unknown notebook 'notebooks/nope.ipynb'"),
        ([{**entry("a"), "parameters": [1, 2]}], "entry 1 ('a'): field 'parameters' must be a mapping"),
        ([{**entry("a"), "output": "../a.html"}], "entry 1 ('a'): field 'output' must be a file name"),
        ([{**entry("a"), "name": "a b"}], "entry 1 ('a b'): field 'name' must be"),
        ([entry("a"), entry("a")], "entry 2 ('a'): duplicate name 'a' (already used by entry 1)"),
        ([entry("a"), {**entry("b"), "output": "a.html"}], "entry 2 ('b'): duplicate output 'a.html'"),
        ([entry("a"), {**entry("b"), "output": "A.html"}], "entry 2 ('b'): duplicate output 'A.html'"),
        ([{**entry("a"), "output": "index.html"}], "'index.html' is reserved for the index of reports"),
        ([{**entry("a"), "output": "Utforsk.html"}], "'Utforsk.html' is reserved for the atlas"),
        ([{**entry("a"), "output": "assets/a.html"}], "assets/ is reserved for the pages' own files"),
        ([{**entry("a"), "output": "javascript:alert(1).html"}], "field 'output' must be a file name"),
        ([{**entry("a"), "output": ".hidden.html"}], "field 'output' must be a file name"),
    ],
)
def test_load_reportsets_names_file_entry_and_field(project: Path, entries: object, message: str) -> None:
    path = project / "reports.yml"
    path.write_text(yaml.safe_dump(entries), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        reportsets.load_reportsets()
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_invalid_yaml_and_missing_file(project: Path) -> None:
    with pytest.raises(InputError, match="parameter-set file not found"):
        reportsets.load_reportsets()
    (project / "reports.yml").write_text("- name: [unclosed\n", encoding="utf-8")
    with pytest.raises(InputError, match="not valid YAML"):
        reportsets.load_reportsets()
    # a tag that would build a Python object is refused, not run
    (project / "reports.yml").write_text("- !!python/object/apply:os.system ['echo x']\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"not valid YAML.*python/object"):
        reportsets.load_reportsets()


def test_years_ad_hoc_sets_and_every_kommune(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # this table has no indicators: the size rule (tested on the snapshot in test_analysis_snapshot) finds none
    monkeypatch.setattr(reportsets, "kommuner_without_size", lambda *args: [])
    assert reportsets.parse_years("2012-2013") == [2012, 2013]
    assert reportsets.parse_years("2012-2014") == [2012, 2014]
    assert reportsets.parse_years("2012") == [2012, 2012]
    for text in ("soon", "2012,2014", "2014-2012", "２０１２", "12-14"):
        with pytest.raises(InputError, match=f"--after {text!r}: "):
            reportsets.parse_years(text, "--after")
    adhoc = reportsets.before_after_set("3203", [2012, 2013], [2015, 2016])
    assert adhoc.name == "kommune_3203_2012-2013_2015-2016_2024_matched"
    assert adhoc.notebook == reportsets.BEFORE_AFTER_NOTEBOOK
    assert adhoc.parameters == {"kommune": "3203", "structure": "2024", "before": [2012, 2013],
                                "after": [2015, 2016], "comparison": "matched"}
    with pytest.raises(InputError, match="4-digit"):
        reportsets.before_after_set("32", [2012], [2015])
    with pytest.raises(InputError, match="4-digit"):
        reportsets.before_after_set("３２０３", [2012], [2015])  # fullwidth digits

    with pytest.raises(InputError, match="python -m helpers build"):
        reportsets.kommuner()
    processed = project / "data" / "processed"
    processed.mkdir(parents=True)
    pl.DataFrame({
        "kommunenr": ["3203", "0301", "3203", "0220", "1580", "1580"],
        "structure": ["2024", "2024", "2024", "as_reported", "2024", "2024"],
        "year": [2018, 2018, 2022, 2018, 2018, 2024],
        "value": [1.0, 2.0, 3.0, 4.0, None, 5.0],
    }).write_parquet(processed / "indicators.parquet")
    sets, left_out = reportsets.every_kommune_sets([2018, 2019], [2021, 2022])
    assert [s.parameters["kommune"] for s in sets] == ["3203"]
    assert all("detailed" not in s.parameters for s in sets)  # the detailed report, charts and all
    assert left_out == {"0301": "tall bare for 2018–2018", "1580": "tall bare for 2024–2024"}
    compact, _ = reportsets.every_kommune_sets([2018, 2019], [2021, 2022], detailed=False)
    assert [s.parameters["detailed"] for s in compact] == [False] and compact[0].name.endswith("_kort")
    args = cli._parser().parse_args(["report", "--every-kommune", "--compact", "--before", "2018-2019"])
    assert [s.name for s in cli._selected_sets(args)] == [s.name for s in compact]


def test_ad_hoc_names_tell_every_choice_apart() -> None:
    years = ([2012, 2013], [2015, 2016])
    variants = [
        reportsets.before_after_set("3203", *years),
        reportsets.before_after_set("3203", [2012, 2012], [2015, 2016]),
        reportsets.before_after_set("3203", *years, structure="as_reported"),
        reportsets.before_after_set("3203", *years, comparison="naboer"),
        reportsets.before_after_set("3203", *years, comparison=["3201", "3024"]),
        reportsets.before_after_set("3203", *years, comparison=["3201", "3024", "3025", "0301", "1103"]),
        reportsets.before_after_set("3203", *years, detailed=False),
    ]
    names = [variant.name for variant in variants]
    assert len(set(names)) == len(names) and all(reportsets.NAME_PATTERN.match(name) for name in names)
    assert names[1] == "kommune_3203_2012_2015-2016_2024_matched"
    assert names[4] == "kommune_3203_2012-2013_2015-2016_2024_k3024-3201"
    assert names[6].endswith("_kort")
    same_group = reportsets.before_after_set("3203", *years, comparison=["3024", "3201"])
    assert same_group.name == names[4] and same_group.parameters["comparison"] == ["3024", "3201"]


def test_the_command_line_takes_any_window_and_a_list_of_codes(project: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    args = cli._parser().parse_args(["report", "--kommune", "3203", "--before", "2012-2014", "--after", "2016",
                                     "--comparison", "3201,3024, 3025"])
    (report,) = cli._selected_sets(args)
    assert report.parameters["before"] == [2012, 2014] and report.parameters["after"] == [2016, 2016]
    assert report.parameters["comparison"] == ["3201", "3024", "3025"]
    # ... and the notebook's own check takes what the command line made (it wanted exactly two years).
    from helpers.reports.parameters import check_years

    assert check_years(report.parameters["before"], "before") == (2012, 2014)
    assert check_years(report.parameters["after"], "after") == (2016, 2016)
    for option, value, reason in [("--before", "2012,2014", "expected one year or a window FIRST-LAST"),
                                  ("--comparison", "3201;3024", "comma-separated four-digit kommune codes")]:
        assert cli.main(["report", "--kommune", "3203", option, value]) == 2
        err = capsys.readouterr().err
        assert reason in err and err.count("\n") == 1


def test_cli_errors_are_one_line_with_exit_code_2(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_sets(project, [entry("a")])
    assert cli.main(["report", "--name", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("omsorgskapasitet: unknown report name(s) ['nope']")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert cli.main(["report", "--kommune", "3203", "--before", "2016-2017", "--after", "2015-2016"]) == 2
    assert "must lie before" in capsys.readouterr().err
    assert cli.main(["report", "--all", "--before", "2012-2013"]) == 2
    assert "go with --kommune" in capsys.readouterr().err


def test_cli_list_shows_sets_and_status(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_sets(project, [entry("a", value=3)])
    assert cli.main(["list"]) == 0
    expected = "a: notebooks/simple.ipynb -> reports/a.html [never run] value=3"
    assert capsys.readouterr().out.strip() == expected


# ---------------------------------------------------------------- running


@pytest.mark.notebook
def test_a_failing_notebook_does_not_stop_the_batch(project: Path, capsys: pytest.CaptureFixture) -> None:
    write_sets(project, [entry("fails", "fails"), entry("ok", value=21)])
    assert cli.main(["report", "--all", "--workers", "2"]) == 1
    out = capsys.readouterr().out
    assert "1 ok, 1 failed, 0 skipped" in out
    assert "failed: fails: ValueError: tilsiktet feil 1" in out
    reports = project / "reports"
    assert (reports / "ok.html").exists() and not (reports / "fails.html").exists()
    assert "verdi 42 for 0301" in (reports / "ok.html").read_text(encoding="utf-8")
    # The kernel talked over IPC sockets, not TCP ports (no port races between parallel runs).
    assert "transport ipc" in (reports / "ok.html").read_text(encoding="utf-8")
    assert json.loads((reports / ".state" / "fails.json").read_text())["status"] == "failed"
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert '<a href="ok.html">ok</a>' in index
    assert "feilet" in index and "tilsiktet feil" in index


@pytest.mark.notebook
def test_unchanged_runs_are_skipped_until_something_changes(project: Path, pool, monkeypatch) -> None:
    # helpers' own source is part of the fingerprint; pin it so edits elsewhere in the tree don't interfere.
    monkeypatch.setattr(runner, "helpers_digest", lambda: "pinned")
    write_sets(project, [entry("a", value=1)])
    sets = reportsets.load_reportsets()
    reports = project / "reports"
    first = runner.run_batch(sets, executor=pool)
    assert [r.status for r in first] == ["ok"]
    html = (reports / "a.html").read_bytes()
    assert [r.status for r in runner.run_batch(sets, executor=pool)] == ["skipped"]

    def must_run(changed: list[reportsets.ReportSet]) -> bool:
        return bool(runner.plan(changed, project, reports).jobs)

    assert not must_run(sets)
    assert must_run([reportsets.ReportSet("a", "notebooks/simple.ipynb", "a.html", {"value": 2})])
    raw = project / "data" / "raw"
    manifest = (raw / "MANIFEST.csv").read_text()
    add_raw_file(project, "extra.csv", b"a,b\n1,2\n")
    assert must_run(sets)
    (raw / "extra.csv").unlink()
    (raw / "MANIFEST.csv").write_text(manifest)
    notebook = project / "notebooks" / "simple.ipynb"
    notebook.write_bytes(notebook.read_bytes() + b"\n")
    assert must_run(sets)
    notebook.write_bytes(notebook.read_bytes()[:-1])
    assert not must_run(sets)
    (reports / "a.html").unlink()
    assert must_run(sets)
    (reports / "a.html").write_bytes(html)

    forced = runner.run_batch(sets, executor=pool, force=True)
    assert [r.status for r in forced] == ["ok"]
    # Same inputs and SOURCE_DATE_EPOCH: the rerun writes the same bytes.
    assert (reports / "a.html").read_bytes() == html


def test_the_footer_lists_the_verified_raw_files_and_a_damaged_one_stops_the_batch(project: Path) -> None:
    digest = add_raw_file(project, "tall.csv", b"kommunenr,verdi\n3203,1\n")
    sets = [reportsets.ReportSet("a", "notebooks/simple.ipynb", "a.html", {"value": 1})]
    reports = project / "reports"
    inputs = runner.plan(sets, project, reports).jobs[0].context.inputs
    assert inputs["data/raw/tall.csv"] == digest
    assert not any(name.endswith("MANIFEST.csv") for name in inputs)
    (project / "data" / "raw" / "tall.csv").write_bytes(b"kommunenr,verdi\n3203,2\n")
    with pytest.raises(DataError, match=r"tall.csv: sha256 .* differs"):
        runner.plan(sets, project, reports)


def test_versions_change_the_fingerprint() -> None:
    report = reportsets.ReportSet("a", "notebooks/a.ipynb", "a.html", {"x": 1})
    versions = runner.package_versions()
    base = runner.fingerprint(report, "nb", {"f": "1"}, versions, "code", False)
    assert base == runner.fingerprint(report, "nb", {"f": "1"}, dict(versions), "code", False)
    assert base != runner.fingerprint(report, "nb", {"f": "1"}, {**versions, "polars": "0.0"}, "code", False)
    assert base != runner.fingerprint(report, "nb", {"f": "1"}, versions, "code", True)


@pytest.mark.notebook
def test_a_dead_kernel_is_retried_once_and_a_slow_run_times_out(project: Path, pool) -> None:
    marker = project / "died-once"
    sets = [
        reportsets.ReportSet("dies", "notebooks/dies_once.ipynb", "dies.html", {"marker": str(marker)}),
        reportsets.ReportSet("sleeps", "notebooks/sleeps.ipynb", "sleeps.html", {"seconds": 60}),
    ]
    dies, sleeps = runner.run_batch(sets, executor=pool, timeout=6)
    assert marker.exists()
    assert (dies.status, dies.attempts) == ("ok", 2)
    assert (sleeps.status, sleeps.attempts) == ("failed", 1)
    assert "timed out after 6 s" in sleeps.error
    assert sleeps.seconds < 20


@pytest.mark.notebook
def test_with_one_worker_the_main_process_writes_the_pages_and_they_are_the_same(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_sets(project, [entry("a", value=1), entry("b", value=2)])
    sets = reportsets.load_reportsets()
    written: list[str] = []  # pages written by this (the main) process; the workers are other processes
    write_page = runner.export.write_page
    monkeypatch.setattr(runner.export, "write_page", lambda path, page: (written.append(Path(path).name),
                                                                         write_page(path, page))[1])
    two = runner.run_batch(sets, reports_dir=project / "two", workers=2)
    assert [r.status for r in two] == ["ok", "ok"] and written == ["index.html"]
    written.clear()
    one = runner.run_batch(sets, reports_dir=project / "one", workers=1)
    assert [r.status for r in one] == ["ok", "ok"] and sorted(written) == ["a.html", "b.html", "index.html"]
    assert all(r.export_seconds > 0 and r.seconds >= r.execute_seconds + r.export_seconds for r in one)
    for name in ("a.html", "b.html"):
        assert (project / "one" / name).read_bytes() == (project / "two" / name).read_bytes()


@pytest.mark.notebook
def test_an_exporter_that_cannot_start_in_the_main_process_fails_each_page_not_the_batch(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("template missing")

    monkeypatch.setattr(runner.export, "ready_exporter", broken)
    monkeypatch.setattr(runner.export, "export_html", broken)
    results = runner.run_batch([reportsets.ReportSet("a", "notebooks/simple.ipynb", "a.html", {"value": 1})],
                               workers=1)
    assert [r.status for r in results] == ["failed"]
    assert "writing the page from" in results[0].error and "RuntimeError: template missing" in results[0].error
    assert not (project / "reports" / "a.html").exists() and (project / "reports" / "index.html").exists()


def test_a_page_left_to_the_main_process_fails_its_run_when_the_executed_notebook_is_damaged(
        tmp_path: Path) -> None:
    executed = tmp_path / "a.ipynb"
    executed.write_text("{not json", encoding="utf-8")
    job = runner.RunJob(name="a", notebook="n.ipynb", parameters={}, html_path=str(tmp_path / "a.html"),
                        executed_path=str(executed), cwd=str(tmp_path),
                        context=runner.export.ReportContext(name="a", notebook="n.ipynb"), page=False)
    result = runner.finish_page(job, runner.RunResult("a", "ok", seconds=1.0))
    assert result.status == "failed" and f"writing the page from {executed}: NotJSONError" in result.error
    assert not (tmp_path / "a.html").exists()
    assert runner.finish_page(job, runner.RunResult("b", "failed", error="x")).error == "x"  # nothing to write


def test_a_declined_import_fails_inside_the_block_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from helpers.reports import worker

    (tmp_path / "oms_probe_module.py").write_text("VALUE = 1\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    with worker._declined(("oms_probe_module", "json")):
        with pytest.raises(ImportError):
            import oms_probe_module
        import json as again  # already imported: not declined

        assert again is json
    import oms_probe_module

    assert oms_probe_module.VALUE == 1
    monkeypatch.delitem(sys.modules, "oms_probe_module")


def test_a_warm_worker_has_not_imported_pyarrow_which_papermill_offers_and_reports_never_use() -> None:
    code = ("import sys; from helpers.reports import runner, worker; "
            "worker.warm_worker(None, runner.NOTEBOOK_MODULES); import papermill.iorw; "
            "print(sorted(m for m in sys.modules if m.startswith('pyarrow')), 'papermill.engines' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["[]", "True"]


def test_summary_table() -> None:
    results = [runner.RunResult("long_name", "ok", 1.25), runner.RunResult("b", "failed", 0.5, error="boom"),
               runner.RunResult("c", "skipped")]
    assert runner.summary_table(results).splitlines() == [
        "name       status   seconds",
        "long_name  ok           1.2",
        "b          failed       0.5",
        "c          skipped      0.0",
        "1 ok, 1 failed, 1 skipped",
        "failed: b: boom",
    ]


def test_progress_is_quiet_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    assert runner.quiet_by_default()


@pytest.mark.notebook
def test_a_dask_cluster_renders_the_same_bytes_as_the_pool(project: Path) -> None:
    """The Dask path (the answer for users who outgrow one machine) runs in CI: `make test` installs the
    extra, and two reports rendered on a LocalCluster are byte for byte the pool's."""
    import distributed

    write_sets(project, [entry("a", value=4), entry("b", "charts", kommune="3203")])
    sets = reportsets.load_reportsets()
    pool_results = runner.run_batch(sets, workers=2, force=True)
    assert [r.status for r in pool_results] == ["ok", "ok"]
    pages = {name: (project / "reports" / f"{name}.html").read_bytes() for name in ("a", "b")}
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        results = runner.run_batch(sets, executor=client.get_executor(), force=True)
    assert [(r.status, r.error) for r in results] == [("ok", ""), ("ok", "")]
    assert {name: (project / "reports" / f"{name}.html").read_bytes() for name in ("a", "b")} == pages
    assert "verdi 8 for 0301" in pages["a"].decode("utf-8")
