"""Layers that merge several inputs: concatenation, sum, and product with broadcasting."""

from __future__ import annotations

from collections.abc import Sequence

from convcalc.core.keys import Key, choice, dimensions, integer
from convcalc.core.tensor import Config, Shape, elements, format_shape
from convcalc.kinds.base import Evaluation, Kept, LayerKind, Made, Reach, Saved, ShapeError
from convcalc.kinds.torchcode import call
from convcalc.kinds.windows import AXIS, resolve_axis


def merge_helper(name: str, operator: str, doc: str) -> str:
    """Source of a torch helper folding its inputs with a binary operator (``Add``: +, ``Multiply``: *)."""
    return f'''class {name}(nn.Module):
    """{doc}"""

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        result = inputs[0]
        for tensor in inputs[1:]:
            result = result {operator} tensor
        return result
'''


def broadcast(inputs: Sequence[Shape], kind: str) -> Shape:
    """The shape of inputs broadcast together (PyTorch's rule, same number of dimensions): per dimension, every
    size is 1 or the largest."""
    first = inputs[0]
    if any(len(shape) != len(first) for shape in inputs[1:]):
        shapes = " and ".join(format_shape(s) for s in inputs)
        raise ShapeError(f"cannot {kind} {shapes}: they have different numbers of dimensions")
    shape = tuple(max(sizes) for sizes in zip(*inputs, strict=True))
    for shape_in in inputs:
        if any(size not in (1, largest) for size, largest in zip(shape_in, shape, strict=True)):
            shapes = " and ".join(format_shape(s) for s in inputs)
            target = format_shape(shape)
            raise ShapeError(
                f"cannot {kind} {shapes}: each size must equal the largest or be 1 (broadcasting to {target})"
            )
    return shape


class Concat(LayerKind):
    type = "concat"
    locality = "pixel"
    summary = "Concatenation along channels (or along axis); all other dimensions must match."
    many_inputs = True
    keys = (AXIS,)

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = (C_1 + C_2 + ..., H, W)."""
        first = inputs[0]
        axis = resolve_axis(config["axis"], first, self.type)
        for other in inputs[1:]:
            if len(other) != len(first) or other[:axis] + other[axis + 1 :] != first[:axis] + first[axis + 1 :]:
                shapes = ", ".join(format_shape(s) for s in inputs)
                along = "the channels" if axis == 0 else f"axis {axis}"
                raise ShapeError(f"cannot concatenate {shapes}: sizes other than {along} differ")
        return Evaluation((*first[:axis], sum(s[axis] for s in inputs), *first[axis + 1 :]))

    def reach(self, config: Config) -> Reach:
        """On the channels, each pixel's own; along a spatial axis, the positions move: all of them."""
        return "pixel" if config["axis"] == 0 else "all"

    torch_helper = '''class Concat(nn.Module):
    """Concatenation on the channel axis (or on dim)."""

    def __init__(self, dim: int = 1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return torch.cat(inputs, dim=self.dim)
'''

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return call("Concat", dim=(resolve_axis(config["axis"], inputs[0], self.type) + 1, 1))


class Add(LayerKind):
    type = "add"
    locality = "pixel"
    summary = "Element-wise sum of inputs of one shape (a residual connection's merge)."
    many_inputs = True
    flops_rule = "(inputs - 1) per output element"

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = in; FLOPs = (n - 1) * elements."""
        if any(s != inputs[0] for s in inputs[1:]):
            shapes = " and ".join(format_shape(s) for s in inputs)
            raise ShapeError(f"cannot add {shapes}: shapes differ")
        return Evaluation(inputs[0], flops=(len(inputs) - 1) * elements(inputs[0]))

    torch_helper = merge_helper("Add", "+", "Element-wise sum of tensors of one shape (a residual connection's merge).")

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        """The helper class named after the kind: Add(), Multiply()."""
        return f"{self.type.capitalize()}()"


class Multiply(Add):
    """Add's merge with a product, and sizes of 1 broadcast (its FLOPs rule and torch module are Add's)."""

    type = "multiply"
    summary = (
        "Element-wise product of inputs, broadcasting sizes of 1 (squeeze-and-excitation's x * gate(x), "
        "C x H x W times C x 1 x 1)."
    )
    torch_helper = merge_helper("Multiply", "*", "Element-wise product of tensors, broadcasting sizes of 1.")

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = the inputs' broadcast shape; FLOPs = (n - 1) * elements of the output."""
        shape = broadcast(inputs, "multiply")
        return Evaluation(shape, flops=(len(inputs) - 1) * elements(shape))

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """Each product keeps both factors: every input, and the partial products of more than two."""
        partial = tuple(Made(elements(output) * batch) for _ in inputs[2:])
        return (*(Kept(index) for index in range(len(inputs))), *partial)


OPERATIONS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**"}
"""The element-wise operations of an ``arithmetic`` layer, by name, with Python's operator."""


class Arithmetic(LayerKind):
    type = "arithmetic"
    locality = "pixel"
    summary = (
        "An element-wise +, -, *, / or ** of two inputs, or of one input and a constant of shape `constant` (sizes "
        "aligned from the last, 1s broadcast): EfficientFormer's pool(x) - x, attention's scale, YOLO's box decoding; "
        "`learned`: the learned values the constant is (computed from), its parameters: Swin's relative position bias "
        "table of 169 x heads, gathered into a heads x 49 x 49 bias."
    )
    many_inputs = True
    keys = (
        Key("op", choice(*OPERATIONS)),
        Key("constant", dimensions, None),
        Key("learned", integer(0), 0, symbol="learned"),
    )
    flops_rule = "one per output element"

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = the operands' broadcast shape (aligned from the last axis); FLOPs = its elements; params = the
        learned values of the constant."""
        operands = [*inputs, *([tuple(config["constant"])] if config["constant"] else [])]
        if len(operands) != 2:
            raise ShapeError(f"arithmetic takes two operands (inputs, or an input and a constant), not {len(operands)}")
        if config["learned"] and not config["constant"]:
            raise ShapeError("'learned' counts the values of a constant: give its shape as 'constant'")
        rank = max(len(shape) for shape in operands)
        shape = broadcast([(1,) * (rank - len(each)) + tuple(each) for each in operands], config["op"])
        return Evaluation(shape, params=config["learned"], flops=elements(shape))

    torch_helper = '''class Arithmetic(nn.Module):
    """An element-wise operation of two tensors, or of a tensor and a constant (a buffer of ones: convcalc keeps its
    shape, not its values)."""

    def __init__(self, op: str, *constant: int, learned: int = 0) -> None:
        super().__init__()
        self.op = op
        self.register_buffer("constant", torch.ones(*constant) if constant else None)
        self.learned = nn.Parameter(torch.zeros(learned)) if learned else None  # what the constant is computed from

    def forward(self, a: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
        operation = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div, "pow": torch.pow}
        return operation[self.op](a, self.constant if b is None else b)
'''

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return call("Arithmetic", config["op"], *(config["constant"] or ()), learned=(config["learned"], 0))
