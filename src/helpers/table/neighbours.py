"""Land neighbours of a kommune, from the topology of the 2024 borders (data/raw/kart, Kartverket).

Rule: two kommuner are neighbours when their polygons share at least one arc of the TopoJSON topology, i.e.
a stretch of common border on land. The map is clipped to the coastline, so a border that runs only through
the sea (across a fjord or a strait) is no shared arc: Asker and Drammen, on either side of the
Drammensfjord, are not neighbours, and island kommuner such as Kvitsøy, Utsira, Hvaler or Askøy have no
land neighbours at all (an empty tuple; `island_kommuner()` lists them). Lakes and rivers are land in this
map, so a border through a lake counts. Borders with Sweden, Finland and Russia are arcs of one kommune only
and give no neighbour.

The topology is that of 2024 (`TOPOLOGY_YEAR`). `land_neighbours(code)` answers for codes of the 2024
structure. For a code of an earlier structure, `land_neighbours_via_2024(code, year, reforms)` gives the 2024
kommuner bordering the land the code covered (its 2024 areas): exact when the code's land is a union of whole
2024 kommuner (e.g. 1534 Haram until 2019 = 1580), otherwise None — the internal borders of later mergers are
not in the 2024 map (0220 Asker's border with 0627 Røyken is gone).
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from pathlib import Path

from helpers.errors import InputError
from helpers.sources.kart import OBJECT, TOPOLOGY_YEAR, read_topology, rings
from helpers.table.reforms import Reforms


@lru_cache(maxsize=4)
def _neighbours(path: Path | None) -> dict[str, frozenset[str]]:
    users: dict[int, set[str]] = defaultdict(set)
    codes = []
    for geometry in read_topology(path)["objects"][OBJECT]["geometries"]:
        code = str(geometry["properties"]["kommunenummer"])
        codes.append(code)
        for ring in rings(geometry):
            for arc in ring:
                users[arc if arc >= 0 else ~arc].add(code)
    out: dict[str, set[str]] = {code: set() for code in codes}
    for sharing in users.values():
        for code in sharing:
            out[code] |= sharing - {code}
    return {code: frozenset(found) for code, found in out.items()}


def neighbour_pairs(path: Path | None = None) -> tuple[tuple[str, str], ...]:
    """Every pair of 2024 kommuner sharing a land border, as (smaller code, larger code), sorted."""
    return tuple(sorted({tuple(sorted((a, b))) for a, found in _neighbours(path).items() for b in found}))


def land_neighbours(code: str, structure_year: int = TOPOLOGY_YEAR, path: Path | None = None) -> tuple[str, ...]:
    """The 2024 kommuner sharing a land border with `code` (a 2024 code), sorted; () for an island kommune.

    InputError for a code not on the map or another structure year (see `land_neighbours_via_2024`).
    """
    if structure_year != TOPOLOGY_YEAR:
        raise InputError(
            f"Naboer finnes bare på {TOPOLOGY_YEAR}-grenser / land neighbours are computed on {TOPOLOGY_YEAR} "
            f"borders, not {structure_year!r}; for a historic code use land_neighbours_via_2024(code, year, reforms)."
        )
    found = _neighbours(path)
    code = str(code).strip()
    if code not in found:
        raise InputError(f"Kommunenummer {code!r} finnes ikke i {TOPOLOGY_YEAR}-kartet / not a {TOPOLOGY_YEAR} "
                         "kommune code; give a four-digit code such as '3203'.")
    return tuple(sorted(found[code]))


def island_kommuner(path: Path | None = None) -> tuple[str, ...]:
    """2024 kommuner without any land neighbour, sorted."""
    return tuple(sorted(code for code, found in _neighbours(path).items() if not found))


def land_neighbours_via_2024(code: str, year: int, reforms: Reforms, path: Path | None = None
                             ) -> tuple[str, ...] | None:
    """The 2024 kommuner bordering on land the area of `code` as it was in `year`, or None when that area is not
    a union of whole 2024 kommuner (then its borders are not in the 2024 map)."""
    areas = reforms.exact_areas(code, min(year, reforms.latest_year), TOPOLOGY_YEAR)
    if areas is None:
        return None
    found = _neighbours(path)
    around = set().union(*(found.get(area, frozenset()) for area in areas)) - set(areas)
    return tuple(sorted(around))
