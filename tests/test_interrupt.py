"""Ctrl-C (issue 26): exit code 130, no traceback, and no file half written.

The interrupt is raised where it would land (in the engine, in the ONNX reader while the file is mapped, in the
middle of writing an output file), in process, so that each test is exact and fast; one test sends a real SIGINT
to a real process once it is working.
"""

from __future__ import annotations

import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests import onnxbuild as ob
from tests.conftest import REPO, run_cli

SPEC = "input: [3, 8, 8]\nlayers:\n  - {type: conv, name: c, filters: 4, kernel: 3}\n  - {type: relu, name: r}\n"


def interrupt(*_: Any, **__: Any) -> Any:
    raise KeyboardInterrupt


def interrupted(result: Any) -> None:
    assert result.code == 130, result.stderr
    assert "Traceback" not in result.stderr and "error" not in result.stderr, result.stderr


def test_ctrl_c_while_analysing_exits_130(write_spec, monkeypatch: pytest.MonkeyPatch) -> None:
    import convcalc.api

    monkeypatch.setattr(convcalc.api, "analyze_spec", interrupt)
    interrupted(run_cli("analyze", str(write_spec(SPEC)), "--format", "json"))


def test_ctrl_c_while_reading_an_onnx_file_exits_130(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The interrupt lands while the reader holds a view of the file's bytes (it was a BufferError when the file was
    mapped, and the mapping closed under the views the traceback held)."""
    import convcalc.importers.onnx.model as model

    nodes = [ob.node("Relu", ["x"], ["r"], "relu1"), ob.node("Relu", ["r"], ["y"], "relu2")]
    path = tmp_path / "net.onnx"
    path.write_bytes(ob.model(nodes, [("x", [1, 3, 4, 4])], [("y", [1, 3, 4, 4])]))
    read_node = model.read_node

    def second_node_interrupts(source: Any, span: tuple[int, int]) -> Any:
        node = read_node(source, span)
        if node.name == "relu2":
            held = source.window(*span)  # noqa: F841 - a view in the frame the traceback keeps
            raise KeyboardInterrupt
        return node

    monkeypatch.setattr(model, "read_node", second_node_interrupts)
    interrupted(run_cli("analyze", str(path)))
    interrupted(run_cli("import", str(path)))


@pytest.mark.parametrize("where", ["open", "fsync", "chmod", "replace"])
def test_ctrl_c_while_writing_leaves_the_old_file_and_no_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """The interrupt lands just after each step of the atomic write: the old file stays whole (or, once renamed,
    the new one is), and no temporary file is left beside it."""
    spec = tmp_path / "net.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    out = tmp_path / "out.svg"
    out.write_text("the old, valid file\n", encoding="utf-8")
    real = {name: getattr(os, name) for name in ("open", "fsync", "chmod", "replace")}

    def then_interrupt(name: str) -> Any:
        def step(*args: Any, **kwargs: Any) -> Any:
            result = real[name](*args, **kwargs)
            if name != "open" or str(args[0]).endswith(".tmp"):
                raise KeyboardInterrupt
            return result

        return step

    monkeypatch.setattr(os, where, then_interrupt(where))
    result = run_cli("analyze", str(spec), "--svg", str(out))
    monkeypatch.undo()
    interrupted(result)
    text = out.read_text(encoding="utf-8")
    assert text == "the old, valid file\n" if where != "replace" else text.startswith("<svg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.yaml", "out.svg"]


def test_a_real_sigint_exits_130(tmp_path: Path) -> None:
    """A SIGINT to a real `convcalc analyze` reading standard input: sent once the process waits for its input
    (its imports done), then the spec arrives."""
    process = subprocess.Popen(
        [sys.executable, "-m", "convcalc", "analyze", "-", "--format", "json"],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None
    deadline = time.monotonic() + 30
    while not waiting_for_input(process.pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(SPEC.encode(), timeout=60)
    assert process.returncode == 130, stderr.decode()
    assert stderr == b"" and stdout == b""


def waiting_for_input(pid: int) -> bool:
    """Whether a process is blocked in read(2) on its standard input (Linux: /proc/PID/syscall)."""
    try:
        call = Path(f"/proc/{pid}/syscall").read_text().split()
    except OSError:
        pytest.skip("/proc/PID/syscall is not readable here")
    read = {"x86_64": "0", "aarch64": "63"}.get(platform.machine())
    if read is None:
        pytest.skip(f"the number of read(2) on {platform.machine()} is not listed here")
    return call[:2] == [read, "0x0"]  # read(0, ...)
