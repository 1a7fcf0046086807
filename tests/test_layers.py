"""The package's layers: a module imports only from its own layer or the layers below it.

    base      helpers.errors, paths, atomic, processes, yamlfile, file_cache, disk_cache, source_digest,
              group_choices
    sources   helpers.sources   readers of data/raw, the manifest, the SSB/KLASS client, the catalogue, the schema
    table     helpers.table     build, validation, reforms, harmonisation, population, rates, outliers, caveats
    analysis  helpers.analysis  estimation (numbers only)
    present   helpers.present   charts, tables, Norwegian text, number formatting, safe Markdown
    reports   helpers.reports   notebook parameters, parameter sets, runner, export, front page, atlas, lab
    cli       helpers.cli, helpers.__main__

docs/architecture.md draws the same picture with one line per module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from helpers import paths

LAYERS = ("base", "sources", "table", "analysis", "present", "reports", "cli")
BASE = {"errors", "paths", "atomic", "processes", "yamlfile", "file_cache", "disk_cache", "source_digest",
        "group_choices",
        "__init__"}
PACKAGE = paths.ROOT / "src" / "helpers"


def layer_of(module: str) -> str:
    """The layer of a dotted module name under `helpers`."""
    parts = module.split(".")
    if len(parts) == 1:
        return "base"
    if parts[1] in LAYERS:
        return parts[1]
    if parts[1] in ("cli", "__main__"):
        return "cli"
    if parts[1] in BASE:
        return "base"
    raise AssertionError(f"{module}: not in any layer; put it in one of {', '.join(LAYERS[1:-1])}")


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every `helpers` import in a file, including those inside functions."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "helpers":
            if node.module == "helpers":
                found += [(node.lineno, f"helpers.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.split(".")[0] == "helpers"]
    return found


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_module_imports_only_from_its_layer_or_below(path: Path) -> None:
    own = LAYERS.index(layer_of(module_name(path)))
    upward = [f"line {line}: {module} ({layer_of(module)})" for line, module in imports(path)
              if LAYERS.index(layer_of(module)) > own]
    assert upward == [], f"{module_name(path)} ({LAYERS[own]}) imports from a layer above it: {upward}"


def test_every_module_is_in_a_layer_and_small() -> None:
    for path in MODULES:
        layer_of(module_name(path))
        lines = len(path.read_text(encoding="utf-8").splitlines())
        assert lines <= 520, f"{path.relative_to(PACKAGE)} has {lines} lines: split it by job"


def test_the_architecture_document_names_every_module() -> None:
    document = (paths.ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [str(p.relative_to(PACKAGE)) for p in MODULES
               if p.name != "__init__.py" and f"`{p.relative_to(PACKAGE).as_posix()}`" not in document]
    assert missing == [], f"docs/architecture.md lacks a line for {missing}"
