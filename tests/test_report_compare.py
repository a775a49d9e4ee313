"""`convcalc report A B` and `report A --bottleneck ...`: the comparison page, opened in a real headless Chromium
where one is installed (as tests/test_report.py opens the single report)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.chromium import Browser, find_chromium, png_colours
from tests.conftest import run_cli

CHROMIUM = find_chromium()
BEFORE = """\
name: before
input: [3, 8, 8]
layers:
  - {type: conv, name: stem, filters: 4, kernel: 1}
  - {type: conv, name: head, filters: 8, kernel: 3, padding: 1}
  - {type: relu, name: gone}
  - {type: global_avgpool, name: pool}
"""
AFTER = """\
name: "after <b>&"
input: [3, 8, 8]
layers:
  - {type: conv, name: stem, filters: 4, kernel: 1}
  - {type: conv, name: head, filters: 16, kernel: 3, padding: 1}
  - {type: relu, name: "<script>alert(1)</script>"}
  - {type: global_avgpool, name: pool}
"""
# The seed documents' figures: 28*28*192*32*5*5 and 1*1*16*28*28*192 + 5*5*32*28*28*16 MACs,
# 192*32*5*5 and 192*16 + 16*32*5*5 params.
SEED_MACS = (28 * 28 * 192 * 32 * 5 * 5, 1 * 1 * 16 * 28 * 28 * 192 + 5 * 5 * 32 * 28 * 28 * 16)
SEED_PARAMS = (192 * 32 * 5 * 5, 192 * 16 + 16 * 32 * 5 * 5)


def make_report(target: Path, *args: str) -> str:
    result = run_cli("report", *args, "-o", str(target))
    assert result.code == 0, result.stderr
    return target.read_text(encoding="utf-8")


def test_seed_figures_are_the_ones_the_page_must_show():
    assert SEED_MACS == (120_422_400, 12_443_648) and SEED_PARAMS == (153_600, 15_872)


def test_comparison_page_is_self_contained_escaped_and_aligned(write_spec, tmp_path: Path):
    before, after = write_spec(BEFORE, "before.yaml"), write_spec(AFTER, "after.yaml")
    page = make_report(tmp_path / "cmp.html", str(before), str(after))
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r"""(?:src|href)\s*=|https?:|@import|url\((?!#)""", page)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "after &lt;b&gt;&amp;" in page and "<b>&" not in page
    statuses = re.findall(r'<tr class="(\w+)" data-status="\1"><td class="n">\d+</td><td>([^<]*)</td>', page)
    assert statuses == [
        ("same", "stem"),
        ("changed", "head"),
        ("removed", "gone"),
        ("added", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("changed", "pool"),
    ]
    # head: 3x3 conv 4 -> 8 with bias, 9 * 4 * 8 + 8 = 296 params; 4 -> 16: 9 * 4 * 16 + 16 = 592; stem 4 * 3 + 4 = 16
    assert '<tr data-measure="params"><th>params</th><td class="n">312 ' in page
    assert '<td class="n">608 ' in page and '<td class="n">+296 ' in page and "1.95x more" in page
    assert "<script>" not in page  # the comparison needs no script


def test_comparison_page_never_overwrites_either_spec(write_spec):
    before, after = write_spec(BEFORE, "before.yaml"), write_spec(AFTER, "after.yaml")
    result = run_cli("report", str(before), str(after), "-o", str(after))
    assert result.code == 2 and "that is the input (" in result.stderr
    assert after.read_text(encoding="utf-8") == AFTER


def test_comparison_page_takes_a_second_spec_or_bottlenecks_not_both(tmp_path: Path):
    target = tmp_path / "cmp.html"
    both = run_cli("report", "inception-5x5", "inception-5x5-bottleneck", "-b", "conv5x5=16", "-o", str(target))
    assert both.code == 2 and "not both" in both.stderr
    sized = run_cli("report", "inception-5x5", "inception-5x5-bottleneck", "--input", "56", "-o", str(target))
    assert sized.code == 2 and "--input" in sized.stderr
    assert not target.exists()


def test_bottleneck_page_lists_the_rewrite(tmp_path: Path):
    page = make_report(tmp_path / "cmp.html", "inception-5x5", "--bottleneck", "conv5x5=16")
    assert '<section id="rewrite">' in page and "conv5x5_reduce, 192 -> 16 channels" in page
    assert "added (1x1 bottleneck)" in page and "12.00x fewer MACs" in page
    assert "params after = 3,072 (conv5x5_reduce) + 12,800 (conv5x5) = 15,872" in page


def open_page(target: Path, profile: Path) -> tuple[str, Browser]:
    assert CHROMIUM is not None
    browser = Browser(CHROMIUM, profile)
    browser.send("Page.navigate", url=target.as_uri())
    browser.wait_for("Page.loadEventFired")
    return browser.evaluate("document.body.innerText"), browser


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium): report not opened")
@pytest.mark.parametrize(
    "args",
    [("inception-5x5", "inception-5x5-bottleneck"), ("inception-5x5", "--bottleneck", "conv5x5=16")],
    ids=["two-specs", "bottleneck"],
)
def test_comparison_page_in_headless_chromium(tmp_path: Path, args: tuple[str, ...]):
    target = tmp_path / "cmp.html"
    make_report(target, *args)
    compared = run_cli("compare", *args, "-f", "json")
    assert compared.code == 0, compared.stderr
    document = json.loads(compared.stdout)
    page_text, browser = open_page(target, tmp_path / "profile")
    try:
        for side, macs, params in zip(("before", "after"), SEED_MACS, SEED_PARAMS, strict=True):
            assert document[side]["total"]["macs"] == macs and document[side]["total"]["params"] == params
            assert f"{macs:,}" in page_text and f"{params:,}" in page_text, side
            assert document[side]["name"] in page_text
        assert f"{SEED_MACS[1] - SEED_MACS[0]:,}" in page_text and "9.68x fewer" in page_text
        names = {row["name"] for row in document["layers"]}
        assert names == {"conv5x5", "reduce1x1" if "--bottleneck" not in args else "conv5x5_reduce"}
        table = browser.evaluate("document.querySelector('#layer-table tbody').innerText")
        assert all(name in table for name in names), table
        assert browser.evaluate("document.querySelectorAll('#layer-table tbody tr').length") == len(document["layers"])
        assert browser.evaluate("document.querySelectorAll('.chart svg').length") == 3
        assert png_colours(browser.screenshot()) > 16
        assert browser.errors() == []
        assert all(url.startswith("file:") for url in browser.requests()), browser.requests()
    finally:
        browser.close()
