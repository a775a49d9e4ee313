"""Integers that remember their formula, so `convcalc explain` shows the very arithmetic that computed a count.

A :class:`Term` is an ``int`` (it compares, indexes and prints as its value) that also carries two
renderings of how it was computed: with symbols (``k_h * k_w * C_in * C_out``) and with the numbers
substituted (``5 * 5 * 16 * 32``). The layer catalogue's formulas are ordinary integer arithmetic;
evaluated on plain ints they cost nothing extra, evaluated on Terms they explain themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

ADD, MUL, DIV, ATOM = 1, 2, 3, 4
"""Precedence of a rendering: a sum, a product, a quotient, or a name/number/function call."""


def _needs_brackets(operator: str, side: str, precedence: int) -> bool:
    """Textbook bracketing: (a + b) * c, a - (b + c), a * (b / c), a / (b * c)."""
    if operator in "+-":
        return side == "right" and operator == "-" and precedence == ADD
    if operator == "*":
        return precedence in (ADD, DIV)
    return precedence == ADD if side == "left" else precedence < ATOM


class Term(int):
    """An int with its formula: ``symbols`` and ``numbers`` are the same expression, named and substituted."""

    symbols: str
    numbers: str
    precedence: int
    definition: Term | None

    def __new__(
        cls,
        value: int,
        symbols: str,
        numbers: str | None = None,
        precedence: int = ATOM,
        definition: Term | None = None,
    ) -> Term:
        term = super().__new__(cls, value)
        term.symbols = symbols
        term.numbers = str(int(value)) if numbers is None else numbers
        term.precedence = precedence
        term.definition = definition
        return term

    def __repr__(self) -> str:
        return f"Term({int(self)}, {self.symbols!r})"

    def __str__(self) -> str:
        return str(int(self))

    def _binary(self, other: int, operator: str, value: int, reflected: bool = False) -> Term:
        left, right = (_part(other), _part(self)) if reflected else (_part(self), _part(other))
        precedence = {"+": ADD, "-": ADD, "*": MUL, "/": DIV}[operator]
        return Term(value, _join(operator, left, right, 0), _join(operator, left, right, 1), precedence)

    def __add__(self, other: int) -> int:
        if type(other) is int and other == 0:
            return self
        return self._binary(other, "+", int(self) + int(other))

    def __radd__(self, other: int) -> int:
        if type(other) is int and other == 0:
            return self
        return self._binary(other, "+", int(other) + int(self), reflected=True)

    def __sub__(self, other: int) -> int:
        return self._binary(other, "-", int(self) - int(other))

    def __rsub__(self, other: int) -> int:
        return self._binary(other, "-", int(other) - int(self), reflected=True)

    def __mul__(self, other: int) -> int:
        if type(other) is int and other in (0, 1):
            return self if other else 0
        return self._binary(other, "*", int(self) * int(other))

    def __rmul__(self, other: int) -> int:
        if type(other) is int and other in (0, 1):
            return self if other else 0
        return self._binary(other, "*", int(other) * int(self), reflected=True)

    def __floordiv__(self, other: int) -> int:
        """Written ``/``: the catalogue uses ``//`` only where the division is exact (channels / groups)."""
        if type(other) is int and other == 1:
            return self
        return self._binary(other, "/", int(self) // int(other))

    def __rfloordiv__(self, other: int) -> int:
        return self._binary(other, "/", int(other) // int(self), reflected=True)


def _part(value: int) -> tuple[str, str, int]:
    """(symbols, numbers, precedence) of an operand; a plain int is a constant."""
    if isinstance(value, Term):
        return value.symbols, value.numbers, value.precedence
    text = str(int(value))
    return text, text, ATOM if value >= 0 else ADD


def _bracket(text: str, needed: bool) -> str:
    return f"({text})" if needed else text


def _join(operator: str, left: tuple[str, str, int], right: tuple[str, str, int], index: int) -> str:
    """``left operator right`` in symbols (index 0) or numbers (index 1), with textbook brackets."""
    left_text = _bracket(str(left[index]), _needs_brackets(operator, "left", left[2]))
    right_text = _bracket(str(right[index]), _needs_brackets(operator, "right", right[2]))
    return f"{left_text} {operator} {right_text}"


def _call(function: str, value: int, a: int, b: int) -> Term:
    """``function(a / b)``, bracketed as a division."""
    left, right = _part(a), _part(b)
    return Term(value, f"{function}({_join('/', left, right, 0)})", f"{function}({_join('/', left, right, 1)})")


def floor_div(a: int, b: int) -> int:
    """floor(a / b)."""
    value = int(a) // int(b)
    return _call("floor", value, a, b) if isinstance(a, Term) or isinstance(b, Term) else value


def ceil_div(a: int, b: int) -> int:
    """ceil(a / b)."""
    value = -(-int(a) // int(b))
    return _call("ceil", value, a, b) if isinstance(a, Term) or isinstance(b, Term) else value


_definitions: ContextVar[list[Term] | None] = ContextVar("definitions", default=None)


@contextmanager
def recording() -> Iterator[list[Term]]:
    """Collect, in order, every intermediate result that ``named`` labels while formulas run."""
    log: list[Term] = []
    token = _definitions.set(log)
    try:
        yield log
    finally:
        _definitions.reset(token)


def named(name: str, value: int, like: int | None = None) -> int:
    """Give an intermediate result a name (``H_out``) when formulas are being explained; else the value itself.

    The result is explained if ``value`` is a Term, or ``like`` is (for values computed outside the formula
    arithmetic, such as a sum over windows).
    """
    if not isinstance(value, Term) and not isinstance(like, Term):
        return value
    term = Term(int(value), name, definition=value if isinstance(value, Term) else None)
    log = _definitions.get()
    if log is not None:
        log.append(term)
    return term


def symbol(name: str, value: int) -> Term:
    """A named input to a formula: ``symbol('k_h', 5)``."""
    return Term(value, name)
