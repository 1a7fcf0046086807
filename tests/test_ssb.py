"""The live path `helpers.sources.ssb` against a local HTTP server serving recorded responses (never the internet)."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from helpers.errors import FetchError, InputError
from helpers.sources import ssb
from helpers.sources.manifest import MANIFEST_COLUMNS, SSB_LICENCE, read_manifest, verify_manifest, verify_raw

FIXTURES = Path(__file__).parent / "fixtures" / "http"
PX = "/api/pxwebapi/v2"
KLASS = "/api/klass/v1"
NOW = datetime(2026, 4, 1, 12, 0, 0, tzinfo=UTC)
STAMP = "20260401T120000Z"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def config(**limits: int) -> bytes:
    data = json.loads(fixture("pxwebapi_config.json"))
    data.update(limits)
    return json.dumps(data).encode()


@dataclass
class Reply:
    """One canned answer; `cut` sends half the body after announcing all of it, then closes; `drip` sends the
    body a byte at a time, `drip` seconds apart; `size` streams that many filler bytes instead of `body`,
    announced (`announce`) or not."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    cut: bool = False
    drip: float = 0.0
    size: int = 0
    announce: bool = True


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    body: dict | None
    at: float


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


class FakeSsb:
    """Routes by path; a route's replies are used in turn, the last one repeatedly."""

    def __init__(self, time_: FakeTime) -> None:
        self.time = time_
        self.routes: dict[str, list[Reply]] = {}
        self.seen: list[Seen] = []
        self.url = ""

    def on(self, path: str, *replies: Reply) -> None:
        self.routes[path] = list(replies)

    def answer(self, method: str, target: str, body: bytes) -> Reply:
        parts = urlsplit(target)
        payload = json.loads(body) if body else None
        self.seen.append(Seen(method, parts.path, dict(parse_qsl(parts.query)), payload, self.time.t))
        replies = self.routes.get(parts.path)
        if not replies:
            return Reply(404, b'{"title": "Not Found", "status": 404}')
        return replies.pop(0) if len(replies) > 1 else replies[0]

    def data_calls(self, table: str = "12209") -> list[Seen]:
        return [seen for seen in self.seen if seen.path == f"{PX}/tables/{table}/data"]

    def standard(self, **limits: int) -> None:
        """Config, 12209 metadata and data, and KLASS 131, all answering 200."""
        self.on(f"{PX}/config", Reply(body=config(**limits)))
        self.on(f"{PX}/tables/12209/metadata", Reply(body=fixture("12209_metadata.json")))
        self.on(f"{PX}/tables/12209/data", Reply(body=fixture("ssb_12209_v2_response.json")))
        self.on(f"{KLASS}/classifications/131/changes.json", Reply(body=fixture("changetables.json")))
        self.on(f"{KLASS}/classifications/131", Reply(body=fixture("klass131_classification.json")))
        self.on(f"{KLASS}/versions/1710", Reply(body=fixture("klass131_version_1710.json")))


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def server(fake_time: FakeTime) -> Iterator[FakeSsb]:
    fake = FakeSsb(fake_time)

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            reply = fake.answer(self.command, self.path, self.rfile.read(length) if length else b"")
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            if reply.announce:
                self.send_header("Content-Length", str(reply.size or len(reply.body)))
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.close_connection = True
            try:
                if reply.size:
                    block = b" " * (1 << 20)
                    for _ in range(reply.size // len(block)):
                        self.wfile.write(block)
                elif reply.drip:
                    for byte in reply.body:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(reply.drip)
                else:
                    self.wfile.write(reply.body[: len(reply.body) // 2] if reply.cut else reply.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up, as it should

        do_GET = do_POST = _serve

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield fake
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def run(server: FakeSsb, fake_time: FakeTime, dest: Path, **kwargs) -> Path:
    options = {"tables": ["12209"], "klass": False, **kwargs}
    return ssb.fetch(dest, base_url=server.url + PX, klass_url=server.url + KLASS, clock=fake_time.clock,
                     sleep=fake_time.sleep, now=lambda: NOW, **options)


def all_files(root: Path) -> dict[str, bytes]:
    files = sorted(path for path in root.rglob("*") if path.is_file())
    return {str(path.relative_to(root)): path.read_bytes() for path in files}


# ---------------------------------------------------------------------------------------------------------
# The declared queries
# ---------------------------------------------------------------------------------------------------------


def test_tables_declared_from_the_catalogue() -> None:
    contents = {query.name: set(query.contents) for query in ssb.TABLES}
    assert contents["12209"] == {"KOShjtj80aarover0001"}
    assert contents["12292"] == {"KOSkjernetotalt0000", "KOSkjerne066aar0000", "KOSkjerne80aarov0000",
                                 "KOSbialthelsum0000", "KOSgjtimerhjsyk0000"}
    assert contents["11645"] == {"Brukere1"}
    assert contents["11924"] == contents["14534"] == {"KOSARBAARSVERKST0000"}
    assert contents["11875"] == {"KOSinstdispplass0000"}
    assert contents["11643"] == {"*"}
    assert contents["07459_alder67pluss"] == contents["07459_i_alt"] == {"Personer1"}
    assert set(ssb.TABLE_IDS) == {"12209", "12292", "11645", "11924", "14534", "11643", "11875", "07459"}
    assert len({query.name for query in ssb.TABLES}) == len(ssb.TABLES)
    assert dict(ssb.queries_for(["11645"])[0].selection)["TenesteType"] == ("21",)
    with pytest.raises(InputError, match="99999"):
        ssb.queries_for(["99999"])


def test_expand_resolve_and_eliminate() -> None:
    assert ssb.expand(["from(2024)"], ["2022", "2023", "2024", "2025"]) == (["2024", "2025"], [])
    assert ssb.expand(["????", "x"], ["0", "03", "0301", "3203"]) == (["0301", "3203"], ["x"])
    metadata = json.loads(fixture("07459_metadata.json"))
    dims = ssb.parse_metadata("07459", metadata)
    total = next(query for query in ssb.TABLES if query.name == "07459_i_alt")
    selection = ssb.resolve(total, dims)
    assert "Alder" not in selection  # eliminated
    assert selection["Region"] == ["0301", "0220", "0627", "0628", "3025", "3101", "3203", "9999"]
    assert selection["Tid"][0] == "2005" and selection["Tid"][-1] == "2026"
    older = next(query for query in ssb.TABLES if query.name == "07459_alder67pluss")
    assert ssb.resolve(older, dims)["Alder"][-2:] == ["104", "105+"]


def test_parse_json_px_metadata_shape() -> None:
    data = {"variables": [{"id": "Region", "type": "GeographicalVariable", "elimination": True,
                           "values": [{"code": "0301", "label": "Oslo"}]},
                          {"id": "Tid", "type": "TimeVariable", "values": [{"code": "2024"}]}]}
    dims = ssb.parse_metadata("x", data)
    assert dims["Region"].elimination and dims["Region"].role == "geo" and dims["Tid"].values == ("2024",)
    assert ssb.region_dimension("x", dims) == "Region"
    with pytest.raises(FetchError, match="no dimensions"):
        ssb.parse_metadata("x", {"dimension": {}})


def test_data_request_with_codelist_as_get_and_post() -> None:
    query = ssb.TableQuery("07459", "t", ("Personer1",), ((ssb.REGION, ("*",)),), "d",
                           codelists=(("Region", "agg_KommSummer"),))
    dims = {"Region": ssb.Dimension("Region", ("K-3203", "K-0301"), True, "geo"),
            "ContentsCode": ssb.Dimension("ContentsCode", ("Personer1",), False)}
    part = {"Region": ["K-3203", "K-0301"], "ContentsCode": ["Personer1"]}
    get = ssb.SsbClient(None, "http://x/v2").data_request(query, part, dims)  # type: ignore[arg-type]
    assert get.method == "GET" and get.body is None
    assert get.url == ("http://x/v2/tables/07459/data?lang=no&outputFormat=json-stat2&valueCodes[Region]=*"
                       "&valueCodes[ContentsCode]=*&codelist[Region]=agg_KommSummer")
    post = ssb.SsbClient(None, "http://x/v2", max_url=50).data_request(query, part, dims)  # type: ignore[arg-type]
    assert post.method == "POST" and post.url.endswith("/tables/07459/data?lang=no&outputFormat=json-stat2")
    assert post.body == {"selection": [
        {"variableCode": "Region", "valueCodes": ["*"], "codelist": "agg_KommSummer"},
        {"variableCode": "ContentsCode", "valueCodes": ["*"]}]}


def test_split_selection_respects_the_limit() -> None:
    selection = {"R": [str(i) for i in range(891)], "C": ["a"], "T": [str(y) for y in range(11)]}
    parts = ssb.split_selection(selection, 2000)
    assert all(math.prod(len(v) for v in part.values()) <= 2000 for part in parts)
    assert [code for part in parts for code in part["R"]] == selection["R"]
    assert len(parts) == 5
    assert ssb.split_selection(selection, 10**6) == [selection]


def test_limits_from_config_and_retry_after() -> None:
    assert ssb.Limits.from_config({"maxDataCells": 1000}) == ssb.Limits(30, 60.0, 1000)
    assert ssb.Limits.from_config({"maxCallsPerTimeWindow": 0, "timeWindow": "x"}) == ssb.Limits()
    assert ssb._retry_after("7") == 7.0
    assert ssb._retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert ssb._retry_after(None) is None


# ---------------------------------------------------------------------------------------------------------
# A whole run
# ---------------------------------------------------------------------------------------------------------


def test_fetch_saves_bytes_and_manifest_in_a_new_folder(server: FakeSsb, fake_time: FakeTime,
                                                        tmp_path: Path) -> None:
    server.standard()
    raw = tmp_path / "data" / "raw"
    (raw / "ssb").mkdir(parents=True)
    (raw / "ssb" / "ssb_12209_v2_response.json").write_bytes(fixture("ssb_12209_v2_response.json"))
    (raw / "MANIFEST.csv").write_text("file,source\n", encoding="utf-8")
    earlier = raw / "ssb" / "live" / STAMP
    earlier.mkdir(parents=True)
    (earlier / "MANIFEST.csv").write_text("an earlier run\n", encoding="utf-8")
    before = all_files(raw)

    folder = run(server, fake_time, raw / "ssb" / "live", klass=True)

    assert folder == raw / "ssb" / "live" / f"{STAMP}-2"
    assert {k: v for k, v in all_files(raw).items() if not k.startswith(f"ssb/live/{STAMP}-2/")} == before
    assert sorted(p.name for p in folder.iterdir()) == sorted([
        "MANIFEST.csv", "pxwebapi_config.json", "12209_metadata.json", "12209_data.json",
        "klass131_changes.json", "klass131_classification.json", "klass131_version_1710.json"])
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]
    assert (folder / "12209_data.json").read_bytes() == fixture("ssb_12209_v2_response.json")
    assert (folder / "klass131_changes.json").read_bytes() == fixture("changetables.json")

    rows = {row["file"]: row for row in read_manifest(folder / "MANIFEST.csv")}
    assert verify_manifest(folder / "MANIFEST.csv") == []
    # The build's own check passes for the new folder: every file it wrote has its manifest row.
    verified = verify_raw(folder)
    assert sorted(verified) == sorted(rows) and verified["12209_data.json"] == rows["12209_data.json"]["sha256"]
    assert rows["12209_data.json"]["sha256"] == sha(fixture("ssb_12209_v2_response.json"))
    assert rows["klass131_version_1710.json"]["sha256"] == sha(fixture("klass131_version_1710.json"))
    assert all(row["licence"] == SSB_LICENCE and row["retrieved"] == "2026-04-01T12:00:00Z"
               for row in rows.values())
    assert set(read_manifest(folder / "MANIFEST.csv")[0]) == set(MANIFEST_COLUMNS)
    source = rows["12209_data.json"]["source"]
    assert source.startswith(server.url + PX + "/tables/12209/data?")
    assert "valueCodes[ContentsCode]=KOShjtj80aarover0001" in source
    assert "valueCodes[KOKkommuneregion0000]=*" in source and "valueCodes[Tid]=*" in source
    assert rows["12209_data.json"]["ssb_tables"] == "12209"
    assert rows["klass131_changes.json"]["ssb_tables"] == "KLASS 131"
    changes = next(s for s in server.seen if s.path.endswith("/changes.json"))
    assert changes.query == {"from": ssb.KLASS_FROM, "to": "2026-04-01", "language": "nb"}
    assert not [s for s in server.seen if s.path.endswith("/versions/9001")]  # ended before KLASS_FROM


def test_missing_contents_code_is_a_clear_error(server: FakeSsb, fake_time: FakeTime, tmp_path: Path) -> None:
    server.standard()
    query = ssb.TableQuery("12209", "12209_bad", ("KOShjtj80aarover0001", "KOSfinnesikke0000"),
                           ((ssb.REGION, ("*",)), ("Tid", ("*",))), "test")
    limiter = ssb.RateLimiter(30, 60, fake_time.clock, fake_time.sleep)
    with httpx.Client() as http_client:
        client = ssb.SsbClient(ssb.Http(http_client, limiter), server.url + PX)
        with pytest.raises(FetchError, match=r"SSB table 12209: ContentsCode \['KOSfinnesikke0000'\]"):
            ssb.fetch_table(query, tmp_path, client=client)
    assert server.data_calls() == []


def test_split_into_parts_under_the_cell_limit(server: FakeSsb, fake_time: FakeTime, tmp_path: Path) -> None:
    server.standard(maxDataCells=2000)
    folder = run(server, fake_time, tmp_path)
    calls = server.data_calls()
    assert len(calls) == 5 and {call.method for call in calls} == {"GET"}
    regions = [code for call in calls for code in call.query["valueCodes[KOKkommuneregion0000]"].split(",")]
    assert len(regions) == len(set(regions)) == 891
    for call in calls:
        cells = math.prod(len(v.split(",")) if v != "*" else 11 for k, v in call.query.items()
                          if k.startswith("valueCodes["))
        assert cells <= 2000
    rows = read_manifest(folder / "MANIFEST.csv")
    assert sorted(r["file"] for r in rows if "_data" in r["file"]) == [
        f"12209_data_part{i:02d}of05.json" for i in range(1, 6)]


def test_long_urls_switch_to_post(server: FakeSsb, fake_time: FakeTime, tmp_path: Path) -> None:
    server.standard(maxDataCells=5000)
    folder = run(server, fake_time, tmp_path)
    calls = server.data_calls()
    assert len(calls) == 2 and {call.method for call in calls} == {"POST"}
    first = {item["variableCode"]: item["valueCodes"] for item in calls[0].body["selection"]}
    assert len(first["KOKkommuneregion0000"]) == 454 and first["Tid"] == ["*"]
    sources = [r["source"] for r in read_manifest(folder / "MANIFEST.csv") if "_data" in r["file"]]
    assert all(s.startswith("POST ") and '"variableCode":"ContentsCode"' in s for s in sources)


def test_rate_limit_from_config(server: FakeSsb, fake_time: FakeTime, tmp_path: Path) -> None:
    server.standard(maxDataCells=2000, maxCallsPerTimeWindow=3, timeWindow=10)
    run(server, fake_time, tmp_path)
    times = [seen.at for seen in server.seen]
    assert len(times) == 7  # config, metadata, 5 data parts
    assert all(later - earlier >= 10 for earlier, later in zip(times, times[3:], strict=False))
    assert times[-1] - times[0] < 30  # it waits, but not more than needed


def test_rate_limiter_counts_calls_per_window(fake_time: FakeTime) -> None:
    limiter = ssb.RateLimiter(2, 60, fake_time.clock, fake_time.sleep)
    stamps = []
    for _ in range(5):
        limiter.acquire()
        stamps.append(fake_time.t)
    assert stamps == [1000, 1000, 1060, 1060, 1120]


# ---------------------------------------------------------------------------------------------------------
# Retries and errors
# ---------------------------------------------------------------------------------------------------------


def test_429_honours_retry_after(server: FakeSsb, fake_time: FakeTime, tmp_path: Path) -> None:
    server.standard()
    server.on(f"{PX}/tables/12209/data", Reply(429, b"Too many requests", {"Retry-After": "7"}),
              Reply(body=fixture("ssb_12209_v2_response.json")))
    folder = run(server, fake_time, tmp_path)
    assert len(server.data_calls()) == 2 and 7.0 in fake_time.sleeps
    assert (folder / "12209_data.json").read_bytes() == fixture("ssb_12209_v2_response.json")


def test_5xx_backs_off_exponentially(server: FakeSsb, fake_time: FakeTime, tmp_path: Path) -> None:
    server.standard()
    good = Reply(body=fixture("ssb_12209_v2_response.json"))
    server.on(f"{PX}/tables/12209/data", Reply(500), Reply(503), good)
    run(server, fake_time, tmp_path)
    assert fake_time.sleeps == [1.0, 2.0]


def test_retries_are_bounded_and_nothing_stays(server: FakeSsb, fake_time: FakeTime, tmp_path: Path) -> None:
    server.standard()
    server.on(f"{PX}/tables/12209/data", Reply(502, b"Bad gateway"))
    with pytest.raises(FetchError, match=r"SSB table 12209 .*HTTP 502 after 5 tries for http://127\.0\.0\.1:\d+"):
        run(server, fake_time, tmp_path)
    assert len(server.data_calls()) == ssb.MAX_TRIES
    assert fake_time.sleeps == [1.0, 2.0, 4.0, 8.0]
    assert list(tmp_path.iterdir()) == []


def test_retry_after_too_long_is_an_error(server: FakeSsb, fake_time: FakeTime, tmp_path: Path) -> None:
    server.standard()
    server.on(f"{PX}/tables/12209/data", Reply(429, headers={"Retry-After": "3600"}))
    with pytest.raises(FetchError, match="asks to wait 3600 s"):
        run(server, fake_time, tmp_path)


@pytest.mark.parametrize(("status", "body", "text"), [
    (404, b"", r"HTTP 404 Not Found for http://.*/tables/12209/data\?lang=no.*valueCodes\[ContentsCode\]"),
    (400, json.dumps({"type": "Parameter error", "title": "Non-existent value", "status": 400,
                      "detail": "Non-existent value KOSx in variable ContentsCode"}).encode(),
     r"HTTP 400 Bad Request for .*/tables/12209/data.*SSB says: .*Non-existent value KOSx"),
    (403, b"Forbidden", r"HTTP 403 Forbidden .*/tables/12209/data"),
])
def test_client_errors_name_table_and_query(server: FakeSsb, fake_time: FakeTime, tmp_path: Path,
                                            status: int, body: bytes, text: str) -> None:
    server.standard()
    server.on(f"{PX}/tables/12209/data", Reply(status, body))
    with pytest.raises(FetchError, match=r"SSB table 12209 \(12209\): " + text):
        run(server, fake_time, tmp_path)
    assert len(server.data_calls()) == 1  # not retried
    assert list(tmp_path.iterdir()) == []


def test_truncated_body_is_retried_once(server: FakeSsb, fake_time: FakeTime, tmp_path: Path) -> None:
    good = fixture("ssb_12209_v2_response.json")
    server.standard()
    server.on(f"{PX}/tables/12209/data", Reply(body=good[:5000]), Reply(body=good))
    folder = run(server, fake_time, tmp_path)
    assert (folder / "12209_data.json").read_bytes() == good

    server.on(f"{PX}/tables/12209/data", Reply(body=good[:5000]))
    with pytest.raises(FetchError, match=r"SSB table 12209 \(12209\): truncated or invalid JSON .*5000 b"):
        run(server, fake_time, tmp_path / "second")
    assert len(server.data_calls()) == 2 + 2


def test_dataset_with_too_few_values_is_rejected(server: FakeSsb, fake_time: FakeTime,
                                                 tmp_path: Path) -> None:
    short = json.loads(fixture("ssb_12209_v2_response.json"))
    short["value"] = short["value"][:-1]
    server.standard()
    server.on(f"{PX}/tables/12209/data", Reply(body=json.dumps(short).encode()))
    with pytest.raises(FetchError, match="truncated or invalid JSON"):
        run(server, fake_time, tmp_path)


def test_connection_cut_mid_body_is_retried(server: FakeSsb, fake_time: FakeTime, tmp_path: Path) -> None:
    good = fixture("ssb_12209_v2_response.json")
    server.standard()
    server.on(f"{PX}/tables/12209/data", Reply(body=good, cut=True), Reply(body=good))
    folder = run(server, fake_time, tmp_path)
    assert (folder / "12209_data.json").read_bytes() == good


def test_config_failure_falls_back_to_defaults(server: FakeSsb, fake_time: FakeTime, tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    server.standard()
    server.on(f"{PX}/config", Reply(404))
    with caplog.at_level(logging.WARNING, logger="helpers.sources.ssb"):
        folder = run(server, fake_time, tmp_path)
    assert "default limits" in caplog.text
    assert not (folder / "pxwebapi_config.json").exists()
    assert (folder / "12209_data.json").exists()


# ---------------------------------------------------------------------------------------------------------
# Atomic saving
# ---------------------------------------------------------------------------------------------------------


def test_failure_in_a_later_part_leaves_only_complete_files(server: FakeSsb, fake_time: FakeTime,
                                                           tmp_path: Path) -> None:
    good = fixture("ssb_12209_v2_response.json")
    server.standard(maxDataCells=2000)
    server.on(f"{PX}/tables/12209/data", Reply(body=good), Reply(body=good), Reply(404))
    with httpx.Client() as client:
        px = ssb.SsbClient.open(client, server.url + PX, clock=fake_time.clock, sleep=fake_time.sleep)
        with pytest.raises(FetchError, match="HTTP 404"):
            ssb.fetch_table("12209", tmp_path / "run", client=px)
    names = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert names == ["12209_data_part01of05.json", "12209_data_part02of05.json", "12209_metadata.json"]
    assert (tmp_path / "run" / "12209_data_part02of05.json").read_bytes() == good

    server.on(f"{PX}/tables/12209/data", Reply(body=good), Reply(body=good), Reply(404))
    with pytest.raises(FetchError, match="HTTP 404"):
        run(server, fake_time, tmp_path / "live")
    assert list((tmp_path / "live").iterdir()) == []  # the whole run folder is removed


def test_save_never_leaves_a_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = ssb.RunFolder(tmp_path)
    row = folder.save("a.json", b"{}", "src", "1", "d")
    assert row is not None and row["sha256"] == sha(b"{}")
    assert folder.save("a.json", b"{}", "src", "1", "d") is None
    with pytest.raises(FetchError, match="never rewritten"):
        folder.save("a.json", b"[]", "src", "1", "d")

    def broken(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("helpers.atomic.os.replace", broken)
    with pytest.raises(OSError, match="disk full"):
        folder.save("b.json", b"{}", "src", "1", "d")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


# ---------------------------------------------------------------------------------------------------------
# KLASS extras and a large table
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("available", [True, False])
def test_kostra_group_correspondence_is_optional(server: FakeSsb, fake_time: FakeTime, tmp_path: Path,
                                                 available: bool) -> None:
    server.standard()
    if available:
        server.on(f"{KLASS}/correspondencetables/1358", Reply(body=b'{"correspondenceMaps": []}'))
    folder = run(server, fake_time, tmp_path, tables=[], klass=True, kostra_groups=True)
    assert (folder / "klass112_correspondence_1358.json").exists() is available
    assert verify_manifest(folder / "MANIFEST.csv") == []


def test_population_is_split_and_selected_by_pattern(server: FakeSsb, fake_time: FakeTime,
                                                     tmp_path: Path) -> None:
    server.standard(maxDataCells=1000)
    server.on(f"{PX}/tables/07459/metadata", Reply(body=fixture("07459_metadata.json")))
    server.on(f"{PX}/tables/07459/data", Reply(body=fixture("ssb_12209_v2_response.json")))
    folder = run(server, fake_time, tmp_path, tables=["07459"])
    calls = server.data_calls("07459")
    per_query = {"alder": [c for c in calls if "valueCodes[Alder]" in c.query],
                 "i_alt": [c for c in calls if "valueCodes[Alder]" not in c.query]}
    assert len(per_query["alder"]) == 20 and len(per_query["i_alt"]) == 1  # Alder in pairs: 8*2*2*22 cells
    assert per_query["i_alt"][0].query["valueCodes[Region]"].split(",")[0] == "0301"
    assert len([s for s in server.seen if s.path.endswith("/07459/metadata")]) == 1
    names = {row["file"] for row in read_manifest(folder / "MANIFEST.csv")}
    assert "07459_metadata.json" in names and "07459_i_alt_data.json" in names


# ---------------------------------------------------------------------------------------------------------
# Bounds: deadlines, size, total waiting, stale staging folders
# ---------------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_drip_fed_answer_is_cut_off_at_the_request_deadline(server: FakeSsb, fake_time: FakeTime,
                                                              tmp_path: Path) -> None:
    """One byte every 0.2 s never trips a per-read timeout; the call's own deadline (1 s here) does."""
    server.standard()
    server.on(f"{PX}/tables/12209/data", Reply(body=fixture("ssb_12209_v2_response.json"), drip=0.2))
    budget = ssb.Budget(fake_time.clock, request_seconds=1.0)
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"no complete answer after 5 tries \(_TooSlow: \d+ bytes in 1 s"):
        run(server, fake_time, tmp_path, budget=budget)
    assert time.monotonic() - started < 5 * 1.0 + 5  # five tries of about a second, not 114 s
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("announce", [True, False], ids=["announced", "streamed"])
def test_a_response_over_the_size_limit_is_refused_with_the_limit(server: FakeSsb, fake_time: FakeTime,
                                                                  tmp_path: Path, announce: bool) -> None:
    server.standard()
    server.on(f"{PX}/tables/12209/data", Reply(size=64 << 20, announce=announce))
    budget = ssb.Budget(fake_time.clock, max_bytes=8 << 20)
    with pytest.raises(FetchError, match=r"the response (announces 67,108,864 bytes, more|is larger) than the "
                                         r"limit of 8,388,608 bytes per response "
                                         r"\(helpers.sources.ssb_http.MAX_RESPONSE_BYTES\)"):
        run(server, fake_time, tmp_path, budget=budget)
    assert len(server.data_calls()) == 1  # not retried: the answer would be as big again
    assert list(tmp_path.iterdir()) == []


def test_retry_after_is_honoured_only_up_to_a_total(server: FakeSsb, fake_time: FakeTime, tmp_path: Path) -> None:
    """`Retry-After: 299` on every answer used to be waited out eight times over (40 minutes)."""
    server.standard()
    server.on(f"{PX}/tables/12209/data", Reply(429, headers={"Retry-After": "299"}))
    with pytest.raises(FetchError, match=r"would make 897 s of waiting in this fetch, more than its limit of 600 s"):
        run(server, fake_time, tmp_path)
    assert fake_time.sleeps == [299.0, 299.0] and sum(fake_time.sleeps) <= ssb.MAX_TOTAL_WAIT
    assert list(tmp_path.iterdir()) == []


def test_the_whole_fetch_has_a_deadline(server: FakeSsb, fake_time: FakeTime, tmp_path: Path) -> None:
    server.standard()
    server.on(f"{PX}/tables/12209/data", Reply(503), Reply(503), Reply(503), Reply(body=b"{}"))
    budget = ssb.Budget(fake_time.clock, seconds=2.5)
    with pytest.raises(FetchError, match=r"would pass the fetch's deadline of 2 s|took longer than its deadline"):
        run(server, fake_time, tmp_path, budget=budget)
    assert sum(fake_time.sleeps) <= 2.5
    assert list(tmp_path.iterdir()) == []


def test_staging_folders_of_killed_fetches_are_removed_by_the_next(server: FakeSsb, fake_time: FakeTime,
                                                                    tmp_path: Path) -> None:
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead = tmp_path / f".20260301T000000Z.pid{gone.stdout.strip()}.partial"  # its process has ended
    older = tmp_path / ".20250101T000000Z.partial"  # the name earlier versions used
    running = tmp_path / f".20260301T000000Z-2.pid{os.getpid()}.partial"  # a fetch running now
    for folder in (dead, older, running):
        folder.mkdir()
        (folder / "12209_data.json").write_text("{")
    server.standard()
    folder = run(server, fake_time, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([folder.name, running.name])
