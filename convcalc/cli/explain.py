"""`convcalc explain`: each layer's formulas, then with its numbers."""

from typing import TYPE_CHECKING, Annotated, Optional

import typer

from convcalc.cli.common import emit, load_analysis, spec_errors, usage_error
from convcalc.cli.options import (
    SPEC_HELP,
    ConventionOption,
    ExpectOption,
    InputOption,
    OutputFormat,
    TableOrJson,
    TableOrJsonOption,
    chosen_format,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from convcalc.engine.results import Analysis
    from convcalc.passes.explain import Explanation


def explain(
    spec: Annotated[str, typer.Argument(help=SPEC_HELP, show_default=False)],
    layers: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Argument(help="Layer names or patterns (conv*, layer2.*); all layers when none.", show_default=False),
    ] = None,
    form: TableOrJsonOption = TableOrJson.table,
    input_size: InputOption = None,
    expect: ExpectOption = None,
    convention: ConventionOption = None,
) -> None:
    """Each layer's output-size, params, MACs and FLOPs formulas, then the same with its numbers substituted."""
    from convcalc.passes.explain import explain_layer, select_layers

    output = chosen_format(form)
    with spec_errors(output, exact_numbers=False):
        analysis = load_analysis(spec, batch=1, dtype="float32", input_size=input_size, expect=expect)
    try:
        chosen = select_layers(analysis, layers or ())
    except ValueError as error:
        usage_error(str(error))
    explanations = [explain_layer(layer) for layer in chosen]
    if convention is not None:
        return explain_convention(explanations, analysis, convention, output)
    if output is OutputFormat.json:
        from convcalc.render.json_format import to_json

        emit(to_json({"name": analysis.name, "layers": [e.to_dict() for e in explanations]}) + "\n")
    else:
        from convcalc.render.explain_text import render_explanations

        emit(render_explanations(explanations))


def explain_convention(
    explanations: "Sequence[Explanation]", analysis: "Analysis", name: str, output: OutputFormat
) -> None:
    """`explain --convention NAME`: each explanation, then that tool's rule for the layer with its numbers."""
    from convcalc.passes.conventions.counting import convention
    from convcalc.render.conventions_text import explanations_json, explanations_text

    try:
        chosen = convention(name)
    except ValueError as error:
        usage_error(str(error))
    if output is OutputFormat.json:
        from convcalc.render.json_format import to_json

        print(to_json(explanations_json(explanations, analysis, chosen)))
    else:
        print(explanations_text(explanations, analysis, chosen), end="")
