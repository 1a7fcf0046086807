"""Parameter sets for the report notebooks, read from `reports.yml` at the project root.

The file is a YAML list; each entry names one rendered report:

    - name: asker_2012_2016                       # unique; used for file names (letters, digits, _ . -)
      notebook: notebooks/02_for_etter_kapasitet.ipynb   # relative to the project root
      output: asker_2012_2016.html                 # file name in reports/
      parameters: {kommune: "3203", before: [2012, 2013], after: [2015, 2016]}

Ad hoc sets (`report --kommune ... --before ... --after ...`) and one set per kommune
(`report --every-kommune`) are built here too, for the before/after notebook.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from helpers import paths
from helpers.errors import DataError, InputError
from helpers.yamlfile import read_yaml

if TYPE_CHECKING:  # Polars is imported only where rows are read: the command line starts without it
    import polars as pl

BEFORE_AFTER_NOTEBOOK = "notebooks/02_for_etter_kapasitet.ipynb"
DEFAULT_STRUCTURE = "2024"
DEFAULT_COMPARISON = "matched"
REQUIRED_FIELDS = ("name", "notebook", "output", "parameters")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
OUTPUT_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*\.html$")
RESERVED_OUTPUTS = {"index.html": "the index of reports", "utforsk.html": "the atlas"}
RESERVED_FOLDERS = ("assets",)
YEARS_PATTERN = re.compile(r"([0-9]{4})(?:\s*[-–]\s*([0-9]{4}))?")


@dataclass(frozen=True)
class ReportSet:
    """One report: a notebook, the parameters it runs with and the HTML file it becomes."""

    name: str
    notebook: str
    output: str
    parameters: dict[str, Any] = field(default_factory=dict)

    def notebook_path(self, root: Path | None = None) -> Path:
        """Absolute path of the notebook."""
        return (root or paths.project_root()) / self.notebook


def reports_file(root: Path | None = None) -> Path:
    """The default parameter-set file, `reports.yml` at the project root."""
    return (root or paths.project_root()) / "reports.yml"


def load_reportsets(path: Path | str | None = None, root: Path | None = None) -> list[ReportSet]:
    """Read and validate a parameter-set file; raises InputError naming the file, entry and field."""
    root = root or paths.project_root()
    path = Path(path) if path else reports_file(root)
    data = read_yaml(path, InputError, what="parameter-set file", hint=" (create it, or pass --reports-file)")
    if not isinstance(data, list) or not data:
        raise InputError(f"{path}: expected a non-empty YAML list of report entries, got {data!r:.80}.")
    sets = [_validate_entry(path, root, index, entry) for index, entry in enumerate(data, start=1)]
    _check_unique(path, sets)
    return sets


def _validate_entry(path: Path, root: Path, index: int, entry: object) -> ReportSet:
    """Check one entry of the file and turn it into a ReportSet."""
    where = f"{path}: entry {index}"
    if not isinstance(entry, dict):
        raise InputError(f"{where}: expected a mapping with keys {list(REQUIRED_FIELDS)}, got {entry!r}.")
    if isinstance(entry.get("name"), str):
        where = f"{where} ({entry['name']!r})"
    missing = [key for key in REQUIRED_FIELDS if key not in entry]
    if missing:
        raise InputError(f"{where}: missing field(s) {missing}; every entry needs {list(REQUIRED_FIELDS)}.")
    unknown = sorted(set(entry) - set(REQUIRED_FIELDS))
    if unknown:
        raise InputError(f"{where}: unknown field(s) {unknown}; allowed are {list(REQUIRED_FIELDS)}.")
    name, notebook, output, parameters = (entry[key] for key in REQUIRED_FIELDS)
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise InputError(f"{where}: field 'name' must be letters, digits, '_', '.' or '-', got {name!r}.")
    if not isinstance(notebook, str) or not notebook.endswith(".ipynb"):
        raise InputError(f"{where}: field 'notebook' must be a path ending in .ipynb, got {notebook!r}.")
    if not (root / notebook).is_file():
        raise InputError(f"{where}: field 'notebook': unknown notebook {notebook!r} (no such file).")
    _check_output(where, output)
    if not isinstance(parameters, dict):
        raise InputError(f"{where}: field 'parameters' must be a mapping, got {type(parameters).__name__}.")
    bad_keys = [key for key in parameters if not isinstance(key, str) or not key.isidentifier()]
    if bad_keys:
        raise InputError(f"{where}: field 'parameters': keys must be Python names, got {bad_keys!r}.")
    return ReportSet(name=name, notebook=notebook, output=output, parameters=dict(parameters))


def _check_output(where: str, output: object) -> None:
    """A plain file name in reports/ ending in .html, not one the project writes itself."""
    if isinstance(output, str) and output.replace("\\", "/").split("/")[0].lower() in RESERVED_FOLDERS:
        raise InputError(f"{where}: field 'output' {output!r}: {'/'.join(RESERVED_FOLDERS)}/ is reserved for the "
                         "pages' own files; give a plain file name such as asker.html.")
    if not isinstance(output, str) or not OUTPUT_PATTERN.match(output):
        raise InputError(f"{where}: field 'output' must be a file name (letters, digits, '_', '.', '-') ending "
                         f"in .html, got {output!r}.")
    if output.lower() in RESERVED_OUTPUTS:
        raise InputError(f"{where}: field 'output' {output!r} is reserved for {RESERVED_OUTPUTS[output.lower()]}, "
                         "which the report command writes; choose another name.")


def _check_unique(path: Path, sets: list[ReportSet]) -> None:
    """Names and output files must be unique across the file."""
    for attribute in ("name", "output"):
        seen: dict[str, int] = {}
        for index, report in enumerate(sets, start=1):
            value = getattr(report, attribute)
            key = value.lower()  # a.html and A.html are one file on some systems
            if key in seen:
                raise InputError(
                    f"{path}: entry {index} ({report.name!r}): duplicate {attribute} {value!r} "
                    f"(already used by entry {seen[key]})."
                )
            seen[key] = index


def select(sets: list[ReportSet], names: list[str]) -> list[ReportSet]:
    """The sets with the given names, in the order given; InputError for an unknown name."""
    by_name = {report.name: report for report in sets}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise InputError(f"unknown report name(s) {unknown}; known: {sorted(by_name)} (see reports.yml).")
    return [by_name[name] for name in names]


def parse_years(text: str, option: str = "--before") -> list[int]:
    """`2012-2014` (a window, first and last year included) or `2012` (one year) to [first, last]; InputError
    with the reason otherwise."""
    found = YEARS_PATTERN.fullmatch(text.strip())
    if not found:
        raise InputError(f"{option} {text!r}: expected one year or a window FIRST-LAST of four-digit years, "
                         "such as 2012 or 2012-2014.")
    first, last = int(found.group(1)), int(found.group(2) or found.group(1))
    if not 1900 <= first <= last <= 2100:
        raise InputError(f"{option} {text!r}: the first year must not come after the last, both within 1900-2100.")
    return [first, last]


def parse_comparison(text: str) -> str | list[str]:
    """`--comparison`: a group name (matched, similar_size, all, naboer, kostragruppe) or comma-separated kommune
    codes (`3201,3024,3025`) as a list; InputError for anything else."""
    from helpers.group_choices import GROUP_CHOICES
    from helpers.sources.schema import KOMMUNE_CODE

    value = text.strip()
    names = GROUP_CHOICES
    if value in names:
        return value
    codes = [code.strip() for code in value.split(",")]
    if all(KOMMUNE_CODE.fullmatch(code) for code in codes):
        return list(dict.fromkeys(codes))
    raise InputError(f"--comparison {text!r}: expected one of {', '.join(names)}, or comma-separated four-digit "
                     "kommune codes such as 3201,3024,3025.")


def _comparison_slug(comparison: str | list[str]) -> str:
    """The comparison group as part of a report name: its name, the codes, or their count and a digest."""
    if isinstance(comparison, str):
        return comparison
    codes = sorted(comparison)
    if len(codes) <= 4:
        return "k" + "-".join(codes)
    return f"{len(codes)}k-{hashlib.sha256(','.join(codes).encode()).hexdigest()[:8]}"


def before_after_set(
    kommune: str,
    before: list[int],
    after: list[int],
    structure: str = DEFAULT_STRUCTURE,
    comparison: str | list[str] = DEFAULT_COMPARISON,
    detailed: bool = True,
) -> ReportSet:
    """An ad hoc set of the before/after notebook for one kommune (`detailed=False`: the compact version
    without per-indicator charts, ITS and synthetic control, for national batches). Its name says everything
    that makes it differ from another: kommune, windows, structure, comparison group and the compact form."""
    from helpers.sources.schema import KOMMUNE_CODE

    if not KOMMUNE_CODE.fullmatch(kommune):
        raise InputError(f"--kommune {kommune!r}: expected a 4-digit kommune number such as 3203.")
    if not NAME_PATTERN.match(str(structure)):
        raise InputError(f"--structure {structure!r}: expected as_reported or a year such as 2024.")
    windows = "_".join(str(w[0]) if w[0] == w[-1] else f"{w[0]}-{w[-1]}" for w in (before, after))
    name = f"kommune_{kommune}_{windows}_{structure}_{_comparison_slug(comparison)}{'' if detailed else '_kort'}"
    parameters: dict[str, Any] = {
        "kommune": kommune,
        "structure": structure,
        "before": before,
        "after": after,
        "comparison": comparison,
    }
    if not detailed:
        parameters["detailed"] = False
    return ReportSet(name=name, notebook=BEFORE_AFTER_NOTEBOOK, output=f"{name}.html", parameters=parameters)


def _structure_rows(structure: str, root: Path | None = None) -> pl.DataFrame:
    """The rows of one structure in data/processed/indicators.parquet (read once per plan)."""
    import polars as pl

    from helpers.table.processed import load_indicators

    parquet = paths.indicators_parquet(root)
    rows = load_indicators(parquet, build_if_missing=False).filter(pl.col("structure") == structure)
    if rows.is_empty():
        raise DataError(f"{parquet}: no kommune with structure == {structure!r}.")
    return rows


def kommuner(structure: str = DEFAULT_STRUCTURE, root: Path | None = None) -> list[str]:
    """Distinct kommune numbers of a structure in data/processed/indicators.parquet."""
    return _codes(_structure_rows(structure, root))


def _codes(rows: pl.DataFrame) -> list[str]:
    return sorted(rows["kommunenr"].unique().to_list())


def kommuner_without_data(rows: pl.DataFrame, first: int, last: int) -> dict[str, str]:
    """Kommuner among `rows` whose figures do not reach back to `first` or forward to `last` (e.g. areas split
    by a reform, flagged before it), with their years with data: the report would refuse them."""
    import polars as pl

    spans = (rows.filter(pl.col("value").is_not_null())
             .group_by("kommunenr").agg(pl.col("year").min().alias("first"), pl.col("year").max().alias("last")))
    return {code: f"tall bare for {a}–{b}" for code, a, b in spans.sort("kommunenr").iter_rows()
            if a > first or b < last}


def kommuner_without_size(rows: pl.DataFrame, before: tuple[int, int]) -> list[str]:
    """Kommuner among `rows` without the size measure the comparison groups are matched on, in the last
    before-year (the report would refuse them)."""
    from helpers import analysis

    return analysis.codes_without_size(rows, before)


def every_kommune_sets(
    before: list[int],
    after: list[int],
    structure: str = DEFAULT_STRUCTURE,
    comparison: str | list[str] = DEFAULT_COMPARISON,
    root: Path | None = None,
    detailed: bool = True,
) -> tuple[list[ReportSet], dict[str, str]]:
    """One before/after set (detailed, or compact with `detailed=False`) for every kommune of the target
    structure whose data cover the windows, and the kommuner left out with the reason."""
    rows = _structure_rows(structure, root)
    left_out = kommuner_without_data(rows, before[0], after[-1])
    left_out |= {code: f"ingen innbyggere 80+ eller brukere 80+ i {before[-1]}" for code in
                 kommuner_without_size(rows, (before[0], before[-1])) if code not in left_out}
    sets = [before_after_set(nr, before, after, structure, comparison, detailed=detailed)
            for nr in _codes(rows) if nr not in left_out]
    return sets, left_out


def check_notebooks_exist(sets: list[ReportSet], root: Path | None = None) -> None:
    """InputError when a set's notebook is missing (ad hoc sets are not validated on load)."""
    for report in sets:
        if not report.notebook_path(root).is_file():
            raise InputError(f"report {report.name!r}: notebook {report.notebook!r} not found.")
