"""Write files so that readers never see half of them: write a temporary file beside, then rename.

Temporary names carry the writer's process id (`.<name>.pid<N>.<random>.tmp`), so that what a killed process
left behind can be told from what a running one is writing: `remove_stale` deletes the former.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from helpers.processes import pid_alive

_OWNER = re.compile(r"^\..+\.pid(\d+)\.")


def temporary_name(name: str) -> str:
    """A hidden name for a temporary `name` of this process: `.<name>.pid<N>.` (a prefix for mkstemp)."""
    return f".{name}.pid{os.getpid()}."


@contextlib.contextmanager
def atomic_path(target: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it onto `target` only if the block succeeds."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=temporary_name(target.name), suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o666 & ~umask)  # mkstemp makes 0600; the result should be readable like any other file
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_bytes(target: Path | str, data: bytes) -> Path:
    """Write `data` to `target` atomically and return the target path."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def atomic_write_text(target: Path | str, text: str, encoding: str = "utf-8") -> Path:
    """Write `text` to `target` atomically and return the target path."""
    return atomic_write_bytes(target, text.encode(encoding))


def remove_stale(folder: Path | str) -> list[Path]:
    """Delete the temporary files and folders in `folder` whose writing process no longer runs; return them."""
    folder = Path(folder)
    removed = []
    for path in sorted(folder.glob(".*")) if folder.is_dir() else []:
        owner = _OWNER.match(path.name)
        if owner is None or pid_alive(int(owner.group(1))):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed
