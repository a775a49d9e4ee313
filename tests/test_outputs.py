"""A network with several outputs (a detector's scores and boxes): the spec's ``outputs``, each output kept alive to
the end of the forward pass (the peak, training's saved tensors, deploy's RAM), no "never read" warning for them,
the JSON's ``outputs``, and the PyTorch export returning them all. Numbers by hand, written out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from convcalc import analyze, load_spec
from convcalc.core.errors import SpecError
from convcalc.export import to_pytorch
from convcalc.passes.deploy import deployment
from convcalc.spec.writer import checked_spec
from tests.conftest import run_cli

HEADS = """\
name: heads
input: [3, 8, 8]
layers:
  - {type: conv, name: body, filters: 8, kernel: 3, padding: 1}
  - {type: relu, name: act}
  - {type: conv, name: scores, filters: 5, kernel: 1}
  - {type: conv, name: boxes, input: act, filters: 16, kernel: 1}
outputs: [scores, boxes]
"""
"""A backbone of 8 channels on 8 x 8, a head of 5 class scores and one of 4 anchors x 4 box coordinates."""


def heads(text: str = HEADS):  # type: ignore[no-untyped-def]
    return analyze(load_spec("heads.yaml", text=text))


def test_the_spec_names_its_outputs_in_order() -> None:
    analysis = heads()
    assert analysis.outputs == (("scores", (5, 8, 8)), ("boxes", (16, 8, 8)))
    assert (analysis.output_layer, analysis.output_shape) == ("scores", (5, 8, 8))
    assert analysis.shapes_text == "3x8x8 -> 5x8x8, 16x8x8"
    assert not analysis.warnings  # scores is read by no layer, but it is an output


def test_without_outputs_an_unread_head_is_a_warning_and_is_freed() -> None:
    analysis = heads(HEADS.replace("outputs: [scores, boxes]\n", ""))
    assert analysis.outputs == (("boxes", (16, 8, 8)),)
    assert [(w.layer, w.code) for w in analysis.warnings] == [("scores", "unused")]
    # elements alive, 4 bytes each: the input 192 is freed after body 512, body after act 512; scores 320 is
    # freed at once; at boxes: act 512 + boxes 1,024
    assert analysis.total.peak_activation_bytes == (512 + 1024) * 4


def test_every_output_lives_to_the_end() -> None:
    # at boxes: act 512 (boxes is its last reader) + scores 320 (an output) + boxes 1,024 = 1,856 elements
    assert heads().total.peak_activation_bytes == (512 + 320 + 1024) * 4


def test_deploy_keeps_every_output_in_ram() -> None:
    # the relu is fused into body's conv: steps body (input 192 + 512), scores (512 + 320), boxes (512 + 320 +
    # 1,024), float32
    steps = deployment(heads(), "float32").steps
    assert [step.live_bytes for step in steps] == [(192 + 512) * 4, (512 + 320) * 4, (512 + 320 + 1024) * 4]


def test_the_json_lists_every_output() -> None:
    result = run_cli("analyze", "-", "--format", "json", stdin=HEADS)
    assert result.code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["output"] == [5, 8, 8]
    assert document["outputs"] == [{"layer": "scores", "shape": [5, 8, 8]}, {"layer": "boxes", "shape": [16, 8, 8]}]


def test_the_pytorch_export_returns_every_output(tmp_path: Path) -> None:
    path = tmp_path / "heads.yaml"
    path.write_text(HEADS, encoding="utf-8")
    source = to_pytorch(str(path))
    assert "return scores, boxes" in source
    assert "Input 3x8x8 -> outputs 5x8x8, 16x8x8;" in source.replace("\n", " ")
    torch = pytest.importorskip("torch", reason="PyTorch is not installed; `pip install torch` to run the export")
    namespace: dict[str, object] = {"__name__": "exported"}
    exec(compile(source, "heads (exported)", "exec"), namespace)
    scores, boxes = namespace["Heads"]()(torch.zeros(1, 3, 8, 8))  # type: ignore[operator]
    assert (tuple(scores.shape), tuple(boxes.shape)) == ((1, 5, 8, 8), (1, 16, 8, 8))


def test_a_spec_written_from_the_graph_keeps_its_outputs() -> None:
    graph = load_spec("heads.yaml", text=HEADS)
    text = checked_spec(graph)  # a ValueError unless it reads back as the same graph
    assert "outputs: [scores, boxes]" in text
    assert analyze(load_spec("again.yaml", text=text)).outputs == heads().outputs


@pytest.mark.parametrize(
    ("written", "message", "column"),
    [
        ("[scores, boxs]", "'outputs' names 'boxs', which is no layer of the network", 19),
        ("[scores, scores]", "'outputs' names the output of 'scores' twice", 19),
        ("[input, scores]", "'outputs' names the network's input: a network hands out what it computes", 11),
        ("[scores, 3]", "'outputs' lists layer names, not 3", 19),
        ("scores", "'outputs' must be a list of layer names, not the text 'scores'", 10),
        ("[]", "'outputs' is empty: name the layers the network hands out, or leave the key out", 10),
    ],
)
def test_a_wrong_output_is_one_located_error(written: str, message: str, column: int) -> None:
    with pytest.raises(SpecError) as caught:
        load_spec("heads.yaml", text=HEADS.replace("[scores, boxes]", written))
    assert caught.value.message == message
    assert caught.value.location is not None
    assert (caught.value.location.line, caught.value.location.column) == (8, column)
    if "boxs" in written:
        assert caught.value.hint == "did you mean 'boxes'?"


def test_a_repeated_layer_is_named_by_a_copy() -> None:
    text = HEADS.replace("  - {type: relu, name: act}\n", "  - {type: relu, name: act, repeat: 2}\n")
    text = text.replace("input: act", "input: act.1")
    with pytest.raises(SpecError) as caught:
        load_spec("heads.yaml", text=text.replace("[scores, boxes]", "[act, boxes]"))
    assert caught.value.hint == "it is repeated: name a copy, 'act.0' to 'act.1'"
    assert heads(text.replace("[scores, boxes]", "[act.1, scores, boxes]")).output_layer == "act.1"


def test_a_block_or_structure_is_named_by_its_own_name() -> None:
    # a residual's name is its sum's; a block instance's is its last layer's output
    text = HEADS.replace("  - {type: relu, name: act}\n", "  - {type: residual, name: res, body: [{type: relu}]}\n")
    text = text.replace("input: act", "input: res").replace("[scores, boxes]", "[res, boxes]")
    analysis = heads(text)
    assert [name for name, _ in analysis.outputs] == ["res", "boxes"]
    assert [(w.layer, w.code) for w in analysis.warnings] == [("scores", "unused")]


PRE_AND_POST = """\
name: pre_and_post
input: [3, 8, 8]
layers:
  - {type: conv, name: c1, filters: 4, kernel: 3, padding: 1, bias: false}
  - {type: batchnorm, name: bn}
  - {type: relu, name: r}
  - {type: conv, name: c2, filters: 2, kernel: 1}
outputs: [c1, r, c2]
"""
"""c1's output is handed out and also read by the very next layer only."""


def test_the_export_returns_each_output_in_a_variable_of_its_own(tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(PRE_AND_POST, encoding="utf-8")
    source = to_pytorch(str(path))
    forward = source[source.index("def forward(self, x") :]
    returned = next(line for line in forward.splitlines() if line.strip().startswith("return "))
    names = [name.strip() for name in returned.strip().removeprefix("return ").split(",")]
    assert len(set(names)) == 3, returned  # not "return x, x, c2": c1 overwritten by bn, then r


def test_the_exported_file_runs_as_a_script_with_several_outputs(tmp_path: Path) -> None:
    pytest.importorskip("torch", reason="PyTorch is not installed")
    path = tmp_path / "net.yaml"
    path.write_text(PRE_AND_POST, encoding="utf-8")
    # its __main__ block prints each output's shape (a tuple has no .shape)
    exec(compile(to_pytorch(str(path)), "model.py", "exec"), {"__name__": "__main__"})


def test_deploy_keeps_an_output_that_a_fused_activation_reads() -> None:
    text = "input: [3, 8, 8]\nlayers:\n  - {type: conv, name: c, filters: 4, kernel: 3, padding: 1}\n"
    text += "  - {type: relu, name: r}\noutputs: [c, r]\n"
    # both c (4 x 8 x 8 = 256) and r (256) are handed out: the relu cannot run fused into c's step; float32:
    # c's step: input 192 + c 256; r's step: c 256 + r 256 = 512 elements
    steps = deployment(analyze(load_spec("net.yaml", text=text)), "float32").steps
    assert max(step.live_bytes for step in steps) == (256 + 256) * 4  # not (192 + 256) * 4, the relu fused into c


def test_naming_the_input_as_an_output_gets_no_hint_to_itself() -> None:
    text = "input: [3, 8, 8]\nlayers:\n  - {type: conv, name: c, filters: 4, kernel: 1}\noutputs: [input]\n"
    with pytest.raises(SpecError) as caught:
        load_spec("net.yaml", text=text)
    assert caught.value.hint != "did you mean 'input'?"


def test_a_sweep_lists_every_output_at_each_size() -> None:
    # the heads keep the map's size (3x3 convs padded by 1, 1x1 convs): 5 and 16 channels at 8x8, then at 16x16
    from convcalc.sweep import sweep

    rows = sweep(load_spec("heads.yaml", text=HEADS), [(3, 8, 8), (3, 16, 16)]).rows
    assert [row.output_shapes for row in rows] == [((5, 8, 8), (16, 8, 8)), ((5, 16, 16), (16, 16, 16))]
    assert rows[1].to_dict()["outputs"] == [[5, 16, 16], [16, 16, 16]]
