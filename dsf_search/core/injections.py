"""The injection scales b_t (the `injection` axis): one registered object per choice.

Each `Injection` knows its parameters (`build` / `params`), what it needs from the transition
(`needs_gate`: a_t; `needs_householder`: beta_t), whether it reads the input (`reads_input`,
a selectivity source for the checks) and Mamba's Delta_t (`reads_delta`), and whether it
vanishes as a_t -> 1 (`gate_tied`, which bounds the state without a normalizer, P6). `value`
gives b_t [B, T, H], or [B, T, H, n] when it depends on a diagonal gate (the mixer then folds it
into k), or [B, T, H, d_v] for an injection with one scale per value channel (`per_value`; the
mixer folds it into v).
An injection with two taps (`taps` = 2) also writes the previous token's k_{t-1} v_{t-1}^T at
step t: `value` then gives [B, T, H, 2], the scales of the previous and of the current token, and
the mixer computes h_t = A_t (h_{t-1} + b'_t k_{t-1} v_{t-1}^T) + b_t k_t v_t^T as two sub-steps
per token through `mix` (core/frontier.py), carrying k_{t-1}, v_{t-1} in its decoding state.
Like the gates, the options load without torch (dsf_search/lazy.py); the torch modules they
build live in core/layers.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dsf_search.core.gates import GateShape, gate_input_params, init_delta
from dsf_search.core.registry import Option, Registry
from dsf_search.lazy import lazy_modules

if TYPE_CHECKING:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    from dsf_search.core import layers
else:  # imported when a mixer is built, not when the options are read
    torch, nn, F, layers = lazy_modules("torch", "torch.nn", "torch.nn.functional", "dsf_search.core.layers")

EXP_GATE_CAP = 15.0  # exp input gates are soft-capped, as in xLSTM 7B, so exp() cannot overflow


@dataclass(frozen=True)
class Injection(Option):
    needs_gate: bool = False
    needs_householder: bool = False
    reads_input: bool = False
    gate_tied: bool = False
    per_value: bool = False
    taps: int = 1
    reads_delta: bool = False

    def build(self, m: nn.Module, s: GateShape, gate_owns_delta: bool) -> None:
        """Register the parameters of b_t on the mixer m (none by default)."""

    def projections(self, s: GateShape, gate_owns_delta: bool) -> tuple[tuple[int, int], ...]:
        """(inputs, outputs) of each input projection (GateInput) this injection builds; read by
        `params` and by the cost model's FLOPs."""
        return ()

    def params(self, s: GateShape, gate_owns_delta: bool) -> int:
        return sum(gate_input_params(i, o, s.selective) for i, o in self.projections(s, gate_owns_delta))

    def value(self, m: nn.Module, x: torch.Tensor, x_delta: torch.Tensor, a: torch.Tensor | None,
              delta: torch.Tensor | None, beta: torch.Tensor | None, n: int) -> torch.Tensor | None:
        """b_t from the gate source x [B, T, features], the Delta source x_delta, the gate values
        a, Mamba's Delta and beta (None where the transition has none); None means b = 1."""
        return None


INJECTIONS: Registry[Injection] = Registry("injection")
INJECTIONS.register(Injection("one", "b_t = 1"))


@INJECTIONS.register
@dataclass(frozen=True)
class InvSqrtN(Injection):
    name: str = "inv_sqrt_n"
    doc: str = "b_t = 1/sqrt(n) (P5: variance O(1) whatever the state size)"

    def value(self, m, x, x_delta, a, delta, beta, n):
        return x.new_full((*x.shape[:2], m.spec.heads), 1.0 / math.sqrt(n))


@INJECTIONS.register
@dataclass(frozen=True)
class SigmoidInjection(Injection):
    name: str = "sigmoid"
    doc: str = "b_t = sigmoid(w^T x_t + c) per head (an input gate)"
    reads_input: bool = True

    def build(self, m, s, gate_owns_delta):
        m.b_in = layers.GateInput(s.d_in, (s.heads,), s.selective)

    def projections(self, s, gate_owns_delta):
        return ((s.d_in, s.heads),)

    def value(self, m, x, x_delta, a, delta, beta, n):
        return torch.sigmoid(m.b_in(x))


@INJECTIONS.register
@dataclass(frozen=True)
class DeltaInjection(Injection):
    name: str = "delta"
    doc: str = "b_t = Delta_t = softplus(w^T x_t + b) (Mamba's discretization step; the mamba gate's own)"
    reads_input: bool = True
    reads_delta: bool = True

    def build(self, m, s, gate_owns_delta):
        if not gate_owns_delta:
            m.dt = layers.GateInput(s.d_delta, (s.heads,), s.selective)
            init_delta(m.dt)

    def projections(self, s, gate_owns_delta):
        return () if gate_owns_delta else ((s.d_delta, s.heads),)

    def value(self, m, x, x_delta, a, delta, beta, n):
        return delta if delta is not None else F.softplus(m.dt(x_delta))


@INJECTIONS.register
@dataclass(frozen=True)
class OneMinusA(Injection):
    name: str = "one_minus_a"
    doc: str = "b_t = 1 - a_t (tied to the gate)"
    needs_gate: bool = True
    gate_tied: bool = True

    def value(self, m, x, x_delta, a, delta, beta, n):
        return 1.0 - a


@INJECTIONS.register
@dataclass(frozen=True)
class SqrtOneMinusA2(Injection):
    name: str = "sqrt_one_minus_a2"
    doc: str = "b_t = sqrt(1 - a_t^2) (Griffin's RG-LRU normalization)"
    needs_gate: bool = True
    gate_tied: bool = True

    def value(self, m, x, x_delta, a, delta, beta, n):
        return layers.BoundedSqrt.apply((1.0 - a * a).clamp_min(0.0))


@INJECTIONS.register
@dataclass(frozen=True)
class ExpInjection(SigmoidInjection):
    name: str = "exp"
    doc: str = "b_t = exp(15 tanh((w^T x_t + c) / 15)) (xLSTM's exponential input gate, soft-capped)"

    def value(self, m, x, x_delta, a, delta, beta, n):
        return torch.exp(EXP_GATE_CAP * torch.tanh(m.b_in(x) / EXP_GATE_CAP))


@INJECTIONS.register
@dataclass(frozen=True)
class ExpClampedInjection(SigmoidInjection):
    name: str = "exp_clamped"
    doc: str = "b_t = exp(min(w^T x_t + c, 15)) (xLSTM's exponential input gate, exact below the clamp)"

    def value(self, m, x, x_delta, a, delta, beta, n):
        # xLSTM keeps exp(i) finite with its max-stabilizer, which cancels exactly in the output;
        # the core's forms are not stabilized, so the pre-activation is clamped instead
        return torch.exp(m.b_in(x).clamp_max(EXP_GATE_CAP))


@INJECTIONS.register
@dataclass(frozen=True)
class BetaInjection(Injection):
    name: str = "beta"
    doc: str = "b_t = beta_t (the delta rule; with dplr the per-head rate of u_t, core/frontier.py)"
    needs_householder: bool = True
    gate_tied: bool = True

    def value(self, m, x, x_delta, a, delta, beta, n):
        return beta


@INJECTIONS.register
@dataclass(frozen=True)
class SigmoidValueInjection(Injection):
    name: str = "sigmoid_value"
    doc: str = ("b_t = sigmoid(W x_t + c) per value channel [H, d_v]: the injection k_t (b_t o v_t)^T "
                "(Gated DeltaNet-2's write gate), folded into v (a skip D v then reads the gated value)")
    reads_input: bool = True
    per_value: bool = True

    def build(self, m, s, gate_owns_delta):
        m.b_in = layers.GateInput(s.d_in, (s.heads, s.head_dim), s.selective)

    def projections(self, s, gate_owns_delta):
        return ((s.d_in, s.heads * s.head_dim),)

    def value(self, m, x, x_delta, a, delta, beta, n):
        return torch.sigmoid(m.b_in(x))


@INJECTIONS.register
@dataclass(frozen=True)
class TrapezoidalInjection(DeltaInjection):
    name: str = "trapezoidal"
    doc: str = ("Mamba-3's exponential-trapezoidal step: h_t = A_t (h_{t-1} + (1 - lambda_t) Delta_t "
                "k_{t-1} v_{t-1}^T) + lambda_t Delta_t k_t v_t^T, lambda_t = sigmoid(w^T x_t + c) per head (two taps)")
    taps: int = 2

    def build(self, m, s, gate_owns_delta):
        super().build(m, s, gate_owns_delta)
        m.lam_in = layers.GateInput(s.d_in, (s.heads,), s.selective)

    def projections(self, s, gate_owns_delta):
        return super().projections(s, gate_owns_delta) + ((s.d_in, s.heads),)

    def value(self, m, x, x_delta, a, delta, beta, n):
        delta = super().value(m, x, x_delta, a, delta, beta, n)
        lam = torch.sigmoid(m.lam_in(x))
        return torch.stack([(1.0 - lam) * delta, lam * delta], dim=-1)
