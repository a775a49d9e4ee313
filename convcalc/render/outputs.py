"""Files convcalc writes (``--svg``, ``--emit-spec``): never over an input, never two to one file, never half.

``-`` means standard output for every output option. A file is written to a temporary file in its folder and
renamed over the old one, so a failed write (disk full, a file-size limit) or a Ctrl-C leaves the old file as it was.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Mapping, Sequence
from typing import IO, NoReturn

from convcalc.core.errors import SpecError

STDOUT = "-"


def _identity(path: str) -> tuple[int, int] | None:
    """(device, inode) of the file a path names, following symlinks; None when there is none yet."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return info.st_dev, info.st_ino


def _stdin_identity() -> tuple[int, int] | None:
    """(device, inode) of what standard input reads: /dev/stdin and /proc/self/fd/0 name the same file."""
    try:
        info = os.fstat(sys.stdin.fileno())
    except (AttributeError, ValueError, OSError):  # closed, or not a real file (tests)
        return None
    return info.st_dev, info.st_ino


def _where(path: str) -> str:
    """The path a new file would get: symlinks and '..' resolved."""
    return os.path.realpath(path)


def check_outputs(outputs: Mapping[str, str | None], inputs: Sequence[str]) -> None:
    """Refuse an output that is an input (the same file by any name: a symlink, /dev/stdin, /proc/self/fd/0),
    two outputs to one file, or two to standard output. ``outputs`` maps an option (``--svg``) to its path;
    ``inputs`` are the spec files read ('-' for standard input). SpecError on a refusal."""
    seen: dict[object, str] = {}
    for option, path in outputs.items():
        if path is None:
            continue
        try:
            identity = None if path == STDOUT else _identity(path)
            key: object = STDOUT if path == STDOUT else identity or _where(path)
        except OSError as error:  # a symlink loop, a name too long, a folder that cannot be searched
            raise SpecError(f"{option} {path}: cannot write: {error.strerror}") from None
        if key in seen:
            where = "standard output" if path == STDOUT else "one file"
            raise SpecError(f"{seen[key]} and {option} both write to {where}; give each its own file")
        seen[key] = option
        if identity is None:
            continue
        for spec in inputs:
            spec_identity = _stdin_identity() if spec == STDOUT else _identity_or_none(spec)
            if identity == spec_identity:
                shown = "standard input" if spec == STDOUT else spec
                raise SpecError(f"{option} {path}: that is the input ({shown}); write to another file")


def _identity_or_none(path: str) -> tuple[int, int] | None:
    try:
        return _identity(path)
    except OSError:
        return None


def write_stream(stream: IO[str], text: str) -> None:
    """Write and flush; when the reader has gone (`| head -1`), stop quietly with exit code 0 as a table does."""
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        closed_pipe()


def closed_pipe() -> NoReturn:
    """End the run with exit code 0 after the reader of standard output went away, with nothing more written:
    standard output is pointed at /dev/null, so that Python's last flush at exit does not fail again."""
    with contextlib.suppress(AttributeError, ValueError, OSError):  # not a real file (tests)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    raise SystemExit(0)


def write_output(path: str, text: str, option: str) -> None:
    """Write text to standard output ('-') or, atomically, to a file; SpecError naming the option on failure."""
    if path == STDOUT:
        write_stream(sys.stdout, text)
        return
    try:
        _write_atomically(path, text.encode("utf-8"))
    except OSError as error:
        raise SpecError(f"{option} {path}: cannot write: {error.strerror or error}") from None


def _write_atomically(path: str, data: bytes) -> None:
    target = _where(path)  # through a symlink: the file it names is replaced, the link stays
    try:
        old = os.stat(target)
    except FileNotFoundError:
        old = None
    if old is not None and not stat.S_ISREG(old.st_mode):  # a device or a pipe: nothing to rename over
        with open(target, "wb") as handle:
            handle.write(data)
        return
    folder, name = os.path.split(target)
    temporary = os.path.join(folder, f".{name}.{os.getpid()}.tmp")
    try:
        with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        if old is not None:
            os.chmod(temporary, stat.S_IMODE(old.st_mode))
        os.replace(temporary, target)
    except FileExistsError:  # the temporary name is another process's file: not ours to remove
        raise
    except BaseException:  # a failure or Ctrl-C at any step (even between two): the temporary file goes, if made
        with contextlib.suppress(FileNotFoundError):  # already renamed over the target, or never made
            os.unlink(temporary)
        raise
