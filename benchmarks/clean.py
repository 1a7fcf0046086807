"""Time and peak memory of a full build of the processed indicator table from the raw snapshot.

Target (issue 2): under 2 s and under 500 MB on the 2-core machine. Run: `.venv/bin/python benchmarks/clean.py`.
Each build runs in a fresh process so imports, caches and memory start cold; the figures printed are
wall time of the build call and the process's peak resident memory (ru_maxrss).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile

CHILD = """
import json, resource, sys, time
from pathlib import Path
t0 = time.perf_counter()
from helpers.table.build import build_indicators
t1 = time.perf_counter()
table = build_indicators(out=Path(sys.argv[1]) / "indicators.parquet")
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "build_s": t2 - t1, "rows": table.height,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main(runs: int = 3) -> None:
    results = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run([sys.executable, "-c", CHILD, tmp], capture_output=True, text=True, check=True)
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    build = [r["build_s"] for r in results]
    print(f"full build of {results[0]['rows']:,} rows from the raw snapshot, {runs} cold runs")
    print(f"  build time : median {statistics.median(build):.2f} s (min {min(build):.2f}, max {max(build):.2f})"
          "   target < 2 s")
    print(f"  import time: median {statistics.median(r['import_s'] for r in results):.2f} s (polars, dataframely, ...)")
    print(f"  peak memory: max {max(r['peak_mb'] for r in results):.0f} MB (whole process)   target < 500 MB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
