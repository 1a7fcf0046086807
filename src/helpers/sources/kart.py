"""The 2024 kommune borders (data/raw/kart, Kartverket CC BY 4.0): read the TopoJSON, and make a small copy
for the atlas map.

The raw file is never changed. `map_topology` builds, in memory, a lighter TopoJSON for the browser:
1. every arc is simplified on its own with Visvalingam–Whyatt (smallest-triangle removal) down to
   `MIN_AREA` square degrees, keeping both end points, so borders two kommuner share stay identical
   (topology is preserved: no gaps or overlaps appear between neighbours);
2. every ring is turned round: the file follows GeoJSON's right-hand rule (outer rings counter-clockwise),
   while Vega's d3-geo draws spherical polygons and takes a counter-clockwise ring as the whole globe minus
   the kommune — without this, every kommune would paint the whole map;
3. coordinates are quantised to a `QUANTISATION` × `QUANTISATION` grid and delta-encoded (TopoJSON's
   `transform`), which turns 16-digit floats into small integers.
The "S" file is already simplified: at `MIN_AREA` step 1 removes almost nothing, and the saving comes from
step 3 (991 KB → about 245 KB in the page; benchmarks/atlas.py prints the figures). Raise `MIN_AREA` only with
a look at the map: a ring of several arcs that all shrink to their end points can turn round, and d3-geo then
paints the whole globe.
An arc is kept with at least its two end points (and a ring with at least four points), so small islands
do not vanish.
"""

from __future__ import annotations

import heapq
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from helpers import paths
from helpers.errors import DataError

TOPOJSON_FILE = paths.RAW / "kart" / "kommuner_2024_S.topojson"
OBJECT = "Kommuner"
TOPOLOGY_YEAR = 2024
MIN_AREA = 2e-5
QUANTISATION = 10_000
MAP_CREDIT = "Kart: Kartverket, CC BY 4.0 (forenklet)"


@lru_cache(maxsize=4)
def _read(path: Path) -> dict[str, Any]:
    try:
        topology = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: map file missing; restore data/raw/kart from git.") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}); restore it from git.") from None
    try:
        geometries = topology["objects"][OBJECT]["geometries"]
        shaped = isinstance(topology["arcs"], list) and all(
            "arcs" in g and "kommunenummer" in g["properties"] for g in geometries)
    except (KeyError, TypeError):
        shaped = False
    if not shaped:
        raise DataError(f"{path}: not the expected TopoJSON (object {OBJECT!r} with kommunenummer and arcs); "
                        "restore it from git.")
    return topology


def read_topology(path: Path | None = None) -> dict[str, Any]:
    """The raw TopoJSON as a dict (read once per path; do not modify it)."""
    return _read(Path(path) if path is not None else TOPOJSON_FILE)


def rings(geometry: dict[str, Any]) -> list[list[int]]:
    """The arc-index rings of a Polygon or MultiPolygon geometry."""
    if geometry["type"] == "Polygon":
        return geometry["arcs"]
    if geometry["type"] == "MultiPolygon":
        return [ring for polygon in geometry["arcs"] for ring in polygon]
    return []


def kommune_codes(path: Path | None = None) -> tuple[str, ...]:
    """The kommune codes of the map, sorted."""
    return tuple(sorted(g["properties"]["kommunenummer"] for g in read_topology(path)["objects"][OBJECT]["geometries"]))


def _triangle_area(a: list[float], b: list[float], c: list[float]) -> float:
    return abs((b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1])) / 2


def simplify_arc(points: list[list[float]], min_area: float, keep: int = 2) -> list[list[float]]:
    """Visvalingam–Whyatt: drop the point with the smallest effective triangle until every remaining one is at
    least `min_area` (end points always stay, and at least `keep` points in all)."""
    n = len(points)
    if n <= max(keep, 2):
        return [list(p) for p in points]
    prev = list(range(-1, n - 1))
    nxt = list(range(1, n + 1))
    alive = [True] * n
    area = [float("inf")] * n
    heap: list[tuple[float, int]] = []
    for i in range(1, n - 1):
        area[i] = _triangle_area(points[i - 1], points[i], points[i + 1])
        heap.append((area[i], i))
    heapq.heapify(heap)
    remaining = n
    floor = 0.0  # effective area never decreases (Visvalingam's rule), so dropping order stays stable
    while heap and remaining > keep:
        value, i = heapq.heappop(heap)
        if not alive[i] or value != area[i]:
            continue
        if value >= min_area:
            break
        floor = max(floor, value)
        alive[i] = False
        remaining -= 1
        left, right = prev[i], nxt[i]
        nxt[left], prev[right] = right, left
        for j in (left, right):
            if 0 < j < n - 1 and alive[j]:
                area[j] = max(floor, _triangle_area(points[prev[j]], points[j], points[nxt[j]]))
                heapq.heappush(heap, (area[j], j))
    return [list(points[i]) for i in range(n) if alive[i]]


def _reverse(ring: list[int]) -> list[int]:
    return [~arc for arc in reversed(ring)]


def _clockwise(geometry: dict[str, Any]) -> list[Any]:
    """The geometry's arc rings turned round (see module docstring)."""
    if geometry["type"] == "Polygon":
        return [_reverse(ring) for ring in geometry["arcs"]]
    return [[_reverse(ring) for ring in polygon] for polygon in geometry["arcs"]]


def map_topology(min_area: float = MIN_AREA, quantisation: int = QUANTISATION,
                 path: Path | None = None) -> dict[str, Any]:
    """A simplified, quantised TopoJSON of the kommuner for the atlas (properties: `k` code, `n` name)."""
    raw = read_topology(path)
    geometries = raw["objects"][OBJECT]["geometries"]
    # arcs that close a ring on their own (small islands) keep four points, so the ring stays a polygon
    closing = {ring[0] if ring[0] >= 0 else ~ring[0] for g in geometries for ring in rings(g) if len(ring) == 1}
    arcs = [simplify_arc(arc, min_area, keep=4 if i in closing else 2) for i, arc in enumerate(raw["arcs"])]
    xs = [p[0] for arc in arcs for p in arc]
    ys = [p[1] for arc in arcs for p in arc]
    x0, y0 = min(xs), min(ys)
    kx = (max(xs) - x0) / (quantisation - 1) or 1.0
    ky = (max(ys) - y0) / (quantisation - 1) or 1.0
    encoded = []
    for arc in arcs:
        out, last = [], (0, 0)
        for x, y in arc:
            q = (round((x - x0) / kx), round((y - y0) / ky))
            if out and q == last:
                continue
            out.append([q[0] - last[0], q[1] - last[1]])
            last = q
        if len(out) < 2:  # an arc whose ends fell on one grid cell: keep it as a zero-length segment
            out.append([0, 0])
        encoded.append(out)
    slim = [
        {"type": g["type"], "arcs": _clockwise(g),
         "properties": {"k": g["properties"]["kommunenummer"], "n": g["properties"]["kommunenavn"]}}
        for g in geometries
    ]
    return {
        "type": "Topology",
        "transform": {"scale": [kx, ky], "translate": [x0, y0]},
        "objects": {OBJECT: {"type": "GeometryCollection", "geometries": slim}},
        "arcs": encoded,
    }
