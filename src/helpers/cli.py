"""Command line: `python -m helpers` (or `omsorgskapasitet`) fetch | build | report | list | atlas | lab.

Every OmsorgError is shown as one line on stderr with exit code 2 (no traceback; a table that belongs to the
message, such as failed validation rows, follows on its own lines); `report` exits 1 when any run failed.
Ctrl-C, SIGTERM and SIGHUP stop a command cleanly with one line and exit code 128 + the signal's number.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

from helpers import paths
from helpers.errors import InputError, OmsorgError
from helpers.processes import exit_code, stop_on_signals
from helpers.reports import reportsets

DEFAULT_BEFORE, DEFAULT_AFTER = "2018-2019", "2021-2022"
REPORTS_FILE_HELP = "parameter sets (default: reports.yml at the project root)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m helpers",
        description="Care capacity in Norwegian kommuner from SSB statistics: data, notebooks, reports.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("fetch", help="refresh data from SSB's live APIs into data/raw/ssb/live/ (network)")

    build = commands.add_parser("build", help="build data/processed/indicators.parquet")
    build.add_argument("--structure-year", type=int, default=2024, help="kommune structure to harmonise to")
    build.add_argument("--source", default="snapshot", help="snapshot (data/raw) or ssb (newest fetch)")

    report = commands.add_parser(
        "report",
        help="render report notebooks to offline HTML in reports/",
        description="Run report notebooks with papermill (in parallel, skipping up-to-date ones) and "
        "export self-contained HTML to reports/, plus reports/index.html.",
    )
    which = report.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="every set in reports.yml")
    which.add_argument("--name", action="append", metavar="NAME", help="the set NAME (repeatable)")
    which.add_argument("--kommune", metavar="NR", help="an ad hoc before/after report for kommune NR")
    which.add_argument("--every-kommune", action="store_true",
                       help="the detailed before/after report for every kommune of --structure")
    report.add_argument("--before", metavar="YEARS",
                        help=f"years before: one year or FIRST-LAST, e.g. 2012 or 2012-2014 (default {DEFAULT_BEFORE})")
    report.add_argument("--after", metavar="YEARS",
                        help=f"years after: one year or FIRST-LAST, e.g. 2016-2017 (default {DEFAULT_AFTER})")
    report.add_argument("--structure", default=reportsets.DEFAULT_STRUCTURE, help="kommune structure (2024)")
    report.add_argument("--comparison", default=reportsets.DEFAULT_COMPARISON,
                        help="comparison group: similar_size, all, naboer, kostragruppe, or kommune codes "
                             "separated by commas, e.g. 3201,3024")
    report.add_argument("--workers", type=int, default=None, help="parallel runs (default: CPU count)")
    report.add_argument("--timeout", type=float, default=None, help="seconds per run, more than 0 (default 900)")
    report.add_argument("--force", action="store_true", help="run even when nothing changed")
    report.add_argument("--static", action="store_true", help="charts as inline SVG, no JavaScript")
    report.add_argument("--compact", action="store_true",
                        help="the short before/after report (no chart per indicator, ITS or synthetic control)")
    report.add_argument("--shared-assets", action="store_true",
                        help="pages load the chart libraries from reports/assets/ (one copy for the site) "
                             "instead of carrying them; the folder works offline as a whole")
    report.add_argument("--engine", choices=("auto", "inprocess", "kernel"), default="auto",
                        help="auto: in the worker for notebooks that ask for it (default), inprocess: every "
                             "notebook in the worker, kernel: a fresh Jupyter kernel for every report")
    report.add_argument("--reports-file", type=Path, default=None, help=REPORTS_FILE_HELP)
    report.add_argument("--dask", metavar="ADDRESS",
                        help="run on a Dask cluster (scheduler address, or 'local'); needs the dask extra")

    listing = commands.add_parser("list", help="list the parameter sets and their last status")
    listing.add_argument("--reports-file", type=Path, default=None, help=REPORTS_FILE_HELP)

    atlas = commands.add_parser("atlas", help="write reports/utforsk.html: map of all kommuner linked to their series")
    atlas.add_argument("--out", type=Path, default=None, help="where to write (default reports/utforsk.html)")

    commands.add_parser("lab", add_help=False,
                        help="start JupyterLab on notebooks/ with the project's kernel (see lab --help)")
    return parser


def cmd_fetch(args: argparse.Namespace) -> int:
    """Fetch the SSB tables and KLASS into a new dated folder."""
    from helpers.sources import ssb

    folder = ssb.fetch()
    print(f"fetched into {folder}")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    """Build the indicator table."""
    from helpers.table import build

    table = build.build_indicators(structure_year=args.structure_year, source=args.source)
    print(f"wrote {paths.indicators_parquet()} ({table.height} rows)")
    return 0


def _years(args: argparse.Namespace) -> tuple[list[int], list[int]]:
    before = reportsets.parse_years(args.before or DEFAULT_BEFORE, "--before")
    after = reportsets.parse_years(args.after or DEFAULT_AFTER, "--after")
    if max(before) >= min(after):
        raise InputError(f"--before {before} must lie before --after {after}.")
    return before, after


def _selected_sets(args: argparse.Namespace) -> list[reportsets.ReportSet]:
    """The parameter sets the report options ask for."""
    if (args.before or args.after or args.compact) and not (args.kommune or args.every_kommune):
        raise InputError("--before/--after/--compact go with --kommune or --every-kommune.")
    comparison = reportsets.parse_comparison(args.comparison)
    if args.kommune:
        return [reportsets.before_after_set(args.kommune, *_years(args), args.structure, comparison,
                                            detailed=not args.compact)]
    if args.every_kommune:
        sets, left_out = reportsets.every_kommune_sets(*_years(args), args.structure, comparison,
                                                       detailed=not args.compact)
        for code, reason in sorted(left_out.items()):
            print(f"skipped kommune {code}: {reason}, outside the chosen years", file=sys.stderr)
        return sets
    sets = reportsets.load_reportsets(args.reports_file)
    return sets if args.all else reportsets.select(sets, args.name)


def _most_sets(args: argparse.Namespace) -> int:
    """How many sets the report options can select at most (known before they are read), or a large number."""
    if args.kommune:
        return 1
    return len(set(args.name)) if args.name else sys.maxsize


def _dask_executor(address: str) -> object:
    """A concurrent.futures executor on a Dask cluster ('local' starts one on this machine)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise InputError("--dask needs the optional extra: pip install -e '.[dask]'.") from exc
    if address == "local":
        cluster = LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1, processes=True)
        return Client(cluster).get_executor()
    return Client(address).get_executor()


def cmd_report(args: argparse.Namespace) -> int:
    """Render the selected reports; print a summary; exit 1 when any failed."""
    from helpers.reports import export, runner

    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers must be at least 1, got {args.workers}.")
    if args.timeout is not None and not 0 < args.timeout <= threading.TIMEOUT_MAX:  # NaN fails too
        raise InputError(f"--timeout must be a positive number of seconds (default {runner.DEFAULT_TIMEOUT:g}), "
                         f"got {args.timeout:g}.")
    export.run_timestamp()  # a bad SOURCE_DATE_EPOCH stops the batch before it starts
    # the workers start importing now, while the sets are read and the batch is planned
    pool = None if args.dask else runner.start_pool(runner.pool_size(args.workers, _most_sets(args)),
                                                    runner.pool_modules([args.engine]))
    try:
        sets = _selected_sets(args)
        executor = _dask_executor(args.dask) if args.dask else None
        results = runner.run_batch(
            sets,
            workers=args.workers,
            executor=executor,  # type: ignore[arg-type]
            force=args.force,
            static=args.static,
            timeout=runner.DEFAULT_TIMEOUT if args.timeout is None else args.timeout,
            engine=args.engine,
            shared_assets=args.shared_assets,
            pool=pool,
        )
    finally:
        if pool is not None:
            runner.dismiss(pool)
    print(runner.summary_table(results))
    if args.all:
        cmd_atlas(argparse.Namespace(out=None))
    print(f"index: {paths.reports_dir() / 'index.html'}")
    return 1 if any(result.status == runner.FAILED for result in results) else 0


def cmd_list(args: argparse.Namespace) -> int:
    """Print the parameter sets of reports.yml with their last recorded status."""
    from helpers.reports import runner

    reports_dir = paths.reports_dir()
    for report in reportsets.load_reportsets(args.reports_file):
        state = runner.read_state(reports_dir, report.name)
        status = state.get("status", "never run")
        parameters = ", ".join(f"{key}={value}" for key, value in report.parameters.items())
        print(f"{report.name}: {report.notebook} -> reports/{report.output} [{status}] {parameters}")
    return 0


def writable_file(option: str, path: Path) -> Path:
    """`path` if a file can be written there (its folder is created); InputError naming `option` otherwise."""
    if path.is_dir():
        raise InputError(f"{option} {path}: is a folder; give a file name such as {path / 'utforsk.html'}.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path.parent):
            pass
    except OSError as exc:
        raise InputError(f"{option} {path}: cannot write there ({exc.strerror or exc}); choose a path in a "
                         "folder you can write to.") from None
    return path


def cmd_atlas(args: argparse.Namespace) -> int:
    """Write the offline atlas page: a map of every kommune linked to the time-series panels."""
    from helpers.reports import atlas

    out = writable_file("--out", args.out or paths.reports_dir() / "utforsk.html")
    out = atlas.render_atlas(out=out)
    print(f"atlas: {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0


def cmd_lab(argv: list[str]) -> int:
    """Start JupyterLab on notebooks/ with the project's kernel (helpers.reports.lab owns its options)."""
    from helpers.reports import lab

    return lab.main(argv)


COMMANDS = {"fetch": cmd_fetch, "build": cmd_build, "report": cmd_report, "list": cmd_list, "atlas": cmd_atlas}


def error_text(exc: BaseException) -> str:
    """`omsorgskapasitet: <first line, whitespace collapsed>`, then any further lines (tables) as they are."""
    first, *rest = str(exc).splitlines() or [""]
    return "\n".join([f"omsorgskapasitet: {' '.join(first.split())}", *(line.rstrip() for line in rest)])


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (2 for a wrong input, 128 + signal number when interrupted)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["lab"]:  # everything after `lab` belongs to helpers.reports.lab's own parser
            return cmd_lab(argv[1:])
        stop_on_signals()  # SIGTERM/SIGHUP stop like Ctrl-C: runs interrupted, nothing half-written
        args = _parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except OmsorgError as exc:
        print(error_text(exc), file=sys.stderr)
        return 2
    except BrokenPipeError:
        return _reader_gone()
    except OSError as exc:  # disk full, permission denied... on a file no check foresaw
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"omsorgskapasitet: {where}{exc.strerror or exc}; check that the disk has room and the path is "
              "writable.", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print(f"omsorgskapasitet: {exc if str(exc).startswith('interrupted') else 'interrupted'}", file=sys.stderr)
        return exit_code(exc)


def _reader_gone() -> int:
    """The reader of standard output went away (`... | head`): nothing more to say to it; exit as a program
    stopped by SIGPIPE does, without a message."""
    with contextlib.suppress(OSError, ValueError):  # later writes and the final flush go nowhere
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 128 + signal.SIGPIPE


def run() -> int:
    """The program's entry point (`python -m helpers`, `omsorgskapasitet`): `main`, then a quick exit. The
    interpreter's last garbage collection would walk every object the command made (0.3 s after a report);
    frozen objects are left to the operating system, which frees the whole process anyway."""
    code = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = _reader_gone()
    gc.freeze()
    return code


if __name__ == "__main__":
    sys.exit(run())
