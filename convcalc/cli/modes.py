"""`--mode train/deploy` on the command line: the options as :class:`~convcalc.passes.modes.ModeOptions`, and what
the passes refuse as a usage error (which options combine is the passes' rule, :mod:`convcalc.passes.modes`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.cli.common import require_format, usage_error
from convcalc.cli.options import Mode, Optimizer, OutputFormat, Precision, TableOrJson
from convcalc.passes.modes import ModeOptions, Report, check_options, run_mode

if TYPE_CHECKING:
    from convcalc.engine.results import Analysis


def check_mode(output: OutputFormat, depth: int | None, convention: str | None = None) -> None:
    """--mode train/deploy print a table with their totals, or JSON; per layer, so without --depth; in convcalc's
    own counts, so without --convention."""
    require_format(output, "--mode train/deploy", TableOrJson)
    if depth is not None:
        usage_error("--mode train/deploy reports every layer: leave out --depth")
    if convention is not None:
        usage_error("--mode train/deploy count in convcalc's own convention: leave out --convention")


def mode_options(
    mode: Mode, optimizer: Optimizer | None, precision: Precision | None, patches: str | None, split: str | None
) -> ModeOptions:
    """The mode's options, checked before anything is read (a wrong combination is a usage error)."""
    options = ModeOptions(optimizer and optimizer.value, precision and precision.value, patches, split)
    try:
        check_options(mode.value, options)
    except ValueError as error:
        usage_error(str(error))
    return options


def mode_report(analysis: Analysis, mode: Mode, options: ModeOptions) -> Report | None:
    """The training step or deployment of ``--mode`` (None for inference)."""
    try:
        return run_mode(analysis, mode.value, options)
    except ValueError as error:
        usage_error(str(error))
