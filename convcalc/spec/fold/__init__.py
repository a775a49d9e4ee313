"""Folding: a flat graph read back as the structures and blocks a person writes (what `convcalc import` prints).

Three steps, each deterministic, each leaving alone what it does not recognise (that stays one layer a line):

1. **Regions** (:class:`.items.Regions`). A residual or a concat of branches is a merge node (an ``add`` of two
   inputs, a ``concat``) whose inputs all start at the node that dominates it (every path from the network
   input to the merge passes through it), with its paths laid out one after another in the graph's order
   (the order the spec language lowers them in). Regions nest; the outermost is tried first.
2. **Runs** (:class:`.runs.Runs`). Each item (a layer or a region) has a canonical form: its kinds, its
   configuration with every whole number left out, and what it reads relative to itself. A run is two or more
   consecutive copies of a unit of items with equal forms; the first copy may also have a residual's
   projection where the others have the identity. Where the exporter's names are hierarchical, a copy must be
   exactly one of its modules (its nodes share a name prefix no other node has): ``layer1.0``, not half of it.
   A unit that occurs alone elsewhere with the form of a run is an occurrence too.
3. **Blocks** (:class:`.blocks.Blocks`). All occurrences of one form are one block: the numbers that differ
   between them become its parameters (equal columns share one), the projection a parameter used as the
   repeat count of its layers. Consecutive copies are one instance with ``repeat`` when they agree, the
   first perhaps in its strides and projection (``first``). A block is kept only if it shortens the spec.

The result is :class:`.blocks.Folded`: the entries of the ``layers`` list and the blocks, every layer with the name it
is written with, its full name in the folded spec, and what it reads. :mod:`convcalc.spec.writer` writes it.
``tests/test_import.py`` checks that the folded spec of every ONNX fixture lowers to the flat one's numbers, layer
by layer, and ``tests/test_fold.py`` that of graphs drawn at random.
"""
