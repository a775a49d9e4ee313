"""What makes an ONNX graph one, checked before any node is read (ONNX's own checker says the same): each node reads
only tensors made before it (the node list is in an order it can run in: no cycle), each tensor is made by one node,
each node has an output, and a node of a standard op has as many inputs and outputs as the op takes."""

from __future__ import annotations

from convcalc.importers.onnx.importer import Importer
from convcalc.importers.onnx.model import OnnxNode

MANY = 2**31
"""No upper bound (Concat's inputs, Split's outputs)."""
UNARY = (1, 1, 1, 1)
BINARY = (2, 2, 1, 1)
ARITY: dict[str, tuple[int, int, int, int]] = {
    **dict.fromkeys(
        ("Relu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Gelu", "LeakyRelu", "Flatten", "Transpose"), UNARY
    ),
    **dict.fromkeys(("AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Identity", "Softmax", "LRN"), UNARY),
    **dict.fromkeys(("Shape", "Cast"), UNARY),
    **dict.fromkeys(("Add", "Sub", "Mul", "Div", "Pow", "MatMul", "Gather"), BINARY),
    "Conv": (2, 3, 1, 1),
    "ConvTranspose": (2, 3, 1, 1),
    "Gemm": (2, 3, 1, 1),
    "BatchNormalization": (5, 5, 1, 5),
    "Clip": (1, 3, 1, 1),
    "MaxPool": (1, 1, 1, 2),
    "ReduceMean": (1, 2, 1, 1),
    "Reshape": (1, 2, 1, 1),
    "Concat": (1, MANY, 1, 1),
    "Dropout": (1, 3, 1, 2),
    "Resize": (1, 4, 1, 1),
    "Upsample": (1, 2, 1, 1),
    "Constant": (0, 0, 1, 1),
    "Unsqueeze": (1, 2, 1, 1),
    "Squeeze": (1, 2, 1, 1),
    "Split": (1, 2, 1, MANY),
    "Slice": (1, 5, 1, 1),
    "Pad": (1, 4, 1, 1),
    "LayerNormalization": (2, 3, 1, 3),
    "GroupNormalization": (3, 3, 1, 1),
    **dict.fromkeys(("Range", "ScatterND"), (3, 3, 1, 1)),
}
"""For each standard op convcalc reads: the fewest and most inputs, the fewest and most outputs (over the opsets,
onnx/defs: Reshape's shape, Slice's and Pad's were attributes before opset 5, 10 and 11)."""


def check_graph(importer: Importer) -> None:
    """A SpecError naming the first node that breaks one of the rules above."""
    model = importer.model
    made: dict[str, int] = dict.fromkeys([name for name, _ in model.inputs] + list(model.initializers), -1)
    first_maker: dict[str, int] = {}
    for index, node in enumerate(model.nodes):
        for tensor in node.outputs:
            first_maker.setdefault(tensor, index)
    for index, node in enumerate(model.nodes):
        importer.index = index
        _check_arity(importer, node)
        for tensor in filter(None, node.inputs):
            if tensor in made:
                continue
            maker = first_maker.get(tensor)
            if maker is None:
                raise importer.fail(
                    node, f"input '{tensor}' is neither an input of the graph, a constant nor made by a node"
                )
            raise importer.fail(
                node,
                f"it reads '{tensor}', which {importer.place(maker)} makes later: the nodes must be in an order they "
                "can run in (is there a cycle?)",
            )
        for tensor in filter(None, node.outputs):
            if tensor in made:
                maker_text = "is an input or a constant of the graph" if made[tensor] < 0 else "is made by"
                other = "" if made[tensor] < 0 else f" {importer.place(made[tensor])}"
                raise importer.fail(node, f"it makes '{tensor}', which {maker_text}{other} already")
            made[tensor] = index


def _check_arity(importer: Importer, node: OnnxNode) -> None:
    if not node.outputs or not node.outputs[0]:
        raise importer.fail(node, "it has no output (or its first output has no name)")
    if node.domain not in ("", "ai.onnx") or node.op_type not in ARITY:
        return
    fewest, most, fewest_out, most_out = ARITY[node.op_type]
    for count, low, high, what in (
        (len(node.inputs), fewest, most, "input"),
        (len(node.outputs), fewest_out, most_out, "output"),
    ):
        if not low <= count <= high:
            takes = f"{low}" if low == high else f"{low} to {high}" if high < MANY else f"{low} or more"
            raise importer.fail(node, f"it has {count} {what}s; {node.op_type} takes {takes}")
    missing = [position for position in range(fewest) if not node.inputs[position]]
    if missing:
        raise importer.fail(node, f"its input {missing[0]} has no name; {node.op_type} needs it")
