"""The model files convcalc reads, by suffix: one table that the library, `convcalc analyze` and `convcalc import` use.

A file whose suffix no entry names is a YAML spec. An entry with a reader names it as ``module:function`` and is
imported only when such a file is read (the cold start of `convcalc analyze spec.yaml` loads no importer); an entry
without one is a format convcalc recognises but cannot read, and says what to do instead.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import NamedTuple

from convcalc.core.errors import SpecError
from convcalc.engine.graph import Graph

Reader = Callable[[str, "dict[str, str] | None"], Graph]
"""A front end's entry: a path, and a mapping it fills with each layer's name in the file -> the graph."""


class Format(NamedTuple):
    """A kind of model file: its name, its suffixes, its reader (``module:function``) or, if none, what to do."""

    name: str
    suffixes: tuple[str, ...]
    reader: str | None
    advice: str = ""

    def read(self, path: str, origins: dict[str, str] | None = None) -> Graph:
        """The file's graph; a SpecError naming the format and what to do when convcalc cannot read it."""
        if self.reader is None:
            raise SpecError(f"{path}: a {self.name} cannot be read by convcalc", hint=self.advice)
        module, function = self.reader.split(":")
        read: Reader = getattr(importlib.import_module(module), function)
        return read(path, origins)


TO_ONNX = "export the model to ONNX and analyze that file"
FORMATS = (
    Format("ONNX model", (".onnx",), "convcalc.importers.onnx.read:read_onnx_file"),
    Format(
        "PyTorch checkpoint",
        (".pt", ".pth", ".ckpt"),
        None,
        "it holds weights, not the network's code: " + TO_ONNX + " (torch.onnx.export(model, example, 'model.onnx'))",
    ),
    Format("Keras model", (".h5", ".hdf5", ".keras"), None, TO_ONNX + " (tf2onnx: python -m tf2onnx.convert)"),
    Format("TensorFlow Lite model", (".tflite",), None, TO_ONNX + " (tflite2onnx, or tf2onnx --tflite)"),
    Format("safetensors file", (".safetensors",), None, "it holds weights only: " + TO_ONNX),
)
"""Every model format convcalc recognises, by suffix."""


def format_of(path: str) -> Format | None:
    """The model format a path's suffix names; None for a spec (any other suffix)."""
    lowered = path.lower()
    return next((entry for entry in FORMATS if lowered.endswith(entry.suffixes)), None)
