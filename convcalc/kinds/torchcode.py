"""Python source text for torch module constructors, as the layer kinds write them for `convcalc export`.

Only text: nothing here imports torch.
"""

from __future__ import annotations


def value(item: object) -> str:
    """A Python literal: (3, 3) -> '3', (3, 1) -> '(3, 1)', same -> '"same"'."""
    if isinstance(item, tuple):
        return value(item[0]) if len(set(item)) == 1 else f"({', '.join(value(v) for v in item)})"
    if isinstance(item, str):
        import json

        return json.dumps(item)
    return repr(item)


def call(function: str, *positional: object, **keywords: tuple[object, object]) -> str:
    """``function(positional..., key=value...)``, leaving out keywords given as (value, torch's default) that match."""
    arguments = [value(item) for item in positional]
    arguments += [f"{key}={value(item)}" for key, (item, default) in keywords.items() if item != default]
    return f"{function}({', '.join(arguments)})"


PERMUTE = '''class Permute(nn.Module):
    """The tensor's dimensions in another order (torchvision.ops.Permute): channels-last and back."""

    def __init__(self, *dims: int) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(*self.dims)
'''
"""The source of the Permute helper, shared by the kinds that move axes (a linear per position, permute)."""
