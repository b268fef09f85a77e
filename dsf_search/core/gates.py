"""The gate parametrizations of a_t (the `gate` axis): one registered object per choice.

Each `Gate` knows the parameters it adds to a mixer (`build`, counted by `params`) and how it
turns the mixer's gate source x_t (the raw input u_t or the convolved value branch, as the
wiring says) into log a_t [B, T, H(, n)] (`log_a`). The mixer, the cost model, the checks and
the spec validation all ask `GATES` instead of keeping their own lists of names.

The options load without torch (the specs, the cost model and the checks read only their names,
flags and parameter counts); torch is bound lazily (dsf_search/lazy.py) and the torch modules
they build (`GateInput`, the pre-activation every per-token gate shares) live in core/layers.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dsf_search.core.registry import Option, Registry
from dsf_search.lazy import lazy_modules

if TYPE_CHECKING:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    from dsf_search.core import layers
    from dsf_search.core.layers import GateInput
else:  # imported when a mixer is built, not when the options are read
    torch, nn, F, layers = lazy_modules("torch", "torch.nn", "torch.nn.functional", "dsf_search.core.layers")

GLA_TAU = 16.0  # GLA: a_t = sigmoid(x)^(1/tau), tau = 16 (Yang et al. 2024)
RGLRU_C = 8.0  # Griffin's RG-LRU: a_t = sigma(Lambda)^(c r_t), c = 8 (De et al. 2024)
DT_MIN, DT_MAX = 1e-3, 1e-1  # Mamba's initial range of Delta = softplus(.)


def gate_input_params(d_in: int, size: int, selective: bool) -> int:
    """Parameters of GateInput(d_in, (size,), selective)."""
    return d_in * size + size if selective else size


def inverse_softplus(y: torch.Tensor) -> torch.Tensor:
    return y + torch.log(-torch.expm1(-y))


def logit(p: float) -> float:
    return math.log(p) - math.log1p(-p)


def init_delta(dt: GateInput) -> None:
    """Mamba's Delta init: softplus(c) log-uniform in [DT_MIN, DT_MAX]."""
    with torch.no_grad():
        log_dt = torch.empty(dt.const.shape).uniform_(math.log(DT_MIN), math.log(DT_MAX))
        dt.const.copy_(inverse_softplus(log_dt.exp()))


@dataclass(frozen=True)
class GateShape:
    """What a gate is built for: H heads, state size n, whether the gate is per channel
    (diagonal: shape (H, n)) or per head ((H,)), whether it reads the input (selective), the
    width of its source (`d_in`) and of the Delta source (`d_delta`, the low-rank width when
    the wiring projects Delta through a bottleneck), and the value width d_v of a head
    (`head_dim`, for options with one value per value channel)."""

    heads: int
    state_size: int
    diagonal: bool
    selective: bool
    d_in: int
    d_delta: int
    head_dim: int

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.heads, self.state_size) if self.diagonal else (self.heads,)

    @property
    def size(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class Gate(Option):
    """One parametrization of a_t. `learned`: a_t has parameters (not fixed decays);
    `owns_delta`: the gate computes Mamba's Delta_t, which the 'delta' injection then reuses;
    `per_head_only`: only a per-head (scalar) transition; `positive_only`: a_t > 0 whatever its
    parameters, so no signed eigenvalues."""

    learned: bool = True
    owns_delta: bool = False
    per_head_only: bool = False
    positive_only: bool = False

    def build(self, m: nn.Module, s: GateShape) -> None:
        """Register this gate's parameters on the mixer m (names read by the zoo tests)."""
        m.a_in = layers.GateInput(s.d_in, s.shape, s.selective)

    def projection(self, s: GateShape) -> tuple[int, int] | None:
        """(inputs, outputs) of this gate's input projection (the GateInput it builds: W x_t + c
        when selective, c alone when LTI), or None without one; read by `params` and by the
        cost model's FLOPs."""
        return s.d_in, s.size

    def params(self, s: GateShape) -> int:
        return gate_input_params(*self.projection(s), s.selective)

    def log_a(self, m: nn.Module, x: torch.Tensor, x_delta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(log a_t [B, T, H(, n)], Delta_t [B, T, H] or None) from the gate source x and the
        Delta source x_delta (both [B, T, features])."""
        raise NotImplementedError

    def factors(
        self, m: nn.Module, x: torch.Tensor, x_delta: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None] | None:
        """(s_t [B, T, H], r [H, n], Delta_t [B, T, H] or None) when this diagonal gate factors as
        log a_t = s_t[..., None] o r (`mix`'s log_a and log_a_rate, which the scan form uses
        without building [B, T, H, n]); None when it does not."""
        return None


GATES: Registry[Gate] = Registry("gate")


@GATES.register
@dataclass(frozen=True)
class MambaGate(Gate):
    name: str = "mamba"
    doc: str = "a_t = exp(-Delta_t exp(A_log)), Delta_t = softplus(w^T x_t + b) per head (S6/SSD)"
    owns_delta: bool = True

    def build(self, m: nn.Module, s: GateShape) -> None:
        m.dt = layers.GateInput(s.d_delta, (s.heads,), s.selective)
        init_delta(m.dt)
        # Mamba-2 draws A in [1, 16] per head; S6 uses the S4D-real init A = 1..n per channel.
        n = s.state_size
        A = torch.arange(1, n + 1, dtype=torch.float32).repeat(s.heads, 1) if s.diagonal else torch.empty(s.heads).uniform_(1, 16)
        m.A_log = nn.Parameter(A.log())

    def projection(self, s: GateShape) -> tuple[int, int]:
        return s.d_delta, s.heads  # Delta_t per head; A is a constant [H(, n)]

    def params(self, s: GateShape) -> int:
        return super().params(s) + s.size

    def log_a(self, m, x, x_delta):
        delta = F.softplus(m.dt(x_delta))
        neg_A = -m.A_log.exp()  # negated before the broadcast: one pass over [B, T, H, n]
        return (delta[..., None] * neg_A if neg_A.dim() == 2 else delta * neg_A), delta

    def factors(self, m, x, x_delta):
        # per channel, log a_t = Delta_t (-exp(A_log)): Delta_t [B, T, H] times an [H, n] rate
        if m.A_log.dim() != 2:
            return None
        delta = F.softplus(m.dt(x_delta))
        return delta, -m.A_log.exp(), delta


@GATES.register
@dataclass(frozen=True)
class GlaGate(Gate):
    name: str = "gla"
    doc: str = "a_t = sigmoid(W x_t + c)^(1/16) (GLA)"

    def log_a(self, m, x, x_delta):
        return F.logsigmoid(m.a_in(x)) / GLA_TAU, None


@GATES.register
@dataclass(frozen=True)
class SigmoidGate(Gate):
    name: str = "sigmoid"
    doc: str = "a_t = sigmoid(W x_t + c), c initialized so a_t starts in [0.9, 0.999]"

    def build(self, m, s):
        super().build(m, s)
        with torch.no_grad():
            # forget gates start close to 1 (long memory), spread over heads and channels
            m.a_in.const.uniform_(logit(0.9), logit(0.999))

    def log_a(self, m, x, x_delta):
        return F.logsigmoid(m.a_in(x)), None


@GATES.register
@dataclass(frozen=True)
class FixedGate(Gate):
    name: str = "fixed"
    doc: str = "a_h = 1 - 2^(-5-h), fixed per head (RetNet)"
    learned: bool = False
    per_head_only: bool = True
    positive_only: bool = True

    def build(self, m, s):
        decay = 1.0 - 2.0 ** (-5.0 - torch.arange(s.heads, dtype=torch.float32))
        m.register_buffer("log_decay", decay.log())

    def projection(self, s):
        return None

    def params(self, s):
        return 0

    def log_a(self, m, x, x_delta):
        return m.log_decay.expand(*x.shape[:2], -1), None


@GATES.register
@dataclass(frozen=True)
class RglruGate(Gate):
    name: str = "rglru"
    doc: str = "a_t = sigma(Lambda)^(8 r_t), r_t = sigmoid(W x_t + c) (Griffin's RG-LRU)"

    def build(self, m, s):
        super().build(m, s)
        # Griffin: sigma(Lambda)^c uniform in [0.9, 0.999]
        a_c = torch.empty(s.shape).uniform_(0.9, 0.999)
        p = a_c ** (1.0 / RGLRU_C)
        m.lam = nn.Parameter(torch.log(p) - torch.log1p(-p))

    def params(self, s):
        return super().params(s) + s.size

    def log_a(self, m, x, x_delta):
        return -RGLRU_C * F.softplus(-m.lam) * torch.sigmoid(m.a_in(x)), None


@GATES.register
@dataclass(frozen=True)
class ReversedSigmoidGate(Gate):
    name: str = "reversed_sigmoid"
    doc: str = "a_t = sigma(-(W x_t + c))^relu(alpha), alpha one learned exponent per layer (DSF qLSTM)"

    def build(self, m, s):
        super().build(m, s)
        with torch.no_grad():
            m.a_in.const.uniform_(-logit(0.999), -logit(0.9))
        # one learned exponent per layer, initialized at 1 (as in the authors' code; S6/SSD's
        # exp(-softplus(x) A) = sigma(-x)^A)
        m.forget_exponent = nn.Parameter(torch.ones(()))

    def params(self, s):
        return super().params(s) + 1

    def log_a(self, m, x, x_delta):
        return F.relu(m.forget_exponent) * F.logsigmoid(-m.a_in(x)), None


@GATES.register
@dataclass(frozen=True)
class KdaGate(Gate):
    name: str = "kda"
    doc: str = "a_t = exp(-exp(A_log_h) softplus(W x_t + b)) per channel, A_log per head (Kimi Delta Attention)"

    def build(self, m, s):
        super().build(m, s)
        init_delta(m.a_in)  # softplus(b) log-uniform in [1e-3, 0.1], as fla's dt_bias
        m.A_log = nn.Parameter(torch.empty(s.heads).uniform_(1, 16).log())

    def params(self, s):
        return super().params(s) + s.heads

    def log_a(self, m, x, x_delta):
        A = m.A_log.exp()
        pre = F.softplus(m.a_in(x))
        return -(A[:, None] * pre if pre.dim() == 4 else A * pre), None
