"""`convcalc devices`: the bundled devices; and `--device NAME|FILE`, `--peak-flops`, `--bandwidth` as a
:class:`~convcalc.passes.profile.DeviceProfile` (bad input: one message, exit 2)."""

import math
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from convcalc.cli.common import emit, fail, usage_error
from convcalc.cli.options import OutputFormat, TableOrJson, TableOrJsonOption, chosen_format, other_formats
from convcalc.core.errors import SpecError

if TYPE_CHECKING:
    from convcalc.passes.profile import DeviceProfile

DeviceOption = Annotated[
    Optional[str],  # noqa: UP045 - typer reads the annotation at run time
    typer.Option(
        "--device",
        metavar="NAME|FILE",
        help="Estimate each layer's latency on a device (convcalc devices lists them) or a profile FILE.json "
        "(convcalc calibrate writes one): adds latency and bound columns. An estimate, not a measurement.",
        show_default=False,
    ),
]
PeakFlopsOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--peak-flops",
        metavar="FLOP/s",
        help="--device's peak FLOP/s at --dtype, such as 19.5e12 or 19.5T (with --bandwidth, a device of its own).",
        show_default=False,
    ),
]
BandwidthOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--bandwidth",
        metavar="BYTES/s",
        help="--device's memory bandwidth in bytes/s, such as 1.5e12 or 1555G.",
        show_default=False,
    ),
]

PREFIXES = {"k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15}


def rate(text: str, option: str, unit: str, example: str) -> float:
    """'19.5T' or '19.5e12' -> 1.95e13; a usage error for anything but a positive finite number."""
    scale = PREFIXES.get(text[-1:], 1.0) if text else 1.0
    try:
        value = float(text[:-1] if scale != 1.0 else text) * scale
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        usage_error(f"{option} must be a positive number of {unit}, such as {example}, not '{text}'")
    return value


def device_profile(
    device: str | None, peak_flops: str | None, bandwidth: str | None, dtype: str
) -> "DeviceProfile | None":
    """The device of --device (a bundled name or a profile file) with --peak-flops and --bandwidth over its own
    figures; the two alone make a device of their own; None without any. Checks it has a peak for ``dtype``."""
    if device is None and peak_flops is None and bandwidth is None:
        return None
    from dataclasses import replace

    from convcalc.passes.latency import peak_check
    from convcalc.passes.profile import DeviceProfile

    peak = None if peak_flops is None else rate(peak_flops, "--peak-flops", "FLOP/s", "19.5e12 or 19.5T")
    memory = None if bandwidth is None else rate(bandwidth, "--bandwidth", "bytes/s", "1.555e12 or 1555G")
    if device is None:
        if peak is None or memory is None:
            usage_error("--peak-flops and --bandwidth make a device together: give both, or --device NAME")
        return DeviceProfile("custom", {dtype: peak}, memory, source="--peak-flops and --bandwidth")
    profile = profile_file(device) if _is_file(device) else _bundled(device)
    if peak is not None:
        profile = replace(profile, peak_flops={**profile.peak_flops, dtype: peak})
    if memory is not None:
        profile = replace(profile, bandwidth=memory, bandwidth_curve=())
    try:
        peak_check(profile, dtype)
    except ValueError as error:
        usage_error(str(error))
    return profile


def _is_file(device: str) -> bool:
    import os

    return device.endswith(".json") or os.sep in device or os.path.isfile(device)


def _bundled(name: str) -> "DeviceProfile":
    from convcalc.passes.devices import bundled

    try:
        return bundled(name)
    except ValueError as error:
        usage_error(str(error))


def profile_file(path: str) -> "DeviceProfile":
    """A profile file, read and checked: a missing file, text that is not JSON or JSON that is not a profile is one
    message naming the file (exit 2)."""
    import json

    from convcalc.core.files import opened
    from convcalc.passes.profile import profile_from

    try:
        with opened(path, "a device profile") as handle:
            data = handle.read()
    except SpecError as error:
        fail(error)
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as error:
        line = f" (line {error.lineno})" if isinstance(error, json.JSONDecodeError) else ""
        usage_error(f"{path}: not a device profile: not JSON{line}")
    try:
        return profile_from(document)
    except ValueError as error:
        usage_error(f"{path}: {error}")


def devices(
    name: Annotated[
        Optional[str],  # noqa: UP045
        typer.Argument(help="One device in full: every figure, how it was derived, its source.", show_default=False),
    ] = None,
    form: TableOrJsonOption = TableOrJson.table,
) -> None:
    """The devices --device NAME knows: peak FLOP/s per element type, memory bandwidth, datasheet source."""
    from convcalc.passes.devices import DEVICES

    output = chosen_format(form)
    shown = list(DEVICES.values()) if name is None else [_bundled(name)]
    if output is OutputFormat.json:
        from convcalc.render.json_format import to_json

        profiles = [device.to_dict() for device in shown]
        emit(to_json({"devices": profiles} if name is None else profiles[0]) + "\n")
    elif name is None:
        from convcalc.render.latency import render_devices

        render_devices(shown, None, other_formats(TableOrJson))
    else:
        from convcalc.render.latency import device_lines

        emit("\n".join(device_lines(shown[0])) + "\n")
