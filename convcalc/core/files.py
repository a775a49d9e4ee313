"""Files convcalc reads: their failures as one located SpecError, never a traceback."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from convcalc.core.errors import SpecError


@contextmanager
def opened(path: str, what: str, *, regular: bool = False) -> Iterator[BinaryIO]:
    """A file opened to read, its failures as one SpecError (no such file, a folder, no permission). With
    ``regular``, anything but a regular file (a pipe, a device) is refused at once: opening a FIFO without
    O_NONBLOCK would wait for a writer."""
    try:
        descriptor = os.open(path, os.O_RDONLY | (os.O_NONBLOCK if regular else 0))
    except FileNotFoundError:
        raise SpecError(f"{path}: no such file") from None
    except OSError as error:
        raise SpecError(f"{path}: cannot read: {error.strerror or error}") from None
    mode = os.fstat(descriptor).st_mode
    if stat.S_ISDIR(mode) or (regular and not stat.S_ISREG(mode)):
        os.close(descriptor)
        if stat.S_ISDIR(mode):
            raise SpecError(f"{path}: is a directory, not {what}")
        raise SpecError(f"{path}: is {_kind(mode)}, not {what} in a file", hint="save it to a file first")
    with open(descriptor, "rb") as handle:
        try:
            yield handle
        except OSError as error:
            raise SpecError(f"{path}: cannot read: {error.strerror or error}") from None


def _kind(mode: int) -> str:
    """What a file that is not a regular one is, in words."""
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device"
