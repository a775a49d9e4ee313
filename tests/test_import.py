"""`convcalc import model.onnx`: a spec people can read, which counts exactly as the model does.

Folded (residuals, concats of branches and blocks written as such) or flat (`--flat`, one layer a line): the folded
spec of every fixture lowers to the flat one's numbers, layer by layer in order, and small graphs built by hand fold
to the YAML written out here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from convcalc import analyze, load_spec
from convcalc.engine.results import Analysis
from convcalc.spec.writer import yaml_value
from tests import onnxbuild as ob
from tests.conftest import run_cli
from tests.test_onnx import DECOMPOSED_LRN, FIXTURES, fixture_pairs


@pytest.mark.parametrize(("file", "spec"), [p for p in fixture_pairs() if p[1] not in DECOMPOSED_LRN])
def test_the_written_spec_counts_as_the_model(tmp_path, file: str, spec: str):
    target = tmp_path / "imported.yaml"
    result = run_cli("import", str(FIXTURES / file), "-o", str(target))
    assert result.code == 0, result.stderr
    model, written = analyze(str(FIXTURES / file)), analyze(str(target))
    assert written.total == model.total
    assert [layer.output_shape for layer in written.layers] == [layer.output_shape for layer in model.layers]


def test_names_and_comments_are_readable():
    result = run_cli("import", str(FIXTURES / "resnet50.torchvision.onnx"), "--flat")
    assert result.code == 0
    lines = result.stdout.splitlines()
    # torchvision's module path, dots made underscores; the ONNX node kept as a comment
    conv = next(line for line in lines if "name: layer1_0_conv1," in line)
    assert conv.endswith("# /layer1/layer1.0/conv1/Conv") and "filters: 64, kernel: 1, bias: false" in conv
    # a residual's add reads the block's last batch norm and the shortcut, by name
    add = next(line for line in lines if line.startswith("  - {type: add, name: layer1_0,"))
    assert "inputs: [layer1_0_bn3, layer1_0_downsample_1]" in add
    assert load_spec("t.yaml", text=result.stdout).name == "resnet50.torchvision"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ((3, 3), "3"),
        ((3, 1), "[3, 1]"),
        (True, "true"),
        (1e-05, "1.0e-05"),
        (0.1, "0.1"),
        ("same", "same"),
        ("a b", '"a b"'),
    ],
)
def test_values_are_written_as_yaml_reads_them(value: object, text: str):
    assert yaml_value(value) == text


def test_import_refuses_what_is_not_onnx(write_spec):
    result = run_cli("import", str(write_spec("input: [3, 8, 8]\nlayers: [{type: relu}]\n")))
    assert result.code == 2 and "imports ONNX models" in result.stderr


def test_import_never_writes_over_its_model(tmp_path):
    model = tmp_path / "m.onnx"
    model.write_bytes((FIXTURES / "lenet5.onnx").read_bytes())
    result = run_cli("import", str(model), "-o", str(model))
    assert result.code == 2 and model.read_bytes() == (FIXTURES / "lenet5.onnx").read_bytes()


def test_a_bottleneck_rewrite_of_an_onnx_model_says_to_import_it_first():
    result = run_cli("compare", str(FIXTURES / "inception-5x5.onnx"), "-b", "conv5x5=16")
    assert result.code == 2 and "this is an ONNX model" in result.stderr and "convcalc import" in result.stderr


def same_numbers(flat: Analysis, folded: Analysis) -> None:
    """Every layer, matched by order, and the totals: what the fold must not change."""
    assert len(folded.layers) == len(flat.layers)
    for one, other in zip(flat.layers, folded.layers, strict=True):
        assert (other.type, other.output_shape, other.params, other.buffers, other.macs, other.flops) == (
            one.type,
            one.output_shape,
            one.params,
            one.buffers,
            one.macs,
            one.flops,
        ), f"{one.name} (flat) vs {other.name} (folded)"
        assert (other.activation_bytes, other.receptive_field) == (one.activation_bytes, one.receptive_field)
    assert folded.total == flat.total and folded.output_shape == flat.output_shape
    assert [w.code for w in folded.warnings] == [w.code for w in flat.warnings]


def imported(model: Path | str, *options: str) -> str:
    result = run_cli("import", str(model), *options)
    assert result.code == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("file", [p[0] for p in fixture_pairs()])
def test_the_folded_spec_counts_as_the_flat_one(file: str):
    flat, folded = imported(FIXTURES / file, "--flat"), imported(FIXTURES / file)
    same_numbers(analyze(load_spec("flat.yaml", text=flat)), analyze(load_spec("folded.yaml", text=folded)))
    assert len(folded.splitlines()) <= len(flat.splitlines())


def test_resnet50_folds_into_one_bottleneck_block_and_its_four_stages():
    text = imported(FIXTURES / "resnet50.torchvision.onnx")
    assert text.count("\n  block") == 1 and "params: {filters: 64, stride: 1, filters_2: 256, project: 0}" in text
    # the projection is in the first copy of each stage only: its layers repeat 0 or 1 times
    assert '- {type: conv, name: downsample_0, repeat: "${project}", filters: "${filters_2}", kernel: 1, ' in text
    stages = [line.split("  #")[0] for line in text.splitlines() if line.startswith("  - {block:")]
    assert stages == [
        "  - {block: block1, name: layer1, repeat: 3, first: {project: 1}}",
        "  - {block: block1, name: layer2, repeat: 4, filters: 128, filters_2: 512, first: {stride: 2, project: 1}}",
        "  - {block: block1, name: layer3, repeat: 6, filters: 256, filters_2: 1024, first: {stride: 2, project: 1}}",
        "  - {block: block1, name: layer4, repeat: 3, filters: 512, filters_2: 2048, first: {stride: 2, project: 1}}",
    ]
    # torchvision's names: layer1.0.conv1 is layer1.0.residual.body.conv1; the instance's comment, its ONNX nodes
    assert "# /layer1/layer1.0/conv1/Conv ... /layer1/layer1.2/relu_2/Relu" in text
    names = [layer.name for layer in analyze(load_spec("r.yaml", text=text)).layers]
    assert names[4:7] == ["layer1.0.residual.body.conv1", "layer1.0.residual.body.bn1", "layer1.0.residual.body.relu"]
    assert "layer2.0.residual.shortcut.downsample_0.0" in names and "layer2.1.residual" in names


def conv(name: str, source: str, output: str, shape: tuple[int, int, int], pads: int = 0) -> list[bytes]:
    """A Conv node without bias and its weight: shape is (filters, input channels, kernel)."""
    filters, channels, kernel = shape
    node = ob.node("Conv", [source, f"{output}_w"], [output], name, kernel_shape=[kernel] * 2, pads=[pads] * 4)
    return [node, ob.tensor(f"{output}_w", [filters, channels, kernel, kernel])]


def batchnorm(name: str, source: str, output: str, channels: int) -> list[bytes]:
    statistics = [f"{output}_{value}" for value in ("scale", "bias", "mean", "var")]
    node = ob.node("BatchNormalization", [source, *statistics], [output], name)
    return [node, *(ob.tensor(each, [channels]) for each in statistics)]


def build(tmp_path: Path, parts: list[list[bytes]], shapes: tuple[list[int], list[int]], output: str) -> Path:
    """A model of the nodes and weights in ``parts`` (each a node, then its weights), input x."""
    nodes = [part[0] for part in parts]
    weights = [weight for part in parts for weight in part[1:]]
    path = tmp_path / "model.onnx"
    path.write_bytes(ob.model(nodes, [("x", [1, *shapes[0]])], [(output, [1, *shapes[1]])], weights))
    return path


def check(model: Path, expected: str) -> None:
    """The folded import is ``expected`` (after its header), and counts as the flat one."""
    folded = imported(model)
    assert folded.split("\n", 3)[3] == expected
    flat = imported(model, "--flat")
    same_numbers(analyze(load_spec("flat.yaml", text=flat)), analyze(load_spec("folded.yaml", text=folded)))


def test_two_identical_residual_blocks_are_one_block_repeated(tmp_path):
    parts, source = [], "x"
    for copy in range(2):
        at = f"/layer/layer.{copy}"
        parts += [
            conv(f"{at}/conv1/Conv", source, f"c{copy}", (8, 8, 3), pads=1),
            [ob.node("Relu", [f"c{copy}"], [f"r{copy}"], f"{at}/relu/Relu")],
            conv(f"{at}/conv2/Conv", f"r{copy}", f"d{copy}", (8, 8, 3), pads=1),
            [ob.node("Add", [f"d{copy}", source], [f"a{copy}"], f"{at}/Add")],
            [ob.node("Relu", [f"a{copy}"], [f"y{copy}"], f"{at}/relu_1/Relu")],
        ]
        source = f"y{copy}"
    check(
        build(tmp_path, parts, ([8, 16, 16], [8, 16, 16]), "y1"),
        """blocks:
  block1:
    layers:
      - type: residual
        name: residual
        body:
          - {type: conv, name: conv1, filters: 8, kernel: 3, padding: 1, bias: false}
          - {type: relu, name: relu}
          - {type: conv, name: conv2, filters: 8, kernel: 3, padding: 1, bias: false}
      - {type: relu, name: relu_1}
layers:
  - {block: block1, name: layer, repeat: 2}  # /layer/layer.0/conv1/Conv ... /layer/layer.1/relu_1/Relu
""",
    )


def test_a_concat_of_branches_is_written_with_its_branches(tmp_path):
    parts = [
        conv("/mix/b1/Conv", "x", "a", (8, 16, 1)),
        conv("/mix/b2/reduce/Conv", "x", "b", (4, 16, 1)),
        conv("/mix/b2/conv/Conv", "b", "c", (8, 4, 3), pads=1),
        [ob.node("MaxPool", ["x"], ["d"], "/mix/pool/MaxPool", kernel_shape=[3, 3], strides=[1, 1], pads=[1] * 4)],
        [ob.node("Concat", ["a", "c", "d"], ["y"], "/mix/Concat", axis=1)],
    ]
    check(
        build(tmp_path, parts, ([16, 8, 8], [32, 8, 8]), "y"),
        """layers:
  - type: concat  # /mix/Concat
    name: mix
    branches:
      - - {type: conv, name: b1, filters: 8, kernel: 1, bias: false}  # /mix/b1/Conv
      - - {type: conv, name: reduce, filters: 4, kernel: 1, bias: false}  # /mix/b2/reduce/Conv
        - {type: conv, name: conv, filters: 8, kernel: 3, padding: 1, bias: false}  # /mix/b2/conv/Conv
      - - {type: maxpool, name: pool, kernel: 3, stride: 1, padding: 1}  # /mix/pool/MaxPool
""",
    )


def test_a_run_whose_copies_differ_only_in_channels_is_one_block_with_a_parameter(tmp_path):
    parts, source, channels = [], "x", 3
    for copy, filters in enumerate((8, 16, 32)):
        at = f"/stage/stage.{copy}"
        parts += [
            conv(f"{at}/conv/Conv", source, f"c{copy}", (filters, channels, 3), pads=1),
            batchnorm(f"{at}/bn/BatchNormalization", f"c{copy}", f"n{copy}", filters),
            [ob.node("Relu", [f"n{copy}"], [f"r{copy}"], f"{at}/relu/Relu")],
            conv(f"{at}/pw/Conv", f"r{copy}", f"p{copy}", (filters, filters, 1)),
            [ob.node("Relu", [f"p{copy}"], [f"y{copy}"], f"{at}/relu_1/Relu")],
        ]
        source, channels = f"y{copy}", filters
    check(
        build(tmp_path, parts, ([3, 16, 16], [32, 16, 16]), "y2"),
        """blocks:
  block1:
    params: {filters: 8}
    layers:
      - {type: conv, name: conv, filters: "${filters}", kernel: 3, padding: 1, bias: false}
      - {type: batchnorm, name: bn}
      - {type: relu, name: relu}
      - {type: conv, name: pw, filters: "${filters}", kernel: 1, bias: false}
      - {type: relu, name: relu_1}
layers:
  - {block: block1, name: stage_0}  # /stage/stage.0/conv/Conv ... /stage/stage.0/relu_1/Relu
  - {block: block1, name: stage_1, filters: 16}  # /stage/stage.1/conv/Conv ... /stage/stage.1/relu_1/Relu
  - {block: block1, name: stage_2, filters: 32}  # /stage/stage.2/conv/Conv ... /stage/stage.2/relu_1/Relu
""",
    )


FOLDED_LINES = {  # docs/how-to/onnx.md's table (convcalc import): lines of the fixtures' import, flat and folded
    "resnet50.torchvision.onnx": (179, 34),
    "resnext50_32x4d.onnx": (179, 34),
    "resnet50-v1.onnx": (179, 34),
    "resnet18.torchvision.onnx": (73, 31),
    "densenet121.onnx": (431, 42),
    "mobilenet_v2.torchvision.onnx": (156, 67),
    "mobilenet_v2.onnx": (156, 90),
    "mobilenet_v1.onnx": (89, 34),
    "mobilenet_v3_large.onnx": (190, 136),
    "lraspp_mobilenet_v3_large.onnx": (197, 144),
    "efficientnet_b0.onnx": (243, 154),
    "googlenet.onnx": (146, 49),
    "inception_v3.onnx": (313, 146),
    "convnext_tiny.torchvision.onnx": (142, 33),
    "regnet_y_400mf.onnx": (274, 51),
    "shufflenet_v2_x1_0.onnx": (215, 86),
    "squeezenet1_0.torchvision.onnx": (69, 34),
    "vgg16.onnx": (42, 35),
    "vgg16.torchvision.onnx": (42, 42),
    "unet.onnx": (61, 61),
}


@pytest.mark.parametrize(("file", "lines"), FOLDED_LINES.items())
def test_the_fixtures_fold_to_readmes_line_counts(file: str, lines: tuple[int, int]):
    flat, folded = imported(FIXTURES / file, "--flat"), imported(FIXTURES / file)
    assert (len(flat.splitlines()), len(folded.splitlines())) == lines
