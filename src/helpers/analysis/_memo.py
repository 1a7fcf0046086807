"""Results derived from a panel, kept while that panel object lives.

Every step of a report (group, changes, sensitivity, ITS, synthetic control) reads the same panel and asks
it the same questions: its check, the kommune names, which kommuner have data in the windows. `per_panel`
answers each question once per panel object and argument tuple. The cache is keyed on the object (a weak
reference: it goes with the panel) and assumes what every analysis here does: a panel is not changed in
place after it is handed in. Frames come back as clones (cheap: the buffers are shared), so a caller
changing its copy in place changes nothing here.

`canonical(panel)` lets the next report of a long-lived worker reuse those answers: it returns the first
panel with the same content this process saw (compared by a digest of every row, in order, and the schema),
which the caller keeps to itself (a report hands its notebook a clone).
"""

from __future__ import annotations

import functools
import inspect
import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import numpy as np
import polars as pl

T = TypeVar("T")
_CACHE: dict[int, tuple[weakref.ref, dict[Hashable, Any]]] = {}
_LOCK = threading.Lock()
_CANONICAL: dict[tuple[Any, ...], pl.DataFrame] = {}
CANONICAL_KEPT = 4


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


def digest(panel: pl.DataFrame) -> tuple[Any, ...]:
    """The schema, the height and two 64-bit sums of the rows' hashes: plain and weighted by position."""
    hashes = panel.hash_rows().to_numpy()
    position = np.arange(1, panel.height + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):  # sums modulo 2**64
        sums = int(hashes.sum(dtype=np.uint64)), int((hashes * position).sum(dtype=np.uint64))
    return tuple(panel.schema.items()), panel.height, sums


def canonical(panel: pl.DataFrame) -> pl.DataFrame:
    """The panel with this content that this process saw first (see the module docstring); the caller must
    not hand it out or change it."""
    key = digest(panel)
    with _LOCK:
        found = _CANONICAL.pop(key, panel)
        _CANONICAL[key] = found  # most recently used last
        while len(_CANONICAL) > CANONICAL_KEPT:
            del _CANONICAL[next(iter(_CANONICAL))]
        return found
