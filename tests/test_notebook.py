"""Notebooks and papers: ``Analysis._repr_html_()`` and ``Comparison._repr_html_()`` (opened in a real headless
Chromium on a page made as a notebook shows outputs, in a light and a dark theme), ``Analysis.to_pandas()`` and
``--format latex``."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path
from typing import Any

import pytest

import convcalc
from convcalc import analyze, compare
from tests.chromium import Browser, find_chromium
from tests.conftest import run_cli

CHROMIUM = find_chromium()
THEMES = {"light": ("#ffffff", "#111111"), "dark": ("#111111", "#e6e6e6")}
"""Jupyter's light and dark themes as an output area sees them: its background and text colour."""


def test_the_views_are_fragments_without_scripts_or_links() -> None:
    for html in (analyze("resnet18")._repr_html_(), compare("resnet18", "resnet50")._repr_html_()):
        assert html.startswith('<div class="convcalc"><style>') and html.endswith("</div>")
        assert "<script" not in html and not re.search(r"""(?:src|href)\s*=|https?:|@import|url\(""", html)
    assert convcalc.Comparison._repr_html_ is not None  # the class as the package names it has its view


def test_the_analysis_view_shows_exact_totals_and_every_layer() -> None:
    analysis = analyze("resnet18")
    html = analysis._repr_html_()
    for value in (analysis.total.params, analysis.total.macs, analysis.total.flops):
        assert f"{value:,}" in html
    assert all(f">{layer.name}</td>" in html for layer in analysis.layers)
    # layer1 of torchvision's ResNet-18 as the bundled spec writes it: two basic blocks, a group row each and one for
    # the repeat
    assert '<tr class="group"><td style="padding-left:0.5em">layer1</td><td>basic x2</td>' in html


def test_spec_text_is_escaped(write_spec: Any) -> None:
    spec = write_spec('input: [3, 8, 8]\nlayers:\n  - {type: relu, name: "<b>x</b>"}\n')
    html = analyze(str(spec))._repr_html_()
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html


def page(theme: str, fragments: list[str]) -> str:
    background, colour = THEMES[theme]
    body = "".join(f'<div class="output">{fragment}</div>' for fragment in fragments)
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><style>body {{ background: {background}; color: {colour};'
        f" font: 13px sans-serif; }}</style></head><body>{body}</body></html>"
    )


CONTRAST = """
(() => {
  const rgba = s => (s.match(/[\\d.]+/g) || []).map(Number).concat([1]).slice(0, 4);
  const over = (top, bottom) => top.slice(0, 3).map((c, i) => c * top[3] + bottom[i] * (1 - top[3]));
  const base = rgba(getComputedStyle(document.body).backgroundColor);
  const luminance = c => { const [r, g, b] = c.map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126*r + 0.7152*g + 0.0722*b; };
  let worst = 21, where = '';
  for (const cell of document.querySelectorAll('.convcalc td, .convcalc th, .convcalc p, .convcalc li')) {
    if (!cell.textContent.trim()) continue;
    let colour = base.slice(0, 3), chain = [];
    for (let e = cell; e && e !== document.body; e = e.parentElement) chain.unshift(e);
    for (const e of chain) colour = over(rgba(getComputedStyle(e).backgroundColor), colour);
    const style = getComputedStyle(cell), text = over(rgba(style.color).slice(0, 3).concat(
      [rgba(style.color)[3] * Number(style.opacity)]), colour);
    const [a, b] = [luminance(text), luminance(colour)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    if (ratio < worst) { worst = ratio; where = cell.textContent.trim().slice(0, 40); }
  }
  return [worst, where];
})()
"""
"""The lowest WCAG contrast ratio of any text in the fragments against the background it is drawn on (translucent
backgrounds composed over the page's)."""


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium): notebook view not opened")
@pytest.mark.parametrize("theme", sorted(THEMES))
def test_the_views_read_in_light_and_dark_chromium(theme: str, tmp_path: Path) -> None:
    analysis = analyze("resnet18")
    comparison = compare("resnet18", "mobilenet_v2")
    target = tmp_path / f"notebook-{theme}.html"
    target.write_text(page(theme, [analysis._repr_html_(), comparison._repr_html_()]), encoding="utf-8")
    assert CHROMIUM is not None
    browser = Browser(CHROMIUM, tmp_path / "profile")
    try:
        browser.send("Page.navigate", url=target.as_uri())
        browser.wait_for("Page.loadEventFired")
        text = browser.evaluate("document.body.innerText")
        assert f"{analysis.total.macs:,}" in text and f"{comparison.after.total.params:,}" in text
        rows = browser.evaluate("document.querySelectorAll('.convcalc')[0].querySelectorAll('tbody tr').length")
        groups = browser.evaluate("document.querySelectorAll('.convcalc')[0].querySelectorAll('tr.group').length")
        assert rows == len(analysis.layers) + groups and groups > 0  # every layer shown, with its groups
        worst, where = browser.evaluate(CONTRAST)
        assert worst >= 4.5, (worst, where)  # WCAG AA for body text, in this theme
        width = browser.evaluate("document.querySelector('.convcalc table').getBoundingClientRect().width")
        assert 300 < width < 1280
        assert browser.errors() == []
        assert all(url.startswith("file:") for url in browser.requests()), browser.requests()
    finally:
        browser.close()


def test_to_pandas_hands_over_the_json_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a stand-in for pandas (the real one is optional: see the next test), the frame is made of the JSON's
    layer rows, exact integers."""
    made: list[Any] = []
    monkeypatch.setitem(sys.modules, "pandas", types.SimpleNamespace(DataFrame=lambda rows: made.append(rows) or rows))
    analysis = analyze("resnet50")
    assert analysis.to_pandas() == made[0] == analysis.to_dict()["layers"]


def test_to_pandas_without_pandas_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="pip install pandas"):
        analyze("lenet5").to_pandas()


def test_to_pandas_with_pandas() -> None:
    pandas = pytest.importorskip("pandas", reason="pandas is not installed (optional): the frame itself not built")
    analysis = analyze("resnet50")
    frame = analysis.to_pandas()
    assert isinstance(frame, pandas.DataFrame) and list(frame["name"]) == [layer.name for layer in analysis.layers]
    assert int(frame["macs"].sum()) == analysis.total.macs and int(frame["params"].sum()) == analysis.total.params


def test_latex_is_a_booktabs_table_of_exact_counts() -> None:
    result = run_cli("analyze", "resnet18", "-f", "latex", "--depth", "1")
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "\\usepackage{booktabs}" in lines[0] and "\\toprule" in lines and "\\bottomrule" in lines
    body = lines[lines.index("\\midrule") + 1 : len(lines) - 1 - lines[::-1].index("\\midrule")]
    # --depth 1: conv1, bn1, relu1, maxpool, layer1-4, avgpool, fc (the bundled spec's names)
    assert [row.split(" & ")[0] for row in body] == [
        "conv1", "bn1", "relu1", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc",
    ]  # fmt: skip
    # torchvision's ResNet-18: 11,689,512 parameters (its model card); layer4 = 2 basic blocks of 512 channels
    assert lines[-4].startswith("total & ") and "11,689,512" in lines[-4] and "global\\_avgpool" in result.stdout
    assert all(row.endswith("\\\\") and row.count(" & ") == 7 for row in body)


def test_latex_escapes_names(write_spec: Any) -> None:
    spec = write_spec('input: [3, 8, 8]\nlayers:\n  - {type: relu, name: "a_b&c%"}\n')
    result = run_cli("analyze", str(spec), "-f", "latex")
    assert "a\\_b\\&c\\%" in result.stdout
