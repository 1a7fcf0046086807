"""Size of the atlas page (reports/utforsk.html) and its render time in headless Chromium.

Targets (issue 10): one offline file under 5 MB that renders in under 3 s. The page records
`window.atlasRenderMs` from the start of its script to Vega's first complete render; this script loads the
page `RUNS` times in a fresh headless Chromium and prints the size, the median and the slowest render, and
how long the map's TopoJSON takes to prepare. Run: `.venv/bin/python benchmarks/atlas.py` (needs Chromium).
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from helpers.reports.atlas import render_atlas
from helpers.sources import kart

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the headless-Chromium driver of the tests
from browser import HeadlessChromium, find_chromium

RUNS = 5


def main() -> int:
    started = time.perf_counter()
    topology = kart.map_topology()
    prepare_s = time.perf_counter() - started
    raw_kb = kart.TOPOJSON_FILE.stat().st_size / 1024
    light_kb = len(json.dumps(topology, separators=(",", ":"))) / 1024
    print(f"map: raw TopoJSON {raw_kb:.0f} KB -> {light_kb:.0f} KB in the page ({prepare_s:.2f} s to prepare)")
    with tempfile.TemporaryDirectory() as folder:
        page = render_atlas(out=Path(folder) / "utforsk.html")
        print(f"page: {page.stat().st_size / 1024 / 1024:.2f} MB")
        if find_chromium() is None:
            print("no Chromium: render time not measured")
            return 0
        times = []
        for _ in range(RUNS):
            with HeadlessChromium(width=1280) as browser:
                browser.open(page.as_uri(), ready="window.atlasReady || window.atlasError", timeout=60)
                error = browser.evaluate("window.atlasError || ''")
                if error:
                    print(f"the page failed: {error}")
                    return 1
                times.append(browser.evaluate("window.atlasRenderMs"))
        print(f"render: median {statistics.median(times):.0f} ms, slowest {max(times):.0f} ms over {RUNS} loads")
    return 0


if __name__ == "__main__":
    sys.exit(main())
