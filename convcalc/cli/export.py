"""`convcalc export`: the network as PyTorch code."""

from typing import Annotated

import typer

from convcalc.cli.common import emit, load_sized, spec_errors
from convcalc.cli.options import SPEC_HELP, ExportTarget, InputOption, OutputFormat


def export(
    spec: Annotated[str, typer.Argument(help=SPEC_HELP, show_default=False)],
    to: Annotated[
        ExportTarget, typer.Option("--to", help="What to write: a PyTorch nn.Module.")
    ] = ExportTarget.pytorch,
    input_size: InputOption = None,
) -> None:
    """Write the network as code: convcalc export SPEC --to pytorch > model.py (a self-contained nn.Module)."""
    from convcalc.export import to_pytorch

    with spec_errors(OutputFormat.table, exact_numbers=False):
        loaded, shape = load_sized(spec, input_size)
        source = to_pytorch(loaded, input_shape=shape)
    emit(source)
