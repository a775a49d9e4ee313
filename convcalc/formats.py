"""The model files convcalc reads, by suffix: one table that the library, `convcalc analyze` and `convcalc import` use.

A file whose suffix no entry names is a YAML spec, unless it is an import path ``package.module:factory`` naming a
PyTorch module (:data:`IMPORT_PATH`: reading it imports and runs that code). An entry with a reader names it as
``module:function`` and is imported only when such a file is read (the cold start of `convcalc analyze spec.yaml`
loads no importer); an entry without one is a format convcalc recognises but cannot read, and says what to do
instead.
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Sequence
from typing import NamedTuple

from convcalc.core.errors import SpecError
from convcalc.engine.graph import Graph


class Format(NamedTuple):
    """A kind of model file: its name, its suffixes, its reader (``module:function``: a path and a mapping it fills
    with each layer's name in the file -> the graph) or, if none, what to do."""

    name: str
    suffixes: tuple[str, ...]
    reader: str | None
    advice: str = ""
    sized: bool = False
    """Its reader takes the input size as a third argument: a module states none of its own."""
    fills: bool = False
    """Its reader takes the input size as a third argument for sizes the file names, not numbers (dynamic axes)."""

    def read(self, path: str, origins: dict[str, str] | None = None, input_shape: Sequence[int] | None = None) -> Graph:
        """The file's graph; a SpecError naming the format and what to do when convcalc cannot read it."""
        if self.reader is None:
            raise SpecError(f"{path}: a {self.name} cannot be read by convcalc", hint=self.advice)
        module, function = self.reader.split(":")
        read = getattr(importlib.import_module(module), function)
        graph: Graph = read(path, origins, input_shape) if self.sized or self.fills else read(path, origins)
        return graph


TO_ONNX = "export the model to ONNX and analyze that file"
FORMATS = (
    Format("ONNX model", (".onnx",), "convcalc.importers.onnx.read:read_onnx_file", fills=True),
    Format("PyTorch ExportedProgram", (".pt2",), "convcalc.importers.torch.read:read_exported"),
    Format(
        "PyTorch checkpoint",
        (".pt", ".pth", ".ckpt"),
        None,
        "it holds weights, not the network's code: name the function that builds the module (convcalc analyze "
        "'package.module:factory' --input 3x224x224), save a torch.export program (.pt2), or "
        + TO_ONNX
        + " (torch.onnx.export(model, example, 'model.onnx'))",
    ),
    Format("Keras model", (".h5", ".hdf5", ".keras"), None, TO_ONNX + " (tf2onnx: python -m tf2onnx.convert)"),
    Format("TensorFlow Lite model", (".tflite",), None, TO_ONNX + " (tflite2onnx, or tf2onnx --tflite)"),
    Format("safetensors file", (".safetensors",), None, "it holds weights only: " + TO_ONNX),
)
"""Every model format convcalc recognises, by suffix."""


IMPORT_PATH = Format("PyTorch module", (), "convcalc.importers.torch.read:read_factory", sized=True)
"""``package.module:factory``, as uvicorn names an app: the module a callable returns (or the module itself)."""
IMPORT_FORM = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def format_of(path: str) -> Format | None:
    """The model format a path's suffix names, or the import path of a PyTorch module; None for a spec (any other
    suffix)."""
    lowered = path.lower()
    found = next((entry for entry in FORMATS if lowered.endswith(entry.suffixes)), None)
    if found is None and IMPORT_FORM.match(path) and not os.path.exists(path):
        return IMPORT_PATH
    return found
