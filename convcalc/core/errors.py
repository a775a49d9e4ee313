"""Source locations and the one error type every bad input turns into."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from convcalc.core.text import message_line


class Location(NamedTuple):
    """A place in a spec file; line and column count from 1. (A tuple: cheap to make for every YAML node.)

    In a model file (ONNX) the place is a node: ``node`` is (its index in the graph's node list from 0, its name,
    its op type), and ``line`` is that index + 1 (JSON's ``line``: a position counted from 1).
    """

    file: str
    line: int
    column: int
    node: tuple[int, str, str] | None = None

    def __str__(self) -> str:
        return f"{self.file}: {self.place}" if self.node else f"{self.file}:{self.line}:{self.column}"

    @property
    def place(self) -> str:
        """Where in its file, in words: 'line 12', or a model file's "node 85 'name' (Conv)"."""
        if self.node is None:
            return f"line {self.line}"
        index, name, op = self.node
        return f"node {index} '{name}' ({op})" if name else f"node {index} ({op})"


class SpecError(Exception):
    """A problem with the user's spec: reported as one line naming file, line and layer (exit code 2).

    ``str()`` of it is safe to print: control characters escaped, long echoed values clipped.
    """

    def __init__(
        self,
        message: str,
        location: Location | None = None,
        *,
        layer: str | None = None,
        kind: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.layer = layer
        self.kind = kind
        self.hint = hint

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        node = self.location.node if self.location else None
        named = node is not None and self.layer in (node[1], node[2])
        who = f"layer '{self.layer}'" if self.layer and not named else ""  # a model file's node is named once
        if who and self.kind:
            who += f" ({self.kind})"
        if who:
            who += ": "
        return message_line(f"{where}error: {who}{self.message}")


class UnsizedInput(SpecError):
    """A model whose input has named sizes (an ONNX export with dynamic axes: [N, 3, H, W]): it is read once the
    input shape is given (``--input``, ``input_shape=``)."""


def nearest(word: Any, options: Iterable[str]) -> str | None:
    """A 'did you mean' hint for a misspelt key, type or name."""
    import difflib  # only when reporting an error

    if isinstance(word, (list, dict)):  # str() of an aliased structure could be astronomically long
        return None
    match = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f"did you mean '{match[0]}'?" if match else None
