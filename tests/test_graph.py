"""`convcalc graph`: DOT that Graphviz's `dot` reads, Mermaid that follows the flowchart grammar, names escaped."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from convcalc.render.graph_text import visible
from tests.conftest import run_cli
from tests.tiny_spec import TINY

# 1 + 2 * 2 + 2 + 2 * 2 + 1 = 12 layers, plus the input and output boxes; arrows: one per input read (the add reads
# two) plus the arrow to the output box: 12 + 1 + 1 = 14. Clusters: stage, stage.0, stage.1, res, res.body, the
# run unit1..unit2 and unit1, unit2 = 8.
TINY_BOXES, TINY_ARROWS, TINY_CLUSTERS = 12 + 2, 14, 8

HOSTILE_NAMES = ['a"b\\c{d}#35;<br/>', 'in"ner', "-->|x|", "x];n9[y"]
"""The layers' names; the block instance between them is named 'end', a keyword of Mermaid's grammar. (Control
characters never get this far: the reader refuses them, see tests/test_hostile.py.)"""
HOSTILE = """\
name: "evil \\"title\\" \\\\N <b>x</b> end"
input: [3, 8, 8]
blocks:
  b-lk:
    layers:
      - {type: relu, name: "in\\"ner"}
layers:
  - {type: conv, name: "a\\"b\\\\c{d}#35;<br/>", filters: 4, kernel: 1}
  - {block: b-lk, name: "end"}
  - {type: relu, name: "-->|x|"}
  - {type: relu, name: "x];n9[y"}
"""

DOT = shutil.which("dot")
needs_dot = pytest.mark.skipif(
    DOT is None, reason="Graphviz's `dot` is not installed (apt-get install graphviz): DOT output not rendered"
)


def graph_text(path: Path | str, form: str) -> str:
    result = run_cli("graph", str(path), "--format", form)
    assert result.code == 0, result.stderr
    return result.stdout


def run_dot(text: str, form: str) -> subprocess.CompletedProcess[str]:
    assert DOT is not None
    result = subprocess.run([DOT, f"-T{form}"], input=text, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and not result.stderr, result.stderr
    return result


@needs_dot
def test_dot_is_rendered_by_graphviz(write_spec):
    layout = json.loads(run_dot(graph_text(write_spec(TINY), "dot"), "json").stdout)
    objects = layout["objects"]
    boxes = [o for o in objects if not o["name"].startswith("cluster")]
    clusters = [o for o in objects if o["name"].startswith("cluster")]
    assert (len(boxes), len(layout["edges"]), len(clusters)) == (TINY_BOXES, TINY_ARROWS, TINY_CLUSTERS)
    labels = {o["label"] for o in boxes}
    # the stem: 1x1 conv 3 -> 4 is 3 * 4 = 12 params, 8 * 8 * 4 * 3 = 768 MACs; each 3x3 conv 4 -> 4 is 144 params
    assert "stem\\nconv · 12 params · 768 MACs" in labels and "input\\n3x8x8" in labels
    assert "conv\\nconv · 144 params · 9.22K MACs" in labels  # 8 * 8 * 4 * 3 * 3 * 4 = 9,216
    assert {e["label"] for e in layout["edges"]} == {"3x8x8", "4x8x8", "4x1x1"}
    assert {o["label"] for o in clusters} >= {"stage: unit x2", "stage.0: unit", "res.body: path"}


@needs_dot
def test_every_bundled_network_renders():
    for name in ("resnet50", "googlenet", "unet"):
        svg = run_dot(graph_text(name, "dot"), "svg").stdout
        assert svg.count('class="node"') == len(json.loads(run_cli("analyze", name, "-f", "json").stdout)["layers"]) + 2


@needs_dot
def test_dot_escapes_names(write_spec):
    layout = json.loads(run_dot(graph_text(write_spec(HOSTILE), "dot"), "json").stdout)
    assert len(layout["objects"]) == 4 + 2 + 1  # the layers, input and output, the block's cluster
    assert [o["label"] for o in layout["objects"] if o["name"].startswith("cluster")] == ["end: b-lk"]
    assert visible(layout["label"].replace("\\\\", "\\")) == visible('evil "title" \\N <b>x</b> end')
    first_lines = {o["label"].split("\\n")[0].replace("\\\\", "\\") for o in layout["objects"] if "label" in o}
    for name in HOSTILE_NAMES:
        assert visible(name) in first_lines, name


# --- Mermaid ------------------------------------------------------------------------------------------------------
# The subset of the flowchart grammar convcalc writes, as rules (after a front matter block with the title):
#   document  := "flowchart TB" NL (INDENT statement NL)*
#   statement := node | subgraph | "end" | edge
#   node      := ID '["' text '"]' | ID '(["' text '"])'
#   subgraph  := "subgraph " ID ' ["' text '"]'
#   edge      := ID ' -->|"' text '"| ' ID
#   ID        := [A-Za-z][A-Za-z0-9_]*, not a keyword of the grammar
#   text      := (plain | entity | "<br/>")*   plain: [A-Za-z0-9 _.,:()+*/=%-]   entity: "#" digits ";"
# and: every subgraph is closed by an "end", identifiers are declared once, edges join declared boxes.
KEYWORDS = {"end", "subgraph", "graph", "flowchart", "style", "class", "classDef", "click", "linkStyle", "direction"}
ID = r"[A-Za-z][A-Za-z0-9_]*"
TEXT = r"(?:[A-Za-z0-9 _.,:()+*/=%-]|#\d+;|<br/>)*"
RULES = {
    "node": re.compile(rf'(?P<id>{ID})(?:\["(?P<text>{TEXT})"\]|\(\["(?P<text2>{TEXT})"\]\))'),
    "subgraph": re.compile(rf'subgraph (?P<id>{ID}) \["(?P<text>{TEXT})"\]'),
    "end": re.compile("end"),
    "edge": re.compile(rf'(?P<source>{ID}) -->\|"(?P<text>{TEXT})"\| (?P<target>{ID})'),
}


@dataclass
class Flowchart:
    boxes: dict[str, str] = field(default_factory=dict)
    subgraphs: dict[str, str] = field(default_factory=dict)
    edges: list[tuple[str, str, str]] = field(default_factory=list)


def decode(text: str) -> str:
    return re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), text.replace("<br/>", "\n"))


def parse_flowchart(text: str) -> Flowchart:
    lines = text.splitlines()
    assert lines[0] == "---" and lines[1].startswith("title: ") and lines[2] == "---"
    assert lines[3] == "flowchart TB"
    chart, depth = Flowchart(), 0
    for number, line in enumerate(lines[4:], 5):
        statement = line.strip()
        kind, match = next(
            ((k, r.fullmatch(statement)) for k, r in RULES.items() if r.fullmatch(statement)), ("", None)
        )
        assert match is not None, f"line {number} is outside the grammar: {line!r}"
        if kind == "end":
            depth -= 1
            assert depth >= 0, f"line {number}: 'end' without a subgraph"
            continue
        if kind == "edge":
            chart.edges.append((match["source"], match["target"], decode(match["text"])))
            continue
        assert match["id"] not in KEYWORDS and match["id"] not in chart.boxes | chart.subgraphs, line
        if kind == "subgraph":
            depth += 1
            chart.subgraphs[match["id"]] = decode(match["text"])
        else:
            chart.boxes[match["id"]] = decode(match["text"] or match["text2"])
    assert depth == 0, "a subgraph is not closed"
    assert all(source in chart.boxes and target in chart.boxes for source, target, _ in chart.edges)
    return chart


def test_mermaid_follows_the_flowchart_grammar(write_spec):
    chart = parse_flowchart(graph_text(write_spec(TINY), "mermaid"))
    assert (len(chart.boxes), len(chart.edges), len(chart.subgraphs)) == (TINY_BOXES, TINY_ARROWS, TINY_CLUSTERS)
    assert "stem\nconv · 12 params · 768 MACs" in chart.boxes.values()
    assert {label for _, _, label in chart.edges} == {"3x8x8", "4x8x8", "4x1x1"}
    for name in ("resnet50", "googlenet", "mobilenet_v2"):
        parse_flowchart(graph_text(name, "mermaid"))


def test_mermaid_escapes_names(write_spec):
    text = graph_text(write_spec(HOSTILE), "mermaid")
    assert "\\u0022title\\u0022" in text.splitlines()[1]  # the front matter's YAML string
    chart = parse_flowchart(text)
    first_lines = {label.split("\n")[0] for label in chart.boxes.values()}
    for name in HOSTILE_NAMES:
        assert visible(name) in first_lines, name
    assert len(chart.boxes) == 4 + 2 and list(chart.subgraphs.values()) == ["end: b-lk"]


def test_graph_refuses_an_unknown_format(write_spec):
    result = run_cli("graph", str(write_spec(TINY)), "--format", "png")
    assert result.code == 2


# --- --depth --------------------------------------------------------------------------------------------------------
# TINY by hand. Depth 1: stem, stage (unit x2), res (the residual), the run unit1..unit2, pool = 5 boxes (+ input and
# output), each reading the one before: 6 arrows, no clusters. Depth 2: stem, stage.0, stage.1, res.body, res (the
# add), the run's unit1.conv, unit1.relu1, unit2.conv, unit2.relu1 (the run is no naming level: unit1 is at level 1),
# pool = 10 boxes (+ 2) in 5 clusters (stage, res, the run, unit1, unit2); arrows: input->stem->stage.0->stage.1,
# stage.1 -> res.body and -> res (the skip), res.body -> res, then a chain of 6 to the output = 12.
TINY_AT_DEPTH = {1: (5 + 2, 6, 0), 2: (10 + 2, 12, 5)}


@pytest.mark.parametrize("depth", sorted(TINY_AT_DEPTH))
def test_depth_collapses_groups_into_boxes(write_spec, depth):
    result = run_cli("graph", str(write_spec(TINY)), "--format", "mermaid", "--depth", str(depth))
    assert result.code == 0, result.stderr
    chart = parse_flowchart(result.stdout)
    assert (len(chart.boxes), len(chart.edges), len(chart.subgraphs)) == TINY_AT_DEPTH[depth]
    names = {label.split("\n")[0] for label in chart.boxes.values()}
    if depth == 1:
        assert names == {"input", "stem", "stage", "res", "unit1..unit2", "pool", "output"}
        edges = {(chart.boxes[s].split("\n")[0], chart.boxes[t].split("\n")[0]) for s, t, _ in chart.edges}
        assert ("stem", "stage") in edges and ("res", "unit1..unit2") in edges


def test_depth_gives_resnet50_one_box_per_bottleneck():
    # ResNet-50 (He et al. 2016, table 1): stem conv, bn, relu, maxpool; 3 + 4 + 6 + 3 = 16 bottlenecks; avgpool, fc.
    result = run_cli("graph", "resnet50", "--depth", "2")
    assert result.code == 0, result.stderr
    boxes = re.findall(r"^\s*n\d+ \[label=", result.stdout, re.M)
    assert len(boxes) == 4 + 16 + 2 + 2  # and the input and output boxes
    assert result.stdout.count("subgraph cluster_") == 4  # layer1 .. layer4


def test_no_box_is_named_by_a_bare_copy_number():
    # a shortcut's conv and batch norm are one-copy repeats (conv.0, bn.0): their boxes say so, not "0"
    labels = re.findall(r'^\s*n\d+ \[label="([^"]*)"', graph_text("resnet50", "dot"), re.M)
    first_lines = [label.split("\\n")[0] for label in labels]
    assert "conv.0" in first_lines and "bn.0" in first_lines
    assert not [line for line in first_lines if line.isdigit()]
