"""A small spec with a stem, a named and an unnamed repeat of a block, and a residual: the views, graph and
report tests count its rows, boxes and clusters by hand."""

from __future__ import annotations

TINY = """\
name: tiny
input: [3, 8, 8]
defaults:
  conv: {bias: false}
blocks:
  unit:
    params: {c: 4}
    layers:
      - {type: conv, name: conv, filters: "${c}", kernel: 3, padding: 1}
      - {type: relu}
layers:
  - {type: conv, name: stem, filters: 4, kernel: 1}
  - {block: unit, name: stage, repeat: 2}
  - type: residual
    name: res
    body:
      - {type: conv, filters: 4, kernel: 3, padding: 1}
  - {block: unit, repeat: 2}
  - {type: global_avgpool, name: pool}
"""
# By hand, every feature map 4x8x8 = 256 elements after the stem:
STEM_PARAMS, STEM_MACS = 3 * 4, 8 * 8 * 4 * 3  # 1x1 conv 3 -> 4
CONV_PARAMS, CONV_MACS = 3 * 3 * 4 * 4, 8 * 8 * 4 * 3 * 3 * 4  # 3x3 conv 4 -> 4, padding 1
UNIT_FLOPS = 2 * CONV_MACS + 256  # the conv (no bias) and its relu, 1 per element
ADD_FLOPS = 256  # two inputs: one add per element
POOL_FLOPS = 256  # global average: each of 64 values per channel summed (window size per output)
