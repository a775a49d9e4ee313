"""The value types a layer key can take, each a checked conversion from YAML data.

A conversion raises ``ValueError`` with a message meant for the user; the spec builder adds the
file, line and layer. Booleans are never accepted where a number is meant (YAML reads ``yes`` and
``on`` as true).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeGuard, TypeVar

Pair = tuple[int, int]
Padding = tuple[int, int] | str  # (h, w) or "same" / "valid"

REQUIRED: Any = object()
"""Marks a key without a default."""
MAX_MAGNITUDE = 10**100
"""The largest whole number a spec may hold (or a layer produce as a size), so every count prints exactly."""
MAX_FIELD = 10**1000
"""The largest receptive-field jump (strides multiplied): past it the numbers grow too long to print in time."""

Converter = TypeVar("Converter", bound=Callable[[Any], Any])

SCHEMAS: dict[Callable[[Any], Any], dict[str, Any]] = {}
"""Each converter's JSON-schema fragment: the literal values it accepts (`convcalc schema` is built from these)."""


def accepts(fragment: dict[str, Any]) -> Callable[[Converter], Converter]:
    """Record the JSON-schema fragment of the values a converter accepts."""

    def register(convert: Converter) -> Converter:
        SCHEMAS[convert] = fragment
        return convert

    return register


def json_schema(convert: Callable[[Any], Any]) -> dict[str, Any]:
    """The JSON-schema fragment of a converter (a KeyError for one that has none)."""
    return SCHEMAS[convert]


def is_int(value: object) -> TypeGuard[int]:
    """A whole number, not a boolean (True is an int to Python)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else f"{text[:limit]}..."


def describe(value: Any) -> str:
    """A short description of a YAML value for a message, never the whole of a big (or aliased) structure."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the text '{_clip(value)}'"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "a mapping"
    return _clip(repr(value))


def shown(value: Any) -> str:
    """A name as written (quoted text, a number) or, for anything else, its description."""
    return _clip(repr(value)) if isinstance(value, (str, int, float)) else describe(value)


def integer(minimum: int) -> Callable[[Any], int]:
    """A whole number no smaller than ``minimum``."""

    def convert(value: Any) -> int:
        if not is_int(value):
            raise ValueError(f"expected a whole number, got {describe(value)}")
        if value < minimum:
            raise ValueError(f"must be at least {minimum}, got {value}")
        if value > MAX_MAGNITUDE:
            raise ValueError(f"a number of {len(str(value))} digits is too large (the limit is 10^100)")
        return int(value)

    convert.__doc__ = f"a whole number >= {minimum}"
    return accepts({"type": "integer", "minimum": minimum})(convert)


positive_int = integer(1)
non_negative_int = integer(0)


def pair(minimum: int) -> Callable[[Any], Pair]:
    """A whole number, or ``[h, w]``; a single number applies to both axes."""
    element = integer(minimum)

    def convert(value: Any) -> Pair:
        if isinstance(value, list):
            if len(value) != 2:
                raise ValueError(f"expected a number or [height, width], got a list of {len(value)}")
            return element(value[0]), element(value[1])
        number = element(value)
        return number, number

    convert.__doc__ = f"a whole number >= {minimum} or [height, width]"
    one = json_schema(element)
    return accepts({"anyOf": [one, {"type": "array", "items": one, "minItems": 2, "maxItems": 2}]})(convert)


positive_pair = pair(1)
non_negative_pair = pair(0)


@accepts({"anyOf": [{"enum": ["same", "valid"]}, *json_schema(non_negative_pair)["anyOf"]]})
def padding(value: Any) -> Padding:
    """'same', 'valid', a whole number >= 0 or [height, width]."""
    if isinstance(value, str):
        if value in ("same", "valid"):
            return value
        raise ValueError(f"expected 'same', 'valid', a number or [height, width], got {describe(value)}")
    return non_negative_pair(value)


@accepts(json_schema(non_negative_pair))
def explicit_padding(value: Any) -> Pair:
    """a whole number >= 0 or [height, width]."""
    if value in ("same", "valid"):
        raise ValueError(f"'{value}' is for conv layers only; give a number or [height, width]")
    return non_negative_pair(value)


@accepts({"type": "boolean"})
def boolean(value: Any) -> bool:
    """true or false."""
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {describe(value)}")
    return value


@accepts({"type": "number"})
def number(value: Any) -> float | int:
    """any finite real number (does not affect the counts)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number, got {describe(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value}")
    return value


@accepts({"type": "number", "minimum": 0, "exclusiveMaximum": 1})
def rate(value: Any) -> float | int:
    """a probability in [0, 1)."""
    probability = number(value)
    if not 0 <= probability < 1:
        raise ValueError(f"must be in [0, 1), got {probability}")
    return probability


def choice(*options: str) -> Callable[[Any], str]:
    """One of a fixed set of words."""

    def convert(value: Any) -> str:
        if value not in options:
            raise ValueError(f"expected one of {', '.join(options)}; got {describe(value)}")
        return str(value)

    convert.__doc__ = "one of " + ", ".join(options)
    return accepts({"enum": list(options)})(convert)


@dataclass(frozen=True, slots=True)
class Key:
    """One key a layer kind accepts: its name, conversion, default, and its symbol in formulas.

    A pair key's symbol gets ``_h`` and ``_w`` appended (``k`` -> ``k_h``, ``k_w``).
    """

    name: str
    convert: Callable[[Any], Any]
    default: Any = REQUIRED
    symbol: str | None = None

    @property
    def required(self) -> bool:
        return self.default is REQUIRED
