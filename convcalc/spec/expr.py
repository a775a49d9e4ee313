"""`${...}` expressions in block bodies: exact arithmetic, comparisons and conditions over block parameters and
layer shapes.

Grammar (parsed here, never handed to ``eval``), loosest first, as Python binds them::

    cond   := or ('if' or 'else' or)*              a if c else b (chains to the right)
    or     := and ('or' and)*
    and    := not ('and' not)*
    not    := 'not' not | compare
    compare:= sum (('==' | '!=' | '<' | '<=' | '>' | '>=') sum)*   chained: a < b < c is a < b and b < c
    sum    := term (('+' | '-') term)*
    term   := unary (('*' | '/' | '//' | '%') unary)*
    unary  := '-' unary | atom
    atom   := NUMBER | DECIMAL | 'true' | 'false' | NAME | FUNCTION '(' cond (',' cond)* ')' | '(' cond ')'

Numbers are exact: whole numbers are Python ints, a decimal such as ``0.25`` and the result of ``/`` are exact
fractions (``7 / 2`` is 7/2, ``//`` floors). A result that is a whole number is an int; one that is not becomes a
float only where it leaves the expression (a ``rate`` may take it; a count or size refuses it, naming its key).
``and``, ``or``, ``not`` and ``if`` take true or false, and only the operand or branch they need is evaluated. A NAME
may be dotted (``in.channels``, ``layer1.0.height``): the names mapping decides what it means. The functions are
``min``, ``max``, ``abs``, ``round`` (halves to even, as Python's), ``ceil``, ``floor`` and
``make_divisible(v, divisor[, min_value])``, torchvision's ``_make_divisible``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from convcalc.core.keys import MAX_MAGNITUDE, shown

MAX_PARENTHESES = 50
"""Deepest nesting of parentheses (and function calls) in one expression."""
Value = int | Fraction | bool
"""What an expression computes: an exact number (an int when whole) or a truth value."""
Thunk = Callable[[], Value]
"""A parsed piece of an expression, evaluated when (and only if) its value is needed."""
COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
CONSTANTS = {"true": True, "false": False, "True": True, "False": False}
KEYWORDS = frozenset({"and", "or", "not", "if", "else", *CONSTANTS})
"""Words an expression reserves: no block parameter may be named so."""
_TOKEN = re.compile(
    r"\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)|(//|==|!=|<=|>=|[-+*/%(),<>]))"
)
_PLACEHOLDER = re.compile(r"\$\{([^{}]*)\}")


class ExpressionError(ValueError):
    """A malformed expression, an unknown name, a division by zero or a value of the wrong type."""


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


def shown_value(value: Value) -> str:
    """A value as the language writes it: 3, 3.5, true."""
    if isinstance(value, bool):
        return str(value).lower()
    return str(plain(value))


def plain(value: Value) -> int | float | bool:
    """A value as it leaves the expression: a fraction (never whole: ``check`` makes those ints) as the nearest
    float, anything else as it is."""
    return float(value) if isinstance(value, Fraction) else value


@dataclass(frozen=True)
class Function:
    """A function an expression may call: what it computes, and its fewest and most arguments (None: any)."""

    compute: Callable[..., Value]
    least: int = 1
    most: int | None = 1

    def arguments(self) -> str:
        """How many arguments it takes, in words: '1 argument', '2 to 3 arguments', '1 or more arguments'."""
        if self.most is None:
            return f"{self.least} or more arguments"
        if self.most == self.least:
            return f"{self.least} argument{'s' if self.least != 1 else ''}"
        return f"{self.least} to {self.most} arguments"


class _Operations:
    """The typed operations of an expression (``text``, for messages): numbers with numbers, truths with truths."""

    text: str

    def compare(self, operator: str, left: Value, right: Value) -> bool:
        """Numbers with any comparison; true and false with == and != only."""
        mixed = isinstance(left, bool) != isinstance(right, bool)
        if mixed or (isinstance(left, bool) and operator not in ("==", "!=")):
            raise ExpressionError(
                f"cannot compare {shown_value(left)} {operator} {shown_value(right)} in '{self.text}' "
                "(numbers compare with numbers; true and false only with == and !=)"
            )
        return COMPARISONS[operator](left, right)

    def apply(self, operator: str, left: int | Fraction, right: int | Fraction) -> int | Fraction:
        """``left operator right``, exactly: ``/`` makes a fraction, ``//`` floors, ``%`` takes the divisor's sign."""
        if operator in ("+", "-", "*"):
            return left + right if operator == "+" else left - right if operator == "-" else left * right
        if right == 0:
            raise ExpressionError(f"division by zero in '{self.text}'")
        if operator == "/":
            return Fraction(left) / right
        return left // right if operator == "//" else left % right

    def number(self, value: Value, operation: str) -> int | Fraction:
        if isinstance(value, bool):
            raise ExpressionError(f"'{operation}' needs a number, not {shown_value(value)}, in '{self.text}'")
        return value

    def truth(self, value: Value, operation: str) -> bool:
        if not isinstance(value, bool):
            raise ExpressionError(
                f"'{operation}' needs true or false, not {shown_value(value)}, in '{self.text}' (compare it: x != 0)"
            )
        return value

    def check(self, value: int | Fraction) -> int | Fraction:
        """The value, an int when whole; an error beyond 10^100, or for a fraction finer than 1 / 10^100 (which
        keeps every number's digits, and so the time to compute with it, bounded)."""
        if not -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE:
            raise ExpressionError(f"'{self.text[:60]}' is too large (more than 10^100)")
        if isinstance(value, Fraction):
            if value.denominator > MAX_MAGNITUDE:
                raise ExpressionError(f"'{self.text[:60]}' is too fine (a fraction with a denominator above 10^100)")
            return value.numerator if value.denominator == 1 else value
        return value


class _Parser(_Operations):
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

    def expect(self, token: str, missing: str) -> None:
        if self.take() != token:
            raise ExpressionError(f"{missing} in '{self.text}'")

    def parse(self) -> Thunk:
        if not self.tokens:
            raise ExpressionError("empty expression '${}'")
        value = self.conditional()
        if self.peek() is not None:
            raise ExpressionError(f"unexpected '{self.peek()}' in '{self.text}'")
        return value

    # Each level below returns a thunk; chains (a + b + c, a if c else b if d else e) are lists walked in a loop, so
    # only parentheses and calls nest, at most MAX_PARENTHESES deep.

    def conditional(self) -> Thunk:
        """``a if c else b``: the first value whose condition holds, else the last."""
        value = self.disjunction()
        choices: list[tuple[Thunk, Thunk]] = []
        while self.peek() == "if":
            self.take()
            condition = self.disjunction()
            if self.peek() != "else":
                raise ExpressionError(f"'if' without 'else' in '{self.text}'")
            self.take()
            choices.append((value, condition))
            value = self.disjunction()
        if not choices:
            return value
        last = value

        def choose() -> Value:
            for chosen, condition in choices:
                if self.truth(condition(), "if"):
                    return chosen()
            return last()

        return choose

    def disjunction(self) -> Thunk:
        return self.logic("or", self.conjunction, stop=True)

    def conjunction(self) -> Thunk:
        return self.logic("and", self.negation, stop=False)

    def logic(self, word: str, operand: Callable[[], Thunk], stop: bool) -> Thunk:
        """``a or b`` (true at the first true operand) or ``a and b`` (false at the first false one)."""
        operands = [operand()]
        while self.peek() == word:
            self.take()
            operands.append(operand())
        if len(operands) == 1:
            return operands[0]

        def run() -> Value:
            truths = (self.truth(operand(), word) for operand in operands)
            return any(truths) if stop else all(truths)

        return run

    def negation(self) -> Thunk:
        words = []
        while self.peek() == "not":
            words.append(self.take())
        inner = self.comparison()
        if not words:
            return inner
        odd = len(words) % 2 == 1
        return lambda: self.truth(inner(), "not") != odd

    def comparison(self) -> Thunk:
        operands = [self.sum()]
        operators: list[str] = []
        while self.peek() in COMPARISONS:
            operators.append(self.take())
            operands.append(self.sum())
        if not operators:
            return operands[0]

        def run() -> Value:
            left = operands[0]()
            for index, operator in enumerate(operators):
                right = operands[index + 1]()
                if not self.compare(operator, left, right):
                    return False
                left = right
            return True

        return run

    def sum(self) -> Thunk:
        return self.arithmetic(("+", "-"), self.term)

    def term(self) -> Thunk:
        return self.arithmetic(("*", "/", "//", "%"), self.unary)

    def arithmetic(self, operators: tuple[str, ...], operand: Callable[[], Thunk]) -> Thunk:
        first = operand()
        rest: list[tuple[str, Thunk]] = []
        while self.peek() in operators:
            rest.append((self.take(), operand()))
        if not rest:
            return first

        def run() -> Value:
            value = self.number(first(), rest[0][0])
            for operator, right in rest:
                value = self.check(self.apply(operator, value, self.number(right(), operator)))
            return value

        return run

    def unary(self) -> Thunk:
        negative = False
        while self.peek() == "-":
            self.take()
            negative = not negative
        inner = self.atom()
        return (lambda: -self.number(inner(), "-")) if negative else inner

    def atom(self) -> Thunk:
        token = self.take()
        if token == "(":
            self.open_parenthesis()
            inner = self.conditional()
            self.expect(")", "missing ')'")
            self.depth -= 1
            return inner
        if token[0].isdigit():
            if len(token.partition(".")[0]) > 101:
                raise ExpressionError(f"'{self.text[:60]}' is too large (more than 10^100)")
            value = self.check(Fraction(token) if "." in token else int(token))
            return lambda: value
        if token in CONSTANTS:
            truth = CONSTANTS[token]
            return lambda: truth
        if (token[0].isalpha() or token[0] == "_") and token not in KEYWORDS:
            if token in FUNCTIONS and self.peek() == "(":
                return self.call(token)
            return self.lookup(token)
        raise ExpressionError(f"unexpected '{token}' in '{self.text}'")

    def open_parenthesis(self) -> None:
        """One level deeper (a parenthesis or a call's); past MAX_PARENTHESES an error."""
        self.depth += 1
        if self.depth > MAX_PARENTHESES:
            raise ExpressionError(f"more than {MAX_PARENTHESES} nested parentheses in '{self.text[:40]}...'")

    def call(self, name: str) -> Thunk:
        """A function call: its arguments (numbers), then the function's result."""
        self.take()  # '('
        self.open_parenthesis()
        arguments = [self.conditional()]
        while self.peek() == ",":
            self.take()
            arguments.append(self.conditional())
        self.expect(")", f"missing ')' after the arguments of {name}")
        self.depth -= 1
        function = FUNCTIONS[name]
        if not function.least <= len(arguments) <= (function.most or len(arguments)):
            raise ExpressionError(f"{name} takes {function.arguments()}, not {len(arguments)}, in '{self.text}'")
        return lambda: self.check(function.compute(*(self.number(a(), name) for a in arguments)))

    def lookup(self, name: str) -> Thunk:
        if name not in self.names:
            known = ", ".join(sorted(self.names)) or "none"
            raise ExpressionError(
                f"unknown name '{name}' in '${{{self.text}}}' (block parameters: {known}; a layer's shape: "
                "NAME.channels, NAME.height, NAME.width; in a repeat: copy)"
            )
        return lambda: self.value_of(name)

    def value_of(self, name: str) -> Value:
        """A parameter's value in the language: ints and booleans as they are, a decimal (a float) as the exact
        fraction it was written as (``0.1`` is 1/10)."""
        value = self.names[name]
        if isinstance(value, float) and math.isfinite(value):
            return self.check(Fraction(repr(value)))
        if not isinstance(value, (int, Fraction)):
            raise ExpressionError(f"'{name}' is {shown(value)}, not a number or true/false, in '{self.text}'")
        return value if isinstance(value, bool) else self.check(value)


def make_divisible(value: int | Fraction, divisor: int | Fraction, min_value: int | Fraction | None = None) -> int:
    """torchvision's ``_make_divisible`` in exact numbers: ``value`` rounded to the nearest multiple of ``divisor``
    (halves up), at least ``min_value`` (default ``divisor``), and not more than 10% below ``value``.

    torchvision computes ``max(min_value, int(v + divisor / 2) // divisor * divisor)`` in floats, then adds
    ``divisor`` if that is below ``0.9 * v``; here the same exactly: ``int(v + d / 2)`` truncates
    ``(2v + d) / 2`` toward zero, and ``new < 0.9 * v`` is ``10 * new < 9 * v``.
    """
    if not isinstance(divisor, int) or divisor <= 0:
        raise ExpressionError(f"make_divisible needs a whole divisor of at least 1, not {shown_value(divisor)}")
    if value < 0:
        raise ExpressionError(f"make_divisible rounds a width, not the negative {shown_value(value)}")
    least = divisor if min_value is None else min_value
    truncated = (2 * value + divisor) // 2  # int(v + d / 2) for v >= 0
    rounded = max(least, truncated // divisor * divisor)
    whole = rounded + divisor if 10 * rounded < 9 * value else rounded
    if not isinstance(whole, int):
        raise ExpressionError(f"make_divisible needs a whole min_value, not {shown_value(least)}")
    return whole


FUNCTIONS: dict[str, Function] = {
    "min": Function(lambda *values: min(values), most=None),  # min(7) is 7 (Python's min of one int would fail)
    "max": Function(lambda *values: max(values), most=None),
    "abs": Function(abs),
    "round": Function(round),  # round(2.5) is 2, round(3.5) is 4: halves to even, as Python's round
    "ceil": Function(math.ceil),
    "floor": Function(math.floor),
    "make_divisible": Function(make_divisible, 2, 3),
}
"""The functions an expression may call, by name."""


def evaluate(text: str, names: Mapping[str, Any]) -> Value:
    """The exact value of an expression over the given names."""
    return _Parser(text, names).parse()()


def substitute(value: str, names: Mapping[str, Any]) -> Any:
    """Replace `${...}` in a string.

    A string that is exactly one placeholder takes the placeholder's value (:func:`plain`: an int, a float for a
    number that is not whole, true or false), or, for a bare parameter name, the parameter's value whatever its type
    (a list, a string). Placeholders inside longer text are formatted into it (``conv${i}``, ``${x > 1}`` as true).
    """

    def value_of(inner: str) -> Any:
        inner = inner.strip()
        return names[inner] if inner in names else plain(evaluate(inner, names))

    whole = _PLACEHOLDER.fullmatch(value.strip())
    if whole:
        return value_of(whole.group(1))
    if "${" not in value:
        return value
    result = _PLACEHOLDER.sub(lambda m: text_of(value_of(m.group(1))), value)
    if "${" in result:
        raise ExpressionError(f"malformed placeholder in '{value}' (expected '${{expression}}')")
    return result


def text_of(value: Any) -> str:
    """A value written into text: true and false as YAML writes them, anything else as Python prints it."""
    return str(value).lower() if isinstance(value, bool) else str(value)
