"""Model files by suffix (convcalc.formats): ONNX is read, and a format convcalc cannot read is named, with what to do,
instead of being read as a YAML spec ("the file is not UTF-8 text", "more than 16 MiB; is it a spec?")."""

from __future__ import annotations

from pathlib import Path

import pytest

import convcalc
from convcalc.core.errors import SpecError
from convcalc.formats import FORMATS, format_of
from tests.conftest import REPO, run_cli

# the first bytes of each format as its tools write it (a zip for torch.save, HDF5's signature for Keras' .h5)
SAMPLES = {
    "model.pt": (b"PK\x03\x04" + b"\x00" * 60, "PyTorch checkpoint", "torch.onnx.export"),
    "weights.pth": (b"\x80\x02" + b"\x00" * 60, "PyTorch checkpoint", "torch.onnx.export"),
    "model.h5": (b"\x89HDF\r\n\x1a\n" + b"\x00" * 60, "Keras model", "tf2onnx"),
    "model.keras": (b"PK\x03\x04" + b"\x00" * 60, "Keras model", "tf2onnx"),
    "model.tflite": (b"\x1c\x00\x00\x00TFL3" + b"\x00" * 60, "TensorFlow Lite model", "tflite2onnx"),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_a_model_file_convcalc_cannot_read_is_named_with_what_to_do(tmp_path: Path, name: str) -> None:
    data, format_name, tool = SAMPLES[name]
    path = tmp_path / name
    path.write_bytes(data)
    for command in (("analyze", str(path)), ("import", str(path))):
        result = run_cli(*command)
        assert result.code == 2, result
        assert f"a {format_name} cannot be read by convcalc" in result.stderr
        assert "export the model to ONNX" in result.stderr and tool in result.stderr
        assert "UTF-8" not in result.stderr and "is it a spec" not in result.stderr


def test_the_library_says_the_same() -> None:
    with pytest.raises(SpecError, match="PyTorch checkpoint cannot be read"):
        convcalc.load_spec("resnet50.pth")


def test_suffixes_are_matched_whatever_their_case_and_only_at_the_end() -> None:
    assert format_of("MODEL.ONNX") is FORMATS[0]
    assert format_of("net.onnx.yaml") is None and format_of("specs/alexnet.yaml") is None
    assert format_of("x.PT").name == "PyTorch checkpoint"  # type: ignore[union-attr]


def test_no_suffix_belongs_to_two_formats() -> None:
    suffixes = [suffix for entry in FORMATS for suffix in entry.suffixes]
    assert len(suffixes) == len(set(suffixes))


def test_every_reader_names_a_function_that_exists() -> None:
    import importlib

    for entry in FORMATS:
        if entry.reader is not None:
            module, function = entry.reader.split(":")
            assert callable(getattr(importlib.import_module(module), function)), entry
        else:
            assert entry.advice, entry


def test_an_onnx_model_still_imports() -> None:
    model = REPO / "tests" / "data" / "onnx" / "lenet5.onnx"
    result = run_cli("import", str(model))
    assert result.code == 0 and "layers:" in result.stdout
