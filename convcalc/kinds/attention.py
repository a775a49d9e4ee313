"""Transformer layers on tokens, written channels first as every map in convcalc: D x T, D features at each of T
positions (PyTorch's N x T x D with the last two axes swapped), so that a linear ``per_position`` is a token's Linear
and a layernorm over the channels is its LayerNorm. Leading position axes before T are a batch of sequences
(MobileViT's patches: D x P x N attends over N for each of the P pixels of a patch).

Multi-head self-attention counts as torch's flop counter counts ``scaled_dot_product_attention`` and its Linears:
multiply-accumulates of the Q, K, V and output projections and of the two products Q K^T and A V.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from convcalc.core.formula import named
from convcalc.core.keys import Key, boolean, non_negative_int, positive_int
from convcalc.core.numbers import ratio
from convcalc.core.tensor import Config, Shape, elements, format_shape
from convcalc.kinds.base import KEEPS_INPUT, KEEPS_OUTPUT, Evaluation, Kept, LayerKind, Made, Saved, ShapeError, Window
from convcalc.kinds.torchcode import call


def tokens(shape: Shape, kind: str) -> tuple[int, int, int]:
    """(D, sequences, T) of a token tensor D x [P x] T; a ShapeError for a flat vector."""
    if len(shape) < 2:
        raise ShapeError(f"{kind} needs tokens D x T (features x positions), but its input is {format_shape(shape)}")
    return shape[0], math.prod(shape[1:-1]), shape[-1]


class Attention(LayerKind):
    type = "attention"
    summary = (
        "Multi-head self-attention over the last axis of D x T tokens: Q, K, V projections, softmax(Q K^T / sqrt(d)) "
        "V per head, an output projection (PyTorch nn.MultiheadAttention)."
    )
    keys = (
        Key("heads", positive_int, symbol="h"),
        Key("qkv_bias", boolean, True),
        Key("projection", boolean, True),
        Key("window", non_negative_int, 0, symbol="w"),
        Key("masked", boolean, False),
    )
    macs_rule = "T * D * 3D (Q, K, V) + T * T * D (Q K^T) + T * T * D (A V) + T * D * D (output), per sequence"
    flops_rule = (
        "2 * MACs + biases + h * T * T (scale) + h * T * (3 * T - 1) (softmax) + h * T * T (window: the position "
        "bias; masked: the mask)"
    )

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """params = 3 * D * D (+ 3 * D bias) + D * D (+ D bias) for the output projection (+ (2w - 1)^2 * h for a
        w x w window's relative position bias, Swin's); heads must divide D."""
        d, sequences, t = tokens(inputs[0], self.type)
        heads, projection, window = config["heads"], config["projection"], config["window"]
        if d % heads:
            raise ShapeError(f"heads={heads} must divide the features ({d})")
        if config["masked"] and not window:
            raise ShapeError("masked adds the mask of shifted windows (Swin's): give the window too")
        if window and t != window * window:
            raise ShapeError(f"window={window} attends over {window} x {window} = {window * window} tokens, not {t}")
        qkv_bias = 3 * d if config["qkv_bias"] else 0
        out_bias = d if config["projection"] else 0
        bias_table = (2 * window - 1) ** 2 * heads if window else 0
        params = 3 * d * d + qkv_bias + (d * d + out_bias if projection else 0) + bias_table
        qkv = named("QKV", t * d * 3 * d)
        scores = named("scores", t * t * d)
        weighted = named("values", t * t * d)
        output = t * d * d if projection else 0
        macs = named("MACs", sequences * (qkv + scores + weighted + output))
        softmax = heads * t * (3 * t - 1)
        added = heads * t * t * ((1 if window else 0) + (1 if config["masked"] else 0))  # to the scores
        flops = 2 * macs + sequences * (qkv_bias * t + out_bias * t + heads * t * t + softmax + added)
        everything = tuple(Window(n, 1, ratio(n - 1, 2)) for n in inputs[0][1:])  # every token reads every token
        return Evaluation(inputs[0], params, macs=macs, flops=flops, windows=everything)

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """As PyTorch's fused attention (flash on the CPU and GPU) keeps them: its input (for the projections'
        weights), Q, K and V (one storage, 3 x the input), the softmax's log-sum-exp (h x T per sequence, not the
        h x T x T weights) and its output, which is the layer's own when there is no output projection."""
        _, sequences, t = tokens(inputs[0], self.type)
        per_sample = elements(inputs[0])
        log_sum_exp = Made(sequences * config["heads"] * t * batch)
        attended = Made(per_sample * batch) if config["projection"] else KEEPS_OUTPUT
        return (KEEPS_INPUT, Made(3 * per_sample * batch), log_sum_exp, attended)

    torch_helper = '''class Attention(nn.Module):
    """Multi-head self-attention on channels-first tokens N x D x [P x] T: a Linear to Q, K and V, PyTorch's
    scaled_dot_product_attention per head, a Linear out. window: a learned relative position bias of w x w windows
    (Swin's) added to the scores; masks: P sequences' additive masks (Swin's shifted windows: fill them), zeros here."""

    def __init__(
        self, dim: int, heads: int, qkv_bias: bool = True, projection: bool = True, window: int = 0, masks: int = 0
    ) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim) if projection else nn.Identity()
        self.table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, heads)) if window else None
        if window:
            where = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")).flatten(1)
            offset = where[:, :, None] - where[:, None, :] + window - 1  # 2 x T x T, each in 0 .. 2w - 2
            self.register_buffer("index", offset[0] * (2 * window - 1) + offset[1], persistent=False)
        self.register_buffer("masks", torch.zeros(masks, 1, window * window, window * window) if masks else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rank = x.dim()
        tokens = x.permute(0, *range(2, rank), 1)  # N x [P x] T x D
        qkv = self.qkv(tokens).reshape(*tokens.shape[:-1], 3, self.heads, -1)  # N x [P x] T x 3 x h x d
        order = (rank - 1, *range(rank - 2), rank, rank - 2, rank + 1)  # 3 x N x [P x] h x T x d
        q, k, v = qkv.permute(*order).unbind(0)
        bias = self.table[self.index].permute(2, 0, 1) if self.table is not None else None  # h x T x T
        if self.masks is not None:
            bias = self.masks if bias is None else bias + self.masks  # P x h x T x T
        out = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=bias).transpose(-3, -2)
        out = self.proj(out.reshape(*tokens.shape))  # N x [P x] T x D
        return out.permute(0, rank - 1, *range(1, rank - 1))
'''

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        _, sequences, _ = tokens(inputs[0], self.type)
        return call(
            "Attention",
            inputs[0][0],
            config["heads"],
            qkv_bias=(config["qkv_bias"], True),
            projection=(config["projection"], True),
            window=(config["window"], 0),
            masks=(sequences if config["masked"] else 0, 0),
        )


class DotProductAttention(LayerKind):
    type = "dot_product_attention"
    locality = "all"
    summary = (
        "softmax(Q K^T / sqrt(d)) V of three activations Q [.., Tq, d], K [.., Tk, d], V [.., Tk, dv], batched over "
        "the leading axes (heads): PyTorch's scaled_dot_product_attention, no weights."
    )
    many_inputs = True
    macs_rule = "lead * Tq * Tk * d (Q K^T) + lead * Tq * Tk * dv (A V); lead: the product of the leading axes"
    flops_rule = "2 * MACs + lead * Tq * Tk (scale) + lead * Tq * (3 * Tk - 1) (softmax)"

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = (lead..., Tq, dv); Q, K and V share their leading axes, K and V their length, Q and K their depth."""
        if len(inputs) != 3 or min(len(shape) for shape in inputs) < 2:
            raise ShapeError(f"{self.type} reads Q, K and V of at least 2 axes, not {_listed(inputs)}")
        (*lead, t_q, d), (*lead_k, t_k, d_k), (*lead_v, t_v, d_v) = inputs
        if lead_k != lead or lead_v != lead or d_k != d or t_v != t_k:
            raise ShapeError(f"Q, K and V must be [.., Tq, d], [.., Tk, d] and [.., Tk, dv], not {_listed(inputs)}")
        batch = math.prod(lead)
        scores = named("scores", batch * t_q * t_k * d)
        weighted = named("values", batch * t_q * t_k * d_v)
        macs = named("MACs", scores + weighted)
        flops = 2 * macs + batch * t_q * t_k + batch * t_q * (3 * t_k - 1)
        return Evaluation((*lead, t_q, d_v), macs=macs, flops=flops)

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """As the fused kernel keeps them: Q, K, V, its output and the softmax's log-sum-exp (lead x Tq)."""
        *lead, t_q, _ = inputs[0]
        return (Kept(0), Kept(1), Kept(2), KEEPS_OUTPUT, Made(math.prod(lead) * t_q * batch))

    torch_helper = '''class DotProductAttention(nn.Module):
    """softmax(Q K^T / sqrt(d)) V of three activations."""

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.scaled_dot_product_attention(q, k, v)
'''

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return "DotProductAttention()"


def _listed(shapes: Sequence[Shape]) -> str:
    return ", ".join(format_shape(shape) for shape in shapes)


class ClassToken(LayerKind):
    type = "class_token"
    locality = "all"
    summary = "Learned tokens put before the positions of D x T tokens (ViT's class token): D x (T + count)."
    keys = (Key("count", positive_int, 1, symbol="count"),)

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """out = (D, T + count); params = D * count."""
        d, sequences, t = tokens(inputs[0], self.type)
        if sequences != 1:
            raise ShapeError(f"class_token needs tokens D x T, not {format_shape(inputs[0])}")
        count = config["count"]
        return Evaluation((d, t + count), params=d * count)

    torch_helper = '''class ClassToken(nn.Module):
    """Learned tokens before the positions of channels-first tokens N x D x T (ViT's class token)."""

    def __init__(self, dim: int, count: int = 1) -> None:
        super().__init__()
        self.token = nn.Parameter(torch.zeros(1, dim, count))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.token.expand(x.shape[0], -1, -1), x], dim=2)
'''

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return call("ClassToken", inputs[0][0], count=(config["count"], 1))


class PositionEmbedding(LayerKind):
    type = "position_embedding"
    locality = "pixel"
    summary = "A learned tensor of the input's shape added to it (ViT's position embeddings)."
    flops_rule = "1 per element"

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        """params = elements of the input (D * T); one add per element."""
        return Evaluation(inputs[0], params=elements(inputs[0]), flops=elements(inputs[0]))

    torch_helper = '''class PositionEmbedding(nn.Module):
    """A learned tensor of each sample's shape added to it (ViT's position embeddings)."""

    def __init__(self, *shape: int) -> None:
        super().__init__()
        self.embedding = nn.Parameter(torch.zeros(1, *shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.embedding
'''

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str:
        return call("PositionEmbedding", *inputs[0])
