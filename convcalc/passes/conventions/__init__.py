"""Other tools' counting conventions: what fvcore, ptflops, thop, ultralytics-thop, torchinfo, torch's flop counter and
torchvision's published figures would print for a network, layer by layer, quirks included (issue 15).

Each convention is data (:mod:`.counting`): the tool, the package and version whose behaviour it reproduces (the
recordings' versions, :mod:`.versions`), the unit the tool prints, and one registry per counting mechanism of the tool
(:mod:`.tools`, :mod:`.thop` for thop 0.1.1 and ultralytics-thop, :mod:`.onnx_tool`; ptflops has two: module hooks and
its patched ``torch.nn.functional``) mapping every layer kind to a small rule, as fvcore's own handle table maps aten
ops to handles; a kind the tool does not count is named in the registry too, never left out. A rule (:mod:`.rules`)
reads a layer's ``Sizes`` (its kind, configuration, input and output sizes, parameters) per sample and returns a count
or ``Skipped``: counted 0 and listed by the tool as not counted (fvcore's "unsupported ops"). Rules are plain integer
arithmetic: evaluated on :class:`~convcalc.core.formula.Term` values they explain themselves, as the catalogue's
formulas do. The rules were read from each tool's source and are checked against the numbers the real tools printed
(``tests/data/peers/``, recorded by ``tools/record_peers.py``; docs/peer-rules.md has the details).
"""
