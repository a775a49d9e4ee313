"""`convcalc graph`: the dataflow graph as DOT or Mermaid."""

from typing import Annotated

import typer

from convcalc.cli.common import emit, load_analysis, spec_errors
from convcalc.cli.options import SPEC_HELP, DepthOption, ExpectOption, GraphFormat, InputOption, OutputFormat


def graph(
    spec: Annotated[str, typer.Argument(help=SPEC_HELP, show_default=False)],
    output: Annotated[
        GraphFormat, typer.Option("--format", "-f", help="dot (Graphviz) or mermaid (a flowchart).")
    ] = GraphFormat.dot,
    input_size: InputOption = None,
    expect: ExpectOption = None,
    depth: DepthOption = None,
) -> None:
    """The dataflow graph as text: layers with kind and cost, arrows with tensor shapes, blocks as clusters;
    with --depth N, one box per group N levels deep (the table's --depth rows)."""
    from convcalc.render.dataflow import diagram
    from convcalc.render.graph_text import to_dot, to_mermaid

    with spec_errors(OutputFormat.table, exact_numbers=False):
        analysis = load_analysis(spec, batch=1, dtype="float32", input_size=input_size, expect=expect)
    picture = diagram(analysis, depth)
    emit(to_dot(picture) if output is GraphFormat.dot else to_mermaid(picture))
