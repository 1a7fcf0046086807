"""The live path: fetch the catalogue's SSB tables (PxWebApi v2) and KLASS kommune data into a new run folder.

What is fetched is declared in `TABLES` (one `TableQuery` per query, ContentsCodes taken from
`helpers.sources.indicators.CATALOGUE`) and in `fetch_klass` (KLASS 131: changes, the classification and its versions;
optionally the KOSTRA-group correspondence tables listed by those versions). Every response is saved as the
bytes received, next to a `MANIFEST.csv` (columns of `helpers.sources.manifest`).

Run folder and failure policy (all or nothing): a run is written into a hidden staging folder
`<dest_root>/.<stamp>.pid<N>.partial` and renamed to `<dest_root>/<stamp>` (UTC, `YYYYMMDDTHHMMSSZ`, a suffix
`-2`, `-3`... if taken) only after every file and the manifest are complete. If anything fails, the staging
folder is removed, so a run folder either holds a complete fetch or does not exist; a staging folder left by
a killed fetch (its process is gone) is removed by the next one. Nothing outside the new folder is written;
existing files are never overwritten.

Per table: GET `/tables/{id}/metadata` first; the requested codes are expanded (`*`, `?`-wildcards,
`from(x)`, `to(x)`) and intersected with the codes that exist. A ContentsCode that does not exist is an error
(the catalogue is wrong or SSB replaced the table); other missing codes are dropped with a warning (error if
nothing is left). The selection is split, largest dimension first, so that each query stays under SSB's cell
limit; a GET URL longer than `MAX_GET_URL` characters is sent as POST with a JSON body instead.

HTTP behaviour: at most `maxCallsPerTimeWindow` calls per `timeWindow` seconds (read from `/config`;
30 per 60 s if missing), 429/5xx/network errors retried with exponential backoff (Retry-After honoured,
at most `MAX_TRIES` tries), 4xx turned into `FetchError` naming the table and the query, a truncated or
non-JSON body retried once and then reported as `FetchError`. Bounds (a `Budget` shared by the calls of one
fetch): each call must be complete within `REQUEST_DEADLINE` seconds however slowly its bytes come (httpx's
timeout only bounds the pause between two pieces), the whole fetch within `FETCH_DEADLINE`, the waits before
retries within `MAX_TOTAL_WAIT` in all, and no response may exceed `MAX_RESPONSE_BYTES` (the limit is in
the message; the body is read in pieces, so a huge one never sits in memory).

Why not pxwebpy (0.6.0, evaluated and not kept as a dependency): its `Client.call` returns `response.json()`,
so the bytes as received are lost, and we must store exactly those; it retries only 429 (not 5xx, network
errors or truncated bodies), with `time.sleep`/`time.monotonic` hard-wired (no fake clock in tests); it raises
`requests.HTTPError` without the table/query, keeps an in-memory response cache, and fails outright when
`/config` lacks a key instead of using a default. It could be pointed at a local base URL, but the rest would
have to be worked around, so this module is a small httpx client. The splitting rule is the same idea as
pxwebpy's `split_value_codes` (a private function there, hence not imported).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from helpers import paths
from helpers.atomic import atomic_write_bytes, remove_stale, temporary_name
from helpers.errors import FetchError
from helpers.sources.manifest import SSB_LICENCE, sha256_file, write_manifest
from helpers.sources.ssb_http import (  # noqa: F401  (part of this module's interface)
    BACKOFF_BASE,
    FETCH_DEADLINE,
    MAX_RESPONSE_BYTES,
    MAX_TOTAL_WAIT,
    MAX_TRIES,
    MAX_WAIT,
    REQUEST_DEADLINE,
    TIMEOUT,
    Budget,
    Clock,
    Http,
    RateLimiter,
    Request,
    Sleep,
    _retry_after,
)
from helpers.sources.ssb_query import (  # noqa: F401  (part of this module's interface)
    REGION,
    REGION_NAMES,
    TABLE_IDS,
    TABLES,
    Dimension,
    TableQuery,
    _describe,
    _has,
    _is_dataset,
    _is_metadata,
    _is_object,
    _query,
    catalogue_contents,
    expand,
    parse_metadata,
    queries_for,
    region_dimension,
    resolve,
    split_selection,
)

log = logging.getLogger(__name__)

BASE_URL = "https://data.ssb.no/api/pxwebapi/v2"
KLASS_URL = "https://data.ssb.no/api/klass/v1"
LANG = "no"
DEFAULT_MAX_CALLS = 30
DEFAULT_TIME_WINDOW = 60.0
DEFAULT_MAX_CELLS = 800_000
MAX_GET_URL = 2000
KLASS_FROM = "2005-01-01"

Now = Callable[[], datetime]
Row = dict[str, str]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Limits:
    """SSB's limits as announced by `/config` (defaults where it says nothing)."""

    max_calls: int = DEFAULT_MAX_CALLS
    time_window: float = DEFAULT_TIME_WINDOW
    max_cells: int = DEFAULT_MAX_CELLS

    @classmethod
    def from_config(cls, config: Any) -> Limits:
        """Limits from a `/config` response; a missing or non-positive value keeps the default."""
        def pick(key: str, default: float) -> float:
            value = config.get(key) if isinstance(config, dict) else None
            return value if isinstance(value, int | float) and value > 0 else default

        return cls(int(pick("maxCallsPerTimeWindow", DEFAULT_MAX_CALLS)),
                   float(pick("timeWindow", DEFAULT_TIME_WINDOW)),
                   int(pick("maxDataCells", DEFAULT_MAX_CELLS)))


class SsbClient:
    """PxWebApi v2 calls within SSB's limits; `open` reads them from `/config`."""

    def __init__(self, http: Http, base_url: str = BASE_URL, limits: Limits | None = None,
                 max_url: int = MAX_GET_URL):
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.limits = limits or Limits()
        self.max_url = max_url
        self.config: tuple[Request, bytes] | None = None
        self._metadata: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[Request, bytes, Any]] = {}

    @classmethod
    def open(cls, client: httpx.Client, base_url: str = BASE_URL, *, clock: Clock = time.monotonic,
             sleep: Sleep = time.sleep, max_url: int = MAX_GET_URL, budget: Budget | None = None) -> SsbClient:
        """A client whose rate and cell limits come from `/config` (defaults, with a warning, if it fails)."""
        limiter = RateLimiter(DEFAULT_MAX_CALLS, DEFAULT_TIME_WINDOW, clock, sleep)
        ssb = cls(Http(client, limiter, sleep=sleep, budget=budget or Budget(clock)), base_url, max_url=max_url)
        request = Request("GET", f"{ssb.base_url}/config")
        try:
            content, config = ssb.http.call("SSB PxWebApi /config", request, _is_object)
        except FetchError as exc:
            log.warning("%s; using default limits %s", exc, ssb.limits)
            return ssb
        ssb.limits = Limits.from_config(config)
        limiter.max_calls, limiter.window = ssb.limits.max_calls, ssb.limits.time_window
        ssb.config = (request, content)
        return ssb

    def metadata(self, table: str, codelists: tuple[tuple[str, str], ...] = ()) -> tuple[Request, bytes, Any]:
        """GET `/tables/{table}/metadata` (once per table and code lists per client)."""
        key = (table, codelists)
        if key not in self._metadata:
            params = [("lang", LANG), ("outputFormat", "json-stat2")]
            params += [(f"codelist[{dim}]", codelist) for dim, codelist in codelists]
            query = urlencode(params, safe="[]")
            request = Request("GET", f"{self.base_url}/tables/{table}/metadata?{query}")
            content, data = self.http.call(f"SSB table {table} (metadata)", request, _is_metadata)
            self._metadata[key] = (request, content, data)
        return self._metadata[key]

    def data_request(self, query: TableQuery, part: dict[str, list[str]],
                     dims: dict[str, Dimension]) -> Request:
        """GET with valueCodes (`*` where a part takes all values), or POST when the URL would be too long."""
        codelists = dict(query.codelists)
        sent = {dim: ["*"] if len(codes) == len(dims[dim].values) else codes for dim, codes in part.items()}
        params = [("lang", LANG), ("outputFormat", "json-stat2")]
        params += [(f"valueCodes[{dim}]", ",".join(codes)) for dim, codes in sent.items()]
        params += [(f"codelist[{dim}]", codelist) for dim, codelist in codelists.items()]
        url = f"{self.base_url}/tables/{query.table}/data?{urlencode(params, safe='[]*(),?')}"
        if len(url) <= self.max_url:
            return Request("GET", url)
        body = {"selection": [{"variableCode": dim, "valueCodes": codes,
                               **({"codelist": codelists[dim]} if dim in codelists else {})}
                              for dim, codes in sent.items()]}
        url = f"{self.base_url}/tables/{query.table}/data?lang={LANG}&outputFormat=json-stat2"
        return Request("POST", url, body)

    def data(self, query: TableQuery, request: Request) -> bytes:
        """The raw JSON-stat2 bytes of one data request (validated: complete and consistent)."""
        return self.http.call(f"SSB table {query.table} ({query.name})", request, _is_dataset)[0]


# --------------------------------------------------------------------------------------------------------
# Saving
# --------------------------------------------------------------------------------------------------------


class RunFolder:
    """Writes response bytes atomically into one folder and collects their manifest rows."""

    def __init__(self, folder: Path, now: Now = _utcnow):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._now = now

    def save(self, name: str, content: bytes, source: str, tables: str, description: str) -> Row | None:
        """Write `content` to `name` (never over a different file) and return its manifest row.

        Returns None when the same bytes are already there (e.g. one table's metadata used by two queries).
        """
        target = self.folder / name
        if target.exists():
            if target.read_bytes() == content:
                return None
            raise FetchError(f"{target} exists with other content; raw files are never rewritten.")
        atomic_write_bytes(target, content)
        return {"file": name, "source": source, "ssb_tables": tables, "description": description,
                "retrieved": _iso(self._now()), "sha256": sha256_file(target), "licence": SSB_LICENCE}


def _open_client() -> httpx.Client:
    return httpx.Client(timeout=TIMEOUT, follow_redirects=True,
                        headers={"User-Agent": "omsorgskapasitet/0.1 (httpx)"})


def _rows(*rows: Row | None) -> list[Row]:
    return [row for row in rows if row is not None]


def fetch_table(query: TableQuery | str, run_dir: Path, *, client: SsbClient | None = None,
                base_url: str = BASE_URL, clock: Clock = time.monotonic, sleep: Sleep = time.sleep,
                now: Now = _utcnow) -> list[Row]:
    """Fetch one table (a `TableQuery`, or a table id = all its entries in `TABLES`) into `run_dir`.

    Saves the metadata and the data part(s) and returns their manifest rows; writing MANIFEST.csv is left to
    the caller (`fetch` does it). Without `client`, one is opened on `base_url` (reading `/config`).
    """
    queries = queries_for([query]) if isinstance(query, str) else (query,)
    if client is None:
        with _open_client() as http_client:
            ssb = SsbClient.open(http_client, base_url, clock=clock, sleep=sleep)
            return fetch_table(query, run_dir, client=ssb, now=now)
    run = RunFolder(run_dir, now)
    rows: list[Row] = []
    for one in queries:
        request, content, metadata = client.metadata(one.table, one.codelists)
        suffix = "".join(f"_{codelist}" for _, codelist in one.codelists)
        rows += _rows(run.save(f"{one.table}{suffix}_metadata.json", content, request.source, one.table,
                               f"PxWebApi v2 metadata of table {one.table}"))
        dims = parse_metadata(one.table, metadata)
        parts = split_selection(resolve(one, dims), client.limits.max_cells)
        for number, part in enumerate(parts, start=1):
            request = client.data_request(one, part, dims)
            content = client.data(one, request)
            tail = "" if len(parts) == 1 else f"_part{number:02d}of{len(parts):02d}"
            rows += _rows(run.save(f"{one.name}_data{tail}.json", content, request.source, one.table,
                                   f"{one.description}. JSON-stat2, part {number} of {len(parts)}: "
                                   f"{_describe(part)}"))
    return rows


# --------------------------------------------------------------------------------------------------------
# KLASS
# --------------------------------------------------------------------------------------------------------


def _klass_get(http: Http, run: RunFolder, what: str, url: str, name: str, description: str,
               valid: Callable[[Any], bool] = _is_object) -> tuple[Row | None, Any]:
    request = Request("GET", url)
    content, data = http.call(what, request, valid)
    return run.save(name, content, request.source, what, description), data


def _in_range(version: dict[str, Any], date_from: str, date_to: str) -> bool:
    valid_to = version.get("validTo")
    return str(version.get("validFrom", "")) <= date_to and (not valid_to or str(valid_to) > date_from)


def fetch_klass(run_dir: Path, *, klass_url: str = KLASS_URL, date_from: str = KLASS_FROM,
                date_to: str | None = None, kostra_groups: bool = False, http: Http | None = None,
                clock: Clock = time.monotonic, sleep: Sleep = time.sleep, now: Now = _utcnow) -> list[Row]:
    """Fetch KLASS 131 (kommuner) into `run_dir`: changes `date_from`..`date_to`, the classification and each
    version valid in that span; returns manifest rows.

    With `kostra_groups`, also the correspondence tables "KOSTRA - kommunegruppering … - Kommuneinndeling …"
    (KLASS 112 ↔ 131) that those versions list. That endpoint's shape is unverified, so a failure there is
    logged and skipped rather than failing the run.
    """
    if http is None:
        with _open_client() as client:
            limiter = RateLimiter(DEFAULT_MAX_CALLS, DEFAULT_TIME_WINDOW, clock, sleep)
            http = Http(client, limiter, sleep=sleep, headers={"Accept": "application/json"})
            return fetch_klass(run_dir, klass_url=klass_url, date_from=date_from, date_to=date_to,
                               kostra_groups=kostra_groups, http=http, now=now)
    base = klass_url.rstrip("/")
    date_to = date_to or now().astimezone(UTC).date().isoformat()
    run = RunFolder(run_dir, now)
    span = urlencode({"from": date_from, "to": date_to, "language": "nb"})
    changes, _ = _klass_get(http, run, "KLASS 131", f"{base}/classifications/131/changes.json?{span}",
                            "klass131_changes.json", f"Kommune code changes {date_from} to {date_to}",
                            _has("codeChanges"))
    listing, classification = _klass_get(
        http, run, "KLASS 131", f"{base}/classifications/131?language=nb", "klass131_classification.json",
        "Classification 131 (Standard for kommuneinndeling) with its list of versions", _has("versions"))
    rows = _rows(changes, listing)
    correspondences: dict[str, str] = {}
    for version in classification["versions"]:
        if not _in_range(version, date_from, date_to):
            continue
        row, data = _klass_get(http, run, "KLASS 131", f"{base}/versions/{version['id']}?language=nb",
                               f"klass131_version_{version['id']}.json",
                               f"{version.get('name', 'Version')} (valid from {version.get('validFrom')})",
                               _has("classificationItems"))
        rows += _rows(row)
        for table in data.get("correspondenceTables") or []:
            if "KOSTRA" in str(table.get("name", "")).upper() and table.get("id") is not None:
                correspondences[str(table["id"])] = str(table["name"])
    if kostra_groups:
        for table_id, name in correspondences.items():
            try:
                row, _ = _klass_get(http, run, "KLASS 112",
                                    f"{base}/correspondencetables/{table_id}?language=nb",
                                    f"klass112_correspondence_{table_id}.json", name)
            except FetchError as exc:
                log.warning("Optional KOSTRA-group correspondence skipped: %s", exc)
                continue
            rows += _rows(row)
    return rows


# --------------------------------------------------------------------------------------------------------
# One run
# --------------------------------------------------------------------------------------------------------


def _new_run_name(dest_root: Path, stamp: str) -> str:
    name, number = stamp, 1
    while (dest_root / name).exists() or any(dest_root.glob(f".{name}.*partial")):
        number += 1
        name = f"{stamp}-{number}"
    return name


_OLD_STAGING = re.compile(r"^\.\d{8}T\d{6}Z(-\d+)?\.partial$")


def remove_stale_staging(dest_root: Path) -> list[Path]:
    """Delete staging folders of fetches that were killed (their process is gone), and unnamed ones of
    earlier versions; return them."""
    removed = remove_stale(dest_root)
    for folder in dest_root.glob(".*.partial"):
        if _OLD_STAGING.match(folder.name):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    for folder in removed:
        log.warning("Removed %s, left by a fetch that did not finish", folder)
    return removed


def fetch(dest_root: Path = paths.RAW / "ssb" / "live", *, base_url: str = BASE_URL,
          klass_url: str = KLASS_URL, tables: Sequence[str] | None = None, klass: bool = True,
          kostra_groups: bool = False, klass_from: str = KLASS_FROM, clock: Clock = time.monotonic,
          sleep: Sleep = time.sleep, now: Now = _utcnow, max_url: int = MAX_GET_URL,
          budget: Budget | None = None) -> Path:
    """Fetch the tables of `TABLES` (or only `tables`) and KLASS into a new folder `dest_root/<UTC stamp>`.

    Returns the run folder, which holds the responses as received and MANIFEST.csv. All or nothing: on any
    error nothing of the run is left behind (see the module docstring) and the error is raised. `budget`
    bounds the whole fetch (deadline, total waiting, response size; defaults from this module's constants).
    """
    queries = queries_for(tables)
    dest_root = Path(dest_root)
    dest_root.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(dest_root)
    budget = budget or Budget(clock)
    name = _new_run_name(dest_root, now().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ"))
    staging, final = dest_root / (temporary_name(name) + "partial"), dest_root / name
    staging.mkdir()
    try:
        with _open_client() as client:
            ssb = SsbClient.open(client, base_url, clock=clock, sleep=sleep, max_url=max_url, budget=budget)
            run = RunFolder(staging, now)
            rows: list[Row] = []
            if ssb.config is not None:
                request, content = ssb.config
                rows += _rows(run.save("pxwebapi_config.json", content, request.source, "",
                                       f"PxWebApi v2 configuration (limits used: {ssb.limits})"))
            for query in queries:
                rows += fetch_table(query, staging, client=ssb, now=now)
            if klass:
                http = Http(client, RateLimiter(DEFAULT_MAX_CALLS, DEFAULT_TIME_WINDOW, clock, sleep),
                            sleep=sleep, headers={"Accept": "application/json"}, budget=budget)
                rows += fetch_klass(staging, klass_url=klass_url, date_from=klass_from,
                                    kostra_groups=kostra_groups, http=http, now=now)
        write_manifest(staging / "MANIFEST.csv", rows)
        if final.exists():
            raise FetchError(f"{final} appeared while fetching; the run is discarded, try again.")
        os.rename(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.info("Fetched %d files into %s", len(rows), final)
    return final
