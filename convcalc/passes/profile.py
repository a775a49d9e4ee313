"""A device profile: what the latency pass (:mod:`convcalc.passes.latency`) needs to know of a machine.

Pure: a profile is made from a mapping (a profile file's JSON, read by the caller) and written back to one, checked
on the way in; no I/O. The bundled devices (:mod:`convcalc.passes.devices`) and `convcalc calibrate` make the same
object. Units: FLOP/s, bytes/s, seconds; one multiply-accumulate is 2 FLOPs.

A datasheet device has peaks and one bandwidth (efficiencies 1 and no overhead: the plain roofline, a lower bound on
the time); a calibrated one adds a bandwidth curve over working sets, the vector width of its kernels, an efficiency
per layer family and the time a runtime spends on each node.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from convcalc.core.errors import nearest

MARK = "convcalc device profile"
"""The value of a profile file's ``profile`` key: what tells a profile from any other JSON."""
DTYPES = ("float32", "float16", "bfloat16", "int8", "float64")
"""The element types a peak may be given for (analyze's --dtype)."""
FAMILIES = ("dense", "pointwise", "depthwise", "grouped", "linear", "elementwise", "activation", "pooling")
"""Layer families, each with its own efficiency (:func:`convcalc.passes.latency.family_of`)."""
KEYS = (
    "profile",
    "name",
    "description",
    "source",
    "peak_flops",
    "vector_flops",
    "bandwidth",
    "bandwidth_curve",
    "lanes",
    "overhead_s",
    "efficiency",
    "grouped_efficiency",
    "grouped_aligned",
    "derived",
    "note",
    "calibrated_with",
)
"""A profile file's keys, in the order it is written."""


@dataclass(frozen=True)
class DeviceProfile:
    """A device: peak FLOP/s per element type, memory bandwidth, and (calibrated) what a runtime makes of them.

    ``peak_flops`` serves convs and linears; ``vector_flops`` the other layers where a matrix unit serves only those
    (a GPU's tensor cores: the CUDA cores' rate); a dtype missing there runs at the vector float32 rate, and a
    device without vector peaks runs every layer at ``peak_flops``.
    """

    name: str
    peak_flops: Mapping[str, float]
    bandwidth: float
    description: str = ""
    source: str = ""
    vector_flops: Mapping[str, float] = field(default_factory=dict)
    bandwidth_curve: tuple[tuple[float, float], ...] = ()
    """(working set in bytes, bytes/s), ascending: the bandwidth when that many bytes are hot."""
    lanes: int = 0
    """Channels per block of the runtime's conv kernels (fp32 vector lanes); 0: channels as they are."""
    overhead_s: float = 0.0
    """Seconds a runtime spends on each node besides its kernel (dispatch, allocation)."""
    efficiency: Mapping[str, float] = field(default_factory=dict)
    """Per family: roofline time / kernel time (missing: 1, the roofline)."""
    grouped_efficiency: tuple[tuple[float, float], ...] = ()
    """(channels per group, efficiency), ascending, for grouped convs whose channels per group are not a multiple
    of ``lanes``; interpolated in log(channels per group)."""
    grouped_aligned: float | None = None
    """Efficiency of grouped convs whose channels per group are a multiple of ``lanes``."""
    derived: tuple[str, ...] = ()
    """The figures computed from published clocks and unit widths rather than published ('peak_flops.float32')."""
    note: str = ""
    calibrated_with: Mapping[str, Any] = field(default_factory=dict)
    """How a calibrated profile was measured: backend and its version, CPU, threads, date, seconds, load."""

    @property
    def calibrated(self) -> bool:
        return bool(self.calibrated_with)

    def peak(self, dtype: str, matrix: bool) -> float:
        """The peak FLOP/s of a layer in ``dtype``: ``peak_flops`` for convs and linears (``matrix``), else the
        vector peak (in ``dtype``, else float32's), else ``peak_flops``. KeyError when the device has no peak for
        ``dtype``."""
        if not matrix and self.vector_flops:
            return self.vector_flops.get(dtype) or self.vector_flops.get("float32") or self.peak_flops[dtype]
        return self.peak_flops[dtype]

    def bandwidth_at(self, working_set: float) -> float:
        """Bytes/s when ``working_set`` bytes are in use: log-log interpolation on the curve, clamped at its ends;
        ``bandwidth`` without a curve."""
        if not self.bandwidth_curve:
            return self.bandwidth
        points = [(x, math.log(y)) for x, y in self.bandwidth_curve]
        return math.exp(interpolate(points, max(working_set, 1.0)))

    def efficiency_of(self, family: str, per_group: int = 0) -> float:
        """The family's efficiency; a grouped conv's by its channels per group (aligned to the lanes, or
        interpolated on ``grouped_efficiency``)."""
        if family == "grouped" and per_group:
            if self.grouped_aligned is not None and self.lanes and per_group % self.lanes == 0:
                return self.grouped_aligned
            if self.grouped_efficiency:
                return interpolate(self.grouped_efficiency, per_group)
        return self.efficiency.get(family, 1.0)

    def to_dict(self) -> dict[str, Any]:
        """The profile file's JSON (what :func:`profile_from` reads back)."""
        document: dict[str, Any] = {
            "profile": MARK,
            "name": self.name,
            "description": self.description,
            "source": self.source,
            "peak_flops": dict(self.peak_flops),
            "vector_flops": dict(self.vector_flops),
            "bandwidth": self.bandwidth,
            "bandwidth_curve": [list(point) for point in self.bandwidth_curve],
            "lanes": self.lanes,
            "overhead_s": self.overhead_s,
            "efficiency": dict(self.efficiency),
            "grouped_efficiency": [list(point) for point in self.grouped_efficiency],
            "grouped_aligned": self.grouped_aligned,
            "derived": list(self.derived),
            "note": self.note,
            "calibrated_with": dict(self.calibrated_with),
        }
        return document


def interpolate(points: tuple[tuple[float, float], ...] | list[tuple[float, float]], x: float) -> float:
    """y at ``x``, piecewise linear in log(x) between ``points`` (ascending in x), clamped at the ends."""
    if x <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if x <= x1:
            weight = (math.log(x) - math.log(x0)) / (math.log(x1) - math.log(x0))
            return y0 + weight * (y1 - y0)
    return points[-1][1]


# ---------------------------------------------------------------- reading a profile, every figure checked


def profile_from(document: Any) -> DeviceProfile:
    """A profile from its JSON; ValueError saying what is wrong (not a profile, a missing or unknown key, a peak
    or bandwidth that is not a positive number)."""
    if not isinstance(document, dict) or document.get("profile") != MARK:
        raise ValueError(
            f'not a device profile (a JSON object with "profile": "{MARK}"; `convcalc calibrate -o FILE` writes '
            "one, `convcalc devices NAME --format json` shows one)"
        )
    for key in document:
        if key not in KEYS:
            hint = nearest(key, KEYS)
            raise ValueError(f"unknown key '{key}'" + (f" ({hint})" if hint else f"; keys: {', '.join(KEYS)}"))
    for key in ("name", "peak_flops", "bandwidth"):
        if key not in document:
            raise ValueError(f"missing '{key}'")
    name = _text(document, "name")
    if not name:
        raise ValueError("'name' is empty")
    peaks = _rates(document, "peak_flops", "FLOP/s", DTYPES)
    if not peaks:
        raise ValueError("'peak_flops' gives no peak: one FLOP/s figure per element type, such as {\"float32\": 1e11}")
    return DeviceProfile(
        name=name,
        peak_flops=peaks,
        bandwidth=positive(document["bandwidth"], "bandwidth", "bytes/s"),
        description=_text(document, "description"),
        source=_text(document, "source"),
        vector_flops=_rates(document, "vector_flops", "FLOP/s", DTYPES),
        bandwidth_curve=_points(document, "bandwidth_curve", ("bytes", "bytes/s")),
        lanes=_count(document, "lanes"),
        overhead_s=_seconds(document, "overhead_s"),
        efficiency=_rates(document, "efficiency", "roofline time / kernel time", FAMILIES),
        grouped_efficiency=_points(document, "grouped_efficiency", ("channels per group", "efficiency")),
        grouped_aligned=None
        if document.get("grouped_aligned") is None
        else positive(document["grouped_aligned"], "grouped_aligned", "an efficiency"),
        derived=tuple(_texts(document, "derived")),
        note=_text(document, "note"),
        calibrated_with=_mapping(document, "calibrated_with"),
    )


def positive(value: Any, what: str, unit: str) -> float:
    """A finite number above zero, or ValueError naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{what} must be a positive number ({unit}), not {_shown(value)}")
    return float(value)


def _shown(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _text(document: Mapping[str, Any], key: str) -> str:
    value = document.get(key, "")
    if not isinstance(value, str):
        raise ValueError(f"'{key}' must be text, not {_shown(value)}")
    return value


def _texts(document: Mapping[str, Any], key: str) -> list[str]:
    values = document.get(key, [])
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise ValueError(f"'{key}' must be a list of texts, not {_shown(values)}")
    return values


def _mapping(document: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = document.get(key, {})
    if not isinstance(value, dict):
        raise ValueError(f"'{key}' must be an object, not {_shown(value)}")
    return value


def _rates(document: Mapping[str, Any], key: str, unit: str, names: tuple[str, ...]) -> dict[str, float]:
    """``{name: positive number}`` with names from ``names`` (element types or families)."""
    values = _mapping(document, key)
    for name in values:
        if name not in names:
            hint = nearest(name, names)
            raise ValueError(
                f"{key}: unknown '{name}'" + (f" ({hint})" if hint else f"; choose from {', '.join(names)}")
            )
    return {name: positive(value, f"{key}.{name}", unit) for name, value in values.items()}


def _points(document: Mapping[str, Any], key: str, units: tuple[str, str]) -> tuple[tuple[float, float], ...]:
    """``[[x, y], ...]`` of positive numbers, sorted by x."""
    values = document.get(key, [])
    if not isinstance(values, list) or not all(isinstance(point, list) and len(point) == 2 for point in values):
        raise ValueError(f"'{key}' must be a list of [{units[0]}, {units[1]}] pairs, not {_shown(values)}")
    points = [
        (positive(x, f"{key}[{index}][0]", units[0]), positive(y, f"{key}[{index}][1]", units[1]))
        for index, (x, y) in enumerate(values)
    ]
    return tuple(sorted(points))


def _count(document: Mapping[str, Any], key: str) -> int:
    value = document.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"'{key}' must be a whole number, 0 or more, not {_shown(value)}")
    return value


def _seconds(document: Mapping[str, Any], key: str) -> float:
    value = document.get(key, 0.0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"'{key}' must be a number of seconds, 0 or more, not {_shown(value)}")
    return float(value)
