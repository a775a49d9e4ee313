"""Files convcalc reads: their failures as one located SpecError, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from convcalc.core.errors import SpecError


@contextmanager
def opened(path: str, what: str) -> Iterator[BinaryIO]:
    """A file opened to read, its failures as one SpecError (no such file, a folder, no permission)."""
    try:
        with open(path, "rb") as handle:
            yield handle
    except FileNotFoundError:
        raise SpecError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SpecError(f"{path}: is a directory, not {what}") from None
    except OSError as error:
        raise SpecError(f"{path}: cannot read: {error.strerror or error}") from None
