"""The widths a mixer's parameters are built with, torch-free: the parts of its input
projections, the shape its gates and injections are built for, the hidden width of the channel
mixers. The mixer builds its modules from these; the cost model and the standalone exporter
count and write the same widths without building anything (so they never import torch).
"""

from __future__ import annotations

from dsf_search.core.gates import GATES, GateShape
from dsf_search.core.injections import INJECTIONS
from dsf_search.core.low_rank import LOW_RANKS
from dsf_search.core.mix_options import DIAGONAL, GATED
from dsf_search.core.spec import MixerSpec
from dsf_search.core.wiring import WIRINGS, Wiring


def gate_shape(spec: MixerSpec, d_model: int) -> GateShape:
    """What the gate and injection options of `spec` are built for at width d_model."""
    wiring = WIRINGS[spec.wiring]
    width = spec.heads * spec.head_dim
    d_in = {"input": d_model, "branch": width, "qkv": 3 * width}[wiring.gate_source]
    d_delta = Wiring.delta_features(d_model) if wiring.delta_rank == "low" else d_in
    # with a rotation a diagonal gate has one magnitude per state pair
    n = spec.state_size // 2 if spec.rotation != "none" and spec.transition in DIAGONAL else spec.state_size
    return GateShape(spec.heads, n, spec.transition in DIAGONAL, spec.selective, d_in, d_delta, spec.head_dim)


def uses_delta(spec: MixerSpec) -> bool:
    """Whether the mixer computes Mamba's Delta_t (the mamba gate or an injection that reads it)."""
    return (spec.transition in GATED and GATES[spec.gate].owns_delta) or INJECTIONS[spec.injection].reads_delta


def factor_names(spec: MixerSpec) -> list[tuple[str, str]]:
    """(key part, value part) names of the extra Householder factors 2..m."""
    return [(f"k{j}", f"v{j}") for j in range(2, spec.householder_factors + 1)]


def extra_widths(spec: MixerSpec, Hq: int) -> list[tuple[str, int]]:
    """Channels the frontier (core/frontier.py) adds to the mixer's input projection (and
    convolution): dplr's erase direction, the extra Householder factors' keys and values."""
    n, H, dv = spec.state_size, spec.heads, spec.head_dim
    widths = []
    if spec.transition == "dplr" and spec.key == "input" and LOW_RANKS[spec.low_rank].own_direction:
        widths.append(("p", Hq * n))
    for k_name, v_name in factor_names(spec):
        if spec.key == "input":
            widths.append((k_name, Hq * n))
        widths.append((v_name, H * dv))
    return widths


def projection_widths(spec: MixerSpec, d_model: int) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """The (name, width) parts of in_proj and of x_proj (empty when the wiring has none)."""
    wiring = WIRINGS[spec.wiring]
    Hq = 1 if spec.qk_shared else spec.heads
    qk = [(name, Hq * spec.state_size) for name, src in (("q", spec.query), ("k", spec.key)) if src == "input"]
    in_parts = (qk if wiring.qk == "in_proj" else []) + [("v", spec.heads * spec.head_dim)]
    in_parts += extra_widths(spec, Hq)
    if wiring.qk == "headwise":
        return in_parts, []
    x_parts = []
    if wiring.delta_rank == "low" and uses_delta(spec):
        x_parts.append(("dt", Wiring.delta_features(d_model)))
    if wiring.qk == "x_proj":
        x_parts += qk[::-1]  # k | q: Mamba's x_proj order dt | B | C
    return in_parts, x_parts


def swiglu_hidden(d_model: int, mlp_ratio: float) -> int:
    """Hidden width of SwiGLU: 2/3 of the MLP's so both have the same parameter count."""
    return max(1, round(2 * mlp_ratio * d_model / 3))


def mlp_hidden(d_model: int, mlp_ratio: float) -> int:
    return max(1, round(mlp_ratio * d_model))
