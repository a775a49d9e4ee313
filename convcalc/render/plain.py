"""Plain-text tables: CSV (exact integers, for spreadsheets and pandas), markdown (for issues and notes) and LaTeX
(a booktabs table with exact counts, for papers)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from convcalc.core.tensor import format_shape
from convcalc.core.text import csv_cell, printable
from convcalc.core.version import __version__
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


class Plain(NamedTuple):
    """A table's text: headers, which columns are numbers (right-aligned), the rows' cells and the totals row."""

    headers: list[str]
    right: list[bool]
    lines: list[list[str]]
    totals: list[str]


def plain_table(
    analysis: Analysis,
    columns: Sequence[str],
    *,
    exact_numbers: bool,
    rows: Sequence[LayerResult] | None = None,
    latency: Latency | None = None,
) -> Plain:
    """The cells of every layer (or of a grouped view's rows) in ``columns``, one line each, and the totals."""
    shown = analysis.layers if rows is None else rows
    headers = [RELATIVE[key] if key in RELATIVE else COLUMNS[key].header for key in columns]
    right = [key == SHARE or (key not in RELATIVE and COLUMNS[key].measure != "text") for key in columns]
    scale = MacsScale.of(shown)
    lines = [
        [printable(cell(key, layer, scale, exact_numbers, latency), one_line=True) for key in columns]
        for layer in shown
    ]
    return Plain(headers, right, lines, [total_cell(key, shown, exact_numbers, latency) for key in columns])


def to_markdown(
    analysis: Analysis,
    columns: Sequence[str],
    *,
    exact_numbers: bool,
    rows: Sequence[LayerResult] | None = None,
    latency: Latency | None = None,
) -> str:
    """A GitHub-flavoured markdown table (of every layer, or of a grouped view's rows) with a bold totals row."""
    table = plain_table(analysis, columns, exact_numbers=exact_numbers, rows=rows, latency=latency)
    lines = [
        "| " + " | ".join(table.headers) + " |",
        "| " + " | ".join("---:" if r else "---" for r in table.right) + " |",
    ]
    lines += ["| " + " | ".join(text.replace("|", "\\|") for text in cells) + " |" for cells in table.lines]
    lines.append("| " + " | ".join(f"**{text}**" if text else "" for text in table.totals) + " |")
    return "\n".join(lines) + "\n"


LATEX_SPECIAL = {c: f"\\{c}" for c in "&%$#_{}"} | {"~": r"\textasciitilde{}", "^": r"\^{}", "\\": r"\textbackslash{}"}


def latex_text(text: str) -> str:
    """Text with LaTeX's special characters escaped."""
    return "".join(LATEX_SPECIAL.get(c, c) for c in text)


def to_latex(
    analysis: Analysis,
    columns: Sequence[str],
    rows: Sequence[LayerResult] | None = None,
    latency: Latency | None = None,
) -> str:
    """A booktabs table (\\usepackage{booktabs}) of every layer, or of a grouped view's rows, with exact counts and
    a totals row; the caption names the network, its input and its totals."""
    table = plain_table(analysis, columns, exact_numbers=True, rows=rows, latency=latency)
    total = analysis.total
    caption = (
        f"{latex_text(analysis.name)}: input {format_shape(analysis.input_shape)}, batch {analysis.batch}, "
        f"{total.params:,} parameters, {total.macs:,} MACs, {total.flops:,} FLOPs"
    )
    lines = [
        f"% convcalc {__version__}: needs \\usepackage{{booktabs}}",
        "\\begin{table}",
        "\\centering",
        f"\\caption{{{caption}}}",
        "\\begin{tabular}{" + "".join("r" if r else "l" for r in table.right) + "}",
        "\\toprule",
        " & ".join(latex_text(header) for header in table.headers) + " \\\\",
        "\\midrule",
        *(" & ".join(latex_text(text) for text in cells) + " \\\\" for cells in table.lines),
        "\\midrule",
        " & ".join(latex_text(text) for text in table.totals) + " \\\\",
        "\\bottomrule",
        "\\end{tabular}",
        "\\end{table}",
    ]
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
    """An analysis' layers (or ``rows``) as CSV, markdown or LaTeX: the one place both `analyze` and `analyze
    --convention` write them."""
    if output == "csv":
        return to_csv(analysis, columns, rows, latency)
    if output == "latex":
        return to_latex(analysis, columns, rows, latency)
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
                ", ".join(map(format_shape, row.output_shapes)),
                row.params,
                row.macs,
                row.flops,
                row.peak_activation_bytes,
            ]
        )
    return buffer.getvalue()
