"""The layer catalogue: one small definition per layer kind, its shape, parameter and cost formulas side by side.

Shapes are per sample: ``(C, H, W)`` for feature maps, ``(N,)`` for flat vectors. Every count is an
exact Python int. Conventions, stated once here and shown in the docs, the table footer and JSON:

* **params**: trainable weights, biases and batch-norm gamma/beta. Non-trainable state (batch-norm
  running mean and variance) is counted separately as **buffers**.
* **MACs**: multiply-accumulates of conv, transposed-conv and linear weights only (what torchvision,
  fvcore and most papers call "FLOPs" or "mult-adds").
* **FLOPs**: 2 x MACs (one multiply and one add each) plus the element-wise work listed per kind in
  its ``flops_rule``: bias adds, pooling, normalisation, activations, merges.

The formulas are plain integer arithmetic. `convcalc explain` runs the very same ``evaluate`` with
:class:`~convcalc.core.formula.Term` values, which record the arithmetic as they go; ``named`` labels an
intermediate result (``H_out``, ``MACs``) so that later formulas refer to it by name.

To add a layer kind, write one class in its family's module (or one table row, for activations) and list it in
:mod:`convcalc.kinds.catalogue`.
"""
