"""`DSFMixer`: the token-mixer module that builds the per-token quantities of `mix` from a spec.

From the input u [B, T, d_model] it forms, per head h (H heads, state size n, value width d_v),
as the spec's `wiring` (core/wiring.py) says:
    x = in_proj(u)  (q | k | v, or the value branch alone), optional short causal conv (+ SiLU)
    q_t, k_t [n]    (from in_proj, or x_proj of the convolved value branch; static or ones;
                     feature map, L2 norm, RoPE; k unit-norm for Householder transitions)
    v_t [d_v]       (the convolved value branch)
    a_t             (the `gate` option, core/gates.py; 2 a - 1 when signed)
    beta_t          (sigmoid, x2 when signed)
    b_t             (the `injection` option, core/injections.py), eta_t (learned normalizer)
with the gates read from u or from the value branch; then y = mix(...), optionally + D v
(skip), the output norm and gate in the wiring's order, and the output projection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from dsf_search.core.mix_options import GATED, HOUSEHOLDER
from dsf_search.core.gates import GATES
from dsf_search.core.injections import INJECTIONS
from dsf_search.core.frontier import FrontierInputs, substeps, token_outputs, two_taps
from dsf_search.core.layers import GateInput, HeadwiseLinear, activation, feature_map, rotary
from dsf_search.core.mixing import coefficients, mix
from dsf_search.core.spec import MixerSpec
from dsf_search.core.widths import gate_shape, projection_widths
from dsf_search.core.wiring import HEADWISE_BLOCK, WIRINGS

RMS_EPS = 1e-6
LAYER_NORM_EPS = 1e-5  # xLSTM's (and PyTorch's) LayerNorm epsilon


@dataclass
class MixerState:
    """Decoding state of one mixer: the state of `mix`, the conv tail, the position offset, and
    for a two-tap injection the last token's (k [B, 1, H, n], v [B, 1, H, d_v])."""

    mix: Any
    conv: torch.Tensor | None
    offset: int
    previous: tuple[torch.Tensor, torch.Tensor] | None = None


class DSFMixer(nn.Module):
    """One DSF token mixer. forward(u [B, T, d_model]) -> [B, T, d_model].

    Parameter names used by the published-rule tests: in_proj (q | k | v or the value branch),
    conv, x_proj (low-rank dt | k | q from the value branch), q_static, k_static, dt / A_log
    (mamba gate, Delta), a_in (other gates), lam (rglru), forget_exponent (reversed_sigmoid),
    log_decay (fixed), beta_in, b_in, eta_in, D, out_norm_weight, gate_proj, out_proj.
    """

    def __init__(self, spec: MixerSpec, d_model: int, rope: bool = False, form: str = "auto"):
        super().__init__()
        self.spec, self.d_model, self.rope, self.form = spec, d_model, rope, form
        H, n, dv = spec.heads, spec.state_size, spec.head_dim
        self.wiring = WIRINGS[spec.wiring]
        self.Hq = 1 if spec.qk_shared else H
        self.gated = spec.transition in GATED
        self.householder = spec.transition in HOUSEHOLDER
        # dplr keeps nonnegative gates; its signed eigenvalues come from beta (frontier.py)
        self.signed = spec.eigenvalues == "signed" and spec.transition not in ("identity", "dplr")
        self.gate = GATES[spec.gate] if self.gated else None
        self.injection = INJECTIONS[spec.injection]
        # q and k reach `mix` compact, with size 1 where shared (all heads: [B, T, 1, n]; static:
        # [1, 1, H, n]), which the scan form uses as they are; expanded where a step needs every
        # token's and head's own (RoPE's positions, the sub-steps of Householder factors and of
        # a two-tap injection interleave keys over time; the low-rank part of 'dplr' is made of
        # the keys)
        self.compact_qk = (not rope and spec.householder_factors == 1 and self.injection.taps == 1
                           and spec.transition != "dplr")
        # a factored diagonal gate (Mamba's Delta_t A) reaches `mix` as its two factors where
        # nothing else needs the [B, T, H, n] gate (signed values, injections or keys read
        # from a_t, rotations of state pairs)
        self.factored_gate = (spec.transition == "diagonal" and not self.signed and spec.rotation == "none"
                              and not self.injection.needs_gate and spec.key != "gate")
        bias = self.wiring.bias

        self.in_parts, self.x_parts = projection_widths(spec, d_model)
        total = sum(w for _, w in self.in_parts)
        self.in_proj = nn.Linear(d_model, total, bias=bias)
        if spec.conv_size > 0:
            self.conv = nn.Conv1d(total, total, spec.conv_size, groups=total, bias=True)
        shape = gate_shape(spec, d_model)
        if self.x_parts:
            self.x_proj = nn.Linear(shape.d_in, sum(w for _, w in self.x_parts), bias=bias)
        if self.wiring.qk == "headwise":
            self.q_proj, self.k_proj, self.v_proj = (HeadwiseLinear(H * dv, HEADWISE_BLOCK) for _ in range(3))
        if spec.query == "static":
            self.q_static = nn.Parameter(torch.randn(self.Hq, n) / math.sqrt(n))
        if spec.key == "static":
            self.k_static = nn.Parameter(torch.randn(self.Hq, n) / math.sqrt(n))

        if self.gated:
            self.gate.build(self, shape)
        if self.householder:
            self.beta_in = GateInput(shape.d_in, (H,), spec.selective)
        self.injection.build(self, shape, self.gated and self.gate.owns_delta)
        if spec.normalization == "learned":
            self.eta_in = GateInput(shape.d_in, (H,), spec.selective)
        if spec.skip:
            self.D = nn.Parameter(torch.ones(H if self.wiring.skip_source == "value" else H * dv))
        if spec.output_norm:
            self.out_norm_weight = nn.Parameter(torch.ones(H, dv))
        if spec.output_gate != "none":
            self.gate_proj = nn.Linear(d_model, H * dv, bias=bias)
        self.out_proj = nn.Linear(H * dv, d_model, bias=bias)
        self.frontier = FrontierInputs(spec, shape.d_in, GateInput)

    def _qk(self, source: str, name: str, parts: dict[str, torch.Tensor], B: int, T: int, like: torch.Tensor) -> torch.Tensor:
        spec = self.spec
        n = spec.state_size
        if source == "input":
            x = parts[name].reshape(B, T, self.Hq, n)
        elif source == "static":
            x = getattr(self, f"{name}_static")[None, None]
        else:
            return like.new_ones(B, T, spec.heads, n)
        x = feature_map(spec.feature_map, x)
        if spec.qk_norm:
            x = F.normalize(x, dim=-1)
        return x if self.compact_qk else x.expand(B, T, spec.heads, n)

    def _conv(self, x: torch.Tensor, tail: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Causal depthwise conv over time of x [B, T, C] (+ SiLU when the wiring says so);
        tail [B, C, K-1] is the past."""
        K = self.spec.conv_size
        xt = x.transpose(1, 2)
        if tail is None:
            tail = xt.new_zeros(xt.shape[0], xt.shape[1], K - 1)
        full = torch.cat([tail, xt], dim=-1)
        # depthwise conv as K shifted multiply-adds: about 2x faster than conv1d at these
        # widths on CPU (issue 10's measurement); the parameters stay those of `self.conv`
        w, T = self.conv.weight[:, 0], xt.shape[-1]
        y = self.conv.bias[:, None] + sum(w[:, j, None] * full[..., j:j + T] for j in range(K))
        y = (F.silu(y) if self.wiring.conv_act else y).transpose(1, 2)
        return y, full[..., full.shape[-1] - (K - 1):]

    def _mix_inputs(
        self, u: torch.Tensor, state: MixerState | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict[str, Any], torch.Tensor | None, int, torch.Tensor | None]:
        """The per-token quantities of `mix` for input u [B, T, d_model]: q, k, v, the keyword
        arguments of `mix` and `coefficients` (transition, gates, b, readout, normalization, eta,
        scale), the new conv tail, the position offset and the convolved branch (the 'headwise'
        wiring's skip input; None otherwise). The one place they are built, so the
        coefficient maps show exactly what forward mixes."""
        spec = self.spec
        B, T, _ = u.shape
        H, n, dv = spec.heads, spec.state_size, spec.head_dim
        x = pre = self.in_proj(u)
        conv_tail = None
        if spec.conv_size > 0:
            x, conv_tail = self._conv(x, None if state is None else state.conv)
        parts = dict(zip([name for name, _ in self.in_parts], x.split([w for _, w in self.in_parts], dim=-1)))
        if self.wiring.qk == "headwise":
            # xLSTM: q, k from the convolved branch, v from the branch before the conv
            parts.update(branch=x, q=self.q_proj(x), k=self.k_proj(x), v=self.v_proj(pre))
        src = {"input": u, "branch": parts["v"]}.get(self.wiring.gate_source)
        if src is None:
            src = torch.cat([parts["q"], parts["k"], parts["v"]], dim=-1)
        if self.x_parts:
            xp = self.x_proj(src)
            parts.update(zip([name for name, _ in self.x_parts], xp.split([w for _, w in self.x_parts], dim=-1)))
        src_delta = parts.get("dt", src)
        v = parts["v"].reshape(B, T, H, dv)

        kwargs: dict[str, Any] = {}
        a = delta = None
        factors = self.gate.factors(self, src, src_delta) if self.gated and self.factored_gate else None
        if factors is not None:
            kwargs["log_a"], kwargs["log_a_rate"], delta = factors
        elif self.gated:
            log_a, delta = self.gate.log_a(self, src, src_delta)
            if self.signed:
                a = 2.0 * log_a.exp() - 1.0
                kwargs["a"] = a
            else:
                kwargs["log_a"] = log_a
                a = log_a.exp() if self.injection.needs_gate or spec.key == "gate" else None

        q = self._qk(spec.query, "q", parts, B, T, v)
        if spec.key == "gate":
            k = 1.0 - a
        else:
            k = self._qk(spec.key, "k", parts, B, T, v)
        if self.householder:
            k = F.normalize(k, dim=-1)
            beta = torch.sigmoid(self.beta_in(src))
            kwargs["beta"] = 2.0 * beta if self.signed else beta
        offset = 0 if state is None else state.offset
        if self.rope:
            q, k = rotary(q, offset), rotary(k, offset)

        b = self.injection.value(self, src, src_delta, a, delta, kwargs.get("beta"), n)
        if self.injection.taps == 2:
            kwargs["previous_tap"], b = b.unbind(dim=-1)  # b'_t (of k_{t-1} v_{t-1}^T), b_t (frontier.two_taps)
        if self.wiring.reset_first and offset == 0:
            b = u.new_ones(B, T, H) if b is None else b
            b = torch.cat([torch.ones_like(b[:, :1]), b[:, 1:]], dim=1)
        if b is not None and self.injection.per_value:
            v, b = v * b, None  # one scale per value channel: k_t (b_t o v_t)^T
        elif b is not None and b.dim() == 4:
            k, b = k * b, None
        if spec.normalization == "learned":
            kwargs["eta"] = self._eta(src)
        kwargs.update(transition=spec.transition, b=b, readout=spec.readout, normalization=spec.normalization,
                      scale=1.0 / math.sqrt(n) if spec.scale == "inv_sqrt_n" else 1.0)

        def make_key(name: str) -> torch.Tensor:
            # a key that is not projected (static, ones) is the same for every factor
            x = self._qk(spec.key, name if name in parts else "k", parts, B, T, v)
            return rotary(x, offset) if self.rope else x

        k, kwargs = self.frontier.extend(src, q, k, kwargs, make_key, parts, B, T)
        return q, k, v, kwargs, conv_tail, offset, parts.get("branch")

    def coefficients(self, u: torch.Tensor) -> torch.Tensor:
        """The mixing coefficients alpha_ij [B, H, T, T] of this mixer on u [B, T, d_model]: the
        weights of v_j in the output of `mix` at step i (before skip, output norm, gate and
        output projection), from the start of the sequence."""
        q, k, v, kwargs, _, _, _ = self._mix_inputs(u)
        if self.spec.householder_factors > 1:
            raise NotImplementedError("coefficients: a mixer with several Householder factors per token mixes "
                                      "T m sub-step values; its coefficient map is not a T x T matrix")
        if "previous_tap" not in kwargs:
            return coefficients(q, k, v, **kwargs)
        # two taps: rows of the token outputs (sub-steps (i, 2)); v_j enters at sub-steps (j, 2)
        # and (j + 1, 1), columns 2j + 1 and 2j + 2
        q2, k2, v2, kwargs2, _ = two_taps(q, k, v, kwargs, None)
        rows = coefficients(q2, k2, v2, **kwargs2)[..., 1::2, :]
        return rows[..., 1::2] + F.pad(rows[..., 2::2], (0, 1))

    def _norm(self, y: torch.Tensor) -> torch.Tensor:
        """RMS norm (or mean-centred layer norm) of y [B, T, H, d_v] per head or over the full
        width H d_v, as the wiring says."""
        dims = (-1,) if self.wiring.norm_width == "head" else (-2, -1)
        if self.wiring.norm == "layer":
            y = y - y.mean(dim=dims, keepdim=True)
            eps = LAYER_NORM_EPS
        else:
            eps = RMS_EPS
        return y * torch.rsqrt(y.pow(2).mean(dim=dims, keepdim=True) + eps) * self.out_norm_weight

    def forward(
        self, u: torch.Tensor, state: MixerState | None = None, return_state: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, MixerState]:
        spec = self.spec
        B, T, _ = u.shape
        H, dv = spec.heads, spec.head_dim
        q, k, v, kwargs, conv_tail, offset, branch = self._mix_inputs(u, state)
        q_mix, k_mix, v_mix, kwargs, m = substeps(q, k, v, kwargs, spec.injection)
        taps = "previous_tap" in kwargs
        if taps:
            previous = None if state is None else state.previous
            q_mix, k_mix, v_mix, kwargs, m = two_taps(q, k, v, kwargs, previous)
        out = mix(q_mix, k_mix, v_mix, form=self.form, initial_state=None if state is None else state.mix,
                  return_state=return_state, **kwargs)
        y, mix_state = out if return_state else (out, None)
        y = token_outputs(y, m)
        if spec.skip and self.wiring.skip_source == "value":
            y = y + self.D[:, None] * v
        gate = activation(spec.output_gate, self.gate_proj(u)).reshape(B, T, H, dv) if spec.output_gate != "none" else None
        if gate is not None and self.wiring.gate_before_norm:
            y = y * gate
        if spec.output_norm:
            y = self._norm(y)
        if spec.skip and self.wiring.skip_source == "branch":
            y = y + (self.D * branch).reshape(B, T, H, dv)
        if gate is not None and not self.wiring.gate_before_norm:
            y = y * gate
        y = self.out_proj(y.reshape(B, T, H * dv))
        if return_state:
            previous = (k[:, -1:].contiguous(), v[:, -1:].contiguous()) if taps else None
            return y, MixerState(mix=mix_state, conv=conv_tail, offset=offset + T, previous=previous)
        return y

    def _eta(self, x: torch.Tensor) -> torch.Tensor:
        pre = self.eta_in(x)
        name = self.spec.eta
        if name == "exp":
            return pre.exp()
        if name == "softplus":
            return F.softplus(pre)
        return torch.sigmoid(pre)
