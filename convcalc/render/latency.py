"""Latency estimates as text: the lines after analyze's table with --device, and `convcalc devices`' table.

Every line says it is an estimate of a model, never a measurement."""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO, TYPE_CHECKING

from convcalc.core.text import printable
from convcalc.render.grid import Grid, GridColumn
from convcalc.render.units import human_bytes, human_rate, human_seconds

if TYPE_CHECKING:
    from convcalc.passes.latency import Latency
    from convcalc.passes.profile import DeviceProfile

DTYPE_COLUMNS = ("float32", "float16", "bfloat16", "int8")
"""The element types `convcalc devices` shows a peak for."""
DERIVED_MARK = "*"


def basis(device: DeviceProfile) -> str:
    """What an estimate on the device rests on."""
    if device.efficiency or device.overhead_s:
        return "calibrated roofline"
    if device.calibrated:
        return "measured peak and bandwidth, no efficiencies or overheads: a lower bound"
    return "datasheet roofline, no efficiencies or overheads: a lower bound"


def latency_lines(latency: Latency, dtype: str) -> list[str]:
    """The network's estimate, the device's figures it used, and what kind of number it is."""
    device = latency.device
    peak = human_rate(device.peak_flops[dtype], operations(dtype))
    return [
        f"latency estimate on {device.name}: {human_seconds(latency.estimate_s)} ({latency.nodes} runtime nodes "
        f"after fusion, {human_bytes(latency.bytes)} moved; {basis(device)})",
        f"  {dtype} peak {peak}, bandwidth {human_rate(device.bandwidth, 'B/s')}; an estimate from the counts, "
        "not a measurement (docs/how-to/latency.md)",
    ]


def compared_latency_lines(before: Latency, after: Latency, dtype: str) -> list[str]:
    """`compare --device`: both estimates and their ratio, and what kind of number they are."""
    device = before.device
    ratio = f"{after.estimate_s / before.estimate_s:.2f}x" if before.estimate_s else "n/a"
    return [
        printable(
            f"latency estimate on {device.name}: before {human_seconds(before.estimate_s)}, after "
            f"{human_seconds(after.estimate_s)} ({ratio}; {basis(device)})"
        ),
        f"  {dtype} peak {human_rate(device.peak_flops[dtype], operations(dtype))}, bandwidth "
        f"{human_rate(device.bandwidth, 'B/s')}; estimates from the counts, not measurements (docs/how-to/latency.md)",
    ]


def operations(dtype: str) -> str:
    """The unit of a peak: integer operations for int8, floating-point ones otherwise."""
    return "OP/s" if dtype == "int8" else "FLOP/s"


def _figure(device: DeviceProfile, table: str, dtype: str, unit: str) -> str:
    """A peak or bandwidth as the devices table shows it, marked when derived rather than published."""
    values = device.peak_flops if table == "peak_flops" else {"": device.bandwidth}
    if dtype not in values:
        return ""
    key = f"{table}.{dtype}" if dtype else table
    return human_rate(values[dtype], unit) + (DERIVED_MARK if key in device.derived else "")


def devices_grid(devices: Sequence[DeviceProfile]) -> Grid:
    """One row per device: name, what it is, dense peak per element type, bandwidth, source (in a narrow terminal
    the source goes first, then the description, then bfloat16 and float16)."""
    columns = [
        GridColumn("name", "left", "bold", shrink="name"),
        GridColumn("device", "left", None, drop=2, shrink="prose"),
        *(GridColumn(dtype, "right", None, drop={"float16": 4, "bfloat16": 3}.get(dtype)) for dtype in DTYPE_COLUMNS),
        GridColumn("bandwidth", "right", None),
        GridColumn("source", "left", None, drop=1, shrink="prose"),
    ]
    rows = [
        [
            printable(device.name),
            printable(device.description),
            *(_figure(device, "peak_flops", dtype, operations(dtype)) for dtype in DTYPE_COLUMNS),
            _figure(device, "bandwidth", "", "B/s"),
            printable(device.source),
        ]
        for device in devices
    ]
    return Grid("devices (convcalc analyze SPEC --device NAME)", columns, rows)


def render_devices(devices: Sequence[DeviceProfile], file: IO[str] | None, formats: Sequence[str]) -> None:
    from convcalc.render.table import print_view

    notes = [
        f"[dim]dense peaks; {DERIVED_MARK} derived from published clocks and unit widths, not published "
        "(convcalc devices NAME shows how); no efficiencies or overheads: estimates are lower bounds "
        "(convcalc calibrate measures a machine)[/dim]"
    ]
    print_view([devices_grid(devices), *notes], file, formats)


def device_lines(device: DeviceProfile) -> list[str]:
    """One device in full: every figure, its source and its notes."""
    lines = [f"{device.name}: {device.description}" if device.description else device.name]
    for dtype, value in device.peak_flops.items():
        mark = " (derived)" if f"peak_flops.{dtype}" in device.derived else ""
        lines.append(f"  peak {dtype}: {human_rate(value, operations(dtype))}{mark}")
    for dtype, value in device.vector_flops.items():
        mark = " (derived)" if f"vector_flops.{dtype}" in device.derived else ""
        lines.append(
            f"  peak {dtype} of layers other than convs and linears: {human_rate(value, operations(dtype))}{mark}"
        )
    mark = " (derived)" if "bandwidth" in device.derived else ""
    lines.append(f"  bandwidth: {human_rate(device.bandwidth, 'B/s')}{mark}")
    if device.calibrated:
        lines.append(f"  lanes {device.lanes}, overhead per node {human_seconds(device.overhead_s)}")
        lines.append("  efficiency: " + ", ".join(f"{name} {e:.2f}" for name, e in device.efficiency.items()))
        lines.append("  measured: " + ", ".join(f"{key} {value}" for key, value in device.calibrated_with.items()))
    lines.extend(f"  {label}: {text}" for label, text in (("source", device.source), ("note", device.note)) if text)
    return [printable(line) for line in lines]
