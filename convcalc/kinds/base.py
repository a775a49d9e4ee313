"""What a layer kind is: the keys it accepts, and how it maps input shapes to an output shape and costs.

Every family module (weighted, pool, norm, elementwise, merge, tensor) subclasses :class:`LayerKind`; the
catalogue (:mod:`convcalc.kinds.catalogue`) lists them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal, NamedTuple

from convcalc.core.findings import Finding
from convcalc.core.keys import Key
from convcalc.core.tensor import Config, Shape

if TYPE_CHECKING:
    from fractions import Fraction

Reach = Literal["pixel", "window", "scatter", "all"]


DeployRole = Literal["step", "fused", "folded", "free"]


class ShapeError(ValueError):
    """The layer cannot be applied to its input shape(s)."""


class Window(NamedTuple):
    """How one axis of a layer's output looks at its input, for receptive fields (a tuple: one per layer and axis).

    ``span``: input pixels one output pixel reads (dilation included); ``stride``: input pixels between
    neighbouring outputs (a fraction for upsampling layers); ``pad_before``: padding before the first window.
    """

    span: int
    stride: int | Fraction
    pad_before: int | Fraction


@dataclass(slots=True)
class Evaluation:
    """What one layer produces and costs, per sample; ``windows``, one per spatial axis (H, W), when it mixes
    neighbouring pixels."""

    shape: Shape
    params: int = 0
    buffers: int = 0
    macs: int = 0
    flops: int = 0
    note: str | None = None
    windows: tuple[Window, ...] | None = None
    warnings: tuple[Finding, ...] = ()


OUTPUT: Final = "output"
"""``Kept.tensor`` of the layer's own output."""


class Kept(NamedTuple):
    """One of a layer's own tensors that PyTorch's autograd keeps for its backward pass (train mode, CPU): input
    ``tensor`` (an index into the layer's inputs) or its output (:data:`OUTPUT`). Its storage is its producer's,
    counted once, for the first layer that keeps it."""

    tensor: int | Literal["output"]


class Made(NamedTuple):
    """A tensor made for the backward pass alone (statistics, indices, masks, copies): a storage of its own, of
    ``elements`` for the whole batch in ``dtype`` (None: the activations' dtype)."""

    elements: int
    dtype: str | None = None


Saved = Kept | Made


KEEPS_INPUT = Kept(0)


KEEPS_OUTPUT = Kept(OUTPUT)


class LayerKind:
    """A layer type: the keys it accepts and how it maps input shapes to an output shape and costs."""

    type: str
    keys: tuple[Key, ...] = ()
    many_inputs: ClassVar[bool] = False
    passes_through: ClassVar[bool] = False
    """Element-wise on one input with the shape kept, mixing neither positions nor channels (activations,
    normalisation at inference, dropout): what it feeds sees what its input would."""
    flops_rule: str = "0"
    macs_rule: ClassVar[str] = "0"
    summary: str = ""
    """One line for users (schema, README): what the layer is, and its PyTorch module."""
    torch_helper: ClassVar[str | None] = None
    """Source of a small nn.Module class that ``torch_module`` calls, where torch has none (merges, crop)."""
    view: ClassVar[bool] = False
    """Its output is a view of its input in PyTorch (the same storage): flatten, crop, slice."""
    locality: ClassVar[Reach] = "all"
    """What one output pixel reads of its inputs' rows and columns, whatever the configuration (see ``reach``)."""
    deploys_as: ClassVar[DeployRole] = "step"
    """What a microcontroller runtime makes of it (`--mode deploy`): a ``step`` of its own, ``fused`` into its
    producer (an activation read by nothing else), ``folded`` into a producer with a bias (batch norm), or ``free``
    (the identity at inference, or a view)."""
    absorbs_batchnorm: ClassVar[bool] = False
    """A batch norm that reads it alone folds into its weights and bias (one output channel per filter or unit:
    conv, transposed conv, linear), adding a bias where it has none."""

    def evaluate(self, config: Config, inputs: Sequence[Shape]) -> Evaluation:
        raise NotImplementedError

    def defaults(self) -> dict[str, Any]:
        """The configuration of a layer that sets none of its keys (a structure's merge): every key's default."""
        return {key.name: key.default for key in self.keys if not key.required}

    def reach(self, config: Config) -> Reach:
        """What one output pixel reads of its inputs' rows and columns: the same ``pixel`` (element-wise and
        per-position layers), the ``window``s ``evaluate`` gives, a window its input pixels ``scatter`` into (a
        transposed conv, whose cost is per input pixel), or ``all`` of them (global and adaptive pools, flatten,
        linear, statistics over positions): patch-based inference runs the first two on tiles."""
        return self.locality

    def saved(self, config: Config, inputs: Sequence[Shape], output: Shape, batch: int) -> tuple[Saved, ...]:
        """What autograd keeps for the backward pass of this layer (training): nothing by default (reshapes,
        sums, concatenation, padding need only sizes)."""
        return ()

    def in_place(self, config: Config) -> bool:
        """Whether it overwrites its input (``inplace: true`` on an activation): the output is the input's storage."""
        return False

    def torch_module(self, config: Config, inputs: Sequence[Shape]) -> str | None:
        """The Python source of the equivalent torch module (`convcalc export`); None where there is none."""
        return None

    def torch_helpers(self, config: Config) -> tuple[str, ...]:
        """The helper classes a layer of this configuration's ``torch_module`` calls."""
        return (self.torch_helper,) if self.torch_helper else ()
