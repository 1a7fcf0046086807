"""The process-wide settings a notebook may change, put back after it ran (helpers.reports.inprocess).

A notebook run in this process rather than in a fresh kernel shares the process with the next one. What a
notebook can change without touching a module's own variables is saved before it runs and restored after,
failed or not: the working directory, the environment (Polars keeps most of its settings there),
`sys.path`, `sys.argv`, the `__main__` module, the warnings filters and their "shown once" memory (so
that a warning shows in every report, as in a fresh kernel), Polars' `Config`, numpy's print options and
error handling, and Altair's active theme, renderer and data transformer.

Not covered: a notebook that rebinds or mutates a module's globals (`charts.KOMMUNE_COLOR = ...`), starts
threads or installs signal handlers. Such notebooks belong in a fresh kernel (the `kernel` engine); the
project's own report notebooks do none of it, which the byte-identity tests check.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Any


def _altair_registries() -> list[Any]:
    if "altair" not in sys.modules:
        return []
    import altair as alt

    return [alt.theme, alt.renderers, alt.data_transformers]


def _saved_registries() -> list[tuple[Any, str | None, dict[str, Any]]]:
    return [(registry, registry.active, dict(registry.options)) for registry in _altair_registries()]


def _restore_registries(saved: list[tuple[Any, str | None, dict[str, Any]]]) -> None:
    for registry, active, options in saved:
        if (registry.active, dict(registry.options)) != (active, options) and active is not None:
            registry.enable(active, **options)


def _polars_config() -> Callable[[], None]:
    """A function that puts Polars' Config back as it is now (no-op when Polars is not imported)."""
    if "polars" not in sys.modules:
        return lambda: None
    import polars as pl

    saved = pl.Config.save()
    return lambda: pl.Config.load(saved)


def _numpy_options() -> Callable[[], None]:
    if "numpy" not in sys.modules:
        return lambda: None
    import numpy as np

    printing, errors = np.get_printoptions(), np.geterr()

    def restore() -> None:
        np.set_printoptions(**printing)
        np.seterr(**errors)

    return restore


@contextlib.contextmanager
def restored_afterwards() -> Iterator[None]:
    """Run a block (a notebook) and put the process-wide settings back afterwards (see the module doc)."""
    cwd, environ, path, argv = os.getcwd(), dict(os.environ), list(sys.path), list(sys.argv)
    main = sys.modules.get("__main__")
    registries = _saved_registries()
    restore_polars, restore_numpy = _polars_config(), _numpy_options()
    try:
        with warnings.catch_warnings():  # filters back afterwards; entering clears the "already shown" memory
            warnings.onceregistry.clear()  # the registry of the "once" action is not cleared by the above
            yield
    finally:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(environ)
        sys.path[:], sys.argv[:] = path, argv
        if main is not None:
            sys.modules["__main__"] = main
        warnings.onceregistry.clear()
        restore_polars()
        restore_numpy()
        _restore_registries(registries)
