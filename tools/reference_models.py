"""PyTorch modules written from their papers, for the bundled specs that no model library builds: each spec is checked
against its module here by every peer tool (tools/record_peers.py, as torchvision's modules are for the others).

Needs torch (the ``peers`` extra). Each class follows its paper's table or text; where the paper leaves a choice open,
the docstring says which one is made, and the spec makes the same.
"""

from __future__ import annotations

import torch
from torch import nn


class M5(nn.Module):
    """M5 (Dai et al. 2017, "Very deep convolutional neural networks for raw waveforms", Table 1): a 32,000-sample
    waveform (4 s at 8 kHz), [80/4, 128] then [3, 128], [3, 256], [3, 512] 1-D convolutions, each with batch norm,
    ReLU and a 4x max pool, global average pooling and a 10-way classifier (UrbanSound8k). Unpadded convolutions, as
    torchaudio's tutorial writes M5."""

    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        widths = [(1, 128, 80, 4), (128, 128, 3, 1), (128, 256, 3, 1), (256, 512, 3, 1)]
        layers: list[nn.Module] = []
        for inputs, outputs, kernel, stride in widths:
            conv = nn.Conv1d(inputs, outputs, kernel, stride=stride)
            layers += [conv, nn.BatchNorm1d(outputs), nn.ReLU(), nn.MaxPool1d(4)]
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool1d(1)
        self.fc = nn.Linear(512, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.features(x)).flatten(1))


class TemporalBlock(nn.Module):
    """Bai et al.'s residual block: two dilated causal convolutions (padded by (k - 1) * d on both sides, the right
    side chomped off), ReLU and dropout after each, a 1x1 convolution on the shortcut when the width changes."""

    def __init__(self, inputs: int, outputs: int, kernel: int, dilation: int, dropout: float) -> None:
        super().__init__()
        self.chomp = (kernel - 1) * dilation
        self.conv1 = nn.Conv1d(inputs, outputs, kernel, padding=self.chomp, dilation=dilation)
        self.relu1, self.dropout1 = nn.ReLU(), nn.Dropout(dropout)
        self.conv2 = nn.Conv1d(outputs, outputs, kernel, padding=self.chomp, dilation=dilation)
        self.relu2, self.dropout2 = nn.ReLU(), nn.Dropout(dropout)
        self.downsample = nn.Conv1d(inputs, outputs, 1) if inputs != outputs else None
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.dropout1(self.relu1(self.conv1(x)[:, :, : -self.chomp]))
        out = self.dropout2(self.relu2(self.conv2(out)[:, :, : -self.chomp]))
        return self.relu(out + (x if self.downsample is None else self.downsample(x)))


class TCN(nn.Module):
    """TCN (Bai, Kolter & Koltun 2018, "An empirical evaluation of generic convolutional and recurrent networks for
    sequence modeling") with the defaults of the authors' sequential-MNIST script: 8 levels of 25 channels, kernel 7,
    dilation 2^i, dropout 0.05, a linear classifier on the last time step of 784. Without weight normalisation (the
    authors wrap each convolution in torch.nn.utils.weight_norm, which adds a norm per output channel: out of scope)."""

    def __init__(self, levels: int = 8, channels: int = 25, kernel: int = 7, classes: int = 10) -> None:
        super().__init__()
        widths = [1] + [channels] * levels
        self.network = nn.Sequential(
            *(TemporalBlock(widths[i], widths[i + 1], kernel, 2**i, 0.05) for i in range(levels))
        )
        self.linear = nn.Linear(channels, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.network(x)[:, :, -1])


def double_conv(inputs: int, middle: int, outputs: int) -> nn.Sequential:
    """Two unpadded 3x3x3 convolutions, each with batch norm and ReLU (the 3-D U-Net's)."""
    return nn.Sequential(
        nn.Conv3d(inputs, middle, 3),
        nn.BatchNorm3d(middle, affine=False),
        nn.ReLU(),
        nn.Conv3d(middle, outputs, 3),
        nn.BatchNorm3d(outputs, affine=False),
        nn.ReLU(),
    )


def centre_crop(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``x`` cropped to ``like``'s depth, height and width, centred (the sizes read as Python ints: a trace keeps them
    as constants, as the spec's fixed crop, not as shape arithmetic)."""
    big, small = [int(n) for n in x.shape[2:]], [int(n) for n in like.shape[2:]]
    starts = [(b - s) // 2 for b, s in zip(big, small, strict=True)]
    d, h, w = small
    return x[:, :, starts[0] : starts[0] + d, starts[1] : starts[1] + h, starts[2] : starts[2] + w]


class UNet3D(nn.Module):
    """3-D U-Net (Cicek et al. 2016, Fig. 1): a 132x132x116 three-channel tile in, a 44x44x28 three-class map out.
    Unpadded 3x3x3 convolutions with batch norm and ReLU; each level doubles the channels in its second convolution
    (32-64, 64-128, 128-256, 256-512); 2x2x2 max pools; 2x2x2 up-convolutions (stride 2, keeping the channels), the
    skip centre-cropped and concatenated first; a final 1x1x1 convolution to 3 classes. As the paper's Caffe network
    (19,069,955 parameters): batch norm without a learned scale and shift, up-convolutions without bias."""

    def __init__(self, channels: int = 3, classes: int = 3) -> None:
        super().__init__()
        self.down1 = double_conv(channels, 32, 64)
        self.down2 = double_conv(64, 64, 128)
        self.down3 = double_conv(128, 128, 256)
        self.bottom = double_conv(256, 256, 512)
        self.pool = nn.MaxPool3d(2)
        self.upconv3 = nn.ConvTranspose3d(512, 512, 2, stride=2, bias=False)
        self.up3 = double_conv(256 + 512, 256, 256)
        self.upconv2 = nn.ConvTranspose3d(256, 256, 2, stride=2, bias=False)
        self.up2 = double_conv(128 + 256, 128, 128)
        self.upconv1 = nn.ConvTranspose3d(128, 128, 2, stride=2, bias=False)
        self.up1 = double_conv(64 + 128, 64, 64)
        self.output = nn.Conv3d(64, classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip1 = self.down1(x)
        skip2 = self.down2(self.pool(skip1))
        skip3 = self.down3(self.pool(skip2))
        x = self.bottom(self.pool(skip3))
        levels = ((self.upconv3, self.up3, skip3), (self.upconv2, self.up2, skip2), (self.upconv1, self.up1, skip1))
        for upconv, up, skip in levels:
            x = upconv(x)
            x = up(torch.cat([centre_crop(skip, x), x], dim=1))
        return self.output(x)


REFERENCE = {"m5": M5, "tcn": TCN, "unet3d": UNet3D}
"""Bundled spec -> the module written here from the same paper."""
