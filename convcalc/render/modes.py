"""The training step's and the deployment's totals: lines after analyze's table, a side-by-side table in compare."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from convcalc.core.text import plural, printable
from convcalc.render.grid import Grid, GridColumn
from convcalc.render.units import count_shown, exact, percent, signed, size_shown

if TYPE_CHECKING:  # the passes load when a mode runs: a plain analyze table imports none of them
    from collections.abc import Callable, Mapping

    from convcalc.passes.deploy import Deployment, PatchPlan
    from convcalc.passes.modes import Report
    from convcalc.passes.training import Training

Reads = Literal["bytes", "count", "whole", "text"]

TRAINING_LABELS: dict[str, tuple[str, Reads]] = {
    "optimizer": ("optimizer", "text"),
    "precision": ("precision", "text"),
    "weight_bytes": ("weights", "bytes"),
    "gradient_bytes": ("gradients", "bytes"),
    "optimizer_bytes": ("optimizer state", "bytes"),
    "saved_bytes": ("saved for backward", "bytes"),
    "peak_bytes": ("peak of the step", "bytes"),
    "peak_at": ("peak at", "text"),
    "backward_macs": ("backward MACs", "count"),
    "step_macs": ("MACs per step", "count"),
}
"""Each total of a training step (its JSON key) as the table shows it: its label and how its value reads."""
DEPLOY_LABELS: dict[str, tuple[str, Reads]] = {
    "dtype": ("element type", "text"),
    "peak_bytes": ("RAM, peak of live activations", "bytes"),
    "peak_layer": ("peak at", "text"),
    "flash_bytes": ("flash, weights after folding", "bytes"),
    "params": ("params after folding", "whole"),
    "buffers": ("buffers", "whole"),
    "folded_batchnorms": ("batch norms folded", "text"),
}
"""The same for a deployment."""
PATCH_LABELS: dict[str, tuple[str, Reads]] = {
    "split": ("patches end at", "text"),
    "stage_peak_bytes": ("peak of the patch stage", "bytes"),
    "rest_peak_bytes": ("peak after the split", "bytes"),
    "peak_bytes": ("peak with patches", "bytes"),
    "extra_macs": ("recomputed MACs", "count"),
}
"""The same for a deployment's patch-based inference (``total.deploy.patches``), after the grid."""
LABELS = {"train": TRAINING_LABELS, "deploy": DEPLOY_LABELS}
"""Each mode's labels, by its name (:data:`convcalc.passes.modes.MODES`)."""


def shown(value: object, reads: Reads, exact_numbers: bool) -> str:
    """A value as the tables show it: bytes as KiB/MiB and counts as K/M/G (or exact), text as it is."""
    if reads == "text" or not isinstance(value, int):
        return printable(f"{value:,}" if isinstance(value, int) else str(value))
    if reads == "bytes":
        return size_shown(exact_numbers)(value)
    return count_shown(exact_numbers or reads == "whole")(value)


def training_lines(step: Training, batch: int, *, exact_numbers: bool) -> list[str]:
    """What a training step holds and computes, and its peak."""
    label = {key: text for key, (text, _) in TRAINING_LABELS.items()}
    size = size_shown(exact_numbers)
    count = count_shown(exact_numbers)
    amp = " (float32 master + float16 copy)" if step.precision == "amp" else ""
    return [
        f"training step: optimizer {step.optimizer}, precision {step.precision}, batch {batch}",
        f"  {label['weight_bytes']}{amp}: {size(step.weight_bytes)}",
        f"  {label['gradient_bytes']}: {size(step.gradient_bytes)}",
        f"  {label['optimizer_bytes']}: {size(step.optimizer_bytes)}",
        f"  {label['saved_bytes']}: {size(step.saved_bytes)}",
        f"  {label['peak_bytes']}: {size(step.peak_bytes)} ({step.peak_at})",
        f"  MACs: forward {count(step.forward_macs)} + backward {count(step.backward_macs)} "
        f"= {count(step.forward_macs + step.backward_macs)} per step",
        f"  {TRAINING_UNCOUNTED}",
    ]


def deploy_lines(plan: Deployment, *, exact_numbers: bool) -> list[str]:
    """The runtime's flash and RAM: the weights after folding, the peak of live activations and where it is, also in
    KiB (MCUNet's papers write kB for 1,024 bytes)."""
    label = {key: text for key, (text, _) in DEPLOY_LABELS.items()}
    peak = plan.peak
    size = size_shown(exact_numbers)
    in_place = sum(step.in_place for step in plan.steps)
    lines = [
        f"deployment ({plan.dtype}): batch norm folded into {plural(plan.folded, 'layer')}, activations fused, "
        f"{plural(in_place, 'depthwise conv')} in place",
        f"  {label['flash_bytes']}: {in_kib(size, plan.flash_bytes)} ({label['params']} "
        f"{exact(plan.params)}, {label['buffers']} {exact(plan.buffers)}, at {plan.dtype})",  # exact, as analyze's
        f"  {label['peak_bytes']}: {in_kib(size, peak.live_bytes)} at {peak.name}",
        f"  first step {plan.steps[0].name}: {size(plan.steps[0].live_bytes)}" if plan.steps else "  no steps",
        f"  {DEPLOY_UNCOUNTED}",
    ]
    return lines + (patch_lines(plan.patches, peak.live_bytes, exact_numbers=exact_numbers) if plan.patches else [])


TRAINING_UNCOUNTED = (
    "not counted: the loss, framework workspaces (cuDNN, im2col), the optimizer's temporaries, the allocator's "
    "caching and rounding, the CUDA context: nvidia-smi shows more"
)
"""What a training step's peak leaves out, said with the answer."""
DEPLOY_UNCOUNTED = (
    "not counted: the runtime's code and scratch buffers (im2col), int32 biases of int8 layers; KiB = 1,024 bytes "
    "(MCUNet's papers write kB)"
)
"""The same for a deployment."""


def in_kib(size: Callable[[int], str], value: int) -> str:
    """A size as the tables show it, and in KiB where it shows another unit: '1.34 MiB = 1,372.0 KiB'."""
    shown = size(value)
    return shown if shown.endswith(" KiB") else f"{shown} = {kilobytes(value)}"


def kilobytes(value: int) -> str:
    """Bytes in KiB (1,024 bytes; MCUNet's papers write kB), one decimal."""
    return f"{value / 1024:,.1f} KiB"


def patch_lines(patches: PatchPlan, layer_by_layer: int, *, exact_numbers: bool) -> list[str]:
    """Patch-based inference: where the patches end, the two stages' peaks, the overall peak (beside
    ``layer_by_layer``'s), the halos' MACs."""
    size = size_shown(exact_numbers)
    count = count_shown(exact_numbers)
    channels, height, width = patches.split_shape
    how = "the split with the lowest peak" if patches.chosen else "the split given"
    row, column = patches.peak_patch
    rest = (
        f"{in_kib(size, patches.rest_peak)} at {patches.rest_peak_at}"
        if patches.rest_peak_at
        else "nothing (the split is the network's output)"
    )
    extra = patches.extra_macs
    return [
        f"patch-based inference: {grid(patches.grid)} patches of {grid(patches.tile)} up to {patches.split} "
        f"({channels}x{height}x{width}), {how}",
        f"  {PATCH_LABELS['stage_peak_bytes'][0]}: {in_kib(size, patches.stage_peak)} at "
        f"{patches.stage_peak_at} in patch {row},{column} (from 0,0; input tile {grid(patches.input_tile)}), the "
        f"split's {size(patches.buffer_bytes)} output buffer included",
        f"  {PATCH_LABELS['rest_peak_bytes'][0]}: {rest}",
        f"  {PATCH_LABELS['peak_bytes'][0]}: {in_kib(size, patches.peak)} (layer by layer {kilobytes(layer_by_layer)})",
        f"  {PATCH_LABELS['extra_macs'][0]}: {signed(count(extra), extra)} ({percent(extra, patches.network_macs)} "
        f"of the network's {count(patches.network_macs)}; the patch stage's {count(patches.stage_macs)} become "
        f"{count(patches.patch_macs)})",
    ]


def grid(pair: tuple[int, int] | list[int]) -> str:
    """Rows x columns: '4x4'."""
    return f"{pair[0]}x{pair[1]}"


def labelled_rows(
    labels: Mapping[str, tuple[str, Reads]], left: Mapping[str, Any], right: Mapping[str, Any], exact_numbers: bool
) -> list[list[str]]:
    """One row per label: the two sides' values under its key, as the tables show them."""
    return [
        [label, shown(left[key], reads, exact_numbers), shown(right[key], reads, exact_numbers)]
        for key, (label, reads) in labels.items()
    ]


def side_by_side(mode: str, first: Report, second: Report, names: tuple[str, str], *, exact_numbers: bool) -> Grid:
    """`compare --mode`: each total of the two networks' steps (or deployments), labelled as analyze labels them."""
    left, right = first.to_dict(), second.to_dict()
    rows = labelled_rows(LABELS[mode], left, right, exact_numbers)
    if "patches" in left and "patches" in right:
        left, right = left["patches"], right["patches"]
        rows.append(["patches", grid(left["grid"]), grid(right["grid"])])
        rows += labelled_rows(PATCH_LABELS, left, right, exact_numbers)
    columns = [
        GridColumn("", "left", None, shrink="name"),
        *(GridColumn(printable(name), "right", None, shrink="prose") for name in names),
    ]
    from convcalc.passes.modes import MODES

    return Grid(MODES[mode].title, columns, rows)


def mode_lines(report: Report | None, mode: str, batch: int, *, exact_numbers: bool) -> list[str]:
    """The lines after analyze's table in a train or deploy mode (none without one)."""
    if report is None:
        return []
    from convcalc.passes.deploy import Deployment
    from convcalc.passes.training import Training

    if mode == "train":
        assert isinstance(report, Training)
        return training_lines(report, batch, exact_numbers=exact_numbers)
    assert isinstance(report, Deployment)
    return deploy_lines(report, exact_numbers=exact_numbers)
