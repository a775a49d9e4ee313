"""Writing a file the user named: never over an input, and never half-written (a temporary file in the same
folder, then renamed over the target in one step)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from convcalc.errors import SpecError


def same_file(path: str, other: str) -> bool:
    """Whether two paths name one file ('-', standard input, is no file)."""
    if "-" in (path, other):
        return False
    try:
        return Path(path).resolve() == Path(other).resolve() or (Path(path).exists() and Path(path).samefile(other))
    except OSError:
        return False


def write_text(path: str, text: str, *, inputs: Sequence[str] = (), what: str = "output") -> None:
    """Write ``text`` to ``path`` (UTF-8) unless it is one of ``inputs``; a SpecError on a refusal or an
    OSError on a failure, leaving any existing file as it was."""
    for source in inputs:
        if same_file(path, source):
            raise SpecError(f"{path}: that is the input spec; write the {what} to another file")
    target = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, _mode(target))
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _mode(target: Path) -> int:
    """The permissions the file gets: an existing file's own, else what the umask gives a new file."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask
