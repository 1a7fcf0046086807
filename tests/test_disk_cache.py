"""Text kept between processes: made once, read back after, made again when damaged, skipped when unwritable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.disk_cache import kept


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "omsorgskapasitet" / "test"


def test_made_once_then_read_back_and_made_again_when_damaged(cache: Path) -> None:
    calls: list[int] = []

    def make() -> dict[str, int]:
        calls.append(1)
        return {"n": len(calls)}

    def keep(key: object) -> dict[str, int]:
        return kept("test", key, make, suffix=".json", dump=json.dumps, load=lambda text: {"n": json.loads(text)["n"]})

    assert keep(["a", 1]) == {"n": 1} and keep(["a", 1]) == {"n": 1}  # the second from the file
    assert keep(["a", 2]) == {"n": 2}  # another key, another file
    (stored,) = [p for p in cache.iterdir() if p.read_text() == '{"n": 1}']
    stored.write_text("{not json")
    assert keep(["a", 1]) == {"n": 3} and json.loads(stored.read_text()) == {"n": 3}
    assert len(calls) == 3 and sorted(p.suffix for p in cache.iterdir()) == [".json", ".json"]


def test_a_cache_folder_that_cannot_be_written_is_skipped(cache: Path) -> None:
    cache.parent.mkdir(parents=True)
    cache.write_text("a file where the folder should be")
    assert kept("test", "key", lambda: "made") == "made"
    assert kept("test", "key", lambda: "made again") == "made again"
