"""Plain-text tables: CSV (exact integers, for spreadsheets and pandas) and markdown (for issues and notes)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from convcalc.core.tensor import format_shape
from convcalc.core.text import csv_cell, printable
from convcalc.engine.results import Analysis, LayerResult
from convcalc.render.columns import COLUMNS, RELATIVE, SHARE, MacsScale, cell, relative, total_cell, value

if TYPE_CHECKING:
    from convcalc.passes.latency import Latency
    from convcalc.passes.summaries import Sweep


def to_csv(
    analysis: Analysis,
    columns: Sequence[str],
    rows: Sequence[LayerResult] | None = None,
    latency: Latency | None = None,
) -> str:
    """One row per layer (or per row of a grouped view) with exact values (latency: the estimate in seconds); the
    header row holds the column keys.

    Text that a spreadsheet would run as a formula (a name starting with = + - @) is quoted with a leading '.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    shown = analysis.layers if rows is None else rows
    scale = MacsScale.of(shown)
    for layer in shown:
        writer.writerow(
            [
                csv_cell(relative(key, layer, scale) if key in RELATIVE else value(key, layer, latency))
                for key in columns
            ]
        )
    return buffer.getvalue()


def to_markdown(
    analysis: Analysis,
    columns: Sequence[str],
    *,
    exact_numbers: bool,
    rows: Sequence[LayerResult] | None = None,
    latency: Latency | None = None,
) -> str:
    """A GitHub-flavoured markdown table (of every layer, or of a grouped view's rows) with a bold totals row."""
    shown = analysis.layers if rows is None else rows
    headers = [RELATIVE[key] if key in RELATIVE else COLUMNS[key].header for key in columns]
    right = [key == SHARE or (key not in RELATIVE and COLUMNS[key].measure != "text") for key in columns]
    lines = [
        "| " + " | ".join(headers) + " |",
        "| " + " | ".join("---:" if r else "---" for r in right) + " |",
    ]
    scale = MacsScale.of(shown)
    for layer in shown:
        cells = [cell(key, layer, scale, exact_numbers, latency) for key in columns]
        lines.append("| " + " | ".join(printable(text, one_line=True).replace("|", "\\|") for text in cells) + " |")
    totals = [total_cell(key, shown, exact_numbers, latency) for key in columns]
    lines.append("| " + " | ".join(f"**{text}**" if text else "" for text in totals) + " |")
    return "\n".join(lines) + "\n"


def plain_layers(
    output: str,
    analysis: Analysis,
    columns: Sequence[str],
    rows: Sequence[LayerResult] | None,
    *,
    exact_numbers: bool,
    latency: Latency | None = None,
) -> str:
    """An analysis' layers (or ``rows``) as CSV or markdown: the one place both `analyze` and `analyze --convention`
    write them."""
    if output == "csv":
        return to_csv(analysis, columns, rows, latency)
    return to_markdown(analysis, columns, exact_numbers=exact_numbers, rows=rows, latency=latency)


def sweep_csv(sweep: Sweep) -> str:
    """One row per input size: input, output, params, macs, flops, peak_activation_bytes (exact)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["input", "output", "params", "macs", "flops", "peak_activation_bytes"])
    for row in sweep.rows:
        writer.writerow(
            [
                format_shape(row.input_shape),
                format_shape(row.output_shape),
                row.params,
                row.macs,
                row.flops,
                row.peak_activation_bytes,
            ]
        )
    return buffer.getvalue()
