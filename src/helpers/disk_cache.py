"""Text kept in the per-user cache folder between processes, named by the sha256 of what it depends on.

`kept(folder, key, make)` returns what `make()` gave an earlier process for the same `key` (JSON-encodable),
else makes it and writes it atomically. A file that cannot be read back (`load` raises ValueError, KeyError or
TypeError) is made again; a cache folder that cannot be written is skipped. Used for the Vega bundle, the
chart templates and vl-convert's SVGs, which take from a tenth of a second to seconds to make.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable
from typing import Any, TypeVar

from helpers import paths
from helpers.atomic import atomic_write_text

T = TypeVar("T")


def _same(text: Any) -> Any:
    return text


def kept(folder: str, key: Any, make: Callable[[], T], *, suffix: str = ".txt",
         dump: Callable[[T], str] = _same, load: Callable[[str], T] = _same) -> T:
    """`make()`, or what it gave before for `key` (stored as `dump(value)`, read back with `load(text)`)."""
    text = json.dumps(key, sort_keys=True, separators=(",", ":"), default=str)
    target = paths.cache_dir() / folder / f"{hashlib.sha256(text.encode('utf-8')).hexdigest()}{suffix}"
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        return load(target.read_text(encoding="utf-8"))
    made = make()
    with contextlib.suppress(OSError):
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(target, dump(made))
    return made
