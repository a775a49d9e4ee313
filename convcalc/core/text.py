"""Text from a spec or a command line, made safe to show: no terminal escapes, no formulas, no 20 KB echoes.

A spec's own text never holds a control character (the reader refuses one, see :func:`first_unsafe`), but a
file name, a ``--bottleneck`` value or a library caller's data can, so everything that echoes text passes it
through :func:`printable` (terminal, error messages, markdown, SVG) or :func:`csv_cell` (CSV).
"""

from __future__ import annotations

import re
from collections.abc import Callable

UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""Characters never shown as they are: C0 controls but tab and newline (ESC starts terminal escape sequences),
DEL, C1 controls (U+009B is a one-character CSI), and the marks and overrides that reorder text on screen."""
UNSAFE_ON_ONE_LINE = re.compile(f"{UNSAFE.pattern[:-1]}\t\n]")
"""The same and tab and newline: what an error message (one line, like a compiler's) escapes."""
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""A CSV cell starting with one of these is a formula to a spreadsheet (OWASP: CSV injection)."""
ECHO_LIMIT = 60
"""Characters of a value echoed in a message; the rest is elided with its length."""
WORD_LIMIT = 200
"""Characters of one word (a run without spaces: a value, a path) in a message."""
MESSAGE_LIMIT = 1_000
"""Characters of a whole message line, whatever it echoes."""


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return {9: "\\t", 10: "\\n", 13: "\\r"}.get(code) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def first_unsafe(text: str) -> int | None:
    """The offset of the first character :data:`UNSAFE` refuses in a spec's text, or None."""
    found = UNSAFE.search(text)
    return found.start() if found else None


def describe_character(character: str) -> str:
    """'U+001B' and how it is written in a YAML double-quoted string: '\\x1b'."""
    return f"U+{ord(character):04X} ('{UNSAFE_ON_ONE_LINE.sub(_escaped, character)}')"


def printable(text: str, *, one_line: bool = False) -> str:
    """The text with unsafe characters written as escapes (``\\x1b``); with ``one_line`` also tabs and newlines."""
    return (UNSAFE_ON_ONE_LINE if one_line else UNSAFE).sub(_escaped, text)


def clip(text: str, limit: int = ECHO_LIMIT) -> str:
    """At most about ``limit`` characters: the start and the end, and how many were left out between them."""
    if len(text) <= limit:
        return text
    head, tail = limit * 2 // 3, limit // 3
    return f"{text[:head]}...({len(text) - head - tail:,} characters)...{text[len(text) - tail :]}"


LONG_WORD = re.compile(f"[^ ]{{{WORD_LIMIT + 1},}}")


def message_line(text: str) -> str:
    """A message made safe to print: unsafe characters escaped, each long word (a value, a path) and the line
    clipped, so that a 20,000-character layer type does not give a 20 KB message."""
    line = LONG_WORD.sub(lambda match: clip(match.group(), WORD_LIMIT), printable(text, one_line=True))
    return clip(line, MESSAGE_LIMIT)


def csv_cell(value: object) -> object:
    """A CSV cell: numbers as they are; text escaped and, when a spreadsheet would run it, quoted with a ``'``."""
    if not isinstance(value, str):
        return value
    value = printable(value)
    return f"'{value}" if value.startswith(FORMULA_START) else value


FALLBACKS = {"·": "-", "…": "...", "█": "#", **dict.fromkeys("▏▎▍▌▋▊▉", "|")}
"""What the characters convcalc prints itself become where the terminal's encoding has no glyph for them."""
FALLBACK_ERRORS = "convcalc-fallback"


def _fallback(error: UnicodeError) -> tuple[str, int]:
    """A codec error handler: convcalc's own characters spelt in ASCII, anything else as a \\u escape."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    text = error.object[error.start : error.end]
    return "".join(FALLBACKS.get(c) or c.encode("ascii", "backslashreplace").decode() for c in text), error.end


def tolerate_encoding(*streams: object) -> None:
    """Let text streams in a legacy encoding (ASCII, Shift-JIS) print every character: never a UnicodeEncodeError."""
    import codecs
    import io

    codecs.register_error(FALLBACK_ERRORS, _fallback)
    for stream in streams:
        if isinstance(stream, io.TextIOWrapper) and codecs.lookup(stream.encoding).name != "utf-8":
            stream.reconfigure(errors=FALLBACK_ERRORS)


def first_free(base: str, taken: Callable[[str], bool], separator: str = "_") -> str:
    """``base``, else ``base_2``, ``base_3``... (with ``separator`` between): the first name not ``taken``."""
    name, number = base, 1
    while taken(name):
        number += 1
        name = f"{base}{separator}{number}"
    return name


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """'1 conv', '2 convs', '1 row', '0 rows': the count with its noun (``nouns`` where it is not noun + s)."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"
