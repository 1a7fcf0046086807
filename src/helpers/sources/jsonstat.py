"""Read JSON-stat2 datasets (SSB PxWebApi v2 and v0 responses) into a long Polars frame.

A dataset lists its dimensions in `id` with sizes in `size`; values are flat and row-major with the LAST
dimension varying fastest, so the flat index of positions (p_0 … p_k) is Σ p_i × Π_{j>i} size_j.
Missing values are null in `value` and carry SSB's symbol in the sparse `status` map (flat index → symbol);
`status` may also be a list, or absent (older v0 outputs).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from helpers.errors import DataError

LABEL_SUFFIX = "_label"


def _ordered_codes(dimension: dict[str, Any]) -> list[str]:
    """Category codes of one dimension in index order (index may be a dict or a list)."""
    index = dimension["category"].get("index")
    if index is None:  # a single-category dimension may omit the index
        return list(dimension["category"]["label"])
    if isinstance(index, list):
        return list(index)
    return [code for code, _ in sorted(index.items(), key=lambda item: item[1])]


def _status_array(status: Any, n: int) -> list[str | None]:
    if status is None:
        return [None] * n
    if isinstance(status, list):
        return [s if s not in ("", None) else None for s in status] + [None] * (n - len(status))
    if isinstance(status, str):
        return [status] * n
    out: list[str | None] = [None] * n
    for key, symbol in status.items():
        out[int(key)] = symbol
    return out


def parse(payload: dict[str, Any], *, origin: str = "<dataset>") -> pl.DataFrame:
    """Long frame with one column per dimension (codes), `<dim>_label`, `value` and `status`."""
    try:
        if payload.get("class") not in (None, "dataset"):
            raise DataError(f"{origin}: JSON-stat class {payload.get('class')!r} is not a dataset.")
        ids: list[str] = list(payload["id"])
        sizes: list[int] = [int(s) for s in payload["size"]]
        dims = payload["dimension"]
        raw_values = payload["value"]
    except (KeyError, TypeError) as exc:
        raise DataError(f"{origin}: not a JSON-stat2 dataset (missing {exc}).") from None
    if len(ids) != len(sizes):
        raise DataError(f"{origin}: JSON-stat2 'id' has {len(ids)} dimensions but 'size' has {len(sizes)}.")
    n = int(np.prod(sizes)) if sizes else 0
    if isinstance(raw_values, dict):  # sparse value object
        values: list[float | None] = [None] * n
        for key, value in raw_values.items():
            values[int(key)] = value
    else:
        values = list(raw_values)
    if len(values) != n:
        raise DataError(
            f"{origin}: JSON-stat2 holds {len(values)} values but its sizes {sizes} give {n}; "
            "the response is truncated or corrupt — fetch it again."
        )
    columns: dict[str, Any] = {}
    flat = np.arange(n, dtype=np.int64)
    stride = n
    for dim_id, size in zip(ids, sizes, strict=True):
        dimension = dims[dim_id]
        codes = _ordered_codes(dimension)
        if len(codes) != size:
            raise DataError(f"{origin}: dimension {dim_id} lists {len(codes)} categories but size says {size}.")
        stride //= size
        positions = (flat // stride) % size
        labels = dimension["category"].get("label", {})
        code_array = np.array(codes, dtype=object)
        columns[dim_id] = code_array[positions]
        columns[dim_id + LABEL_SUFFIX] = np.array([labels.get(c, c) for c in codes], dtype=object)[positions]
    columns["value"] = values
    columns["status"] = _status_array(payload.get("status"), n)
    frame = pl.DataFrame(
        {k: (list(v) if isinstance(v, np.ndarray) else v) for k, v in columns.items()},
        schema_overrides={"value": pl.Float64, "status": pl.String},
    )
    return frame


def read(path: Path | str) -> pl.DataFrame:
    """Parse a JSON-stat2 file; DataError naming the file when it is corrupt or truncated."""
    path = Path(path)
    try:
        payload = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise DataError(f"{path}: file not found.") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not valid JSON ({exc}); the file is corrupt or truncated — fetch it again "
                        "or restore it from git.") from None
    if not isinstance(payload, dict):
        raise DataError(f"{path}: expected a JSON-stat2 object, found {type(payload).__name__}.")
    return parse(payload, origin=str(path))


def metadata(payload: dict[str, Any]) -> dict[str, Any]:
    """Table id, updated timestamp and label of a dataset (for provenance)."""
    px = payload.get("extension", {}).get("px", {})
    return {"table": px.get("tableid") or payload.get("label", "").split(":")[0],
            "updated": payload.get("updated"), "label": payload.get("label")}
