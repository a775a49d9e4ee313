"""What a run adds to an analysis (`--mode`): a training step, or a deployment (with patch-based inference).

One table, :data:`MODES`: each mode's name, the options it takes, the report it makes and where that report goes in
the JSON. The CLI, the renderers and the library read it; a new analysis of this sort (a report over a finished
:class:`~convcalc.engine.results.Analysis`) is one function and one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:
    from convcalc.engine.results import Analysis


class Report(Protocol):
    """A mode's result: its totals as JSON, and the analysis' JSON with them (and its per-layer values) attached."""

    def to_dict(self) -> dict[str, Any]: ...

    def attach(self, document: dict[str, Any]) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class ModeOptions:
    """The options a mode may read (None: not given, its default)."""

    optimizer: str | None = None
    precision: str | None = None
    patches: str | None = None
    split: str | None = None

    def given(self) -> set[str]:
        return {field.name for field in fields(self) if getattr(self, field.name) is not None}


def _training(analysis: Analysis, options: ModeOptions) -> Report:
    from convcalc.passes.training import training

    return training(analysis, options.optimizer or "sgd", options.precision or "fp32")


def _deployment(analysis: Analysis, options: ModeOptions) -> Report:
    from convcalc.passes.deploy import deployment

    plan = deployment(analysis, analysis.dtype)
    if options.patches is None:
        return plan
    from convcalc.passes.patches import parse_grid, patched

    try:
        return patched(analysis, plan, parse_grid(options.patches), options.split)
    except ValueError as error:
        raise ValueError(f"{analysis.name}: {error}") from None


class Mode(NamedTuple):
    """A mode: its name, its report's key in the JSON's totals, its title, the options it takes, how it runs."""

    name: str
    json_key: str
    title: str
    options: frozenset[str]
    run: Callable[[Analysis, ModeOptions], Report]


MODES: dict[str, Mode] = {
    mode.name: mode
    for mode in (
        Mode("train", "training", "training step", frozenset({"optimizer", "precision"}), _training),
        Mode("deploy", "deploy", "deployment", frozenset({"patches", "split"}), _deployment),
    )
}
"""Every mode besides plain inference, by its `--mode` name."""

OPTION_NEEDS = {
    "patches": "--patches runs a deployment's initial stage patch by patch: give --mode deploy too",
    "optimizer": "--optimizer and --precision describe a training step: give --mode train too",
    "precision": "--optimizer and --precision describe a training step: give --mode train too",
}
"""Why an option needs its mode (the message when it is given without it)."""


def check_options(mode: str, options: ModeOptions) -> None:
    """ValueError for an option the mode does not take, or --split without --patches, or a grid that is not one."""
    if options.split is not None and options.patches is None:
        raise ValueError("--split says where the patches end: give --patches too")
    taken = MODES[mode].options if mode in MODES else frozenset()
    for option in sorted(options.given() - taken, key=list(OPTION_NEEDS).index):
        raise ValueError(OPTION_NEEDS[option])
    if options.patches is not None:
        from convcalc.passes.patches import parse_grid

        parse_grid(options.patches)


def run_mode(analysis: Analysis, mode: str, options: ModeOptions) -> Report | None:
    """The report of ``mode`` over an analysis (None for 'inference'); ValueError for options it does not take or
    cannot meet (a split that does not work)."""
    check_options(mode, options)
    return MODES[mode].run(analysis, options) if mode in MODES else None
