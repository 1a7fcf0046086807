"""sha256 over the helpers package's source files: what a report's HTML and a cached chart template depend
on besides data and package versions (a code change re-runs the reports and rebuilds the templates)."""

from __future__ import annotations

import functools
import hashlib

from helpers import paths


def helpers_digest() -> str:
    """sha256 over the helpers package's source, templates and caveats register, as they are now."""
    digest = hashlib.sha256()
    package = paths.package_dir()
    for path in sorted(p for p in package.rglob("*") if p.suffix in (".py", ".yml", ".html")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@functools.cache
def helpers_digest_at_start() -> str:
    """`helpers_digest()` once per process: the code this process imported (it does not reload modules)."""
    return helpers_digest()
