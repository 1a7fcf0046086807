"""Stopping a notebook that runs in this process (helpers.reports.inprocess): on a timeout or a stop request.

A kernel is stopped by killing its process; a notebook run in the worker itself is stopped by raising
`RunStopped` (a KeyboardInterrupt, so that a notebook's `except Exception` does not swallow it) in the
thread that runs it:
- in a worker's main thread, by sending the process SIGUSR1, whose handler (`install`) raises it; a signal
  also wakes a blocking call such as `time.sleep`;
- in any other thread (a thread pool, a Dask worker), as an asynchronous exception
  (`PyThreadState_SetAsyncExc`), which arrives at the next Python instruction.
`ActiveRun.finish` takes back a stop that has not arrived yet, so that it never hits code after the run.
A notebook stuck inside one long C call stops when that call returns.
"""

from __future__ import annotations

import ctypes
import signal
import threading
from types import FrameType

STOP_SIGNAL = signal.SIGUSR1
_CURRENT: dict[int, ActiveRun] = {}  # thread id -> its run


class RunStopped(KeyboardInterrupt):
    """Raised inside an in-process notebook run to stop it; `reason` is 'timeout' or 'stopped'."""

    def __init__(self, reason: str = "stopped") -> None:
        super().__init__(reason)
        self.reason = reason


def _raise_in_thread(thread: int, exception: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread),
                                               ctypes.py_object(exception) if exception else ctypes.c_void_p())


def _on_stop_signal(signum: int, frame: FrameType | None) -> None:
    run = _CURRENT.get(threading.main_thread().ident or 0)
    if run is not None and run.active and run.reason:
        raise RunStopped(run.reason)


def install() -> None:
    """Let SIGUSR1 stop a run in this process's main thread (call from the main thread, e.g. a pool
    initializer)."""
    signal.signal(STOP_SIGNAL, _on_stop_signal)


class ActiveRun:
    """A notebook running in the current thread, which `stop` (from a timer, a signal handler or another
    thread) interrupts. Use as a context manager around the run."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()
        self.by_signal = (threading.current_thread() is threading.main_thread()
                          and signal.getsignal(STOP_SIGNAL) is _on_stop_signal)
        self.lock = threading.RLock()  # re-entrant: a signal handler may call stop while finish holds it
        self.active = False
        self.reason: str | None = None

    def __enter__(self) -> ActiveRun:
        with self.lock:
            self.active = True
            _CURRENT[self.thread] = self
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()

    def stop(self, reason: str) -> None:
        """Ask the run to stop with RunStopped(reason); nothing when it has ended or was stopped already."""
        with self.lock:
            if not self.active or self.reason:
                return
            self.reason = reason
            if self.by_signal:
                signal.pthread_kill(self.thread, STOP_SIGNAL)
            else:
                _raise_in_thread(self.thread, RunStopped)

    def finish(self) -> None:
        """The run has ended: no stop may arrive after this."""
        with self.lock:
            self.active = False
            if _CURRENT.get(self.thread) is self:
                del _CURRENT[self.thread]
            if self.reason and not self.by_signal:
                _raise_in_thread(self.thread, None)  # a stop not yet delivered is taken back
