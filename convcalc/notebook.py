"""The notebook views of the library's results: ``Analysis._repr_html_`` and ``Comparison._repr_html_``, which
Jupyter calls to show a result left at the end of a cell.

The engine and the passes render nothing, so the library attaches these to their classes (convcalc/__init__.py for
Analysis, :func:`convcalc.api.compare` and ``convcalc.Comparison`` for Comparison); the HTML is
:mod:`convcalc.render.notebook`'s, imported on first display.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from convcalc.engine.results import Analysis
    from convcalc.passes.comparison import Comparison


def analysis_html(analysis: Analysis) -> str:
    """The analysis' totals, grouped table and warnings as an HTML fragment (see :mod:`convcalc.render.notebook`)."""
    from convcalc.render.notebook import analysis_html as html

    return html(analysis)


def comparison_html(comparison: Comparison) -> str:
    """The comparison's totals and aligned rows as an HTML fragment."""
    from convcalc.render.notebook import comparison_html as html

    return html(comparison)
