"""What users write that convcalc calls otherwise: layer types by other names, and PyTorch's (or Keras') keywords.

An unknown layer type is suggested by meaning first (``dense`` -> ``linear``; ``instancenorm`` has no kind, and the hint
says so instead of suggesting a look-alike), then only as a close misspelling. An unknown key that is a framework's
name for a convcalc key names convcalc's key; one that convcalc has no use for says why. Only data and lookups:
the spec builder raises the errors.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

TYPE_SYNONYMS = {
    "convolution": "conv",
    "deconv": "conv_transpose",
    "deconvolution": "conv_transpose",
    "convtranspose": "conv_transpose",
    "transposedconv": "conv_transpose",
    "upconv": "conv_transpose",
    "dense": "linear",
    "fc": "linear",
    "fullyconnected": "linear",
    "innerproduct": "linear",
    "bn": "batchnorm",
    "batchnormalization": "batchnorm",
    "maxpooling": "maxpool",
    "avgpooling": "avgpool",
    "averagepooling": "avgpool",
    "averagepool": "avgpool",
    "adaptiveavgpool": "adaptive_avgpool",
    "adaptivemaxpool": "adaptive_maxpool",
    "gap": "global_avgpool",
    "globalavgpool": "global_avgpool",
    "globalaveragepooling": "global_avgpool",
    "globalmaxpooling": "global_maxpool",
    "localresponsenorm": "lrn",
    "localresponsenormalization": "lrn",
    "reshape": "flatten",
    "view": "flatten",
    "interpolate": "upsample",
    "upsampling": "upsample",
    "resize": "upsample",
    "centercrop": "crop",
    "swish": "silu",
    "hswish": "hardswish",
    "hsigmoid": "hardsigmoid",
    "leakyrelu": "leaky_relu",
    "lrelu": "leaky_relu",
    "cat": "concat",
    "concatenate": "concat",
    "sum": "add",
    "plus": "add",
    "mul": "multiply",
    "mult": "multiply",
    "layerscale": "scale",
    "zeropad": "pad",
    "zeropadding": "pad",
    "layernormalization": "layernorm",
    "groupnormalization": "groupnorm",
    "droppath": "stochastic_depth",
    "stochasticdepth": "stochastic_depth",
    "channelshuffle": "channel_shuffle",
    "pixelshuffle": "pixel_shuffle",
    "pixelunshuffle": "pixel_unshuffle",
    "depthtospace": "pixel_shuffle",
    "spacetodepth": "pixel_unshuffle",
    "split": "slice",
    "chunk": "slice",
}
"""Other names of convcalc's layer types (compared lower-case, without _, - and a 1d/2d suffix)."""

_NO_NORM = "convcalc has no {} normalisation; 'layernorm', 'groupnorm' and 'batchnorm' are the norms it counts"
MISSING_TYPES = {
    "instancenorm": _NO_NORM.format("instance"),
    "prelu": "convcalc has no prelu (learned slopes); 'leaky_relu' costs the same at inference",
    "attention": "convcalc counts convolutional networks: it has no attention layer",
    "multiheadattention": "convcalc counts convolutional networks: it has no attention layer",
}
"""Names of layers that convcalc has no kind for, with what to do instead (no look-alike is suggested)."""

KEY_SYNONYMS: dict[str, str | None] = {
    "kernel_size": "kernel",
    "pool_size": "kernel",
    "out_channels": "filters",
    "num_filters": "filters",
    "out_features": "units",
    "strides": "stride",
    "dilation_rate": "dilation",
    "use_bias": "bias",
    "scale_factor": "scale",
    "output_size": "output",
    "p": "rate",
    "in_channels": None,
    "in_features": None,
    "num_features": None,
    "inplace": None,
    "negative_slope": None,
    "padding_mode": None,
    "activation": None,
}
"""PyTorch's (and Keras') keyword names: convcalc's key for each, or None for one convcalc does without."""

KEY_REASONS = {
    "in_channels": "the input channels come from the layer's input",
    "in_features": "the input features come from the layer's input",
    "num_features": "the channels come from the layer's input",
    "inplace": "only relu, relu6, leaky_relu, silu, hardsigmoid and hardswish run in place (as in PyTorch)",
    "negative_slope": "the counts do not depend on it",
    "padding_mode": "the counts do not depend on it (convcalc pads with zeros)",
    "activation": "write the activation as a layer of its own after this one, e.g. {type: relu}",
}


def _plain(word: str) -> str:
    """``Conv2d``, ``conv_2d``, ``BatchNorm2D`` -> ``conv``, ``conv``, ``batchnorm``."""
    return re.sub(r"[1-3]d$", "", re.sub(r"[\s_\-]", "", word.lower()))


def type_hint(word: object, types: Iterable[str]) -> str | None:
    """A hint for an unknown layer type: its name in convcalc, what to do where convcalc has no such kind, a close
    misspelling of one of ``types``, or None."""
    if not isinstance(word, str):
        return None
    known = list(types)
    plain = _plain(word)
    by_plain = {_plain(name): name for name in known}
    if plain in by_plain and by_plain[plain] != word:
        if re.search(r"[1-3]d$", word.lower()):  # conv1d, MaxPool3d: the input's rank gives the dimensionality
            return (
                f"did you mean '{by_plain[plain]}'? It works in 1-D, 2-D and 3-D: its input's rank ([channels, "
                "length], [channels, height, width] or [channels, depth, height, width]) says which"
            )
        return f"did you mean '{by_plain[plain]}'?"
    if plain in TYPE_SYNONYMS and TYPE_SYNONYMS[plain] in known:
        return f"convcalc calls it '{TYPE_SYNONYMS[plain]}'"
    if plain in MISSING_TYPES:
        return MISSING_TYPES[plain]
    match = difflib.get_close_matches(word, known, n=1, cutoff=0.7)
    return f"did you mean '{match[0]}'?" if match else None


def key_hint(key: object, allowed: Iterable[str]) -> str | None:
    """A hint for an unknown key that is another framework's name: convcalc's key where it is ``allowed`` here,
    or why convcalc has none; None for any other key."""
    if not isinstance(key, str) or key not in KEY_SYNONYMS:
        return None
    target = KEY_SYNONYMS[key]
    if target is None:
        return f"convcalc has no '{key}': {KEY_REASONS[key]}"
    return f"'{key}' is '{target}' in convcalc" if target in list(allowed) else None
