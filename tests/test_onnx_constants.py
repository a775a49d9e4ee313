"""Constant folding of ONNX shape arithmetic (convcalc/importers/onnx/constants.py): each op on n-dimensional constants
against hand arithmetic written out beside it; the bounds on its work; values no tensor can hold, refused at their node;
chains as PyTorch 2.13's TorchScript exporter writes them (F.pad's pads, attention's qkv split and scale, YOLO's split
bounds) folded in real files to the values onnx's ReferenceEvaluator computes."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import pytest

from convcalc import analyze
from convcalc.importers.onnx.constants import fold
from convcalc.importers.onnx.importer import Importer
from convcalc.importers.onnx.model import OnnxNode, Tensor, read_model
from convcalc.importers.onnx.read import build_graph
from tests import onnxbuild as ob
from tests.conftest import REPO
from tests.test_onnx_hostile import onnx_file, refused

INT64_MAX = 2**63 - 1
REAL = REPO / "tests" / "data" / "onnx" / "real"


def const(dims: tuple[int, ...], values: tuple[float | int, ...] | None = None) -> Tensor:
    return Tensor("c", dims, values)


def vector(*values: float | int) -> Tensor:
    return Tensor("v", (len(values),), values)


def run(op: str, *inputs: Tensor | None, **attributes: object) -> Tensor | None:
    """``op`` folded on ``inputs`` (None: an optional input not given)."""
    node = OnnxNode(op, op, [f"in{k}" if tensor else "" for k, tensor in enumerate(inputs)], ["out"], attributes)
    return fold(node, list(inputs))


def folded(op: str, *inputs: Tensor | None, **attributes: object) -> tuple[tuple[int, ...], object]:
    made = run(op, *inputs, **attributes)
    assert made is not None and made.name == "out"
    return made.dims, made.values


def bits(value: float) -> bytes:
    """A float as float32 bits: folded floats compare exactly with a float32 runtime's."""
    return struct.pack("<f", value)


M23 = const((2, 3), (0, 1, 2, 3, 4, 5))  # [[0, 1, 2], [3, 4, 5]]

# Each case's dims and values are worked out by hand beside it; when they were written, each case was also run once
# as a one-node model through onnx 1.23's ReferenceEvaluator (ints as int64, floats as float32), which agreed.

CASES = [
    # Gather on axis 1, -3 counting from the end (-3 + 3 = 0): rows [0, 1, 2] -> [2, 0], [3, 4, 5] -> [5, 3]
    pytest.param("Gather", [M23, vector(2, -3)], {"axis": 1}, (2, 2), (2, 0, 5, 3), id="gather-axis-1"),
    # 2-D indices on axis 0 of a vector: dims are the indices' dims; [[10, 30], [20, 20]]
    pytest.param(
        "Gather", [vector(10, 20, 30), const((2, 2), (0, 2, 1, 1))], {}, (2, 2), (10, 30, 20, 20), id="gather-2d"
    ),
    # a scalar index drops the axis: row 1 of M23
    pytest.param("Gather", [M23, const((), (1,))], {}, (3,), (3, 4, 5), id="gather-scalar"),
    # F.pad's flip: start -1 + 4 = 3; end -(2^63 - 1) + 4 is far below, clamped to -1 stepping back: 3, 2, 1, 0
    pytest.param(
        "Slice",
        [vector(10, 20, 30, 40), vector(-1), vector(-INT64_MAX), vector(0), vector(-1)],
        {},
        (4,),
        (40, 30, 20, 10),
        id="slice-backward",
    ),
    # stepping back from 10, past the end: clamped to the last index 3; end -10 + 4 = -6 clamped to -1: 3, 2, 1, 0
    pytest.param(
        "Slice",
        [vector(10, 20, 30, 40), vector(10), vector(-10), vector(0), vector(-1)],
        {},
        (4,),
        (40, 30, 20, 10),
        id="slice-backward-from-past-the-end",
    ),
    # the qkv split's Slice(shape, 1, INT64_MAX): end clamped to the size 3 -> indices 1, 2
    pytest.param("Slice", [vector(197, 1, 2304), vector(1), vector(INT64_MAX)], {}, (2,), (1, 2304), id="slice-to-end"),
    # on the last axis (-1 + 2 = 1), from 1 by 2: columns 1 and 3 of [[0, 1, 2, 3], [4, 5, 6, 7]]
    pytest.param(
        "Slice",
        [const((2, 4), tuple(range(8))), vector(1), vector(4), vector(-1), vector(2)],
        {},
        (2, 2),
        (1, 3, 5, 7),
        id="slice-2d-step-2",
    ),
    # start 5 and end 10 both clamp to the size 4: nothing kept
    pytest.param("Slice", [vector(1, 2, 3, 4), vector(5), vector(10)], {}, (0,), (), id="slice-empty"),
    # opset 1's attributes
    pytest.param("Slice", [vector(1, 2, 3, 4)], {"starts": (1,), "ends": (3,)}, (2,), (2, 3), id="slice-attributes"),
    # output rank 1 + 2 = 3; axes 0 and -1 + 3 = 2
    pytest.param("Unsqueeze", [vector(7, 8), vector(0, -1)], {}, (1, 2, 1), (7, 8), id="unsqueeze"),
    pytest.param("Unsqueeze", [vector(7, 8)], {"axes": (1,)}, (2, 1), (7, 8), id="unsqueeze-attribute"),
    pytest.param("Squeeze", [const((1, 3, 1), (4, 5, 6))], {}, (3,), (4, 5, 6), id="squeeze-all"),
    pytest.param("Squeeze", [const((1, 3, 1), (4, 5, 6)), vector(0)], {}, (3, 1), (4, 5, 6), id="squeeze-axis"),
    # on axis 1: [[1], [2]] and [[3, 4], [5, 6]] -> [[1, 3, 4], [2, 5, 6]]
    pytest.param(
        "Concat",
        [const((2, 1), (1, 2)), const((2, 2), (3, 4, 5, 6))],
        {"axis": 1},
        (2, 3),
        (1, 3, 4, 2, 5, 6),
        id="concat-axis-1",
    ),
    # one part: itself; without axis (ONNX requires one from opset 4), the 1-D shape vectors on their one axis
    pytest.param("Concat", [M23], {"axis": 0}, (2, 3), (0, 1, 2, 3, 4, 5), id="concat-one-part"),
    pytest.param("Concat", [vector(1, 2), vector(3)], {}, (3,), (1, 2, 3), id="concat-vectors-no-axis"),
    # default perm reverses: M23 transposed is [[0, 3], [1, 4], [2, 5]]
    pytest.param("Transpose", [M23], {}, (3, 2), (0, 3, 1, 4, 2, 5), id="transpose-default"),
    # F.pad's pairs [[0, 0], [0, 0], [0, 0], [0, 1]] -> [[0, 0, 0, 0], [0, 0, 0, 1]]
    pytest.param(
        "Transpose",
        [const((4, 2), (0, 0, 0, 0, 0, 0, 0, 1))],
        {"perm": (1, 0)},
        (2, 4),
        (0, 0, 0, 0, 0, 0, 0, 1),
        id="transpose-perm",
    ),
    # 0 copies the size 2; -1 is 24 / 2 = 12
    pytest.param("Reshape", [const((2, 3, 4), tuple(range(24))), vector(0, -1)], {}, (2, 12), tuple(range(24))),
    # allowzero: a 0 is a size of 0 (0 values either way)
    pytest.param("Reshape", [const((0, 3), ()), vector(3, 0)], {"allowzero": 1}, (3, 0), (), id="reshape-allowzero"),
    pytest.param("ConstantOfShape", [vector(2, 3)], {}, (2, 3), (0.0,) * 6, id="constant-of-shape-default"),
    pytest.param(
        "ConstantOfShape", [vector(3)], {"value": Tensor("", (1,), (1,))}, (3,), (1, 1, 1), id="constant-of-shape-1"
    ),
    # (3, 1) against [2, 1, 2]: aligned at the end (1, 3, 1) and (2, 1, 2) -> (2, 3, 2), each row's value twice
    pytest.param(
        "Expand",
        [const((3, 1), (1, 2, 3)), vector(2, 1, 2)],
        {},
        (2, 3, 2),
        (1, 1, 2, 2, 3, 3) * 2,
        id="expand",
    ),
    # ceil((10 - 0) / 3) = 4 values; ceil((0 - 5) / -2) = ceil(2.5) = 3; ceil((5 - 0) / -1) = -5 -> none
    pytest.param("Range", [vector(0), vector(10), vector(3)], {}, (4,), (0, 3, 6, 9), id="range"),
    pytest.param("Range", [vector(5), vector(0), vector(-2)], {}, (3,), (5, 3, 1), id="range-backward"),
    pytest.param("Range", [vector(0), vector(5), vector(-1)], {}, (0,), (), id="range-empty"),
    pytest.param("Range", [vector(0.5), vector(2.0), vector(0.5)], {}, (3,), (0.5, 1.0, 1.5), id="range-floats"),
    # (2, 1) + (3,) broadcast to (2, 3): [[10 + 1, 10 + 2, 10 + 3], [20 + 1, 20 + 2, 20 + 3]]
    pytest.param("Add", [const((2, 1), (10, 20)), vector(1, 2, 3)], {}, (2, 3), (11, 12, 13, 21, 22, 23), id="add"),
    pytest.param("Sub", [vector(8), const((), (2,))], {}, (1,), (6,), id="sub"),
    pytest.param("Sub", [vector(2.5), vector(1.0)], {}, (1,), (1.5,), id="sub-floats"),
    # (2, 1, 3) + (1, 2, 1) -> (2, 2, 3): out[i][j][k] = a[i][0][k] + b[0][j][0], a = 0..5, b = [10, 20]
    pytest.param(
        "Add",
        [const((2, 1, 3), (0, 1, 2, 3, 4, 5)), const((1, 2, 1), (10, 20))],
        {},
        (2, 2, 3),
        (10, 11, 12, 20, 21, 22, 13, 14, 15, 23, 24, 25),
        id="add-3d",
    ),
    # integers divide toward zero: -7 / 2 = -3.5 -> -3, 7 / -2 -> -3 (floor division would give -4)
    pytest.param("Div", [vector(-7, 7, -7, 7), vector(2, 2, -2, -2)], {}, (4,), (-3, 3, 3, -3), id="div-integers"),
    pytest.param("Div", [vector(7.0), vector(2.0)], {}, (1,), (3.5,), id="div-floats"),
    # mod takes the divisor's sign: -7 = 2 * -4 + 1, 7 = -2 * -4 - 1; fmod the dividend's: -7 = 2 * -3 - 1
    pytest.param("Mod", [vector(-7, 7), vector(2, -2)], {}, (2,), (1, -1), id="mod"),
    pytest.param("Mod", [vector(-7, 7), vector(2, -2)], {"fmod": 1}, (2,), (-1, 1), id="mod-fmod"),
    pytest.param("Mod", [vector(-7.5), vector(2.0)], {"fmod": 1}, (1,), (-1.5,), id="mod-fmod-floats"),
    # int64 wraps: 2^63 - 1 + 1 = -2^63; 2^62 * 4 = 2^64 = 0 mod 2^64
    pytest.param("Add", [vector(INT64_MAX), vector(1)], {}, (1,), (-(2**63),), id="add-wraps"),
    pytest.param("Mul", [vector(2**62), vector(4)], {}, (1,), (0,), id="mul-wraps"),
    pytest.param("Pow", [vector(2, -3), vector(10, 3)], {}, (2,), (1024, -27), id="pow"),
    pytest.param("Pow", [vector(3, -2), vector(0)], {}, (2,), (1, 1), id="pow-0"),  # x^0 = 1
    # sqrt(2) = 1.41421356...; float32 holds 1.41421354 (0x3FB504F3), written 1.4142135
    pytest.param("Pow", [vector(2.0), vector(0.5)], {}, (1,), (1.4142135,), id="pow-floats"),
    pytest.param("Neg", [vector(-(2**63), 5)], {}, (2,), (-(2**63), -5), id="neg-wraps"),
    pytest.param("Abs", [vector(-5, 5, -2.5)], {}, (3,), (5, 5, 2.5), id="abs"),
    pytest.param("Floor", [vector(-2.5, 2.5, 3)], {}, (3,), (-3.0, 2.0, 3), id="floor"),
    pytest.param("Ceil", [vector(-2.5, 2.5)], {}, (2,), (-2.0, 3.0), id="ceil"),
    # variadic, broadcast: max(1, 3, 2) = 3, max(5, 3, 2) = 5
    pytest.param("Max", [vector(1, 5), vector(3), vector(2, 2)], {}, (2,), (3, 5), id="max"),
    pytest.param("Min", [vector(1, 5), vector(3)], {}, (2,), (1, 3), id="min"),
    pytest.param("Equal", [vector(1, 2, 3), vector(1)], {}, (3,), (True, False, False), id="equal"),
    pytest.param("Less", [vector(1, 2, 3), vector(2)], {}, (3,), (True, False, False), id="less"),
    pytest.param("Greater", [vector(1, 2, 3), vector(2)], {}, (3,), (False, False, True), id="greater"),
    pytest.param("Not", [vector(True, False)], {}, (2,), (False, True), id="not"),
    pytest.param("And", [vector(True, True), vector(True, False)], {}, (2,), (True, False), id="and"),
    pytest.param("Or", [vector(False, False), vector(True, False)], {}, (2,), (True, False), id="or"),
    # ViT's Where(shape == -1, 1, shape): [1, -1, -1] -> [1, 1, 1]
    pytest.param(
        "Where",
        [vector(False, True, True), vector(1, 1, 1), vector(1, -1, -1)],
        {},
        (3,),
        (1, 1, 1),
        id="where",
    ),
    # to int64 truncates toward zero: 2.7 -> 2, -2.7 -> -2, -0.5 -> 0
    pytest.param("Cast", [vector(2.7, -2.7, -0.5)], {"to": 7}, (3,), (2, -2, 0), id="cast-truncates"),
    # to int32, 2^31 wraps to -2^31; to uint8, -1 is 255
    pytest.param("Cast", [vector(2**31)], {"to": 6}, (1,), (-(2**31),), id="cast-int32"),
    pytest.param("Cast", [vector(-1)], {"to": 2}, (1,), (255,), id="cast-uint8"),
    # 200, -1 and 40000 in each integer type (ONNX's data types: 3 int8, 4 uint16, 5 int16, 12 uint32, 13 uint64):
    # 200 - 2^8 = -56; 40000 mod 2^8 = 64; -1 + 2^16 = 65535; 40000 - 2^16 = -25536; -1 + 2^32; -1 + 2^64
    pytest.param("Cast", [vector(200, -1, 40000)], {"to": 3}, (3,), (-56, -1, 64), id="cast-int8"),
    # uint64's 2^62 and 2^64 - 1 to int64: 2^62 fits; 2^64 - 1 wraps to -1
    pytest.param("Cast", [vector(2**62, 2**64 - 1)], {"to": 7}, (2,), (2**62, -1), id="cast-uint64-to-int64"),
    pytest.param("Cast", [vector(200, -1, 40000)], {"to": 4}, (3,), (200, 65535, 40000), id="cast-uint16"),
    pytest.param("Cast", [vector(200, -1, 40000)], {"to": 5}, (3,), (200, -1, -25536), id="cast-int16"),
    pytest.param("Cast", [vector(200, -1, 40000)], {"to": 12}, (3,), (200, 2**32 - 1, 40000), id="cast-uint32"),
    pytest.param("Cast", [vector(200, -1, 40000)], {"to": 13}, (3,), (200, 2**64 - 1, 40000), id="cast-uint64"),
    # float32 has a 24-bit significand: 2^24 + 1 = 16777217 rounds to the even 16777216
    pytest.param("Cast", [vector(16777217)], {"to": 1}, (1,), (16777216.0,), id="cast-float32"),
    pytest.param("Cast", [vector(0, 3)], {"to": 9}, (2,), (False, True), id="cast-bool"),
    pytest.param("Cast", [vector(0.1)], {"to": 11}, (1,), None, id="cast-double-not-worked-out"),
    # dims (2, 3, 4, 5) from 1 to -1 + 4 = 3: [3, 4]
    pytest.param("Shape", [const((2, 3, 4, 5))], {"start": 1, "end": -1}, (2,), (3, 4), id="shape-start-end"),
    pytest.param("Size", [const((2, 3, 4))], {}, (), (24,), id="size"),
    # index 1 and 3 of [0, 0, 0, 0] set to 5 and 7
    pytest.param(
        "ScatterND", [vector(0, 0, 0, 0), const((2, 1), (1, 3)), vector(5, 7)], {}, (4,), (0, 5, 0, 7), id="scatter"
    ),
    # 1-D indices: one index of one coordinate, index 2 set to 7
    pytest.param(
        "ScatterND", [vector(0, 0, 0), vector(2), const((), (7,))], {}, (3,), (0, 0, 7), id="scatter-1d-index"
    ),
    # rows 0 and 1 of a 2 x 2 set to [6, 7] and [8, 9]: each index's one coordinate, then the next index's
    pytest.param(
        "ScatterND",
        [const((2, 2), (0, 0, 0, 0)), const((2, 1), (0, 1)), const((2, 2), (6, 7, 8, 9))],
        {},
        (2, 2),
        (6, 7, 8, 9),
        id="scatter-rows",
    ),
    # row 1 of a 2 x 2 set to [8, 9]
    pytest.param(
        "ScatterND",
        [const((2, 2), (0, 0, 0, 0)), const((1, 1), (1,)), const((1, 2), (8, 9))],
        {},
        (2, 2),
        (0, 0, 8, 9),
        id="scatter-row",
    ),
    # dims (2 * 3, 4)
    pytest.param("Flatten", [const((2, 3, 4), tuple(range(24)))], {"axis": 2}, (6, 4), tuple(range(24))),
    # axis -1 of 3 dims is axis 2: (2 * 3, 2)
    pytest.param(
        "Flatten", [const((2, 3, 2), tuple(range(12)))], {"axis": -1}, (6, 2), tuple(range(12)), id="flatten-negative"
    ),
    pytest.param("ReduceMean", [const((2, 3, 4)), vector(1)], {}, (2, 1, 4), None, id="reduce-keepdims"),
    pytest.param("ReduceMean", [const((2, 3, 4)), vector(1)], {"keepdims": 0}, (2, 4), None, id="reduce"),
    pytest.param("ReduceSum", [const((2, 3, 4))], {}, (1, 1, 1), None, id="reduce-all"),
    pytest.param("Identity", [vector(1, 2)], {}, (2,), (1, 2), id="identity"),
    # a norm has its input's dims (not its scale's)
    pytest.param(
        "BatchNormalization", [const((1, 2, 3, 3)), *[const((2,))] * 4], {}, (1, 2, 3, 3), None, id="norm-dims"
    ),
    # and more of each op's ways, each also run through onnx's ReferenceEvaluator when written, which agreed:
    pytest.param("LessOrEqual", [vector(1, 2, 3), vector(2)], {}, (3,), (True, True, False), id="less-or-equal"),
    pytest.param("GreaterOrEqual", [vector(1, 2, 3), vector(2)], {}, (3,), (False, True, True), id="greater-or-equal"),
    pytest.param(
        "Xor",
        [vector(True, True, False, False), vector(True, False, True, False)],
        {},
        (4,),
        (False, True, True, False),
        id="xor",
    ),
    pytest.param("Abs", [vector(-(2**63), -3)], {}, (2,), (-(2**63), 3), id="abs-wraps"),  # |-2^63| wraps to itself
    # no axes and noop_with_empty_axes: the input as it is
    pytest.param(
        "ReduceSum", [M23, vector()], {"noop_with_empty_axes": 1}, (2, 3), (0, 1, 2, 3, 4, 5), id="reduce-noop"
    ),
    # axis -1 of 2 dims is 1: [[1], [2]] and [[3, 4], [5, 6]] -> [[1, 3, 4], [2, 5, 6]]
    pytest.param(
        "Concat",
        [const((2, 1), (1, 2)), const((2, 2), (3, 4, 5, 6))],
        {"axis": -1},
        (2, 3),
        (1, 3, 4, 2, 5, 6),
        id="concat-negative-axis",
    ),
    # dims (2, 3, 4, 5) from -2 + 4 = 2 to the end: [4, 5]
    pytest.param("Shape", [const((2, 3, 4, 5))], {"start": -2}, (2,), (4, 5), id="shape-negative-start"),
    # column 0 of M23 (axis -1 + 2 = 1), kept as an axis of 1: [[0], [3]]
    pytest.param("Gather", [M23, vector(0)], {"axis": -1}, (2, 1), (0, 3), id="gather-negative-axis"),
    # from 4 back by 2 while above 1: indices 4 and 2
    pytest.param(
        "Slice",
        [vector(0, 1, 2, 3, 4), vector(4), vector(1), vector(0), vector(-2)],
        {},
        (2,),
        (4, 2),
        id="slice-back-by-2",
    ),
    # columns 1 to 3 of M23 (axis -1 + 2 = 1): [[1, 2], [4, 5]]
    pytest.param("Slice", [M23, vector(1), vector(3), vector(-1)], {}, (2, 2), (1, 2, 4, 5), id="slice-axis-given"),
    # numpy's mod of floats (the divisor's sign): -7.5 = 2 * -4 + 0.5
    pytest.param("Mod", [vector(-7.5), vector(2.0)], {}, (1,), (0.5,), id="mod-floats"),
    # 3^40 = 12157665459056928801 is above 2^63: int64 holds it less 2^64
    pytest.param("Pow", [vector(3), vector(40)], {}, (1,), (3**40 - 2**64,), id="pow-wraps"),
    # sqrt(0) = 0; sqrt(0.5) = 0.70710678..., float32 0.70710677
    pytest.param("Sqrt", [vector(0.0, 0.5)], {}, (2,), (0.0, 0.70710677), id="sqrt"),
    # 2-D indices on axis 1 of M23: each row's [[0, 2], [1, 1]]: [[[0, 2], [1, 1]], [[3, 5], [4, 4]]]
    pytest.param(
        "Gather",
        [M23, const((2, 2), (0, 2, 1, 1))],
        {"axis": 1},
        (2, 2, 2),
        (0, 2, 1, 1, 3, 5, 4, 4),
        id="gather-2d-axis-1",
    ),
    # axis 0: (1, 2 * 3); axis 2 = the rank: (2 * 3, 1)
    pytest.param("Flatten", [M23], {"axis": 0}, (1, 6), (0, 1, 2, 3, 4, 5), id="flatten-0"),
    pytest.param("Flatten", [const((2, 3, 4))], {}, (2, 12), None, id="flatten-default-axis-1"),  # (2, 3 * 4)
    pytest.param("Flatten", [M23], {"axis": 2}, (6, 1), (0, 1, 2, 3, 4, 5), id="flatten-rank"),
    # 3 axes reversed: (1, 2, 3) -> (3, 2, 1), out[k][j][0] = in[0][j][k]
    pytest.param(
        "Transpose", [const((1, 2, 3), (0, 1, 2, 3, 4, 5))], {}, (3, 2, 1), (0, 3, 1, 4, 2, 5), id="transpose-3-default"
    ),
    pytest.param("ReduceMax", [const((2, 3, 4)), vector(-1)], {"keepdims": 0}, (2, 3), None, id="reduce-negative-axis"),
    pytest.param("Squeeze", [const((2, 1), (4, 5)), vector(-1)], {}, (2,), (4, 5), id="squeeze-negative-axis"),
    pytest.param("ConstantOfShape", [vector()], {}, (), (0.0,), id="constant-of-shape-scalar"),  # dims []: one value
    pytest.param(
        "Range", [vector(1.0), vector(2.0), vector(0.25)], {}, (4,), (1.0, 1.25, 1.5, 1.75), id="range-quarter"
    ),
    # a whole-number start with float bounds (tensors of two types, which ONNX does not allow): computed in floats,
    # ceil((2.0 - 0) / 0.5) = 4 values
    pytest.param("Range", [vector(0), vector(2.0), vector(0.5)], {}, (4,), (0.0, 0.5, 1.0, 1.5), id="range-mixed"),
    # [3] against (2, 3): (2, 3), each row as it is
    pytest.param("Expand", [M23, vector(3)], {}, (2, 3), (0, 1, 2, 3, 4, 5), id="expand-lower-rank"),
    # a 2-D index (row 1, column 0) into a 2 x 2: one value set
    pytest.param(
        "ScatterND",
        [const((2, 2), (0, 0, 0, 0)), const((1, 2), (1, 0)), vector(9)],
        {},
        (2, 2),
        (0, 0, 9, 0),
        id="scatter-2d",
    ),
    pytest.param("Unsqueeze", [const((1,) * 63, (5,)), vector(0)], {}, (1,) * 64, (5,), id="unsqueeze-to-64-dims"),
]


@pytest.mark.parametrize(("op", "inputs", "attributes", "dims", "values"), CASES)
def test_an_op_folds_as_onnx_specifies(
    op: str, inputs: list[Tensor | None], attributes: dict[str, object], dims: tuple[int, ...], values: object
) -> None:
    made_dims, made_values = folded(op, *inputs, **attributes)
    assert made_dims == dims
    assert made_values == values
    assert made_values is None or [type(v) for v in made_values] == [type(v) for v in values]  # type: ignore[union-attr]


def test_floats_are_computed_in_float32() -> None:
    # MobileViT's attention scale, 1 / sqrt(24): in float32, sqrt(24) is 4.8989797 and 1 / 4.8989797 is 0.20412414
    # (bits 0x3E5105EB); computed in double and rounded once it would be 0.20412415, one float32 higher
    root = run("Sqrt", run("Cast", vector(24), to=1))
    assert root is not None and root.values is not None
    scale = run("Div", vector(1.0), root)
    assert scale is not None and scale.values is not None
    assert bits(scale.values[0]) == struct.pack("<I", 0x3E5105EB)
    assert math.isnan(folded("Sqrt", vector(-1.0))[1][0])  # type: ignore[index]
    assert math.isnan(folded("Max", vector(1.0), vector(math.nan))[1][0])  # type: ignore[index]


# --- bounded work, unknown dims ---------------------------------------------------------------------------------------


def test_a_constant_over_64_values_keeps_its_dims_only() -> None:
    assert folded("ConstantOfShape", vector(64))[1] == (0.0,) * 64
    assert folded("ConstantOfShape", vector(65)) == ((65,), None)
    assert folded("Range", vector(0), vector(1000), vector(1)) == ((1000,), None)
    # the class token (768 values, not decoded) expanded to [1, 1, 1]: its dims
    assert folded("Expand", const((1, 1, 768)), vector(1, 1, 1)) == ((1, 1, 768), None)
    # 2^80 values are never made: dims only, at once
    assert folded("Expand", vector(0), vector(2**40, 2**40)) == ((2**40, 2**40), None)
    assert folded("Transpose", const((768, 3072)), perm=(1, 0)) == ((3072, 768), None)  # a weight's Transpose


def test_what_cannot_be_told_is_not_folded() -> None:
    assert run("MatMul", vector(1, 2), vector(3, 4)) is None  # not an op folded
    assert run("Reshape", vector(1, 2), const((2,))) is None  # its target unknown
    assert run("Slice", vector(1, 2, 3), vector(1)) is None  # no ends given
    assert run("Cast", vector(1, 2)) == Tensor("out", (2,), None)  # no 'to' (ONNX requires one): no type to cast to
    # a ScatterND that adds (not replaces): dims only
    assert folded("ScatterND", vector(0, 0), const((1, 1), (0,)), vector(1), reduction="add") == ((2,), None)
    assert run("Add", const(()), vector(1)) is None  # neither dims nor values: dims unknown
    assert run("Cast", const((2,)), to=7) == Tensor("out", (2,), None)  # dims without values


HOSTILE = [
    pytest.param("Slice", [vector(1, 2), vector(0), vector(2), vector(0), vector(0)], {}, "a Slice step of 0"),
    pytest.param("Gather", [vector(1, 2, 3, 4), vector(7)], {}, "index 7 is out of range for 4 values"),
    pytest.param("Gather", [vector(1, 2, 3, 4), vector(4)], {}, "index 4 is out of range for 4 values"),
    pytest.param("Gather", [vector(1, 2, 3, 4), vector(-5)], {}, "index -5 is out of range for 4 values"),
    pytest.param("Unsqueeze", [vector(1, 2), vector(0, 0)], {}, "name an axis twice"),
    pytest.param("Concat", [M23, const((2, 2), (0, 0, 0, 0))], {"axis": 0}, "do not concatenate"),
    pytest.param("Reshape", [vector(1, 2), vector(0, 0)], {}, r"a 0 at index 1 of \[0, 0\] for dims \[2\]"),
    pytest.param("Reshape", [vector(1, 2, 3), vector(2, -1)], {}, r"cannot reshape dims \[3\]"),
    pytest.param("Flatten", [M23], {"axis": 3}, "axis 3 is out of range for 2 dimensions"),
    pytest.param("Flatten", [M23], {"axis": -3}, "axis -1 is out of range for 2 dimensions"),
    pytest.param("Range", [vector(0.0), vector(math.inf), vector(1.0)], {}, "a Range from 0.0 to inf by 1.0"),
    pytest.param("Range", [vector(0, 1), vector(4), vector(1)], {}, r"a Range bound of dims \[2\]"),
    pytest.param("Gather", [vector(1, 2), vector(0)], {"axis": 1}, "axis 1 is out of range for 1 dimensions"),
    pytest.param("Add", [vector(1, 2), vector(1, 2, 3)], {}, r"dims \[2\] and \[3\] do not broadcast"),
    pytest.param("Div", [vector(6), vector(0)], {}, "division by zero"),
    pytest.param("Mod", [vector(6), vector(0)], {}, "division by zero"),
    pytest.param("Range", [vector(0), vector(4), vector(0)], {}, "delta of 0"),
    pytest.param("Cast", [vector(math.nan)], {"to": 7}, "cannot cast nan"),
    pytest.param("Reshape", [vector(1.0, 2.0), vector(math.inf)], {}, "expected a whole number, got inf"),
    pytest.param("Reshape", [vector(1.0, 2.0), vector(2.5)], {}, "expected a whole number, got 2.5"),
    # [-2, -1]: the -1 is 2 / -2 = -1, and (-2) x (-1) = 2 values, but no size is below 0
    pytest.param(
        "Reshape", [vector(1, 2), vector(-2, -1)], {}, r"cannot reshape dims \[2\] \(2 values\) to \[-2, -1\]"
    ),
    pytest.param("Slice", [M23, vector(0, 0), vector(1)], {}, "a Slice of starts"),  # 2 starts, 1 end
    pytest.param("Slice", [vector(1, 2), vector(0, 0), vector(1, 1), vector(0, 0)], {}, "a Slice of starts"),  # twice
    pytest.param(
        "ConstantOfShape", [vector(3)], {"value": Tensor("", (2,), (1, 2))}, "its value is not a tensor of one value"
    ),
    pytest.param("Identity", [Tensor("t", (2,), (1, 2, 3))], {}, r"'t' holds 3 values for dims \[2\]"),
    pytest.param("Transpose", [M23], {"perm": (0, 0)}, "not an order of 2 axes"),
    pytest.param("Concat", [M23, vector(1, 2)], {"axis": 0}, "do not concatenate"),
    pytest.param("Pow", [vector(2), vector(-1)], {}, "an integer to the power -1"),
    pytest.param("Squeeze", [M23, vector(0)], {}, "is not of size 1"),
    pytest.param("Unsqueeze", [const((1,) * 64, (5,)), vector(0)], {}, "65 dimensions"),
    pytest.param("ConstantOfShape", [vector(2, -3)], {}, "a size below 0"),
    pytest.param("ScatterND", [vector(0, 0), const((1, 1), (0,)), vector(1, 2)], {}, "a ScatterND of dims"),
    # indices of no dims: no last axis to say how many coordinates an index has
    pytest.param("ScatterND", [vector(0, 0), const((), (0,)), const((), (5,))], {}, "a ScatterND of dims"),
    # indices of dims (0,): an index of no coordinates
    pytest.param("ScatterND", [vector(0, 0), const((0,), ()), vector(1, 2)], {}, "a ScatterND of dims"),
]


@pytest.mark.parametrize(("op", "inputs", "attributes", "words"), HOSTILE)
def test_a_value_no_tensor_can_hold_is_a_value_error(
    op: str, inputs: list[Tensor | None], attributes: dict[str, object], words: str
) -> None:
    with pytest.raises(ValueError, match=words):
        run(op, *inputs, **attributes)


def test_shape_arithmetic_that_cannot_be_done_is_refused_at_its_node(tmp_path: Path) -> None:
    nodes = [
        ob.node("Shape", ["x"], ["s"], "shape"),
        ob.node("Slice", ["s", "a", "b", "axes", "zero"], ["t"], "slice"),
        ob.node("Reshape", ["x", "t"], ["y"], "reshape"),
    ]
    constants = [ob.tensor(name, [1], [value], ob.INT64) for name, value in (("a", 0), ("b", 2), ("axes", 0))]
    path = onnx_file(tmp_path, nodes, initializers=[*constants, ob.tensor("zero", [1], [0], ob.INT64)])
    refused(path, "node 1 'slice' (Slice)", "a Slice step of 0")


# --- chains as PyTorch writes them, through the importer --------------------------------------------------------------


def int64(name: str, values: list[int], dims: list[int] | None = None) -> bytes:
    return ob.node(
        "Constant", [], [name], name, value=ob.tensor("", [len(values)] if dims is None else dims, values, 7)
    )


PAD_CHAIN = [  # F.pad(x, (0, 1)) on x [1, 3, 8, 8], as torch 2.13's TorchScript exporter writes it (EfficientViT)
    int64("pairs", [0, 1]),
    int64("zero", [0]),
    ob.node("Shape", ["pairs"], ["count"], "count"),  # [2]
    ob.node("Gather", ["count", "zero"], ["given"], "given", axis=0),  # [2]
    int64("rank", [4], []),
    int64("two", [2], []),
    ob.node("Mul", ["rank", "two"], ["all"], "all"),  # 4 * 2 = 8
    ob.node("Sub", ["all", "given"], ["rest"], "rest"),  # [8 - 2] = [6]
    ob.node("Cast", ["pairs"], ["cast"], "cast", to=7),
    ob.node("ConstantOfShape", ["rest"], ["zeros"], "zeros", value=ob.tensor("", [1], [0], 7)),  # six 0s
    ob.node("Concat", ["cast", "zeros"], ["flat"], "flat", axis=0),  # [0, 1, 0, 0, 0, 0, 0, 0]
    int64("byTwo", [-1, 2]),
    ob.node("Reshape", ["flat", "byTwo"], ["pairs2"], "pairs2"),  # [[0, 1], [0, 0], [0, 0], [0, 0]]
    int64("minusOne", [-1]),
    int64("far", [-INT64_MAX]),
    ob.node("Slice", ["pairs2", "minusOne", "far", "zero", "minusOne"], ["flipped"], "flip"),  # rows 3, 2, 1, 0
    ob.node("Transpose", ["flipped"], ["sides"], "sides", perm=[1, 0]),  # begins [0, 0, 0, 0], ends [0, 0, 0, 1]
    ob.node("Reshape", ["sides", "minusOne"], ["pads64"], "pads64"),
    ob.node("Cast", ["pads64"], ["pads"], "pads", to=7),
    ob.node("Pad", ["x", "pads"], ["y"], "pad", mode="constant"),
]


def importer_constants(path: str) -> dict[str, Tensor]:
    importer = Importer(read_model(Path(path).read_bytes()), path)
    build_graph(importer)
    return importer.constants


def test_the_pads_of_f_pad_are_folded(tmp_path: Path) -> None:
    path = onnx_file(tmp_path, PAD_CHAIN, outputs=[("y", [1, 3, 8, 9])])
    constants = importer_constants(path)
    assert constants["flat"] == Tensor("flat", (8,), (0, 1, 0, 0, 0, 0, 0, 0))
    assert constants["pads"] == Tensor("pads", (8,), (0, 0, 0, 0, 0, 0, 0, 1))  # the last axis's end: + 1
    assert analyze(path).output_shape == (3, 8, 9)


def test_a_reshaped_parameter_is_a_parameter(tmp_path: Path) -> None:
    # ConvNeXt's layer scale: gamma (4 values, decoded as the file's small tensors are) reshaped to [1, 4, 1, 1]
    nodes = [
        int64("target", [1, -1, 1, 1]),
        ob.node("Reshape", ["gamma", "target"], ["scale"], "reshape"),
        ob.node("Mul", ["x", "scale"], ["y"], "/block/Mul"),
    ]
    gamma = ob.tensor("gamma", [4], [1e-6] * 4)
    path = onnx_file(tmp_path, nodes, [("x", [1, 4, 2, 2])], [("y", [1, 4, 2, 2])], [gamma])
    assert importer_constants(path)["scale"] == Tensor("scale", (1, 4, 1, 1), None)
    assert analyze(path).total.params == 4  # one learned scale per channel


# --- real exports: folded as onnx's ReferenceEvaluator computes -------------------------------------------------------


def fold_file(name: str, shapes: dict[str, tuple[int, ...]]) -> dict[str, Tensor]:
    """Every constant-only node of a real export folded in order; ``shapes`` gives the Shape of activations (what
    onnxruntime gives for them), which the importer's handlers work out."""
    model = read_model((REAL / name).read_bytes())
    constants = dict(model.initializers)
    constants.update({tensor: Tensor(tensor, (len(dims),), dims) for tensor, dims in shapes.items()})
    for node in model.nodes:
        value = node.attributes.get("value")
        if node.op_type == "Constant" and isinstance(value, Tensor):
            constants[node.outputs[0]] = Tensor(node.outputs[0], value.dims, value.values)
        elif node.inputs and all(tensor in constants for tensor in node.inputs if tensor):
            made = fold(node, [constants[tensor] if tensor else None for tensor in node.inputs])
            if made is not None:
                constants[node.outputs[0]] = made
    return constants


ATTENTION = "/encoder/layers/encoder_layer_0/self_attention/"
MOBILEVIT = "/stages/stages.4/stages.4.1/transformer/transformer.1/attn/"
PAD = "/stages/stages.2/blocks/blocks.1/context_module/main/"

# Expected values from onnx 1.23's ReferenceEvaluator on each file's constant nodes (the weights the files drop
# filled with zeros), and the activations' Shape from onnxruntime 1.23 on the whole model: written in here by hand.
REFERENCE = [
    pytest.param(
        "efficientvit_b0.torchscript.onnx",
        {},
        {
            PAD + "Slice_3_output_0": ((4, 2), (0, 0, 0, 0, 0, 0, 0, 1)),
            PAD + "Cast_1_output_0": ((8,), (0,) * 7 + (1,)),
        },
        id="efficientvit-pad",
    ),
    pytest.param(
        "vit_b_16.torchscript.onnx",
        {ATTENTION + "Shape_output_0": (197, 1, 2304), ATTENTION + "Shape_1_output_0": (1, 12, 197, 64)},
        {
            "/Where_output_0": ((3,), (1, 1, 1)),  # the class token's Expand target
            "/Expand_output_0": ((1, 1, 768), None),
            ATTENTION + "Concat_1_output_0": ((4,), (197, 1, 3, 768)),  # the qkv split
            ATTENTION + "Cast_1_output_0": ((1,), (0.125,)),  # 1 / sqrt(64)
            ATTENTION + "Sqrt_1_output_0": ((1,), (0.3535533845424652,)),  # sqrt(0.125) in float32
        },
        id="vit-b-16",
    ),
    pytest.param(
        "mobilevit_xxs.torchscript.onnx",
        {MOBILEVIT + "Shape_output_0": (4, 4, 16, 24)},
        {
            MOBILEVIT + "Concat_output_0": ((5,), (4, 16, 3, 4, 24)),
            MOBILEVIT + "Div_output_0": ((1,), (0.20412413775920868,)),  # 1 / sqrt(24) in float32
            MOBILEVIT + "Sqrt_1_output_0": ((1,), (0.45180100202560425,)),
        },
        id="mobilevit-xxs",
    ),
    pytest.param(
        "yolov8n.torchscript.onnx",
        {"/model.2/Shape_output_0": (1, 32, 160, 160), "/model.22/Shape_6_output_0": (1, 4, 8400)},
        {
            "/model.2/Mul_output_0": ((1,), (16,)),  # (32 + 1) / 2 = 16 (integers), * 1
            "/model.2/Mul_1_output_0": ((1,), (32,)),
            "/model.22/Mul_output_0": ((1,), (2,)),  # (4 + 1) / 2 = 2
            "/model.22/Mul_1_output_0": ((1,), (4,)),
        },
        id="yolov8n",
    ),
]


@pytest.mark.parametrize(("name", "shapes", "expected"), REFERENCE)
def test_a_real_export_folds_as_the_reference_evaluator(
    name: str, shapes: dict[str, tuple[int, ...]], expected: dict[str, tuple[tuple[int, ...], tuple[float, ...]]]
) -> None:
    constants = fold_file(name, shapes)
    for tensor, (dims, values) in expected.items():
        made = constants[tensor]
        assert made.dims == dims, tensor
        if values is None or not isinstance(values[0], float):
            assert made.values == values, tensor
        else:
            assert made.values is not None and [bits(v) for v in made.values] == [bits(v) for v in values], tensor


def test_a_range_of_four_inputs_is_refused_naming_it(tmp_path: Path) -> None:
    """Range takes start, limit and delta (onnx/defs): a fourth input is no Range."""
    bounds = [ob.tensor(name, [], [value], ob.INT64) for name, value in (("a", 0), ("b", 4), ("c", 1), ("d", 1))]
    nodes = [ob.node("Range", ["a", "b", "c", "d"], ["r"], "range"), ob.node("Relu", ["x"], ["y"], "relu")]
    refused(onnx_file(tmp_path, nodes, initializers=bounds), "node 0 'range' (Range)", "4 inputs", "Range takes 3")
