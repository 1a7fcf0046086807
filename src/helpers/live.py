"""Locate data fetched live from SSB (`python -m helpers fetch`) for `build --source ssb`."""

from __future__ import annotations

from pathlib import Path

from helpers.errors import InputError


def latest_live_run(raw: Path) -> Path | None:
    """The newest complete fetch folder under `raw/ssb/live/` (one holding a MANIFEST.csv), or None."""
    live = raw / "ssb" / "live"
    runs = sorted(p for p in live.glob("*") if p.is_dir() and (p / "MANIFEST.csv").exists()) if live.exists() else []
    return runs[-1] if runs else None


def require_live_run(raw: Path) -> Path:
    """`raw` if a live fetch exists; InputError telling the user to run `fetch` otherwise."""
    if latest_live_run(raw) is None:
        raise InputError(
            f"source='ssb' needs data fetched from SSB, but {raw / 'ssb' / 'live'} holds no complete fetch. "
            "Run `python -m helpers fetch` (needs network) or use source='snapshot'."
        )
    return raw
