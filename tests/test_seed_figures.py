"""The figures of the seed documents (../shared/seed-facts.md), reproduced from the bundled specs.

Every expected number is written out as the documents' arithmetic, not copied from convcalc.
"""

from __future__ import annotations

import json

from convcalc import analyze
from tests.conftest import SPECS, run_cli


def by_name(analysis):
    return {layer.name: layer for layer in analysis.layers}


def test_alexnet_lecture_table_parameters_per_layer():
    layers = by_name(analyze(SPECS / "alexnet-lecture.yaml"))
    # seed-facts.md, Example 3: "written as" column, multiplied out.
    expected = {
        "conv1": 11 * 11 * 3 * 48 * 2,  # 34,848
        "conv2": 5 * 5 * 48 * 128 * 2,  # 307,200
        "conv3": 3 * 3 * (128 * 2) * (192 * 2),  # 884,736
        "conv4": 3 * 3 * 192 * 192 * 2,  # 663,552
        "conv5": 3 * 3 * 192 * 128 * 2,  # 442,368
        "fc6": 13 * 13 * (128 * 2) * (2048 * 2),  # 177,209,344
        "fc7": (2048 * 2) * (2048 * 2),  # 16,777,216
        "fc8": (2048 * 2) * 1000,  # 4,096,000
    }
    assert {name: layers[name].params for name in expected} == expected
    assert list(expected.values()) == [34_848, 307_200, 884_736, 663_552, 442_368, 177_209_344, 16_777_216, 4_096_000]


def test_alexnet_paper_fc6_is_fed_from_pool5():
    layers = by_name(analyze(SPECS / "alexnet.yaml"))
    assert layers["pool5"].output_shape == (256, 6, 6)
    assert layers["fc6"].params == 6 * 6 * 256 * 4096 + 4096  # 37,748,736 weights + biases
    assert layers["fc6"].macs == 6 * 6 * 256 * 4096


def test_alexnet_paper_total_is_sixty_million():
    # Paper: "60 million parameters". Exact, with biases (weights as in the lecture table except fc6):
    weights = 34_848 + 307_200 + 884_736 + 663_552 + 442_368 + 6 * 6 * 256 * 4096 + 4096 * 4096 + 4096 * 1000
    biases = 96 + 256 + 384 + 384 + 256 + 4096 + 4096 + 1000
    total = analyze(SPECS / "alexnet.yaml").total.params
    assert total == weights + biases == 60_965_224


def test_inception_without_bottleneck():
    analysis = analyze(SPECS / "inception-5x5.yaml")
    assert analysis.output_shape == (32, 28, 28)
    assert analysis.total.macs == 28 * 28 * 192 * 32 * 5 * 5 == 120_422_400
    assert analysis.total.params == 192 * 32 * 5 * 5 == 153_600


def test_inception_with_bottleneck_counts_both_terms():
    analysis = analyze(SPECS / "inception-5x5-bottleneck.yaml")
    layers = by_name(analysis)
    assert layers["reduce1x1"].output_shape == (16, 28, 28)
    assert analysis.output_shape == (32, 28, 28)
    assert analysis.total.macs == 1 * 1 * 16 * 28 * 28 * 192 + 5 * 5 * 32 * 28 * 28 * 16 == 12_443_648
    # The notes' slip writes this sum as "= 12,800", the second term alone.
    assert analysis.total.params == 192 * 16 + 16 * 32 * 5 * 5 == 15_872
    assert layers["conv5x5"].params == 12_800


def test_one_by_one_changes_only_channels():
    layers = by_name(analyze(SPECS / "one-by-one.yaml"))
    assert layers["reduce250to10"].output_shape == (10, 6, 6)
    assert layers["reduce250to10"].params == 250 * 10
    assert layers["nin"].output_shape == (32, 6, 6)
    assert layers["nin"].macs == 6 * 6 * 32 * 32  # one 32-input neuron per filter at each of 36 positions


def test_analyze_json_total_params_from_cli():
    result = run_cli("analyze", str(SPECS / "alexnet-lecture.yaml"), "--format", "json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (
        data["total"]["params"] == 34_848 + 307_200 + 884_736 + 663_552 + 442_368 + 177_209_344 + 16_777_216 + 4_096_000
    )
    assert [layer["name"] for layer in data["layers"] if layer["params"]] == [
        "conv1",
        "conv2",
        "conv3",
        "conv4",
        "conv5",
        "fc6",
        "fc7",
        "fc8",
    ]
