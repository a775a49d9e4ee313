"""Notebook views: what Jupyter (and VS Code) show for an Analysis or a Comparison left at the end of a cell
(``_repr_html_``, attached by the library: convcalc/notebook.py).

The report's table as an HTML fragment: the network's totals (exact), its layers grouped by block or module as the
report groups them (groups as bold rows, their members indented under them), and its warnings; for a comparison, the
report's totals and aligned rows. Self-contained: an inline style sheet scoped to the fragment's class and no script
(notebooks drop the scripts of untrusted outputs). Readable in light and dark themes: text takes the page's colour,
and every tint is a translucent grey or hue over the page's own background. Every text from a spec is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from convcalc.engine.results import Analysis
from convcalc.passes.comparison import Comparison
from convcalc.passes.views import Group, Item, hierarchy
from convcalc.render.html_compare import layers_section, totals_section
from convcalc.render.html_report import HEADERS, cells, text
from convcalc.render.units import exact, human_bytes

NOTEBOOK_CSS = """
.convcalc { font-variant-numeric: tabular-nums; line-height: 1.35; }
.convcalc table { border-collapse: collapse; color: inherit; background: transparent; margin: .3em 0; }
.convcalc th, .convcalc td { padding: 2px 8px; text-align: left; color: inherit; background: transparent;
  border-bottom: 1px solid rgba(127, 127, 127, .25); }
.convcalc thead th, .convcalc .totals th { background: rgba(127, 127, 127, .16); }
.convcalc td.n, .convcalc th.n { text-align: right; }
.convcalc tbody tr.group td { background: rgba(127, 127, 127, .10); font-weight: 600; }
.convcalc tfoot td { font-weight: 700; border-top: 2px solid rgba(127, 127, 127, .6); }
.convcalc .h, .convcalc .sub { opacity: .72; }
.convcalc tr.added td { background: rgba(40, 170, 40, .18); }
.convcalc tr.removed td { background: rgba(210, 50, 50, .18); }
.convcalc tr.changed td { background: rgba(220, 160, 0, .18); }
.convcalc td.change { white-space: nowrap; } .convcalc td.first, .convcalc th.first { border-left: 2px solid
  rgba(127, 127, 127, .4); }
.convcalc h2 { font-size: 1.05em; margin: .7em 0 .2em; } .convcalc ul { margin: .2em 0; }
.convcalc .scroll { max-height: 36em; overflow: auto; }
"""


def fragment(parts: Sequence[str]) -> str:
    """The parts in one div of class ``convcalc``, with the notebook style sheet."""
    return f'<div class="convcalc"><style>{NOTEBOOK_CSS}</style>{"".join(parts)}</div>'


def analysis_html(analysis: Analysis) -> str:
    """An analysis as a notebook shows it: its totals, its grouped table and its warnings."""
    total = analysis.total
    shape = analysis.shapes_text
    summary = (
        f'<p><b>{text(analysis.name)}</b> <span class="sub">{escape(shape)} · batch {analysis.batch} · '
        f"{analysis.dtype}</span><br>params {exact(total.params)} · MACs {exact(total.macs)} · FLOPs "
        f"{exact(total.flops)} · weights {human_bytes(total.weight_bytes)} · peak activations "
        f"{human_bytes(total.peak_activation_bytes)}</p>"
    )
    head = "".join(f'<th class="{"n" if i > 2 else ""}">{h}</th>' for i, h in enumerate(HEADERS))
    rows: list[str] = []
    _rows(hierarchy(analysis.layers), 0, total.macs, rows)
    foot = (
        f'<tr><td>total</td><td></td><td></td><td class="n">{exact(total.params)}</td>'
        f'<td class="n">{exact(total.macs)}</td><td class="n">{exact(total.flops)}</td>'
        f'<td class="n">{human_bytes(total.activation_bytes)}</td><td class="n">100.0</td></tr>'
    )
    table = (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody>'
        f"<tfoot>{foot}</tfoot></table></div>"
    )
    warnings = "".join(f"<li><b>{text(w.layer)}</b>: {text(w.message)}</li>" for w in analysis.warnings)
    return fragment([summary, table, f"<ul>{warnings}</ul>" if warnings else ""])


def _rows(items: Sequence[Item], depth: int, total_macs: int, out: list[str]) -> None:
    """A row per group (bold, its members after it, indented) and per layer."""
    indent = f' style="padding-left:{0.5 + 1.2 * depth:.1f}em"'
    for item in items:
        if isinstance(item, Group):
            out.append(f'<tr class="group"><td{indent}>{text(item.name)}</td><td>{text(item.label)}</td>')
            out.append(cells(item.row, total_macs) + "</tr>")
            _rows(item.members, depth + 1, total_macs, out)
        else:
            out.append(f'<tr class="layer"><td{indent}>{text(item.name)}</td><td>{text(item.type)}</td>')
            out.append(cells(item, total_macs) + "</tr>")


def comparison_html(comparison: Comparison) -> str:
    """A comparison as a notebook shows it: the report's totals with differences and ratios, and its aligned rows."""
    before, after = comparison.before, comparison.after
    title = f"<p><b>{text(before.name)}</b> vs <b>{text(after.name)}</b></p>"
    return fragment([title, totals_section(comparison), f'<div class="scroll">{layers_section(comparison)}</div>'])
