"""The command line: a thin layer over the library API, one module per command. Exit codes: 0 ok, 2 bad spec or
usage, 1 unexpected, 130 interrupted."""

import gc
import sys
from typing import Annotated

import typer

from convcalc.cli import (
    analyze,
    calibrate,
    compare,
    conventions,
    devices,
    explain,
    export,
    graph,
    import_model,
    report,
    schema,
    sweep,
    zoo,
)
from convcalc.cli.common import State
from convcalc.cli.typos import SuggestingCommand
from convcalc.core.text import message_line, tolerate_encoding
from convcalc.core.version import __version__

app = typer.Typer(
    name="convcalc",
    help="Exact shapes, parameters, MACs, FLOPs and memory of a CNN from a YAML layer spec.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

COMMANDS = (
    (analyze.analyze, "analyze"),
    (explain.explain, "explain"),
    (conventions.conventions, "conventions"),
    (zoo.zoo, "zoo"),
    (compare.compare, "compare"),
    (sweep.sweep, "sweep"),
    (graph.graph, "graph"),
    (report.report, "report"),
    (import_model.import_model, "import"),
    (export.export, "export"),
    (schema.schema, "schema"),
    (devices.devices, "devices"),
    (calibrate.calibrate, "calibrate"),
)
"""Every command, in the order --help lists them: its function and its name."""
for command, name in COMMANDS:
    app.command(name, cls=SuggestingCommand)(command)


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
    State.debug = debug


def entry() -> None:
    """The installed `convcalc` command (and ``python -m convcalc``): :func:`main` in a process that ends with it.

    A run makes many objects and no garbage cycles worth collecting, so the collector stays off: 2% of a cold start
    (benchmarks/bench.py). :func:`main` itself leaves the collector alone, for callers that go on (the tests).
    """
    gc.disable()
    main()


def main() -> None:
    """Entry point: never a traceback for the user (unless --debug). Exit codes: 0 ok, 2 bad input or usage, 1
    unexpected, 130 interrupted."""
    tolerate_encoding(sys.stdout, sys.stderr)
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:  # e.g. `convcalc analyze ... | head`
        sys.stderr.close()
        sys.exit(0)
    except Exception as error:  # anything unexpected: one line, exit 1
        if State.debug:
            raise
        print(
            message_line(f"convcalc: internal error: {type(error).__name__}: {error} (run with --debug for details)"),
            file=sys.stderr,
        )
        sys.exit(1)
