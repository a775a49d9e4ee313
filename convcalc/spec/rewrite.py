"""The bottleneck rewrite of `convcalc compare --bottleneck`: insert a 1x1 conv before chosen convs.

The rewrite edits the spec's YAML text where each target conv is written, so the result keeps the
user's layout and comments and can be saved, read and analysed like any spec. Consequences:

* The inserted conv is ``{type: conv, name: <target>_reduce, filters: W, kernel: 1}``, written just
  before the target: it takes the target's ``input`` (the target then reads it) and the target's
  ``bias`` key if it has one; otherwise the spec's ``defaults`` apply to it as they do to the target.
  Geometry keys that ``defaults`` set for convs are written out (stride 1, padding 0, dilation 1,
  groups 1), so spatial sizes cannot change.
* W is the given filter count, or floor(fraction * input channels). It must be at least 1, fewer than
  the target's input channels, and divisible by the target's groups.
* A conv written in a block's body is one line shared by every instance of the block. Only the chosen
  instances get the bottleneck: when others do not, the inserted conv gets ``repeat: "${use_<name>}"``
  (0 or 1, a new block parameter with default 0, so it is named ``<name>.0`` where it exists), and when
  the chosen instances need different widths, W becomes a block parameter too. Entries that instantiate
  the block pass the values they need, worked out the same way one block further out; the first copy
  of a ``repeat`` can differ from the others through ``first:``, other copies cannot.

The rewritten text is then built, analysed and checked: every original layer keeps its output shape
and each target reads exactly its bottleneck's channels.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import yaml

from convcalc.core.errors import Location, SpecError, nearest
from convcalc.core.text import first_free
from convcalc.engine.checks import IMAGE_CHANNELS
from convcalc.engine.edits import Insertion, Rewrite, Skip
from convcalc.engine.graph import NETWORK_INPUT, Graph, Instance, Node
from convcalc.engine.run import analyze_spec
from convcalc.kinds.windows import all_ones
from convcalc.spec.lower import build_spec
from convcalc.spec.reader import read_text
from convcalc.spec.structures import ENTRY_KEYS, LAYER_LIST_KEYS
from convcalc.spec.yamltext import TextEdits, YamlIndex, child, position, scalar

ALL = "all"
"""The target that selects every conv with a kernel larger than 1x1."""
GEOMETRY = {"stride": "1", "padding": "0", "dilation": "1", "groups": "1"}
"""What the inserted 1x1 conv writes for each of these keys when the spec's conv defaults set it."""


@dataclass(frozen=True, slots=True)
class Bottleneck:
    """One ``--bottleneck TARGET=WIDTH``: a filter count, or a fraction of the target's input channels."""

    target: str
    filters: int | None
    fraction: Fraction | None
    text: str

    @property
    def width_text(self) -> str:
        """The width as written: '16' or '0.25'."""
        return self.text.partition("=")[2].strip()

    def width(self, channels: int) -> int:
        """The filter count for a conv with this many input channels: filters, or floor(fraction * channels)."""
        if self.filters is not None:
            return self.filters
        assert self.fraction is not None
        return int(self.fraction * channels)


WIDTHS = (
    "give a filter count of 1 or more (16) or a fraction of the input channels strictly between 0 and 1 (0.25 or 1/4)"
)
"""What ``--bottleneck LAYER=WIDTH`` takes, said with every refused width."""


def parse_bottleneck(text: str) -> Bottleneck:
    """``conv5x5=16`` (16 filters), ``all=0.25`` or ``all=1/4`` (a quarter of each target's input channels)."""
    target, equals, width = (part.strip() for part in text.partition("="))
    if not equals or not target or not width:
        raise SpecError(f"--bottleneck {text}: expected LAYER=FILTERS or LAYER=FRACTION, e.g. conv5x5=16 or all=0.25")
    if len(width) > 101:  # int() refuses 4,300 digits or more; no filter count has more than 101
        problem = f"a width of {len(width):,} characters: a filter count is at most 10^100"
    elif re.fullmatch(r"\d+", width):
        if int(width) >= 1:
            return Bottleneck(target, int(width), None, text)
        problem = "0 filters is no bottleneck"
    elif re.fullmatch(r"\d*\.\d+|\d+/0*[1-9]\d*", width):
        fraction = Fraction(width)
        if 0 < fraction < 1:
            return Bottleneck(target, None, fraction, text)
        problem = (
            f"{width} of the input channels is no filter"
            if fraction == 0
            else f"{width} times the input channels is no bottleneck"
        )
    else:
        problem = f"'{width}' is not a width"
    raise SpecError(f"--bottleneck {text}: {problem}; {WIDTHS}")


def nothing_rewritten(skipped: Sequence[Skip], shown: int = 3) -> str:
    """Why ``all`` rewrote nothing: how many convs it chose, the first ``shown`` with their reasons, how many more."""
    convs = [(layer, skip.reason) for skip in skipped for layer in skip.layers]
    if not convs:
        return "the spec has no conv with a kernel over 1x1"
    reasons = "; ".join(f"{layer}: {reason}" for layer, reason in convs[:shown])
    more = f"; and {len(convs) - shown} more" if len(convs) > shown else ""
    if len(convs) == 1:
        return f"the spec's one conv with a kernel over 1x1 could not take it ({reasons})"
    return f"none of the spec's {len(convs)} convs with a kernel over 1x1 could take it ({reasons}{more})"


def insert_bottlenecks(text: str, source: str, bottlenecks: Sequence[Bottleneck]) -> Rewrite:
    """Insert the requested 1x1 convs into a spec's text; SpecError when a named target cannot take one."""
    return _Rewriter(text, source).run(bottlenecks)


# --- the spec's layers ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Occurrence:
    """One expanded layer, the block instances it sits in (outermost first) and its input channels."""

    layer: Node
    chain: tuple[Instance, ...]
    channels: int

    @property
    def instances(self) -> tuple[str, ...]:
        """The names of the block instances around the layer: they tell its copies apart."""
        return tuple(group.name for group in self.chain)

    @property
    def local(self) -> str:
        return self.layer.name.rsplit(".", 1)[-1]

    @property
    def prefix(self) -> str:
        return self.layer.name[: -len(self.local)]


class _CannotApply(Exception):
    """A target conv that cannot take the bottleneck; the message says why."""

    def __init__(self, reason: str, occurrence: _Occurrence) -> None:
        super().__init__(reason)
        self.reason = reason
        self.occurrence = occurrence


# --- choosing the convs and their widths (the policy) ------------------------------------------------


def choose_targets(
    occurrences: Sequence[_Occurrence], names: set[str], bottlenecks: Sequence[Bottleneck], source: str
) -> dict[Location, tuple[Bottleneck, set[str]]]:
    """Per place a chosen conv is written (in the order the layers run): the bottleneck and the chosen layers."""
    everywhere = [b for b in bottlenecks if b.target == ALL]
    if everywhere and len(bottlenecks) > 1:
        raise SpecError("--bottleneck all=... applies to every conv; it cannot be combined with other targets")
    chosen: dict[Location, tuple[Bottleneck, set[str]]] = {}
    if everywhere:
        for each in occurrences:
            config = each.layer.config
            if each.layer.kind.type == "conv" and not all_ones(config["kernel"]):
                chosen.setdefault(each.layer.location, (everywhere[0], set()))[1].add(each.layer.name)
        return chosen
    by_name = {o.layer.name: o for o in occurrences}
    for bottleneck in bottlenecks:
        layer = _named_conv(by_name, names, bottleneck, source)
        earlier, chosen_names = chosen.setdefault(layer.location, (bottleneck, set()))
        if (earlier.filters, earlier.fraction) != (bottleneck.filters, bottleneck.fraction):
            raise SpecError(
                f"--bottleneck {earlier.text} and {bottleneck.text} are written on one line of the spec "
                f"(line {layer.location.line}) and would need different widths there",
                layer.location,
                layer=layer.name,
                kind="conv",
            )
        chosen_names.add(layer.name)
    order = {o.layer.location: i for i, o in reversed(list(enumerate(occurrences)))}
    return dict(sorted(chosen.items(), key=lambda item: order[item[0]]))


def _named_conv(by_name: Mapping[str, _Occurrence], names: set[str], bottleneck: Bottleneck, source: str) -> Node:
    """The conv a ``--bottleneck NAME=...`` names, or a SpecError saying why there is none."""
    occurrence = by_name.get(bottleneck.target)
    if occurrence is None:
        if bottleneck.target in names:
            raise SpecError(
                f"--bottleneck {bottleneck.text}: '{bottleneck.target}' is a block, branch or residual; "
                "name a conv inside it"
            )
        raise SpecError(
            f"--bottleneck {bottleneck.text}: no layer named '{bottleneck.target}' in {source}",
            hint=nearest(bottleneck.target, by_name) or "the layer names are those `convcalc analyze` shows",
        )
    layer = occurrence.layer
    if layer.kind.type != "conv":
        raise SpecError(
            f"--bottleneck {bottleneck.text}: a bottleneck goes before a conv, not a {layer.kind.type}",
            layer.location,
            layer=layer.name,
            kind=layer.kind.type,
        )
    return layer


def why_not(occurrence: _Occurrence, bottleneck: Bottleneck) -> str | None:
    """Why this conv cannot take the bottleneck, if it cannot."""
    width = bottleneck.width(occurrence.channels)
    groups = occurrence.layer.config["groups"]
    if bottleneck.target == ALL and NETWORK_INPUT in occurrence.layer.inputs and occurrence.channels in IMAGE_CHANNELS:
        return (
            f"it reads the image's {occurrence.channels} channels, which a bottleneck would squeeze (name the layer "
            "to rewrite it anyway)"
        )
    if width < 1:
        return f"{bottleneck.width_text} of its {occurrence.channels} input channels is less than one filter"
    if width >= occurrence.channels:
        return f"{width} filters are not fewer than its {occurrence.channels} input channels"
    if width % groups:
        return f"its groups={groups} does not divide the bottleneck's {width} channels"
    return None


def entry_widths(
    occurrences: Sequence[_Occurrence], bottleneck: Bottleneck, chosen: set[str], strict: bool
) -> tuple[dict[tuple[str, ...], int | None], dict[str, list[str]]]:
    """The bottleneck width in each instance of one conv entry (None: none there), and the chosen convs that
    cannot take it, by reason (with ``strict``, the first of those raises instead)."""
    widths: dict[tuple[str, ...], int | None] = {}
    problems: dict[str, list[str]] = {}
    for occurrence in occurrences:
        reason = why_not(occurrence, bottleneck) if occurrence.layer.name in chosen else None
        if reason and strict:
            raise _CannotApply(reason, occurrence)
        if reason:
            problems.setdefault(reason, []).append(occurrence.layer.name)
        ok = occurrence.layer.name in chosen and not reason
        widths[occurrence.instances] = bottleneck.width(occurrence.channels) if ok else None
    return widths, problems


# --- the text edit -------------------------------------------------------------------------------------


@dataclass
class _Change:
    """What rewriting conv entries adds to the text: an entry's change joins the rewrite only when the whole
    entry can be rewritten, so a failed entry leaves nothing behind."""

    text: TextEdits
    params: dict[str, set[str]] = field(default_factory=dict)  # block -> the parameters added to it
    first: dict[tuple[int, int], list[str]] = field(default_factory=dict)  # instance entry -> keys of a new 'first:'
    names: set[str] = field(default_factory=set)  # layer names the inserted convs take
    insertions: list[Insertion] = field(default_factory=list)
    header: list[str] = field(default_factory=list)

    def absorb(self, other: _Change) -> None:
        self.text.edits += other.text.edits
        for block, params in other.params.items():
            self.params.setdefault(block, set()).update(params)
        for entry, keys in other.first.items():
            self.first.setdefault(entry, []).extend(keys)
        self.names |= other.names
        self.insertions += other.insertions
        self.header += other.header


class _Rewriter:
    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.spec = build_spec(read_text(text, source), source)
        analysis = analyze_spec(self.spec)
        channels = {r.name: r.input_shapes[0][0] for r in analysis.layers}
        self.groups = {instance.name: instance for node in self.spec.nodes for instance in node.instances}
        self.names = {node.name for node in self.spec.nodes} | set(self.groups)
        self.yaml = YamlIndex(text)
        self.occurrences = [  # the layers written as layers (not the merges that structures end with)
            _Occurrence(node, node.instances, channels[node.name])
            for node in self.spec.nodes
            if not any(child(self.yaml.mappings[_key_of(node.location)], key) for key in LAYER_LIST_KEYS)
        ]
        self.done = _Change(TextEdits(text))
        self.change = self.done

    def run(self, bottlenecks: Sequence[Bottleneck]) -> Rewrite:
        skipped: list[Skip] = []
        by_entry: dict[Location, list[_Occurrence]] = {}
        for each in self.occurrences:
            by_entry.setdefault(each.layer.location, []).append(each)
        for location, (bottleneck, names) in choose_targets(
            self.occurrences, self.names, bottlenecks, self.source
        ).items():
            strict = bottleneck.target != ALL
            self.change = _Change(TextEdits(self.done.text.text))
            try:
                problems = self.rewrite_entry(by_entry[location], bottleneck, names, strict)
            except _CannotApply as problem:
                if strict:
                    layer = problem.occurrence.layer
                    raise SpecError(
                        f"--bottleneck {bottleneck.text}: {problem.reason}", location, layer=layer.name, kind="conv"
                    ) from None
                problems = {problem.reason: [o.layer.name for o in by_entry[location] if o.layer.name in names]}
            else:
                self.done.absorb(self.change)
            skipped.extend(Skip(tuple(layers), reason, location) for reason, layers in problems.items())
        self.change = self.done
        if not self.done.insertions:
            raise SpecError(f"--bottleneck {bottlenecks[0].text}: {nothing_rewritten(skipped)}")
        return self.finish(bottlenecks, tuple(skipped))

    def rewrite_entry(
        self, occurrences: list[_Occurrence], bottleneck: Bottleneck, chosen: set[str], strict: bool
    ) -> dict[str, list[str]]:
        """Insert the 1x1 conv where these occurrences' conv is written, for the chosen ones that can take it.

        Returns the chosen convs that cannot, by reason (with ``strict``, the first one raises instead).
        """
        first = occurrences[0]
        node = self.yaml.mappings[_key_of(first.layer.location)]
        if position(node) in self.yaml.aliased:
            raise _CannotApply("it is used through a YAML alias (*name); write it out to give it a bottleneck", first)
        repeat = child(node, "repeat")
        if repeat is not None:
            raise _CannotApply(
                f"it is written with 'repeat: {self.done.text.raw(repeat)}', and a 1x1 conv cannot go before each "
                "copy of a single repeated layer (write the pair as a block and repeat the block)",
                first,
            )
        widths, problems = entry_widths(occurrences, bottleneck, chosen, strict)
        taking = [o for o in occurrences if widths[o.instances] is not None]
        if taking:
            self.insert_conv(node, occurrences, taking, widths)
        return problems

    def insert_conv(
        self,
        node: yaml.MappingNode,
        occurrences: list[_Occurrence],
        taking: list[_Occurrence],
        widths: dict[tuple[str, ...], int | None],
    ) -> None:
        """Write the 1x1 conv before the conv entry ``node``, in the instances ``taking`` it."""
        text = self.change.text
        optional = len(taking) < len(occurrences)  # then the 1x1 conv is a 'repeat: 0 or 1' layer
        target_input = child(node, "input")
        if optional and target_input is not None:
            raise _CannotApply(
                f"it reads 'input: {text.raw(target_input)}', so a 1x1 conv before it must be in every instance "
                f"of its block, not in {len(taking)} of {len(occurrences)}",
                taking[0],
            )
        local = self.fresh_name(occurrences[0].local + "_reduce", occurrences, optional)
        base = _identifier(local)
        values = _PerInstance(self)
        filters = values.text(widths, base, widths[taking[0].instances] or 1, taking[0], "different widths")
        keys = [f"type: conv, name: {scalar(local)}"]
        if optional:
            use = {o.instances: int(widths[o.instances] is not None) for o in occurrences}
            flag = values.text(use, f"use_{base}", 0, taking[0], "a bottleneck in some copies only")
            keys.append(f"repeat: {flag}")
        if target_input is not None:
            keys.append(f"input: {text.raw(target_input)}")
            text.replace(target_input, scalar(local))
        keys.append(f"filters: {filters}, kernel: 1")
        defaults = child(self.yaml.root, "defaults")
        conv_defaults = child(defaults, "conv") if isinstance(defaults, yaml.MappingNode) else None
        if isinstance(conv_defaults, yaml.MappingNode):
            keys.extend(f"{key}: {value}" for key, value in GEOMETRY.items() if child(conv_defaults, key) is not None)
        bias = child(node, "bias")
        if bias is not None:
            keys.append(f"bias: {text.raw(bias)}")
        text.insert_item(self.yaml.parents[position(node)], node, "{" + ", ".join(keys) + "}")
        self.record(local, occurrences, taking, widths, filters, optional)

    def record(
        self,
        local: str,
        occurrences: list[_Occurrence],
        taking: list[_Occurrence],
        widths: dict[tuple[str, ...], int | None],
        filters: str,
        optional: bool,
    ) -> None:
        """The insertions, and the header line that says what was inserted where."""
        first = occurrences[0]
        block = first.chain[-1].block if first.chain else None
        suffix = ".0" if optional else ""
        for occurrence in taking:
            width = widths[occurrence.instances]
            assert width is not None
            self.change.insertions.append(
                Insertion(
                    occurrence.layer.name,
                    occurrence.prefix + local + suffix,
                    width,
                    occurrence.channels,
                    occurrence.layer.location,
                    block,
                )
            )
        where = f"line {first.layer.location.line}" + (f", in block '{block}'" if block else "")
        instances = f" in {len(taking)} of its {len(occurrences)} instances" if optional else ""
        self.change.header.append(
            f"#   {first.local} ({where}): inserted 1x1 conv '{local}' before it{instances}, filters: {filters}"
        )

    def fresh_name(self, base: str, occurrences: list[_Occurrence], optional: bool) -> str:
        """``base``, or ``base2``, ``base3``...: the first local name free in every instance's scope."""
        suffix = ".0" if optional else ""
        taken = self.names | self.done.names | self.change.names
        candidate = first_free(base, lambda name: any(o.prefix + name + suffix in taken for o in occurrences), "")
        self.change.names.update(o.prefix + candidate + suffix for o in occurrences)
        return candidate

    # --- the result ---

    def finish(self, bottlenecks: Sequence[Bottleneck], skipped: tuple[Skip, ...]) -> Rewrite:
        text = self.done.text
        for entry, keys in self.done.first.items():
            text.add_key(self.yaml.mappings[entry], "first", "{" + ", ".join(keys) + "}")
        options = " ".join(f"--bottleneck {b.text}" for b in bottlenecks)
        name = child(self.yaml.root, "name")
        title = f"{self.spec.name} with 1x1 bottleneck {', '.join(b.text for b in bottlenecks)}"
        if isinstance(name, yaml.ScalarNode):
            text.replace(name, json.dumps(title))
        else:
            text.add_key(self.yaml.root, "name", json.dumps(title))
        header = "\n".join(
            [
                f"# Rewritten by `convcalc compare {options}` from {self.source}:",
                *self.done.header,
                "# The comments and description below are the original's: they describe the spec before the rewrite.",
            ]
        )
        rewritten = header + "\n" + text.result()
        source = f"{self.source} (rewritten)"
        try:
            spec = build_spec(read_text(rewritten, source), source)
        except SpecError as error:
            raise SpecError(f"could not rewrite {self.source}: the result does not build ({error})") from None
        self.check(spec)
        return Rewrite(self.spec, spec, rewritten, tuple(self.done.insertions), skipped)

    def check(self, spec: Graph) -> None:
        """Every original layer keeps its output shape; each target reads exactly its bottleneck."""
        before = {r.name: r for r in analyze_spec(self.spec).layers}
        after = {r.name: r for r in analyze_spec(spec).layers}
        problems = [
            name for name, r in before.items() if name not in after or after[name].output_shape != r.output_shape
        ]
        for insertion in self.done.insertions:
            inserted, target = after.get(insertion.inserted), after.get(insertion.layer)
            if inserted is None or target is None or target.input_shapes[0][0] != insertion.filters:
                problems.append(insertion.layer)
        if problems or len(after) != len(before) + len(self.done.insertions):
            raise SpecError(
                f"could not rewrite {self.source} safely (around {', '.join(problems[:3]) or 'the new layers'})",
                hint="YAML anchors and aliases around the rewritten layers are not supported; write those layers out",
            )


class _PerInstance:
    """A number written once in a block but needed per instance: block parameters, passed by the instances.

    Its edits go into the rewriter's current change.
    """

    def __init__(self, rewriter: _Rewriter) -> None:
        self.rewriter = rewriter
        self.yaml = rewriter.yaml
        self.change = rewriter.change

    def text(
        self,
        values: Mapping[tuple[str, ...], int | None],
        base: str,
        default: int,
        target: _Occurrence,
        conflict: str,
    ) -> str:
        """YAML text, where an entry is written, for a number that may differ between its block instances.

        ``values`` maps each instance (the names of the block instances around it) to its number, or
        None where any number will do. One number: that number. Several: a new parameter of the
        enclosing block (with ``default``), which the entries instantiating the block pass where they
        need another value: worked out the same way one level further out, and for a repeated entry
        whose first copy differs, through its ``first:``.
        """
        distinct = {value for value in values.values() if value is not None}
        if len(distinct) <= 1:
            return str(distinct.pop() if distinct else default)
        block = self.rewriter.groups[next(iter(values))[-1]].block
        param = self.fresh_param(block, base)
        required = self.add_block_param(block, param, default)
        per_entry: dict[tuple[int, int], dict[tuple[str, ...], dict[int, int | None]]] = {}
        for chain, value in values.items():
            group = self.rewriter.groups[chain[-1]]
            copies = per_entry.setdefault(_key_of(group.location), {}).setdefault(chain[:-1], {})
            copies[group.copy] = value
        for instance in self.yaml.instances.get(block, []):
            rest, first = self.split_copies(per_entry.get(position(instance), {}), instance, target, conflict)
            text = self.text(rest, base, default, target, conflict)
            if required or text != str(default):
                self.change.text.add_key(instance, param, text)
            if first:
                first_text = self.text({**rest, **first}, f"{base}_first", default, target, conflict)
                overrides = child(instance, "first")
                if isinstance(overrides, yaml.MappingNode):
                    self.change.text.add_key(overrides, param, first_text)
                else:  # written out once all are known, as one new 'first:'
                    self.change.first.setdefault(position(instance), []).append(f"{param}: {first_text}")
        return f'"${{{param}}}"'

    def split_copies(
        self,
        outer: dict[tuple[str, ...], dict[int, int | None]],
        instance: yaml.MappingNode,
        target: _Occurrence,
        conflict: str,
    ) -> tuple[dict[tuple[str, ...], int | None], dict[tuple[str, ...], int | None]]:
        """The value every copy of a block instance entry takes, and where copy 0 needs another (for ``first:``)."""
        rest: dict[tuple[str, ...], int | None] = {}
        first: dict[tuple[str, ...], int | None] = {}
        for chain, copies in outer.items():
            later = {value for index, value in copies.items() if index and value is not None}
            if len(later) > 1:
                raise _CannotApply(
                    f"the copies of the repeated block instance at line {position(instance)[0]} would need {conflict}; "
                    "only its first copy can differ from the others (through 'first:')",
                    target,
                )
            zero = copies.get(0)
            rest[chain] = later.pop() if later else zero
            if zero is not None and zero != rest[chain]:
                first[chain] = zero
        return rest, first

    def fresh_param(self, block: str, base: str) -> str:
        taken = set(self.yaml.existing_params(block))
        taken |= self.rewriter.done.params.get(block, set()) | self.change.params.get(block, set())
        candidate = first_free(base, taken.__contains__, "")
        self.change.params.setdefault(block, set()).add(candidate)
        return candidate

    def add_block_param(self, block: str, param: str, default: int) -> bool:
        """Add a parameter to a block; True when it is required (a list of names has no defaults)."""
        definition = self.yaml.block_node(block)
        params = child(definition, "params")
        text = self.change.text
        if isinstance(params, yaml.MappingNode):
            text.add_key(params, param, str(default))
        elif isinstance(params, yaml.SequenceNode) and params.value:
            text.insert_item(params, params.value[0], param)
            return True
        elif params is None:
            text.add_key(definition, "params", f"{{{param}: {default}}}")
        else:  # written as 'params:' with nothing (null) or '[]'
            text.replace(params, f"{{{param}: {default}}}")
        return False


def _key_of(location: Location) -> tuple[int, int]:
    return location.line, location.column


def _identifier(name: str) -> str:
    """A block parameter name made from a layer name."""
    identifier = re.sub(r"\W", "_", name)
    if not identifier.isidentifier() or identifier in (*ENTRY_KEYS, "block"):
        identifier = f"_{identifier}"
    return identifier
