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

Axes = int | tuple[int, ...]
"""A size for each spatial axis: one number for them all, or one per axis (``(k_h, k_w)``, ``(k_d, k_h, k_w)``); the
layer resolves it against its input's axes (:func:`convcalc.kinds.windows.per_axis`)."""
Padding = Axes | str  # a size per axis, or "same" / "valid"
MAX_AXES = 3
"""The most spatial axes a feature map has: [C, L], [C, H, W] or [C, D, H, W]."""

REQUIRED: Any = object()
"""Marks a key without a default."""
MAX_MAGNITUDE = 10**100
"""The largest whole number a spec may hold (or a layer produce as a size), so every count prints exactly."""
MAX_FIELD = 10**1000
"""The largest receptive-field jump (strides multiplied): past it the numbers grow too long to print in time."""

SIZES_TEXT = re.compile(r"^\s*\d{1,101}(?:\s*[xX]\s*\d{1,101}){1,2}\s*$")
"""Sizes per axis written as text, as the command line's --input takes them: `1x7`, `512 x 1024`, `3x3x3`."""

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


def axes(minimum: int) -> Callable[[Any], Axes]:
    """A whole number (for every spatial axis), or one per axis: ``[height, width]``, ``[depth, height, width]``,
    ``[length]``, or text such as ``1x7``."""
    element = integer(minimum)

    def convert(value: Any) -> Axes:
        if isinstance(value, list):
            if not 1 <= len(value) <= MAX_AXES:
                raise ValueError(
                    f"expected a number or one per axis such as [height, width], got a list of {len(value)}"
                )
            return tuple(element(item) for item in value)
        if isinstance(value, str):
            if SIZES_TEXT.fullmatch(value) is None:
                raise ValueError(f"expected a whole number, [height, width] or HxW such as 1x7, got {describe(value)}")
            return tuple(element(int(part)) for part in re.split(r"[xX]", value))
        return element(value)

    one = json_schema(element)
    text = {"type": "string", "pattern": SIZES_TEXT.pattern}
    fragment = {"anyOf": [one, {"type": "array", "items": one, "minItems": 1, "maxItems": MAX_AXES}, text]}
    return accepts(fragment, f"a whole number >= {minimum}, one per axis ([height, width]) or HxW (1x7)")(convert)


positive_axes = axes(1)
non_negative_axes = axes(0)


@accepts(
    {"anyOf": [{"enum": ["same", "valid"]}, *json_schema(non_negative_axes)["anyOf"]]},
    "'same', 'valid', a whole number >= 0, one per axis ([height, width]) or HxW (1x7)",
)
def padding(value: Any) -> Padding:
    if isinstance(value, str):
        if value in ("same", "valid"):
            return value
        if not SIZES_TEXT.fullmatch(value):
            raise ValueError(f"expected 'same', 'valid', a number, [height, width] or HxW, got {describe(value)}")
    return non_negative_axes(value)


@accepts(json_schema(non_negative_axes), values_accepted(non_negative_axes))
def explicit_padding(value: Any) -> Axes:
    if value in ("same", "valid"):
        raise ValueError(f"'{value}' is for conv layers only; give a number or [height, width]")
    return non_negative_axes(value)


AXES_CONVERTERS = frozenset({positive_axes, non_negative_axes, padding, explicit_padding})
"""The converters of keys with a size per spatial axis (kernel, stride, padding, dilation, ...)."""


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

    A key with a size per axis gets the axis appended to its symbol (``k`` -> ``k_h``, ``k_w``; see
    :func:`convcalc.kinds.windows.per_axis`).
    """

    name: str
    convert: Callable[[Any], Any]
    default: Any = REQUIRED
    symbol: str | None = None

    @property
    def required(self) -> bool:
        return self.default is REQUIRED
