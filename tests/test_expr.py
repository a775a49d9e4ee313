"""The `${...}` language against Python's own integer arithmetic, and one test per parser error.

Random expression trees are rendered as text (with the fewest brackets the grammar needs, or with a bracket around
every operation) and their value is computed by Python's ``+ - * // %`` on the tree itself: the reference is the
language, not convcalc's parser. ``/`` is exact division: the reference is Python's ``Fraction``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc.core.errors import SpecError
from convcalc.core.keys import MAX_MAGNITUDE
from convcalc.spec.expr import MAX_PARENTHESES, ExpressionError, evaluate, substitute
from tests.netbuild import analyze_text

NAMES = {"a": 7, "b": -3, "c": 12, "big": 10**60}


class Undefined(Exception):
    """The expression has no value: a division by zero or a number beyond 10^100."""


@dataclass(frozen=True)
class Node:
    operator: str  # "+", "-", "*", "/", "//", "%", "neg", or "" for a leaf
    children: tuple[Node, ...] = ()
    leaf: str = ""

    def value(self) -> int | Fraction:
        if not self.operator:
            result = NAMES[self.leaf] if self.leaf in NAMES else int(self.leaf)
        elif self.operator == "neg":
            result = -self.children[0].value()
        else:
            left, right = (child.value() for child in self.children)
            if self.operator in ("/", "//", "%") and right == 0:
                raise Undefined("division by zero")
            result = {
                "+": lambda: left + right,
                "-": lambda: left - right,
                "*": lambda: left * right,
                "/": lambda: Fraction(left) / right,
                "//": lambda: left // right,
                "%": lambda: left % right,
            }[self.operator]()
        if abs(result) > MAX_MAGNITUDE:
            raise Undefined("too large")
        return result

    def text(self, brackets: bool) -> str:
        """Render with a bracket around every operation, or with only those the precedence needs."""
        if not self.operator:
            return self.leaf
        if self.operator == "neg":
            inner = self.children[0]
            body = inner.text(brackets)
            return f"-{body}" if not inner.operator or inner.operator == "neg" else f"-({body})"
        left, right = self.children
        level = 1 if self.operator in "+-" else 2
        left_text, right_text = left.text(brackets), right.text(brackets)
        if not brackets:
            if left.operator and left.operator != "neg" and left.level < level:
                left_text = f"({left_text})"
            if right.operator and right.operator != "neg" and right.level <= level:
                right_text = f"({right_text})"  # left-associative: a - (b - c), a // (b * c)
            return f"{left_text} {self.operator} {right_text}"
        return f"({left_text} {self.operator} {right_text})"

    @property
    def level(self) -> int:
        return 1 if self.operator in ("+", "-") else 2


LEAVES = st.one_of(
    st.integers(min_value=0, max_value=30).map(str),
    st.sampled_from(sorted(NAMES)),
).map(lambda leaf: Node("", leaf=leaf))


def extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    binary = st.builds(
        lambda op, left, right: Node(op, (left, right)),
        st.sampled_from(["+", "-", "*", "/", "//", "%"]),
        children,
        children,
    )
    return st.one_of(binary, binary, children.map(lambda child: Node("neg", (child,))))


TREES = st.recursive(LEAVES, extend, max_leaves=12)
DERANDOMIZED = settings(max_examples=300, derandomize=True, deadline=None)


@DERANDOMIZED
@given(tree=TREES, brackets=st.booleans())
def test_random_trees_match_python_arithmetic(tree: Node, brackets: bool) -> None:
    text = tree.text(brackets)
    try:
        expected = tree.value()
    except Undefined:
        with pytest.raises(ExpressionError):
            evaluate(text, NAMES)
        return
    assert evaluate(text, NAMES) == expected, text


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2 * 3 * 4", 24),  # a product of three: the loop goes on after the first '*'
        ("2 * 3 + 4 * 5", 26),
        ("2 + 3 * 4", 14),  # '*' binds tighter than '+'
        ("(2 + 3) * 4", 20),
        ("20 - 4 - 3", 13),  # left-associative: (20 - 4) - 3
        ("64 // 4 // 2", 8),  # (64 // 4) // 2, not 64 // 2
        ("7 // 2", 3),
        ("-7 // 2", -4),  # floor, as Python: -3.5 floors to -4
        ("7 % 3", 1),
        ("-7 % 3", 2),  # Python's sign of the divisor
        ("7 % -3", -2),
        ("12 / 4", 3),  # exact division succeeds when whole
        ("-12 / 4", -3),
        ("a * 2 / 7", 2),
        ("c - -2", 14),
        ("--5", 5),
        ("-(2 + 3)", -5),
        ("- - - 5", -5),
        ("a % c + c % a", 7 + 5),
        ("big * big // big", 10**60),  # 10^120 > 10^100 is refused below, but 10^60 is fine
        ("  c  ", 12),
        ("0", 0),
        ("b", -3),
        ("((((1))))", 1),
    ],
)
def test_hand_worked_values(text: str, value: int) -> None:
    if "big * big" in text:
        with pytest.raises(ExpressionError, match="too large"):
            evaluate(text, NAMES)
        return
    assert evaluate(text, NAMES) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty expression"),
        ("   ", "empty expression"),
        ("1 2", "unexpected '2'"),  # a trailing token
        ("(1 + 2) c", "unexpected 'c'"),
        ("(1 + 2 3", "missing '\\)'"),
        ("(1 + 2", "ends too early"),
        ("1 +", "ends too early"),
        ("-", "ends too early"),
        ("* 3", "unexpected '\\*'"),  # an unexpected token where a number should be
        (")", "unexpected '\\)'"),
        ("1 + % 2", "unexpected '%'"),
        ("1 $ 2", "unexpected character '\\$'"),
        ("1.5.2", "unexpected character '\\.'"),
        (".5", "unexpected character '\\.'"),
        ("7 / 0", "division by zero"),
        ("7 // 0", "division by zero"),
        ("7 % 0", "division by zero"),
        ("7 % (a - 7)", "division by zero"),
        ("d + 1", "unknown name 'd'"),
        ("flag + 1", "'\\+' needs a number, not true"),
        ("-flag", "'-' needs a number, not true"),
        ("min(flag, 1)", "'min' needs a number, not true"),
        ("text", "'text' is 'x', not a number or true/false"),
        ("1 and true", "'and' needs true or false, not 1"),
        ("false or 2", "'or' needs true or false, not 2"),
        ("not 0", "'not' needs true or false, not 0"),
        ("1 if c else 2", "'if' needs true or false, not 12"),
        ("1 if true", "'if' without 'else'"),
        ("1 if true 2", "'if' without 'else'"),
        ("1 < true", "cannot compare 1 < true"),
        ("true < false", "cannot compare true < false"),
        ("a = 1", "unexpected character '='"),
        ("abs(1, 2)", "abs takes 1 argument, not 2"),
        ("make_divisible(1)", "make_divisible takes 2 to 3 arguments, not 1"),
        ("make_divisible(7, 2.5)", "a whole divisor of at least 1, not 2.5"),
        ("min()", "unexpected '\\)'"),
        ("true or d", "unknown name 'd'"),  # names are checked where they are written, even where not evaluated
        ("and", "unexpected 'and'"),
        ("1" + "0" * 101, "too large"),  # a literal of 102 digits
        ("1" + "0" * 100 + " + 1", "too large"),  # 10^100 + 1: the sum
        ("0 - 1" + "0" * 100 + " - 1", "too large"),  # -(10^100) - 1: the difference
        ("big * big", "too large"),  # 10^120: the product
        ("huge", "too large"),  # a parameter beyond the limit
        ("0." + "0" * 100 + "1", "too fine"),  # 1 / 10^101
        ("1 / 3" + " / 3" * 210, "too fine"),  # 3^211 > 10^100: each division's denominator is checked
        ("0.1" + " * 0.1" * 100, "too fine"),  # 10^-101
        ("(" * (MAX_PARENTHESES + 1) + "1" + ")" * (MAX_PARENTHESES + 1), "nested parentheses"),
    ],
)
def test_every_parser_error(text: str, message: str) -> None:
    names = {**NAMES, "flag": True, "text": "x", "huge": MAX_MAGNITUDE + 1}
    with pytest.raises(ExpressionError, match=message):
        evaluate(text, names)


def test_documented_limits() -> None:
    assert MAX_PARENTHESES == 50  # docs/reference/errors.md's table of limits
    assert MAX_MAGNITUDE == 10**100


def test_messages_show_the_expression() -> None:
    with pytest.raises(ExpressionError) as raised:
        evaluate("x", {})
    assert str(raised.value) == (
        "unknown name 'x' in '${x}' (block parameters: none; a layer's shape: NAME.channels, NAME.height, NAME.width; "
        "in a repeat: copy)"
    )
    with pytest.raises(ExpressionError) as raised:
        evaluate("x", {"b": 1, "a": 2})
    assert str(raised.value) == (
        "unknown name 'x' in '${x}' (block parameters: a, b; a layer's shape: NAME.channels, NAME.height, NAME.width; "
        "in a repeat: copy)"
    )
    long = "1" + " + 1" * 30 + " + " + "9" * 101  # the message quotes the first 60 characters
    with pytest.raises(ExpressionError) as raised:
        evaluate(long, {})
    assert str(raised.value) == f"'{long[:60]}' is too large (more than 10^100)"
    literal = "2 + " * 20 + "1" * 5_000  # a literal too long to read: refused before Python's int() would fail
    with pytest.raises(ExpressionError) as raised:
        evaluate(literal, {})
    assert str(raised.value) == f"'{literal[:60]}' is too large (more than 10^100)"
    with pytest.raises(ExpressionError, match="too large"):
        evaluate("1" * 5_000 + ".5", {})  # a decimal alike
    fine = "1 + " * 20 + "0.1" + " * 0.1" * 101
    with pytest.raises(ExpressionError) as raised:
        evaluate(fine, {})
    assert str(raised.value) == f"'{fine[:60]}' is too fine (a fraction with a denominator above 10^100)"
    deep = "(" * 51 + "1" + ")" * 51  # and the first 40 here
    with pytest.raises(ExpressionError) as raised:
        evaluate(deep, {})
    assert str(raised.value) == f"more than 50 nested parentheses in '{'(' * 40}...'"


def test_limits_are_inclusive() -> None:
    assert evaluate("1" + "0" * 100, {}) == 10**100  # exactly 10^100 is allowed (101 digits)
    assert evaluate("0." + "0" * 99 + "1", {}) == Fraction(1, 10**100)  # and a denominator of 10^100
    assert evaluate("0.1" + " * 0.1" * 99, {}) == Fraction(1, 10**100)
    assert evaluate("0 - 1" + "0" * 100, {}) == -(10**100)
    deepest = "(" * MAX_PARENTHESES + "1" + ")" * MAX_PARENTHESES
    assert evaluate(deepest, {}) == 1
    # depth is nesting, not a count: many parentheses side by side are fine
    assert evaluate(" + ".join(["(1)"] * (MAX_PARENTHESES + 5)), {}) == MAX_PARENTHESES + 5
    # and a closed bracket gives back exactly its one level
    with pytest.raises(ExpressionError, match="nested parentheses"):
        evaluate("(1) + " + "(" * 51 + "1" + ")" * 51, {})
    assert evaluate("(1) + (2) + " + deepest, {}) == 4


def test_substitute() -> None:
    names = {"c": 8, "shape": [1, 2], "on": True}
    assert substitute("${c * 2}", names) == 16
    assert substitute(" ${ c } ", names) == 8
    assert substitute("${shape}", names) == [1, 2]  # a bare name keeps its type
    assert substitute("${on}", names) is True
    assert substitute("conv${c}_${c // 4}", names) == "conv8_2"
    assert substitute("plain", names) == "plain"
    with pytest.raises(ExpressionError, match="malformed placeholder"):
        substitute("a${c", names)
    with pytest.raises(ExpressionError, match="malformed placeholder"):
        substitute("x${c}${", names)


BLOCK = """
input: [3, 8, 8]
blocks:
  b:
    params: {c: 8}
    layers:
      - {type: conv, name: k, filters: "FILTERS", kernel: 1}
layers:
  - {block: b, name: x}
"""


@pytest.mark.parametrize(
    ("expression", "filters"),
    [
        ("${c - -2}", 8 + 2),  # unary minus: 8 - (-2)
        ("${c * 3 * 2 / 4}", 8 * 3 * 2 // 4),  # 48 / 4 = 12 exactly
        ("${c % 5 + 1}", 3 + 1),
        ("${(c + 4) // 5}", 12 // 5),
    ],
)
def test_expressions_through_the_public_api(expression: str, filters: int) -> None:
    (layer,) = analyze_text(BLOCK.replace("FILTERS", expression)).layers
    assert layer.output_shape == (filters, 8, 8)
    assert layer.params == 3 * filters + filters  # 1x1 kernel: 3 * filters weights + filters biases


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("7 / 2", Fraction(7, 2)),  # exact: no float is made inside an expression
        ("7 / 2 * 2", 7),
        ("0.1 + 0.2 == 0.3", True),  # decimals are exact fractions (in floats this is false)
        ("c * 0.25", 3),  # 12 / 4
        ("ceil(a * 0.25)", 2),  # 1.75 up
        ("floor(a * 0.25)", 1),
        ("ceil(-1.5)", -1),
        ("floor(-1.5)", -2),
        ("round(2.5)", 2),  # halves to even, as Python's round
        ("round(3.5)", 4),
        ("round(-2.5)", -2),
        ("round(2.6)", 3),
        ("round(40 * 1.5 / 8) * 8", 64),  # 60 / 8 = 7.5 rounds to 8
        ("abs(b)", 3),
        ("abs(-1.5)", Fraction(3, 2)),
        ("min(3, 1.5)", Fraction(3, 2)),
        ("max(b, a, c)", 12),
        ("make_divisible(c * 1.5, 8)", 24),  # 18 -> 16 is below 0.9 * 18, so 24
        ("make_divisible(40 * 0.25, 8)", 16),  # int(10 + 4) // 8 * 8 = 8 < 9, so 8 + 8
        ("7.5 // 2", 3),
        ("7.5 % 2", Fraction(3, 2)),
        ("a == 7", True),
        ("a != 7", False),
        ("a < c", True),
        ("a < 7", False),
        ("a <= 6", False),
        ("a > 6", True),
        ("a >= 7", True),
        ("c >= 13", False),
        ("a <= 7", True),
        ("a > 7", False),
        ("a >= 8", False),
        ("b < 0 < a < c", True),  # chained as Python: b < 0 and 0 < a and a < c
        ("0 < a < 5", False),
        ("1 < 2 < 3 < 4 < 3", False),  # the last of a chain counts too
        ("1 < 2 < 3 < 4 < 5", True),
        ("1 + 2 == 3", True),  # arithmetic binds tighter than comparisons
        ("true", True),
        ("false", False),
        ("True", True),
        ("False", False),
        ("flag", True),
        ("not flag", False),
        ("not not flag", True),
        ("not not not flag", False),
        ("not not not not flag", True),
        ("a == 7 and c == 12", True),
        ("a == 7 and c == 11", False),
        ("a == 6 or c == 12", True),
        ("not a == 6", True),  # not binds looser than ==
        ("true or false and false", True),  # and binds tighter than or: true or (false and false)
        ("(true or false) and false", False),
        ("flag == true", True),
        ("flag != false", True),
        ("1 if a > c else 2", 2),
        ("1 if a < c else 2", 1),
        ("1 if false else 2 if false else 3", 3),  # chains to the right
        ("(a if flag else c) * 2", 14),
        ("1 if true else 1 / 0", 1),  # the branch not taken is never evaluated
        ("1 / 0 if false else 2", 2),
        ("false and 1 / 0 == 1", False),
        ("true or 1 / 0 == 1", True),
        ("half * 4", 2),  # a float parameter is the decimal it was written as
        ("third * 3 == 1", False),  # ...so 0.333 is 333/1000, not 1/3
    ],
)
def test_comparisons_booleans_functions_and_fractions(text: str, value: Fraction | int | bool) -> None:
    names = {**NAMES, "flag": True, "half": 0.5, "third": 0.333}
    result = evaluate(text, names)
    assert result == value and type(result) is type(value), (text, result)


def test_a_long_chain_does_not_nest() -> None:
    # 10,000 terms, a comparison chain and a conditional chain: lists walked in loops, not nested calls
    assert evaluate(" + ".join(["1"] * 10_000), {}) == 10_000
    assert evaluate(" < ".join(str(i) for i in range(5_000)), {}) is True
    assert evaluate(" else ".join(f"{i} if false" for i in range(5_000)) + " else 7", {}) == 7
    assert evaluate(" and ".join(["true"] * 5_000), {}) is True


def test_results_leave_as_ints_floats_or_booleans() -> None:
    assert substitute("${c * 0.5}", NAMES) == 6 and type(substitute("${c * 0.5}", NAMES)) is int
    assert substitute("${7 / 2}", NAMES) == 3.5
    assert substitute("${0.2 * 3 / 4}", NAMES) == 0.15  # 3/20, the float nearest it
    assert substitute("${a > 3}", NAMES) is True
    assert substitute("big_${a > 3}_${7 / 2}", NAMES) == "big_true_3.5"


@pytest.mark.parametrize(
    ("expression", "filters"),
    [
        ("${ceil(c * 0.25)}", 2),  # 8 / 4
        ("${round(c * 1.5 / 8) * 8}", 16),  # 12 / 8 = 1.5 rounds to even: 2, times 8
        ("${c if c > 4 else 4}", 8),
        ("${16 if c == 8 and true else 1}", 16),
    ],
)
def test_new_expressions_through_the_public_api(expression: str, filters: int) -> None:
    (layer,) = analyze_text(BLOCK.replace("FILTERS", expression)).layers
    assert layer.output_shape == (filters, 8, 8)
    assert layer.params == 3 * filters + filters


def test_a_count_key_refuses_a_number_that_is_not_whole() -> None:
    with pytest.raises(SpecError) as raised:
        analyze_text(BLOCK.replace("FILTERS", "${c * 0.3}"))  # 2.4 filters
    error = raised.value
    assert "'filters'" in error.message and "2.4" in error.message
    assert error.location.line == 7 and error.layer == "x.k"
    with pytest.raises(SpecError, match="'filters': expected a whole number, got the boolean true"):
        analyze_text(BLOCK.replace("FILTERS", "${c > 3}"))
