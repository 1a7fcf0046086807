"""JSON-stat2 reader on the real 12209 (v2) and 07459 (v0) responses, and on generated datasets."""

from __future__ import annotations

import itertools
import json

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import paths
from helpers.errors import DataError
from helpers.sources import jsonstat

SHARE_FILE = paths.RAW / "ssb" / "ssb_12209_v2_response.json"


def test_real_12209_has_every_region_and_year():
    frame = jsonstat.read(SHARE_FILE)
    assert frame.height == 891 * 1 * 2
    assert frame["KOKkommuneregion0000"].n_unique() == 891
    assert set(frame["Tid"]) == {"2019", "2023"}


@pytest.mark.parametrize(
    ("region", "year", "value", "status"),
    [
        ("0220", "2019", 22.1, None),  # old Asker, its own borders
        ("0220", "2023", None, "."),  # code no longer existed
        ("3025", "2023", 21.5, None),  # Asker 2020-2023
        ("3203", "2019", None, "."),
        ("EAK", "2019", 30.0, None),  # the whole country
    ],
)
def test_real_12209_values_and_status_symbols(region, year, value, status):
    frame = jsonstat.read(SHARE_FILE)
    row = frame.filter(pl.col("KOKkommuneregion0000") == region, pl.col("Tid") == year)
    assert row["value"][0] == value
    assert row["status"][0] == status


def test_real_12209_labels_carry_validity_suffixes():
    frame = jsonstat.read(SHARE_FILE)
    labels = dict(frame.select("KOKkommuneregion0000", "KOKkommuneregion0000_label").unique().iter_rows())
    assert labels["0220"] == "Asker (-2019)"
    assert labels["3025"] == "Asker (2020-2023)"


def test_real_12209_missing_symbols_count():
    frame = jsonstat.read(SHARE_FILE)
    counts = dict(frame.group_by("status").len().iter_rows())
    assert counts["."] == 939 and counts[".."] == 10
    assert frame.filter(pl.col("value").is_null() != pl.col("status").is_not_null()).height == 0


def test_real_07459_v0_response_has_five_dimensions():
    frame = jsonstat.read(paths.RAW / "ssb" / "07459_raadata.json")
    assert frame.height == 2 * 106 * 22
    assert {"Region", "Kjonn", "Alder", "ContentsCode", "Tid"} <= set(frame.columns)
    assert set(frame["Region"]) == {"3101"}


@st.composite
def datasets(draw):
    sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=4))
    ids = [f"D{i}" for i in range(len(sizes))]
    dimension = {
        d: {"category": {"index": {f"{d}c{j}": j for j in range(n)}, "label": {f"{d}c{j}": f"L{j}" for j in range(n)}}}
        for d, n in zip(ids, sizes, strict=True)
    }
    cells = list(itertools.product(*[range(n) for n in sizes]))
    # the value encodes the positions, so any error in the index arithmetic shows
    values = [float(sum(p * 10**k for k, p in enumerate(reversed(cell)))) for cell in cells]
    missing = draw(st.sets(st.integers(0, len(values) - 1)))
    status = {str(i): ".." for i in missing}
    for i in missing:
        values[i] = None
    return {"class": "dataset", "id": ids, "size": sizes, "dimension": dimension, "value": values, "status": status}


@settings(max_examples=60, deadline=None)
@given(datasets())
def test_flat_index_arithmetic_last_dimension_fastest(payload):
    frame = jsonstat.parse(payload)
    ids = payload["id"]
    for row in frame.iter_rows(named=True):
        positions = [int(row[d].split("c")[1]) for d in ids]
        expected = float(sum(p * 10**k for k, p in enumerate(reversed(positions))))
        if row["status"] is None:
            assert row["value"] == expected
        else:
            assert row["value"] is None and row["status"] == ".."


def test_truncated_file_is_a_clear_error(tmp_path):
    broken = tmp_path / "12209.json"
    broken.write_bytes(SHARE_FILE.read_bytes()[:5000])
    with pytest.raises(DataError, match=r"12209\.json: not valid JSON"):
        jsonstat.read(broken)


def test_value_count_disagreeing_with_sizes_is_a_clear_error(tmp_path):
    payload = json.loads(SHARE_FILE.read_text())
    payload["value"] = payload["value"][:-3]
    broken = tmp_path / "short.json"
    broken.write_text(json.dumps(payload))
    with pytest.raises(DataError, match="truncated or corrupt"):
        jsonstat.read(broken)
