"""`seeds:` known architectures evaluated first, and finding the parameters that reproduce one.

A seed is a preset name (every mixer is that preset, the model gets the positional scheme it
needs) or a mapping shaped like `model:` with values only: `{name, preset, d_model, ...,
pattern, layers}`, where `layers` holds axis values (one mixer) or, per named mixer, a preset
name or a mapping of axis values. Axes a seed leaves out take the seed's preset values; axes
the space fixes must agree with the seed; axes the space searches must be set (by value or by
preset) and lie in their domain.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from dsf_search.core import zoo
from dsf_search.core.spec import ModelSpec
from dsf_search.space.axes import (
    MIXER_AXES, MIXER_DEFAULTS, MODEL_AXES, MODEL_DEFAULTS, MODEL_ORDER, pattern_names, pattern_text,
)
from dsf_search.space.domains import Choice, Domain, show
from dsf_search.grammar import INVALID, Node, Reader, allowed_list, did_you_mean
from dsf_search.space.model import ModelSection
from dsf_search.space.resolve import BuildError, Resolver, preset_axes
from dsf_search.space.variables import Variable, variable_key


@dataclass(frozen=True)
class Seed:
    """A known architecture to evaluate first: explicit values by variable key, plus presets
    (`preset` for every mixer, `mixer_presets` per named mixer) for the values it leaves out."""

    label: str
    path: str = "seeds"
    line: int = 0
    preset: str | None = None
    mixer_presets: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    def preset_of(self, mixer: str) -> str | None:
        return self.mixer_presets.get(mixer, self.preset)

    def target(self, var: Variable, values: dict[str, Any], resolver: Resolver) -> tuple[bool, Any]:
        """(whether the seed itself says what `var` is, that value)."""
        if var.key in self.values:
            return True, self.values[var.key]
        if var.mixer is not None:
            preset = self.preset_of(var.mixer)
            if preset and var.axis != "preset":
                return True, preset_axes(preset, values["d_model"])[var.axis]
            return False, None
        used = resolver.used_mixers(values) if var.axis == "positional" else ()
        if used and all(self.preset_of(m) for m in used):
            needs = {zoo.get(self.preset_of(m)).positional for m in used} - {"none"}
            return True, needs.pop() if len(needs) == 1 else "none"
        return False, None


Reasons = list[tuple[str, str]]  # (key path, why)


class OutsideSpace(ValueError):
    """A seed the space cannot produce; `reasons` lists (key path, why) pairs."""

    def __init__(self, label: str, reasons: Reasons):
        self.label = label
        self.reasons = reasons
        super().__init__(f"seed {label!r} lies outside the space: " + "; ".join(f"{p}: {m}" for p, m in reasons))


def _attempt(resolver: Resolver, seed: Seed, presets: dict[str, Any]) -> tuple[dict[str, Any], ModelSpec | None, Reasons]:
    """Decide every variable as the seed says, with the preset variables set to `presets`;
    (parameters, spec or None, why the seed lies outside)."""
    reasons: Reasons = []

    def choose(var: Variable, index: int | None, domain: Domain, values: dict[str, Any]) -> Any:
        if var.axis == "preset" and domain.is_param:
            has, want = True, presets[var.key]
        else:
            has, want = seed.target(var, values, resolver)
        if domain.is_param:
            if not has:
                want = resolver.base(var, values)  # what the space itself would start from
            if want is not None and domain.contains(want):
                return want
            if want is None:
                reasons.append((var.path, f"not set by the seed, and the space searches it ({domain.describe()})"))
            else:
                said = "has" if has else "leaves it at the space's base value"
                reasons.append((var.path, f"the seed {said} {show(want)}, outside the space's {domain.describe()}"))
            return domain.first()
        if has and want != domain.value and var.axis != "preset":
            how = "fixes" if index is not None else "keeps (not searched)"
            reasons.append((var.path, f"the seed has {show(want)}; the space {how} {show(domain.value)}"))
        return domain.value

    values, params = resolver.decide(choose)
    if reasons:
        return params, None, reasons
    try:
        return params, resolver.build(values), []
    except BuildError as err:
        return params, None, [(resolver.variables[err.key].path if err.key else "model", err.message)]


def _preset_assignments(resolver: Resolver, seed: Seed) -> Iterator[dict[str, Any]]:
    """Values for the searched preset variables, the seed's own presets first."""
    searched = [v for v in resolver.variables.values() if v.axis == "preset" and v.searched]
    options = []
    for var in searched:
        values = [o for b in var.branches if isinstance(b.domain, Choice) for o in b.domain.options]
        preferred = seed.preset_of(var.mixer)
        options.append(sorted(dict.fromkeys(values), key=lambda o: o != preferred))
    for combo in itertools.product(*options):
        yield dict(zip((v.key for v in searched), combo))


def resolve_seed(resolver: Resolver, seed: Seed) -> tuple[dict[str, Any], ModelSpec]:
    """The Optuna parameters that reproduce `seed`, and its spec; OutsideSpace otherwise."""
    first: Reasons | None = None
    for presets in _preset_assignments(resolver, seed):
        params, spec, reasons = _attempt(resolver, seed, presets)
        if spec is not None:
            return params, spec
        first = reasons if first is None else first
    raise OutsideSpace(seed.label, first or [])


def seeds_of_spec(resolver: Resolver, spec: ModelSpec, label: str) -> list[Seed]:
    """`spec` as seeds, one per pattern of the space that its layers follow."""
    if not resolver.named:
        patterns = [[""]]
    else:
        patterns = [pattern_names(p) for b in resolver.variables["pattern"].branches for p in b.domain.values()]
    model = {axis: getattr(spec, axis) for axis in MODEL_DEFAULTS}
    out = []
    for pattern in patterns:
        first = {m: spec.layers[pattern.index(m)] for m in dict.fromkeys(pattern) if pattern.index(m) < spec.n_layers}
        if any(layer != first.get(pattern[i % len(pattern)]) for i, layer in enumerate(spec.layers)):
            continue
        values = {**model, "n_layers": spec.n_layers}
        if resolver.named:
            values["pattern"] = pattern_text(pattern)
        for mixer, layer in first.items():
            values.update({variable_key(mixer, axis): getattr(layer, axis) for axis in MIXER_DEFAULTS})
        out.append(Seed(label, values=values))
    return out


class SeedReader(Reader):
    """Reads `seeds:` against the model section (which mixers exist)."""

    def seeds(self, node: Node, section: ModelSection) -> list[Seed]:
        items = self.list_of(node, "seeds (preset names or mappings)")
        out = []
        for i, item in enumerate(items or []):
            seed = self.seed(item, i, section)
            if seed is not INVALID:
                out.append(seed)
        return out

    def preset(self, node: Node) -> Any:
        presets = zoo.names()
        return self.scalar(node, str, lambda v: None if v in presets else
                           f"unknown preset {v!r}{did_you_mean(v, presets)}; presets: {allowed_list(presets)}")

    def seed(self, node: Node, index: int, section: ModelSection) -> Seed | Any:
        if node.is_scalar:
            preset = self.preset(node)
            return INVALID if preset is INVALID else Seed(preset, node.path, node.line, preset=preset)
        named = section.mixers != ("",)
        allowed = ("name", "preset", *(a for a in MODEL_ORDER if a != "pattern" or named), "layers")
        keys = self.mapping(node, allowed)
        if keys is None:
            return INVALID
        label = self.scalar(keys["name"], str) if "name" in keys else None
        preset = self.preset(keys["preset"]) if "preset" in keys else None
        values: dict[str, Any] = {}
        for axis in MODEL_ORDER:
            if axis == "pattern" and axis in keys:
                values[axis] = self.pattern(keys[axis], section)
            elif axis in keys:
                values[axis] = self.value(keys[axis], MODEL_AXES[axis].kind, MODEL_AXES[axis].problem)
        mixer_presets: dict[str, str] = {}
        if "layers" in keys:
            self.layers(keys["layers"], section, values, mixer_presets)
        if INVALID in (label, preset, *values.values(), *mixer_presets.values()):
            return INVALID
        label = label or preset or "+".join(dict.fromkeys(mixer_presets.values())) or f"seeds[{index}]"
        return Seed(label, node.path, node.line, preset, mixer_presets, values)

    def value(self, node: Node, kind: type, check: Any) -> Any:
        if not node.is_scalar:
            self.error(node, f"a seed gives values, not domains; found {node.describe()}")
            return INVALID
        return self.scalar(node, kind, check)

    def pattern(self, node: Node, section: ModelSection) -> Any:
        names = self.list_of(node, "mixer names")
        if names is None:
            return INVALID
        mixers = list(section.mixers)
        values = [self.scalar(n, str, lambda v: None if v in mixers else
                              f"unknown mixer {v!r}{did_you_mean(v, mixers)}; mixers: {allowed_list(mixers)}") for n in names]
        return INVALID if INVALID in values else pattern_text(values)

    def layers(self, node: Node, section: ModelSection, values: dict[str, Any], mixer_presets: dict[str, str]) -> None:
        if section.mixers == ("",):
            self.mixer(node, "", values, mixer_presets)
            return
        mixers = self.mapping(node, section.mixers, what="mixer")
        for mixer, child in (mixers or {}).items():
            if child.is_scalar:
                mixer_presets[mixer] = self.preset(child)
            else:
                self.mixer(child, mixer, values, mixer_presets)

    def mixer(self, node: Node, mixer: str, values: dict[str, Any], mixer_presets: dict[str, str]) -> None:
        keys = self.mapping(node, tuple(MIXER_AXES), what="axis")
        for axis, child in (keys or {}).items():
            if axis == "preset":
                mixer_presets[mixer] = self.preset(child)
            else:
                key = f"{mixer}.{axis}" if mixer else axis
                values[key] = self.value(child, MIXER_AXES[axis].kind, MIXER_AXES[axis].problem)

