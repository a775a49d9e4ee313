"""The layer catalogue: every kind convcalc counts, by its ``type`` (what a spec's ``type:`` names).

One explicit table, in the order the schema, the docs' counting table and ``convcalc schema`` list the kinds. A new
kind is one class in its family's module and one line here.
"""

from __future__ import annotations

from convcalc.kinds.attention import Attention, ClassToken, DotProductAttention, PositionEmbedding
from convcalc.kinds.base import LayerKind
from convcalc.kinds.elementwise import ACTIVATIONS, Activation, Dropout, Identity, Scale, Softmax, StochasticDepth
from convcalc.kinds.merge import Add, Arithmetic, Concat, Multiply
from convcalc.kinds.norm import BatchNorm, GroupNorm, LayerNorm, LocalResponseNorm
from convcalc.kinds.pool import AdaptivePool, Pool
from convcalc.kinds.tensor import ChannelShuffle, Crop, Flatten, Opaque, Pad, PixelShuffle, Slice, Upsample
from convcalc.kinds.tensorops import MatMul, Permute, Reduce, Reshape, Roll
from convcalc.kinds.weighted import Conv, ConvTranspose, Linear

KINDS: tuple[LayerKind, ...] = (
    Conv(),
    ConvTranspose(),
    Linear(),
    BatchNorm(),
    Pool("maxpool", "MaxPool", "k_h * k_w - 1 comparisons", dilation=True),
    Pool("avgpool", "AvgPool", "k_h * k_w (adds and a divide)", dilation=False),
    AdaptivePool("adaptive_avgpool", "Adaptive average pooling (PyTorch nn.AdaptiveAvgPool1d, 2d, 3d).", None),
    AdaptivePool("adaptive_maxpool", "Adaptive max pooling (PyTorch nn.AdaptiveMaxPool1d, 2d, 3d).", None),
    AdaptivePool("global_avgpool", "Global average pooling to Cx1x1.", 1),
    AdaptivePool("global_maxpool", "Global max pooling to Cx1x1.", 1),
    Flatten(),
    Dropout(),
    LocalResponseNorm(),
    Crop(),
    Upsample(),
    Softmax(),
    Concat(),
    Add(),
    Opaque(),
    Multiply(),
    Arithmetic(),
    Scale(),
    LayerNorm(),
    GroupNorm(),
    ChannelShuffle(),
    PixelShuffle("pixel_shuffle", "nn.PixelShuffle", up=True),
    PixelShuffle("pixel_unshuffle", "nn.PixelUnshuffle", up=False),
    Pad(),
    StochasticDepth(),
    Identity(),
    Slice(),
    *(Activation(*activation) for activation in ACTIVATIONS),
    Reshape(),
    Permute(),
    Roll(),
    MatMul(),
    Reduce(),
    Attention(),
    DotProductAttention(),
    ClassToken(),
    PositionEmbedding(),
)
"""Every kind, in the catalogue's order."""

CATALOGUE: dict[str, LayerKind] = {kind.type: kind for kind in KINDS}
"""Each kind by its type."""
