"""Analytic cost of a spec, computed from the spec alone (no model is built).

* params: exact parameter count of `SequenceModel(spec)` (tests compare with the module).
* state_bytes(T): memory of the inference state of one sequence after T tokens: the matrix
  state H n d_v (+ H n normalizer) per linear-readout layer, the KV cache T H (n + d_v) per
  exp-readout layer, plus the conv tails and a two-tap injection's last k and v (H (n + d_v)).
* flops_per_token(T): forward FLOPs per token (a multiply-add counts 2) when generating at
  context length T with the recurrent/KV-cache step: projections, mixing, channel mixer, head.
  For exp readouts the step attends to T cached keys (evolved by A_t unless A_t = I).
"""

from __future__ import annotations

from dataclasses import dataclass

from dsf_search.core.mix_options import GATED, HOUSEHOLDER
from dsf_search.core.gates import GATES, gate_input_params
from dsf_search.core.injections import INJECTIONS
from dsf_search.core.low_rank import LOW_RANKS
from dsf_search.core.widths import gate_shape, mlp_hidden, projection_widths, swiglu_hidden
from dsf_search.core.wiring import HEADWISE_BLOCK, WIRINGS
from dsf_search.core.spec import MixerSpec, ModelSpec
from dsf_search.core.transitions import TRANSITIONS


def _in_width(m: MixerSpec, d: int = 0) -> int:
    """Width of in_proj's output (what the short conv runs over; independent of d)."""
    return sum(w for _, w in projection_widths(m, d)[0])


def _frontier_projections(m: MixerSpec, d_in: int) -> list[tuple[int, int]]:
    """(inputs, outputs) of the GateInputs of frontier.py: theta_in, erase_beta_in, factor_beta_in
    (their extra in_proj channels are in projection_widths)."""
    H, n = m.heads, m.state_size
    out = [(d_in, H * (n // 2))] if m.rotation != "none" else []
    if m.transition == "dplr":
        out.append((d_in, H * (n if LOW_RANKS[m.low_rank].per_channel_rate else 1)))
    if m.householder_factors > 1:
        out.append((d_in, (m.householder_factors - 1) * H))
    return out


def _frontier_params(m: MixerSpec, d_in: int) -> int:
    """Parameters of frontier.py: its GateInputs, and dplr's removal_scale and key_mix."""
    p = sum(gate_input_params(i, o, m.selective) for i, o in _frontier_projections(m, d_in))
    if m.transition == "dplr":
        low_rank = LOW_RANKS[m.low_rank]
        p += low_rank.channel_params * m.heads * m.state_size + low_rank.head_params * m.heads
    return p


def _gate_inputs(m: MixerSpec, d: int) -> list[tuple[int, int]]:
    """(inputs, outputs) of every GateInput of DSFMixer(m, d): the gate's, the injection's,
    beta's, eta's and the frontier's (each a matrix product per token when selective)."""
    H = m.heads
    shape = gate_shape(m, d)
    gated = m.transition in GATED
    gate = GATES[m.gate] if gated else None
    projection = gate.projection(shape) if gated else None
    out = [projection] if projection is not None else []
    out += INJECTIONS[m.injection].projections(shape, gated and gate.owns_delta)
    out += [(shape.d_in, H)] if m.transition in HOUSEHOLDER else []
    out += [(shape.d_in, H)] if m.normalization == "learned" else []
    return out + _frontier_projections(m, shape.d_in)


def matmul_flops(m: MixerSpec, d: int) -> int:
    """FLOPs per token of the matrix products of DSFMixer(m, d), 2 per weight: in_proj, the
    depthwise short conv, x_proj, xLSTM's block-diagonal q/k/v maps, the selective gate inputs
    (`_gate_inputs`), the output gate's projection and out_proj."""
    H, dv = m.heads, m.head_dim
    width = _in_width(m, d)
    weights = d * width + H * dv * d
    weights += width * m.conv_size if m.conv_size > 0 else 0
    weights += gate_shape(m, d).d_in * sum(w for _, w in projection_widths(m, d)[1])
    weights += 3 * H * dv * HEADWISE_BLOCK if WIRINGS[m.wiring].qk == "headwise" else 0
    weights += d * H * dv if m.output_gate != "none" else 0
    weights += sum(i * o for i, o in _gate_inputs(m, d)) if m.selective else 0
    return 2 * weights


def _frontier_flops(m: MixerSpec) -> int:
    """FLOPs of the frontier axes' state work per token (their projections: `matmul_flops`).

    A rotation costs 6 per state pair and column (4 multiplies, 2 adds); each extra Householder
    factor one injection (2 n cols) and one reflection (4 n cols); 'dplr' (w^T S and the rank-1
    update, 4 n cols) is in its Transition's update_flops.
    """
    H, n, dv = m.heads, m.state_size, m.head_dim
    f = 0
    if m.readout == "linear":
        cols = dv + (1 if m.normalization in ("sum", "maxabs") else 0)
        f += H * 3 * n * cols if m.rotation != "none" else 0
        f += H * (m.householder_factors - 1) * 6 * n * cols
    return f


def mixer_params(m: MixerSpec, d: int) -> int:
    """Exact parameter count of DSFMixer(m, d)."""
    H, n, dv = m.heads, m.state_size, m.head_dim
    Hq = 1 if m.qk_shared else H
    wiring = WIRINGS[m.wiring]
    in_parts, x_parts = projection_widths(m, d)
    width = sum(w for _, w in in_parts)
    shape = gate_shape(m, d)
    bias = 1 if wiring.bias else 0
    p = d * width + bias * width
    if m.conv_size > 0:
        p += width * m.conv_size + width
    if x_parts:
        x_width = sum(w for _, w in x_parts)
        p += shape.d_in * x_width + bias * x_width
    if wiring.qk == "headwise":
        p += 3 * H * dv * HEADWISE_BLOCK  # q, k, v block-diagonal maps
    p += Hq * n if m.query == "static" else 0
    p += Hq * n if m.key == "static" else 0
    gated = m.transition in GATED
    if gated:
        p += GATES[m.gate].params(shape)
    if m.transition in HOUSEHOLDER:
        p += gate_input_params(shape.d_in, H, m.selective)
    p += INJECTIONS[m.injection].params(shape, gated and GATES[m.gate].owns_delta)
    if m.normalization == "learned":
        p += gate_input_params(shape.d_in, H, m.selective)
    p += (H if wiring.skip_source == "value" else H * dv) if m.skip else 0
    p += H * dv if m.output_norm else 0
    p += (d * H * dv + bias * H * dv) if m.output_gate != "none" else 0
    return p + H * dv * d + bias * d + _frontier_params(m, shape.d_in)


def _norm_params(name: str, d: int) -> int:
    return d if name == "rmsnorm" else 2 * d


def _channel_params(spec: ModelSpec) -> int:
    d = spec.d_model
    if spec.channel_mixer == "mlp":
        return 2 * d * mlp_hidden(d, spec.mlp_ratio)
    if spec.channel_mixer == "swiglu":
        return 3 * d * swiglu_hidden(d, spec.mlp_ratio)
    return 0


def params(spec: ModelSpec) -> int:
    """Exact parameter count of SequenceModel(spec)."""
    d = spec.d_model
    p = spec.vocab_size * d
    p += spec.max_len * d if spec.positional == "learned" else 0
    for layer in spec.layers:
        p += _norm_params(spec.norm, d) + mixer_params(layer, d)
        if spec.channel_mixer != "none":
            p += _norm_params(spec.norm, d) + _channel_params(spec)
    p += _norm_params(spec.norm, d)
    return p + (0 if spec.tie_embeddings else spec.vocab_size * d)


def mixer_state_elements(m: MixerSpec, T: int) -> int:
    """Numbers held in the inference state of one mixer for one sequence after T tokens."""
    H, n, dv = m.heads, m.state_size, m.head_dim
    if m.readout == "linear":
        state = H * n * dv + (H * n if m.normalization in ("sum", "maxabs") else 0)
        # a two-tap injection keeps the last token's k and v for the next step
        state += H * (n + dv) if INJECTIONS[m.injection].taps == 2 else 0
    else:
        # the KV cache; decay outside the readout also keeps one log decay per cached token
        state = T * H * (n + dv + (1 if m.decay_placement == "outside" and m.transition == "scalar" else 0))
    return state + (_in_width(m) * (m.conv_size - 1) if m.conv_size > 0 else 0)  # in_proj's width does not depend on d


def state_bytes(spec: ModelSpec, T: int, bytes_per_element: int = 4) -> int:
    """Inference-state bytes of one sequence after T tokens (float32 by default)."""
    return bytes_per_element * sum(mixer_state_elements(m, T) for m in spec.layers)


def mixer_flops_per_token(m: MixerSpec, d: int, T: int) -> int:
    """Forward FLOPs of one generated token of one mixer at context length T."""
    H, n, dv = m.heads, m.state_size, m.head_dim
    f = matmul_flops(m, d) + _frontier_flops(m)
    injection = INJECTIONS[m.injection]
    f += H * dv if injection.per_value else 0  # the scaling of v
    if m.readout == "linear":
        cols = dv + (1 if m.normalization in ("sum", "maxabs") else 0)
        per_head = 2 * n * cols * injection.taps  # injection outer product + add (per tap)
        per_head += TRANSITIONS[m.transition].update_flops(n, cols)
        per_head += 2 * n * cols  # readout
        return f + H * per_head
    per_head = 2 * T * (n + dv)  # scores and the weighted sum over the cache
    outside = m.decay_placement == "outside" and m.transition == "scalar"
    # outside the readout the gate decays T log scores instead of evolving T keys; a rotation
    # turns every cached key (6 per pair)
    per_head += T if outside else TRANSITIONS[m.transition].cache_flops(n, T)
    per_head += 3 * T * n if m.rotation != "none" else 0
    return f + H * per_head


def flops_per_token(spec: ModelSpec, T: int) -> int:
    """Forward FLOPs per generated token of the whole model at context length T."""
    d = spec.d_model
    f = sum(mixer_flops_per_token(m, d, T) for m in spec.layers)
    if spec.channel_mixer != "none":
        f += spec.n_layers * 2 * _channel_params(spec)
    return f + 2 * d * spec.vocab_size


@dataclass(frozen=True)
class Cost:
    """The analytic costs of a spec at context length T."""

    params: int
    state_bytes: int
    flops_per_token: int
    length: int


def analytic_cost(spec: ModelSpec, T: int = 2048) -> Cost:
    return Cost(params=params(spec), state_bytes=state_bytes(spec, T), flops_per_token=flops_per_token(spec, T), length=T)
