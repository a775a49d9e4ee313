"""The documentation (README.md and the MkDocs site under docs/): every transcript is real output, the generated pages
are what tools/gen_docs.py writes now, the site builds without a warning, and no page or file names a machine path."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from convcalc.kinds.catalogue import KINDS
from tests.conftest import REPO, SPECS, run_cli
from tests.docs import block_after, fenced_blocks, page, page_names, section

_spec = importlib.util.spec_from_file_location("gen_docs", REPO / "tools" / "gen_docs.py")
assert _spec is not None and _spec.loader is not None
gen_docs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen_docs)

GENERATED = {path.as_posix(): text for path, text in gen_docs.pages().items()}


# --- generated pages ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_a_generated_page_is_what_the_script_writes_now(name: str) -> None:
    assert page(name) == GENERATED[name], f"docs/{name} is stale: run `python tools/gen_docs.py`"


def test_no_generated_page_is_left_over() -> None:
    assert gen_docs.orphans(gen_docs.pages()) == []


def test_a_command_page_is_its_help() -> None:
    """The generator's own output, against the command line's: `convcalc sweep --help` names its options."""
    text = page("reference/cli/sweep.md")
    assert "$ convcalc sweep --help\nUsage: convcalc sweep [OPTIONS] {spec}" in text
    for option in ("--input", "--format", "--exact", "--batch", "--dtype"):
        assert option in text and option in run_cli("sweep", "--help").stdout


def test_the_command_line_overview_links_every_command_page() -> None:
    overview = page("reference/cli/index.md")
    for name in GENERATED:
        if name.startswith("reference/cli/"):
            assert f"]({Path(name).name})" in overview, name


def test_the_spec_language_lists_the_keys_of_every_kind() -> None:
    """The keys table is written by hand (keys, defaults and what they mean); a new kind needs its row."""
    layers = section("reference/spec-language.md", "## Layers")
    rows = [line.split(" | ")[0] for line in layers.splitlines() if line.startswith("| `")]
    listed = set(re.findall(r"`(\w+)`", " ".join(rows)))
    assert [kind.type for kind in KINDS if kind.type not in listed] == []


# --- transcripts: `$ convcalc ...` and what it printed ------------------------------------------------------------


def transcripts() -> list[tuple[str, str, list[str]]]:
    """Every command shown with its output in a fenced block of README or a hand-written page: (page, command line,
    the lines shown after it up to the next command)."""
    found = []
    for name in page_names():
        if name in GENERATED:
            continue
        for _, lines in fenced_blocks(page(name)):
            command = None
            for line in lines:
                if line.startswith("$ "):
                    command = line[2:]
                    found.append((name, command, []))
                elif command is not None:
                    found[-1][2].append(line.rstrip())
    return found


def filtered(lines: list[str], stage: str) -> list[str]:
    """What one stage of a shell pipeline after convcalc leaves: grep WORD, head -N, tail -N or jq PATH."""
    words = shlex.split(stage)
    if words[0] == "grep" and len(words) == 2:
        return [line for line in lines if words[1] in line]
    if words[0] in ("head", "tail") and len(words) == 2 and words[1].startswith("-"):
        count = int(words[1][1:])
        return lines[:count] if words[0] == "head" else lines[-count:]
    if words[0] == "jq" and len(words) == 2 and re.fullmatch(r"(\.\w+)+", words[1]):
        value = json.loads("\n".join(lines))
        for key in words[1].split(".")[1:]:
            value = value[key]
        return json.dumps(value, indent=2).splitlines()
    raise AssertionError(f"a transcript pipes into {stage!r}, which tests/test_docs.py cannot check")


def printed(command: str, tmp_path: Path) -> list[str]:
    """What a transcript's command line prints, run in the checkout as a user runs it."""
    command = re.split(r"\s{2,}#\s", command)[0].strip()
    script = re.fullmatch(r"(convcalc .+) > (\w+\.py) && python \2", command)
    stages = [script.group(1)] if script else command.split(" | ")
    arguments = shlex.split(stages[0])
    assert arguments[0] == "convcalc", command
    result = run_cli(*arguments[1:])
    assert result.code == 0, result.stderr
    if script:  # the exported PyTorch module, run as a script
        pytest.importorskip("torch", reason="running the exported module needs torch (pip install '.[torch]')")
        (tmp_path / "model.py").write_text(result.stdout, encoding="utf-8")
        run = subprocess.run([sys.executable, "model.py"], cwd=tmp_path, capture_output=True, text=True, check=True)
        return run.stdout.splitlines()
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    for stage in stages[1:]:
        lines = filtered(lines, stage)
    return lines


OWN_FILES = {"convcalc analyze net.yaml": "reference/errors.md shows its net.yaml; test_the_error_examples_are_real"}
"""Transcripts whose input is a file the page shows rather than one in the checkout: checked by the test named."""


@pytest.mark.parametrize(("name", "command", "shown"), transcripts(), ids=lambda value: str(value)[:60])
def test_a_transcript_is_real_output(
    name: str, command: str, shown: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if any(command.startswith(own) for own in OWN_FILES):
        return
    monkeypatch.chdir(REPO)
    real = printed(command, tmp_path)
    if shown[:1] == ["..."]:  # the output's beginning left out
        assert real[len(real) - len(shown) + 1 :] == shown[1:], name
    elif shown[-1:] == ["..."]:  # its end left out
        assert real[: len(shown) - 1] == shown[:-1], name
    else:
        assert real == shown, name


def test_transcripts_cover_the_readme_examples() -> None:
    """The five examples README shows, and the pages' own; a change that hid them from the parser would fail here."""
    commands = [command for name, command, _ in transcripts() if name == "README.md"]
    assert len(commands) >= 8 and any(command.startswith("convcalc compare") for command in commands)
    assert len(transcripts()) >= 20


NET = """\
input: [3, 32, 32]
layers:
  - {type: conv, name: conv1, filters: 16, kernel: 5}
  - {type: maxpool, kernel: 2}
  - {type: conv, name: conv2, filter: 32, kernel: 3}
"""


def test_the_error_examples_are_real(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """reference/errors.md: the spec it shows, misspelt (`filter`), then with conv2's kernel larger than its input."""
    errors = page("reference/errors.md")
    shown = "\n".join(block_after("reference/errors.md", "the spec `net.yaml`")) + "\n"
    monkeypatch.chdir(tmp_path)
    Path("net.yaml").write_text(shown, encoding="utf-8")
    misspelt = run_cli("analyze", "net.yaml")
    assert misspelt.code == 2
    assert f"$ convcalc analyze net.yaml\n{misspelt.stderr}```" in errors
    Path("net.yaml").write_text(shown.replace("filter: 32, kernel: 3", "filters: 32, kernel: 15"), encoding="utf-8")
    too_large = run_cli("analyze", "net.yaml")
    assert too_large.code == 2
    example = block_after("reference/errors.md", "the layers that did work come first")
    assert example[0].startswith("$ convcalc analyze net.yaml  ")
    assert example[1:] == [line.rstrip() for line in (too_large.stdout + too_large.stderr).splitlines()]
    # conv1: 5 * 5 * 3 * 16 + 16 = 1,216 params at (32 - 5 + 1) = 28; the pool halves it to 14, under 15
    assert "1,216" in "\n".join(example) and "16x14x14" in "\n".join(example)


@pytest.mark.parametrize("spec", ["inception-5x5", "inception-5x5-bottleneck"])
def test_the_first_tutorial_shows_the_bundled_specs(spec: str) -> None:
    """tutorials/first-spec.md shows the bundled files, their comments left out."""
    text = (SPECS / f"{spec}.yaml").read_text(encoding="utf-8")
    written = [line for line in text.splitlines() if not line.startswith("#")]
    assert written in [lines for info, lines in fenced_blocks(page("tutorials/first-spec.md")) if info == "yaml"]


def uncommented(lines: list[str]) -> list[str]:
    """YAML lines without their trailing comments and spaces."""
    return [re.split(r"\s+# ", line)[0].rstrip() for line in lines]


def test_the_resnet_walkthrough_shows_the_bundled_spec() -> None:
    """Every YAML excerpt of tutorials/resnet50.md is lines of specs/resnet50.yaml, in order (comments aside)."""
    spec = uncommented((SPECS / "resnet50.yaml").read_text(encoding="utf-8").splitlines())
    excerpts = [lines for info, lines in fenced_blocks(page("tutorials/resnet50.md")) if info == "yaml"]
    assert len(excerpts) == 3
    for excerpt in excerpts:
        shown = uncommented(excerpt)
        assert any(spec[start : start + len(shown)] == shown for start in range(len(spec))), excerpt[0]


# --- options named in the docs exist --------------------------------------------------------------------------------


def test_every_option_the_docs_name_is_in_its_commands_help() -> None:
    """A command line written in a page (in a code block, or inline as `convcalc CMD ...`) uses only options its
    command has: a renamed or removed option fails here."""
    helps = {
        name.removeprefix("reference/cli/").removesuffix(".md"): text
        for name, text in GENERATED.items()
        if name.startswith("reference/cli/")
    }
    pattern = re.compile(r"(?:^|`|\$ )convcalc (\w+)([^`\n|>]*)")
    wrong = []
    for name in page_names():
        for command, rest in pattern.findall(page(name)):
            if command not in helps:
                continue
            for option in re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", rest):
                if not re.search(rf"(?<![\w-]){re.escape(option)}[ ,=\]\n]", helps[command]):
                    wrong.append(f"{name}: convcalc {command} {option}")
    assert wrong == []


# --- the site -------------------------------------------------------------------------------------------------------


def test_the_site_builds_without_a_warning(tmp_path: Path) -> None:
    """`mkdocs build --strict` (mkdocs and mkdocs-material are in the test extra): a broken link or anchor, a page
    missing from the navigation or a stray file is a warning, and a warning fails the build."""
    environment = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, env=environment)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNING" not in output, output
    built = tmp_path / "site"
    assert (built / "index.html").is_file() and (built / "reference" / "layer-kinds" / "index.html").is_file()


# --- the project's files --------------------------------------------------------------------------------------------


def test_the_license_is_the_one_pyproject_names() -> None:
    assert 'license = "MIT"' in (REPO / "pyproject.toml").read_text(encoding="utf-8")
    license_text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert license_text.startswith("MIT License\n") and "the convcalc authors" in license_text


def test_the_changelog_has_the_current_version() -> None:
    from convcalc import __version__

    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in changelog and f"## [{__version__}] - " in changelog


def test_contributing_has_the_three_recipes() -> None:
    contributing = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
    for recipe in ("a layer kind", "an ONNX op", "a convention"):
        assert f"<!-- layout -->\n## Adding {recipe}\n" in contributing, recipe


WRITTEN = {"benchmarks/results.json", "benchmarks/results-peers.json"}
"""Files the docs name that a run writes (ignored by git), not files of the checkout."""


def test_every_path_the_docs_name_exists() -> None:
    """A path in backticks under convcalc/, tests/, tools/, benchmarks/, specs/ or docs/ names a file or folder of the
    checkout (a placeholder in capitals, `TOOL.json`, aside): a moved or renamed file must be followed in the docs."""
    texts = {name: page(name) for name in page_names()}
    texts |= {name: (REPO / name).read_text(encoding="utf-8") for name in ("CONTRIBUTING.md", "CHANGELOG.md")}
    missing = []
    for name, text in texts.items():
        for path in re.findall(r"`((?:convcalc|tests|tools|benchmarks|specs|docs)/[\w./-]*)", text):
            path = path.rstrip("./")
            if path not in WRITTEN and not re.search(r"[A-Z]", path.rsplit("/", 1)[-1]) and not (REPO / path).exists():
                missing.append(f"{name}: {path}")
    assert missing == []


# --- no machine paths -----------------------------------------------------------------------------------------------

MACHINE = re.compile("/" + "(?:work|home|root|Users|mnt)/")
"""The start of an absolute path on a development machine (written in two parts, so that this file passes)."""
SKIPPED = {"build", "dist", "site", "__pycache__"}
"""Folders of builds, not of the project (and any hidden folder but .ci: .git, .venv, caches; and a worktree's .git
file, which names where its repository is)."""


def skipped(folders: tuple[str, ...]) -> bool:
    return any(f in SKIPPED or f.endswith(".egg-info") or (f.startswith(".") and f != ".ci") for f in folders)


def test_no_file_names_a_machine_path() -> None:
    """Commands and docs take a virtual environment or a folder from an environment variable or a path relative to
    the checkout, never from where they happen to be on one machine."""
    named = []
    for path in sorted(REPO.rglob("*")):
        if not path.is_file() or path.name == ".git" or skipped(path.relative_to(REPO).parts[:-1]):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary: ONNX fixtures, pictures
        lines = enumerate(text.splitlines(), 1)
        named += [f"{path.relative_to(REPO)}:{number}" for number, line in lines if MACHINE.search(line)]
    assert named == []
