"""Regenerate docs/images/report-graph-resnet50.png: the graph section of ResNet-50's `convcalc report`, as
headless Chromium draws it (the top of the picture: the stem and the first stage's bottlenecks with their skips).

Usage: python tools/report_graph_screenshot.py [SPEC] [OUT.png] [--height PX]
Needs Chromium on PATH (apt-get install chromium); run from the repository root (or with convcalc importable).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from convcalc.api import analyze  # noqa: E402
from convcalc.render.html_report import document, graph_section  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", nargs="?", default="resnet50")
    parser.add_argument("out", nargs="?", default=str(ROOT / "docs" / "images" / "report-graph-resnet50.png"))
    parser.add_argument("--width", type=int, default=820)
    parser.add_argument("--height", type=int, default=1500)
    args = parser.parse_args()
    browser = next((found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None)
    if browser is None:
        sys.exit("no chromium on PATH: apt-get install chromium")
    analysis = analyze(args.spec)
    page = document(analysis.name, [graph_section(analysis, None)], css=".scroll { max-height: none; }")
    with tempfile.TemporaryDirectory() as folder:
        html = Path(folder) / "graph.html"
        html.write_text(page, encoding="utf-8")
        command = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={Path(folder) / 'profile'}",
            f"--screenshot={Path(args.out).resolve()}",
            f"--window-size={args.width},{args.height}",
            html.as_uri(),
        ]
        subprocess.run(command, check=True, capture_output=True, timeout=120)
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
