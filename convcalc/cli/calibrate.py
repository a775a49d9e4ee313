"""`convcalc calibrate`: measure this machine into a device profile for `--device FILE` (convcalc.measure.calibrate)."""

import os
import sys
from enum import Enum
from typing import Annotated, Optional

import typer

from convcalc.cli.common import check_output_files, usage_error, write_file
from convcalc.core.text import message_line


class Backend(str, Enum):
    onnxruntime = "onnxruntime"
    numpy = "numpy"


def calibrate(
    output: Annotated[
        str,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write the profile to FILE ('-': standard output).",
            show_default=False,
        ),
    ],
    threads: Annotated[int, typer.Option(min=1, max=1024, help="Threads the measured kernels run on.")] = 1,
    backend: Annotated[
        Optional[Backend],  # noqa: UP045 - typer reads the annotation at run time
        typer.Option(
            help="onnxruntime: peak, bandwidth, efficiency per layer family and per-node overhead; numpy: peak and "
            "bandwidth only. Default: the first installed (pip install 'convcalc[latency]').",
            show_default=False,
        ),
    ] = None,
    name: Annotated[str, typer.Option(help="The profile's name, as estimates show it.")] = "this-machine",
) -> None:
    """Measure this machine (about a minute): a device profile that `analyze --device FILE` reads."""
    from convcalc.measure.calibrate import calibrate as measure
    from convcalc.measure.calibrate import choose_backend
    from convcalc.render.json_format import to_json

    check_output_files({"--output": output})
    folder = os.path.dirname(os.path.abspath(output))
    if output != "-" and not os.path.isdir(folder):  # before a minute of measuring, not after
        usage_error(f"--output {output}: no folder {folder} to write it in")
    try:
        chosen = choose_backend(backend and backend.value)
    except ValueError as error:
        usage_error(str(error))
    print(
        message_line(f"calibrating with {chosen} on {threads} thread(s); keep the machine otherwise idle"),
        file=sys.stderr,
    )
    profile = measure(threads, chosen, name, log=lambda line: print(message_line(line), file=sys.stderr))
    write_file("--output", output, to_json(profile.to_dict()), "device profile")
    load, cpus = profile.calibrated_with.get("load_average"), os.cpu_count() or 1
    if load is not None and load > cpus:  # more runnable processes than CPUs, this one included
        print(
            f"convcalc: warning: load average {load} on {cpus} CPUs: the measurement shared its CPUs with other "
            "processes; calibrate again on an idle machine for figures to rely on",
            file=sys.stderr,
        )
