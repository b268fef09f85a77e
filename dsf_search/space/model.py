"""The `model:` section: model axes, the mixer(s) under `layers`, the optional `pattern`.

Every axis entry is a fixed value, a domain (`{choice: [...]}`, `{int: [lo, hi], step, log}`,
`{float: [lo, hi], log}`, `{value: v}`), a domain with `when: <condition>`, or a list of such
branches (the first whose condition holds is used; the last may omit `when`). The result is one
`Variable` per axis, in base decision order, and what each variable reads (`depends`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dsf_search.space.axes import (
    ACTIVITY_DEPENDS, MIXER_AXES, MIXER_ORDER, MODEL_AXES, MODEL_ORDER, Axis, pattern_names, pattern_text,
)
from dsf_search.space.condition import Condition, ConditionError, parse_condition
from dsf_search.space.domains import Choice, Domain, Fixed, FloatRange, IntRange
from dsf_search.space.errors import allowed_list, did_you_mean
from dsf_search.space.reader import INVALID, Reader
from dsf_search.space.source import Node
from dsf_search.space.variables import Branch, Variable, variable_key

NAME = re.compile(r"[A-Za-z_]\w*")
_DOMAIN_KEYS = ("choice", "int", "float", "value")
_BRANCH_KEYS = (*_DOMAIN_KEYS, "step", "log", "when")


@dataclass(frozen=True)
class _RawBranch:
    domain: Domain
    condition: Condition | None
    when: Node | None
    line: int


@dataclass(frozen=True)
class ModelSection:
    """Variables of the model (keys in base decision order) and what each one reads."""

    mixers: tuple[str, ...]  # ('',) for one mixer; the names of `layers` with a pattern
    variables: dict[str, Variable]
    depends: dict[str, set[str]]


class _ModelReader(Reader):
    def read(self, node: Node) -> ModelSection | None:
        hints = {a: f"{a} is a mixer axis: put it under `layers`" for a in MIXER_AXES}
        keys = self.mapping(node, (*MODEL_ORDER, "layers"), required=("layers",), hints=hints)
        if keys is None or "layers" not in keys:
            return None
        named = "pattern" in keys
        self.mixer_names: tuple[str, ...] = ("",)
        mixer_nodes: dict[str, dict[str, Node]] = {}
        layers = keys["layers"]
        if named:
            mixers = self.mapping(layers, tuple(layers.value) if layers.is_mapping else (), what="mixer")
            for name, mixer_node in (mixers or {}).items():
                if not NAME.fullmatch(name):
                    self.error(mixer_node, f"mixer names must be identifiers (letters, digits, _); found {name!r}",
                               line=mixer_node.key_line)
                    continue
                mixer_nodes[name] = self._mixer(mixer_node) or {}
            if not mixer_nodes and mixers is not None:
                self.error(layers, "name at least one mixer, e.g. "
                                   "`layers: {lin: {preset: gla}, attn: {preset: softmax_attention}}`")
            self.mixer_names = tuple(mixer_nodes)
        else:
            mixer_nodes[""] = self._mixer(layers, hint=True) or {}

        raw: dict[tuple[str | None, str], tuple[Node, list[_RawBranch]]] = {}
        for axis in MODEL_ORDER:
            if axis in keys:
                raw[(None, axis)] = (keys[axis], self._entry(keys[axis], MODEL_AXES.get(axis)))
        for mixer, entries in mixer_nodes.items():
            for axis, entry in entries.items():
                raw[(mixer, axis)] = (entry, self._entry(entry, MIXER_AXES[axis]))
        if named and (None, "pattern") in raw:
            self._check_pattern(*raw[(None, "pattern")], set(self.mixer_names))
        variables = self._variables(node, layers, mixer_nodes, raw, named)
        return ModelSection(self.mixer_names, variables, self._depends(variables, named))

    # --- axes and domains ----------------------------------------------------------------

    def _mixer(self, node: Node, hint: bool = False) -> dict[str, Node] | None:
        if hint and node.is_mapping:
            for key, child in node.value.items():
                if key not in MIXER_AXES and child.is_mapping and not set(child.value) & set(_BRANCH_KEYS):
                    self.error(child, f"{key!r} is not a mixer axis; named mixers need a `pattern` "
                                      f"(e.g. pattern: [{key}]){did_you_mean(key, MIXER_AXES)}", line=child.key_line)
                    return None
        hints = {a: f"{a} is a model axis: put it directly under `model`" for a in MODEL_ORDER}
        return self.mapping(node, tuple(MIXER_AXES), what="axis", hints=hints)

    def _entry(self, node: Node, axis: Axis | None) -> list[_RawBranch]:
        """The branches of one axis entry; `axis` None is the layer pattern."""
        if node.is_list and node.value and all(item.is_mapping for item in node.value):
            branches = [self._branch(item, axis) for item in node.value]
            for item, branch in zip(node.value[:-1], branches[:-1]):
                if branch is not None and branch.condition is None:
                    self.error(item, "only the last branch may omit `when` (the branches after it could never be used)")
            return [b for b in branches if b is not None]
        if node.is_mapping:
            branch = self._branch(node, axis)
            return [branch] if branch is not None else []
        if node.is_list and axis is not None:
            self.error(node, f"a list is not a domain; to search these values write {{choice: [...]}}")
            return []
        value = self._value(node, axis)
        return [] if value is INVALID else [_RawBranch(Fixed(value), None, None, node.line)]

    def _value(self, node: Node, axis: Axis | None) -> Any:
        if axis is None:
            names = self.list_of(node, "mixer names")
            if names is None:
                return INVALID
            values = [self.scalar(n, str, lambda v: None if NAME.fullmatch(v) else f"found {v!r}; not a mixer name")
                      for n in names]
            return INVALID if INVALID in values else pattern_text(values)
        return self.scalar(node, axis.kind, axis.problem)

    def _branch(self, node: Node, axis: Axis | None) -> _RawBranch | None:
        keys = self.mapping(node, _BRANCH_KEYS)
        if keys is None:
            return None
        kinds = [k for k in _DOMAIN_KEYS if k in keys]
        if len(kinds) != 1:
            found = "none" if not kinds else " and ".join(kinds)
            self.error(node, f"a domain needs exactly one of {allowed_list(_DOMAIN_KEYS)}; found {found}")
            return None
        kind = kinds[0]
        for extra, allowed_for in (("step", ("int",)), ("log", ("int", "float"))):
            if extra in keys and kind not in allowed_for:
                self.error(keys[extra], f"`{extra}` applies to {' and '.join(allowed_for)} ranges, not to `{kind}`",
                           line=keys[extra].key_line)
                return None
        domain = getattr(self, f"_domain_{kind}")(keys[kind], axis, keys)
        condition = None
        if "when" in keys:
            text = self.scalar(keys["when"], str)
            if text is INVALID:
                return None
            try:
                condition = parse_condition(text)
            except ConditionError as err:
                shown = text if len(text) <= 80 else text[:60] + " ... " + text[-15:]
                self.error(keys["when"], f"bad condition {shown!r}: {err}")
                return None
        if domain is INVALID:
            return None
        return _RawBranch(domain, condition, keys.get("when"), node.line)

    def _domain_choice(self, node: Node, axis: Axis | None, keys: dict[str, Node]) -> Any:
        items = self.list_of(node, "values")
        if items is None:
            return INVALID
        values = [self._value(item, axis) for item in items]
        if INVALID in values:
            return INVALID
        for i, value in enumerate(values):
            if value in values[:i]:
                self.error(items[i], f"{value!r} is listed twice")
                return INVALID
        return Choice(tuple(values))

    def _domain_value(self, node: Node, axis: Axis | None, keys: dict[str, Node]) -> Any:
        value = self._value(node, axis)
        return INVALID if value is INVALID else Fixed(value)

    def _range(self, node: Node, axis: Axis | None, kind: type, name: str) -> tuple[Any, Any]:
        if axis is None or axis.kind is not kind:
            takes = "a layer pattern" if axis is None else axis.type_name
            self.error(node, f"`{name}` ranges need {'an integer' if kind is int else 'a number'} axis; "
                             f"this one takes {takes}: use {{choice: [...]}}")
            return INVALID, INVALID
        if not node.is_list or len(node.value) != 2:
            self.error(node, f"expected [lo, hi]; found {node.describe()}")
            return INVALID, INVALID
        lo, hi = (self.scalar(n, kind, axis.problem) for n in node.value)
        if INVALID not in (lo, hi) and (lo > hi or (kind is float and lo == hi)):
            self.error(node, f"empty range: lo = {lo:g} {'>' if lo > hi else '=='} hi = {hi:g}"
                             + ("; a single value is written as the value itself" if lo == hi else ""))
            return INVALID, INVALID
        return lo, hi

    def _log(self, keys: dict[str, Node]) -> Any:
        return self.scalar(keys["log"], bool) if "log" in keys else False

    def _domain_int(self, node: Node, axis: Axis | None, keys: dict[str, Node]) -> Any:
        lo, hi = self._range(node, axis, int, "int")
        step = self.scalar(keys["step"], int, lambda v: None if v >= 1 else f"found {v}; must be >= 1") if "step" in keys else 1
        log = self._log(keys)
        if INVALID in (lo, hi, step, log):
            return INVALID
        if (hi - lo) % step:
            self.error(keys["step"], f"hi - lo = {hi - lo} is not a multiple of step {step}; "
                                     f"the range would end at {hi - (hi - lo) % step}")
            return INVALID
        if log and (step != 1 or lo < 1):
            self.error(keys["log"], "a log int range needs step 1 and lo >= 1")
            return INVALID
        return IntRange(lo, hi, step, log)

    def _domain_float(self, node: Node, axis: Axis | None, keys: dict[str, Node]) -> Any:
        lo, hi = self._range(node, axis, float, "float")
        log = self._log(keys)
        if INVALID in (lo, hi, log):
            return INVALID
        if log and lo <= 0:
            self.error(keys["log"], f"a log range needs lo > 0; found lo = {lo:g}")
            return INVALID
        return FloatRange(lo, hi, log)

    def _check_pattern(self, node: Node, branches: list[_RawBranch], mixers: set[str]) -> None:
        """Every name in every pattern is a mixer of `layers`, every mixer is used, and some
        pattern always applies (there is no default pattern)."""
        if branches and branches[-1].condition is not None:
            self.error(node, "the last pattern branch needs no `when`: some pattern must always apply")
        used: set[str] = set()
        for branch in branches:
            for value in branch.domain.values():
                for name in pattern_names(value):
                    used.add(name)
                    if name not in mixers:
                        self.error(node, f"the pattern names mixer {name!r}, which `layers` does not define"
                                         f"{did_you_mean(name, mixers)}; mixers: {allowed_list(sorted(mixers))}")
                        return
        for name in sorted(mixers - used):
            self.error(node, f"mixer {name!r} of `layers` appears in no pattern")

    # --- variables and their dependencies ------------------------------------------------

    def _variables(self, model: Node, layers: Node, mixer_nodes: dict[str, dict[str, Node]],
                   raw: dict[tuple[str | None, str], tuple[Node, list[_RawBranch]]], named: bool) -> dict[str, Variable]:
        def make(mixer: str | None, axis: str, default_node: Node) -> Variable:
            entry = raw.get((mixer, axis))
            node = entry[0] if entry else default_node
            if mixer is None:
                path = f"model.{axis}"
            else:
                path = f"model.layers.{mixer}.{axis}" if mixer else f"model.layers.{axis}"
            return Variable(mixer, axis, path, node.key_line if entry else node.line, ())

        def preset_node(mixer: str) -> Node:
            nodes = mixer_nodes.get(mixer, {})
            return nodes.get("preset") or (layers.value.get(mixer, layers) if mixer and layers.is_mapping else layers)

        order: list[Variable] = [make(None, a, model) for a in ("d_model", "pattern", "n_layers") if a != "pattern" or named]
        order += [make(m, "preset", preset_node(m)) for m in self.mixer_names]
        order += [make(None, a, model) for a in MODEL_ORDER if a not in ("d_model", "pattern", "n_layers")]
        order += [make(m, a, preset_node(m)) for m in self.mixer_names for a in MIXER_ORDER if a != "preset"]
        variables = {v.key: v for v in order}
        for (mixer, axis), (node, branches) in raw.items():
            key = variable_key(mixer, axis)
            resolved = [self._resolve(b, variables[key], variables, named) for b in branches]
            if None not in resolved:
                v = variables[key]
                variables[key] = Variable(v.mixer, v.axis, v.path, v.line, tuple(resolved))
        return variables

    def _resolve(self, branch: _RawBranch, owner: Variable, variables: dict[str, Variable], named: bool) -> Branch | None:
        """The branch with each name of its condition bound to a variable key and each literal
        checked against that axis; None after an error."""
        if branch.condition is None:
            return Branch(branch.domain, None, branch.line)
        refs: dict[str, str] = {}
        ok = True
        for compare in branch.condition.comparisons():
            key = self._bind(compare.name, owner, branch.when, named)
            if key is None:
                ok = False
                continue
            if key == owner.key:
                self.error(branch.when, f"the condition of {owner.axis!r} cannot read {owner.axis!r} itself")
                ok = False
                continue
            refs[compare.name] = key
            axis = variables[key].axis
            if axis == "pattern":
                continue
            spec_axis = MIXER_AXES.get(axis) if variables[key].mixer is not None else MODEL_AXES[axis]
            for value in compare.values:
                _, problem = spec_axis.typed(value)
                if problem:
                    self.error(branch.when, f"in `{compare}`: {problem}")
                    ok = False
        return Branch(branch.domain, branch.condition, branch.line, refs) if ok else None

    def _bind(self, name: str, owner: Variable, when: Node, named: bool) -> str | None:
        """The key of the variable `name` refers to, seen from `owner`; None after an error."""
        mixer_axes = tuple(MIXER_AXES)
        model_axes = (*MODEL_ORDER,) if named else tuple(a for a in MODEL_ORDER if a != "pattern")
        if "." in name:
            mixer, _, axis = name.partition(".")
            if not named or mixer not in self.mixer_names:
                known = [f"{m}.{a}" for m in self.mixer_names if m for a in mixer_axes]
                self.error(when, f"unknown axis {name!r} in the condition{did_you_mean(name, known)}"
                           + ("" if named else "; `mixer.axis` names need named mixers and a pattern"))
                return None
            if axis not in mixer_axes:
                self.error(when, f"unknown axis {axis!r} of mixer {mixer!r}{did_you_mean(axis, mixer_axes)}")
                return None
            return name
        if name in model_axes:
            return name
        if name in mixer_axes:
            if owner.mixer is not None:
                return variable_key(owner.mixer, name)
            if not named:
                return name
            self.error(when, f"{name!r} is a mixer axis; name the mixer, e.g. {self.mixer_names[0]}.{name}")
            return None
        known = (*model_axes, *mixer_axes) if owner.mixer is not None or not named else model_axes
        self.error(when, f"unknown axis {name!r} in the condition{did_you_mean(name, known)}; "
                         f"a condition may name: {allowed_list(known)}")
        return None

    def _depends(self, variables: dict[str, Variable], named: bool) -> dict[str, set[str]]:
        """For each variable, the variables its conditions, activity and base value read."""
        key = variable_key
        with_preset = [m for m in self.mixer_names if variables[key(m, "preset")].branches]
        deps: dict[str, set[str]] = {k: set() for k in variables}
        for k, var in variables.items():
            for branch in var.branches:
                deps[k] |= set(branch.refs.values())
            deps[k] |= {key(var.mixer, axis) for axis in ACTIVITY_DEPENDS.get(var.axis, ())}
            if var.mixer is not None:
                deps[k].add("d_model")  # presets (the space's or a seed's) size themselves by d_model
                if named:
                    deps[k].add("pattern")  # a mixer the pattern does not use is inactive
                if var.axis != "preset" and var.mixer in with_preset:
                    deps[k].add(key(var.mixer, "preset"))
        deps["positional"] |= {key(m, "preset") for m in with_preset}  # presets say what they need
        if named and not variables["n_layers"].branches:
            deps["n_layers"].add("pattern")
        return deps


def read_model(node: Node, reader: Reader) -> ModelSection | None:
    """The model section, or None when it is too broken to go on (problems are recorded)."""
    return _ModelReader(reader.problems).read(node)
