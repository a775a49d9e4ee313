"""`convcalc report`: one self-contained HTML file with the totals, the table with collapsible blocks, bar
charts per layer, the graph, the warnings and each layer's `explain`.

Self-contained: CSS, script and pictures are inline, and a Content-Security-Policy forbids loading anything
else, so the file works offline and as an e-mail attachment. Every text from a spec is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from itertools import count
from typing import TYPE_CHECKING

from convcalc.core.tensor import format_shape
from convcalc.core.text import printable
from convcalc.engine.results import Analysis, LayerResult
from convcalc.passes.explain import explain_layer
from convcalc.passes.views import Group, Item, hierarchy, rows
from convcalc.render.dataflow import diagram, fitting_depth
from convcalc.render.explain_text import render_explanations
from convcalc.render.svg_graph import to_svg
from convcalc.render.units import exact, human_bytes, human_count, human_seconds

if TYPE_CHECKING:
    from convcalc.passes.latency import Latency

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
CSS = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
h1 { margin-bottom: 0; } .sub { color: #666; margin-top: .2em; }
table { border-collapse: collapse; } td, th { padding: 2px 8px; border-bottom: 1px solid #eee; }
th { text-align: left; background: #f4f4f4; } td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.group { background: #f7f9fc; font-weight: 600; } tr.explain pre { margin: 4px 0 8px; font-size: 12px; }
tfoot td { font-weight: 700; border-top: 2px solid #999; }
button { font: inherit; border: 0; background: none; cursor: pointer; padding: 0; color: #0645ad; text-align: left; }
button.toggle { width: 1.2em; color: #333; }
.warnings li { color: #8a4b00; } .charts { display: flex; flex-wrap: wrap; gap: 2em; }
.chart rect { fill: #4a7bd0; } .chart text { font-size: 11px; }
.chart rect.memory { fill: #d0804a; } .key { padding: 0 .4em; color: #fff; font-size: 12px; }
.key.compute { background: #4a7bd0; } .key.memory { background: #d0804a; }
.scroll { overflow: auto; max-height: 80vh; border: 1px solid #ddd; }
svg.graph rect { fill: #fff; stroke: #555; } svg.graph .io rect { fill: #eef3e2; }
svg.graph text { font: 11px Helvetica, Arial, sans-serif; text-anchor: middle; }
svg.graph text.sub { fill: #555; font-size: 10px; }
svg.graph text.shape { text-anchor: start; fill: #777; font-size: 9px; }
svg.graph .cluster rect { fill: #f5f7fb; fill-opacity: .6; stroke: #9aa6bd; stroke-dasharray: 4 3; }
svg.graph .cluster text { text-anchor: start; fill: #556; font-size: 10px; }
svg.graph path.edge { fill: none; stroke: #888; stroke-linejoin: round; }
svg.graph path.edge.skip { stroke: #c2571a; stroke-width: 1.5; }
"""
SCRIPT = """
function rows(parent) { return document.querySelectorAll('tr[data-parent="' + parent + '"]'); }
function collapse(id) {
  rows(id).forEach(function (row) {
    row.hidden = true;
    if (row.dataset.id) { collapse(row.dataset.id); }
    var toggle = row.querySelector('button.toggle');
    if (toggle) { toggle.setAttribute('aria-expanded', 'false'); toggle.textContent = '\\u25b8'; }
  });
}
function toggle(button) {
  var row = button.closest('tr'), open = button.getAttribute('aria-expanded') !== 'true';
  button.setAttribute('aria-expanded', String(open));
  button.textContent = open ? '\\u25be' : '\\u25b8';
  if (open) { rows(row.dataset.id).forEach(function (child) {
    if (!child.classList.contains('explain')) { child.hidden = false; } }); }
  else { collapse(row.dataset.id); }
}
document.addEventListener('click', function (event) {
  var button = event.target.closest('button');
  if (!button) { return; }
  if (button.classList.contains('toggle')) { toggle(button); }
  if (button.classList.contains('explain-toggle')) {
    var explain = rows(button.closest('tr').dataset.id)[0];
    explain.hidden = !explain.hidden;
  }
  if (button.id === 'expand-all') { document.querySelectorAll('tbody tr:not(.explain)').forEach(function (row) {
    row.hidden = false; var t = row.querySelector('button.toggle');
    if (t) { t.setAttribute('aria-expanded', 'true'); t.textContent = '\\u25be'; } }); }
  if (button.id === 'collapse-all') { collapse('top'); rows('top').forEach(function (row) { row.hidden = false; }); }
});
"""
HEADERS = ("layer", "type", "output", "params", "MACs", "FLOPs", "activations", "MACs %")


def text(value: str) -> str:
    """Spec text for HTML: control characters made visible (line breaks kept), then escaped."""
    return escape(printable(value))


GRAPH_BOXES = 80
"""Without --depth, the graph is drawn at the deepest depth with at most this many boxes (every layer if they fit)."""


def report_html(analysis: Analysis, depth: int | None = None, latency: Latency | None = None) -> str:
    """The whole report as one HTML document; with ``depth``, the charts and graph show the groups at that depth;
    with ``latency``, a chart of each layer's estimate and bound."""
    shape = analysis.shapes_text
    charted = rows(analysis.layers, depth) if depth is not None else analysis.layers
    charts = [bar_chart(title, charted, value, show) for title, value, show in CHARTED]
    return document(
        text(analysis.name),
        [
            f'<p class="sub">{escape(shape)} · batch {analysis.batch} · {analysis.dtype}</p>',
            totals_section(analysis),
            warnings_section(analysis),
            table_section(analysis),
            charts_section([*charts, *([latency_chart(analysis, latency)] if latency else [])]),
            graph_section(analysis, depth),
        ],
        script=SCRIPT,
    )


def graph_section(analysis: Analysis, depth: int | None) -> str:
    """The graph at ``depth``, or at the deepest depth that keeps it to GRAPH_BOXES boxes, and what it shows."""
    shown = depth if depth is not None else fitting_depth(analysis, GRAPH_BOXES)
    what = "every layer" if shown is None else f"depth {shown}: one box per group {shown} levels deep"
    choice = "" if depth is not None else " (<code>--depth N</code> chooses)"
    return (
        f'<section id="graph"><h2>Graph</h2><p class="sub">{what}{choice}; skip connections in colour, blocks '
        f'as dashed boxes</p><div class="scroll">{to_svg(diagram(analysis, shown))}</div></section>'
    )


def document(title: str, sections: Sequence[str], *, css: str = "", script: str = "") -> str:
    """An HTML page: ``title`` (HTML already) as its title and heading, then ``sections``; the CSP forbids loading
    anything, so CSS and script are inline (``css`` is added to the shared style sheet)."""
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
            f"<title>convcalc report: {title}</title><style>{CSS}{css}</style></head><body>",
            f"<h1>{title}</h1>",
            *sections,
            f"<script>{script}</script></body></html>" if script else "</body></html>",
        ]
    )


def totals_section(analysis: Analysis) -> str:
    total = analysis.total
    counts = (("params", total.params), ("buffers", total.buffers), ("MACs", total.macs), ("FLOPs", total.flops))
    sizes = (
        ("weights", total.weight_bytes),
        ("activations (all outputs)", total.activation_bytes),
        ("peak activations", total.peak_activation_bytes),
    )
    row = '<tr><th>{}</th><td class="n">{}</td><td class="n">{}</td></tr>'
    lines = [row.format(key, exact(value), human_count(value)) for key, value in counts]
    lines += [row.format(key, f"{exact(value)} B", human_bytes(value)) for key, value in sizes]
    return '<section id="totals"><h2>Totals</h2><table class="totals">' + "".join(lines) + "</table></section>"


def warnings_section(analysis: Analysis) -> str:
    if not analysis.warnings:
        return '<section id="warnings"><h2>Warnings</h2><p>none</p></section>'
    items = "".join(
        f"<li><b>{text(w.layer)}</b> ({text(w.location.place)}): {text(w.message)}</li>" for w in analysis.warnings
    )
    return f'<section id="warnings"><h2>Warnings</h2><ul class="warnings">{items}</ul></section>'


def cells(row: LayerResult, total_macs: int) -> str:
    """The numeric cells of a row: params exact, MACs and FLOPs as K/M/G (exact in the tooltip), memory."""
    share = f"{100 * row.macs / total_macs:.1f}" if total_macs and row.macs else ""
    params = exact(row.params) if row.params else ""
    parts = [f"<td>{format_shape(row.output_shape)}</td>", f'<td class="n">{params}</td>']
    for value in (row.macs, row.flops):
        parts.append(f'<td class="n" title="{exact(value)}">{human_count(value) if value else ""}</td>')
    parts.append(f'<td class="n">{human_bytes(row.activation_bytes)}</td><td class="n">{share}</td>')
    return "".join(parts)


def table_section(analysis: Analysis) -> str:
    head = "".join(f'<th class="{"n" if i > 2 else ""}">{h}</th>' for i, h in enumerate(HEADERS))
    rows: list[str] = []
    _item_rows(hierarchy(analysis.layers), "top", 0, analysis.total.macs, rows, count())
    total = analysis.total
    foot = (
        f'<tr><td>total</td><td></td><td></td><td class="n">{exact(total.params)}</td>'
        f'<td class="n">{human_count(total.macs)}</td><td class="n">{human_count(total.flops)}</td>'
        f'<td class="n">{human_bytes(total.activation_bytes)}</td><td class="n">100.0</td></tr>'
    )
    buttons = '<p><button id="expand-all">expand all</button> · <button id="collapse-all">collapse all</button></p>'
    return (
        f'<section id="layers"><h2>Layers</h2>{buttons}<table id="layer-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody><tfoot>{foot}</tfoot></table></section>"
    )


def _item_rows(
    items: Sequence[Item], parent: str, depth: int, total_macs: int, out: list[str], ids: count[int]
) -> None:
    """Rows for groups (with a toggle; their members follow, hidden) and layers (with an explain row)."""
    hidden = " hidden" if depth else ""
    indent = f' style="padding-left:{0.5 + 1.2 * depth:.1f}em"'
    for item in items:
        row_id = f"r{next(ids)}"
        attributes = f'data-id="{row_id}" data-parent="{parent}"{hidden}'
        if isinstance(item, Group):
            name = f'<button class="toggle" aria-expanded="false">&#9656;</button>{text(item.name)}'
            out.append(f'<tr class="group" {attributes}><td{indent}>{name}</td><td>{text(item.label)}</td>')
            out.append(cells(item.row, total_macs) + "</tr>")
            _item_rows(item.members, row_id, depth + 1, total_macs, out, ids)
            continue
        name = f'<button class="explain-toggle" title="explain">{text(item.name)}</button>'
        out.append(f'<tr class="layer" {attributes}><td{indent}>{name}</td><td>{text(item.type)}</td>')
        out.append(cells(item, total_macs) + "</tr>")
        explanation = render_explanations([explain_layer(item)])
        out.append(f'<tr class="explain" data-parent="{row_id}" hidden><td colspan="8"><pre>{text(explanation)}</pre>')
        out.append("</td></tr>")


CHARTED: tuple[tuple[str, Callable[[LayerResult], int], Callable[[int], str]], ...] = (
    ("MACs", lambda layer: layer.macs, human_count),
    ("params", lambda layer: layer.params, exact),
    ("activation memory", lambda layer: layer.activation_bytes, human_bytes),
)
"""What a report charts per layer (a network's page and a comparison's): the title, the value and how it is shown."""


def charts_section(charts: Sequence[str]) -> str:
    """The charts' section of a page."""
    return f'<section id="charts"><h2>Per layer</h2><div class="charts">{"".join(charts)}</div></section>'


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of a chart: the row's name, its amount (the bar's length), the text beside it, its tooltip and its
    class (a colour)."""

    name: str
    amount: float
    shown: str
    tip: str
    kind: str = ""


def bar_chart(
    title: str, layers: Sequence[LayerResult], value: Callable[[LayerResult], int], show: Callable[[int], str]
) -> str:
    """A horizontal bar per layer (or group row) with a value above zero, the largest full width."""
    return bars_svg(title, [Bar(row.name, value(row), show(value(row)), exact(value(row))) for row in layers])


def latency_chart(analysis: Analysis, latency: Latency) -> str:
    """Each layer's latency estimate on the device (layers fused into another node or free have none), coloured
    by its bound."""
    bars = []
    for layer in analysis.layers:
        estimate = latency.layers[layer.name]
        if estimate.estimate_s > 0:
            tip = (
                f"{human_seconds(estimate.estimate_s)}, {estimate.bound}-bound, {human_bytes(estimate.bytes)} moved, "
                f"{estimate.intensity:.1f} FLOP/B"
            )
            shown = f"{human_seconds(estimate.estimate_s)} {estimate.bound}"
            bars.append(Bar(layer.name, estimate.estimate_s, shown, tip, estimate.bound))
    legend = '<span class="key compute">compute-bound</span> <span class="key memory">memory-bound</span>'
    title = f"latency estimate on {latency.device.name}"
    return bars_svg(title, bars, f"<br>{legend}; an estimate from the counts, not a measurement")


def bars_svg(title: str, bars: Sequence[Bar], note: str = "") -> str:
    """A figure of horizontal bars, one per entry with an amount above zero, the largest full width."""
    shown = [bar for bar in bars if bar.amount > 0]
    largest = max((bar.amount for bar in shown), default=1)
    label_width, bar_width, row = 230, 260, 15
    height = row * len(shown) + 24
    parts = [
        f'<figure class="chart"><figcaption><b>{text(title)}</b>{note}</figcaption>'
        f'<svg width="{label_width + bar_width + 110}" height="{height}" role="img" aria-label="{text(title)}">'
    ]
    for index, bar in enumerate(shown):
        y = 4 + index * row
        short = bar.name if len(bar.name) <= 36 else "…" + bar.name[-35:]
        width = max(bar_width * bar.amount / largest, 1)
        kind = f' class="{bar.kind}"' if bar.kind else ""
        parts.append(
            f'<g><title>{text(bar.name)}: {text(bar.tip)}</title><text x="{label_width - 4}" y="{y + 11}" '
            f'text-anchor="end">{text(short)}</text><rect{kind} x="{label_width}" y="{y + 2}" width="{width:.1f}" '
            f'height="{row - 4}"/><text x="{label_width + width + 4:.1f}" y="{y + 11}">{text(bar.shown)}</text></g>'
        )
    parts.append("</svg></figure>")
    return "".join(parts)
