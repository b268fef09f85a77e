"""The axes a space can fix or search: their types, allowed values and activity.

Mixer axes are the fields of `MixerSpec`, model axes those of `ModelSpec` (plus `n_layers`);
`preset` (a zoo entry a mixer starts from) and `pattern` (the layer pattern) are decided like
axes too. Whether an axis is active is asked of the core specs themselves (`active_axes`,
`canonical`) on an unvalidated stand-in holding the values decided so far.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

from dsf_search.core import zoo
from dsf_search.core.spec import (
    CHANNEL_MIXERS, EIGENVALUES, ETAS, FEATURE_MAPS, GATES, INJECTIONS, KEY_SOURCES, NORMALIZATIONS,
    NORMS, OUTPUT_GATES, POSITIONALS, QUERY_SOURCES, READOUTS, ROTATIONS, SCALES, TRANSITIONS, WIRING_CHOICES,
    MixerSpec, ModelSpec,
)
from dsf_search.core.mix_options import DECAY_PLACEMENTS
from dsf_search.core.low_rank import LOW_RANKS
from dsf_search.kinds import KIND_NAMES, is_kind
from dsf_search.grammar.limits import SIZE_CEILINGS
from dsf_search.grammar import allowed_list, did_you_mean

_KINDS = {"str": str, "int": int, "float": float, "bool": bool}
_CHOICES: dict[str, tuple[str, ...]] = {
    "transition": TRANSITIONS, "eigenvalues": EIGENVALUES, "readout": READOUTS,
    "normalization": NORMALIZATIONS, "query": QUERY_SOURCES, "key": KEY_SOURCES,
    "feature_map": FEATURE_MAPS, "gate": GATES, "injection": INJECTIONS, "eta": ETAS, "scale": SCALES,
    "output_gate": OUTPUT_GATES, "channel_mixer": CHANNEL_MIXERS, "norm": NORMS, "positional": POSITIONALS,
    "wiring": WIRING_CHOICES, "rotation": ROTATIONS, "decay_placement": DECAY_PLACEMENTS,
    "low_rank": LOW_RANKS.names(),
}
_MINIMUM = {"householder_factors": 1, "heads": 1, "state_size": 1, "head_dim": 1, "conv_size": 0, "d_model": 1, "n_layers": 1,
            "vocab_size": 1, "max_len": 1}
_POSITIVE = ("mlp_ratio",)


@dataclass(frozen=True)
class Axis:
    """One axis: its Python type, its allowed values (str axes) and lower bound (numbers)."""

    name: str
    kind: type
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    positive: bool = False
    maximum: float | None = None

    @property
    def type_name(self) -> str:
        return KIND_NAMES[self.kind]

    def typed(self, value: Any) -> tuple[Any, str | None]:
        """(`value` as this axis' type, None) or (value, why it is not allowed): ints count as
        floats, bools never as numbers."""
        if not is_kind(value, self.kind):
            return value, f"found {value!r}; {self.name} takes {self.type_name}"
        if self.kind is float:
            value = float(value)
        return value, self.problem(value)

    def problem(self, value: Any) -> str | None:
        """Why `value` (already of the right type) is not allowed, or None."""
        if self.kind is float and not math.isfinite(value):
            return f"found {value}; {self.name} must be a finite number"
        if self.allowed is not None and value not in self.allowed:
            return f"found {value!r}; allowed: {allowed_list(self.allowed)}{did_you_mean(value, self.allowed)}"
        if self.minimum is not None and value < self.minimum:
            return f"found {value}; must be >= {self.minimum:g}"
        if self.positive and value <= 0:
            return f"found {value}; must be > 0"
        if self.maximum is not None and value > self.maximum:
            return f"found {value}; must be <= {self.maximum:g}"
        return None


def _axis(name: str, type_name: str) -> Axis:
    return Axis(name, _KINDS[type_name], _CHOICES.get(name), _MINIMUM.get(name), name in _POSITIVE, SIZE_CEILINGS.get(name))


MIXER_AXES: dict[str, Axis] = {f.name: _axis(f.name, f.type) for f in fields(MixerSpec)}
MIXER_AXES["preset"] = Axis("preset", str, tuple(zoo.names()))
MODEL_AXES: dict[str, Axis] = {f.name: _axis(f.name, f.type) for f in fields(ModelSpec) if f.name != "layers"}
MODEL_AXES["n_layers"] = _axis("n_layers", "int")

# Decision order: an axis comes after the axes its activity or its base value depends on.
MIXER_ORDER: tuple[str, ...] = (
    "preset", "transition", "eigenvalues", "readout", "normalization", "query", "key", "gate",
    "injection", "selective", "eta", "qk_shared", "feature_map", "qk_norm", "heads", "state_size",
    "head_dim", "conv_size", "scale", "output_gate", "output_norm", "skip", "wiring", "rotation",
    "householder_factors", "decay_placement", "low_rank",
)
MODEL_ORDER: tuple[str, ...] = (
    "d_model", "n_layers", "pattern", "vocab_size", "channel_mixer", "mlp_ratio", "norm", "positional",
    "max_len", "tie_embeddings",
)
# What MixerSpec.active_axes / ModelSpec.canonical read to decide that an axis is active.
ACTIVITY_DEPENDS: dict[str, tuple[str, ...]] = {
    "eigenvalues": ("transition",),
    "gate": ("transition",),
    "selective": ("transition", "gate", "injection", "normalization", "key"),
    "eta": ("normalization",),
    "householder_factors": ("transition",),
    "decay_placement": ("transition", "readout"),
    "low_rank": ("transition",),
    "qk_shared": ("query", "key"),
    "feature_map": ("query", "key"),
    "qk_norm": ("query", "key"),
    "mlp_ratio": ("channel_mixer",),
    "max_len": ("positional",),
}


def _unchecked(cls: type, values: dict[str, Any]) -> Any:
    """An instance of a frozen spec class holding `values`, without validation: it only serves
    to ask the core which axes are active for a partial, maybe not yet consistent, choice."""
    obj = object.__new__(cls)
    for f in fields(cls):
        object.__setattr__(obj, f.name, values[f.name])
    return obj


def mixer_active(values: dict[str, Any]) -> tuple[str, ...]:
    """MixerSpec.active_axes for a full dict of axis values."""
    return _unchecked(MixerSpec, values).active_axes()


def model_active(values: dict[str, Any]) -> tuple[str, ...]:
    """The ModelSpec axes that ModelSpec.canonical keeps for a full dict of axis values."""
    return tuple(_unchecked(ModelSpec, {**values, "layers": ()}).canonical())


MIXER_DEFAULTS: dict[str, Any] = MixerSpec().to_dict()
MODEL_DEFAULTS: dict[str, Any] = {k: v for k, v in ModelSpec().to_dict().items() if k != "layers"}


def pattern_text(names: list[str]) -> str:
    """A layer pattern as one Optuna-storable value that reads like the YAML: '[lin, attn]'."""
    return "[" + ", ".join(names) + "]"


def pattern_names(text: str) -> list[str]:
    return text[1:-1].split(", ")
