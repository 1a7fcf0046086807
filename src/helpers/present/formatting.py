"""Numbers in Norwegian notation: no-break space between thousands, decimal comma, a real minus sign.

`format_number(-1234.5, 1)` → "−1 234,5" (the space is U+00A0, the minus U+2212). Missing values (None,
NaN) become an en dash "–". A value that rounds to zero never gets a minus sign.
"""

from __future__ import annotations

import math

NBSP = "\u00a0"
MINUS = "\u2212"
MISSING = "–"


def format_number(x: float | None, decimals: int = 1, *, sign: bool = False) -> str:
    """`x` rounded to `decimals` in Norwegian notation; `sign=True` puts "+" before positive numbers."""
    if decimals < 0:
        raise ValueError(f"decimals must be >= 0, got {decimals}")
    if x is None or math.isnan(x):
        return MISSING
    if math.isinf(x):
        return ("" if x > 0 else MINUS) + "∞"
    text = f"{abs(x):,.{decimals}f}"  # "1,234.5": group with "," and decimal ".", swapped below
    rounded_is_zero = not any(ch in "123456789" for ch in text)
    text = text.replace(",", NBSP).replace(".", ",")
    if rounded_is_zero:
        return text
    if x < 0:
        return MINUS + text
    return ("+" + text) if sign else text


def format_percent(x: float | None, decimals: int = 1, *, sign: bool = False) -> str:
    """`x` given in percent (12.5 means 12,5 %) with a no-break space before the percent sign."""
    number = format_number(x, decimals, sign=sign)
    return number if number == MISSING else f"{number}{NBSP}%"
