"""Errors meant for people: each names the input that is wrong and what to do about it."""

from __future__ import annotations


class OmsorgError(Exception):
    """Base class for errors whose message is shown to the user as is (no traceback)."""


class InputError(OmsorgError):
    """A parameter or file given by the user is wrong."""


class DataError(OmsorgError):
    """A data file is corrupt, truncated or fails validation."""


class FetchError(OmsorgError):
    """A call to SSB's APIs failed."""


def _render_message_only(self: OmsorgError) -> list[str]:
    """IPython shows this instead of a traceback: one clear line for the reader of a notebook."""
    return [f"{type(self).__name__}: {self}"]


OmsorgError._render_traceback_ = _render_message_only  # type: ignore[attr-defined]
