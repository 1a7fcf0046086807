"""Process hygiene for long commands: children die with their parent, signals stop work cleanly, and one batch
at a time writes a folder.

- `die_with_parent(pid)`: called first thing in a worker process. On Linux the kernel sends the worker SIGKILL
  when its parent dies (`prctl(PR_SET_PDEATHSIG)`, through ctypes), so a `kill -9` of the main process cannot
  leave workers rendering on with parent 1; elsewhere a daemon thread polls the parent and exits. Jupyter
  kernels started by a worker follow within a second (ipykernel polls its parent, JPY_PARENT_PID), and
  multiprocessing's resource tracker exits when the last process holding its pipe is gone.
- `stop_on_signals()`: SIGTERM and SIGHUP raise `Interrupted` in the main thread, like Ctrl-C raises
  KeyboardInterrupt, so `finally` blocks run and the exit code can be 128 + the signal's number.
- `signals_as_requests()`: for a block that waits on many things (the report batch), signals are counted
  and checked between waits instead of raised wherever the main thread happens to be.
- `exclusive(folder)`: holds `folder/.lock` (an advisory `flock`, released by the kernel even on SIGKILL)
  for a block; a second holder gets `BusyError` naming the first one's process id.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from helpers.errors import OmsorgError

PR_SET_PDEATHSIG = 1
LOCK_FILE = ".lock"


class BusyError(OmsorgError):
    """Another process holds the lock of the folder this command writes."""


class Interrupted(KeyboardInterrupt):
    """SIGINT, SIGTERM or SIGHUP: stop what runs, clean up, exit with 128 + `signum`."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)


def exit_code(exc: BaseException) -> int:
    """128 + the signal's number for an interruption (130 for Ctrl-C)."""
    return 128 + getattr(exc, "signum", signal.SIGINT)


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


def stop_on_signals(signums: tuple[int, ...] = (signal.SIGTERM, signal.SIGHUP)) -> None:
    """Make `signums` raise `Interrupted` in the main thread (no-op elsewhere or where a signal is absent)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in signums:
        with contextlib.suppress(ValueError, OSError):
            signal.signal(signum, _raise_interrupted)


class StopRequests:
    """Signals received while a block runs, counted instead of raised (see `signals_as_requests`)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.count = 0

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.signum = self.signum or signum
        self.count += 1


@contextlib.contextmanager
def signals_as_requests(signums: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
                        ) -> Iterator[StopRequests]:
    """While the block runs, `signums` only set a request that the code checks at safe points: an exception
    raised by a signal handler inside concurrent.futures' waits can leave its locks held (a hang, seen in
    tests). Outside the main thread, nothing changes (signals go to the main thread anyway)."""
    requests = StopRequests()
    if threading.current_thread() is not threading.main_thread():
        yield requests
        return
    previous = {}
    for signum in signums:
        with contextlib.suppress(ValueError, OSError):
            previous[signum] = signal.signal(signum, requests)
    try:
        yield requests
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _watch_parent(parent_pid: int, interval: float = 0.5) -> None:
    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="oms-parent-watch", daemon=True).start()


def die_with_parent(parent_pid: int) -> None:
    """End this process when `parent_pid` (its parent) ends; exit at once if it has ended already."""
    armed = False
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    if not armed:
        _watch_parent(parent_pid)
    if os.getppid() != parent_pid:  # the parent died before the death signal was armed
        os._exit(1)


def parent_death_signal(signum: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A `preexec_fn` for subprocess.Popen that makes the child get `signum` when this process dies (Linux;
    None elsewhere). Only for processes without threads that fork: the function runs between fork and exec."""
    if not sys.platform.startswith("linux"):
        return None

    def arm() -> None:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0)

    return arm


def pid_alive(pid: int) -> bool:
    """True while a process with this id exists (zombies count as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    return True


@contextlib.contextmanager
def exclusive(folder: Path, what: str = "batch") -> Iterator[None]:
    """Hold `folder/.lock` for the block; BusyError naming the holder if another process holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, as before
        yield
        return
    with open(folder / LOCK_FILE, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise BusyError(f"{folder} is being written by another {what} ({holder}); wait for it to finish, "
                            "or write to another folder.") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC\n")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)  # no holder any more
            fcntl.flock(handle, fcntl.LOCK_UN)
