"""`${...}` expressions in block bodies: integer arithmetic over block parameters.

Grammar (parsed here, never handed to ``eval``)::

    expr   := term (('+' | '-') term)*
    term   := unary (('*' | '//' | '/' | '%') unary)*
    unary  := '-' unary | atom
    atom   := INTEGER | NAME | '(' expr ')'

``/`` is exact division: it is an error when the result is not a whole number. ``//`` floors.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from convcalc.keys import MAX_MAGNITUDE, shown

MAX_PARENTHESES = 50
"""Deepest nesting of parentheses in one expression."""
_TOKEN = re.compile(r"\s*(?:(\d+)|([A-Za-z_][A-Za-z0-9_]*)|(//|[-+*/%()]))")
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
            self.depth += 1
            if self.depth > MAX_PARENTHESES:
                raise ExpressionError(f"more than {MAX_PARENTHESES} nested parentheses in '{self.text[:40]}...'")
            value = self.expr()
            if self.take() != ")":
                raise ExpressionError(f"missing ')' in '{self.text}'")
            self.depth -= 1
            return value
        if token.isdigit():
            return self.check(int(token) if len(token) <= 101 else MAX_MAGNITUDE + 1)
        if token[0].isalpha() or token[0] == "_":
            return self.lookup(token)
        raise ExpressionError(f"unexpected '{token}' in '{self.text}'")

    def lookup(self, name: str) -> int:
        if name not in self.names:
            known = ", ".join(sorted(self.names)) or "none"
            raise ExpressionError(f"unknown name '{name}' in '${{{self.text}}}' (block parameters: {known})")
        value = self.names[name]
        if isinstance(value, bool) or not isinstance(value, int):
            raise ExpressionError(f"'{name}' is {shown(value)}, not an integer, so it cannot be used in arithmetic")
        return self.check(value)

    def check(self, value: int) -> int:
        if abs(value) > MAX_MAGNITUDE:
            raise ExpressionError(f"'{self.text[:60]}' is too large (more than 10^100)")
        return value


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
