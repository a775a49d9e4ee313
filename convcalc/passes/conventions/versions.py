"""The version of each tool a convention reproduces, as its recording names it (``version`` in
tests/data/peers/TOOL.json). Written by tools/record_peers.py from the recordings; tests/test_conventions.py checks
that it is what they say."""

RECORDED = {
    "flop_counter": "2.13.0+cpu",
    "fvcore": "0.1.5.post20221221",
    "onnx_tool": "1.0.1",
    "ptflops": "0.7.5",
    "thop": "0.1.1-2209072238",
    "torchinfo": "1.8.0",
    "ultralytics_thop": "2.2.3",
}
