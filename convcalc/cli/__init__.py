"""The command line: :mod:`convcalc.cli.app` builds the typer app from one module per command, each a thin layer over
the library (:mod:`convcalc.api` and the passes and renderers it calls)."""
