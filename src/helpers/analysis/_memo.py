"""Results derived from a panel, kept while that panel object lives.

Every step of a report (group, changes, sensitivity, ITS, synthetic control) reads the same panel and asks
it the same questions: its check, the kommune names, which kommuner have data in the windows. `per_panel`
answers each question once per panel object and argument tuple. The cache is keyed on the object (a weak
reference: it goes with the panel) and assumes what every analysis here does: a panel is not changed in
place after it is handed in. Frames come back as clones (cheap: the buffers are shared), so a caller
changing its copy in place changes nothing here.
"""

from __future__ import annotations

import functools
import inspect
import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import polars as pl

T = TypeVar("T")
_CACHE: dict[int, tuple[weakref.ref, dict[Hashable, Any]]] = {}
_LOCK = threading.Lock()


def _forget(key: int) -> Callable[[weakref.ref], None]:
    def forget(reference: weakref.ref) -> None:
        with _LOCK:
            if key in _CACHE and _CACHE[key][0] is reference:
                del _CACHE[key]

    return forget


def _entries(panel: pl.DataFrame) -> dict[Hashable, Any]:
    with _LOCK:
        found = _CACHE.get(id(panel))
        if found is None or found[0]() is not panel:
            found = (weakref.ref(panel, _forget(id(panel))), {})
            _CACHE[id(panel)] = found
        return found[1]


def per_panel(function: Callable[..., T]) -> Callable[..., T]:
    """`function(panel, ...)` computed once per panel object and (hashable) arguments, defaults filled in."""
    signature = inspect.signature(function)

    @functools.wraps(function)
    def cached(panel: pl.DataFrame, *args: Hashable, **kwargs: Hashable) -> T:
        bound = signature.bind(panel, *args, **kwargs)
        bound.apply_defaults()
        args = bound.args[1:]
        entries = _entries(panel)
        key = (function.__qualname__, args)
        if key not in entries:
            entries[key] = function(panel, *args)
        value = entries[key]
        return value.clone() if isinstance(value, pl.DataFrame) else value

    return cached
