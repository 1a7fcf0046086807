"""Values read from files, kept per process while the files stay the same (path, size, modification time).

A long-lived report worker reads the same indicator table and KLASS files for every report; reading them
once per process saves the reading and keeps what the loaded objects cache themselves (the reforms' code
look-ups). A file that changes on disk is read again. Callers that hand out mutable values hand out copies
(`read_table` returns a clone of the cached frame).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
_VALUES: dict[tuple[Any, ...], tuple[tuple[Any, ...], Any]] = {}
_LOCK = threading.Lock()


def _stamp(paths: Iterable[Path]) -> tuple[Any, ...]:
    stamp = []
    for path in paths:
        try:
            info = path.stat()
        except OSError:
            stamp.append((str(path), None))
            continue
        stamp.append((str(path), info.st_size, info.st_mtime_ns))
    return tuple(stamp)


def cached(key: tuple[Any, ...], files: Callable[[], Iterable[Path]], read: Callable[[], T]) -> T:
    """`read()`, or the value it gave for `key` while the `files()` it was read from are unchanged."""
    stamp = _stamp(files())
    with _LOCK:
        found = _VALUES.get(key)
    if found is not None and found[0] == stamp:
        return found[1]
    value = read()
    with _LOCK:
        _VALUES[key] = (stamp, value)
    return value


def clear() -> None:
    """Forget every cached value."""
    with _LOCK:
        _VALUES.clear()
