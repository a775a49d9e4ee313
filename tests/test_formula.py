"""formula.Term: an int that records its arithmetic, every operator in both directions, against Python's ints."""

from __future__ import annotations

import operator
from collections.abc import Callable

import pytest

from convcalc.core.formula import Term, ceil_div, floor_div, named, recording, symbol
from tests.test_explain import steps_of

X = 13
Y = 4


def check(result: int, value: int, symbols: str, numbers: str) -> None:
    assert type(result) is Term
    assert int(result) == value
    assert (result.symbols, result.numbers) == (symbols, numbers)


@pytest.mark.parametrize(
    ("function", "value", "symbols", "numbers"),
    [
        # Term on the left
        (lambda x: x + Y, 13 + 4, "x + 4", "13 + 4"),
        (lambda x: x - Y, 13 - 4, "x - 4", "13 - 4"),
        (lambda x: x * Y, 13 * 4, "x * 4", "13 * 4"),
        (lambda x: x // Y, 13 // 4, "x / 4", "13 / 4"),
        # reflected: the plain int on the left
        (lambda x: Y + x, 4 + 13, "4 + x", "4 + 13"),
        (lambda x: Y - x, 4 - 13, "4 - x", "4 - 13"),
        (lambda x: Y * x, 4 * 13, "4 * x", "4 * 13"),
        (lambda x: 100 // x, 100 // 13, "100 / x", "100 / 13"),
        # a negative constant is bracketed like a sum
        (lambda x: x * -2, 13 * -2, "x * (-2)", "13 * (-2)"),
        (lambda x: x - -2, 13 + 2, "x - (-2)", "13 - (-2)"),
        (lambda x: x - 0, 13, "x - 0", "13 - 0"),  # zero is a plain constant, no brackets
        (lambda x: x // -1, -13, "x / (-1)", "13 / (-1)"),
    ],
)
def test_each_operator_both_ways(function: Callable[[int], int], value: int, symbols: str, numbers: str) -> None:
    check(function(symbol("x", X)), value, symbols, numbers)


@pytest.mark.parametrize(
    ("op", "identity"),
    [(operator.add, 0), (operator.mul, 1)],
)
def test_identities_keep_the_term(op: Callable[[int, int], int], identity: int) -> None:
    x = symbol("x", X)
    assert op(x, identity) is x
    assert op(identity, x) is x


def test_multiplying_by_zero_is_a_plain_zero_both_ways() -> None:
    x = symbol("x", X)
    for product in (x * 0, 0 * x):
        assert product == 0 and type(product) is int


def test_dividing_by_one_keeps_the_term() -> None:
    x = symbol("x", X)
    assert x // 1 is x


def test_two_terms_and_brackets() -> None:
    a, b, c = symbol("a", 7), symbol("b", 3), symbol("c", 2)
    check((a + b) * c, (7 + 3) * 2, "(a + b) * c", "(7 + 3) * 2")
    check(a - (b + c), 7 - (3 + 2), "a - (b + c)", "7 - (3 + 2)")
    check(a - (b - c), 7 - (3 - 2), "a - (b - c)", "7 - (3 - 2)")
    check(a - b - c, 7 - 3 - 2, "a - b - c", "7 - 3 - 2")
    check(a * b // c, 7 * 3 // 2, "a * b / c", "7 * 3 / 2")
    check(a // (b * c), 7 // (3 * 2), "a / (b * c)", "7 / (3 * 2)")
    check(a * (b // c), 7 * (3 // 2), "a * (b / c)", "7 * (3 / 2)")
    check((a + b) // c, (7 + 3) // 2, "(a + b) / c", "(7 + 3) / 2")
    check(a // (b // c), 7 // (3 // 2), "a / (b / c)", "7 / (3 / 2)")
    check(2 * (a + b), 2 * (7 + 3), "2 * (a + b)", "2 * (7 + 3)")
    check(20 - (a + b), 20 - (7 + 3), "20 - (a + b)", "20 - (7 + 3)")
    check(100 // (a * b), 100 // (7 * 3), "100 / (a * b)", "100 / (7 * 3)")


def test_floor_and_ceil() -> None:
    a, b = symbol("a", 7), symbol("b", 2)
    check(floor_div(a, b), 3, "floor(a / b)", "floor(7 / 2)")
    check(ceil_div(a, b), 4, "ceil(a / b)", "ceil(7 / 2)")
    check(ceil_div(a - 1, b), 3, "ceil((a - 1) / b)", "ceil((7 - 1) / 2)")  # 6 / 2 is whole: ceil 3, not 4
    check(ceil_div(-7, b), -3, "ceil((-7) / b)", "ceil((-7) / 2)")  # ceil(-3.5) = -3; a negative constant bracketed
    check(floor_div(7, b), 3, "floor(7 / b)", "floor(7 / 2)")  # a Term on either side explains itself
    check(floor_div(a, 2), 3, "floor(a / 2)", "floor(7 / 2)")
    check(ceil_div(7, b), 4, "ceil(7 / b)", "ceil(7 / 2)")
    check(ceil_div(a, 2), 4, "ceil(a / 2)", "ceil(7 / 2)")
    assert floor_div(-7, 2) == -4 and ceil_div(-7, 2) == -3 and ceil_div(8, 2) == 4  # plain ints: plain results
    assert type(floor_div(7, 2)) is int and type(ceil_div(7, 2)) is int


def test_named_values_and_recording() -> None:
    assert named("H", 5) == 5 and type(named("H", 5)) is int  # plain ints stay plain
    with recording() as log:
        a = symbol("a", 3)
        h = named("H_out", a * 2)
        assert (h.symbols, h.numbers, int(h)) == ("H_out", "6", 6)
        assert h.definition is not None and h.definition.symbols == "a * 2"
        w = named("W_out", 9, like=a)  # computed outside the arithmetic, but explained
        assert int(w) == 9 and w.definition is None
    assert [term.symbols for term in log] == ["H_out", "W_out"]
    assert named("later", symbol("b", 1)) == 1  # outside `recording`: no log, no error
    assert repr(symbol("k", 3)) == "Term(3, 'k')" and str(symbol("k", 3)) == "3"


def test_zero_bias_drops_out_of_an_explained_flops_formula() -> None:
    """bias: false gives 0 * H_out * W_out in the FLOPs rule: the explanation must show 2 * MACs alone, = 2 * MACs."""
    text = "input: [2, 5, 4]\nlayers:\n  - {type: conv, name: c, filters: 3, kernel: [2, 3], bias: false}\n"
    steps = steps_of(text, "c")
    macs = 4 * 2 * 3 * 2 * 3 * 2  # H_out 5 - 2 + 1 = 4, W_out 4 - 3 + 1 = 2: 4 * 2 * C_out 3 * k 2*3 * C_in 2
    assert steps["MACs"][2] == macs
    assert steps["FLOPs"] == ("2 * MACs", f"2 * {macs}", 2 * macs)
