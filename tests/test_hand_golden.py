"""A golden JSON document for a small network worked out by hand: every field, every number written out below.

tests/data/hand.yaml, analysed at batch 2 in float16 (2 bytes a number):

    input 2x6x5
    c1   conv 4 filters, kernel 3x2, stride 1x2, padding 1x0
         H = floor((6 + 2*1 - 3) / 1) + 1 = 6;  W = floor((5 - 2) / 2) + 1 = 2  ->  4x6x2 (48 numbers)
         (5 - 2) / 2 = 1.5: the last column is never read (a warning)
    bn   batchnorm                                                             ->  4x6x2
    res  residual: body relu 'r', then add(r, bn)                              ->  4x6x2
    fc   linear 3 units, flattens 4x6x2 = 48                                   ->  3

``python -m tests.test_hand_golden`` writes tests/data/hand.json from EXPECTED (the hand arithmetic), never from
convcalc's output; the test then holds convcalc's JSON to it, and validates it against docs/output.schema.json.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from convcalc import analyze, load_spec

DATA = Path(__file__).parent / "data"
SPEC = DATA / "hand.yaml"
GOLDEN = DATA / "hand.json"
BATCH, BYTES = 2, 2  # --batch 2 --dtype float16

FEATURES = 4 * 6 * 2  # 48 numbers per sample in every feature map after c1
MAP_BYTES = FEATURES * BATCH * BYTES  # 192
INPUT_BYTES = 2 * 6 * 5 * BATCH * BYTES  # 240

C1_PARAMS = 3 * 2 * 2 * 4 + 4  # k_h * k_w * C_in * C_out + bias = 52
C1_MACS = 6 * 2 * 4 * 3 * 2 * 2  # H_out * W_out * C_out * k_h * k_w * C_in = 576 per sample
C1_FLOPS = 2 * C1_MACS + 4 * 6 * 2  # + one bias add per output = 1,200 per sample
BN_PARAMS = BN_BUFFERS = 2 * 4  # gamma, beta; running mean, variance
FC_PARAMS = 48 * 3 + 3  # 147
FC_MACS = 48 * 3  # 144 per sample
FC_FLOPS = 2 * FC_MACS + 3  # 291 per sample


def layer(name: str, kind: str, inputs: list[str], shapes: list[list[int]], output: list[int], **values: Any) -> Any:
    counts = {"params": 0, "buffers": 0, "macs": 0, "flops": 0}
    counts.update({key: values.pop(key) for key in list(values) if key in counts})
    out_bytes = (output[0] * output[1] * output[2] if len(output) == 3 else output[0]) * BATCH * BYTES
    return {
        "name": name,
        "type": kind,
        "inputs": inputs,
        "input_shapes": shapes,
        "output_shape": output,
        **counts,
        "activation_bytes": out_bytes,
        "weight_bytes": (counts["params"] + counts["buffers"]) * BYTES,
        **values,
    }


# Receptive fields: c1 reads a 3x2 window (size), outputs are 1 row and 2 columns apart (jump), and output 0's
# window is rows -1..1 (padding 1) and columns 0..1, centred on row 0 and column 0.5 (start).
C1_FIELD = {"size": [3, 2], "jump": [1, 2], "start": [0, 0.5]}
# fc reads all 6x2 outputs: rows -1..6 (3 + (6 - 1) * 1 = 8 rows), columns 0..3 (2 + (2 - 1) * 2 = 4 columns);
# the whole is one output, so its "neighbour" would be 6 * 1 rows and 2 * 2 columns on; centred on 2.5 and 1.5.
FC_FIELD = {"size": [3 + (6 - 1) * 1, 2 + (2 - 1) * 2], "jump": [6 * 1, 2 * 2], "start": [2.5, 1.5]}

EXPECTED_LAYERS = [
    layer(
        "c1",
        "conv",
        ["input"],
        [[2, 6, 5]],
        [4, 6, 2],
        params=C1_PARAMS,
        macs=C1_MACS * BATCH,
        flops=C1_FLOPS * BATCH,
        # MACs per byte moved: 1,152 / (input 240 + output 192 + weights 52 * 2) = 1,152 / 536 = 2.1492...
        intensity=2.149,
        receptive_field=C1_FIELD,
        line=5,
    ),
    layer(
        "bn",
        "batchnorm",
        ["c1"],
        [[4, 6, 2]],
        [4, 6, 2],
        params=BN_PARAMS,
        buffers=BN_BUFFERS,
        flops=2 * FEATURES * BATCH,
        intensity=0.0,
        receptive_field=C1_FIELD,
        line=6,
    ),
    layer(
        "res.body.r",
        "relu",
        ["bn"],
        [[4, 6, 2]],
        [4, 6, 2],
        flops=FEATURES * BATCH,
        intensity=0.0,
        receptive_field=C1_FIELD,
        line=9,
    ),
    layer(
        "res",
        "add",
        ["res.body.r", "bn"],
        [[4, 6, 2], [4, 6, 2]],
        [4, 6, 2],
        flops=(2 - 1) * FEATURES * BATCH,
        intensity=0.0,
        receptive_field=C1_FIELD,
        line=7,
    ),
    layer(
        "fc",
        "linear",
        ["res"],
        [[4, 6, 2]],
        [3],
        params=FC_PARAMS,
        macs=FC_MACS * BATCH,
        flops=FC_FLOPS * BATCH,
        # 288 / (input 192 + output 3 * 2 * 2 + weights 147 * 2) = 288 / 498 = 0.5783...
        intensity=0.578,
        receptive_field=FC_FIELD,
        line=10,
        note="flattens 4x6x2 = 48",
    ),
]

EXPECTED_TOTAL = {
    "params": C1_PARAMS + BN_PARAMS + FC_PARAMS,  # 52 + 8 + 147 = 207
    "buffers": BN_BUFFERS,
    "macs": (C1_MACS + FC_MACS) * BATCH,  # 1,440
    "flops": (C1_FLOPS + 2 * FEATURES + FEATURES + FEATURES + FC_FLOPS) * BATCH,  # 3,366
    "weight_bytes": (207 + 8) * BYTES,
    "activation_bytes": 4 * MAP_BYTES + 3 * BATCH * BYTES,  # 780
    # live tensors, in order: input 240 + c1 192 = 432 (then the input is freed); c1 + bn = 384 (c1 freed);
    # bn (kept for the add) + r = 384; bn + r + res = 576 (bn and r freed); res + fc = 204. The peak: 576.
    "peak_activation_bytes": 3 * MAP_BYTES,
}

WARNING = (  # windows of 2 at stride 2 on 5 columns: out 2, the last one ends at (2 - 1) * 2 + 2 - 0 = 4 of 5
    "windows reach 4 of 5 input columns ((out 2 - 1) * stride 2 + window 2 - padding 0 = 4): "
    "the last 1 column of the input is never read"
)


def expected(convention: dict[str, str]) -> dict[str, Any]:
    """The whole document; ``convention`` is prose (the one part not worked out here), taken from the golden file."""
    return {
        "schema_version": 1,
        "name": "hand",
        "source": "tests/data/hand.yaml",
        "input": [2, 6, 5],
        "output": [3],
        "outputs": [{"layer": "fc", "shape": [3]}],  # the last layer, as the spec names no outputs
        "batch": BATCH,
        "dtype": "float16",
        "convention": convention,
        "layers": EXPECTED_LAYERS,
        "total": EXPECTED_TOTAL,
        "warnings": [{"layer": "c1", "line": 5, "code": "unread", "message": WARNING}],
    }


def golden() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(GOLDEN.read_text(encoding="utf-8"))
    return data


def analysed() -> dict[str, Any]:
    document = analyze(
        load_spec("tests/data/hand.yaml", text=SPEC.read_text(encoding="utf-8")), batch=2, dtype="float16"
    )
    return document.to_dict()


def test_the_golden_file_is_the_hand_arithmetic() -> None:
    assert golden() == expected(golden()["convention"])


def test_convcalc_gives_the_golden_document_field_for_field() -> None:
    data, want = analysed(), golden()
    assert list(data) == list(want)  # the same fields, in the same order
    for key in want:
        if key == "layers":
            for got, hand in zip(data["layers"], want["layers"], strict=True):
                assert got == hand, hand["name"]
        else:
            assert data[key] == want[key], key
    assert data == want


def test_the_totals_add_up() -> None:
    want = golden()
    for key in ("params", "buffers", "macs", "flops", "activation_bytes", "weight_bytes"):
        assert want["total"][key] == sum(layer[key] for layer in want["layers"]), key


def write() -> None:
    convention = golden()["convention"] if GOLDEN.exists() else {}
    GOLDEN.write_text(json.dumps(expected(convention), indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write()
