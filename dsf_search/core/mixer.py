"""`DSFMixer`: the token-mixer module that builds the per-token quantities of `mix` from a spec.

From the input u [B, T, d_model] it forms, per head h (H heads, state size n, value width d_v):
    q_t, k_t [n]  (projected, static or ones; optional short causal conv + SiLU, feature map,
                   L2 norm, RoPE; k unit-norm for Householder transitions)
    v_t [d_v]     (projected, through the same conv)
    a_t           (gate of the transition, from the `gate` parametrization; 2 a - 1 when signed)
    beta_t        (sigmoid, x2 when signed)
    b_t           (injection), eta_t (learned normalizer)
then y = mix(...), optionally + D v (skip), per-head RMS norm, output gate, and the output
projection back to d_model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F

from dsf_search.core.forms.inputs import DIAGONAL, GATED, HOUSEHOLDER
from dsf_search.core.frontier import FrontierInputs, extra_widths, substeps, token_outputs
from dsf_search.core.layers import activation, feature_map, rotary
from dsf_search.core.mix import coefficients, mix
from dsf_search.core.spec import MixerSpec

GLA_TAU = 16.0  # GLA: a_t = sigmoid(x)^(1/tau), tau = 16 (Yang et al. 2024)
RGLRU_C = 8.0  # Griffin's RG-LRU: a_t = sigma(Lambda)^(c r_t), c = 8 (De et al. 2024)
EXP_GATE_CAP = 15.0  # exp input gates are soft-capped, as in xLSTM 7B, so exp() cannot overflow
DT_MIN, DT_MAX = 1e-3, 1e-1  # Mamba's initial range of Delta = softplus(.)


@dataclass
class MixerState:
    """Decoding state of one mixer: the state of `mix`, the conv tail, the position offset."""

    mix: Any
    conv: torch.Tensor | None
    offset: int


class GateInput(nn.Module):
    """Pre-activation of a per-token gate, shape [B, T, *shape].

    Selective: W u_t + c (`proj`); LTI: a learned constant c (`bias`), the same at every step.
    """

    def __init__(self, d_model: int, shape: tuple[int, ...], selective: bool):
        super().__init__()
        self.shape = shape
        size = math.prod(shape)
        if selective:
            self.proj = nn.Linear(d_model, size)
        else:
            self.bias = nn.Parameter(torch.zeros(size))

    @property
    def const(self) -> torch.Tensor:
        return self.proj.bias if hasattr(self, "proj") else self.bias

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        x = self.proj(u) if hasattr(self, "proj") else self.bias.expand(*u.shape[:-1], -1)
        return x.reshape(*u.shape[:-1], *self.shape)


def _inverse_softplus(y: torch.Tensor) -> torch.Tensor:
    return y + torch.log(-torch.expm1(-y))


def _logit(p: torch.Tensor) -> torch.Tensor:
    return torch.log(p) - torch.log1p(-p)


class DSFMixer(nn.Module):
    """One DSF token mixer. forward(u [B, T, d_model]) -> [B, T, d_model].

    Parameter names used by the published-rule tests: in_proj (q | k | v), conv, q_static,
    k_static, dt / A_log (mamba gate), a_in (other gates), lam (rglru), forget_exponent
    (reversed_sigmoid), log_decay (fixed), beta_in, b_in, eta_in, D, out_norm_weight, gate_proj,
    out_proj.
    """

    def __init__(self, spec: MixerSpec, d_model: int, rope: bool = False, form: str = "auto"):
        super().__init__()
        self.spec, self.d_model, self.rope, self.form = spec, d_model, rope, form
        H, n, dv = spec.heads, spec.state_size, spec.head_dim
        self.Hq = 1 if spec.qk_shared else H
        self.gated = spec.transition in GATED
        self.diagonal = spec.transition in DIAGONAL
        self.householder = spec.transition in HOUSEHOLDER
        # dplr keeps nonnegative gates; its signed eigenvalues come from beta (frontier.py)
        self.signed = spec.eigenvalues == "signed" and spec.transition not in ("identity", "dplr")
        # with a rotation a diagonal gate has one magnitude per state pair
        gate_shape = (H, n // 2 if spec.rotation != "none" else n) if self.diagonal else (H,)

        widths = []
        if spec.query == "input":
            widths.append(("q", self.Hq * n))
        if spec.key == "input":
            widths.append(("k", self.Hq * n))
        widths.append(("v", H * dv))
        widths += extra_widths(spec, self.Hq)
        self.widths = widths
        total = sum(w for _, w in widths)
        self.in_proj = nn.Linear(d_model, total, bias=False)
        if spec.conv_size > 0:
            self.conv = nn.Conv1d(total, total, spec.conv_size, groups=total, bias=True)
        if spec.query == "static":
            self.q_static = nn.Parameter(torch.randn(self.Hq, n) / math.sqrt(n))
        if spec.key == "static":
            self.k_static = nn.Parameter(torch.randn(self.Hq, n) / math.sqrt(n))

        if self.gated:
            self._init_gate(spec, d_model, gate_shape)
        if self.householder:
            self.beta_in = GateInput(d_model, (H,), spec.selective)
        if spec.injection in ("sigmoid", "exp"):
            self.b_in = GateInput(d_model, (H,), spec.selective)
        if spec.injection == "delta" and not (self.gated and spec.gate == "mamba"):
            self.dt = GateInput(d_model, (H,), spec.selective)
            self._init_dt(self.dt)
        if spec.normalization == "learned":
            self.eta_in = GateInput(d_model, (H,), spec.selective)
        if spec.skip:
            self.D = nn.Parameter(torch.ones(H))
        if spec.output_norm:
            self.out_norm_weight = nn.Parameter(torch.ones(H, dv))
        if spec.output_gate != "none":
            self.gate_proj = nn.Linear(d_model, H * dv, bias=False)
        self.out_proj = nn.Linear(H * dv, d_model, bias=False)
        self.frontier = FrontierInputs(spec, d_model, GateInput)

    def _init_dt(self, dt: GateInput) -> None:
        with torch.no_grad():
            size = dt.const.shape
            log_dt = torch.empty(size).uniform_(math.log(DT_MIN), math.log(DT_MAX))
            dt.const.copy_(_inverse_softplus(log_dt.exp()))

    def _init_gate(self, spec: MixerSpec, d_model: int, gate_shape: tuple[int, ...]) -> None:
        H, n = spec.heads, spec.state_size
        if spec.gate == "mamba":
            self.dt = GateInput(d_model, (H,), spec.selective)
            self._init_dt(self.dt)
            # Mamba-2 draws A in [1, 16] per head; S6 uses the S4D-real init A = 1..n per channel.
            A = torch.arange(1, gate_shape[-1] + 1, dtype=torch.float32).repeat(H, 1) if self.diagonal else torch.empty(H).uniform_(1, 16)
            self.A_log = nn.Parameter(A.log())
        elif spec.gate == "fixed":
            decay = 1.0 - 2.0 ** (-5.0 - torch.arange(H, dtype=torch.float32))
            self.register_buffer("log_decay", decay.log())
        else:
            self.a_in = GateInput(d_model, gate_shape, spec.selective)
            with torch.no_grad():
                if spec.gate == "sigmoid":
                    # forget gates start close to 1 (long memory), spread over heads and channels
                    self.a_in.const.copy_(torch.empty(self.a_in.const.shape).uniform_(_logit(torch.tensor(0.9)).item(), _logit(torch.tensor(0.999)).item()))
                elif spec.gate == "reversed_sigmoid":
                    self.a_in.const.copy_(torch.empty(self.a_in.const.shape).uniform_(-_logit(torch.tensor(0.999)).item(), -_logit(torch.tensor(0.9)).item()))
            if spec.gate == "reversed_sigmoid":
                # DSF paper's qLSTM variant: a_t = sigma(-x_t)^relu(alpha), one learned exponent per
                # layer, initialized at 1 (as in the authors' code; S6/SSD's exp(-softplus(x) A) = sigma(-x)^A)
                self.forget_exponent = nn.Parameter(torch.ones(()))
            if spec.gate == "rglru":
                # Griffin: sigma(Lambda)^c uniform in [0.9, 0.999]
                a_c = torch.empty(gate_shape).uniform_(0.9, 0.999)
                self.lam = nn.Parameter(_logit(a_c ** (1.0 / RGLRU_C)))

    def _log_gate(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """log a_t [B, T, H(, n)] of the nonnegative gate, and Delta [B, T, H] for the mamba gate."""
        gate = self.spec.gate
        B, T, _ = u.shape
        if gate == "mamba":
            delta = F.softplus(self.dt(u))
            A = self.A_log.exp()
            log_a = -(delta[..., None] * A) if self.diagonal else -(delta * A)
            return log_a, delta
        if gate == "fixed":
            return self.log_decay.expand(B, T, -1), None
        x = self.a_in(u)
        if gate == "gla":
            return F.logsigmoid(x) / GLA_TAU, None
        if gate == "sigmoid":
            return F.logsigmoid(x), None
        if gate == "reversed_sigmoid":
            return F.relu(self.forget_exponent) * F.logsigmoid(-x), None
        if gate == "rglru":
            return -RGLRU_C * F.softplus(-self.lam) * torch.sigmoid(x), None
        raise ValueError(f"unknown gate {gate!r}")

    def _qk(self, source: str, name: str, parts: dict[str, torch.Tensor], B: int, T: int, like: torch.Tensor) -> torch.Tensor:
        spec = self.spec
        n = spec.state_size
        if source == "input":
            x = parts[name].reshape(B, T, self.Hq, n)
        elif source == "static":
            x = getattr(self, f"{name}_static").expand(B, T, -1, -1)
        else:
            return like.new_ones(B, T, spec.heads, n)
        x = feature_map(spec.feature_map, x)
        if spec.qk_norm:
            x = F.normalize(x, dim=-1)
        return x.expand(B, T, spec.heads, n) if self.Hq == 1 else x

    def _conv(self, x: torch.Tensor, tail: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Causal depthwise conv + SiLU over time of x [B, T, C]; tail [B, C, K-1] is the past."""
        K = self.spec.conv_size
        xt = x.transpose(1, 2)
        if tail is None:
            tail = xt.new_zeros(xt.shape[0], xt.shape[1], K - 1)
        full = torch.cat([tail, xt], dim=-1)
        y = F.silu(self.conv(full)).transpose(1, 2)
        return y, full[..., full.shape[-1] - (K - 1):]

    def _mix_inputs(
        self, u: torch.Tensor, state: MixerState | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, dict[str, Any], torch.Tensor | None, int]:
        """The per-token quantities of `mix` for input u [B, T, d_model]: q, k, v, the keyword
        arguments of `mix` and `coefficients` (transition, gates, b, readout, normalization, eta,
        scale), the new conv tail and the position offset. The one place they are built, so the
        coefficient maps show exactly what forward mixes."""
        spec = self.spec
        B, T, _ = u.shape
        H, n, dv = spec.heads, spec.state_size, spec.head_dim
        x = self.in_proj(u)
        conv_tail = None
        if spec.conv_size > 0:
            x, conv_tail = self._conv(x, None if state is None else state.conv)
        parts = dict(zip([name for name, _ in self.widths], x.split([w for _, w in self.widths], dim=-1)))
        v = parts["v"].reshape(B, T, H, dv)

        kwargs: dict[str, Any] = {}
        a = delta = None
        if self.gated:
            log_a, delta = self._log_gate(u)
            if self.signed:
                a = 2.0 * log_a.exp() - 1.0
                kwargs["a"] = a
            else:
                kwargs["log_a"] = log_a
                a = log_a.exp() if spec.injection in ("one_minus_a", "sqrt_one_minus_a2") or spec.key == "gate" else None

        q = self._qk(spec.query, "q", parts, B, T, v)
        if spec.key == "gate":
            k = 1.0 - a
        else:
            k = self._qk(spec.key, "k", parts, B, T, v)
        if self.householder:
            k = F.normalize(k, dim=-1)
            beta = torch.sigmoid(self.beta_in(u))
            kwargs["beta"] = 2.0 * beta if self.signed else beta
        offset = 0 if state is None else state.offset
        if self.rope:
            q, k = rotary(q, offset), rotary(k, offset)

        b = self._injection(u, a, delta, kwargs.get("beta"), B, T)
        if b is not None and b.dim() == 4:
            k, b = k * b, None
        if spec.normalization == "learned":
            kwargs["eta"] = self._eta(u)
        kwargs.update(transition=spec.transition, b=b, readout=spec.readout, normalization=spec.normalization,
                      scale=1.0 / math.sqrt(n) if spec.scale == "inv_sqrt_n" else 1.0)

        def make_key(name: str) -> torch.Tensor:
            # a key that is not projected (static, ones) is the same for every factor
            x = self._qk(spec.key, name if name in parts else "k", parts, B, T, v)
            return rotary(x, offset) if self.rope else x

        k, kwargs = self.frontier.extend(u, q, k, kwargs, make_key, parts, B, T)
        return q, k, v, kwargs, conv_tail, offset

    def coefficients(self, u: torch.Tensor) -> torch.Tensor:
        """The mixing coefficients alpha_ij [B, H, T, T] of this mixer on u [B, T, d_model]: the
        weights of v_j in the output of `mix` at step i (before skip, output norm, gate and
        output projection), from the start of the sequence."""
        q, k, v, kwargs, _, _ = self._mix_inputs(u)
        if self.spec.householder_factors > 1:
            raise NotImplementedError("coefficients: a mixer with several Householder factors per token mixes "
                                      "T m sub-step values; its coefficient map is not a T x T matrix")
        return coefficients(q, k, v, **kwargs)

    def forward(
        self, u: torch.Tensor, state: MixerState | None = None, return_state: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, MixerState]:
        spec = self.spec
        B, T, _ = u.shape
        H, dv = spec.heads, spec.head_dim
        q, k, v, kwargs, conv_tail, offset = self._mix_inputs(u, state)
        q_mix, k_mix, v_mix, kwargs, m = substeps(q, k, v, kwargs, spec.injection)
        out = mix(q_mix, k_mix, v_mix, form=self.form, initial_state=None if state is None else state.mix,
                  return_state=return_state, **kwargs)
        y, mix_state = out if return_state else (out, None)
        y = token_outputs(y, m)
        if spec.skip:
            y = y + self.D[:, None] * v
        if spec.output_norm:
            y = y * torch.rsqrt(y.pow(2).mean(dim=-1, keepdim=True) + 1e-6) * self.out_norm_weight
        y = y.reshape(B, T, H * dv)
        if spec.output_gate != "none":
            y = y * activation(spec.output_gate, self.gate_proj(u))
        y = self.out_proj(y)
        if return_state:
            return y, MixerState(mix=mix_state, conv=conv_tail, offset=offset + T)
        return y

    def _injection(
        self, u: torch.Tensor, a: torch.Tensor | None, delta: torch.Tensor | None, beta: torch.Tensor | None, B: int, T: int
    ) -> torch.Tensor | None:
        """b_t [B, T, H]; [B, T, H, n] when it depends on a diagonal gate (then folded into k)."""
        inj, H, n = self.spec.injection, self.spec.heads, self.spec.state_size
        if inj == "one":
            return None
        if inj == "inv_sqrt_n":
            return u.new_full((B, T, H), 1.0 / math.sqrt(n))
        if inj == "sigmoid":
            return torch.sigmoid(self.b_in(u))
        if inj == "exp":
            return torch.exp(EXP_GATE_CAP * torch.tanh(self.b_in(u) / EXP_GATE_CAP))
        if inj == "delta":
            return delta if delta is not None else F.softplus(self.dt(u))
        if inj == "beta":
            return beta
        if inj == "one_minus_a":
            return 1.0 - a
        if inj == "sqrt_one_minus_a2":
            # clamped so the derivative stays finite as a -> 1
            return torch.sqrt((1.0 - a * a).clamp_min(1e-6))
        raise ValueError(f"unknown injection {inj!r}")

    def _eta(self, u: torch.Tensor) -> torch.Tensor:
        x = self.eta_in(u)
        name = self.spec.eta
        if name == "exp":
            return x.exp()
        if name == "softplus":
            return F.softplus(x)
        return torch.sigmoid(x)
