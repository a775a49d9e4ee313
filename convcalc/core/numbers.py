"""Exact numbers for people: a ratio kept as a fraction, shown rounded only at the edge (JSON, tables)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fractions import Fraction


def json_number(value: int | Fraction, places: int = 3) -> int | float:
    """A value for JSON and tables: the int itself when whole, else rounded to ``places`` decimals from the exact
    fraction (the nearest int when it is beyond what a float can hold)."""
    if isinstance(value, int):
        return value
    if value.denominator == 1:
        return value.numerator
    rounded = round(value, places)
    try:
        return float(rounded)
    except OverflowError:
        return int(rounded)


def ratio(numerator: int, denominator: int) -> int | Fraction:
    """numerator / denominator exactly: an int when it divides, else a Fraction (imported only then)."""
    numerator, denominator = int(numerator), int(denominator)
    if numerator % denominator == 0:
        return numerator // denominator
    from fractions import Fraction

    return Fraction(numerator, denominator)
