"""Validated, form-independent inputs of the mixing op.

`mix` accepts the public layout [B, T, H, ...]; every form works on the head-major layout
[B, H, T, ...] held by `MixInputs`, so validation and layout changes happen exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import cached_property

import torch

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
from dsf_search.core.transitions import TRANSITIONS as _REGISTRY

# Low-precision inputs are computed in float32 by every form except the GPU kernels of 'fla'
# (CPU kernels such as the triangular solve have no half-precision versions).
LOW_PRECISION = (torch.float16, torch.bfloat16)

# Added to the sum normalizer so an all-zero row (e.g. gates that forgot everything under a
# linear readout) divides by a small number instead of zero.
SUM_EPS = 1e-6
# |a| is clamped here before taking its log so an exactly-zero signed gate has a finite log.
MIN_GATE = 1e-30


@dataclass(frozen=True)
class MixInputs:
    """Inputs of one call of `mix`, head-major.

    q, k: [B, H, T, n], or with size 1 in B, H or T where one query/key is shared (by all
        heads: Mamba's B_t and C_t; by the batch and every step: S4D's static B and C);
        v: [B, H, T, d_v].
    log_a / a: the gate as given, head-major: log a_t (nonnegative gates) or the signed values
        a_t ([B, H, T] for scalar gates, [B, H, T, n] for diagonal ones); both None when the
        transition has no gate part. From them, on first use (a form that works in log space
        never builds the values, and one that scans the values never takes their logs):
    gate: the gate values a_t, same shape, or None.
    log_gate: log|a_t|, same shape (exact when given as `log_a`).
    signed: whether the gate was given as signed values `a` (so products carry a sign).
    beta: [B, H, T] for Householder transitions, else None.
    theta: [B, H, T, n // 2] rotation angles of consecutive state pairs, or None. With theta,
        diagonal gates are already expanded to one value per channel (equal within a pair).
    u, w: [B, H, T, n] the low-rank part of transition 'dplr' (A_t = diag(a_t) - u_t w_t^T).
    outside: decay placement 'outside' (gates multiply phi(s_ij), scalar gates only).
    b: [B, H, T] injection scale, or None for b = 1.
    eta: [B, H, T] learned normalizer, or None.
    log_a_rate: [H, n] for a factored diagonal log gate, log a_t = log_a[..., None] * log_a_rate
        with log_a [B, H, T] (Mamba's Delta_t A), or None.

    Only the scan form takes shared q/k or a factored gate as they are; every other form runs
    on `materialized()` inputs.
    """

    q: torch.Tensor
    k: torch.Tensor
    v: torch.Tensor
    transition: str
    log_a: torch.Tensor | None
    a: torch.Tensor | None
    beta: torch.Tensor | None
    b: torch.Tensor | None
    readout: str
    normalization: str
    eta: torch.Tensor | None
    scale: float
    theta: torch.Tensor | None = None
    u: torch.Tensor | None = None
    w: torch.Tensor | None = None
    outside: bool = False
    log_a_rate: torch.Tensor | None = None

    def materialized(self) -> MixInputs:
        """The same inputs with q, k at full size [B, H, T, n] (views) and a factored gate
        multiplied out."""
        B, H, T, n, _ = self.shape
        out = {name: x.expand(B, H, T, n) for name, x in (("q", self.q), ("k", self.k)) if x.shape != (B, H, T, n)}
        if self.log_a_rate is not None:
            out.update(log_a=self.log_a[..., None] * self.log_a_rate[:, None], log_a_rate=None)
        return replace(self, **out) if out else self

    @property
    def signed(self) -> bool:
        return self.a is not None

    @cached_property
    def gate(self) -> torch.Tensor | None:
        if self.log_a_rate is not None:
            return self.materialized().gate
        return self.a if self.a is not None else (None if self.log_a is None else self.log_a.exp())

    @cached_property
    def log_gate(self) -> torch.Tensor | None:
        if self.log_a_rate is not None:
            return self.materialized().log_gate
        return self.log_a if self.a is None else LogAbs.apply(self.a)

    @property
    def householder(self) -> bool:
        return self.transition in HOUSEHOLDER

    @property
    def diagonal(self) -> bool:
        return self.transition in DIAGONAL

    @property
    def dplr(self) -> bool:
        return self.transition == "dplr"

    def tensors(self) -> dict[str, torch.Tensor]:
        """The tensor fields by name (those that are set)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if isinstance(getattr(self, f.name), torch.Tensor)}

    def cast(self, dtype: torch.dtype) -> MixInputs:
        """The same inputs with every tensor cast to `dtype` (differentiably)."""
        return replace(self, **{name: x.to(dtype) for name, x in self.tensors().items()})

    @property
    def shape(self) -> tuple[int, int, int, int, int]:
        """(B, H, T, n, d_v)."""
        B, H, T, d_v = self.v.shape
        return B, H, T, self.q.shape[-1], d_v


def _head_major(x: torch.Tensor | None) -> torch.Tensor | None:
    return None if x is None else x.transpose(1, 2)


def _check_shape(name: str, x: torch.Tensor, expected: tuple[int, ...], what: str) -> None:
    if tuple(x.shape) != expected:
        raise ValueError(f"mix: {name} must have shape {what} = {list(expected)}, got {list(x.shape)}")


def prepare(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    *,
    transition: str,
    log_a: torch.Tensor | None,
    a: torch.Tensor | None,
    beta: torch.Tensor | None,
    b: torch.Tensor | None,
    readout: str,
    normalization: str,
    eta: torch.Tensor | None,
    scale: float | None,
    theta: torch.Tensor | None = None,
    u: torch.Tensor | None = None,
    w: torch.Tensor | None = None,
    decay_placement: str = "inside",
    log_a_rate: torch.Tensor | None = None,
) -> MixInputs:
    """Check every argument of `mix` against the contract and return head-major inputs."""
    if transition not in _REGISTRY:
        raise ValueError(f"mix: unknown transition {transition!r}; allowed: {', '.join(TRANSITIONS)}")
    if readout not in READOUTS:
        raise ValueError(f"mix: unknown readout {readout!r}; allowed: {', '.join(READOUTS)}")
    if normalization not in NORMALIZATIONS:
        raise ValueError(
            f"mix: unknown normalization {normalization!r}; allowed: {', '.join(NORMALIZATIONS)}"
        )
    if v.dim() != 4:
        raise ValueError(f"mix: v must be [B, T, H, d_v], got shape {list(v.shape)}")
    B, T, H, _ = v.shape
    if q.dim() != 4:
        raise ValueError(f"mix: q must be [B, T, H, n], got shape {list(q.shape)}")
    n = q.shape[3]
    for name, x in (("q", q), ("k", k)):
        if x.dim() != 4 or x.shape[3] != n or any(size not in (1, full) for size, full in zip(x.shape[:3], (B, T, H))):
            raise ValueError(f"mix: {name} must be [B, T, H, n] = [{B}, {T}, {H}, {n}] (B, T, H of v; size 1 where "
                             f"it is shared, e.g. [B, T, 1, n] for one key of all heads), got {list(x.shape)}")

    _check_dtypes(q=q, k=k, v=v, log_a=log_a, a=a, beta=beta, b=b, eta=eta, theta=theta, u=u, w=w,
                  log_a_rate=log_a_rate)
    if decay_placement not in DECAY_PLACEMENTS:
        raise ValueError(
            f"mix: unknown decay_placement {decay_placement!r}; allowed: {', '.join(DECAY_PLACEMENTS)}"
        )
    if theta is not None:
        if transition not in ROTATABLE:
            raise ValueError(
                f"mix: theta (rotations) is allowed with transitions {', '.join(sorted(ROTATABLE))}, not {transition!r}"
            )
        if n % 2:
            raise ValueError(f"mix: theta rotates pairs of state coordinates, so n must be even, got n = {n}")
        if a is not None:
            raise ValueError("mix: theta needs nonnegative gate magnitudes given as log_a, not signed gates a")
        _check_shape("theta", theta, (B, T, H, n // 2), "[B, T, H, n // 2]")
    if decay_placement == "outside":
        if transition not in ("identity", "scalar"):
            raise ValueError(
                f"mix: decay_placement 'outside' needs transition 'scalar' or 'identity', not {transition!r}"
            )
        if a is not None:
            raise ValueError("mix: decay_placement 'outside' needs nonnegative gates given as log_a, not signed gates a")
        if theta is not None:
            raise ValueError("mix: decay_placement 'outside' does not take theta")
    if transition == "dplr":
        if u is None or w is None:
            raise ValueError("mix: transition 'dplr' needs u and w [B, T, H, n] (A_t = diag(a_t) - u_t w_t^T)")
        _check_shape("u", u, (B, T, H, n), "[B, T, H, n]")
        _check_shape("w", w, (B, T, H, n), "[B, T, H, n]")
    elif u is not None or w is not None:
        raise ValueError(f"mix: u and w are only used with transition 'dplr', not {transition!r}")

    if log_a_rate is not None:
        if transition != "diagonal" or log_a is None or theta is not None:
            raise ValueError("mix: log_a_rate (a factored gate) needs transition 'diagonal', log_a and no theta")
        _check_shape("log_a_rate", log_a_rate, (H, n), "[H, n]")
    pair_gate = theta is not None and transition in DIAGONAL
    factored = log_a_rate is not None
    gate_shape = (B, T, H, n // 2 if pair_gate else n) if transition in DIAGONAL and not factored else (B, T, H)
    gate_what = ("[B, T, H, n // 2]" if pair_gate else "[B, T, H, n]") if transition in DIAGONAL and not factored \
        else "[B, T, H]"
    if transition in GATED:
        if (log_a is None) == (a is None):
            raise ValueError(f"mix: transition {transition!r} needs exactly one of log_a (nonnegative gates) or a (signed gates)")
        given = log_a if log_a is not None else a
        _check_shape("log_a" if log_a is not None else "a", given, gate_shape, gate_what)
    elif log_a is not None or a is not None:
        raise ValueError(f"mix: transition {transition!r} has no gate; log_a and a must be None")

    if transition in HOUSEHOLDER:
        if beta is None:
            raise ValueError(f"mix: transition {transition!r} needs beta [B, T, H]")
        _check_shape("beta", beta, (B, T, H), "[B, T, H]")
    elif beta is not None:
        raise ValueError(f"mix: transition {transition!r} has no Householder part; beta must be None")

    if b is not None:
        _check_shape("b", b, (B, T, H), "[B, T, H]")
    if normalization == "learned":
        if eta is None:
            raise ValueError("mix: normalization 'learned' needs eta [B, T, H] (positive)")
        _check_shape("eta", eta, (B, T, H), "[B, T, H]")
    elif eta is not None:
        raise ValueError(f"mix: eta is only used with normalization 'learned', not {normalization!r}")

    log_a = _head_major(log_a)
    if log_a is not None and pair_gate:
        log_a = log_a.repeat_interleave(2, dim=-1)

    return MixInputs(
        q=_head_major(q),
        k=_head_major(k),
        v=_head_major(v),
        transition=transition,
        log_a=log_a,
        a=_head_major(a),
        beta=_head_major(beta),
        b=_head_major(b),
        readout=readout,
        normalization=normalization,
        eta=_head_major(eta),
        scale=1.0 if scale is None else float(scale),
        theta=_head_major(theta),
        u=_head_major(u),
        w=_head_major(w),
        outside=decay_placement == "outside" and transition == "scalar",
        log_a_rate=log_a_rate,
    )


def _check_dtypes(**tensors: torch.Tensor | None) -> None:
    """Every tensor argument shares q's floating dtype and device (no form promotes silently)."""
    q = tensors["q"]
    if not q.is_floating_point():
        raise ValueError(f"mix: inputs must be floating point, got q of dtype {q.dtype}")
    for name, x in tensors.items():
        if x is None:
            continue
        if x.dtype != q.dtype:
            raise ValueError(f"mix: every input must have q's dtype {q.dtype}; {name} has {x.dtype}")
        if x.device != q.device:
            raise ValueError(f"mix: every input must be on q's device {q.device}; {name} is on {x.device}")


class LogAbs(torch.autograd.Function):
    """log|a| of signed gates, floored at log(MIN_GATE), with the gradient d/da = 1 / a' where
    a' is a with |a| floored at MIN_GATE (sign of 0 taken as +).

    The forms use log|a| only inside products of gates, so the upstream gradient of log|a_t| is
    (product containing a_t) x (...), proportional to a'_t; dividing by a'_t returns the
    derivative of the product with respect to a_t, which is finite (and of order one) at a_t = 0,
    as in the recurrent form. Plain autograd through abs().clamp_min() gives exactly 0 there.
    """

    @staticmethod
    def forward(ctx, a: torch.Tensor) -> torch.Tensor:
        floored = torch.where(a < 0, torch.clamp(a, max=-MIN_GATE), torch.clamp(a, min=MIN_GATE))
        ctx.save_for_backward(floored)
        return floored.abs().log()

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (floored,) = ctx.saved_tensors
        return grad / floored
