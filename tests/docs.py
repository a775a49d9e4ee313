"""The documentation as tests read it: README.md and the pages of the MkDocs site under docs/.

A page is named by its path under docs/ (``"how-to/compare.md"``), or ``"README.md"``.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import REPO

DOCS = REPO / "docs"
README = "README.md"

FENCE = re.compile(r"^( *)(```+)(.*)$")


def path_of(name: str) -> Path:
    return REPO / README if name == README else DOCS / name


def page(name: str) -> str:
    """A page's text."""
    return path_of(name).read_text(encoding="utf-8")


def page_names() -> list[str]:
    """README and every page of the site."""
    return [README, *sorted(path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md"))]


def section(name: str, heading: str) -> str:
    """The text of a page from the heading that starts with ``heading`` (``"## Errors"``) to the next heading of the
    same or a higher level (fenced blocks, whose lines may start with ``#``, do not end it)."""
    level = len(heading) - len(heading.lstrip("#"))
    lines = page(name).splitlines(keepends=True)
    start = next(index for index, line in enumerate(lines) if line.startswith(heading))
    fenced = False
    for end in range(start + 1, len(lines)):
        fenced ^= bool(FENCE.match(lines[end]))
        hashes = len(lines[end]) - len(lines[end].lstrip("#"))
        if not fenced and 0 < hashes <= level and lines[end][hashes : hashes + 1] == " ":
            return "".join(lines[start:end])
    return "".join(lines[start:])


def block_after(name: str, marker: str) -> list[str]:
    """The lines of the first fenced block that starts after ``marker`` in a page."""
    text = page(name)
    start = text.index("```", text.index(marker)) + 3
    start = text.index("\n", start) + 1
    return text[start : text.index("```", start)].splitlines()


def fenced_blocks(text: str) -> list[tuple[str, list[str]]]:
    """Every fenced block of a text: its info string (``bash``, ``yaml``, or empty) and its lines, the fence's
    indentation removed."""
    blocks: list[tuple[str, list[str]]] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        index += 1
        if not opening:
            continue
        indent, fence, info = opening.groups()
        body: list[str] = []
        while index < len(lines) and lines[index].strip() != fence:
            body.append(lines[index][len(indent) :] if lines[index].startswith(indent) else lines[index])
            index += 1
        index += 1
        blocks.append((info.strip(), body))
    return blocks
