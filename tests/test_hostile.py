"""Hostile input (issue 19): each case names the documented promise it protects.

docs, Errors: "A bad spec never ends in a Python traceback", exit code 2 with file:line:column, "the spec file is
only ever read", the limits table ("refused at once"); Compare: `--emit-spec -` is standard output; Library: bad
arguments raise TypeError/ValueError. Outputs are never trusted to be what convcalc computed: the tests derive what
they expect from the spec text and the arguments.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from rich.console import Console

from convcalc.core.text import UNSAFE, clip, csv_cell, message_line, printable
from convcalc.spec.reader import MAX_NODES, read_text
from tests.conftest import REPO, SPECS, run_cli
from tests.docs import page

NET = "input: [3, 8, 8]\nlayers:\n"
SPEC = NET + "  - {type: conv, name: c2, filters: 4, kernel: 3}\n  - {type: relu, name: r}\n"
"""A spec `compare -b c2=...` can rewrite."""
ESCAPES = "\x1b]0;PWNED\x07\x1b[2J"
"""Sets the terminal's title and clears the screen, if printed raw."""


def convcalc(
    *args: str, stdin: Path | None = None, closed_stdin: bool = False, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """A real `python -m convcalc` process (for standard input, pipes, encodings and descriptors)."""
    with open(stdin or os.devnull, "rb") as source:
        return subprocess.run(
            [sys.executable, "-m", "convcalc", *args],
            cwd=REPO,
            stdin=source,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            env={**os.environ, **(env or {})},
            preexec_fn=(lambda: os.close(0)) if closed_stdin else None,  # `convcalc analyze - <&-`
            timeout=60,
        )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_error(result: object, *words: str) -> None:
    """Exit code 2, one error line (no traceback), containing the words."""
    code = getattr(result, "code", getattr(result, "returncode", None))
    stderr: str = getattr(result, "stderr", "")
    assert code == 2, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    assert stderr.count("error:") == 1, stderr
    for word in words:
        assert word in stderr, (word, stderr)


# --- files destroyed: "the spec file is only ever read" ----------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["analyze", "-", "--svg", "/dev/stdin"], id="svg-to-dev-stdin"),
        pytest.param(["compare", "-", "-b", "c2=2", "--emit-spec", "/proc/self/fd/0"], id="emit-to-proc-fd-0"),
        pytest.param(["compare", "-", "-b", "c2=2", "--svg", "/dev/fd/0"], id="svg-to-dev-fd-0"),
    ],
)
def test_an_output_naming_standard_input_is_refused(tmp_path: Path, args: list[str]) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    before = digest(spec)
    result = convcalc(*args, stdin=spec)
    one_error(result, "that is the input (", "standard input")
    assert digest(spec) == before


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
@pytest.mark.parametrize("option", ["--svg", "--emit-spec"])
def test_an_output_that_is_the_spec_by_another_name_is_refused(tmp_path: Path, link: str, option: str) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    alias = tmp_path / "alias.yaml"
    (alias.symlink_to if link == "symlink" else alias.hardlink_to)(spec)
    before = digest(spec)
    one_error(run_cli("compare", str(spec), "-b", "c2=2", option, str(alias)), "that is the input (")
    assert digest(spec) == before


@pytest.mark.parametrize("option", ["--svg", "--emit-spec"])
def test_a_failed_write_leaves_the_old_file_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, option: str) -> None:
    """Disk full part way: the old file is kept as it was and no temporary file is left beside it."""
    spec = tmp_path / "net.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    keep = tmp_path / "keep.out"
    keep.write_text("the old, valid file\n", encoding="utf-8")

    def disk_full(descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    result = run_cli("compare", str(spec), "-b", "c2=2", option, str(keep))
    one_error(result, option, "No space left on device")
    assert keep.read_text(encoding="utf-8") == "the old, valid file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.out", "net.yaml"]


def test_a_write_through_a_symlink_replaces_the_file_it_names(tmp_path: Path) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    target = tmp_path / "real.svg"
    target.write_text("old", encoding="utf-8")
    os.chmod(target, 0o640)
    link = tmp_path / "link.svg"
    link.symlink_to(target)
    assert run_cli("analyze", str(spec), "--svg", str(link)).code == 0
    assert link.is_symlink() and target.read_text(encoding="utf-8").startswith("<svg")
    assert target.stat().st_mode & 0o777 == 0o640  # the file keeps its permissions


def test_two_outputs_to_one_file_are_refused(tmp_path: Path) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    out = tmp_path / "out.yaml"
    one_error(run_cli("compare", str(spec), "-b", "c2=2", "--emit-spec", str(out), "--svg", str(out)), "one file")
    assert not out.exists()
    out.write_text("x", encoding="utf-8")
    link = tmp_path / "link.yaml"
    link.symlink_to(out)
    one_error(run_cli("compare", str(spec), "-b", "c2=2", "--emit-spec", str(out), "--svg", str(link)), "one file")
    one_error(run_cli("compare", str(spec), "-b", "c2=2", "--emit-spec", "-", "--svg", "-"), "standard output")


def test_svg_dash_is_standard_output_like_emit_spec_dash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = run_cli("analyze", str(spec), "--svg", "-")
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("<svg") and result.stdout.rstrip().endswith("</svg>")
    assert "c2" in result.stderr  # the table moved to standard error, as with `--emit-spec -`
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize("option", ["--svg", "--emit-spec"])
def test_a_symlink_loop_as_output_is_one_error(tmp_path: Path, option: str) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    loop = tmp_path / "loop"
    loop.symlink_to(tmp_path / "loop")
    one_error(run_cli("compare", str(spec), "-b", "c2=2", option, str(loop)), option, "cannot write")


# --- resources: the limits table, "refused at once" ----------------------------------------------------------------


def node_list(numbers: int) -> str:
    """A spec of 13 YAML nodes (mappings, lists, keys and values) and a list of ``numbers`` more, then a break."""
    return NET + "  - {type: relu}\ndescription: [" + ", ".join(["1"] * numbers) + "]\n"


@pytest.mark.parametrize("limit", [1_000, MAX_NODES])
def test_the_node_limit_is_exact_and_refuses_while_the_document_is_read(
    write_spec, monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    """At the limit the document is read (and the spec checks see it); one node more is refused before the parser
    reaches the broken end of the document, that is, while composing, not after building the whole document."""
    import convcalc.spec.reader

    monkeypatch.setattr(convcalc.spec.reader, "MAX_NODES", limit)
    if limit != MAX_NODES:
        read = run_cli("analyze", str(write_spec(node_list(limit - 13))))
        one_error(read, "'description' must be text")
    refused = run_cli("analyze", str(write_spec(node_list(limit - 12 + 100) + "{ broken")))
    one_error(refused, f"more than {limit:,} YAML nodes")
    column = len("description: [") + 3 * (limit - 13) + 1  # the list's number limit - 12, each written "1, "
    assert f":4:{column}:" in refused.stderr


# --- terminal and output injection: "convcalc prints one line" ----------------------------------------------------


@pytest.mark.parametrize(
    ("written", "character"),
    [
        (r"\e]0;PWNED\a\e[2J", "U+001B"),
        (r"\e]52;c;cHduZWQ=\a", "U+001B"),
        (r"a\x9b2Jb", "U+009B"),  # a one-character CSI
        (r"a\u202eb", "U+202E"),  # right-to-left override
        (r"a\0b", "U+0000"),
        (r"a\rb", "U+000D"),
    ],
)
@pytest.mark.parametrize("where", ["name", "type", "description"])
def test_control_characters_in_a_spec_are_refused_at_their_place(
    write_spec, written: str, character: str, where: str
) -> None:
    layer = f'{{type: relu, name: "{written}"}}' if where == "name" else f'{{type: "{written}"}}'
    text = NET + f"  - {layer}\n" if where != "description" else NET + f'  - {{type: relu}}\ndescription: "{written}"\n'
    result = run_cli("analyze", str(write_spec(text)), "--format", "json")
    one_error(result, character)
    line = 4 if where == "description" else 3
    assert f":{line}:" in result.stderr
    assert not UNSAFE.search(result.stderr + result.stdout)
    assert json.loads(result.stdout)["error"]["line"] == line


def test_a_file_name_with_escapes_is_never_echoed_raw(tmp_path: Path) -> None:
    """The name of the spec file becomes the table's title, the CSV's and SVG's: escaped everywhere."""
    spec = tmp_path / f"net{ESCAPES}.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    picture = tmp_path / "picture.svg"
    for output in ("table", "csv", "markdown", "json"):
        result = run_cli("analyze", str(spec), "--format", output, "--svg", str(picture))
        assert result.code == 0, result.stderr
        assert not UNSAFE.search(result.stdout + result.stderr), output
        ElementTree.fromstring(picture.read_text(encoding="utf-8"))  # well-formed XML: no control characters
    missing = run_cli("analyze", str(tmp_path / f"gone{ESCAPES}.yaml"))
    one_error(missing, "no such file", "\\x1b")
    assert not UNSAFE.search(missing.stderr)


def test_renderers_escape_text_that_did_not_come_through_the_reader() -> None:
    """A library caller's names (not read from YAML) are escaped by every renderer, and CSV refuses formulas."""
    from convcalc import analyze
    from convcalc.render.plain import to_csv, to_markdown
    from convcalc.render.table import render_analysis

    analysis = analyze("lenet5")
    names = [f"x{ESCAPES}", "=HYPERLINK(1)", "+1", "-1", "@SUM(A1)", "a\x00b"]
    for layer, name in zip(analysis.layers, names, strict=False):
        layer.name = name
    table = io.StringIO()
    render_analysis(analysis, exact_numbers=True, file=table)
    columns = ("name", "type", "macs")
    outputs = [table.getvalue(), to_csv(analysis, columns), to_markdown(analysis, columns, exact_numbers=True)]
    for text in outputs:
        assert not UNSAFE.search(text)
    rows = list(csv.reader(io.StringIO(outputs[1])))[1:]
    for row, name in zip(rows, names, strict=False):
        assert not row[0].startswith(("=", "+", "-", "@")), row
        assert row[0] in (printable(name), "'" + printable(name))
    assert rows[1][0] == "'=HYPERLINK(1)" and rows[0][0] == "x\\x1b]0;PWNED\\x07\\x1b[2J"


def test_csv_cells() -> None:
    assert csv_cell("=1+2") == "'=1+2" and csv_cell("conv1") == "conv1" and csv_cell(-5) == -5
    assert csv_cell("a\x00b") == "a\\x00b"


def test_echoed_values_are_clipped() -> None:
    """An unknown 20,000-character type gives a short message, not a 20 KB one, and says how much it left out."""
    assert len(message_line("error: " + "y" * 20_000)) < 300
    assert len(message_line(" ".join(["word"] * 20_000))) <= 1_100
    assert clip("z" * 1_000, 60).count("z") == 60 and "940 characters" in clip("z" * 1_000, 60)


def test_a_huge_unknown_type_gives_a_short_message(write_spec) -> None:
    path = str(write_spec(NET + f"  - {{type: {'q' * 20_000}}}\n"))
    result = run_cli("analyze", path)
    one_error(result, "unknown layer type", "characters)")
    assert len(result.stderr) < 1_000
    as_json = run_cli("analyze", path, "--format", "json")
    assert as_json.code == 2 and len(json.loads(as_json.stdout)["error"]["message"]) < 1_000


# --- every bad spec: exit 2 with file:line:column -------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["!!bool maybe", "!!int ''", "!!float ''", "!!map [1, 2]", "!!seq {a: 1}", "!!timestamp foo", "!!int abc"],
)
def test_yaml_tags_that_cannot_read_their_value(write_spec, value: str) -> None:
    text = NET + f"  - {{type: relu, name: {value}}}\n"
    result = run_cli("analyze", str(write_spec(text)))
    one_error(result, f":3:{text.splitlines()[2].index('!!') + 1}: error: ")
    assert "too large" not in result.stderr  # !!int abc is not a big number


def test_merge_keys_with_an_override_are_standard_yaml(write_spec) -> None:
    text = NET + "  - &base {type: conv, name: a, filters: 4, kernel: 3}\n  - {<<: *base, name: b, kernel: 1}\n"
    result = run_cli("analyze", str(write_spec(text)), "--format", "json")
    assert result.code == 0, result.stderr
    layers = json.loads(result.stdout)["layers"]
    assert [layer["name"] for layer in layers] == ["a", "b"]
    assert layers[1]["output_shape"] == [4, 6, 6]  # kernel 1 (its own) over a's 4x6x6, filters 4 (merged)
    duplicate = NET + "  - &base {type: relu, name: a}\n  - {<<: *base, name: b, name: c}\n"
    one_error(run_cli("analyze", str(write_spec(duplicate))), "duplicate key 'name'")


def test_merge_keys_from_a_list_the_first_mapping_wins(write_spec) -> None:
    text = NET + "  - {type: relu, name: a}\n  - {<<: [{name: first}, {name: second, type: relu}]}\n"
    result = run_cli("analyze", str(write_spec(text)), "--format", "json")
    assert result.code == 0, result.stderr
    assert [layer["name"] for layer in json.loads(result.stdout)["layers"]] == ["a", "first"]


def test_exponent_floats_without_a_dot_are_numbers(write_spec) -> None:
    """YAML 1.2 reads 1e-6 as a number, as PyTorch's code writes eps (YAML 1.1, PyYAML's default, reads the text)."""
    assert read_text("[1e-6, 5E-2, -2e+1, .5e1, 1e, e5, 1_0]", "x.yaml") == [1e-06, 0.05, -20.0, 5.0, "1e", "e5", 10]
    text = NET + "  - {type: batchnorm, name: bn, eps: 1e-6}\n  - {type: conv, name: c, filters: 1e1, kernel: 1}\n"
    one_error(run_cli("analyze", str(write_spec(text))), ":4:36: ", "'filters': expected a whole number, got 10.0")


def test_a_bottleneck_width_of_5000_digits(write_spec) -> None:
    result = run_cli("compare", str(write_spec(SPEC)), "-b", "c2=" + "9" * 5_000)
    one_error(result, "--bottleneck", "at most 10^100")
    assert len(result.stderr) < 1_000


def test_a_5000_character_path(tmp_path: Path) -> None:
    result = run_cli("analyze", str(tmp_path / ("p" * 5_000)))
    one_error(result, "cannot read")
    assert len(result.stderr) < 1_000


def test_a_closed_standard_input() -> None:
    result = convcalc("analyze", "-", closed_stdin=True)
    one_error(result, "standard input is closed")


def test_compare_cannot_read_standard_input_twice() -> None:
    one_error(run_cli("compare", "-", "-", stdin=SPEC), "standard input can be read once")


def test_explain_finds_an_exact_name_before_a_pattern(write_spec) -> None:
    path = write_spec(NET + "  - {type: relu, name: 'c[1]'}\n  - {type: relu, name: c1}\n  - {type: relu, name: c2}\n")
    exact = run_cli("explain", str(path), "c[1]", "--format", "json")
    assert exact.code == 0, exact.stderr
    assert [layer["name"] for layer in json.loads(exact.stdout)["layers"]] == ["c[1]"]
    glob = run_cli("explain", str(path), "c[12]", "--format", "json")
    assert [layer["name"] for layer in json.loads(glob.stdout)["layers"]] == ["c1", "c2"]


# --- output: closed pipes, narrow terminals, legacy encodings --------------------------------------------------------


@pytest.mark.parametrize("output", ["json", "csv", "markdown", "table"])
def test_a_closed_pipe_ends_with_exit_0_in_every_format(write_spec, output: str) -> None:
    """`convcalc analyze ... | head -1`: the output is larger than a pipe's buffer, and the reader leaves."""
    spec = write_spec(NET + "  - {type: relu, repeat: 3000}\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "convcalc", "analyze", str(spec), "--format", output],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 0, stderr
    assert stderr == ""


@pytest.mark.parametrize("columns", ["0", "10"])
def test_a_narrow_terminal_still_shows_the_table(monkeypatch: pytest.MonkeyPatch, columns: str) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich treats the captured output as a terminal
    monkeypatch.delenv("NO_COLOR", raising=False)
    from convcalc import analyze

    result = run_cli("analyze", "lenet5")
    assert result.code == 0, result.stderr
    assert analyze("lenet5").layers[0].name in result.stdout and "total" in result.stdout


@pytest.mark.parametrize("encoding", ["ascii", "shift_jis"])
def test_a_legacy_encoding_prints_without_crashing(write_spec, encoding: str) -> None:
    spec = write_spec(NET + "  - {type: conv, name: 畳み込み, filters: 4, kernel: 3}\n")
    result = convcalc("analyze", str(spec), "--columns", "name,macs,bar", env={"PYTHONIOENCODING": encoding})
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "error" not in result.stderr
    assert "exact: params" in result.stdout and "#" in result.stdout  # '·' became '-', the bar '#'
    assert "·" not in result.stdout


# --- library: "bad input raises" a documented error -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda api: api.load_spec("x.yaml", text=b"input: [3, 8, 8]"), TypeError, "decode"),
        (lambda api: api.load_spec(42), TypeError, "not int"),
        (lambda api: api.analyze("lenet5", batch="8"), TypeError, "batch must be an int"),
        (lambda api: api.analyze("lenet5", batch=2.5), TypeError, "batch must be an int"),
        (lambda api: api.analyze("lenet5", batch=True), TypeError, "batch must be an int"),
        (lambda api: api.analyze("lenet5", batch=0), ValueError, "at least 1"),
        (lambda api: api.analyze("lenet5", dtype=["float32"]), TypeError, "dtype must be a str"),
        (lambda api: api.analyze("lenet5", input_shape=5), TypeError, "input_shape must be a tuple"),
        (lambda api: api.analyze("lenet5", input_shape="3x8x8"), TypeError, "input_shape must be a tuple"),
        (lambda api: api.compare("lenet5", "lenet5", batch="2"), TypeError, "batch must be an int"),
        (lambda api: api.compare("lenet5", bottlenecks=None), TypeError, "bottlenecks must be a list .* not None"),
        (lambda api: api.compare("lenet5", bottlenecks="C3=4"), TypeError, r"not a str \(write \['C3=4'\]\)"),
        (lambda api: api.compare("lenet5", bottlenecks=b"C3=4"), TypeError, "bottlenecks must be a list"),
        (lambda api: api.compare("lenet5", bottlenecks=[5]), TypeError, "a bottleneck is a str .* not int"),
        (lambda api: api.compare("lenet5"), ValueError, "a second spec or bottlenecks"),
        (lambda api: api.compare("lenet5", "lenet5", bottlenecks=["C3=4"]), ValueError, "not both"),
        (lambda api: parse_sizes_of(None), TypeError, "sizes must be a str"),
        (lambda api: sweep_of(None), TypeError, "input_shapes must be a list"),
        (lambda api: sweep_of((3, 32, 32)), TypeError, "input_shapes must be a list"),
    ],
)
def test_library_arguments_raise_documented_errors(call, error: type[Exception], words: str) -> None:
    import convcalc.api as api

    with pytest.raises(error, match=words):
        call(api)


def parse_sizes_of(text: object):
    from convcalc.sweep import parse_sizes

    return parse_sizes(text, (3, 32, 32))  # type: ignore[arg-type]


def sweep_of(shapes: object):
    from convcalc.sweep import sweep

    return sweep("lenet5", shapes)  # type: ignore[arg-type]


def test_analyze_batch_stays_an_exact_int() -> None:
    from convcalc import analyze

    one, eight = analyze("lenet5"), analyze("lenet5", batch=8)
    assert isinstance(eight.total.macs, int) and eight.total.macs == 8 * one.total.macs


# --- the Grid draws what rich draws ---------------------------------------------------------------------------------


def styled_characters(renderable: object, **console: object) -> list[tuple[str, str]]:
    """Each character drawn with its style: what two renderables must agree on to look the same."""
    target = Console(file=io.StringIO(), width=400, highlight=False, **console)  # type: ignore[arg-type]
    drawn: list[tuple[str, str]] = []
    for segment in target.render(renderable):
        drawn.extend((character, str(segment.style or "")) for character in segment.text)
    return drawn


@pytest.mark.parametrize("terminal", [False, True])
def test_a_grid_draws_what_a_rich_table_draws(terminal: bool) -> None:
    from convcalc import analyze, compare
    from convcalc.render.compare_table import layer_rows
    from convcalc.render.grid import Grid
    from convcalc.render.table import layer_table

    analysis = analyze(SPECS / "resnet50.yaml")
    analysis.layers[0].name = "名前 wide"  # two-column characters
    comparison = compare(SPECS / "resnet50.yaml", SPECS / "resnet18.yaml")
    options = {"force_terminal": True, "color_system": "truecolor"} if terminal else {"color_system": None}
    columns = ("name", "input", "rf", "jump", "bar", "note", "line", "intensity", "share")
    for grid in (
        layer_table(analysis.layers, exact_numbers=False, title="a title", totals=True),
        layer_table(analysis.layers, exact_numbers=True, columns=columns),
        layer_rows(comparison, exact_numbers=False),
    ):
        assert isinstance(grid, Grid)  # more than GRID_ROWS rows
        grid_drawn, table_drawn = styled_characters(grid, **options), styled_characters(grid.as_table(), **options)
        as_text = "".join(character for character, _ in grid_drawn)
        assert as_text == "".join(character for character, _ in table_drawn)
        if terminal:
            assert grid_drawn == table_drawn


def test_the_readme_states_the_measured_worst_cases() -> None:
    errors = page("reference/errors.md")
    assert "benchmarks/limits.py" in errors and "worst case" in errors
    assert (REPO / "benchmarks" / "limits.py").exists()
    assert SPECS.exists()
