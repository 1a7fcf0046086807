"""Land neighbours from the 2024 topology, checked by hand against the map for Asker and Tromsø."""

from __future__ import annotations

import pytest

from helpers.errors import InputError
from helpers.sources import kart
from helpers.table.neighbours import island_kommuner, land_neighbours, land_neighbours_via_2024, neighbour_pairs


def test_asker_borders_baerum_and_lier_on_land_not_drammen_across_the_fjord():
    # checked on the map: Asker meets Bærum and Lier on land; Drammen, Frogn, Nesodden and Vestby lie across
    # the Drammensfjord or the Oslofjord (sea borders, no shared arc)
    assert land_neighbours("3203") == ("3201", "3312")


def test_tromso_neighbours_include_shared_islands_and_the_lyngen_peninsula():
    # Karlsøy shares Ringvassøya with Tromsø, Lyngen the Lyngen peninsula; Balsfjord and Storfjord on the mainland
    assert land_neighbours("5501") == ("5532", "5534", "5536", "5538")


def test_haram_and_alesund_meet_and_islands_have_no_neighbours():
    assert "1508" in land_neighbours("1580") and "1580" in land_neighbours("1508")
    islands = island_kommuner()
    assert {"1144", "1151", "3110", "4627"} <= set(islands)  # Kvitsøy, Utsira, Hvaler, Askøy
    assert land_neighbours("1151") == ()
    assert "3203" not in islands


def test_neighbourhood_is_symmetric_and_covers_every_map_kommune():
    pairs = neighbour_pairs()
    assert all(a < b for a, b in pairs) and len(set(pairs)) == len(pairs)
    codes = kart.kommune_codes()
    assert len(codes) == 357
    for code in codes:
        for other in land_neighbours(code):
            assert code in land_neighbours(other)
            assert (min(code, other), max(code, other)) in pairs
    with_neighbours = {c for pair in pairs for c in pair}
    assert with_neighbours | set(island_kommuner()) == set(codes)


def test_unknown_code_and_other_structure_years_are_clear_errors():
    with pytest.raises(InputError, match="'9999'"):
        land_neighbours("9999")
    with pytest.raises(InputError, match="land_neighbours_via_2024"):
        land_neighbours("3203", structure_year=2019)


def test_historic_codes_via_their_2024_land(reforms):
    # 1534 Haram (until 2019) has exactly the land of 1580 Haram (data/raw/reforms/restored_borders.csv)
    assert land_neighbours_via_2024("1534", 2015, reforms) == land_neighbours("1580")
    # 1507 Ålesund (2020–2023) = 1508 + 1580: the neighbours of the union, not the parts
    assert land_neighbours_via_2024("1507", 2021, reforms) == tuple(
        sorted((set(land_neighbours("1508")) | set(land_neighbours("1580"))) - {"1508", "1580"}))
    # 0220 Asker (until 2019) is only part of today's Asker: its own borders are not in the 2024 map
    assert land_neighbours_via_2024("0220", 2019, reforms) is None
