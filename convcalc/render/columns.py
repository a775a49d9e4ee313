"""The columns a per-layer report can show (`--columns`), shared by the table, CSV and markdown renderers.

A column reads a layer's result and, with `--device`, its latency estimate (:mod:`convcalc.passes.latency`;
None without one): the ``estimated`` columns read only that and need `--device`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from convcalc.core.numbers import json_number
from convcalc.core.tensor import format_shape
from convcalc.engine.results import LayerResult
from convcalc.render.units import exact, human_count, human_seconds, size_shown

if TYPE_CHECKING:
    from fractions import Fraction

    from convcalc.passes.latency import Latency, LayerLatency

Measure = Literal["count", "whole", "bytes", "text", "number", "seconds"]
"""How a column's values read: counts as K/M/G, whole counts always exact (parameters), bytes as KiB/MiB, seconds
as ns/us/ms/s."""
Value = int | float | str


@dataclass(frozen=True, slots=True)
class Column:
    """A report column: its header, how to read a layer's value, and whether totals add up."""

    key: str
    header: str
    read: Callable[[LayerResult, LayerLatency | None], Value]
    measure: Measure = "text"
    summable: bool = False
    estimated: bool = False
    """Read from the layer's latency estimate: shown with `--device` only."""

    def format(self, value: Value, exact_numbers: bool) -> str:
        """Counts as K/M/G and bytes as KiB/MiB (or exact with thousands separators); whole counts always exact;
        seconds with a unit and 3 significant figures; zero counts and times left blank."""
        if self.measure in ("count", "whole", "bytes"):
            assert isinstance(value, int)
            if self.measure == "bytes":
                return size_shown(exact_numbers)(value)
            if exact_numbers:
                return exact(value)
            if self.measure == "whole":
                return exact(value) if value else ""
            return human_count(value) if value else ""
        if self.measure == "number":
            return f"{value:.2f}" if value else ""
        if self.measure == "seconds":
            assert isinstance(value, float)
            return human_seconds(value) if value else ""
        return str(value)


def _axes_text(values: tuple[int | Fraction, ...], places: int) -> str:
    """'163' for a square field (a cube, any one size), '11x15' otherwise; fractions rounded to ``places`` decimals."""
    shown = [json_number(value, places) for value in values]
    return str(shown[0]) if all(value == shown[0] for value in shown) else "x".join(map(str, shown))


def _field_size(layer: LayerResult, _: LayerLatency | None) -> str:
    return _axes_text(layer.receptive_field.size, 2)


def _field_jump(layer: LayerResult, _: LayerLatency | None) -> str:
    return _axes_text(layer.receptive_field.jump, 3)


def _latency(_: LayerResult, estimate: LayerLatency | None) -> float:
    """Seconds, to four significant figures (as in JSON)."""
    from convcalc.passes.latency import significant

    return significant(estimate.estimate_s) if estimate else 0.0


def _bound(_: LayerResult, estimate: LayerLatency | None) -> str:
    return estimate.bound if estimate and estimate.bound != "free" else ""


COLUMNS: dict[str, Column] = {
    column.key: column
    for column in (
        Column("name", "layer", lambda layer, _: layer.name),
        Column("type", "type", lambda layer, _: layer.type),
        Column("input", "input", lambda layer, _: ", ".join(format_shape(s) for s in layer.input_shapes)),
        Column("shape", "output", lambda layer, _: format_shape(layer.output_shape)),
        Column("params", "params", lambda layer, _: layer.params, "whole", summable=True),
        Column("buffers", "buffers", lambda layer, _: layer.buffers, "count", summable=True),
        Column("macs", "MACs", lambda layer, _: layer.macs, "count", summable=True),
        Column("flops", "FLOPs", lambda layer, _: layer.flops, "count", summable=True),
        Column("memory", "activations", lambda layer, _: layer.activation_bytes, "bytes", summable=True),
        Column("weights", "weights", lambda layer, _: layer.weight_bytes, "bytes", summable=True),
        Column("intensity", "MACs/byte", lambda layer, _: layer.intensity, "number"),
        Column("rf", "RF", _field_size),
        Column("jump", "jump", _field_jump),
        Column("line", "line", lambda layer, _: layer.location.line),
        Column("note", "note", lambda layer, _: layer.note or ""),
        Column("latency", "latency (est.)", _latency, "seconds", summable=True, estimated=True),
        Column("bound", "bound", _bound, estimated=True),
    )
}
"""Every column by its `--columns` key. The table adds '#' and 'MACs %' (key 'share') itself."""

DEFAULT_COLUMNS = ("name", "type", "shape", "params", "macs", "flops", "memory", "share")
ESTIMATED = tuple(key for key, column in COLUMNS.items() if column.estimated)
"""The columns `--device` adds to the default ones."""
NARROW_ORDER = (
    "note",
    "bound",
    "line",
    "input",
    "intensity",
    "jump",
    "rf",
    "weights",
    "buffers",
    "bar",
    "flops",
    "type",
    "share",
    "memory",
    "latency",
    "shape",
)
"""The columns a table too wide for the terminal leaves out, first to last, until it fits (README: Narrow terminals)."""
KEPT = ("name", "params", "macs")
"""The columns always shown (a name folds onto more lines when the terminal is narrower than it)."""
SHARE = "share"
BAR = "bar"
RELATIVE = {SHARE: "MACs %", BAR: "share of MACs"}
"""Columns measured against the other layers' MACs, by key, with their headers."""
BAR_WIDTH = 20
"""Characters in the longest bar (the layer with the most MACs)."""
EIGHTHS = " ▏▎▍▌▋▊▉"


@dataclass(frozen=True, slots=True)
class MacsScale:
    """What the relative columns measure against: the MACs of all layers shown, and of the largest."""

    total: int
    largest: int

    @classmethod
    def of(cls, layers: Sequence[LayerResult]) -> MacsScale:
        return cls(sum(layer.macs for layer in layers), max((layer.macs for layer in layers), default=0))


def parse_columns(text: str) -> tuple[str, ...]:
    """'name,shape,rf' -> ('name', 'shape', 'rf'); ValueError naming an unknown column."""
    keys = tuple(key.strip() for key in text.split(",") if key.strip())
    known = (*COLUMNS, *RELATIVE)
    unknown = [key for key in keys if key not in known]
    if unknown or not keys:
        raise ValueError(f"unknown column {', '.join(unknown) or '(none given)'}; choose from {', '.join(known)}")
    return keys


def share(layer: LayerResult, total_macs: int) -> str:
    """This layer's percentage of the network's MACs."""
    return f"{100 * layer.macs / total_macs:.1f}" if total_macs and layer.macs else ""


def bar(macs: int, largest: int, width: int = BAR_WIDTH) -> str:
    """A bar of macs / largest * width characters, rounded to eighths of a character (at least one eighth)."""
    if not macs or not largest:
        return ""
    eighths = max((2 * macs * width * 8 + largest) // (2 * largest), 1)
    full, rest = divmod(eighths, 8)
    return "█" * full + (EIGHTHS[rest] if rest else "")


def relative(key: str, layer: LayerResult, scale: MacsScale) -> str:
    """The share column's percentage of all MACs, or the bar column's bar (the largest layer's is full width)."""
    return share(layer, scale.total) if key == SHARE else bar(layer.macs, scale.largest)


def estimate_of(layer: LayerResult, latency: Latency | None) -> LayerLatency | None:
    """The layer's latency estimate (None without --device, or for a row that is no layer: a group's)."""
    return latency.layers.get(layer.name) if latency else None


def value(key: str, layer: LayerResult, latency: Latency | None) -> Value:
    """A layer's value in a column, unformatted."""
    return COLUMNS[key].read(layer, estimate_of(layer, latency))


def cell(key: str, layer: LayerResult, scale: MacsScale, exact_numbers: bool, latency: Latency | None = None) -> str:
    """One layer's value in one column, formatted."""
    if key in RELATIVE:
        return relative(key, layer, scale)
    return COLUMNS[key].format(value(key, layer, latency), exact_numbers)


def total_cell(key: str, layers: Sequence[LayerResult], exact_numbers: bool, latency: Latency | None = None) -> str:
    """The totals row's value in one column: sums of summable columns (the estimates' as a float), blank elsewhere."""
    if key == "name":
        return "total"
    if key in RELATIVE:
        return "100.0" if key == SHARE and any(layer.macs for layer in layers) else ""
    column = COLUMNS[key]
    if not column.summable:
        return ""
    values = [value(key, layer, latency) for layer in layers]
    total = sum(float(v) for v in values) if column.measure == "seconds" else sum(int(v) for v in values)
    return column.format(total, exact_numbers)
