"""The worst cases convcalc allows, and the bombs it refuses, timed as whole runs (docs/reference/errors.md).

Run from the repository root:  python benchmarks/limits.py
Each case is a new `python -m convcalc` process on a generated spec; it prints a markdown table of wall time and
peak memory (the child's maximum resident set size) and writes benchmarks/limits.json. The cases run one after
another (never in parallel), about a minute in all.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))  # the checkout's convcalc, which the timed runs (`python -m convcalc` in REPO) use

from convcalc.spec.lower import MAX_LAYERS  # noqa: E402
from convcalc.spec.reader import MAX_BYTES, MAX_NODES  # noqa: E402

HEAD = "input: [3, 8, 8]\nlayers:\n"
CHUNK = 100_000


def chain(layers: int) -> Iterator[str]:
    """The cheapest spec at the layer limit: three lines, one relu repeated."""
    yield f"{HEAD}  - {{type: relu, repeat: {layers}}}\n"


def conv_chain(layers: int) -> Iterator[str]:
    """The same number of layers, each a 3x3 conv with padding: every formula and the receptive field at work."""
    yield f"{HEAD}  - {{type: conv, filters: 3, kernel: 3, padding: 1, repeat: {layers}}}\n"


def conv_blocks(instances: int) -> Iterator[str]:
    """A block of one 3x3 conv, repeated: what `compare -b` can rewrite (a block instance counts one layer)."""
    yield "input: [3, 8, 8]\nblocks:\n  unit:\n    layers: [{type: conv, filters: 4, kernel: 3, padding: 1}]\n"
    yield f"layers:\n  - {{block: unit, repeat: {instances}}}\n"


def written_out(nodes: int) -> Iterator[str]:
    """A spec written out one layer a line, as many layers as fit in ``nodes`` YAML nodes (a relu is 3 nodes)."""
    yield HEAD
    for start in range(0, (nodes - 10) // 3, CHUNK):
        yield "  - {type: relu}\n" * min(CHUNK, (nodes - 10) // 3 - start)


def flow_list(numbers: int) -> Iterator[str]:
    """A document of one list of ``numbers`` integers: the most YAML nodes per byte."""
    yield f"{HEAD}  - {{type: relu}}\ndescription: [1"
    for start in range(1, numbers, CHUNK):
        yield ", 1" * min(CHUNK, numbers - start)
    yield "]\n"


def alias_bomb(levels: int) -> Iterator[str]:
    """Nine aliases of nine aliases of ... one relu: 9^levels layers in a dozen lines."""
    yield HEAD
    yield "  - &l0 {type: residual, body: [{type: relu}]}\n"
    for i in range(1, levels):
        yield f"  - &l{i} {{type: residual, body: [{', '.join([f'*l{i - 1}'] * 9)}]}}\n"


def long_text(size: int) -> Iterator[str]:
    """One string of ``size`` characters: few nodes, many bytes."""
    yield f"{HEAD}  - {{type: relu}}\ndescription: '"
    for start in range(0, size, 2**20):
        yield "x" * min(2**20, size - start)
    yield "'\n"


def run(args: list[str], stdin: Path | None = None) -> tuple[float, int, int]:
    """Wall seconds, peak resident MiB and exit code of one `python -m convcalc ...` run."""
    start = time.perf_counter()
    with open(stdin or os.devnull, "rb") as source:
        process = subprocess.Popen(
            [sys.executable, "-m", "convcalc", *args],
            cwd=REPO,
            stdin=source,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss // 1024, process.returncode


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="convcalc-limits-"))

    def spec(name: str, text: Callable[[], Iterator[str]]) -> str:
        """Write a generated spec in pieces (this process stays small: a child's peak memory counts the parent's)."""
        path = folder / f"{name}.yaml"
        with path.open("w", encoding="utf-8") as handle:
            handle.writelines(text())
        return str(path)

    at_limit = spec("chain", lambda: chain(MAX_LAYERS))
    convs = spec("convs", lambda: conv_chain(MAX_LAYERS))
    cases: list[tuple[str, list[str]]] = [
        ("python -m convcalc --version (start-up alone)", ["--version"]),
        (f"{MAX_LAYERS:,} relus (repeat): analyze --format json", ["analyze", at_limit, "--format", "json"]),
        (f"{MAX_LAYERS:,} relus: analyze (table)", ["analyze", at_limit]),
        (f"{MAX_LAYERS:,} relus: analyze --format csv", ["analyze", at_limit, "--format", "csv"]),
        (f"{MAX_LAYERS:,} 3x3 convs: analyze --format json", ["analyze", convs, "--format", "json"]),
        (f"{MAX_LAYERS:,} 3x3 convs: analyze (table, every column)", ["analyze", convs, "--columns", ALL_COLUMNS]),
        (f"{MAX_LAYERS:,} 3x3 convs: explain (every layer)", ["explain", convs]),
        (f"{MAX_LAYERS:,} 3x3 convs: export --to pytorch", ["export", convs]),
        (f"{MAX_LAYERS:,} 3x3 convs: compare with itself", ["compare", convs, convs]),
        (
            f"{MAX_LAYERS // 3:,} blocks of a 3x3 conv: compare -b all=0.5 ({MAX_LAYERS // 3 * 3:,} layers after)",
            ["compare", spec("blocks", lambda: conv_blocks(MAX_LAYERS // 3)), "-b", "all=0.5"],
        ),
        (f"{MAX_LAYERS:,} 3x3 convs: sweep at 3 sizes", ["sweep", convs, "--input", "8,16,32"]),
        (
            f"{(MAX_NODES - 10) // 3:,} layers written out ({MAX_NODES:,} nodes): refused, > {MAX_LAYERS:,} layers",
            ["analyze", spec("written", lambda: written_out(MAX_NODES)), "--format", "json"],
        ),
        (
            f"a list of {MAX_NODES - 20:,} numbers (just under {MAX_NODES:,} nodes): read, then refused",
            ["analyze", spec("nodes", lambda: flow_list(MAX_NODES - 20)), "--format", "json"],
        ),
        (
            f"a list of {(MAX_BYTES - 2**10) // 3:,} numbers ({MAX_BYTES // 2**20} MiB): refused at the node limit",
            ["analyze", spec("bomb", lambda: flow_list((MAX_BYTES - 2**10) // 3)), "--format", "json"],
        ),
        (
            "a list of 31,000,000 numbers (89 MiB): refused by its size",
            ["analyze", spec("big", lambda: flow_list(31_000_000)), "--format", "json"],
        ),
        (
            f"one text of {MAX_BYTES // 2**20 - 1} MiB (under the size limit)",
            ["analyze", spec("text", lambda: long_text(MAX_BYTES - 2**20)), "--format", "json"],
        ),
        ("9^12 layers by YAML aliases: refused", ["analyze", spec("lol", lambda: alias_bomb(12)), "--format", "json"]),
        ("{type: relu, repeat: 999999}: refused", ["analyze", spec("repeat", lambda: chain(999_999))]),
    ]
    results = []
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}\n")
    print("| case | exit | time | peak memory |\n|---|---:|---:|---:|")
    for label, args in cases:
        seconds, mib, code = run(args)
        results.append({"case": label, "exit": code, "seconds": round(seconds, 3), "peak_mib": mib})
        print(f"| {label} | {code} | {seconds:.2f} s | {mib} MiB |", flush=True)
    (HERE / "limits.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()


ALL_COLUMNS = "name,type,input,shape,params,buffers,macs,flops,memory,weights,intensity,rf,jump,line,note,share,bar"


if __name__ == "__main__":
    main()
