"""Patch-based inference (MCUNetV2, Lin et al., NeurIPS 2021): the initial stage, up to a split layer, runs patch by
patch; the rest runs layer by layer as :mod:`convcalc.passes.deploy` counts it. Pure: reads an Analysis and its
Deployment.

The split layer's output is cut into an n_h x n_w grid of tiles. For each tile, every layer before the split
computes only the region of its output that the tile needs: backward from the tile through each layer's window
(``convcalc.layers.Window``: output rows [a, b) read input rows [a * stride - pad_before, (b - 1) * stride -
pad_before + span), clipped to the input, so padding at the borders reads nothing), a tensor read by several layers
computing the hull of what they need, exactly the tile PyTorch would compute. Rows and columns are independent, so
patch (i, j) computes, of each tensor, rows region i times columns region j.

Memory of the patch stage: one patch's tiles, live as in the layer-by-layer runtime (a tile lives until its last
reader; a depthwise conv whose input has no later reader runs in place), plus the split layer's whole output buffer,
which the patches fill. The network's input is read tile by tile (MCUNetV2's Figure 3: the image can be decoded
patch by patch), so only its tile counts. The rest's peak is the layer-by-layer runtime's after the split.

MACs: each patch computes its regions in full, at the layer's MACs per output pixel (padded taps count, as in the
layer's own count); the patches' sum less the layer-by-layer MACs is the recomputed halos' cost.
"""

from __future__ import annotations

import re
from dataclasses import replace
from fractions import Fraction
from typing import TYPE_CHECKING

from convcalc.core.errors import nearest
from convcalc.core.tensor import elements
from convcalc.engine.graph import NETWORK_INPUT
from convcalc.passes.deploy import (
    Grid,
    Interval,
    PatchPlan,
    PatchStep,
    element_bytes,
    live_steps,
    region_length,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from convcalc.engine.results import Analysis, LayerResult
    from convcalc.kinds.base import Window
    from convcalc.passes.deploy import Deployment, RuntimePlan


def parse_grid(text: str) -> Grid:
    """``4x4`` (rows x columns of patches) or ``4``: the grid."""
    match = re.fullmatch(r"\s*(\d+)\s*(?:[xX]\s*(\d+))?\s*", text)
    if not match:
        raise ValueError(f"--patches takes ROWSxCOLUMNS such as 4x4 (or one number for a square grid), not {text!r}")
    if max(len(match[1]), len(match[2] or "")) > 6:
        raise ValueError(f"--patches of a million or more patches a side is beyond any network: {text!r}")
    rows = int(match[1])
    columns = int(match[2]) if match[2] else rows
    if rows < 1 or columns < 1:
        raise ValueError(f"--patches needs at least one patch each way, not {text!r}")
    return rows, columns


def patched(analysis: Analysis, deployment: Deployment, grid: Grid, split: str | None = None) -> Deployment:
    """The deployment with its initial stage run in ``grid`` patches up to ``split`` (a layer name: its step's
    output), or up to the split with the lowest peak when None. ValueError names what does not work."""
    if len(analysis.input_shape) != 3:
        raise ValueError(
            f"patch-based inference cuts images (C x H x W) into patches; this network's input is "
            f"{'x'.join(map(str, analysis.input_shape))}"
        )
    stage = _Stage(analysis, deployment, grid)
    if split is not None:
        index = stage.index_of(split)
        problem = stage.problem(index)
        layer = next(layer for layer in analysis.layers if layer.name == split)
        if not problem and len(layer.output_shape) != 3:  # a flatten after the split step
            problem = f"{split} ({layer.type}) has no rows and columns to cut into patches"
        if problem:
            raise ValueError(problem)
        return replace(deployment, patches=stage.evaluate(index, chosen=False))
    return replace(deployment, patches=_lowest_peak(stage))


def _lowest_peak(stage: _Stage) -> PatchPlan:
    """The valid split with the lowest peak (of equal peaks, the earliest). Candidates are tried from the lowest
    lower bound of their peak up (the rest's peak; the split step's buffer and input tiles in the middle patch),
    until a bound that cannot beat the best found: higher, or equal at a later split."""
    candidates = [index for index in range(stage.limit) if not stage.problem(index)]
    if not candidates:
        raise ValueError(stage.no_split())
    bounds = {index: stage.lower_bound(index) for index in candidates}
    best: tuple[int, int, PatchPlan] | None = None
    for index in sorted(candidates, key=lambda index: (bounds[index], index)):
        if best is not None and (bounds[index], index) > best[:2]:
            break
        plan = stage.evaluate(index, chosen=True)
        if best is None or (plan.peak, index) < best[:2]:
            best = plan.peak, index, plan
    assert best is not None
    return best[2]


class _Stage:
    """The runtime's steps, what each reads and which of them can run on tiles, for one grid."""

    def __init__(self, analysis: Analysis, deployment: Deployment, grid: Grid) -> None:
        self.analysis, self.deployment, self.grid = analysis, deployment, grid
        self.plan: RuntimePlan = deployment.plan
        self.steps = self.plan.steps
        self.position = {step.name: index for index, step in enumerate(self.steps)}
        self.unit = element_bytes(analysis, deployment.dtype)
        self.windows: list[tuple[Window, ...] | None] = []
        self.limit, self.refusal = len(self.steps), ""
        for index, step in enumerate(self.steps):
            reach = step.kind.reach(step.config)
            windows = step.kind.evaluate(step.config, step.input_shapes).windows if reach == "window" else None
            refusal = _refusal(step, windows)
            if refusal:
                self.limit, self.refusal = index, refusal
                break
            self.windows.append(windows)
        self.readers: dict[str, list[int]] = {NETWORK_INPUT: []}
        for index, step in enumerate(self.steps):
            self.readers.setdefault(step.name, [])
            for source in dict.fromkeys(self.plan.alias[name] for name in step.inputs):
                self.readers[source].append(index)
        for output in self.plan.steps_of(analysis.output_layers):  # each a step, or the input: each has readers
            self.readers[output].append(len(self.steps))  # the network's output: read after every step
        self.latest, self.unread = _before_each(self.steps, self.readers)

    def index_of(self, name: str) -> int:
        """The step whose output is layer ``name``'s (a fused activation or folded batch norm: its conv's)."""
        if name not in self.plan.alias:
            inside = next((layer for layer in self.plan.alias if layer.startswith(f"{name}.")), None)
            guess = f"did you mean '{inside}'?" if inside else nearest(name, self.plan.alias)
            raise ValueError(
                f"no layer named {name!r} to split at (names as the table shows them){'; ' + guess if guess else ''}"
            )
        step = self.plan.alias[name]
        if step == NETWORK_INPUT:
            what = (
                "is the network's input" if name == NETWORK_INPUT else "runs no step: its output is the network's input"
            )
            raise ValueError(f"{name!r} {what}; split at a layer that computes")
        return self.position[step]

    def problem(self, index: int) -> str | None:
        """Why step ``index`` cannot be the split, or None."""
        split = self.steps[index]
        if index >= self.limit:
            return self.refusal
        shape = split.output_shape
        if len(shape) != 3 or shape[1] % self.grid[0] or shape[2] % self.grid[1]:
            size = "x".join(map(str, shape))
            return f"{self.grid[0]}x{self.grid[1]} patches do not divide {split.name}'s output {size} evenly"
        if self.unread[index]:
            return f"{self.unread[index]}'s output feeds no layer: every layer before the split must lead to it"
        tensor = self.latest[index]
        last = self.readers[tensor][-1]
        if last > index:
            after = self.steps[last].name if last < len(self.steps) else "the network's output"
            return (
                f"{tensor} is made before the split {split.name} and read after it by {after}: the split must be "
                "the only tensor the rest reads (not inside a residual or branch)"
            )
        return None

    def lower_bound(self, index: int) -> int:
        """At most the peak with the split at step ``index``: the rest's peak, or the split's buffer and its input
        tiles in the middle patch, all live at the split step."""
        split = self.steps[index]
        inputs = 0
        sources = dict(zip((self.plan.alias[name] for name in split.inputs), split.input_shapes, strict=True))
        for shape in sources.values():  # a tensor read twice is live once
            size = [shape[0] * self.unit]
            for axis in (0, 1):
                tile = split.output_shape[axis + 1] // self.grid[axis]
                middle = self.grid[axis] // 2 * tile
                window = self.windows[index]
                size.append(region_length(_demand(window, axis, (middle, middle + tile), shape, split.output_shape)))
            inputs += size[0] * size[1] * size[2]
        rest = max((step.live_bytes for step in self.deployment.steps[index + 1 :]), default=0)
        return max(rest, elements(split.output_shape) * self.unit + inputs)

    def no_split(self) -> str:
        grid = f"{self.grid[0]}x{self.grid[1]}"
        if not self.steps:
            return f"no split for {grid} patches: the network has no step a runtime runs (only free layers)"
        if self.limit == 0:
            return f"no split for {grid} patches: {self.refusal}"
        last = self.steps[self.limit - 1].name
        return (
            f"no split for {grid} patches up to {last}: none of those layers' outputs divides evenly into {grid} "
            f"tiles while being the only tensor the rest reads{'; and ' + self.refusal if self.refusal else ''}"
        )

    def evaluate(self, index: int, *, chosen: bool) -> PatchPlan:
        """The patch stage up to step ``index`` (a valid split) and the rest after it."""
        stage = self.steps[: index + 1]
        split = stage[-1]
        rows = [self.regions(index, 0, tile) for tile in range(self.grid[0])]
        cols = [self.regions(index, 1, tile) for tile in range(self.grid[1])]
        buffer = elements(split.output_shape) * self.unit
        live, patch = self.stage_live(index, rows, cols, buffer)
        macs = [_patch_macs(step, rows, cols) for step in stage]
        peak_step = max(range(len(stage)), key=lambda at: live[at])
        rest = self.deployment.steps[index + 1 :]
        rest_peak = max(rest, key=lambda step: step.live_bytes) if rest else None  # the first of equals
        steps = tuple(
            PatchStep(step.name, _regions(rows, step.name), _regions(cols, step.name), macs[at], live[at])
            for at, step in enumerate(stage)
        )
        return PatchPlan(
            self.grid,
            split.name,
            chosen,
            split.output_shape,
            buffer,
            live[peak_step],
            stage[peak_step].name,
            patch,
            rest_peak.live_bytes if rest_peak else 0,
            rest_peak.name if rest_peak else None,
            sum(step.macs for step in stage),
            sum(macs),
            self.analysis.total.macs,
            _regions(rows, NETWORK_INPUT),
            _regions(cols, NETWORK_INPUT),
            steps,
        )

    def regions(self, index: int, axis: int, tile: int) -> dict[str, Interval]:
        """Along ``axis`` (0 rows, 1 columns), the region of every tensor up to step ``index`` that tile ``tile``
        of its output needs: backward through each step's window, the hull of what its readers need."""
        size = self.steps[index].output_shape[axis + 1] // self.grid[axis]
        needed: dict[str, Interval] = {self.steps[index].name: (tile * size, (tile + 1) * size)}
        for at in range(index, -1, -1):
            step = self.steps[at]
            region = needed.get(step.name)
            for source, shape in zip(step.inputs, step.input_shapes, strict=True):
                name = self.plan.alias[source]
                demand = _demand(self.windows[at], axis, region, shape, step.output_shape)
                needed[name] = _hull(needed.get(name), demand)
        return needed

    def stage_live(
        self, index: int, rows: Sequence[dict[str, Interval]], cols: Sequence[dict[str, Interval]], buffer: int
    ) -> tuple[list[int], Grid]:
        """Each step's live bytes (the split's buffer included) in the patch where the stage peaks, and that patch.
        Patches with the same region sizes have the same memory: each size pattern is counted once."""
        stage = self.steps[: index + 1]
        channels = {step.name: step.output_shape[0] for step in stage[:-1]}
        channels[NETWORK_INPUT] = self.analysis.input_shape[0]
        best: tuple[list[int], Grid] = ([], (0, 0))
        for i in _distinct(rows, channels):
            for j in _distinct(cols, channels):
                sizes = {
                    name: c * region_length(rows[i][name]) * region_length(cols[j][name]) * self.unit
                    for name, c in channels.items()
                }
                sizes[stage[-1].name] = 0  # written into the split's buffer
                live = [step.live_bytes + buffer for step in live_steps(self.plan, stage, sizes)]
                if not best[0] or max(live) > max(best[0]):
                    best = live, (i, j)
        return best


def _before_each(steps: Sequence[LayerResult], readers: dict[str, list[int]]) -> tuple[list[str], list[str | None]]:
    """For a split at each step: the tensor made before it that is read latest, and the first one no layer reads
    (None when each is read)."""
    latest: list[str] = []
    unread: list[str | None] = []
    worst, first = NETWORK_INPUT, None if readers[NETWORK_INPUT] else NETWORK_INPUT
    for step in steps:
        latest.append(worst)
        unread.append(first)
        if not readers[step.name]:
            first = first or step.name
        elif readers[step.name][-1] > (readers[worst][-1] if readers[worst] else -1):
            worst = step.name
    return latest, unread


def _refusal(step: LayerResult, windows: tuple[Window, ...] | None) -> str:
    """Why a step (with its windows, for a windowed kind) cannot run on tiles ('' when it can)."""
    kind = f"{step.name} ({step.type})"
    reach = step.kind.reach(step.config)
    if reach == "all" or len(step.output_shape) != 3:
        return f"{kind} reads its whole input (a global layer): the split must come before it"
    tiles = reach == "pixel" or bool(windows and all(_whole(w.stride) and _whole(w.pad_before) for w in windows))
    if tiles and step.macs % (step.output_shape[1] * step.output_shape[2]):
        return f"{kind} costs more at some output pixels than others: the split must come before it"
    if tiles:
        return ""
    return (
        f"{kind} cannot run on tiles (patch-based inference runs convs, pools, padding, crops and per-position "
        "layers): the split must come before it"
    )


def _whole(value: int | Fraction) -> bool:
    return value.denominator == 1  # an int's is 1; a Fraction's too when whole (a bilinear resize's pad of 0)


def _demand(
    windows: tuple[Window, ...] | None,
    axis: int,
    region: Interval,
    shape: tuple[int, ...],
    output: tuple[int, ...],
) -> Interval:
    """The input rows (``axis`` 0) or columns that output ``region`` reads, clipped to the input."""
    if region is None:
        return None
    size = shape[axis + 1]
    if windows is None:
        return (0, 1) if size == 1 < output[axis + 1] else region  # a size-1 input broadcasts
    window = windows[axis]
    stride, pad = int(window.stride), int(window.pad_before)
    start = max(region[0] * stride - pad, 0)
    end = min((region[1] - 1) * stride - pad + window.span, size)
    return (start, end) if start < end else None


def _hull(first: Interval, second: Interval) -> Interval:
    if first is None or second is None:
        return first or second
    return min(first[0], second[0]), max(first[1], second[1])


def _regions(tiles: Sequence[dict[str, Interval]], name: str) -> tuple[Interval, ...]:
    return tuple(tile.get(name) for tile in tiles)


def _distinct(tiles: Sequence[dict[str, Interval]], channels: dict[str, int]) -> list[int]:
    """One tile index per distinct pattern of region lengths (the first with it)."""
    seen: dict[tuple[int, ...], int] = {}
    for index, tile in enumerate(tiles):
        seen.setdefault(tuple(region_length(tile.get(name)) for name in channels), index)
    return list(seen.values())


def _patch_macs(step: LayerResult, rows: Sequence[dict[str, Interval]], cols: Sequence[dict[str, Interval]]) -> int:
    """The step's MACs over all patches: its MACs per output pixel times the pixels of every patch's region."""
    if not step.macs:
        return 0
    pixels = step.output_shape[1] * step.output_shape[2]
    per_pixel, left = divmod(step.macs, pixels)
    if left:
        raise ValueError(f"{step.name}'s MACs are not the same for every output pixel")
    return (
        per_pixel
        * sum(region_length(tile.get(step.name)) for tile in rows)
        * sum(region_length(tile.get(step.name)) for tile in cols)
    )
