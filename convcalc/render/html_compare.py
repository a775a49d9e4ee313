"""`convcalc report A B` (or `report A --bottleneck ...`): the comparison as one self-contained HTML page.

Both networks' totals with the difference (after - before) and the ratio as `convcalc compare` prints them, what
a bottleneck rewrite did, both sides' warnings, the aligned layer rows (added, removed, changed, same) and, per
measure, a bar chart with the two networks side by side on one scale. The page frame, its Content-Security-
Policy and the escaping are those of the single report (:mod:`convcalc.render.html_report`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from convcalc.core.tensor import format_shape
from convcalc.engine.results import Analysis, LayerResult
from convcalc.passes.comparison import Comparison, Row
from convcalc.render.compare_table import change, param_sum
from convcalc.render.html_report import CHARTED, charts_section, document, text
from convcalc.render.units import exact, human_bytes, human_count, ratio_text, signed

COMPARE_CSS = """
tr.added td { background: #e9f6e9; } tr.removed td { background: #fbeaea; } tr.changed td { background: #fff7df; }
td.change { white-space: nowrap; } th.side { text-align: center; border-left: 2px solid #ccc; }
td.first, th.first { border-left: 2px solid #ccc; } .h { color: #777; font-size: 12px; }
.chart rect.after { fill: #d0864a; } .chart text.side { font-weight: 700; }
"""
LAYER_HEADERS = ("output", "params", "MACs")

Show = Callable[[int], str]


def comparison_html(comparison: Comparison) -> str:
    """The whole comparison report as one HTML document."""
    before, after = comparison.before, comparison.after
    return document(
        f"{text(before.name)} vs {text(after.name)}",
        [
            f'<p class="sub">before: {_side(before)}<br>after: {_side(after)}<br>'
            f"batch {after.batch} · {after.dtype}</p>",
            totals_section(comparison),
            rewrite_section(comparison),
            warnings_section(comparison),
            layers_section(comparison),
            charts_section([paired_chart(title, comparison.rows, value, show) for title, value, show in CHARTED]),
        ],
        css=COMPARE_CSS,
    )


def _side(analysis: Analysis) -> str:
    shape = analysis.shapes_text
    return f"{text(analysis.name)} ({escape(shape)})"


def _bytes(value: int) -> str:
    return f"{exact(value)} B"


def totals_section(comparison: Comparison) -> str:
    """Each total exactly (with K/M/G or KiB/MiB beside it) for both networks, the difference and the ratio."""
    old, new = comparison.before.total, comparison.after.total
    measures: list[tuple[str, int, int, Show, Show, str]] = [
        ("params", old.params, new.params, exact, human_count, "fewer"),
        ("buffers", old.buffers, new.buffers, exact, human_count, "fewer"),
        ("MACs", old.macs, new.macs, exact, human_count, "fewer"),
        ("FLOPs", old.flops, new.flops, exact, human_count, "fewer"),
        ("weights", old.weight_bytes, new.weight_bytes, _bytes, human_bytes, "less"),
        ("activations (all outputs)", old.activation_bytes, new.activation_bytes, _bytes, human_bytes, "less"),
        ("peak activations", old.peak_activation_bytes, new.peak_activation_bytes, _bytes, human_bytes, "less"),
    ]
    lines = []
    for label, first, second, show, short, fewer in measures:
        difference = second - first
        values = "".join(f'<td class="n">{show(v)} <span class="h">{short(v)}</span></td>' for v in (first, second))
        lines.append(
            f'<tr data-measure="{escape(label)}"><th>{escape(label)}</th>{values}'
            f'<td class="n">{signed(show(difference), difference)} <span class="h">'
            f"{signed(short(difference), difference)}</span></td><td>{ratio_text(first, second, fewer=fewer)}</td></tr>"
        )
    head = '<tr><th></th><th class="n">before</th><th class="n">after</th><th class="n">difference</th><th>ratio</th>'
    sums = "".join(
        f"<p>{line}</p>"
        for line in (param_sum("before", comparison.before, text), param_sum("after", comparison.after, text))
        if line
    )
    return (
        f'<section id="totals"><h2>Totals</h2><table class="totals"><thead>{head}</tr></thead>'
        f"<tbody>{''.join(lines)}</tbody></table>{sums}</section>"
    )


def rewrite_section(comparison: Comparison) -> str:
    """For a bottleneck rewrite: each 1x1 conv inserted, and the convs `all` selected that could not take one."""
    if comparison.rewrite is None:
        return ""
    items = []
    for insertion in comparison.rewritten:
        block = f", written in block '{text(insertion.block)}'" if insertion.block else ""
        items.append(
            f"<li><b>{text(insertion.layer)}</b> (line {insertion.location.line}{block}): "
            f"{text(insertion.inserted)}, {insertion.input_channels} -> {insertion.filters} channels</li>"
        )
    skipped = "".join(
        f"<li><b>{text(', '.join(skip.layers))}</b> (line {skip.location.line}): {text(skip.reason)}</li>"
        for skip in comparison.skipped
    )
    parts = ['<section id="rewrite"><h2>Rewrite</h2><p>a 1x1 conv inserted before each of</p>']
    parts.append(f"<ul>{''.join(items)}</ul>" if items else "<p>none</p>")
    if skipped:
        parts.append(f"<p>not rewritten:</p><ul>{skipped}</ul>")
    parts.append("</section>")
    return "".join(parts)


def warnings_section(comparison: Comparison) -> str:
    """Each network's warnings, under its side's name."""
    parts = ['<section id="warnings"><h2>Warnings</h2>']
    for side, analysis in (("before", comparison.before), ("after", comparison.after)):
        items = "".join(
            f"<li><b>{text(w.layer)}</b> ({text(w.location.place)}): {text(w.message)}</li>" for w in analysis.warnings
        )
        parts.append(f"<h3>{side}</h3>" + (f'<ul class="warnings">{items}</ul>' if items else "<p>none</p>"))
    parts.append("</section>")
    return "".join(parts)


def layers_section(comparison: Comparison) -> str:
    """The aligned rows: each layer's output, params (exact) and MACs in each network, and what changed."""
    inserted = {insertion.inserted for insertion in comparison.rewritten}
    side_heads = "".join(
        f'<th class="{"first " if i == 0 else ""}n">{h}</th>' for _ in range(2) for i, h in enumerate(LAYER_HEADERS)
    )
    head = (
        '<tr><th colspan="3"></th><th class="side" colspan="3">before</th><th class="side" colspan="3">after</th>'
        f'<th></th></tr><tr><th class="n">#</th><th>layer</th><th>type</th>{side_heads}<th>change</th></tr>'
    )
    rows = []
    for index, row in enumerate(comparison.rows, 1):
        shown = change(row, inserted)
        what = (shown if isinstance(shown, str) else shown[0]) or row.status
        rows.append(
            f'<tr class="{row.status}" data-status="{row.status}"><td class="n">{index}</td><td>{text(row.name)}</td>'
            f"<td>{text(row.type)}</td>{_side_cells(row.before)}{_side_cells(row.after)}"
            f'<td class="change">{text(what)}</td></tr>'
        )
    old, new = comparison.before.total, comparison.after.total
    foot = (
        f'<tr><td></td><td>total</td><td></td><td class="first"></td><td class="n">{exact(old.params)}</td>'
        f'<td class="n" title="{exact(old.macs)}">{human_count(old.macs)}</td><td class="first"></td>'
        f'<td class="n">{exact(new.params)}</td><td class="n" title="{exact(new.macs)}">{human_count(new.macs)}</td>'
        f"<td>{ratio_text(old.macs, new.macs, 'MACs')}</td></tr>"
    )
    return (
        f'<section id="layers"><h2>Layers</h2><table id="layer-table"><thead>{head}</thead>'
        f"<tbody>{''.join(rows)}</tbody><tfoot>{foot}</tfoot></table></section>"
    )


def _side_cells(layer: LayerResult | None) -> str:
    if layer is None:
        return '<td class="first n">-</td><td></td><td></td>'
    params = exact(layer.params) if layer.params else ""
    macs = human_count(layer.macs) if layer.macs else ""
    return (
        f'<td class="first n">{format_shape(layer.output_shape)}</td><td class="n">{params}</td>'
        f'<td class="n" title="{exact(layer.macs)}">{macs}</td>'
    )


def paired_chart(title: str, rows: Sequence[Row], value: Callable[[LayerResult], int], show: Show) -> str:
    """Per aligned row with a value above zero on either side, the before bar and the after bar side by side,
    both on one scale (the largest value of either network is full width)."""
    shown: list[tuple[str, tuple[int, int]]] = []
    for row in rows:
        pair = (value(row.before) if row.before else 0, value(row.after) if row.after else 0)
        if any(pair):
            shown.append((row.name, pair))
    largest = max((max(pair) for _, pair in shown), default=1)
    label_width, bar_width, gap, row_height = 200, 180, 80, 15
    column = bar_width + gap
    parts = [
        f'<figure class="chart"><figcaption><b>{escape(title)}</b></figcaption>'
        f'<svg width="{label_width + 2 * column}" height="{row_height * len(shown) + 24}" role="img" '
        f'aria-label="{escape(title)}, before and after"><text class="side" x="{label_width}" y="12">before</text>'
        f'<text class="side" x="{label_width + column}" y="12">after</text>'
    ]
    for index, (name, pair) in enumerate(shown):
        y = 18 + index * row_height
        short = name if len(name) <= 30 else "…" + name[-29:]
        parts.append(f'<g><text x="{label_width - 4}" y="{y + 11}" text-anchor="end">{text(short)}</text>')
        for side, amount in enumerate(pair):
            if not amount:
                continue
            x, width = label_width + side * column, max(bar_width * amount / largest, 1)
            parts.append(
                f"<g><title>{text(name)} {('before', 'after')[side]}: {exact(amount)}</title>"
                f'<rect class="{("before", "after")[side]}" x="{x}" y="{y + 2}" width="{width:.1f}" '
                f'height="{row_height - 4}"/><text x="{x + width + 4:.1f}" y="{y + 11}">{show(amount)}</text></g>'
            )
        parts.append("</g>")
    parts.append("</svg></figure>")
    return "".join(parts)
