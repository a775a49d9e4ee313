"""`${...}` expressions in block bodies: integer arithmetic over block parameters and layer shapes.

Grammar (parsed here, never handed to ``eval``)::

    expr   := term (('+' | '-') term)*
    term   := unary (('*' | '//' | '/' | '%') unary)*
    unary  := '-' unary | atom
    atom   := INTEGER | NAME | FUNCTION '(' expr (',' expr)* ')' | '(' expr ')'

``/`` is exact division: it is an error when the result is not a whole number. ``//`` floors. A NAME may be
dotted (``in.channels``, ``layer1.0.height``): the names mapping decides what it means. The functions are
``min``, ``max`` and ``make_divisible(v, divisor[, min_value])``, torchvision's ``_make_divisible``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from convcalc.core.keys import MAX_MAGNITUDE, shown

MAX_PARENTHESES = 50
"""Deepest nesting of parentheses in one expression."""
_TOKEN = re.compile(r"\s*(?:(\d+)|([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)|(//|[-+*/%(),]))")
_PLACEHOLDER = re.compile(r"\$\{([^{}]*)\}")


class ExpressionError(ValueError):
    """A malformed expression, an unknown name, a division by zero or a non-integer result."""


def _tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    stripped = text.rstrip()
    while position < len(stripped):
        match = _TOKEN.match(stripped, position)
        if not match:
            raise ExpressionError(f"unexpected character {stripped[position:].lstrip()[:1]!r} in '{text}'")
        tokens.append(match.group(match.lastindex or 0))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str, names: Mapping[str, Any]) -> None:
        self.text = text
        self.names = names
        self.tokens = _tokenize(text)
        self.position = 0
        self.depth = 0

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise ExpressionError(f"'{self.text}' ends too early")
        self.position += 1
        return token

    def parse(self) -> int:
        if not self.tokens:
            raise ExpressionError("empty expression '${}'")
        value = self.expr()
        if self.peek() is not None:
            raise ExpressionError(f"unexpected '{self.peek()}' in '{self.text}'")
        return value

    def expr(self) -> int:
        value = self.term()
        while self.peek() in ("+", "-"):
            value = value + self.term() if self.take() == "+" else value - self.term()
            self.check(value)
        return value

    def term(self) -> int:
        value = self.unary()
        while self.peek() in ("*", "/", "//", "%"):
            operator = self.take()
            right = self.unary()
            if operator == "*":
                value = self.check(value * right)
                continue
            if right == 0:
                raise ExpressionError(f"division by zero in '{self.text}'")
            if operator == "/" and value % right:
                raise ExpressionError(f"{value} / {right} is not a whole number in '{self.text}'")
            value = value % right if operator == "%" else value // right
        return value

    def unary(self) -> int:
        negative = False
        while self.peek() == "-":
            self.take()
            negative = not negative
        value = self.atom()
        return -value if negative else value

    def atom(self) -> int:
        token = self.take()
        if token == "(":
            self.open_parenthesis()
            value = self.expr()
            if self.take() != ")":
                raise ExpressionError(f"missing ')' in '{self.text}'")
            self.depth -= 1
            return value
        if token.isdigit():
            return self.check(int(token) if len(token) <= 101 else MAX_MAGNITUDE + 1)
        if token[0].isalpha() or token[0] == "_":
            if token in FUNCTIONS and self.peek() == "(":
                return self.call(token)
            return self.lookup(token)
        raise ExpressionError(f"unexpected '{token}' in '{self.text}'")

    def open_parenthesis(self) -> None:
        """One level deeper (a parenthesis or a call's); past MAX_PARENTHESES an error."""
        self.depth += 1
        if self.depth > MAX_PARENTHESES:
            raise ExpressionError(f"more than {MAX_PARENTHESES} nested parentheses in '{self.text[:40]}...'")

    def call(self, function: str) -> int:
        """A function call: the arguments, then the function's integer result."""
        self.take()  # '('
        self.open_parenthesis()
        arguments = [self.expr()]
        while self.peek() == ",":
            self.take()
            arguments.append(self.expr())
        if self.take() != ")":
            raise ExpressionError(f"missing ')' after the arguments of {function} in '{self.text}'")
        self.depth -= 1
        least, most = ARITY.get(function, (len(arguments), len(arguments)))  # min, max: any number
        if not least <= len(arguments) <= most:
            raise ExpressionError(
                f"{function} takes {least} to {most} arguments, not {len(arguments)}, in '{self.text}'"
            )
        return self.check(FUNCTIONS[function](*arguments))

    def lookup(self, name: str) -> int:
        if name not in self.names:
            known = ", ".join(sorted(self.names)) or "none"
            raise ExpressionError(
                f"unknown name '{name}' in '${{{self.text}}}' (block parameters: {known}; a layer's shape: "
                "NAME.channels, NAME.height, NAME.width)"
            )
        value = self.names[name]
        if isinstance(value, bool) or not isinstance(value, int):
            raise ExpressionError(f"'{name}' is {shown(value)}, not an integer, so it cannot be used in arithmetic")
        return self.check(value)

    def check(self, value: int) -> int:
        if abs(value) > MAX_MAGNITUDE:
            raise ExpressionError(f"'{self.text[:60]}' is too large (more than 10^100)")
        return value


def make_divisible(value: int, divisor: int, min_value: int | None = None) -> int:
    """torchvision's ``_make_divisible`` on whole numbers: ``value`` rounded to the nearest multiple of ``divisor``
    (halves up), at least ``min_value`` (default ``divisor``), and not more than 10% below ``value``.

    torchvision computes ``max(min_value, int(v + divisor / 2) // divisor * divisor)`` in floats, then adds
    ``divisor`` if that is below ``0.9 * v``; here the same in exact integers: ``int(v + d / 2)`` truncates
    ``(2v + d) / 2`` toward zero, and ``new < 0.9 * v`` is ``10 * new < 9 * v``.
    """
    if divisor <= 0:
        raise ExpressionError(f"make_divisible needs a divisor of at least 1, not {divisor}")
    if value < 0:
        raise ExpressionError(f"make_divisible rounds a width, not the negative {value}")
    least = divisor if min_value is None else min_value
    truncated = (2 * value + divisor) // 2  # int(v + d / 2) for v >= 0
    rounded = max(least, truncated // divisor * divisor)
    return rounded + divisor if 10 * rounded < 9 * value else rounded


FUNCTIONS: dict[str, Callable[..., int]] = {
    "min": lambda *values: min(values),  # min(7) is 7 (Python's min of one int would be an error)
    "max": lambda *values: max(values),
    "make_divisible": make_divisible,
}
"""The functions an expression may call, by name."""
ARITY = {"make_divisible": (2, 3)}
"""Fewest and most arguments of the functions that have a most (min and max take one or more)."""


def evaluate(text: str, names: Mapping[str, Any]) -> int:
    """The integer value of an expression over the given names."""
    return _Parser(text, names).parse()


def substitute(value: str, names: Mapping[str, Any]) -> Any:
    """Replace `${...}` in a string.

    A string that is exactly one placeholder takes the placeholder's value: an integer, or, for a
    bare parameter name, the parameter's value whatever its type (a list, a bool, a string).
    Placeholders inside longer text are formatted into it.
    """

    def value_of(inner: str) -> Any:
        inner = inner.strip()
        return names[inner] if inner in names else evaluate(inner, names)

    whole = _PLACEHOLDER.fullmatch(value.strip())
    if whole:
        return value_of(whole.group(1))
    if "${" not in value:
        return value
    result = _PLACEHOLDER.sub(lambda m: str(value_of(m.group(1))), value)
    if "${" in result:
        raise ExpressionError(f"malformed placeholder in '{value}' (expected '${{expression}}')")
    return result
