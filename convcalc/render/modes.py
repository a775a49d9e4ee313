"""The training step's and the deployment's totals as plain lines, after the layer table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.render.units import exact, human_bytes, human_count

if TYPE_CHECKING:
    from collections.abc import Callable

    from convcalc.deploy import Deployment
    from convcalc.training import Training


def training_lines(step: Training, batch: int, *, exact_numbers: bool) -> list[str]:
    """What a training step holds and computes, and its peak."""
    size: Callable[[int], str] = exact if exact_numbers else human_bytes
    count: Callable[[int], str] = exact if exact_numbers else human_count
    amp = " (float32 master + float16 copy)" if step.precision == "amp" else ""
    return [
        f"training step: optimizer {step.optimizer}, precision {step.precision}, batch {batch}",
        f"  weights{amp}: {size(step.weight_bytes)}",
        f"  gradients: {size(step.gradient_bytes)}",
        f"  optimizer state: {size(step.optimizer_bytes)}",
        f"  saved for backward: {size(step.saved_bytes)}",
        f"  peak of the step: {size(step.peak_bytes)} ({step.peak_at})",
        f"  MACs: forward {count(step.forward_macs)} + backward {count(step.backward_macs)} "
        f"= {count(step.forward_macs + step.backward_macs)} per step",
    ]


def deploy_lines(plan: Deployment, *, exact_numbers: bool) -> list[str]:
    """The runtime's peak and where it is, in kB of 1024 bytes as MCUNet counts."""
    peak = plan.peak
    size: Callable[[int], str] = exact if exact_numbers else human_bytes
    count: Callable[[int], str] = exact if exact_numbers else human_count
    kilobytes = f"{peak.live_bytes / 1024:,.1f} kB"
    in_place = sum(step.in_place for step in plan.steps)
    return [
        f"deployment ({plan.dtype}): batch norm folded into {plan.folded} convs, activations fused, "
        f"{in_place} depthwise convs in place",
        f"  params after folding: {count(plan.params)}, buffers {count(plan.buffers)}",
        f"  peak of live activations: {size(peak.live_bytes)} = {kilobytes} at {peak.name}",
        f"  first step {plan.steps[0].name}: {size(plan.steps[0].live_bytes)}" if plan.steps else "  no steps",
    ]


def side_by_side(first: Training | Deployment, second: Training | Deployment, names: tuple[str, str]) -> list[str]:
    """`compare --mode`: each total of the two networks' steps (or deployments) in two columns, exact."""
    left, right = first.to_dict(), second.to_dict()
    rows = [("", names[0], names[1])]
    for key, value in left.items():
        if key != "convention":
            rows.append((key, _cell(value), _cell(right[key])))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    return [f"{row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:>{widths[2]}}" for row in rows]


def _cell(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)
