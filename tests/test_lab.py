"""`python -m helpers lab`: kernel registration and a real JupyterLab started headless on a free port.

Jupyter's folders (data, runtime, config, lab settings and workspaces, IPython) point into tmp_path, so the
user's own Jupyter setup is neither read nor changed.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from support import descendants, owned, signal_and_wait, wait_until

from helpers.errors import InputError
from helpers.reports import lab

pytestmark = pytest.mark.slow  # kernels, servers or subprocesses: not in `make test-fast`

TOKEN = "omsorgskapasitet-test-token"
START_TIMEOUT = 60.0


@pytest.fixture
def jupyter_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for variable, folder in (
        ("JUPYTER_DATA_DIR", "data"), ("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTER_CONFIG_DIR", "config"),
        ("JUPYTERLAB_SETTINGS_DIR", "lab-settings"), ("JUPYTERLAB_WORKSPACES_DIR", "lab-workspaces"),
        ("IPYTHONDIR", "ipython"),
    ):
        (tmp_path / folder).mkdir()
        monkeypatch.setenv(variable, str(tmp_path / folder))
    monkeypatch.delenv("JUPYTER_CONFIG_PATH", raising=False)
    monkeypatch.delenv(lab.LANG_ENV, raising=False)
    return tmp_path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(port: int, path: str) -> tuple[int, bytes]:
    headers = {"Authorization": f"token {TOKEN}"}
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_register_kernel_is_idempotent_and_uses_this_interpreter(jupyter_dirs):
    folder = lab.register_kernel()
    assert folder == jupyter_dirs / "data" / "kernels" / lab.KERNEL_NAME
    spec = json.loads((folder / "kernel.json").read_text())
    assert spec["argv"][0] == sys.executable
    assert spec["display_name"] == lab.KERNEL_DISPLAY_NAME
    written = (folder / "kernel.json").stat().st_mtime_ns
    assert lab.register_kernel() == folder
    assert (folder / "kernel.json").stat().st_mtime_ns == written


def test_register_kernel_into_a_prefix(tmp_path):
    folder = lab.register_kernel(prefix=tmp_path / "prefix")
    assert folder == tmp_path / "prefix" / "share" / "jupyter" / "kernels" / lab.KERNEL_NAME
    assert (folder / "kernel.json").exists()


def test_lab_command_and_bad_language():
    command = lab.lab_command(port=1234, open_browser=False, extra_args=["--debug"])
    assert f"--ServerApp.root_dir={lab.paths.NOTEBOOKS}" in command
    assert f"--MappingKernelManager.default_kernel_name={lab.KERNEL_NAME}" in command
    assert "--ServerApp.port=1234" in command and "--no-browser" in command and command[-1] == "--debug"
    with pytest.raises(InputError, match="--lang"):
        lab.start_lab(lang="tlh")
    with pytest.raises(SystemExit):
        lab.main(["--lang", "tlh"])


def test_lab_starts_with_the_kernel_the_notebook_and_bokmaal(jupyter_dirs):
    port = _free_port()
    started = time.monotonic()
    process = lab.launch(
        port, open_browser=False, lang="no", config_folder=jupyter_dirs / "lab-config",
        extra_args=[f"--IdentityProvider.token={TOKEN}", "--ServerApp.ip=127.0.0.1"],
        log=jupyter_dirs / "lab.log",
    )

    def log_tail() -> str:
        return (jupyter_dirs / "lab.log").read_text(errors="replace")[-3000:]

    try:
        status = None
        while time.monotonic() - started < START_TIMEOUT:
            assert process.poll() is None, f"JupyterLab exited with {process.returncode}:\n{log_tail()}"
            try:
                status, body = _get(port, "/api/kernelspecs")
            except OSError:
                status = None
            if status == 200:
                break
            time.sleep(0.25)
        assert status == 200, f"JupyterLab did not answer /api/kernelspecs in time:\n{log_tail()}"
        print(f"\nJupyterLab answered after {time.monotonic() - started:.1f} s")
        specs = json.loads(body)
        assert lab.KERNEL_NAME in specs["kernelspecs"]
        assert specs["default"] == lab.KERNEL_NAME
        assert specs["kernelspecs"][lab.KERNEL_NAME]["spec"]["argv"][0] == sys.executable

        status, body = _get(port, "/api/contents/05_utforsk.ipynb?content=0")
        assert status == 200 and json.loads(body)["type"] == "notebook"
        status, _ = _get(port, "/lab/tree/05_utforsk.ipynb")
        assert status == 200

        status, body = _get(port, "/lab/api/translations")
        assert status == 200 and "no_NO" in json.loads(body)["data"]
        status, body = _get(port, "/lab/api/settings/@jupyterlab/translation-extension:plugin")
        assert status == 200
        assert json.loads(body)["schema"]["properties"]["locale"]["default"] == "no_NO"
    finally:
        lab.stop_process(process)
    assert process.returncode is not None


# ---------------------------------------------------------------- JupyterLab goes when `helpers lab` goes

FAKE_LAB = """
import sys
from helpers.reports import lab
lab.register_kernel = lambda *args, **kwargs: None
lab.lab_command = lambda *args, **kwargs: [sys.executable, "-c", "import time; time.sleep(120)"]
sys.exit(lab.main(["--no-browser"]))
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="follows processes through /proc (Linux)")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGKILL], ids=["term", "hup", "kill"])
def test_jupyterlab_stops_when_helpers_lab_is_stopped(signum: int) -> None:
    """`helpers lab` used to leave JupyterLab running on SIGTERM or SIGHUP (here a stand-in for JupyterLab,
    so the test does not wait for a real server)."""
    command = subprocess.Popen([sys.executable, "-c", FAKE_LAB])
    with owned(command) as children:
        wait_until(lambda: bool(descendants(command.pid)), timeout=30, what="the stand-in JupyterLab")
        children |= descendants(command.pid)
        time.sleep(0.5)  # past start-up, into process.wait()
        signal_and_wait(command, signum, children, timeout=10)
