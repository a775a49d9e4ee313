"""`convcalc report`: a self-contained HTML page, opened in a real headless Chromium where one is installed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.chromium import Browser, find_chromium, png_colours
from tests.conftest import run_cli
from tests.tiny_spec import TINY

CHROMIUM = find_chromium()
SPEC = TINY + '  - {type: relu, name: "<script>alert(1)</script>"}\n'


def make_report(spec: str, target: Path) -> str:
    result = run_cli("report", spec, "-o", str(target))
    assert result.code == 0, result.stderr
    return target.read_text(encoding="utf-8")


def test_report_is_self_contained_and_escaped(write_spec, tmp_path: Path):
    page = make_report(str(write_spec(SPEC)), tmp_path / "report.html")
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r"""(?:src|href)\s*=|https?:|@import|url\((?!#)""", page)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # the 'stage' group's row: two 3x3 convs 4 -> 4 without bias, 2 * 3 * 3 * 4 * 4 = 288 params, shown exactly
    assert '<td class="n">288</td>' in page


def test_report_never_overwrites_the_spec(write_spec):
    spec = write_spec(SPEC)
    result = run_cli("report", str(spec), "-o", str(spec))
    assert result.code == 2 and "that is the input (" in result.stderr
    assert spec.read_text(encoding="utf-8") == SPEC


def test_report_replaces_a_file_whole(write_spec, tmp_path: Path):
    target = tmp_path / "out" / "report.html"
    target.parent.mkdir()
    target.write_text("old", encoding="utf-8")
    page = make_report(str(write_spec(SPEC)), target)
    assert page.startswith("<!DOCTYPE html>") and [p.name for p in target.parent.iterdir()] == ["report.html"]
    missing = run_cli("report", str(write_spec(SPEC)), "-o", str(tmp_path / "no" / "such" / "dir.html"))
    assert missing.code == 2 and "cannot write" in missing.stderr


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium): report not opened")
def test_report_in_headless_chromium(tmp_path: Path):
    target = tmp_path / "resnet50.html"
    make_report("resnet50", target)
    analysis = json.loads(run_cli("analyze", "resnet50", "-f", "json").stdout)
    assert CHROMIUM is not None
    browser = Browser(CHROMIUM, tmp_path / "profile")
    try:
        browser.send("Page.navigate", url=target.as_uri())
        browser.wait_for("Page.loadEventFired")
        page_text = browser.evaluate("document.body.textContent")
        for key in ("params", "macs", "flops"):
            assert f"{analysis['total'][key]:,}" in page_text, key
        missing = [layer["name"] for layer in analysis["layers"] if layer["name"] not in page_text]
        assert not missing, missing[:5]
        visible_rows = "[...document.querySelectorAll('#layer-table tbody tr')].filter(r => !r.hidden).length"
        before = browser.evaluate(visible_rows)
        assert before == 10  # conv1, bn1, relu1, maxpool, layer1-4, avgpool, fc
        browser.click("tr.group button.toggle")  # layer1: its three bottlenecks appear
        assert browser.evaluate(visible_rows) == before + 3
        assert browser.evaluate("document.querySelector('tr.group button.toggle').getAttribute('aria-expanded')")
        browser.click("tr.layer button.explain-toggle")  # conv1's explain
        assert "H_out" in browser.evaluate(
            "[...document.querySelectorAll('tr.explain')].find(r => !r.hidden).innerText"
        )
        assert png_colours(browser.screenshot()) > 16
        assert browser.errors() == []
        assert all(url.startswith("file:") for url in browser.requests()), browser.requests()
    finally:
        browser.close()


def test_explanations_keep_their_line_breaks(tmp_path):
    # each layer's explain is several lines, as `convcalc explain` prints it, not one line with escaped breaks
    target = tmp_path / "r.html"
    assert run_cli("report", "inception-5x5", "-o", str(target)).code == 0
    page = target.read_text(encoding="utf-8")
    assert "\\x0a" not in page and "\n  params = " in page


def chart_rows(page: str, title: str) -> list[str]:
    """The row names of the chart with that title, top to bottom."""
    start = page.index(f"<figcaption><b>{title}</b>")
    figure = page[start : page.index("</figure>", start)]
    return re.findall(r'text-anchor="end">([^<]*)</text>', figure)


def test_charts_follow_depth(tmp_path):
    target = tmp_path / "r.html"
    every = make_report("resnet50", target)
    assert any(".bn" in name for name in chart_rows(every, "params"))  # without --depth: every batch norm
    result = run_cli("report", "resnet50", "-o", str(target), "--depth", "2")
    assert result.code == 0, result.stderr
    page = target.read_text(encoding="utf-8")
    # ResNet-50 at depth 2: conv1, the 3 + 4 + 6 + 3 bottlenecks and fc have MACs (bn1, relu1, maxpool, avgpool
    # count none in convcalc's MACs); params: conv1, bn1, the 16 bottlenecks, fc
    bottlenecks = [f"layer{stage}.{index}" for stage, count in enumerate((3, 4, 6, 3), 1) for index in range(count)]
    assert chart_rows(page, "MACs") == ["conv1", *bottlenecks, "fc"]
    assert chart_rows(page, "params") == ["conv1", "bn1", *bottlenecks, "fc"]
    assert "depth 2: one box per group" in page


def test_depth_is_for_one_networks_report(tmp_path):
    result = run_cli("report", "resnet18", "resnet50", "-o", str(tmp_path / "c.html"), "--depth", "1")
    assert result.code == 2 and "--depth is for one network's report" in result.stderr


def test_device_charts_each_layers_latency_and_bound(tmp_path):
    target = tmp_path / "r.html"
    result = run_cli("report", "resnet50", "-o", str(target), "--device", "a100")
    assert result.code == 0, result.stderr
    page = target.read_text(encoding="utf-8")
    document = json.loads(run_cli("analyze", "resnet50", "-f", "json", "--device", "a100").stdout)
    estimates = document["layers"]
    timed = [layer for layer in estimates if layer["latency"]["estimate_s"] > 0]
    assert timed and len(timed) < len(estimates)  # layers fused into a conv's node (bn, relu) get no bar
    title = "latency estimate on " + document["total"]["latency"]["device"]
    assert chart_rows(page, title) == [layer["name"] for layer in timed]
    start = page.index(f"<figcaption><b>{title}</b>")
    figure = page[start : page.index("</figure>", start)]
    assert re.findall(r'<rect class="(compute|memory)"', figure) == [layer["latency"]["bound"] for layer in timed]
    assert "not a measurement" in figure
    assert "latency estimate" not in make_report("resnet50", tmp_path / "plain.html")  # only under --device


def test_device_refuses_depth_and_a_comparison(tmp_path):
    target = str(tmp_path / "r.html")
    depth = run_cli("report", "resnet50", "-o", target, "--device", "a100", "--depth", "2")
    assert depth.code == 2 and "leave out --depth" in depth.stderr
    pair = run_cli("report", "resnet18", "resnet50", "-o", target, "--device", "a100")
    assert pair.code == 2 and "for one network's report" in pair.stderr
    unknown = run_cli("report", "resnet50", "-o", target, "--device", "no-such-gpu")
    assert unknown.code == 2 and "Traceback" not in unknown.stderr
