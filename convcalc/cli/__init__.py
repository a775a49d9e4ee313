"""The command line: :mod:`convcalc.cli.app` builds the typer app from one module per command, each a thin layer over
the library (:mod:`convcalc.api` and the passes and renderers it calls).

The modules here evaluate their annotations when a function is defined (no ``from __future__ import annotations``):
typer reads every command's signature on every run, and annotations kept as strings would be compiled again each
time, 6% of a cold start (benchmarks/bench.py). Types that load only for the type checker are written in quotes.
"""
