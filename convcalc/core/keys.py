"""The value types a layer key can take, each a checked conversion from YAML data.

A conversion raises ``ValueError`` with a message meant for the user; the spec builder adds the
file, line and layer. Booleans are never accepted where a number is meant (YAML reads ``yes`` and
``on`` as true).
"""

from __future__ import annotations

import math
import re
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

HEIGHT_BY_WIDTH = re.compile(r"^\s*(\d{1,101})\s*[xX]\s*(\d{1,101})\s*$")
"""A pair written as text, height x width, as the command line's --input takes it: `1x7`, `512 x 1024`."""

Converter = TypeVar("Converter", bound=Callable[[Any], Any])

SCHEMAS: dict[Callable[[Any], Any], tuple[dict[str, Any], str]] = {}
"""Each converter's JSON-schema fragment (the literal values it accepts) and their description for users:
`convcalc schema` is built from these."""


def accepts(fragment: dict[str, Any], description: str) -> Callable[[Converter], Converter]:
    """Record the JSON-schema fragment and the description of the values a converter accepts."""

    def register(convert: Converter) -> Converter:
        SCHEMAS[convert] = fragment, description
        return convert

    return register


def json_schema(convert: Callable[[Any], Any]) -> dict[str, Any]:
    """The JSON-schema fragment of a converter (a KeyError for one that has none)."""
    return SCHEMAS[convert][0]


def values_accepted(convert: Callable[[Any], Any]) -> str:
    """What a converter accepts, in words: 'a whole number >= 1 or [height, width]'."""
    return SCHEMAS[convert][1]


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

    return accepts({"type": "integer", "minimum": minimum}, f"a whole number >= {minimum}")(convert)


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
        if isinstance(value, str):
            written = HEIGHT_BY_WIDTH.fullmatch(value)
            if written is None:
                raise ValueError(f"expected a whole number, [height, width] or HxW such as 1x7, got {describe(value)}")
            return element(int(written[1])), element(int(written[2]))
        number = element(value)
        return number, number

    one = json_schema(element)
    text = {"type": "string", "pattern": HEIGHT_BY_WIDTH.pattern}
    fragment = {"anyOf": [one, {"type": "array", "items": one, "minItems": 2, "maxItems": 2}, text]}
    return accepts(fragment, f"a whole number >= {minimum}, [height, width] or HxW (1x7)")(convert)


positive_pair = pair(1)
non_negative_pair = pair(0)


@accepts(
    {"anyOf": [{"enum": ["same", "valid"]}, *json_schema(non_negative_pair)["anyOf"]]},
    "'same', 'valid', a whole number >= 0, [height, width] or HxW (1x7)",
)
def padding(value: Any) -> Padding:
    if isinstance(value, str):
        if value in ("same", "valid"):
            return value
        if not HEIGHT_BY_WIDTH.fullmatch(value):
            raise ValueError(f"expected 'same', 'valid', a number, [height, width] or HxW, got {describe(value)}")
    return non_negative_pair(value)


@accepts(json_schema(non_negative_pair), values_accepted(non_negative_pair))
def explicit_padding(value: Any) -> Pair:
    if value in ("same", "valid"):
        raise ValueError(f"'{value}' is for conv layers only; give a number or [height, width]")
    return non_negative_pair(value)


@accepts({"type": "boolean"}, "true or false")
def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {describe(value)}")
    return value


@accepts({"type": "number"}, "any finite real number (does not affect the counts)")
def number(value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"expected a number, got {describe(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value}")
    return value


@accepts({"type": "number", "minimum": 0, "exclusiveMaximum": 1}, "a probability in [0, 1)")
def rate(value: Any) -> float | int:
    probability = number(value)
    if not 0 <= probability < 1:
        raise ValueError(f"must be in [0, 1), got {probability}")
    return probability


@accepts({"type": "string", "minLength": 1}, "a word")
def word(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected a word, got {describe(value)}")
    return value


@accepts({"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1}, "a list of positive sizes")
def dimensions(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError(f"expected a list of sizes such as [64, 56, 56], got {describe(value)}")
    return tuple(positive_int(item) for item in value)


def choice(*options: str) -> Callable[[Any], str]:
    """One of a fixed set of words."""

    def convert(value: Any) -> str:
        if value not in options:
            raise ValueError(f"expected one of {', '.join(options)}; got {describe(value)}")
        return str(value)

    return accepts({"enum": list(options)}, "one of " + ", ".join(options))(convert)


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
