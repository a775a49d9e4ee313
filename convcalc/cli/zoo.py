"""`convcalc zoo`: the bundled networks."""

from typing import Annotated

import typer

from convcalc.cli.common import emit, spec_errors
from convcalc.cli.options import OutputFormat, TableOrJson, TableOrJsonOption, chosen_format, other_formats


def zoo(
    form: TableOrJsonOption = TableOrJson.table,
    exact_numbers: Annotated[bool, typer.Option("--exact", help="Exact integers instead of K/M/G.")] = False,
) -> None:
    """The bundled example networks: name, description, total parameters and MACs."""
    from convcalc.zoo import zoo_entries

    output = chosen_format(form)
    with spec_errors(output, exact_numbers):
        entries = zoo_entries()
    if output is OutputFormat.json:
        from convcalc.render.json_format import to_json

        emit(to_json({"specs": [entry.to_dict() for entry in entries]}) + "\n")
    else:
        from convcalc.render.table import render_zoo

        render_zoo(entries, exact_numbers=exact_numbers, formats=other_formats(TableOrJson))
