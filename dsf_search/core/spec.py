"""Specs: every design axis of a mixer (`MixerSpec`) and of a model (`ModelSpec`).

Specs are frozen dataclasses with `to_dict` / `from_dict`, a canonical form (inactive axes
dropped, defaults filled) and a content hash over the canonical form, so two specs that build
the same model hash the same. Validation raises `ValueError` naming the axis.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field, fields
from typing import Any

from dsf_search.core.mix_options import (
    DECAY_PLACEMENTS,
    DIAGONAL,
    GATED,
    HOUSEHOLDER,
    NORMALIZATIONS,
    READOUTS,
    ROTATABLE,
    TRANSITIONS,
)
from dsf_search.kinds import is_kind
from dsf_search.suggest import did_you_mean
from dsf_search.core.gates import GATES as GATE_OPTIONS
from dsf_search.core.injections import INJECTIONS as INJECTION_OPTIONS
from dsf_search.core.low_rank import LOW_RANKS
from dsf_search.core.wiring import DEFAULT_WIRING, HEADWISE_BLOCK, WIRINGS

EIGENVALUES = ("nonnegative", "signed")
QUERY_SOURCES = ("input", "static", "ones")
KEY_SOURCES = ("input", "static", "ones", "gate")
FEATURE_MAPS = ("identity", "elu1", "relu", "silu", "sigmoid")
GATES = GATE_OPTIONS.names()
INJECTIONS = INJECTION_OPTIONS.names()
WIRING_CHOICES = WIRINGS.names()
ETAS = ("exp", "softplus", "sigmoid")
SCALES = ("one", "inv_sqrt_n")
OUTPUT_GATES = ("none", "silu", "sigmoid", "gelu", "gelu_tanh")
CHANNEL_MIXERS = ("none", "mlp", "swiglu")
NORMS = ("rmsnorm", "layernorm")
POSITIONALS = ("none", "learned", "rope")
ROTATIONS = ("none", "learned")

_CHOICES: dict[str, tuple[str, ...]] = {
    "transition": TRANSITIONS,
    "eigenvalues": EIGENVALUES,
    "readout": READOUTS,
    "normalization": NORMALIZATIONS,
    "query": QUERY_SOURCES,
    "key": KEY_SOURCES,
    "feature_map": FEATURE_MAPS,
    "gate": GATES,
    "injection": INJECTIONS,
    "eta": ETAS,
    "scale": SCALES,
    "output_gate": OUTPUT_GATES,
    "wiring": WIRING_CHOICES,
    "channel_mixer": CHANNEL_MIXERS,
    "norm": NORMS,
    "positional": POSITIONALS,
    "rotation": ROTATIONS,
    "decay_placement": DECAY_PLACEMENTS,
    "low_rank": LOW_RANKS.names(),
}


def _check_choice(owner: str, axis: str, value: Any) -> None:
    allowed = _CHOICES[axis]
    if value not in allowed:
        raise ValueError(f"{owner}.{axis}: {value!r} is not one of {', '.join(allowed)}{did_you_mean(value, allowed)}")


def _check_type(owner: str, axis: str, value: Any, kind: type) -> None:
    if not is_kind(value, kind):
        raise ValueError(f"{owner}.{axis}: expected {kind.__name__}, got {type(value).__name__} {value!r}")


def _check_types(owner: str, obj: Any) -> None:
    for f in fields(obj):
        value = getattr(obj, f.name)
        if f.name in _CHOICES:
            _check_type(owner, f.name, value, str)
            _check_choice(owner, f.name, value)
        elif f.type in ("int", "bool", "float"):
            _check_type(owner, f.name, value, {"int": int, "bool": bool, "float": float}[f.type])


def _from_dict(cls, data: dict[str, Any], owner: str):
    if not isinstance(data, dict):
        raise ValueError(f"{owner}: expected a mapping, got {type(data).__name__}")
    names = [f.name for f in fields(cls)]
    unknown = [key for key in data if key not in names]
    if unknown:
        raise ValueError(f"{owner}.{unknown[0]}: unknown axis{did_you_mean(unknown[0], names)}; axes: {', '.join(names)}")
    return cls(**data)


def content_hash(canonical: dict[str, Any]) -> str:
    """A stable 16-hex-digit hash of a canonical dict (sorted keys, compact JSON)."""
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# Axes added after searches had stored hashes, with the default that leaves the model unchanged.
_LATER_AXES: dict[str, Any] = {"wiring": DEFAULT_WIRING, "rotation": "none", "householder_factors": 1,
                               "decay_placement": "inside", "low_rank": "symmetric"}


@dataclass(frozen=True)
class MixerSpec:
    """Every design axis of one token mixer (one DSF layer).

    Sizes: `heads` H, `state_size` n (per head), `head_dim` d_v (value width per head); the
    mixer's inner width is H * d_v. `AXIS_DOCS` says what each axis means.
    """

    transition: str = "scalar"
    eigenvalues: str = "nonnegative"
    readout: str = "linear"
    normalization: str = "none"
    heads: int = 4
    state_size: int = 16
    head_dim: int = 16
    query: str = "input"
    key: str = "input"
    qk_shared: bool = False
    feature_map: str = "identity"
    qk_norm: bool = False
    conv_size: int = 0
    gate: str = "sigmoid"
    selective: bool = True
    injection: str = "one"
    eta: str = "exp"
    scale: str = "inv_sqrt_n"
    output_gate: str = "none"
    output_norm: bool = False
    skip: bool = False
    wiring: str = DEFAULT_WIRING
    rotation: str = "none"
    householder_factors: int = 1
    decay_placement: str = "inside"
    low_rank: str = "symmetric"

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ValueError naming the axis when the spec is not a well-defined mixer."""
        owner = "mixer"
        _check_types(owner, self)
        for axis in ("heads", "state_size", "head_dim"):
            if getattr(self, axis) <= 0:
                raise ValueError(f"{owner}.{axis}: must be >= 1, got {getattr(self, axis)}")
        if self.conv_size < 0:
            raise ValueError(f"{owner}.conv_size: must be >= 0 (0 = no convolution), got {self.conv_size}")
        if self.transition == "identity" and self.eigenvalues == "signed":
            raise ValueError(f"{owner}.eigenvalues: 'signed' needs a transition with a gate or Householder part, not 'identity'")
        gated = self.transition in GATED
        gate, injection = GATE_OPTIONS[self.gate], INJECTION_OPTIONS[self.injection]
        if gated and gate.positive_only and self.eigenvalues == "signed" and self.transition not in HOUSEHOLDER:
            raise ValueError(f"{owner}.gate: {self.gate!r} decays are positive; eigenvalues 'signed' needs a learned gate")
        if gated and gate.per_head_only and self.transition in DIAGONAL:
            raise ValueError(f"{owner}.gate: {self.gate!r} is a per-head decay (RetNet); use it with a scalar transition, not {self.transition!r}")
        if injection.needs_gate and not gated:
            raise ValueError(f"{owner}.injection: {self.injection!r} needs a gated transition (a_t), not {self.transition!r}")
        tied_rate = self.transition == "dplr" and not LOW_RANKS[self.low_rank].per_channel_rate
        if injection.needs_householder and self.transition not in HOUSEHOLDER and not tied_rate:
            raise ValueError(f"{owner}.injection: {self.injection!r} (b_t = beta_t, the delta rule) needs a Householder transition "
                             f"or dplr with a per-head rate (low_rank symmetric, comba), not {self.transition!r}"
                             + (f" with low_rank {self.low_rank!r}" if self.transition == "dplr" else ""))
        if self.key == "gate" and self.transition != "diagonal":
            raise ValueError(f"{owner}.key: 'gate' (k_t = 1 - a_t, HGRN-2) needs transition 'diagonal', not {self.transition!r}")
        if injection.taps == 2 and (self.transition in HOUSEHOLDER or self.transition == "dplr"):
            raise ValueError(f"{owner}.injection: {self.injection!r} (two taps, k_{{t-1}} v_{{t-1}}^T written again at t) needs a "
                             f"transition without a Householder or low-rank part (identity, scalar, diagonal), not {self.transition!r}")
        if injection.taps == 2 and self.readout != "linear":
            raise ValueError(f"{owner}.injection: {self.injection!r} (two taps) needs readout 'linear', not {self.readout!r}")
        wiring = WIRINGS[self.wiring]
        if wiring.qk == "headwise" and (self.qk_shared or self.state_size != self.head_dim or self.query != "input"
                                        or self.key != "input" or (self.heads * self.head_dim) % HEADWISE_BLOCK):
            raise ValueError(f"{owner}.wiring: {self.wiring!r} maps one branch block by block into q, k and v: it needs "
                             f"query and key 'input', qk_shared false, state_size = head_dim and heads * head_dim a "
                             f"multiple of {HEADWISE_BLOCK}")
        if self.key == "gate" and self.eigenvalues == "signed":
            raise ValueError(f"{owner}.key: 'gate' needs nonnegative eigenvalues")
        self._validate_frontier(owner)

    def _validate_frontier(self, owner: str) -> None:
        """Rotations, dplr, Householder factors and decay placement (issue 11)."""
        if self.rotation != "none":
            if self.transition not in ROTATABLE:
                raise ValueError(f"{owner}.rotation: not defined for transition {self.transition!r}; "
                                 f"allowed with {', '.join(sorted(ROTATABLE))}")
            if self.state_size % 2:
                raise ValueError(f"{owner}.rotation: rotates pairs of state channels, so state_size must be even (got {self.state_size})")
            if self.eigenvalues == "signed" and self.transition in GATED:
                raise ValueError(f"{owner}.rotation: a rotation already gives complex eigenvalues a e^(+-i theta); "
                                 "use it with eigenvalues 'nonnegative' (the angle pi reaches -a)")
            if self.transition in DIAGONAL and (INJECTION_OPTIONS[self.injection].needs_gate or self.key == "gate"):
                raise ValueError(f"{owner}.rotation: with a rotation the diagonal gate has one value per state pair; "
                                 f"injection {self.injection!r} / key {self.key!r} built from a per-channel gate are not defined")
        if self.transition == "dplr" and LOW_RANKS[self.low_rank].needs_signed and self.eigenvalues != "signed":
            raise ValueError(f"{owner}.low_rank: {self.low_rank!r} reaches eigenvalues down to min a - 1 < 0; "
                             "use it with eigenvalues 'signed'")
        if self.transition == "dplr" and not LOW_RANKS[self.low_rank].own_direction and self.key != "input":
            raise ValueError(f"{owner}.low_rank: {self.low_rank!r} derives its erase direction from the key; needs key 'input'")
        if self.householder_factors < 1:
            raise ValueError(f"{owner}.householder_factors: must be >= 1, got {self.householder_factors}")
        if self.householder_factors > 1:
            if self.transition not in HOUSEHOLDER:
                raise ValueError(f"{owner}.householder_factors: several factors need a Householder transition, not {self.transition!r}")
            if self.readout != "linear":
                raise ValueError(f"{owner}.householder_factors: several factors per token need readout 'linear'")
            if INJECTION_OPTIONS[self.injection].needs_gate or INJECTION_OPTIONS[self.injection].per_value:
                raise ValueError(f"{owner}.householder_factors: injection {self.injection!r} with several factors is not defined")
        if self.decay_placement == "outside":
            if self.transition != "scalar":
                raise ValueError(f"{owner}.decay_placement: 'outside' needs transition 'scalar', not {self.transition!r}")
            if self.eigenvalues == "signed":
                raise ValueError(f"{owner}.decay_placement: 'outside' needs eigenvalues 'nonnegative'")
            if self.rotation != "none":
                raise ValueError(f"{owner}.decay_placement: 'outside' multiplies real decays after the readout; it takes no rotation")

    def active_axes(self) -> tuple[str, ...]:
        """The axes that change the model this spec builds (the others are dropped when canonical)."""
        gated = self.transition in GATED
        learned_gate = gated and GATE_OPTIONS[self.gate].learned
        qk_learned = self.query in ("input", "static") or self.key in ("input", "static")
        inactive = set()
        if self.transition == "identity":
            inactive.add("eigenvalues")
        if not gated:
            inactive.add("gate")
        if not (learned_gate or self.transition in HOUSEHOLDER or INJECTION_OPTIONS[self.injection].reads_input
                or self.normalization == "learned" or self.key == "gate"):
            inactive.add("selective")
        if self.normalization != "learned":
            inactive.add("eta")
        if self.transition not in HOUSEHOLDER:
            inactive.add("householder_factors")
        if self.transition != "dplr":
            inactive.add("low_rank")
        # outside == inside for a linear readout (the same recurrence)
        if self.transition != "scalar" or self.readout == "linear":
            inactive.add("decay_placement")
        if not qk_learned:
            inactive.update(("qk_shared", "feature_map", "qk_norm"))
        return tuple(f.name for f in fields(self) if f.name not in inactive)

    def canonical(self) -> dict[str, Any]:
        """Active axes only, in field order; `wiring` and the frontier axes (rotation,
        householder_factors, decay_placement) only when not at their defaults (so the specs of
        searches made before the axes existed keep their hashes)."""
        out = {axis: getattr(self, axis) for axis in self.active_axes()}
        for axis, default in _LATER_AXES.items():
            if out.get(axis, default) == default:
                out.pop(axis, None)
        return out

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MixerSpec:
        return _from_dict(cls, data, "mixer")

    def hash(self) -> str:
        return content_hash(self.canonical())

    @property
    def finite_state(self) -> bool:
        """P1: only a linear readout collapses into a finite matrix state."""
        return self.readout == "linear"


AXIS_DOCS: dict[str, str] = {
    "transition": "structure of A_t: identity | scalar a_t I | diagonal diag(a_t) | householder (I - beta k k^T) | householder_scalar | householder_diagonal | dplr (diag(a_t) - u_t w_t^T, decoupled erase direction)",
    "eigenvalues": "range of the eigenvalues of A_t: nonnegative (a in [0,1], beta in [0,1]) or signed (a in [-1,1], beta in [0,2])",
    "readout": "phi: linear (finite state) or exp (softmax-like, KV cache)",
    "normalization": "eta_i: none | sum (sum_j phi(s_ij)) | maxabs (max(|sum_j phi(s_ij)|, 1)) | learned (input-dependent, per head)",
    "heads": "number of heads H",
    "state_size": "n: state (key/query) size per head",
    "head_dim": "d_v: value width per head",
    "query": "q_t: input (projected) | static (learned, LTI) | ones",
    "key": "k_t: input | static | ones | gate (k_t = 1 - a_t, HGRN-2; diagonal transitions)",
    "qk_shared": "one q/k for all heads (multi-value, as in Mamba) instead of one per head",
    "feature_map": "map applied to q and k: identity | elu1 (elu+1) | relu | silu | sigmoid",
    "qk_norm": "L2-normalize q and k (k is always normalized for Householder transitions)",
    "conv_size": "kernel of the short causal depthwise convolution on q, k, v (0 = off)",
    "gate": "parametrization of a_t: mamba exp(-softplus(.) exp(A_log)) | gla sigmoid^(1/16) | sigmoid | fixed (RetNet decays) | rglru a^(8 r_t) | reversed_sigmoid sigma(-x)^relu(alpha), alpha learned",
    "selective": "gates (a_t, beta_t, b_t, eta_t) depend on the input (LTV) or are learned constants (LTI)",
    "injection": "b_t: one | inv_sqrt_n | sigmoid | delta (softplus Delta) | one_minus_a | sqrt_one_minus_a2 | exp (input gate) | beta (delta rule, b_t = beta_t) | sigmoid_value (one gate per value channel: k_t (b_t o v_t)^T) | trapezoidal (Mamba-3's two taps: b'_t k_(t-1) v_(t-1)^T + b_t k_t v_t^T)",
    "eta": "learned normalizer eta_t = f(w^T u_t + c): exp | softplus | sigmoid",
    "scale": "score scale c: one | inv_sqrt_n (1/sqrt(n))",
    "output_gate": "gate on the mixer output: none | silu | sigmoid | gelu | gelu_tanh (tanh-approximate gelu, Griffin)",
    "output_norm": "per-head RMS norm of the mixer output",
    "skip": "per-head skip connection D v_t (Mamba's D)",
    "wiring": "input/output path of the mixer (core/wiring.py): " + " | ".join(WIRINGS.names()),
    "rotation": "none | learned: A_t gains a rotation R(theta_t) of state pairs (complex eigenvalues a e^(+-i theta); theta selective or LTI)",
    "householder_factors": "m Householder factors (delta-rule sub-steps) per token (DeltaProduct); Householder transitions",
    "low_rank": "how dplr builds u_t w_t^T: " + " | ".join(f"{o.name} ({o.doc})" for o in LOW_RANKS),
    "decay_placement": "inside (gates act on the state) | outside (gates multiply phi(s_ij) after the readout: Forgetting Transformer); scalar gates",
    "vocab_size": "token vocabulary size",
    "d_model": "model width",
    "layers": "one mixer per layer",
    "channel_mixer": "channel mixer after each mixer: none | mlp (GELU) | swiglu",
    "mlp_ratio": "hidden width of the channel mixer / d_model",
    "norm": "pre-norm of each block: rmsnorm | layernorm",
    "positional": "positional scheme: none | learned (absolute) | rope (on q and k)",
    "max_len": "largest position of the learned absolute embedding",
    "tie_embeddings": "LM head shares the token embedding",
}


def _default_layers() -> tuple[MixerSpec, ...]:
    return (MixerSpec(), MixerSpec())


@dataclass(frozen=True)
class ModelSpec:
    """A sequence model: embedding, positional scheme, N blocks (mixer + channel mixer), LM head.

    `layers` holds one MixerSpec per layer (use `from_pattern` for repeating hybrids).
    """

    vocab_size: int = 64
    d_model: int = 64
    layers: tuple[MixerSpec, ...] = field(default_factory=_default_layers)
    channel_mixer: str = "swiglu"
    mlp_ratio: float = 4.0
    norm: str = "rmsnorm"
    positional: str = "none"
    max_len: int = 2048
    tie_embeddings: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.layers, list):
            object.__setattr__(self, "layers", tuple(self.layers))
        if isinstance(self.mlp_ratio, int) and not isinstance(self.mlp_ratio, bool):
            object.__setattr__(self, "mlp_ratio", float(self.mlp_ratio))
        self.validate()

    def validate(self) -> None:
        owner = "model"
        _check_types(owner, self)
        for axis in ("vocab_size", "d_model", "max_len"):
            if getattr(self, axis) <= 0:
                raise ValueError(f"{owner}.{axis}: must be >= 1, got {getattr(self, axis)}")
        if not self.layers:
            raise ValueError(f"{owner}.layers: at least one layer is needed")
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, MixerSpec):
                raise ValueError(f"{owner}.layers.{i}: expected a MixerSpec, got {type(layer).__name__}")
        if self.channel_mixer != "none" and self.mlp_ratio <= 0:
            raise ValueError(f"{owner}.mlp_ratio: must be > 0, got {self.mlp_ratio}")
        if self.positional == "rope":
            for i, layer in enumerate(self.layers):
                if layer.state_size % 2:
                    raise ValueError(f"{owner}.layers.{i}.state_size: RoPE rotates pairs of q/k channels, so it must be even (got {layer.state_size})")

    @property
    def n_layers(self) -> int:
        return len(self.layers)

    @classmethod
    def from_pattern(cls, mixers: dict[str, MixerSpec], pattern: list[str], n_layers: int, **kwargs: Any) -> ModelSpec:
        """Layers repeat `pattern` (names of `mixers`) until there are `n_layers` of them."""
        if not pattern:
            raise ValueError("model.pattern: must name at least one mixer")
        for name in pattern:
            if name not in mixers:
                raise ValueError(f"model.pattern: unknown mixer {name!r}{did_you_mean(name, list(mixers))}; mixers: {', '.join(mixers)}")
        layers = tuple(mixers[pattern[i % len(pattern)]] for i in range(n_layers))
        return cls(layers=layers, **kwargs)

    def canonical(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "layers":
                out["layers"] = [layer.canonical() for layer in self.layers]
            elif f.name == "mlp_ratio" and self.channel_mixer == "none":
                continue
            elif f.name == "max_len" and self.positional != "learned":
                continue
            else:
                out[f.name] = getattr(self, f.name)
        return out

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["layers"] = [layer.to_dict() for layer in self.layers]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSpec:
        if not isinstance(data, dict):
            raise ValueError(f"model: expected a mapping, got {type(data).__name__}")
        data = dict(data)
        layers = data.get("layers", None)
        if layers is not None:
            if not isinstance(layers, (list, tuple)):
                raise ValueError(f"model.layers: expected a list of mixers, got {type(layers).__name__}")
            parsed = []
            for i, layer in enumerate(layers):
                try:
                    parsed.append(layer if isinstance(layer, MixerSpec) else MixerSpec.from_dict(layer))
                except ValueError as err:
                    raise ValueError(f"model.layers.{i}.{str(err).removeprefix('mixer.')}") from None
            data["layers"] = tuple(parsed)
        return _from_dict(cls, data, "model")

    def hash(self) -> str:
        return content_hash(self.canonical())

    def replace(self, **changes: Any) -> ModelSpec:
        return dataclasses.replace(self, **changes)
