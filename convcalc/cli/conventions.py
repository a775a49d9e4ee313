"""`convcalc conventions`: one row per counting tool."""

from typing import Annotated

import typer

from convcalc.cli.common import load_analysis, spec_errors
from convcalc.cli.options import (
    SPEC_HELP,
    BatchOption,
    ExpectOption,
    InputOption,
    OutputFormat,
    TableOrJson,
    TableOrJsonOption,
    chosen_format,
    other_formats,
)


def conventions(
    spec: Annotated[str, typer.Argument(help=SPEC_HELP, show_default=False)],
    form: TableOrJsonOption = TableOrJson.table,
    exact_numbers: Annotated[bool, typer.Option("--exact", help="Exact integers instead of K/M/G.")] = False,
    batch: BatchOption = 1,
    input_size: InputOption = None,
    expect: ExpectOption = None,
) -> None:
    """One row per counting tool (fvcore, ptflops, thop, ...): its count and how it differs from convcalc's."""
    from convcalc.render.conventions_text import conventions_json, conventions_view

    output = chosen_format(form)
    with spec_errors(output, exact_numbers):
        analysis = load_analysis(spec, batch=batch, dtype="float32", input_size=input_size, expect=expect)
    if output is OutputFormat.json:
        from convcalc.render.json_format import to_json

        print(to_json(conventions_json(analysis)))
    else:
        from convcalc.render.table import print_view

        print_view(conventions_view(analysis, exact_numbers=exact_numbers), formats=other_formats(TableOrJson))
