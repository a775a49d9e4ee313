"""The PyTorch front end's tensor-op handlers on traces written by hand, without torch.

Each test writes the aten events a small module would run (shapes as PyTorch documents them: permute and transpose
reorder dims, select drops one, cat adds sizes along one, a reduction keeps a dim at size 1 or drops it) and checks
the layers convcalc makes of them, with counts by hand. Tensors are numbered in order; the first is the input.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from convcalc import analyze
from convcalc.core.errors import SpecError
from convcalc.engine.results import Analysis
from convcalc.importers.torch.events import Event, Ref, Trace, from_dict, to_dict
from convcalc.importers.torch.read import imported
from convcalc.importers.torch.tensors import SDPA_MASK

END = 9223372036854775807
"""What x[:, a:] passes aten's slice as its end (INT64_MAX)."""


class Net:
    """A trace written by hand: ``op`` adds an aten event made of the given arguments and returns its output(s)."""

    def __init__(self, *shape: int) -> None:
        self.count = 0
        self.events: list[Event] = []
        self.sizes: dict[str, int] = {}
        self.input = self.tensor(*shape)

    def tensor(self, *shape: int, role: Any = "a", name: str = "") -> Ref:
        self.count += 1
        return Ref(self.count, shape, role, name)

    def param(self, name: str, *shape: int) -> Ref:
        """A parameter (its size recorded as the trace records each parameter's)."""
        self.sizes[name] = math.prod(shape)
        return self.tensor(*shape, role="p", name=name)

    def op(self, op: str, *args: Any, out: Any, kwargs: dict[str, Any] | None = None) -> Any:
        """The event's output, of shape ``out`` (a list of shapes: its outputs, a tuple)."""
        many = isinstance(out, list)
        outputs = tuple(self.tensor(*shape) for shape in (out if many else [out]))
        self.events.append(Event(op, "Tensor", args, kwargs or {}, outputs, "", 0))
        return outputs if many else outputs[0]

    def trace(self, *outputs: Ref, parameters: int | None = None) -> Trace:
        """The trace returning ``outputs`` (default: the last event's), holding ``parameters`` (default: the sum of
        the parameters' sizes)."""
        held = sum(self.sizes.values()) if parameters is None else parameters
        events, returned = tuple(self.events), outputs or self.events[-1].outputs
        return Trace("hand", self.input, events, returned, (), parameters=held, sizes=tuple(self.sizes.items()))

    def analysis(self, *outputs: Ref) -> Analysis:
        """The analysis of the trace returning ``outputs`` (default: the last event's)."""
        return analyze(imported(self.trace(*outputs), "hand").graph())


def layers(analysis: Analysis) -> list[tuple[str, tuple[int, ...]]]:
    return [(layer.type, layer.output_shape) for layer in analysis.layers]


def shape_warnings(analysis: Analysis) -> list[str]:
    """Warnings that a handler's reading gave another shape than torch (its layer made opaque)."""
    return [warning.message for warning in analysis.warnings if warning.code == "shape"]


# --- permute and transpose ---


def test_a_map_to_channels_last_and_back_makes_no_layer() -> None:
    # ConvNeXt's LayerNorm over the channels: [2, 4, 6, 8] permuted (0, 2, 3, 1) is [2, 6, 8, 4], normalised over
    # the last dim (4), permuted (0, 3, 1, 2) back to [2, 4, 6, 8]; a 1-D map [2, 4, 10] alike by transpose(1, 2)
    net = Net(2, 4, 6, 8)
    last = net.op("permute", net.input, [0, 2, 3, 1], out=(2, 6, 8, 4))
    normed = net.op("native_layer_norm", last, [4], None, None, 1e-5, out=(2, 6, 8, 4))
    first = net.op("permute", normed, [0, 3, 1, 2], out=(2, 4, 6, 8))
    net.op("relu", first, out=(2, 4, 6, 8))
    assert layers(net.analysis()) == [("layernorm", (4, 6, 8)), ("relu", (4, 6, 8))]
    net = Net(2, 4, 10)
    last = net.op("transpose", net.input, 1, 2, out=(2, 10, 4))
    normed = net.op("native_layer_norm", last, [4], None, None, 1e-5, out=(2, 10, 4))
    first = net.op("transpose", normed, 2, 1, out=(2, 4, 10))
    net.op("relu", first, out=(2, 4, 10))
    assert layers(net.analysis()) == [("layernorm", (4, 10)), ("relu", (4, 10))]


def test_a_permute_of_a_channels_last_map_is_a_permute_of_torchs_order() -> None:
    # [2, 4, 6, 8] to channels-last [2, 6, 8, 4] (no layer), then H and W swapped: permute (0, 2, 1, 3) is
    # [2, 8, 6, 4]. convcalc holds the channels-last map as 4 x 6 x 8: back to torch's order 6 x 8 x 4 (dims
    # (1, 2, 0)), then H and W swapped, 8 x 6 x 4 (dims (1, 0, 2))
    net = Net(2, 4, 6, 8)
    last = net.op("permute", net.input, [0, 2, 3, 1], out=(2, 6, 8, 4))
    swapped = net.op("permute", last, [0, 2, 1, 3], out=(2, 8, 6, 4))
    net.op("relu", swapped, out=(2, 8, 6, 4))
    analysis = net.analysis()
    assert layers(analysis) == [("permute", (6, 8, 4)), ("permute", (8, 6, 4)), ("relu", (8, 6, 4))]
    assert [layer.config["dims"] for layer in analysis.layers[:2]] == [(1, 2, 0), (1, 0, 2)]


def test_a_permute_that_moves_only_the_batch_makes_no_layer() -> None:
    # tokens [2, 5, 8] transposed (0, 1) to [5, 2, 8] (nn.MultiheadAttention's sequence-first order), a softmax over
    # the last dim (8: convcalc's axis 1 of 5 x 8), transposed back: one softmax, no permute
    net = Net(2, 5, 8)
    moved = net.op("transpose", net.input, 0, 1, out=(5, 2, 8))
    scores = net.op("_softmax", moved, -1, False, out=(5, 2, 8))
    back = net.op("transpose", scores, 0, 1, out=(2, 5, 8))
    net.op("relu", back, out=(2, 5, 8))
    analysis = net.analysis()
    assert layers(analysis) == [("softmax", (5, 8)), ("relu", (5, 8))]
    assert analysis.layers[0].config["axis"] == 1 and not shape_warnings(analysis)


def test_a_permute_of_a_view_it_does_not_follow_is_opaque() -> None:
    # a 1-D map [2, 4, 10] lifted to [2, 4, 1, 10] (a view, as torch runs a 1-D pool), then its last two dims
    # swapped: opaque, read as nothing else (no shape warning)
    net = Net(2, 4, 10)
    lifted = net.op("unsqueeze", net.input, 2, out=(2, 4, 1, 10))
    net.op("transpose", lifted, 2, 3, out=(2, 4, 10, 1))
    analysis = net.analysis()
    assert [layer.type for layer in analysis.layers] == ["opaque"] and not shape_warnings(analysis)


# --- softmax ---


@pytest.mark.parametrize(("dim", "axis"), [(-1, 0), (3, 0), (1, 1), (2, 2)])
def test_softmax_over_each_axis_of_a_channels_last_map(dim: int, axis: int) -> None:
    # [2, 6, 8, 4] channels-last (convcalc's 4 x 6 x 8): its last dim (C) is axis 0, H axis 1, W axis 2
    net = Net(2, 4, 6, 8)
    last = net.op("permute", net.input, [0, 2, 3, 1], out=(2, 6, 8, 4))
    net.op("_softmax", last, dim, False, out=(2, 6, 8, 4))
    (softmax,) = net.analysis().layers
    assert (softmax.type, softmax.output_shape) == ("softmax", (4, 6, 8))
    assert softmax.config["axis"] == axis


def test_softmax_over_the_batch_is_opaque() -> None:
    net = Net(2, 5, 8)
    net.op("_softmax", net.input, 0, False, out=(2, 5, 8))
    assert [layer.type for layer in net.analysis().layers] == ["opaque"]


# --- cat ---


def test_cat_along_the_channels_and_along_the_batch() -> None:
    # cat([x, relu(x)], 1) of [2, 4, 6, 8]: [2, 8, 6, 8]; without a dim (0, the batch): [4, 4, 6, 8], opaque
    net = Net(2, 4, 6, 8)
    other = net.op("relu", net.input, out=(2, 4, 6, 8))
    net.op("cat", [net.input, other], 1, out=(2, 8, 6, 8))
    assert layers(net.analysis()) == [("relu", (4, 6, 8)), ("concat", (8, 6, 8))]
    net = Net(2, 4, 6, 8)
    other = net.op("relu", net.input, out=(2, 4, 6, 8))
    net.op("cat", [net.input, other], out=(4, 4, 6, 8))
    assert [layer.type for layer in net.analysis().layers] == ["relu", "opaque"]


def test_cat_of_one_tensor_is_a_concat_of_it() -> None:
    net = Net(2, 4, 6, 8)
    net.op("cat", [net.input], 1, out=(2, 4, 6, 8))
    assert layers(net.analysis()) == [("concat", (4, 6, 8))]


def test_cat_of_maps_laid_out_differently_or_of_a_constant_is_opaque() -> None:
    # [2, 4, 4, 4] and its channels-last permute (same torch shape, convcalc's axes in another order); a constant
    # [2, 4, 4, 4] put before the map
    net = Net(2, 4, 4, 4)
    last = net.op("permute", net.input, [0, 2, 3, 1], out=(2, 4, 4, 4))
    net.op("cat", [net.input, last], 1, out=(2, 8, 4, 4))
    assert [layer.type for layer in net.analysis().layers] == ["opaque"]
    net = Net(2, 4, 4, 4)
    net.op("cat", [net.tensor(2, 4, 4, 4, role="c"), net.input], 1, out=(2, 8, 4, 4))
    assert [layer.type for layer in net.analysis().layers] == ["opaque"]


def test_two_learned_tokens_put_before_the_tokens() -> None:
    # DeiT's class and distillation tokens: a learned [1, 2, 8] before tokens [2, 5, 8]: [2, 7, 8], 2 x 8 = 16
    # parameters (the tokens read channels-last: a permute of 5 x 8 to 8 x 5 first)
    net = Net(2, 5, 8)
    net.op("cat", [net.param("tokens", 1, 2, 8), net.input], 1, out=(2, 7, 8))
    analysis = net.analysis()
    assert layers(analysis) == [("permute", (8, 5)), ("class_token", (8, 7))]
    assert (analysis.layers[1].config["count"], analysis.total.params) == (2, 16)


# --- select, unbind, slice, split ---


@pytest.mark.parametrize(("index", "start"), [(2, 2), (-1, 3), (-4, 0)])
def test_select_a_channel_of_a_map(index: int, start: int) -> None:
    # x[:, index] of [2, 4, 6, 8]: channel index (from the end when negative, -4 the first of 4): [2, 6, 8]
    net = Net(2, 4, 6, 8)
    net.op("select", net.input, 1, index, out=(2, 6, 8))
    analysis = net.analysis()
    assert layers(analysis) == [("slice", (1, 6, 8)), ("reshape", (6, 8))]
    assert (analysis.layers[0].config["start"], analysis.layers[0].config["end"]) == (start, start + 1)


def test_select_a_row_of_a_channels_last_map_stays_channels_last() -> None:
    # [2, 6, 8, 4] channels-last (4 x 6 x 8), x[:, 2]: [2, 8, 4], channels-last 4 x 8; a ReLU on it as well
    net = Net(2, 4, 6, 8)
    last = net.op("permute", net.input, [0, 2, 3, 1], out=(2, 6, 8, 4))
    row = net.op("select", last, 1, 2, out=(2, 8, 4))
    net.op("relu", row, out=(2, 8, 4))
    analysis = net.analysis()
    assert layers(analysis) == [("slice", (4, 1, 8)), ("reshape", (4, 8)), ("relu", (4, 8))]
    assert analysis.layers[0].config["axis"] == 1 and not shape_warnings(analysis)


@pytest.mark.parametrize(("dim", "index", "start"), [(2, -1, 9), (-1, -10, 0), (2, 3, 3)])
def test_select_a_step_of_a_1d_map_is_a_slice_flattened(dim: int, index: int, start: int) -> None:
    # a TCN's last step, x[:, :, -1] of [2, 4, 10]: step 9 of 10 (-10 the first), [2, 4]
    net = Net(2, 4, 10)
    net.op("select", net.input, dim, index, out=(2, 4))
    analysis = net.analysis()
    assert layers(analysis) == [("slice", (4, 1)), ("flatten", (4,))]
    assert (analysis.layers[0].config["start"], analysis.layers[0].config["axis"]) == (start, 1)


def test_select_a_step_of_channels_last_tokens() -> None:
    # tokens [2, 4, 10] transposed to [2, 10, 4] (channels-last 4 x 10), x[:, 3]: [2, 4]
    net = Net(2, 4, 10)
    tokens = net.op("transpose", net.input, 1, 2, out=(2, 10, 4))
    net.op("select", tokens, 1, 3, out=(2, 4))
    analysis = net.analysis()
    assert layers(analysis) == [("slice", (4, 1)), ("reshape", (4,))]
    assert analysis.layers[0].config["start"] == 3


def test_unbind_the_channels() -> None:
    # unbind(x, 1) of [2, 3, 5, 8]: three [2, 5, 8], each a slice of one channel, reshaped without it
    net = Net(2, 3, 5, 8)
    parts = net.op("unbind", net.input, 1, out=[(2, 5, 8)] * 3)
    analysis = net.analysis(*parts)
    assert layers(analysis) == [("slice", (1, 5, 8)), ("reshape", (5, 8))] * 3
    assert [layer.config["start"] for layer in analysis.layers if layer.type == "slice"] == [0, 1, 2]


@pytest.mark.parametrize(
    ("args", "kept"),
    [((1, -3, END), (5, 8)), ((1, 2, -2), (2, 6)), ((1, -8, 3), (0, 3))],
)
def test_slice_of_the_channels(args: tuple[int, ...], kept: tuple[int, int]) -> None:
    # x[:, -3:], x[:, 2:-2] and x[:, -8:3] of 8 channels: channels 5 to 7, 2 to 5, 0 to 2
    net = Net(2, 8, 4, 4)
    start, end = kept
    net.op("slice", net.input, *args, out=(2, end - start, 4, 4))
    (layer,) = net.analysis().layers
    assert (layer.type, layer.config["start"], layer.config["end"]) == ("slice", start, end)
    assert layer.output_shape == (end - start, 4, 4)


def test_an_empty_slice_is_one_message_not_a_traceback() -> None:
    # x[:, :0] of 8 channels is a tensor of 0 channels, [2, 0, 4, 4]: no layer convcalc can hold
    net = Net(2, 8, 4, 4)
    net.op("slice", net.input, 1, 0, 0, out=(2, 0, 4, 4))
    with pytest.raises(SpecError) as caught:
        net.analysis()
    assert caught.value.message == (
        "hand: aten.slice in the module's own forward: it makes an empty tensor [2, 0, 4, 4], and convcalc holds no "
        "size of 0"
    )


def test_slice_of_every_channel_is_no_layer() -> None:
    net = Net(2, 8, 4, 4)
    whole = net.op("slice", net.input, 1, 0, 8, out=(2, 8, 4, 4))
    net.op("relu", whole, out=(2, 8, 4, 4))
    assert layers(net.analysis()) == [("relu", (8, 4, 4))]


@pytest.mark.parametrize(
    ("args", "kwargs", "out"),
    [
        ((1, 0, 4, 2), {}, (2, 2, 4, 4)),  # x[:, 0:4:2]: every second
        ((), {"start": 0, "end": 1}, (1, 8, 4, 4)),  # dim 0, the batch: the first sample
    ],
)
def test_slices_not_followed_are_opaque(args: tuple[int, ...], kwargs: dict[str, int], out: tuple[int, ...]) -> None:
    net = Net(2, 8, 4, 4)
    net.op("slice", net.input, *args, out=out, kwargs=kwargs)
    analysis = net.analysis()
    assert [layer.type for layer in analysis.layers] == ["opaque"] and not shape_warnings(analysis)


# --- attention ---


@pytest.mark.parametrize("op", sorted(SDPA_MASK))
def test_fused_attention_without_a_mask(op: str) -> None:
    # Q = K = V [2, 2, 5, 4] (2 heads, 5 tokens of 4): per head 5 x 5 x 4 for Q K^T and as many for A V
    net = Net(2, 2, 5, 4)
    q = net.input
    rest = (
        (None, 0.0, False)
        if op in ("scaled_dot_product_attention", "_scaled_dot_product_efficient_attention")
        else (0.0, False, False)
    )
    net.op(op, q, q, q, *rest, out=(2, 2, 5, 4))
    (layer,) = net.analysis().layers
    assert (layer.type, layer.output_shape, layer.macs) == ("dot_product_attention", (2, 5, 4), 2 * 2 * 5 * 5 * 4)


@pytest.mark.parametrize("op", sorted(SDPA_MASK))
def test_fused_attention_with_a_mask_is_opaque(op: str) -> None:
    net = Net(2, 2, 5, 4)
    q, mask = net.input, net.tensor(5, 5, role="c")
    positional = op in ("scaled_dot_product_attention", "_scaled_dot_product_efficient_attention")
    keyword = "attn_bias" if op == "_scaled_dot_product_efficient_attention" else "attn_mask"
    net.op(op, q, q, q, *([mask] if positional else []), out=(2, 2, 5, 4), kwargs={} if positional else {keyword: mask})
    assert [layer.type for layer in net.analysis().layers] == ["opaque"]


def test_nn_multihead_attentions_fused_op() -> None:
    # tokens [2, 5, 8], 2 heads, Q, K and V by one weight 24 x 8 without a bias, the output projection 8 x 8 + 8:
    # 3 x 8 x 8 + 8 x 8 + 8 = 264 parameters; key and value another tensor (cross-attention): opaque
    net = Net(2, 5, 8)
    x = net.input
    weights = [net.param("in_proj_weight", 24, 8), None, net.param("out_proj.weight", 8, 8), net.param("b", 8)]
    net.op("_native_multi_head_attention", x, x, x, 8, 2, *weights, None, out=[(2, 5, 8), (0,)])
    analysis = net.analysis()
    assert layers(analysis) == [("permute", (8, 5)), ("attention", (8, 5))]
    assert (analysis.layers[1].config["heads"], analysis.layers[1].config["qkv_bias"]) == (2, False)
    assert analysis.total.params == 264
    net = Net(2, 5, 8)
    other = net.op("relu", net.input, out=(2, 5, 8))
    weights = [net.param("in_proj_weight", 24, 8), None, net.param("out_proj.weight", 8, 8), net.param("b", 8)]
    net.op("_native_multi_head_attention", net.input, other, other, 8, 2, *weights, None, out=[(2, 5, 8), (0,)])
    assert [layer.type for layer in net.analysis().layers] == ["relu", "opaque"]


# --- arithmetic and reductions ---


def test_an_add_scaled_by_alpha_is_opaque() -> None:
    # add(x, y, alpha=2) is x + 2y: not an add, and no arithmetic convcalc counts
    net = Net(2, 4, 6, 6)
    other = net.op("relu", net.input, out=(2, 4, 6, 6))
    net.op("add", net.input, other, 2, out=(2, 4, 6, 6))
    assert [layer.type for layer in net.analysis().layers] == ["relu", "opaque"]


def test_arithmetic_of_maps_laid_out_differently_is_opaque() -> None:
    # [2, 4, 4, 4] less its channels-last permute (one torch shape, convcalc's axes in another order)
    net = Net(2, 4, 4, 4)
    last = net.op("permute", net.input, [0, 2, 3, 1], out=(2, 4, 4, 4))
    net.op("sub", net.input, last, out=(2, 4, 4, 4))
    assert [layer.type for layer in net.analysis().layers] == ["opaque"]


def test_arithmetic_with_a_number() -> None:
    # x * 0.5 of [2, 4, 6, 6]: one multiplication per element, 4 x 6 x 6 = 144; x * True is no number convcalc counts
    net = Net(2, 4, 6, 6)
    net.op("mul", net.input, 0.5, out=(2, 4, 6, 6))
    (layer,) = net.analysis().layers
    assert (layer.type, layer.config["op"], layer.config["constant"], layer.flops) == ("arithmetic", "mul", (1,), 144)
    net = Net(2, 4, 6, 6)
    net.op("mul", net.input, True, out=(2, 4, 6, 6))
    assert [layer.type for layer in net.analysis().layers] == ["opaque"]


@pytest.mark.parametrize(
    ("shape", "permute", "constant", "sizes"),
    [
        ((2, 4, 6, 6), None, (), (1,)),  # a 0-d tensor: one value
        ((2, 4, 6, 8), [0, 2, 3, 1], (6, 8, 4), (4, 6, 8)),  # channels-last [2, 6, 8, 4] less [6, 8, 4]
        ((2, 4, 6, 8), [0, 2, 3, 1], (1, 6, 8, 4), (4, 6, 8)),  # ... less [1, 6, 8, 4]
        ((2, 4, 10), [0, 2, 1], (10, 4), (4, 10)),  # channels-last tokens [2, 10, 4] less [10, 4]
    ],
)
def test_arithmetic_with_a_constant_tensor(
    shape: tuple[int, ...], permute: list[int] | None, constant: tuple[int, ...], sizes: tuple[int, ...]
) -> None:
    # one subtraction per element of the map (its sizes less the batch), the constant's sizes channels first
    net = Net(*shape)
    source = net.input
    if permute is not None:
        source = net.op("permute", source, permute, out=tuple(shape[d] for d in permute))
    net.op("sub", source, net.tensor(*constant, role="c"), out=source.shape)
    (layer,) = net.analysis().layers
    assert (layer.type, layer.config["constant"], layer.flops) == ("arithmetic", sizes, math.prod(shape[1:]))
    assert layer.params == 0  # a constant, not a parameter


def test_a_learned_constant_counts_once_and_a_buffer_never() -> None:
    # x - offset, then (x - offset) * scale... as two subtractions of one learned 4 x 1 x 1 (4 parameters, counted
    # on the first), then a buffer (mean) of 4 x 1 x 1 subtracted: no parameter
    net = Net(2, 4, 6, 6)
    offset = net.param("offset", 1, 4, 1, 1)
    once = net.op("sub", net.input, offset, out=(2, 4, 6, 6))
    twice = net.op("sub", once, offset, out=(2, 4, 6, 6))
    net.op("sub", twice, net.tensor(1, 4, 1, 1, role="p", name="mean"), out=(2, 4, 6, 6))
    analysis = net.analysis()
    assert [layer.params for layer in analysis.layers] == [4, 0, 0]
    assert [layer.flops for layer in analysis.layers] == [4 * 6 * 6] * 3


def test_a_sum_keeping_its_axis() -> None:
    # sum(x, [1], True) of [2, 4, 6, 8]: [2, 1, 6, 8], one addition per input element (192)
    net = Net(2, 4, 6, 8)
    net.op("sum", net.input, [1], True, out=(2, 1, 6, 8))
    (layer,) = net.analysis().layers
    assert (layer.type, layer.config["axes"], layer.config["keep"], layer.output_shape) == (
        "reduce",
        (0,),
        True,
        (1, 6, 8),
    )
    assert layer.flops == 4 * 6 * 8


def test_a_max_over_the_channels_of_a_channels_last_map() -> None:
    # amax(x, [-1], True) of channels-last [2, 6, 8, 4]: [2, 6, 8, 1], convcalc's 1 x 6 x 8; without keepdim the
    # channels' place is torch's to say: opaque
    net = Net(2, 4, 6, 8)
    last = net.op("permute", net.input, [0, 2, 3, 1], out=(2, 6, 8, 4))
    net.op("amax", last, [-1], True, out=(2, 6, 8, 1))
    (layer,) = net.analysis().layers
    assert (layer.type, layer.config["op"], layer.config["axes"], layer.output_shape) == (
        "reduce",
        "max",
        (0,),
        (1, 6, 8),
    )
    net = Net(2, 4, 6, 8)
    last = net.op("permute", net.input, [0, 2, 3, 1], out=(2, 6, 8, 4))
    net.op("amax", last, [-1], False, out=(2, 6, 8))
    assert [layer.type for layer in net.analysis().layers] == ["opaque"]


def test_a_sum_over_a_tensor_whose_batch_moved_is_opaque() -> None:
    # tokens [2, 5, 8] transposed to [5, 2, 8], summed over the last dim: [5, 2, 1]
    net = Net(2, 5, 8)
    moved = net.op("transpose", net.input, 0, 1, out=(5, 2, 8))
    net.op("sum", moved, [-1], True, out=(5, 2, 1))
    assert [layer.type for layer in net.analysis().layers] == ["opaque"]


# --- the layers of ops.py: arguments left to their defaults, and arguments not followed ---


def test_a_conv_with_aten_defaults_and_single_values() -> None:
    # conv2d(x, w) of [2, 3, 8, 8] by 4 x 3 x 3 x 3 (an ExportedProgram leaves stride, padding and dilation out: 1,
    # 0, 1): 4 x 6 x 6, 4 x 6 x 6 x 27 = 3,888 MACs, 108 parameters; conv2d(x, w, None, [2], "valid"): one stride
    # for both axes, (8 - 3) // 2 + 1 = 3
    net = Net(2, 3, 8, 8)
    net.op("conv2d", net.input, net.param("w", 4, 3, 3, 3), out=(2, 4, 6, 6))
    (conv,) = net.analysis().layers
    assert (conv.config["stride"], conv.config["padding"], conv.config["dilation"]) == ((1, 1), (0, 0), (1, 1))
    assert (conv.output_shape, conv.macs, conv.params) == ((4, 6, 6), 4 * 6 * 6 * 27, 108)
    net = Net(2, 3, 8, 8)
    net.op("conv2d", net.input, net.param("w", 4, 3, 3, 3), None, [2], "valid", out=(2, 4, 3, 3))
    (conv,) = net.analysis().layers
    assert (conv.config["stride"], conv.config["padding"], conv.output_shape) == ((2, 2), (0, 0), (4, 3, 3))


def test_a_transposed_conv_without_output_padding() -> None:
    # conv_transpose2d(x, w, None, [2, 2]) of [2, 3, 8, 8] by (3, 4, 2, 2): (8 - 1) x 2 + 2 = 16, 4 x 16 x 16;
    # each input value times 4 x 2 x 2 weights: 3 x 8 x 8 x 16 = 3,072 MACs
    net = Net(2, 3, 8, 8)
    net.op("conv_transpose2d", net.input, net.param("w", 3, 4, 2, 2), None, [2, 2], out=(2, 4, 16, 16))
    (conv,) = net.analysis().layers
    assert (conv.type, conv.config["output_padding"], conv.output_shape) == ("conv_transpose", (0, 0), (4, 16, 16))
    assert conv.macs == 3 * 8 * 8 * 16


def test_weights_computed_from_parameters_count_each_and_from_the_input_none() -> None:
    # weight norm: each conv's weight computed from its parameters (no name): 4 x 3 x 9 = 108 and 4 x 4 x 9 = 144,
    # neither shared; a weight computed from the input is no layer convcalc counts (opaque)
    net = Net(2, 3, 8, 8)
    first = net.op("conv2d", net.input, net.tensor(4, 3, 3, 3, role="p"), out=(2, 4, 6, 6))
    net.op("conv2d", first, net.tensor(4, 4, 3, 3, role="p"), out=(2, 4, 4, 4))
    assert [layer.params for layer in net.analysis().layers] == [108, 144]
    net = Net(2, 3, 8, 8)
    args = (None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1)
    net.op("convolution", net.input, net.tensor(4, 3, 3, 3), *args, out=(2, 4, 6, 6))
    assert [layer.type for layer in net.analysis().layers] == ["opaque"]


def test_a_linear_over_tokens_and_over_a_flat_input() -> None:
    # linear(x, w, b) of tokens [2, 5, 8] by 16 x 8: per token, 5 x 8 x 16 = 640 MACs, 8 x 16 + 16 = 144 parameters;
    # linear(x, w) of [2, 8]: no bias, 128 parameters
    net = Net(2, 5, 8)
    net.op("linear", net.input, net.param("w", 16, 8), net.param("b", 16), out=(2, 5, 16))
    analysis = net.analysis()
    assert layers(analysis) == [("permute", (8, 5)), ("linear", (16, 5))]
    assert (analysis.layers[1].macs, analysis.total.params) == (640, 144)
    net = Net(2, 8)
    net.op("linear", net.input, net.param("w", 16, 8), out=(2, 16))
    (layer,) = net.analysis().layers
    assert (layer.type, layer.config["bias"], layer.params) == ("linear", False, 128)


def test_batch_norm_momentum_and_eps() -> None:
    # native_batch_norm(x, w, b, mean, var, training, momentum 0.3, eps 1e-3); given eps alone, momentum 0.1
    for args, momentum in [((False, 0.3, 1e-3), 0.3), ((False, 1e-3), 0.1)]:
        net = Net(2, 4, 6, 6)
        stats = [net.param("w", 4), net.param("b", 4), net.tensor(4, role="p"), net.tensor(4, role="p")]
        net.op("native_batch_norm", net.input, *stats, *args, out=[(2, 4, 6, 6), (0,), (0,)])
        (layer,) = net.analysis().layers
        assert (layer.config["eps"], layer.config["momentum"]) == (1e-3, momentum)


@pytest.mark.parametrize(
    ("op", "args", "kind"),
    [
        ("clamp", (0,), "relu"),
        ("clamp_min", (0,), "relu"),
        ("clamp", (0, 6), "relu6"),
        ("hardtanh", (0.0, 6.0), "relu6"),
        ("clamp", (0, 1), "opaque"),
        ("clamp", (-1,), "opaque"),
        ("hardtanh", (), "opaque"),  # -1 to 1
    ],
)
def test_clamps_that_are_relus(op: str, args: tuple[float, ...], kind: str) -> None:
    net = Net(2, 4, 6, 6)
    net.op(op, net.input, *args, out=(2, 4, 6, 6))
    assert [layer.type for layer in net.analysis().layers] == [kind]


def test_in_place_activations() -> None:
    # relu_ works in place, relu not; gelu has no in-place form its kind records
    net = Net(2, 4, 6, 6)
    first = net.op("relu_", net.input, out=(2, 4, 6, 6))
    second = net.op("relu", first, out=(2, 4, 6, 6))
    net.op("gelu_", second, out=(2, 4, 6, 6))
    analysis = net.analysis()
    assert [layer.type for layer in analysis.layers] == ["relu", "relu", "gelu"]
    assert [layer.config.get("inplace", False) for layer in analysis.layers] == [True, False, False]


def test_means_that_are_pools_and_that_are_not() -> None:
    # mean over the positions of a 1-D map [2, 4, 10]: a global average pool, 4 x 1; over the channels of
    # [2, 4, 6, 8]: a reduce, 192 additions + 48 divisions; of a flat [2, 8] over everything: opaque
    net = Net(2, 4, 10)
    net.op("mean", net.input, [-1], True, out=(2, 4, 1))
    assert layers(net.analysis()) == [("global_avgpool", (4, 1))]
    net = Net(2, 4, 6, 8)
    net.op("mean", net.input, [1], True, out=(2, 1, 6, 8))
    (layer,) = net.analysis().layers
    assert (layer.type, layer.config["op"], layer.config["axes"], layer.flops) == ("reduce", "mean", (0,), 192 + 48)
    net = Net(2, 8)
    net.op("mean", net.input, out=())
    analysis = net.analysis()
    assert [layer.type for layer in analysis.layers] == ["opaque"] and not shape_warnings(analysis)


def test_an_add_of_a_number() -> None:
    net = Net(2, 4, 6, 6)
    net.op("add", net.input, 1.0, out=(2, 4, 6, 6))
    (layer,) = net.analysis().layers
    assert (layer.type, layer.config["op"], layer.flops) == ("arithmetic", "add", 4 * 6 * 6)


def test_a_product_by_a_learned_weight_per_channel() -> None:
    # a 1-D map [2, 4, 10] times a learned 4 x 1: a scale, 4 parameters; a flat [2, 8] times a learned 8: a
    # product by a constant of 8 values (8 multiplications, 8 parameters)
    net = Net(2, 4, 10)
    net.op("mul", net.input, net.param("gamma", 4, 1), out=(2, 4, 10))
    (layer,) = net.analysis().layers
    assert (layer.type, layer.params) == ("scale", 4)
    net = Net(2, 8)
    net.op("mul", net.input, net.param("gamma", 8), out=(2, 8))
    (layer,) = net.analysis().layers
    assert (layer.type, layer.config["constant"], layer.params, layer.flops) == ("arithmetic", (8,), 8, 8)


def test_upsample_modes_and_align_corners() -> None:
    # [2, 4, 6, 8] to 12 x 16: scale 2 on both axes; bilinear with align_corners True or not given (False),
    # nearest never aligned; a 2-D op on a 3-D map [2, 4, 3, 6, 8]: opaque
    for op, args, aligned in [
        ("upsample_bilinear2d", (True,), True),
        ("upsample_bilinear2d", (), False),
        ("upsample_nearest2d", (None,), False),
    ]:
        net = Net(2, 4, 6, 8)
        net.op(op, net.input, [12, 16], *args, out=(2, 4, 12, 16))
        (layer,) = net.analysis().layers
        assert (layer.config["scale"], layer.config["align_corners"], layer.output_shape) == (
            (2, 2),
            aligned,
            (4, 12, 16),
        )
    net = Net(2, 4, 3, 6, 8)
    net.op("upsample_bilinear2d", net.input, [12, 16], False, out=(2, 4, 3, 12, 16))
    assert [layer.type for layer in net.analysis().layers] == ["opaque"]


def test_ops_whose_arguments_are_not_followed_are_opaque() -> None:
    # a negative pad (it crops), a pad of a map of 4 spatial axes or of the channels, an average pool by another
    # divisor than its window's
    net = Net(2, 4, 6, 8)
    net.op("constant_pad_nd", net.input, [-1, -1], out=(2, 4, 6, 6))
    net2 = Net(2, 4, 6, 8)
    net2.op("avg_pool2d", net2.input, [2, 2], [2, 2], [0, 0], False, True, 3, out=(2, 4, 3, 4))
    net3 = Net(2, 2, 3, 3, 3, 3)
    net3.op("constant_pad_nd", net3.input, [1, 1], 0.0, out=(2, 2, 3, 3, 3, 5))
    net4 = Net(2, 4, 10)  # the channels padded too: F.pad(x, (1, 1, 1, 1)) of a 1-D map
    net4.op("constant_pad_nd", net4.input, [1, 1, 1, 1], 0.0, out=(2, 6, 12))
    net5 = Net(2, 4, 6, 8)  # F.pad(x, (1, 1, 1, 1, 1, 1)) of a 2-D map: the channels too
    net5.op("constant_pad_nd", net5.input, [1, 1, 1, 1, 1, 1], 0.0, out=(2, 6, 8, 10))
    for analysis in (net.analysis(), net2.analysis(), net3.analysis(), net4.analysis(), net5.analysis()):
        assert [layer.type for layer in analysis.layers] == ["opaque"] and not shape_warnings(analysis)


def test_layer_norms_over_the_last_dim_and_over_others() -> None:
    # tokens [2, 5, 8] over D = 8 (read channels-last: 8 x 5), affine: 2 x 8 = 16 parameters; a flat [2, 8] over its
    # 8 channels; a map [2, 4, 6, 8] over H and W alone: opaque
    net = Net(2, 5, 8)
    net.op("native_layer_norm", net.input, [8], net.param("w", 8), net.param("b", 8), 1e-5, out=(2, 5, 8))
    analysis = net.analysis()
    assert layers(analysis) == [("permute", (8, 5)), ("layernorm", (8, 5))] and analysis.total.params == 16
    # nn.LayerNorm(8, bias=False): its weight alone, 8 parameters
    net = Net(2, 5, 8)
    net.op("native_layer_norm", net.input, [8], net.param("w", 8), None, 1e-5, out=(2, 5, 8))
    assert net.analysis().total.params == 8
    net = Net(2, 8)
    net.op("native_layer_norm", net.input, [8], None, None, 1e-5, out=(2, 8))
    (layer,) = net.analysis().layers
    assert (layer.type, layer.config["over"]) == ("layernorm", "channels")
    net = Net(2, 4, 6, 8)
    net.op("native_layer_norm", net.input, [6, 8], None, None, 1e-5, out=(2, 4, 6, 8))
    assert [layer.type for layer in net.analysis().layers] == ["opaque"]


def test_a_score_squeezed_to_one_value_per_sample() -> None:
    # Linear(8, 1) on [2, 8] (8 + 1 = 9 params), .view(-1) to [2], sigmoid: one value per sample throughout, the view
    # moves nothing (no uncounted op, the batch never read as 2 features); the sigmoid's output is 1 value a sample
    net = Net(2, 8)
    scores = net.op("linear", net.input, net.param("w", 1, 8), net.param("b", 1), out=(2, 1))
    net.op("sigmoid", net.op("view", scores, [-1], out=(2,)), out=(2,))
    analysis = net.analysis()
    assert layers(analysis) == [("linear", (1,)), ("sigmoid", (1,))] and analysis.total.params == 9
    assert not analysis.warnings
    # the same scores transposed to [1, 2] (the batch moved off the first axis) and viewed to [2]: not one value per
    # sample of the batch's axis, so not held as before; a view of [2, 1, 1, 1] to [2, 1] is a flatten (1 x 1 x 1 = 1)
    net = Net(2, 8)
    scores = net.op("linear", net.input, net.param("w", 1, 8), net.param("b", 1), out=(2, 1))
    net.op("view", net.op("t", scores, out=(1, 2)), [-1], out=(2,))
    assert [layer.type for layer in net.analysis().layers] == ["linear", "opaque", "opaque"]
    net = Net(2, 1, 1, 1)
    net.op("view", net.input, [2, 1], out=(2, 1))
    assert layers(net.analysis()) == [("flatten", (1,))]


def test_a_max_pool_by_one_value_for_both_axes() -> None:
    # max_pool2d(x, [3], [2]) of [2, 4, 9, 9]: 3 x 3 by 2, (9 - 3) // 2 + 1 = 4
    net = Net(2, 4, 9, 9)
    net.op("max_pool2d", net.input, [3], [2], out=(2, 4, 4, 4))
    (layer,) = net.analysis().layers
    assert (layer.config["kernel"], layer.config["stride"], layer.output_shape) == ((3, 3), (2, 2), (4, 4, 4))


def test_a_layer_scale_on_a_channels_last_map() -> None:
    # ConvNeXt's gamma: channels-last [2, 6, 8, 4] times a learned 4: a scale, 4 parameters
    net = Net(2, 4, 6, 8)
    last = net.op("permute", net.input, [0, 2, 3, 1], out=(2, 6, 8, 4))
    net.op("mul", last, net.param("gamma", 4), out=(2, 6, 8, 4))
    (layer,) = net.analysis().layers
    assert (layer.type, layer.params, layer.output_shape) == ("scale", 4, (4, 6, 8))


@pytest.mark.parametrize(
    ("op", "shape", "out", "mode"),
    [
        ("upsample_linear1d", (2, 4, 10), (2, 4, 20), "linear"),
        ("upsample_trilinear3d", (2, 4, 3, 5, 6), (2, 4, 6, 10, 12), "trilinear"),
    ],
)
def test_linear_upsampling_of_1d_and_3d_maps(op: str, shape: tuple[int, ...], out: tuple[int, ...], mode: str) -> None:
    net = Net(*shape)
    net.op(op, net.input, list(out[2:]), False, out=out)
    (layer,) = net.analysis().layers
    assert (layer.config["mode"], layer.config["scale"], layer.output_shape) == (mode, (2,) * len(shape[2:]), out[1:])


@pytest.mark.parametrize(
    ("shape", "pad", "sides", "out"),
    [
        ((2, 4, 10), [1, 2], (1, 2), (4, 13)),  # a 1-D map: 1 before, 2 after
        ((2, 4, 6, 8), [1, 2], (0, 0, 1, 2), (4, 6, 11)),  # the last axis (W) alone: H unpadded
        ((2, 4, 6, 8), [1, 2, 3, 4], (3, 4, 1, 2), (4, 13, 11)),  # W by 1 and 2, H by 3 and 4
        ((2, 2, 4, 4, 4), [1, 1, 1, 1, 2, 2], (2, 2, 1, 1, 1, 1), (2, 8, 6, 6)),  # a 3-D map, D by 2 and 2
        ((2, 2, 4, 4, 4), [1, 2], (0, 0, 0, 0, 1, 2), (2, 4, 4, 7)),  # a 3-D map's last axis alone
    ],
)
def test_pads_list_the_last_axis_first(
    shape: tuple[int, ...], pad: list[int], sides: tuple[int, ...], out: tuple[int, ...]
) -> None:
    net = Net(*shape)
    net.op("constant_pad_nd", net.input, pad, 0.0, out=(2, *out))
    (layer,) = net.analysis().layers
    assert (layer.type, layer.config["padding"], layer.output_shape) == ("pad", sides, out)


def test_a_transposed_conv_with_every_argument() -> None:
    # conv_transpose2d(x, w, None, stride 2, padding 0, output_padding 1, groups 1, dilation 2) of [2, 3, 8, 8] by
    # (3, 4, 2, 2): (8 - 1) x 2 - 0 + 2 x (2 - 1) + 1 + 1 = 18
    net = Net(2, 3, 8, 8)
    args = (None, [2, 2], [0, 0], [1, 1], 1, [2, 2])
    net.op("conv_transpose2d", net.input, net.param("w", 3, 4, 2, 2), *args, out=(2, 4, 18, 18))
    (conv,) = net.analysis().layers
    assert (conv.type, conv.config["output_padding"], conv.config["dilation"]) == ("conv_transpose", (1, 1), (2, 2))
    assert conv.output_shape == (4, 18, 18)


def test_a_batch_norm_without_weights() -> None:
    # nn.BatchNorm2d(4, affine=False): no weight, no bias, no parameters
    net = Net(2, 4, 6, 6)
    stats = [None, None, net.tensor(4, role="p"), net.tensor(4, role="p")]
    net.op("native_batch_norm", net.input, *stats, False, 0.1, 1e-5, out=[(2, 4, 6, 6), (0,), (0,)])
    (layer,) = net.analysis().layers
    assert (layer.type, layer.config["affine"], layer.params) == ("batchnorm", False, 0)


def test_a_constant_of_one_value_from_a_sum_of_every_channel() -> None:
    # sum(x, [1]) of [2, 8]: [2] (convcalc's one value per sample: 8 additions); less a constant [1]: 1 subtraction
    net = Net(2, 8)
    summed = net.op("sum", net.input, [1], out=(2,))
    net.op("sub", summed, net.tensor(1, role="c"), out=(2,))
    analysis = net.analysis()
    assert [(layer.type, layer.flops) for layer in analysis.layers] == [("reduce", 8), ("arithmetic", 1)]
    assert analysis.layers[1].config["constant"] == (1,)


@pytest.mark.parametrize(
    ("args", "out"),
    [
        # 10 x 10, a 3 x 3 window dilated by 2 (5 wide), by 2: (10 - 5) / 2 = 2.5, ceil 3 + 1 = 4 (floor: 3)
        (([3, 3], [2, 2], [0, 0], [2, 2], True), 4),
        (([3, 3], [2, 2], [0, 0], [2, 2], False), 3),
    ],
)
def test_a_max_pool_dilated_with_ceil_mode_or_not(args: tuple[Any, ...], out: int) -> None:
    net = Net(2, 4, 10, 10)
    net.op("max_pool2d", net.input, *args, out=(2, 4, out, out))
    (layer,) = net.analysis().layers
    assert (layer.config["dilation"], layer.config["ceil_mode"], layer.output_shape) == ((2, 2), args[4], (4, out, out))


def test_average_pools_ceil_mode_and_padding_counted() -> None:
    # avg_pool2d(x, 3, 2, 0, ceil_mode=True, count_include_pad=False) of 10 x 10: (10 - 3) / 2 = 3.5, ceil 4 + 1 = 5;
    # avg_pool2d(x, [2, 2]) leaves count_include_pad to its default, True
    net = Net(2, 4, 10, 10)
    net.op("avg_pool2d", net.input, [3, 3], [2, 2], [0, 0], True, False, out=(2, 4, 5, 5))
    (layer,) = net.analysis().layers
    assert (layer.config["ceil_mode"], layer.config["count_include_pad"], layer.output_shape) == (
        True,
        False,
        (4, 5, 5),
    )
    net = Net(2, 4, 10, 10)
    net.op("avg_pool2d", net.input, [2, 2], out=(2, 4, 5, 5))
    (layer,) = net.analysis().layers
    assert (layer.config["count_include_pad"], layer.config["stride"], layer.output_shape) == (True, (2, 2), (4, 5, 5))


def test_a_pool_of_an_unbatched_input_is_opaque() -> None:
    # AdaptiveAvgPool1d(1) of an input [2, 8] (torch's unbatched C x L): no map convcalc pools
    net = Net(2, 8)
    net.op("adaptive_avg_pool1d", net.input, [1], out=(2, 1))
    analysis = net.analysis()
    assert [layer.type for layer in analysis.layers] == ["opaque"] and not shape_warnings(analysis)


@pytest.mark.parametrize(
    ("shape", "permute", "gamma"),
    [((2, 4, 6, 6), None, (1, 4, 1, 1)), ((2, 4, 6, 8), [0, 2, 3, 1], (1, 1, 1, 4))],
)
def test_a_layer_scale_with_its_leading_ones(
    shape: tuple[int, ...], permute: list[int] | None, gamma: tuple[int, ...]
) -> None:
    net = Net(*shape)
    source = net.input
    if permute is not None:
        source = net.op("permute", source, permute, out=tuple(shape[d] for d in permute))
    net.op("mul", source, net.param("gamma", *gamma), out=source.shape)
    (layer,) = net.analysis().layers
    assert (layer.type, layer.params) == ("scale", 4)


def test_a_1d_map_viewed_flat_is_a_flatten() -> None:
    # x.view(2, 40) of [2, 4, 10]
    net = Net(2, 4, 10)
    net.op("view", net.input, [2, 40], out=(2, 40))
    assert layers(net.analysis()) == [("flatten", (40,))]


def test_a_pad_of_zero_on_one_side() -> None:
    # F.pad(x, (0, 1)) of [2, 4, 10]: 11 positions
    net = Net(2, 4, 10)
    net.op("constant_pad_nd", net.input, [0, 1], 0.0, out=(2, 4, 11))
    (layer,) = net.analysis().layers
    assert (layer.type, layer.config["padding"], layer.output_shape) == ("pad", (0, 1), (4, 11))


def test_norms_eps_and_affine_by_position() -> None:
    # layer_norm(x, [8], None, None, 1e-6): not affine; native_group_norm(x, None, None, N, C, HxW, 2, 1e-3) and
    # group_norm(x, 2, None, None, 1e-3) alike
    net = Net(2, 8)
    net.op("layer_norm", net.input, [8], None, None, 1e-6, out=(2, 8))
    (layer,) = net.analysis().layers
    assert (layer.config["affine"], layer.config["eps"], layer.params) == (False, 1e-6, 0)
    for op, args in [("native_group_norm", (None, None, 2, 4, 36, 2, 1e-3)), ("group_norm", (2, None, None, 1e-3))]:
        net = Net(2, 4, 6, 6)
        net.op(op, net.input, *args, out=(2, 4, 6, 6))
        (layer,) = net.analysis().layers
        assert (layer.type, layer.config["groups"], layer.config["affine"], layer.config["eps"]) == (
            "groupnorm",
            2,
            False,
            1e-3,
        )


def test_a_linear_as_mm() -> None:
    # mm(x, w.t()) of [2, 8] by 8 x 16: a linear without bias, 128 parameters
    net = Net(2, 8)
    net.op("mm", net.input, net.param("w", 8, 16), out=(2, 16))
    (layer,) = net.analysis().layers
    assert (layer.type, layer.config["units"], layer.config["bias"], layer.params) == ("linear", 16, False, 128)


def test_batch_norm_for_inference_momentum() -> None:
    # _native_batch_norm_legit_no_training(x, w, b, mean, var, momentum 0.3, eps 1e-3)
    net = Net(2, 4, 6, 6)
    stats = [net.param("w", 4), net.param("b", 4), net.tensor(4, role="p"), net.tensor(4, role="p")]
    net.op("_native_batch_norm_legit_no_training", net.input, *stats, 0.3, 1e-3, out=[(2, 4, 6, 6), (0,), (0,)])
    (layer,) = net.analysis().layers
    assert (layer.config["momentum"], layer.config["eps"]) == (0.3, 1e-3)


def test_channel_shuffle_op() -> None:
    net = Net(2, 8, 4, 4)
    net.op("channel_shuffle", net.input, 2, out=(2, 8, 4, 4))
    (layer,) = net.analysis().layers
    assert (layer.type, layer.config["groups"], layer.output_shape) == ("channel_shuffle", 2, (8, 4, 4))


# --- views ---


def test_a_channel_shuffle_by_view_transpose_view() -> None:
    # ShuffleNet's shuffle of [3, 8, 5, 6] in 2 groups: view [3, 2, 4, 5, 6], transpose(1, 2) [3, 4, 2, 5, 6],
    # view [3, 8, 5, 6]: one channel_shuffle of 2 groups, no other layer
    net = Net(3, 8, 5, 6)
    grouped = net.op("view", net.input, [3, 2, 4, 5, 6], out=(3, 2, 4, 5, 6))
    shuffled = net.op("transpose", grouped, 1, 2, out=(3, 4, 2, 5, 6))
    net.op("view", shuffled, [3, 8, 5, 6], out=(3, 8, 5, 6))
    analysis = net.analysis()
    assert layers(analysis) == [("channel_shuffle", (8, 5, 6))] and analysis.layers[0].config["groups"] == 2


@pytest.mark.parametrize(
    ("shape", "out", "kinds"),
    [
        ((3, 8, 5, 6), (3, 1, 8, 5, 6), ["opaque"]),  # one group: unsqueeze(1), not followed
        ((3, 8, 5, 6), (3, 8, 1, 5, 6), ["opaque"]),  # groups of one channel: unsqueeze(2), not followed
        ((3, 8, 10), (3, 2, 4, 10), ["reshape"]),  # a 1-D map's channels in 2 groups: a reshape
        ((2, 4, 1, 10), (2, 4, 10), ["reshape"]),  # squeeze(2) of a map (not a lifted one): a reshape
        ((2, 4, 6, 8), (8, 6, 8), ["opaque"]),  # the channels folded into the batch
    ],
)
def test_views_that_are_no_channel_groups(shape: tuple[int, ...], out: tuple[int, ...], kinds: list[str]) -> None:
    net = Net(*shape)
    net.op("view", net.input, list(out), out=out)
    analysis = net.analysis()
    assert [layer.type for layer in analysis.layers] == kinds and not shape_warnings(analysis)


def test_a_1d_map_lifted_for_a_2d_pool_and_back() -> None:
    # MaxPool1d(3) of [2, 4, 12] as torch runs it: unsqueeze(2) [2, 4, 1, 12], max_pool2d by (1, 3), [2, 4, 1, 4],
    # squeeze(2) [2, 4, 4]: one 1-D max pool by 3 (the added axis' sizes 1), 4 x 4
    net = Net(2, 4, 12)
    lifted = net.op("unsqueeze", net.input, 2, out=(2, 4, 1, 12))
    pooled = net.op("max_pool2d", lifted, [1, 3], [1, 3], out=(2, 4, 1, 4))
    back = net.op("squeeze", pooled, 2, out=(2, 4, 4))
    net.op("relu", back, out=(2, 4, 4))
    analysis = net.analysis()
    assert layers(analysis) == [("maxpool", (4, 4)), ("relu", (4, 4))]
    assert (analysis.layers[0].config["kernel"], analysis.layers[0].config["stride"]) == ((3,), (3,))


def test_a_linear_on_the_rows_of_a_channels_last_map() -> None:
    # ConvNeXt's pointwise Linear as addmm: [2, 6, 8, 4] channels-last viewed [96, 4], addmm by 4 x 16 (+ 16),
    # viewed [2, 6, 8, 16], permuted back: one linear per position, 6 x 8 x 4 x 16 = 3,072 MACs, 80 parameters
    net = Net(2, 4, 6, 8)
    last = net.op("permute", net.input, [0, 2, 3, 1], out=(2, 6, 8, 4))
    rows = net.op("view", last, [96, 4], out=(96, 4))
    made = net.op("addmm", net.param("b", 16), rows, net.param("w", 4, 16), out=(96, 16))
    back = net.op("view", made, [2, 6, 8, 16], out=(2, 6, 8, 16))
    first = net.op("permute", back, [0, 3, 1, 2], out=(2, 16, 6, 8))
    net.op("relu", first, out=(2, 16, 6, 8))
    analysis = net.analysis()
    assert layers(analysis) == [("linear", (16, 6, 8)), ("relu", (16, 6, 8))]
    assert (analysis.layers[0].macs, analysis.total.params) == (6 * 8 * 4 * 16, 4 * 16 + 16)


def test_a_channels_last_map_viewed_per_sample_is_a_reshape_of_torchs_order() -> None:
    # [2, 6, 8, 4] channels-last viewed [2, 192]: torch's order 6 x 8 x 4 (a permute of 4 x 6 x 8), then a reshape
    net = Net(2, 4, 6, 8)
    last = net.op("permute", net.input, [0, 2, 3, 1], out=(2, 6, 8, 4))
    net.op("view", last, [2, 192], out=(2, 192))
    assert layers(net.analysis()) == [("permute", (6, 8, 4)), ("reshape", (192,))]


def test_a_constant_that_sizes_the_batch_is_opaque() -> None:
    # [2, 4, 6, 6] less a constant [2, 4, 1, 1]: a value per sample, no per-sample layer convcalc counts
    net = Net(2, 4, 6, 6)
    net.op("sub", net.input, net.tensor(2, 4, 1, 1, role="c"), out=(2, 4, 6, 6))
    assert [layer.type for layer in net.analysis().layers] == ["opaque"]


# --- the importer: what it reads, where its layers are, what it warns ---


def test_a_conv_of_a_channels_last_map_is_opaque() -> None:
    # [2, 4, 6, 8] to channels-last [2, 6, 8, 4], then conv2d with 6 input channels (torch reads axis 1, H = 6, as
    # the channels: not convcalc's 4): a map laid out otherwise than the conv reads, not a conv read wrongly
    net = Net(2, 4, 6, 8)
    last = net.op("permute", net.input, [0, 2, 3, 1], out=(2, 6, 8, 4))
    net.op("conv2d", last, net.param("w", 5, 6, 1, 1), out=(2, 5, 8, 4))
    analysis = net.analysis()
    assert [layer.type for layer in analysis.layers] == ["opaque"] and not shape_warnings(analysis)


def test_a_matmul_of_a_lifted_map_or_of_two_flat_inputs_is_opaque() -> None:
    # a 1-D map [2, 4, 10] lifted to [2, 4, 1, 10] (for a 2-D pool) times itself transposed: no channels-first
    # map; x @ x of [2, 2] multiplies across the batch (each output row reads both samples): no per-sample product.
    # Neither is read as a matmul
    net = Net(2, 4, 10)
    lifted = net.op("unsqueeze", net.input, 2, out=(2, 4, 1, 10))
    net.op("matmul", lifted, lifted, out=(2, 4, 1, 1))
    analysis = net.analysis()
    assert layers(analysis) == [("opaque", (4, 1, 1))] and not shape_warnings(analysis)
    net = Net(2, 2)
    net.op("matmul", net.input, net.input, out=(2, 2))
    analysis = net.analysis()
    assert layers(analysis) == [("opaque", (2,))] and not shape_warnings(analysis)


def test_an_opaque_ops_output_per_sample() -> None:
    # logsumexp(x, 1) of [2, 5] is [2] (one value a sample, as a score squeezed), then a sigmoid of 1 value a sample;
    # [2, 5] to [2, 5, 7] (5 x 7 a sample); a 0-d tensor (a number) is held as one value
    net = Net(2, 5)
    net.op("sigmoid", net.op("logsumexp", net.input, [1], out=(2,)), out=(2,))
    assert layers(net.analysis()) == [("opaque", (1,)), ("sigmoid", (1,))]
    net = Net(2, 5)
    net.op("unfold", net.input, 1, 1, 1, out=(2, 5, 7))
    assert layers(net.analysis()) == [("opaque", (5, 7))]
    net = Net(2, 5)
    net.op("logsumexp", net.input, [0, 1], out=())
    assert layers(net.analysis()) == [("opaque", (1,))]


def test_what_reads_only_an_opaque_ops_second_output_makes_no_layer() -> None:
    # sort(x, 1) of [2, 5]: values and indices, both [2, 5]; a gather reading only the indices (an int tensor no
    # layer reads) makes nothing: one layer, the sort's
    net = Net(2, 5)
    values, indices = net.op("sort", net.input, 1, out=[(2, 5), (2, 5)])
    net.op("neg", indices, out=(2, 5))
    assert layers(net.analysis(values)) == [("opaque", (5,))]


def test_each_layer_is_located_at_the_event_that_made_it() -> None:
    # events 1 relu, 2 a view that makes no layer, 3 cumsum (no kind: opaque), 4 a conv whose torch shape is not
    # convcalc's (opaque, with a shape warning): lines 1, 3 and 4; an event has no column (1: the line's start), as
    # a message prints it, hand:3:1
    net = Net(2, 3, 8, 8)
    relu = net.op("relu", net.input, out=(2, 3, 8, 8))
    same = net.op("view", relu, [2, 3, 8, 8], out=(2, 3, 8, 8))
    summed = net.op("cumsum", same, 1, out=(2, 3, 8, 8))
    net.op("conv2d", summed, net.param("w", 4, 3, 3, 3), out=(2, 4, 5, 5))
    graph = imported(net.trace(), "hand").graph()
    assert [(node.kind.type, str(node.location)) for node in graph.nodes] == [
        ("relu", "hand:1:1"),
        ("opaque", "hand:3:1"),
        ("opaque", "hand:4:1"),
    ]
    # the conv's own warning, then the output's: its 4 x 27 = 108 weights held, not counted
    assert [finding.code for finding in graph.nodes[2].findings] == ["shape", "uncounted"]


def test_more_parameters_counted_than_held_warn_at_the_output() -> None:
    # conv 3 -> 4 (3 x 3, bias): 4 x 27 + 4 = 112 parameters counted, a module said to hold 100 (as one whose forward
    # used a weight twice): 12 counted again; the warning sits on the output layer (the relu), not on the conv
    net = Net(2, 3, 8, 8)
    conv = net.op("conv2d", net.input, net.param("w", 4, 3, 3, 3), net.param("b", 4), out=(2, 4, 6, 6))
    net.op("relu", conv, out=(2, 4, 6, 6))
    graph = imported(net.trace(parameters=100), "hand").graph()
    said = "the module holds 100 parameters, the layers convcalc counts 112: 12 are counted again where forward uses"
    assert [[finding.message for finding in node.findings] for node in graph.nodes] == [
        [],
        [f"{said} a weight twice"],
    ]


def test_a_trace_that_holds_no_count_of_parameters_is_not_checked() -> None:
    # the 112 parameters of the conv above, and a trace (written by hand, or its JSON) that does not say how many the
    # module holds: no warning about them
    net = Net(2, 3, 8, 8)
    net.op("conv2d", net.input, net.param("w", 4, 3, 3, 3), net.param("b", 4), out=(2, 4, 6, 6))
    full = net.trace()
    data = to_dict(full)
    del data["parameters"]
    for trace in (Trace(full.name, full.input, full.events, full.outputs, ()), from_dict(data)):
        analysis = analyze(imported(trace, "hand").graph())
        assert analysis.total.params == 112 and not analysis.warnings


def test_a_module_that_returns_its_input_computes_nothing() -> None:
    # a relu computed and not returned: the module returns its input
    net = Net(2, 3)
    net.op("relu", net.input, out=(2, 3))
    with pytest.raises(ValueError, match="computes nothing from its input"):
        imported(net.trace(net.input), "hand").graph()


def test_a_matmul_of_channels_last_tokens_and_a_constant_is_opaque_alone() -> None:
    # [2, 4, 6] transposed to channels-last [2, 6, 4], times a constant [4, 3]: no product of two activations, one
    # opaque layer (no permute made for it first)
    net = Net(2, 4, 6)
    last = net.op("transpose", net.input, 1, 2, out=(2, 6, 4))
    net.op("matmul", last, net.tensor(4, 3, role="c"), out=(2, 6, 3))
    assert [layer.type for layer in net.analysis().layers] == ["opaque"]
