"""The report's graph (convcalc.render.svg_graph): checked by its geometry, not by its bytes. Skips go around the
boxes, every label fits its box, every cluster encloses its members and nothing else, and --depth draws one box
per group."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest

from convcalc.api import analyze
from convcalc.render.dataflow import Cluster, diagram
from convcalc.render.svg_graph import (
    NAME_SIZE,
    PAD,
    SUB_SIZE,
    TEXT_PAD,
    TITLE,
    TITLE_SIZE,
    Rect,
    layout,
    text_width,
    to_svg,
)
from tests.chromium import Browser, find_chromium
from tests.conftest import run_cli
from tests.tiny_spec import TINY

SVG = "{http://www.w3.org/2000/svg}"
CASES = [("resnet50", None), ("resnet50", 4), ("resnet50", 2), ("googlenet", None), ("googlenet", 3), ("unet", None)]
CHROMIUM = find_chromium()


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg.replace('<svg class="graph"', f'<svg xmlns="{SVG[1:-1]}" class="graph"', 1))


def node_rects(root: ET.Element) -> dict[str, Rect]:
    rects = {}
    for group in root.iter(f"{SVG}g"):
        if "node" in group.get("class", "").split():
            rect = group.find(f"{SVG}rect")
            assert rect is not None
            rects[group.get("data-layer", "")] = Rect(
                *(float(rect.get(key, "")) for key in ("x", "y", "width", "height"))
            )
    return rects


def path_points(d: str) -> list[tuple[float, float]]:
    """The points a path passes through: a polyline's corners, or a cubic curve sampled at every 1/40 of it."""
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", d)]
    pairs = list(zip(numbers[::2], numbers[1::2], strict=True))
    if "C" not in d:
        assert re.fullmatch(r"M[\d.,-]+( L[\d.,-]+)+", d), d
        return pairs
    assert len(pairs) == 4, d
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = pairs
    samples = []
    for step in range(41):
        t = step / 40
        a, b, c, e = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3
        samples.append((a * x0 + b * x1 + c * x2 + e * x3, a * y0 + b * y1 + c * y2 + e * y3))
    return samples


def segment_enters(start: tuple[float, float], end: tuple[float, float], rect: Rect) -> bool:
    """Whether an axis-parallel segment, or a short piece of a sampled curve, passes through a box's inside."""
    (x1, y1), (x2, y2) = start, end
    left, right, top, bottom = rect.x + 0.5, rect.right - 0.5, rect.y + 0.5, rect.bottom - 0.5
    return max(x1, x2) > left and min(x1, x2) < right and max(y1, y2) > top and min(y1, y2) < bottom


def edges(root: ET.Element) -> Iterator[tuple[str, str]]:
    for path in root.iter(f"{SVG}path"):
        if "edge" in path.get("class", "").split():
            yield path.get("class", ""), path.get("d", "")


@pytest.mark.parametrize(("spec", "depth"), CASES)
def test_no_arrow_runs_behind_a_box(spec, depth):
    root = parse(to_svg(diagram(analyze(spec), depth)))
    rects = node_rects(root)
    for kind, d in edges(root):
        points = path_points(d)
        for start, end in pairwise(points):
            crossed = [name for name, rect in rects.items() if segment_enters(start, end, rect)]
            assert not crossed, (kind, d, crossed)


def test_resnet50_skips_are_drawn_around():
    # ResNet-50 has 16 bottlenecks (3 + 4 + 6 + 3); each stage's first projects its shortcut (conv, bn), the other
    # 3 - 1 + 4 - 1 + 6 - 1 + 3 - 1 = 12 add their input as it is: a skip over the whole body. Every layer drawn:
    # those 12, and the 4 projections' arrows from the shortcut's batch norm to the add (past the longer body).
    # At depth 4 a body and a shortcut are one box each, side by side: only the 12 identity skips are long.
    for depth, skips in ((None, 12 + 4), (4, 12)):
        kinds = [kind for kind, _ in edges(parse(to_svg(diagram(analyze("resnet50"), depth))))]
        assert kinds.count("edge skip") == skips, depth


@pytest.mark.parametrize(("spec", "depth"), CASES)
def test_every_label_fits_its_box(spec, depth):
    picture = diagram(analyze(spec), depth)
    placed = layout(picture)
    for box in picture.boxes:
        room = placed.boxes[box.id].width - 2 * TEXT_PAD
        for line, size in zip(box.lines, (NAME_SIZE, SUB_SIZE), strict=False):
            assert text_width(line, size) <= room, (line, room)
    root = parse(to_svg(picture))
    shown = {text.text for text in root.iter(f"{SVG}text")}
    assert all(line in shown for box in picture.boxes for line in box.lines)  # whole, never cut short
    for frame in placed.frames:
        assert text_width(frame.cluster.short, TITLE_SIZE) <= frame.rect.width - TEXT_PAD


@pytest.mark.parametrize(("spec", "depth"), CASES)
def test_shapes_beside_arrows_hide_nothing(spec, depth):
    placed = layout(diagram(analyze(spec), depth))
    assert placed.shapes  # the stem's arrows at least
    titles = [Rect(f.rect.x, f.rect.y, text_width(f.cluster.short, TITLE_SIZE) + PAD, TITLE) for f in placed.frames]
    for x, baseline, label in placed.shapes:
        area = Rect(x, baseline - 9, text_width(label, 9), 11)  # 9 px text: its ascent above the baseline, descent
        assert not [box for box, rect in placed.boxes.items() if overlap(area, rect)], label
        assert not [title for title in titles if overlap(area, title)], label


def test_text_width_is_per_character():
    # 0.4 em for narrow characters, 1.0 for m and W, 0.75 for other capitals, 0.62 for the rest (at 10 px)
    assert text_width("il", 10) == pytest.approx(8) and text_width("mW", 10) == pytest.approx(20)
    assert text_width("Ab", 10) == pytest.approx(7.5 + 6.2)
    assert text_width("x" * 60, 11) > text_width("x" * 30, 11) * 1.9  # a long name gets a wider box


def inside(inner: Rect, outer: Rect) -> bool:
    return outer.x < inner.x and outer.y < inner.y and inner.right < outer.right and inner.bottom < outer.bottom


def overlap(a: Rect, b: Rect) -> bool:
    return a.x < b.right and b.x < a.right and a.y < b.bottom and b.y < a.bottom


def member_boxes(cluster: Cluster) -> set[str]:
    found: set[str] = set()
    for member in cluster.members:
        found |= member_boxes(member) if isinstance(member, Cluster) else {member}
    return found


@pytest.mark.parametrize(("spec", "depth"), CASES)
def test_block_boxes_enclose_their_members_and_nothing_else(spec, depth):
    placed = layout(diagram(analyze(spec), depth))
    frames = {frame.cluster.id: frame for frame in placed.frames}
    assert frames, "no cluster drawn"
    for frame in placed.frames:
        members = member_boxes(frame.cluster)
        for box_id, rect in placed.boxes.items():
            if box_id in members:
                assert inside(rect, frame.rect), (frame.cluster.title, box_id)
            else:
                assert not overlap(rect, frame.rect), (frame.cluster.title, box_id)
        for member in frame.cluster.members:
            if isinstance(member, Cluster):
                assert inside(frames[member.id].rect, frame.rect), (frame.cluster.title, member.title)
        siblings = [m for m in frame.cluster.members if isinstance(m, Cluster)]
        for index, first in enumerate(siblings):
            for second in siblings[index + 1 :]:
                assert not overlap(frames[first.id].rect, frames[second.id].rect), (first.title, second.title)


def test_block_boxes_are_titled_with_their_names(write_spec):
    svg = to_svg(diagram(analyze(str(write_spec(TINY)))))
    titles = {
        text.text
        for group in parse(svg).iter(f"{SVG}g")
        if group.get("class") == "cluster"
        for text in group.iter(f"{SVG}text")
    }
    # the named repeat, its copies, the residual and its body, the unnamed repeat's run and its copies
    assert titles == {
        "stage: unit x2",
        "stage.0: unit",
        "stage.1: unit",
        "res: add",
        "body: path",
        "unit1..unit2: unit x2",
        "unit1: unit",
        "unit2: unit",
    }


def report_graph(spec: str, tmp_path: Path, *options: str) -> ET.Element:
    target = tmp_path / "report.html"
    result = run_cli("report", spec, "-o", str(target), *options)
    assert result.code == 0, result.stderr
    page = target.read_text(encoding="utf-8")
    return parse(page[page.index('<svg class="graph"') : page.index("</svg>", page.index('<svg class="graph"')) + 6])


def test_report_graph_follows_depth(tmp_path):
    # ResNet-50 at depth 2: conv1, bn1, relu1, maxpool, 3 + 4 + 6 + 3 bottlenecks, avgpool, fc, input, output
    assert len(node_rects(report_graph("resnet50", tmp_path, "--depth", "2"))) == 4 + 16 + 2 + 2
    # at depth 1: the stem's four layers, four stages, avgpool and fc, input and output
    assert len(node_rects(report_graph("resnet50", tmp_path, "--depth", "1"))) == 4 + 4 + 2 + 2


def test_report_graph_of_resnet50_is_compact(tmp_path):
    # its 161 layers would be a picture 10,000 px tall: without --depth, the report draws at most 80 boxes
    root = report_graph("resnet50", tmp_path)
    assert len(node_rects(root)) <= 80
    assert float(root.get("height", "")) < 6000
    assert sum(1 for kind, _ in edges(root) if kind == "edge skip") == 12  # the identity shortcuts, as above


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium): labels not measured")
def test_labels_fit_as_chromium_draws_them(tmp_path):
    # the estimate is an upper bound on the font Chromium really uses: measure every box's text
    target = tmp_path / "report.html"
    assert run_cli("report", "resnet50", "-o", str(target)).code == 0
    assert CHROMIUM is not None
    browser = Browser(CHROMIUM, tmp_path / "profile")
    try:
        browser.send("Page.navigate", url=target.as_uri())
        browser.wait_for("Page.loadEventFired")
        too_wide = browser.evaluate(
            "[...document.querySelectorAll('svg.graph g.node')].flatMap(g => {"
            " const w = g.querySelector('rect').width.baseVal.value;"
            " return [...g.querySelectorAll('text')].filter(t => t.getComputedTextLength() > w - 4)"
            ".map(t => t.textContent); })"
        )
        assert too_wide == []
        assert browser.evaluate("document.querySelectorAll('svg.graph g.node').length") > 20
    finally:
        browser.close()
