"""HTTP for the live fetch (helpers.sources.ssb): a rate limit, bounded retries, deadlines, a size cap, and errors that
name what was asked for.

- `RateLimiter`: at most `max_calls` calls in any `window` seconds.
- `Http.call`: 429/5xx/network errors retried with exponential backoff (Retry-After honoured, at most
  `MAX_TRIES` tries), 4xx turned into `FetchError`, a truncated or invalid body retried once.
- `Budget`, shared by the calls of one fetch: each call must be complete within `REQUEST_DEADLINE` seconds
  however slowly its bytes come (httpx's timeout only bounds the pause between two pieces), the whole fetch
  within `FETCH_DEADLINE`, the waits before retries within `MAX_TOTAL_WAIT` in all, and no response may
  exceed `MAX_RESPONSE_BYTES` (the body is read in pieces, so a huge one never sits in memory).

Clocks and sleeps are injectable, so tests run against a local server without waiting.
"""

from __future__ import annotations

import email.utils
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from helpers.errors import FetchError

log = logging.getLogger("helpers.sources.ssb")

MAX_TRIES = 5
BACKOFF_BASE = 1.0
MAX_WAIT = 300.0
"""Longest single wait SSB may ask for (Retry-After) before the fetch gives up."""
MAX_TOTAL_WAIT = 600.0
"""Longest time one fetch spends waiting before retries, Retry-After included, summed over all calls."""
TIMEOUT = 60.0
"""Seconds to connect, and between two pieces of a response."""
REQUEST_DEADLINE = 300.0
"""Seconds one HTTP call may take in all, however slowly the bytes come."""
FETCH_DEADLINE = 3 * 3600.0
"""Seconds one `fetch` may take in all (SSB's rate limit makes a full fetch take minutes, not hours)."""
MAX_RESPONSE_BYTES = 200 * 1024 * 1024
"""Largest response kept (SSB's answers within its cell limit are a few MB)."""

Clock = Callable[[], float]
Sleep = Callable[[float], None]


def _utcnow() -> datetime:
    return datetime.now(UTC)




class RateLimiter:
    """At most `max_calls` calls in any `window` seconds (sliding window over the times of past calls)."""

    def __init__(self, max_calls: int, window: float, clock: Clock = time.monotonic,
                 sleep: Sleep = time.sleep):
        self.max_calls = max(1, int(max_calls))
        self.window = float(window)
        self._clock = clock
        self._sleep = sleep
        self._calls: deque[float] = deque()

    def acquire(self) -> None:
        """Wait until one more call is allowed, then count it."""
        while True:
            now = self._clock()
            while self._calls and now - self._calls[0] >= self.window:
                self._calls.popleft()
            if len(self._calls) < self.max_calls:
                self._calls.append(now)
                return
            self._sleep(self.window - (now - self._calls[0]))


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - _utcnow()).total_seconds())


def _snippet(content: bytes, limit: int = 400) -> str:
    text = content.decode("utf-8", errors="replace").strip()
    return text if len(text) <= limit else text[:limit] + "…"


@dataclass(frozen=True)
class Request:
    """One HTTP call: method, URL and (for POST) a JSON body."""

    method: str
    url: str
    body: dict[str, Any] | None = None

    @property
    def source(self) -> str:
        """The query as written to the manifest and to error messages."""
        if self.body is None:
            return self.url
        return f"POST {self.url} body={json.dumps(self.body, ensure_ascii=False, separators=(',', ':'))}"


@dataclass
class Budget:
    """What one fetch may spend, shared by all its calls: a deadline on `clock` and the total retry wait."""

    clock: Clock = time.monotonic
    seconds: float = FETCH_DEADLINE
    max_wait: float = MAX_TOTAL_WAIT
    request_seconds: float = REQUEST_DEADLINE
    max_bytes: int = MAX_RESPONSE_BYTES
    waited: float = 0.0
    started: float | None = None

    def left(self) -> float:
        """Seconds left of the fetch's deadline (the clock starts at the first call)."""
        if self.started is None:
            self.started = self.clock()
        return self.seconds - (self.clock() - self.started)


class _TooSlow(Exception):
    """A response did not arrive completely within its deadline (retried like a network error)."""


class Http:
    """httpx calls with a rate limit, bounded retries, deadlines, a size cap, and errors that name what was
    asked for."""

    def __init__(self, client: httpx.Client, limiter: RateLimiter, *, sleep: Sleep = time.sleep,
                 max_tries: int = MAX_TRIES, headers: dict[str, str] | None = None, budget: Budget | None = None):
        self.client = client
        self.limiter = limiter
        self._sleep = sleep
        self.max_tries = max_tries
        self.headers = headers or {}
        self.budget = budget or Budget()

    def _wait(self, what: str, request: Request, attempt: int, retry_after: float | None) -> None:
        delay = BACKOFF_BASE * 2 ** (attempt - 1) if retry_after is None else retry_after
        if delay > MAX_WAIT:
            raise FetchError(f"{what}: SSB asks to wait {delay:.0f} s before retrying {request.source}; "
                             "try again later.")
        budget = self.budget
        if budget.waited + delay > budget.max_wait:
            total = budget.waited + delay
            raise FetchError(f"{what}: waiting {delay:.0f} s more before retrying would make {total:.0f} s of "
                             f"waiting in this fetch, more than its limit of {budget.max_wait:.0f} s (SSB is busy or "
                             f"rate-limiting); try again later. Last request: {request.source}")
        if delay > budget.left():
            raise FetchError(f"{what}: waiting {delay:.0f} s before retrying would pass the fetch's deadline of "
                             f"{budget.seconds:.0f} s; try again later. Last request: {request.source}")
        budget.waited += delay
        self._sleep(delay)

    def _read(self, what: str, request: Request) -> tuple[int, httpx.Headers, bytes]:
        """(status, headers, body) of one call, within the request's and the fetch's deadline and the size cap."""
        budget = self.budget
        seconds = min(budget.request_seconds, budget.left())
        if seconds <= 0:
            raise FetchError(f"{what}: the fetch took longer than its deadline of {budget.seconds:.0f} s; "
                             f"try again later. Next request was: {request.source}")
        deadline = time.monotonic() + seconds
        timeout = httpx.Timeout(min(TIMEOUT, seconds))
        with self.client.stream(request.method, request.url, json=request.body, headers=self.headers,
                                timeout=timeout) as response:
            announced = response.headers.get("Content-Length", "")
            if announced.isdigit() and int(announced) > budget.max_bytes:
                raise self._too_big(what, request, f"announces {int(announced):,} bytes, more")
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > budget.max_bytes:
                    raise self._too_big(what, request, "is larger")
                if time.monotonic() > deadline:
                    raise _TooSlow(f"{size:,} bytes in {seconds:.0f} s, not complete")
                chunks.append(chunk)
            return response.status_code, response.headers, b"".join(chunks)

    def _too_big(self, what: str, request: Request, detail: str) -> FetchError:
        return FetchError(f"{what}: the response {detail} than the limit of {self.budget.max_bytes:,} bytes per "
                          f"response (helpers.sources.ssb_http.MAX_RESPONSE_BYTES); ask for less: {request.source}")

    def call(self, what: str, request: Request, valid: Callable[[Any], bool]) -> tuple[bytes, Any]:
        """Send `request` and return (bytes as received, parsed JSON); FetchError naming `what` otherwise."""
        bad_bodies = 0
        for attempt in range(1, self.max_tries + 1):
            last = attempt == self.max_tries
            self.limiter.acquire()
            try:
                status, headers, content = self._read(what, request)
            except (httpx.TransportError, _TooSlow) as exc:
                if last:
                    raise FetchError(f"{what}: no complete answer after {attempt} tries "
                                     f"({type(exc).__name__}: {exc}) for {request.source}") from exc
                log.warning("%s: %s, retrying", what, exc)
                self._wait(what, request, attempt, None)
                continue
            reason = httpx.codes.get_reason_phrase(status)
            if status == 429 or status >= 500:
                if last:
                    raise FetchError(f"{what}: HTTP {status} after {attempt} tries for {request.source}. "
                                     f"Response: {_snippet(content)}")
                log.warning("%s: HTTP %s, retrying", what, status)
                self._wait(what, request, attempt, _retry_after(headers.get("Retry-After")))
                continue
            if status >= 300:
                raise FetchError(f"{what}: HTTP {status} {reason} for {request.source}. "
                                 f"SSB says: {_snippet(content) or '(empty body)'}")
            try:
                parsed = json.loads(content)
                ok = valid(parsed)
            except ValueError:
                ok = False
            if ok:
                return content, parsed
            bad_bodies += 1
            if bad_bodies > 1 or last:
                raise FetchError(f"{what}: truncated or invalid JSON response ({len(content)} bytes) for "
                                 f"{request.source}. Starts with: {_snippet(content, 120)!r}")
            log.warning("%s: truncated or invalid JSON, retrying once", what)
            self._wait(what, request, attempt, None)
        raise AssertionError("unreachable")  # pragma: no cover
