"""`make lab` / `python -m helpers lab`: JupyterLab on notebooks/ with the project's own kernel.

- Registers this interpreter (the project's .venv) as the Jupyter kernel `omsorgskapasitet`
  ("omsorgskapasitet (Python)") in the user's Jupyter data folder; idempotent, and skipped when the
  kernel already points at this interpreter. It is also the default kernel for new notebooks.
- Starts JupyterLab with notebooks/ as its root folder.
- The Norwegian bokmål language pack (jupyterlab-language-pack-no-no) is installed with the project, so
  "Settings → Language → Norsk bokmål (Norge)" is always available. `--lang no` (or the environment
  variable OMSORGSKAPASITET_LAB_LANG=no) makes bokmål the default for this launch only: the override is
  a `labconfig/default_setting_overrides.json` in a temporary Jupyter config folder added to
  JUPYTER_CONFIG_PATH, so nothing in the venv or the user's settings is changed, and a language picked in
  the Settings menu still wins.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from helpers import paths
from helpers.errors import InputError
from helpers.processes import parent_death_signal, stop_on_signals

KERNEL_NAME = "omsorgskapasitet"
KERNEL_DISPLAY_NAME = "omsorgskapasitet (Python)"
LANG_ENV = "OMSORGSKAPASITET_LAB_LANG"
#: --lang values → JupyterLab locale of the installed language pack ("en" = JupyterLab's own English).
LOCALES: dict[str, str] = {"no": "no_NO", "nb": "no_NO", "en": "en"}
TRANSLATION_PLUGIN = "@jupyterlab/translation-extension:plugin"


def kernel_dir(prefix: str | Path | None = None) -> Path:
    """Where `register_kernel` puts the kernelspec: the user's Jupyter data folder (JUPYTER_DATA_DIR is
    honoured) or, with `prefix`, `<prefix>/share/jupyter/kernels`."""
    if prefix is not None:
        return Path(prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME
    from jupyter_client.kernelspec import KernelSpecManager

    return Path(KernelSpecManager().user_kernel_dir) / KERNEL_NAME


def register_kernel(prefix: str | Path | None = None) -> Path:
    """Register this interpreter as the `omsorgskapasitet` kernel (like `python -m ipykernel install --user
    --name omsorgskapasitet`); return the kernelspec folder.

    Idempotent: a kernelspec that already runs this interpreter is left as it is.
    """
    target = kernel_dir(prefix)
    try:
        current = json.loads((target / "kernel.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        current = {}
    wanted = {"argv0": sys.executable, "display_name": KERNEL_DISPLAY_NAME}
    if {"argv0": current.get("argv", [None])[0], "display_name": current.get("display_name")} == wanted:
        return target
    from ipykernel.kernelspec import install

    return Path(install(user=prefix is None, kernel_name=KERNEL_NAME, display_name=KERNEL_DISPLAY_NAME,
                        prefix=None if prefix is None else str(prefix)))


def _locale(lang: str | None) -> str | None:
    """The JupyterLab locale for a --lang value (None: leave JupyterLab's own choice)."""
    if not lang:
        return None
    try:
        return LOCALES[lang.lower()]
    except KeyError:
        raise InputError(f"--lang must be one of {', '.join(LOCALES)}, got {lang!r}.") from None


def language_config(folder: Path, locale: str) -> Path:
    """Write a Jupyter config folder whose labconfig sets JupyterLab's default language; return it."""
    overrides = folder / "labconfig" / "default_setting_overrides.json"
    overrides.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({TRANSLATION_PLUGIN: {"locale": locale}}, indent=2) + "\n"
    overrides.write_text(text, encoding="utf-8")
    return folder


def lab_command(port: int | None = None, open_browser: bool = True,
                extra_args: Sequence[str] = ()) -> list[str]:
    """The command that starts JupyterLab on notebooks/ with the project's kernel as default."""
    command = [
        sys.executable, "-m", "jupyterlab",
        f"--ServerApp.root_dir={paths.NOTEBOOKS}",
        f"--MappingKernelManager.default_kernel_name={KERNEL_NAME}",
    ]
    if port is not None:
        command += [f"--ServerApp.port={port}", "--ServerApp.port_retries=0"]
    if not open_browser:
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers and CI run as root; Jupyter refuses that otherwise
    return [*command, *extra_args]


def launch(
    port: int | None = None,
    open_browser: bool = True,
    *,
    lang: str | None = None,
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    config_folder: Path | None = None,
    log: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Register the kernel and start JupyterLab in the background; the caller waits for or stops it.

    With `lang`, the language override is written into `config_folder` (required then), which must
    outlive the server. With `log`, JupyterLab's output goes to that file instead of the terminal.
    """
    register_kernel()
    child_env = dict(os.environ if env is None else env)
    locale = _locale(lang)
    if locale:
        if config_folder is None:
            raise InputError("launch(lang=...) needs a config_folder for the language override.")
        language_config(config_folder, locale)
        child_env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
            p for p in (str(config_folder), child_env.get("JUPYTER_CONFIG_PATH", "")) if p
        )
    command = lab_command(port, open_browser, extra_args)
    # JupyterLab gets SIGTERM (and stops its kernels) if this process dies, even by SIGKILL (Linux)
    dies_with_us = parent_death_signal(signal.SIGTERM)
    if log is None:
        return subprocess.Popen(command, env=child_env, preexec_fn=dies_with_us)
    with Path(log).open("ab") as output:
        return subprocess.Popen(command, env=child_env, stdout=output, stderr=subprocess.STDOUT,
                                preexec_fn=dies_with_us)


def start_lab(port: int | None = None, open_browser: bool = True, *, lang: str | None = None,
              extra_args: Sequence[str] = ()) -> int:
    """Start JupyterLab and wait until it stops; Ctrl-C, SIGTERM or SIGHUP stop it (terminate, then kill) and
    return its exit code."""
    lang = lang if lang is not None else os.environ.get(LANG_ENV) or None
    _locale(lang)  # reject a bad value before anything starts
    stop_on_signals()  # SIGTERM/SIGHUP raise Interrupted, a KeyboardInterrupt, like Ctrl-C
    with tempfile.TemporaryDirectory(prefix="oms-lab-config-") as folder:
        process = launch(port, open_browser, lang=lang, extra_args=extra_args, config_folder=Path(folder))
        try:
            return process.wait()
        except KeyboardInterrupt:
            return stop_process(process)


def stop_process(process: subprocess.Popen[bytes], timeout: float = 20.0) -> int:
    """Stop a server cleanly: terminate, wait up to `timeout` s, then kill; return its exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)
    return process.returncode


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m helpers lab",
                                     description="Start JupyterLab on notebooks/ with the project's kernel.")
    parser.add_argument("--port", type=int, default=None,
                        help="port (default: JupyterLab's, 8888 or the next free one)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    parser.add_argument("--lang", default=None, choices=sorted(LOCALES),
                        help=f"interface language for this launch: no = norsk bokmål (or set {LANG_ENV})")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m helpers lab [--port N] [--no-browser] [--lang no] [-- jupyter lab options]`."""
    args, rest = _parser().parse_known_args(argv)
    rest = [arg for arg in rest if arg != "--"]
    return start_lab(args.port, not args.no_browser, lang=args.lang, extra_args=rest)


if __name__ == "__main__":
    sys.exit(main())
