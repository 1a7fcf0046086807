"""A papermill engine that runs a notebook in this (long-lived worker) process, in a fresh namespace.

A fresh Jupyter kernel costs a process start and the imports of polars, altair and helpers in every report;
a worker that already has them can run the next report at once. Papermill still reads, parameterises and
writes the notebook (`papermill.execute_notebook(..., engine_name=ENGINE)`); this engine only replaces the
kernel:
- each notebook gets a new IPython shell with an empty namespace (`__name__ == "__main__"`), execution
  counts from 1, and the kernel's display machinery: outputs are recorded as nbclient records a kernel's
  (display_data, execute_result, stream, error), so the exported page is byte-identical to a kernel's;
- execution stops at the first error, which papermill raises as PapermillExecutionError, as with a kernel;
- the process-wide settings a notebook may change are put back afterwards (helpers.reports.process_state); modules
  stay imported, and what they cache (the indicator table, chart templates) serves the next notebook.
A notebook opts in with `"omsorgskapasitet": {"engine": "inprocess"}` in its metadata
(`helpers.reports.worker.engine_for`); notebooks that need a process of their own (`os._exit`, threads, their own
signal handlers) run in a fresh kernel. One notebook runs at a time per process; helpers.reports.interrupts stops
one from a timer or a signal handler.
"""

from __future__ import annotations

import io
import json
import os
import sys
import threading
from typing import Any

import nbformat
from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell
from papermill.engines import Engine, papermill_engines
from traitlets.config import Config

from helpers.reports.process_state import restored_afterwards

ENGINE = "omsorgskapasitet-inprocess"
_ONE_AT_A_TIME = threading.Lock()  # the shell, sys.stdout, the working directory: one notebook at a time


def _output(output_type: str, **fields: Any) -> Any:
    """An output node as nbclient makes it from a kernel message (without validating each one: papermill
    validates the notebook when it writes it)."""
    return nbformat.from_dict({"output_type": output_type, **fields})


class Outputs:
    """The outputs of the cell being run, as nbformat nodes."""

    def __init__(self) -> None:
        self.cell: Any = None
        self._clear_on_next = False

    def add(self, output: Any) -> None:
        if self._clear_on_next:
            self.cell.outputs.clear()
            self._clear_on_next = False
        self.cell.outputs.append(output)

    def stream(self, name: str, text: str) -> None:
        last = self.cell.outputs[-1] if self.cell.outputs else None
        if last is not None and last.output_type == "stream" and last.name == name and not self._clear_on_next:
            last.text += text
        else:
            self.add(_output("stream", name=name, text=text))

    def clear(self, wait: bool) -> None:
        if wait:
            self._clear_on_next = True
        else:
            self.cell.outputs.clear()


def _json_data(data: dict[str, Any]) -> dict[str, Any]:
    """A display's data as it arrives from a kernel: JSON values (the kernel sends it as JSON)."""
    from jupyter_client.jsonutil import json_default

    return {key: value if isinstance(value, str) else json.loads(json.dumps(value, default=json_default))
            for key, value in data.items()}


class _CapturedStream(io.TextIOBase):
    """sys.stdout / sys.stderr while a cell runs: text becomes stream outputs."""

    def __init__(self, outputs: Outputs, name: str) -> None:
        super().__init__()
        self._outputs, self.name = outputs, name

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if text:
            self._outputs.stream(self.name, text)
        return len(text)

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"


class _Publisher(DisplayPublisher):
    """display(...) → display_data outputs."""

    def publish(self, data: dict[str, Any], metadata: dict[str, Any] | None = None, source: Any = None, *,
                transient: dict[str, Any] | None = None, update: bool = False, **kwargs: Any) -> None:
        self.shell.outputs.add(_output("display_data", data=_json_data(data), metadata=metadata or {}))

    def clear_output(self, wait: bool = False) -> None:
        self.shell.outputs.clear(wait)


class _ResultHook(DisplayHook):
    """A cell's last value → an execute_result output with the cell's execution count."""

    def start_displayhook(self) -> None:
        self._data: dict[str, Any] = {}
        self._metadata: dict[str, Any] = {}

    def write_output_prompt(self) -> None:
        pass

    def write_format_data(self, format_dict: dict[str, Any], md_dict: dict[str, Any] | None = None) -> None:
        self._data, self._metadata = format_dict, md_dict or {}

    def finish_displayhook(self) -> None:
        if self._data:
            self.shell.outputs.add(_output("execute_result", data=_json_data(self._data), metadata=self._metadata,
                                          execution_count=self.shell.execution_count))


class ReportShell(InteractiveShell):
    """An IPython shell whose outputs go to the running cell's outputs instead of the terminal."""

    displayhook_class = _ResultHook
    display_pub_class = _Publisher

    def __init__(self, **kwargs: Any) -> None:
        self.outputs = Outputs()
        super().__init__(**kwargs)

    def _showtraceback(self, etype: type, evalue: BaseException, stb: list[str]) -> None:
        """An error output, as ipykernel sends it."""
        self.outputs.add(_output("error", ename=str(etype.__name__), evalue=str(evalue), traceback=stb))

    def enable_gui(self, gui: str | None = None) -> None:
        pass


def _shell_config() -> Config:
    config = Config()
    config.HistoryManager.enabled = False  # no history database, as a kernel under papermill (in memory)
    config.InteractiveShell.colors = "nocolor"
    config.IPKernelApp = Config()  # libraries asking whether they run in a kernel (polars, tqdm) see one
    return config


def new_shell() -> ReportShell:
    """A fresh shell: empty namespace, execution count 1, cells compiled under the names a kernel gives them
    (ipykernel's compiler: a warning names the cell as in a kernel, /tmp/ipykernel_<pid>/<hash>.py)."""
    from ipykernel.compiler import XCachingCompiler

    ReportShell.clear_instance()
    return ReportShell.instance(config=_shell_config(), compiler_class=XCachingCompiler)


def run_cell(shell: ReportShell, cell: Any) -> bool:
    """Run one code cell, recording its outputs and execution count; True when it raised."""
    cell.outputs = []
    cell.execution_count = shell.execution_count
    shell.outputs.cell = cell
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _CapturedStream(shell.outputs, "stdout"), _CapturedStream(shell.outputs, "stderr")
    try:
        result = shell.run_cell(cell.source, store_history=True, silent=False)
    finally:
        sys.stdout, sys.stderr = streams
    return not result.success


class InProcessEngine(Engine):
    """Papermill engine: every code cell through `run_cell` in a fresh shell, in this process."""

    @classmethod
    def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, env: dict[str, str] | None = None,
                                 **kwargs: Any) -> Any:
        with _ONE_AT_A_TIME, restored_afterwards():
            os.environ.update(env or {})
            shell = new_shell()
            try:
                for index, cell in enumerate(nb_man.nb.cells):
                    nb_man.cell_start(cell, index)
                    failed = cell.cell_type == "code" and run_cell(shell, cell)
                    if failed:
                        nb_man.cell_exception(cell, cell_index=index)
                    nb_man.cell_complete(cell, cell_index=index)
                    if failed:
                        break
            finally:
                ReportShell.clear_instance()
        nb_man.nb.metadata["language_info"] = {"name": "python", "version": sys.version.split()[0],
                                               "mimetype": "text/x-python", "file_extension": ".py",
                                               "pygments_lexer": "ipython3", "codemirror_mode":
                                                   {"name": "ipython", "version": 3},
                                               "nbconvert_exporter": "python"}
        return nb_man.nb


papermill_engines.register(ENGINE, InProcessEngine)
