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

from dsf_search.core.mix_options import DIAGONAL, GATED, HOUSEHOLDER
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


def _frontier_params(m: MixerSpec, d_in: int) -> int:
    """theta_in, erase_beta_in (+ removal_scale, key_mix), factor_beta_in of frontier.py (their extra in_proj channels are
    in projection_widths)."""
    p = gate_input_params(d_in, m.heads * (m.state_size // 2), m.selective) if m.rotation != "none" else 0
    if m.transition == "dplr":
        low_rank = LOW_RANKS[m.low_rank]
        rate = m.heads * (m.state_size if low_rank.per_channel_rate else 1)
        p += gate_input_params(d_in, rate, m.selective) + low_rank.channel_params * m.heads * m.state_size
        p += low_rank.head_params * m.heads
    if m.householder_factors > 1:
        p += gate_input_params(d_in, (m.householder_factors - 1) * m.heads, m.selective)
    return p


def _frontier_flops(m: MixerSpec, d_in: int) -> int:
    """FLOPs of the frontier axes per token: their selective projections and their state work.

    A rotation costs 6 per state pair and column (4 multiplies, 2 adds); each extra Householder
    factor one injection (2 n cols) and one reflection (4 n cols); 'dplr' (w^T S and the rank-1
    update, 4 n cols) is in its Transition's update_flops.
    """
    H, n, dv = m.heads, m.state_size, m.head_dim
    f = 0
    if m.selective:
        f += 2 * d_in * H * (n // 2) if m.rotation != "none" else 0
        if m.transition == "dplr":
            f += 2 * d_in * H * (n if LOW_RANKS[m.low_rank].per_channel_rate else 1)
        f += 2 * d_in * (m.householder_factors - 1) * H
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
    width = _in_width(m, d)
    d_in = gate_shape(m, d).d_in
    f = 2 * d * width + 2 * H * dv * d
    f += 2 * width * m.conv_size if m.conv_size > 0 else 0
    f += 2 * d_in * sum(w for _, w in projection_widths(m, d)[1])
    f += 2 * d * H * dv if m.output_gate != "none" else 0
    gate_size = H * gate_shape(m, d).state_size if m.transition in DIAGONAL else H
    f += _frontier_flops(m, d_in)
    injection = INJECTIONS[m.injection]
    gate_inputs = (m.transition in GATED and GATES[m.gate].learned) + (m.transition in HOUSEHOLDER) \
        + (injection.reads_input and not injection.per_value) + (m.normalization == "learned")
    f += 2 * d_in * gate_size * gate_inputs if m.selective else 0
    if injection.per_value:
        # its projection (one output per value channel) and the scaling of v
        f += (2 * d_in * H * dv if m.selective else 0) + H * dv
    if injection.taps == 2:
        # lambda_t's projection (one per head); the second tap's outer product + add is below
        f += 2 * d_in * H if m.selective else 0
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
