"""`convcalc graph`: the dataflow diagram as Graphviz DOT or as a Mermaid flowchart.

Every name and label is written as a quoted string, escaped for its format, so that no spec text (quotes,
backslashes, braces, control characters) can end a string early or turn into syntax: identifiers are
convcalc's own (``n0``, ``c0``), never a layer's name.
"""

from __future__ import annotations

from convcalc.core.text import printable
from convcalc.render.dataflow import Cluster, Diagram

MERMAID_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _.,:()+-*/=%")
"""Characters a Mermaid label shows as written; every other one is written as an entity code (``#35;``)."""


def visible(text: str) -> str:
    """One line of a picture: control characters, line breaks and text-reordering marks written out as escapes
    (``\\x07``), so that the picture shows them."""
    return printable(text, one_line=True)


def dot_string(text: str) -> str:
    """A DOT quoted string showing ``text`` literally: control characters made visible, then backslashes and
    quotes escaped (a backslash would otherwise start a Graphviz escape such as ``\\N``)."""
    return '"' + visible(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot_label(lines: tuple[str, ...] | list[str]) -> str:
    """Lines of text as one DOT label, each line centred (``\\n`` between them)."""
    return "\\n".join(dot_string(line)[1:-1] for line in lines).join('""')


def to_dot(diagram: Diagram) -> str:
    """A ``digraph``: boxes, clusters as ``subgraph cluster_*`` and arrows labelled with tensor shapes."""
    lines = [
        "digraph convcalc {",
        f"  graph [label={dot_string(diagram.title)}, labelloc=t, fontname=Helvetica, rankdir=TB];",
        "  node [shape=box, style=rounded, fontname=Helvetica, fontsize=10];",
        "  edge [fontname=Helvetica, fontsize=9];",
    ]
    boxes = {box.id: box for box in diagram.boxes}

    def emit(members: tuple[str | Cluster, ...], indent: str) -> None:
        for member in members:
            if isinstance(member, Cluster):
                lines.append(f"{indent}subgraph cluster_{member.id} {{")
                lines.append(f"{indent}  label={dot_string(member.title)}; style=dashed; fontsize=10;")
                emit(member.members, indent + "  ")
                lines.append(f"{indent}}}")
            else:
                box = boxes[member]
                shape = ", shape=ellipse" if box.layer is None else ""
                lines.append(f"{indent}{box.id} [label={dot_label(box.lines)}{shape}];")

    emit(diagram.clusters, "  ")
    lines.extend(f"  {a.source} -> {a.target} [label={dot_string(a.label)}];" for a in diagram.arrows)
    lines.append("}")
    return "\n".join(lines) + "\n"


def mermaid_text(text: str) -> str:
    """Text for inside a Mermaid quoted label: control characters shown as ``\\x07`` (as in DOT), then anything
    but plain characters as a decimal entity (``#34;``)."""
    return "".join(char if char in MERMAID_PLAIN else f"#{ord(char)};" for char in visible(text))


def to_mermaid(diagram: Diagram) -> str:
    """A ``flowchart TB``: boxes, clusters as ``subgraph``, arrows labelled with tensor shapes."""
    lines = ["---", f"title: {_mermaid_title(diagram.title)}", "---", "flowchart TB"]
    boxes = {box.id: box for box in diagram.boxes}

    def emit(members: tuple[str | Cluster, ...], indent: str) -> None:
        for member in members:
            if isinstance(member, Cluster):
                lines.append(f'{indent}subgraph {member.id} ["{mermaid_text(member.title)}"]')
                emit(member.members, indent + "  ")
                lines.append(f"{indent}end")
            else:
                box = boxes[member]
                label = "<br/>".join(mermaid_text(line) for line in box.lines)
                left, right = ("([", "])") if box.layer is None else ("[", "]")
                lines.append(f'{indent}{box.id}{left}"{label}"{right}')

    emit(diagram.clusters, "  ")
    lines.extend(f'  {a.source} -->|"{mermaid_text(a.label)}"| {a.target}' for a in diagram.arrows)
    return "\n".join(lines) + "\n"


def _mermaid_title(title: str) -> str:
    """The front matter's title as a YAML double-quoted string (every character outside printable ASCII,
    and quotes and backslashes, as a ``\\uXXXX`` escape)."""
    return '"' + "".join(c if " " <= c <= "~" and c not in '"\\' else _yaml_escape(c) for c in title) + '"'


def _yaml_escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
