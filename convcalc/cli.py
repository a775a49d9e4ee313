"""The command line: a thin layer over the library API. Exit codes: 0 ok, 2 bad spec or usage, 1 unexpected."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from typing import Annotated, NoReturn

import typer

from convcalc import __version__
from convcalc.errors import SpecError

app = typer.Typer(
    name="convcalc",
    help="Exact shapes, parameters, MACs, FLOPs and memory of a CNN from a YAML layer spec.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

SPEC_HELP = "Spec file, '-' for standard input, or the name of a bundled spec (see specs/)."


class OutputFormat(str, Enum):
    table = "table"
    json = "json"


class Dtype(str, Enum):
    float32 = "float32"
    float16 = "float16"
    bfloat16 = "bfloat16"
    int8 = "int8"
    float64 = "float64"


class _State:
    debug = False


def _version(value: bool) -> None:
    if value:
        print(f"convcalc {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    debug: Annotated[bool, typer.Option("--debug", help="Show a traceback for unexpected errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    _State.debug = debug


def fail(error: SpecError) -> NoReturn:
    """One line naming file, line and layer (plus a hint), exit code 2."""
    message = str(error) if error.location else f"convcalc: {error}"
    print(message, file=sys.stderr)
    if error.hint:
        print(f"  hint: {error.hint}", file=sys.stderr)
    raise typer.Exit(2)


@contextmanager
def spec_errors(output: OutputFormat, exact_numbers: bool) -> Iterator[None]:
    """Turn a SpecError into its message; a failed run shows the layers that did work first."""
    from convcalc.engine import AnalysisError

    try:
        yield
    except AnalysisError as error:
        if output is OutputFormat.json:
            from convcalc.render.json_format import error_json

            print(error_json(error))
        elif error.partial:
            from convcalc.render.table import layer_table, make_console

            make_console(sys.stderr).print(
                layer_table(error.partial, exact_numbers=exact_numbers, title="layers before the error")
            )
        fail(error)
    except SpecError as error:
        if output is OutputFormat.json:
            from convcalc.render.json_format import error_json

            print(error_json(error))
        fail(error)


@app.command()
def analyze(
    spec: Annotated[str, typer.Argument(help=SPEC_HELP, show_default=False)],
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.table,
    exact_numbers: Annotated[bool, typer.Option("--exact", help="Exact integers instead of K/M/G.")] = False,
    batch: Annotated[int, typer.Option(min=1, help="Batch size (scales MACs, FLOPs, activations).")] = 1,
    dtype: Annotated[Dtype, typer.Option(help="Element type for memory.")] = Dtype.float32,
) -> None:
    """Per-layer output shape, parameters, MACs, FLOPs and memory, with totals."""
    from convcalc.api import analyze as run_analysis

    with spec_errors(output, exact_numbers):
        analysis = run_analysis(spec, batch=batch, dtype=dtype.value)
    if output is OutputFormat.json:
        from convcalc.render.json_format import to_json

        print(to_json(analysis.to_dict()))
    else:
        from convcalc.render.table import render_analysis

        render_analysis(analysis, exact_numbers=exact_numbers)


@app.command()
def zoo(
    output: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.table,
    exact_numbers: Annotated[bool, typer.Option("--exact", help="Exact integers instead of K/M/G.")] = False,
) -> None:
    """The bundled example networks: name, description, total parameters and MACs."""
    from convcalc.zoo import zoo_entries

    with spec_errors(output, exact_numbers):
        entries = zoo_entries()
    if output is OutputFormat.json:
        from convcalc.render.json_format import to_json

        print(to_json({"specs": [entry.to_dict() for entry in entries]}))
    else:
        from convcalc.render.table import render_zoo

        render_zoo(entries, exact_numbers=exact_numbers)


def main() -> None:
    """Entry point: never a traceback for the user (unless --debug)."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:  # e.g. `convcalc analyze ... | head`
        sys.stderr.close()
        sys.exit(0)
    except Exception as error:  # anything unexpected: one line, exit 1
        if _State.debug:
            raise
        print(
            f"convcalc: internal error: {type(error).__name__}: {error} (run with --debug for details)", file=sys.stderr
        )
        sys.exit(1)
