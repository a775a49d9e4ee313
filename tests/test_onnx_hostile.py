"""Hostile ONNX files (issue 26): graphs that are not valid ONNX, values a spec would refuse, work without bound, and
wrong messages. Each file is built byte by byte (tests/onnxbuild.py); each is refused with exit code 2 and one
located line naming the node (`net.onnx: node 3 'name' (Conv): error: ...`), or read as hand arithmetic says.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from convcalc import analyze, load_spec
from convcalc.engine.graph import MAX_LAYERS
from tests import onnxbuild as ob
from tests.conftest import REPO, run_cli
from tests.processes import measurable, peak_run
from tests.test_hostile import one_error

Dims = Sequence[int | str]


def onnx_file(
    tmp_path: Path,
    nodes: Sequence[bytes],
    inputs: Sequence[tuple[str, Dims]] = (("x", [1, 3, 8, 8]),),
    outputs: Sequence[tuple[str, Dims]] = (("y", [1, 3, 8, 8]),),
    initializers: Sequence[bytes] = (),
    value_infos: Sequence[tuple[str, Dims]] = (),
    name: str = "net.onnx",
) -> str:
    path = tmp_path / name
    path.write_bytes(ob.model(nodes, inputs, outputs, initializers, value_infos))
    return str(path)


def refused(path: str, *words: str) -> str:
    """Exit 2 and one error line; the words in it; never a file:line:column for a model file."""
    result = run_cli("analyze", path)
    one_error(result, *words)
    assert f"{Path(path).name}:" not in result.stderr.replace(f"{Path(path).name}: ", ""), result.stderr
    return result.stderr


# --- graphs that are not valid ONNX ---------------------------------------------------------------------------------


def test_a_relu_with_two_inputs_is_refused_naming_the_node(tmp_path: Path) -> None:
    nodes = [ob.node("Relu", ["x"], ["r"], "first"), ob.node("Relu", ["r", "x"], ["y"], "second")]
    refused(onnx_file(tmp_path, nodes), "net.onnx: node 1 'second' (Relu): error: ", "2 inputs", "Relu takes 1")


def test_a_node_that_reads_what_a_later_node_makes_is_refused(tmp_path: Path) -> None:
    """A cycle: b = Add(a, c) and c = Relu(b). Read in the file's order, b reads c before any node made it."""
    nodes = [
        ob.node("Relu", ["x"], ["a"], "a"),
        ob.node("Add", ["a", "c"], ["b"], "b"),
        ob.node("Relu", ["b"], ["c"], "c"),
        ob.node("Relu", ["c"], ["y"], "out"),
    ]
    refused(onnx_file(tmp_path, nodes), "node 1 'b' (Add): error: ", "'c'", "node 2 'c' (Relu)", "later")


def test_a_cycle_through_an_op_convcalc_does_not_know_is_refused(tmp_path: Path) -> None:
    """An unknown op with a stated shape is counted as opaque: it too may only read what earlier nodes made."""
    nodes = [
        ob.node("Relu", ["x"], ["a"], "a"),
        ob.node("Mystery", ["a", "c"], ["b"], "b"),
        ob.node("Relu", ["b"], ["c"], "c"),
        ob.node("Relu", ["c"], ["y"], "out"),
    ]
    path = onnx_file(tmp_path, nodes, value_infos=[("b", [1, 3, 8, 8])])
    refused(path, "node 1 'b' (Mystery): error: ", "'c'", "later")


def test_a_node_without_an_output_is_refused(tmp_path: Path) -> None:
    nodes = [ob.node("Relu", ["x"], ["y"], "r"), ob.node("Relu", ["y"], [], "nothing")]
    refused(onnx_file(tmp_path, nodes), "node 1 'nothing' (Relu): error: ", "no output")


def test_two_nodes_making_one_tensor_are_refused(tmp_path: Path) -> None:
    nodes = [ob.node("Relu", ["x"], ["y"], "one"), ob.node("Sigmoid", ["x"], ["y"], "two")]
    refused(onnx_file(tmp_path, nodes), "node 1 'two' (Sigmoid): error: ", "'y'", "node 0 'one' (Relu)")


# --- locations: a model file's node, never a line -------------------------------------------------------------------


def test_an_error_names_the_node_by_index_name_and_op(tmp_path: Path) -> None:
    nodes = [ob.node("Relu", ["x"], ["r"], "/stem/Relu"), ob.node("Conv", ["r", "w"], ["y"], "/stem/conv/Conv")]
    path = onnx_file(tmp_path, nodes, initializers=[ob.tensor("w", [4, 5, 3, 3])], outputs=[("y", [1, 4, 6, 6])])
    stderr = refused(path, "net.onnx: node 1 '/stem/conv/Conv' (Conv): error: weight dims [4, 5, 3, 3]")
    assert "layer '" not in stderr  # the node is named once


def test_a_warning_names_the_node(tmp_path: Path) -> None:
    nodes = [ob.node("Relu", ["x"], ["r"], "relu"), ob.node("TopK", ["r", "k"], ["y"], "/head/TopK")]
    path = onnx_file(
        tmp_path,
        nodes,
        inputs=[("x", [1, 10])],
        outputs=[("y", [1, 3])],
        initializers=[ob.tensor("k", [1], [3], ob.INT64)],
        value_infos=[("y", [1, 3]), ("r", [1, 12])],  # r is stated 12 wide: convcalc computes 10
    )
    result = run_cli("analyze", path)
    assert result.code == 0, result.stderr
    assert "(node 0 'relu' (Relu)): the file states 12 for 'r'" in result.stdout
    assert "(node 1 '/head/TopK' (TopK)): 1 operation(s) not counted" in result.stdout
    assert "(line " not in result.stdout
    explained = run_cli("explain", path, "relu")
    assert explained.code == 0 and "(relu, node 0 'relu' (Relu))" in explained.stdout, explained.stdout


def test_an_error_in_a_layer_an_onnx_node_became_names_both(tmp_path: Path) -> None:
    """An asymmetric pad becomes a pad layer before the conv: an error in either names the layer and the node."""
    nodes = [ob.node("Conv", ["x", "w"], ["y"], "c", kernel_shape=[11, 11], pads=[0, 0, 1, 1])]
    path = onnx_file(tmp_path, nodes, initializers=[ob.tensor("w", [4, 3, 11, 11])], outputs=[("y", [1, 4, 1, 1])])
    refused(path, "net.onnx: node 0 'c' (Conv): error: ", "larger than")


# --- every value read from the file passes the spec language's checks ----------------------------------------------

INT64 = ob.INT64
CONV_W = ob.tensor("w", [4, 3, 3, 3])


def conv(**attributes: object) -> bytes:
    return ob.node("Conv", ["x", "w"], ["y"], "c", kernel_shape=[3, 3], **attributes)


def overlong_height_model() -> bytes:
    """The input [1, 3, H, 8] with H written as a 10-byte varint whose last byte sets bits past the 64th: protobuf
    keeps the low 64 bits, all ones: H = -1."""
    height = ob.field(1, b"\x08" + b"\xff" * 9 + b"\x7f")  # dim { dim_value: <10 bytes> }
    dims = ob.field(1, ob.field(1, 1)) + ob.field(1, ob.field(1, 3)) + height + ob.field(1, ob.field(1, 8))
    tensor_type = ob.field(1, ob.FLOAT) + ob.field(2, dims)
    value_info = ob.field(1, "x") + ob.field(2, ob.field(1, tensor_type))
    graph = ob.field(1, ob.node("Relu", ["x"], ["y"], "r")) + ob.field(11, value_info)
    graph += ob.field(12, ob.value_info("y", [1, 3, 8, 8]))
    return ob.field(1, 8) + ob.field(7, graph) + ob.field(8, ob.field(1, "") + ob.field(2, 17))


def test_an_overlong_varint_is_read_as_protobuf_reads_it(tmp_path: Path) -> None:
    from convcalc.importers.onnx.protobuf import varint

    assert varint(b"\xff" * 9 + b"\x7f", 0) == (2**64 - 1, 10)  # the bits past the 64th dropped, as protobuf does
    assert varint(b"\xff" * 9 + b"\x01", 0) == (2**64 - 1, 10)
    path = tmp_path / "net.onnx"
    path.write_bytes(overlong_height_model())
    refused(str(path), "the input 'x' must have a known shape", "not [1, 3, -1, 8]")


VALUES = [
    pytest.param([conv()], [ob.tensor("w", [-4, 3, 3, 3])], "node 0 'c' (Conv)", "[-4, 3, 3, 3]", id="negative-dims"),
    pytest.param(
        [ob.node("Pad", ["x", "p"], ["y"], "pad")],
        [ob.tensor("p", [8], [0, 0, -5, -5, 0, 0, -5, -5], INT64)],
        "node 0 'pad' (Pad)",
        "'padding': must be at least 0, got -5",
        id="pad-to-negative",
    ),
    pytest.param(
        [ob.node("Resize", ["x", "", "", "s"], ["y"], "up")],
        [ob.tensor("s", [4], [1, 3, -4, -4], INT64)],
        "node 0 'up' (Resize)",
        "'size': must be at least 1, got -4",
        id="resize-to-negative",
    ),
    pytest.param(
        [ob.node("Resize", ["x", "", "s"], ["y"], "up")],
        [ob.tensor("s", [4], [1.0, 1.0, -2.0, -2.0])],
        "node 0 'up' (Resize)",
        "'scale': must be at least 1, got -2",
        id="resize-by-negative",
    ),
    pytest.param([conv(dilations=[0, 0])], [CONV_W], "node 0 'c' (Conv)", "'dilation': must be at least 1", id="dil-0"),
    pytest.param([conv(strides=[-1, -1])], [CONV_W], "'stride': must be at least 1, got -1", "(Conv)", id="stride-1"),
    pytest.param(
        [ob.node("MaxPool", ["x"], ["y"], "pool", kernel_shape=[0, 0])],
        [],
        "node 0 'pool' (MaxPool)",
        "'kernel': must be at least 1, got 0",
        id="pool-kernel-0",
    ),
    pytest.param(
        [ob.node("LRN", ["x"], ["y"], "lrn", size=0)],
        [],
        "node 0 'lrn' (LRN)",
        "'size': must be at least 1",
        id="lrn-0",
    ),
    pytest.param(
        [conv(pads=[0, 0, -1, -2])], [CONV_W], "node 0 'c' (Conv)", "'padding': must be at least 0", id="neg-asym-pads"
    ),
    pytest.param([conv(pads=[-1, -1, -1, -1])], [CONV_W], "(Conv)", "'padding': must be at least 0", id="neg-pads"),
    pytest.param(
        [ob.node("Conv", ["x", "w", "b"], ["y"], "c", kernel_shape=[3, 3])],
        [CONV_W, ob.tensor("b", [7])],
        "node 0 'c' (Conv)",
        "its bias 'b' has dims [7]: 7 values for 4 filters",
        id="bias-7-for-4",
    ),
    pytest.param(
        [ob.node("BatchNormalization", ["x", "g", "b", "m", "v"], ["y"], "bn")],
        [ob.tensor(name, [999]) for name in "gbmv"],
        "node 0 'bn' (BatchNormalization)",
        "its scale 'g' has dims [999]: 999 values for 3 channels",
        id="batchnorm-999-on-3",
    ),
    pytest.param(
        [ob.node("Conv", ["x", "w"], ["y"], "c", kernel_shape=[3, 3], group=0)],
        [CONV_W],
        "node 0 'c' (Conv)",
        "group",
        id="group-0",
    ),
    pytest.param([conv(strides=[2.5, 2.5])], [CONV_W], "(Conv)", "2.5", id="float-stride"),
    pytest.param(
        [conv(strides=[1, 1, 1])], [CONV_W], "(Conv)", "'strides' has 3 values for 2 spatial axes", id="3-strides"
    ),
    pytest.param([conv(strides="22")], [CONV_W], "(Conv)", "'strides'", id="text-strides"),
]


@pytest.mark.parametrize(("nodes", "initializers", "where", "words"), VALUES)
def test_a_value_a_spec_would_refuse_is_refused(
    tmp_path: Path, nodes: list[bytes], initializers: list[bytes], where: str, words: str
) -> None:
    refused(onnx_file(tmp_path, nodes, initializers=initializers), where, words)


def shape_arithmetic(step: bytes) -> list[bytes]:
    """x's shape [1, 3, 8, 8] -> ``step`` (reading 's', making 't') -> Reshape(x, t)."""
    return [ob.node("Shape", ["x"], ["s"], "shape"), step, ob.node("Reshape", ["x", "t"], ["y"], "reshape")]


ARITHMETIC = [
    pytest.param(
        ob.node("Gather", ["s", "i"], ["t"], "gather"),
        [ob.tensor("i", [1], [7], INT64)],
        "node 1 'gather' (Gather)",
        "index 7 is out of range for 4 values",
        id="gather-out-of-range",
    ),
    pytest.param(
        ob.node("Div", ["s", "z"], ["t"], "div"),
        [ob.tensor("z", [1], [0], INT64)],
        "node 1 'div' (Div)",
        "division by zero",
        id="division-by-zero",
    ),
    pytest.param(
        ob.node("Slice", ["s", "a", "b"], ["t"], "slice"),
        [ob.tensor("a", [1], [float("nan")]), ob.tensor("b", [1], [2.0])],
        "node 1 'slice' (Slice)",
        "expected a whole number, got nan",
        id="nan-slice-start",
    ),
]


@pytest.mark.parametrize(("step", "constants", "where", "words"), ARITHMETIC)
def test_shape_arithmetic_that_cannot_be_done_is_refused(
    tmp_path: Path, step: bytes, constants: list[bytes], where: str, words: str
) -> None:
    refused(onnx_file(tmp_path, shape_arithmetic(step), initializers=constants), where, words)


def test_a_reshape_to_infinity_is_refused(tmp_path: Path) -> None:
    nodes = [ob.node("Reshape", ["x", "t"], ["y"], "reshape")]
    path = onnx_file(tmp_path, nodes, initializers=[ob.tensor("t", [2], [1.0, float("inf")])])
    refused(path, "node 0 'reshape' (Reshape)", "expected a whole number, got inf")


def test_an_lrn_pattern_with_a_text_attribute_is_refused(tmp_path: Path) -> None:
    """PyTorch's LocalResponseNorm (x / (k + alpha * avgpool(x^2)) ^ beta) with a window written as text."""
    nodes = [
        ob.node("Mul", ["x", "x"], ["sq"], "/lrn/Mul"),
        ob.node("AveragePool", ["sq"], ["p"], "/lrn/AveragePool", kernel_shape="five"),
        ob.node("Div", ["x", "p"], ["y"], "/lrn/Div"),
    ]
    refused(onnx_file(tmp_path, nodes), "node 1 '/lrn/AveragePool' (AveragePool)", "'kernel_shape'")


# --- bounded work: answered or refused in about a second -------------------------------------------------------------


def seconds(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def weighted_conv(weight: bytes) -> bytes:
    return ob.model([conv()], [("x", [1, 3, 8, 8])], [("y", [1, 4, 6, 6])], [weight])


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(ob.field(4, struct.pack("<4194304f", *[0.5] * 4_194_304)), id="float_data"),
        pytest.param(ob.field(7, b"".join(ob.varint(7) for _ in range(4_194_304)) * 2), id="int64_data"),
    ],
)
def test_weights_listed_as_numbers_are_not_decoded(tmp_path: Path, data: bytes) -> None:
    """16 MB of float_data (or int64_data) in a weight of 4 x 3 x 3 x 3: its dims say it is no small constant, so its
    values are never decoded, wherever the dims come in the record."""
    weight = ob.field(2, ob.FLOAT) + ob.field(8, "w") + data + b"".join(ob.field(1, d) for d in (4, 3, 3, 3))
    path = tmp_path / "net.onnx"
    path.write_bytes(weighted_conv(weight))
    assert seconds(lambda: load_spec(str(path))) < 2  # 20 s when every value was decoded first
    assert analyze(str(path)).total.params == 4 * 3 * 3 * 3


def test_an_attribute_of_4_million_numbers_is_read_no_further_than_needed(tmp_path: Path) -> None:
    strides = ob.field(1, "strides") + ob.field(8, b"".join(ob.varint(1) for _ in range(4_194_304))) + ob.field(20, 7)
    node = ob.node("Conv", ["x", "w"], ["y"], "c", kernel_shape=[3, 3]) + ob.field(5, strides)
    path = tmp_path / "net.onnx"
    path.write_bytes(ob.model([node], [("x", [1, 3, 8, 8])], [("y", [1, 4, 6, 6])], [CONV_W]))
    took = seconds(lambda: refused(str(path), "node 0 'c' (Conv)", "'strides' has more than 64 values for 2 spatial"))
    assert took < 1


def test_a_tensor_of_100000_dimensions_is_refused_at_once(tmp_path: Path) -> None:
    """Their product, 2^6,200,000, took quadratic time to multiply out."""
    dims = ob.field(1, b"".join(ob.varint(2**62) for _ in range(100_000)))
    path = tmp_path / "net.onnx"
    path.write_bytes(weighted_conv(dims + ob.field(2, ob.FLOAT) + ob.field(8, "w")))
    took = seconds(lambda: refused(str(path), "a tensor of 100,000 dimensions"))
    assert took < 2


def test_a_fifo_named_onnx_is_refused_at_once(tmp_path: Path) -> None:
    """Without a writer, opening it would wait for ever; with one, it is no file to map (it read as empty)."""
    fifo = tmp_path / "model.onnx"
    os.mkfifo(fifo)
    for writer in (False, True):
        feeding = subprocess.Popen(["sh", "-c", f"cat /dev/zero > '{fifo}'"]) if writer else None
        try:
            result = subprocess.run(
                [sys.executable, "-m", "convcalc", "analyze", str(fifo)],
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=30,
            )
        finally:
            if feeding is not None:
                feeding.kill()
                feeding.wait()
        one_error(result, "model.onnx: is a pipe (FIFO), not an ONNX model in a file")
        assert "empty" not in result.stderr


def relu_chain(count: int) -> bytes:
    nodes = [ob.node("Relu", [f"t{i}"], [f"t{i + 1}"], f"/r{i}/Relu") for i in range(count)]
    return ob.model(nodes, [("t0", [1, 3, 8, 8])], [(f"t{count}", [1, 3, 8, 8])])


def test_a_graph_of_200000_nodes_is_refused_within_a_second(tmp_path: Path) -> None:
    path = tmp_path / "chain.onnx"
    path.write_bytes(relu_chain(200_000))
    took = seconds(lambda: refused(str(path), "chain.onnx: the graph has more than 100,000 nodes", "10,000 layers"))
    assert took < 1.5  # 14 to 18 s and 476 MB when it was read whole


@pytest.mark.parametrize("count", [MAX_LAYERS, MAX_LAYERS + 1])
def test_a_model_may_have_as_many_layers_as_a_spec(tmp_path: Path, count: int) -> None:
    path = tmp_path / "chain.onnx"
    path.write_bytes(relu_chain(count))
    if count == MAX_LAYERS:
        assert len(load_spec(str(path)).nodes) == MAX_LAYERS
    else:
        refused(str(path), f"node {MAX_LAYERS} '/r{MAX_LAYERS}/Relu' (Relu): error: ", "more than 10,000 layers")


def test_the_weights_are_never_read(tmp_path: Path) -> None:
    """128 MiB of weights in 64 convs: reading the graph needs only their headers (when the file was mapped, each
    header drew its neighbours into memory: 2 MiB a header on a file system of large folios)."""
    nodes, weights, previous = [], [], "x"
    for index in range(64):
        name = f"c{index}"
        nodes.append(ob.node("Conv", [previous, f"w{index}"], [name], name, kernel_shape=[1, 1]))
        weights.append(ob.tensor(f"w{index}", [1024, 1024, 1, 1]) + ob.field(9, bytes(2 * 2**20)))
        previous = name
    path = tmp_path / "heavy.onnx"
    path.write_bytes(ob.model(nodes, [("x", [1, 1024, 1, 1])], [(previous, [1, 1024, 1, 1])], weights))
    if not measurable():
        pytest.skip("needs /proc/self/status (Linux) to measure a process's peak memory")
    baseline, _ = peak_run("--version")
    peak, result = peak_run("analyze", str(path), "--format", "json")
    assert json.loads(result.stdout)["total"]["params"] == 64 * 1024 * 1024
    assert peak < baseline + 48, (peak, baseline)


# --- `convcalc import` writes only what its own reader reads back as the same graph ----------------------------------


def imported(path: str, *options: str) -> str:
    """The spec `convcalc import` writes; it must load back to the model's numbers, layer by layer."""
    result = run_cli("import", path, *options)
    assert result.code == 0, result.stderr
    assert "\x1b" not in result.stdout + result.stderr
    model, written = analyze(path), load_spec("imported.yaml", text=result.stdout)
    assert len(written.nodes) == len(model.layers)
    again = analyze(written)
    assert again.total == model.total
    assert [(layer.type, layer.output_shape) for layer in again.layers] == [
        (layer.type, layer.output_shape) for layer in model.layers
    ]
    return result.stdout


def test_the_header_never_echoes_the_path_raw(tmp_path: Path) -> None:
    """A file name with a line break wrote YAML of its choosing into the spec (here: convs without their bias)."""
    nodes = [ob.node("Conv", ["x", "w", "b"], ["y"], "c", kernel_shape=[3, 3])]
    name = "m\ndefaults: {conv: {bias: false}}\n# \x1b]0;title\x07.onnx"
    path = onnx_file(
        tmp_path, nodes, initializers=[CONV_W, ob.tensor("b", [4])], outputs=[("y", [1, 4, 6, 6])], name=name
    )
    text = imported(path)
    assert text.splitlines()[0].startswith("# Written by convcalc") and "defaults" not in text.splitlines()[1]
    assert "m\\ndefaults: {conv: {bias: false}}\\n# \\x1b]0;title\\x07.onnx" in text.splitlines()[0]


@pytest.mark.parametrize("name", ["On", "off", "NULL", "Null", "TRUE", "No", "y", "n", "nan", "inf"])
def test_a_name_yaml_would_read_as_a_boolean_or_null_is_quoted(tmp_path: Path, name: str) -> None:
    nodes = [ob.node("Relu", ["x"], ["r"], name), ob.node("Sigmoid", ["r"], ["y"], "s")]
    text = imported(onnx_file(tmp_path, nodes), "--flat")
    assert [node.name for node in load_spec("t.yaml", text=text).nodes] == [name, "s"]


def test_control_characters_and_characters_beyond_the_bmp_read_back(tmp_path: Path) -> None:
    nodes = [
        ob.node("Relu", ["x"], ["r"], "\U0001d538\U0001d539"),  # mathematical double-struck A and B
        ob.node("My\x1bOp\u2028", ["r"], ["t"], "odd\u202e"),
        ob.node("Relu", ["t"], ["y"], "\U0001f600 face"),
    ]
    inputs, outputs, stated = [("x", [1, 3, 8, 8])], [("y", [1, 3, 8, 8])], [("t", [1, 3, 8, 8])]
    path = tmp_path / "net.onnx"
    path.write_bytes(ob.model(nodes, inputs, outputs, value_infos=stated, name="t\x1bst\U0001f600\u2028"))
    for options in ((), ("--flat",)):
        text = imported(str(path), *options)
        assert "\U0001d538\U0001d539" in text and "\\ud835" not in text


def test_import_refuses_a_spec_its_reader_would_refuse(tmp_path: Path) -> None:
    """A 16 MiB name makes a spec over the reader's 16 MiB: import says so rather than write it."""
    nodes = [ob.node("Relu", ["x"], ["y"], "n" * 16 * 2**20)]
    result = run_cli("import", onnx_file(tmp_path, nodes))
    one_error(result, "would not read back", "more than 16 MiB")
    assert result.stdout == ""


def test_a_model_whose_spec_would_be_over_the_readers_limits_is_refused(tmp_path: Path) -> None:
    """10,000 1x1 convs written one a line are more YAML nodes than a spec may hold: import says so rather than write
    a spec its reader refuses; one conv more is over the layer limit."""
    for count in (MAX_LAYERS, MAX_LAYERS + 1):
        convs = range(count)  # named as PyTorch exports an nn.Sequential: layers.0, layers.1, ...
        nodes = [
            ob.node("Conv", [f"t{i}", "w"], [f"t{i + 1}"], f"/layers.{i}/Conv", kernel_shape=[1, 1]) for i in convs
        ]
        model = ob.model(nodes, [("t0", [1, 3, 4, 4])], [(f"t{count}", [1, 3, 4, 4])], [ob.tensor("w", [3, 3, 1, 1])])
        path = tmp_path / "deep.onnx"
        path.write_bytes(model)
        if count > MAX_LAYERS:
            one_error(run_cli("import", str(path)), "more than 10,000 layers")
            continue
        one_error(run_cli("import", str(path), "--flat"), "would not read back", "more than 100,000 YAML nodes")


# --- messages that named the wrong problem ---------------------------------------------------------------------------


def test_two_records_of_the_graph_are_one_as_protobuf_merges_them(tmp_path: Path) -> None:
    """A writer may emit the graph field twice (here its nodes, then its inputs and outputs): protobuf reads them as
    one graph, and so does convcalc (it said "the graph has no input")."""
    nodes = ob.field(1, ob.node("Conv", ["x", "w"], ["c"], "c", kernel_shape=[3, 3]))
    nodes += ob.field(1, ob.node("Relu", ["c"], ["y"], "r")) + ob.field(2, "split")
    rest = ob.field(5, CONV_W) + ob.field(11, ob.value_info("x", [1, 3, 8, 8]))
    rest += ob.field(12, ob.value_info("y", [1, 4, 6, 6]))
    model = ob.field(1, 8) + ob.field(7, nodes) + ob.field(8, ob.field(1, "") + ob.field(2, 17)) + ob.field(7, rest)
    path = tmp_path / "split.onnx"
    path.write_bytes(model)
    analysis = analyze(str(path))
    assert [layer.type for layer in analysis.layers] == ["conv", "relu"]
    assert analysis.total.params == 4 * 3 * 3 * 3  # 4 filters of 3 x 3 x 3, no bias


def test_a_negative_stride_is_named_not_taken_for_a_large_kernel(tmp_path: Path) -> None:
    stderr = refused(onnx_file(tmp_path, [conv(strides=[-1, -1])], initializers=[CONV_W]), "'stride'", "got -1")
    assert "larger" not in stderr  # it said the kernel was larger than its input
