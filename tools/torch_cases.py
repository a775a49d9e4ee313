"""Small PyTorch networks that between them run every op of convcalc's aten table (convcalc.importers.torch.ops),
for tools/record_torch_traces.py and the optional live test in tests/test_torch_import.py. Needs torch only.

Each is a plain nn.Module written for the purpose (no paper): convolutions of every rank with groups, dilation,
'same' padding and transposed ones; every activation, pool, norm and merge; views, permutes and slices the front end
follows; and a few ops it has no kind for (an ``opaque`` layer each).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Images(nn.Module):
    """2-D maps: convs (grouped, dilated, 'same', transposed), pools, norms, activations, merges, resizes, pads."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(16)
        self.act = nn.ReLU6(inplace=True)
        self.grouped = nn.Conv2d(16, 16, 3, padding=2, dilation=2, groups=4)
        self.same = nn.Conv2d(16, 8, 3, padding="same")
        self.gn = nn.GroupNorm(4, 16)
        self.ln = nn.LayerNorm([16, 16, 16])
        self.pool = nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
        self.maxpool = nn.MaxPool2d(2, dilation=1)
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.resize = nn.Upsample(size=(10, 12), mode="nearest")
        self.deconv = nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1, groups=2)
        self.pad = nn.ZeroPad2d((1, 2, 0, 1))
        self.reflect = nn.ReflectionPad2d(1)
        self.shuffle = nn.ChannelShuffle(4)
        self.pixels = nn.PixelShuffle(2)
        self.unpixels = nn.PixelUnshuffle(2)
        self.adaptive = nn.AdaptiveAvgPool2d((2, 3))
        self.adaptive_max = nn.AdaptiveMaxPool2d(1)
        self.fc = nn.Linear(16 * 6, 10)
        self.norm1d = nn.BatchNorm1d(10)
        self.softmax = nn.Softmax(dim=1)
        self.acts = nn.ModuleList(
            [nn.SiLU(), nn.GELU(), nn.Hardswish(), nn.Hardsigmoid(), nn.Sigmoid(), nn.Tanh(), nn.LeakyReLU(0.2)]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.bn(self.stem(x)))  # 16x16x16
        y = self.gn(self.grouped(x))
        for act in self.acts:
            y = act(y)
        x = self.ln(x + y) * torch.sigmoid(x.mean((2, 3), keepdim=True))
        same = self.same(x)  # 8x16x16
        x = torch.cat([same, F.relu(same)], dim=1)
        x = self.unpixels(self.pixels(self.shuffle(x)))
        a, b = x.chunk(2, dim=1)
        x = torch.cat([a[:, :, 1:-1, 1:-1], b[:, :, 1:-1, 1:-1].contiguous().clone()], dim=1)  # 16x14x14
        x = self.pad(x)  # 16x15x17
        x = self.reflect(self.maxpool(self.up(self.pool(x))))
        x = self.deconv(self.resize(x))
        x = torch.cat([x, x], dim=1)
        pooled = self.adaptive(x) * self.adaptive_max(x)
        x = torch.flatten(pooled, 1)
        return self.softmax(self.norm1d(self.fc(x)))


class Signals(nn.Module):
    """1-D and 3-D maps: Conv1d with dilation, MaxPool1d and AdaptiveMaxPool1d (2-D pools on a lifted map), AvgPool1d,
    linear upsampling; Conv3d, MaxPool3d, trilinear upsampling, AdaptiveAvgPool3d; a sum over the channels (a
    ``reduce``) added to the logits; and ops without a kind (cumsum, expand): opaque layers."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv1d(2, 8, 5, dilation=2, padding=4)
        self.pool = nn.MaxPool1d(3, stride=2, padding=1)
        self.avg = nn.AvgPool1d(2)
        self.up = nn.Upsample(scale_factor=3, mode="linear")
        self.adaptive = nn.AdaptiveMaxPool1d(4)
        self.lift = nn.Conv3d(8, 4, (1, 3, 3), padding=(0, 1, 1))
        self.pool3d = nn.MaxPool3d((1, 2, 2))
        self.up3d = nn.Upsample(scale_factor=(1, 2, 2), mode="trilinear")
        self.squash = nn.AdaptiveAvgPool3d(1)
        self.fc = nn.Linear(4 + 8 * 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.up(self.avg(self.pool(F.silu(self.conv(x)))))
        tail = torch.cumsum(x, dim=2)[:, :, -1]
        seq = self.adaptive(x).flatten(1)
        cube = x[:, :, :16].reshape(1, 8, 1, 4, 4).expand(1, 8, 2, 4, 4)
        cube = self.up3d(self.pool3d(self.lift(cube.contiguous())))
        features = torch.cat([self.squash(cube).flatten(1), seq], dim=1)
        return self.fc(features) + tail.sum(dim=1, keepdim=True)


class ChannelsLast(nn.Module):
    """ConvNeXt's block as torchvision writes it: a channels-last LayerNorm and Linears between permutes, a layer
    scale; then a learned position embedding added, attention-style products of two activations (bmm) and a softmax
    over the last axis."""

    def __init__(self) -> None:
        super().__init__()
        self.dw = nn.Conv2d(8, 8, 7, padding=3, groups=8)
        self.norm = nn.LayerNorm(8)
        self.fc1 = nn.Linear(8, 32)
        self.fc2 = nn.Linear(32, 8)
        self.scale = nn.Parameter(torch.ones(8, 1, 1))
        self.position = nn.Parameter(torch.zeros(1, 8, 12, 12))
        self.head = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.dw(x).permute(0, 2, 3, 1)
        y = self.fc2(F.gelu(self.fc1(self.norm(y)))).permute(0, 3, 1, 2)
        x = x + self.scale * y + self.position  # a learned position embedding: a sum with no kind
        tokens = x.flatten(2)  # 8 x HW
        attention = torch.softmax(tokens.transpose(1, 2) @ tokens, dim=-1)
        mixed = (tokens @ attention).mean(dim=2)
        return self.head(mixed)


class Offset(nn.Module):
    """A learned offset per channel added to a map (1 x C x 1 x 1: a broadcast sum): an ``arithmetic`` layer whose 4
    parameters count."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.offset = nn.Parameter(torch.zeros(1, 4, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x) + self.offset


class SharedHead(nn.Module):
    """One 3x3 conv run on two levels of a pyramid, as RetinaNet's head runs on five: its 4 x 4 x 3 x 3 + 4 = 148
    parameters are held once (sum(p.numel())) and counted once."""

    def __init__(self) -> None:
        super().__init__()
        self.down = nn.MaxPool2d(2)
        self.head = nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.head(x).flatten(1), self.head(self.down(x)).flatten(1)], dim=1)


class GatheredBias(nn.Module):
    """A bias gathered from a learned table (Swin's and EfficientFormer's attention bias: 9 positions x 2 heads
    gathered into 2 x 4 x 4) added to a map, then a buffer (a mean, no parameter) taken off it: the table's 18
    values count, the buffer's none."""

    def __init__(self) -> None:
        super().__init__()
        self.table = nn.Parameter(torch.zeros(9, 2))
        self.register_buffer("index", torch.arange(16) % 9)
        self.register_buffer("mean", torch.zeros(1, 2, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = self.table[self.index].reshape(4, 4, 2).permute(2, 0, 1)
        return (x + bias) - self.mean


class TwoHeads(nn.Module):
    """A detector's shape: one backbone, two heads, a dict of scores and boxes returned (as RetinaNet's and SSD's
    heads return theirs): both are the network's outputs, in the dict's order."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Conv2d(3, 8, 3, padding=1)
        self.scores = nn.Conv2d(8, 5, 1)
        self.boxes = nn.Conv2d(8, 16, 1)  # 4 anchors x 4 coordinates

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        features = torch.relu(self.body(x))
        return {"scores": self.scores(features).flatten(1), "boxes": self.boxes(features).flatten(1)}


CASES = {
    "images": (Images, (3, 32, 32)),
    "shared": (SharedHead, (4, 8, 8)),
    "heads": (TwoHeads, (3, 8, 8)),
    "gathered": (GatheredBias, (2, 4, 4)),
    "signals": (Signals, (2, 64)),
    "channels_last": (ChannelsLast, (8, 12, 12)),
    "offset": (Offset, (3, 8, 8)),
}
"""Name -> (module class, input shape per sample)."""
