"""The quadratic form: materialize the scores s_ij = c q_i^T A_i ... A_{j+1} b_j k_j, then mix.

Gate products come from segment sums of log|a_t| (G_ij = prod_{t=j+1..i} a_t, one value per
pair for scalar gates, one per pair and channel for diagonal gates) with the sign from the
parity of negative gates, so no ratio of cumulative products is ever formed.

Householder factors are handled with the delta-rule identity: writing
S_i = sum_{j<=i} (G_ij o k_j) u_j^T, the pseudo-values solve the unit lower-triangular system
    u_i + beta_i sum_{j<i} (k_i^T (G_ij o k_j)) u_j = b_i v_i,   i.e.  Tm U = diag(b) V,
so with C_ij = q_i^T (G_ij o k_j) the scores are s = c C Tm^{-1} diag(b). Memory is O(T^2) per
head, O(T^2 n) for diagonal gates.

Transition 'dplr' (A_t = diag(a_t) - u_t w_t^T): S_i = G_i0 o S0 + sum_{j<=i} G_ij o (b_j k_j v_j^T
+ u_j x_j^T) with the erased rows x_i = -S_{i-1}^T w_i, i.e. with F_ij = G_{i-1,j} (j < i):
    x_i + sum_{j<i} (w_i^T F_ij u_j) x_j = -sum_{j<i} (w_i^T F_ij k_j) b_j v_j - (F_i0 w_i)^T S0,
a unit lower-triangular system Tw X = -Wk diag(b) V - W0 S0, and the scores are
s = c (Qk - Qu Tw^{-1} Wk) diag(b) with Qk_ij = q_i^T G_ij k_j, Qu_ij = q_i^T G_ij u_j.

Rotations (theta) run in the rotating frame of rotation.py: q, k rotated by the cumulative
angles from the start of the call, the final state rotated back.

Decay outside the readout (scalar gates): s_ij = c q_i^T b_j k_j and the pair products
G_ij multiply phi(s_ij): as a factor for a linear readout, as log G_ij added to the scores
for an exp readout.
"""

from __future__ import annotations

import torch

from dataclasses import replace

from dsf_search.core.forms.inputs import MixInputs
from dsf_search.core.forms.readout import (
    LinearState,
    augmented_values,
    exp_log_eta,
    finish_linear,
    pack_state,
    unpack_state,
)
from dsf_search.core.forms.rotation import rotate, to_frame


def _segment_cumsum(x: torch.Tensor) -> torch.Tensor:
    """x [..., T] -> [..., T, T] with out[..., i, j] = sum_{t=j+1..i} x_t for j < i, else 0."""
    T = x.shape[-1]
    strict = torch.ones(T, T, dtype=torch.bool, device=x.device).tril(-1)
    rep = x.unsqueeze(-1).expand(*x.shape, T).masked_fill(~strict, 0.0)
    return rep.cumsum(dim=-2)


def _pair_log_products(inp: MixInputs) -> torch.Tensor:
    """log |G_ij| = sum_{t=j+1..i} log|a_t| for j <= i, -inf above the diagonal: [B, H, T, T]
    for scalar gates, [B, H, n, T, T] (channel before the pair) for diagonal gates."""
    T = inp.q.shape[2]
    lower = torch.ones(T, T, dtype=torch.bool, device=inp.q.device).tril()
    log_gate = inp.log_gate.transpose(-1, -2) if inp.diagonal else inp.log_gate
    return _segment_cumsum(log_gate).masked_fill(~lower, float("-inf"))


def _pair_products(inp: MixInputs) -> torch.Tensor:
    """G_ij = prod_{t=j+1..i} a_t for j <= i, 0 above the diagonal.

    Shape [B, H, T, T] for scalar gates, [B, H, T, T, n] for diagonal gates.
    """
    G = _pair_log_products(inp).exp()
    if inp.signed:
        neg = (inp.gate < 0).to(inp.log_gate.dtype)
        G = G * (1.0 - 2.0 * torch.remainder(_segment_cumsum(neg.transpose(-1, -2) if inp.diagonal else neg), 2.0))
    return G.permute(0, 1, 3, 4, 2) if inp.diagonal else G


def _from_start(inp: MixInputs) -> torch.Tensor:
    """G_i0 = prod_{t=1..i} a_t: [B, H, T] (scalar) or [B, H, T, n] (diagonal)."""
    G = inp.log_gate.cumsum(dim=2).exp()
    if inp.signed:
        G = G * (1.0 - 2.0 * torch.remainder((inp.gate < 0).to(G.dtype).cumsum(dim=2), 2.0))
    return G


def _shift_down(x: torch.Tensor, dim: int, fill: float) -> torch.Tensor:
    """out_i = x_{i-1} along `dim` (out_0 = fill): products up to the step before."""
    first = torch.full_like(x.narrow(dim, 0, 1), fill)
    return torch.cat([first, x.narrow(dim, 0, x.shape[dim] - 1)], dim=dim)


def framed(inp: MixInputs) -> tuple[MixInputs, tuple[torch.Tensor, torch.Tensor] | None]:
    """Inputs in the rotating frame (theta folded into q and k) and (cos, sin) of the total
    angle [B, H, n // 2, 1] that maps the frame's final state back; no-op without theta."""
    if inp.theta is None:
        return inp, None
    q, k, total = to_frame(inp.q, inp.k, inp.theta)
    return replace(inp, q=q, k=k, theta=None), (total.cos()[..., None], total.sin()[..., None])


def _pair_dot(x: torch.Tensor, k: torch.Tensor, G: torch.Tensor | None, diagonal: bool) -> torch.Tensor:
    """M_ij = x_i^T (G_ij o k_j), lower triangle (inclusive) only: [B, H, T, T]."""
    if G is None:
        return (x @ k.transpose(-1, -2)).tril()
    if diagonal:
        return torch.einsum("bhid,bhjd,bhijd->bhij", x, k, G)
    return (x @ k.transpose(-1, -2)) * G


def _through_start(x: torch.Tensor, S0: torch.Tensor, G0: torch.Tensor | None, diagonal: bool) -> torch.Tensor:
    """x_i^T (G_i0 o S0) for x [B,H,T,n], S0 [B,H,n,m]: [B, H, T, m]."""
    if G0 is None:
        return x @ S0
    if diagonal:
        return (x * G0) @ S0
    return (x @ S0) * G0[..., None]


class _Scores:
    """The pieces of the quadratic form for one call: C, the triangular system, the scores."""

    def __init__(self, inp: MixInputs):
        self.inp = inp
        self.G = None if inp.log_gate is None else _pair_products(inp)
        if inp.outside:
            self.C = _pair_dot(inp.q, inp.k, None, False)
            if inp.readout == "linear":
                self.C = self.C * self.G
            self.CT, self.Tm = self.C, None
            return
        self.C = _pair_dot(inp.q, inp.k, self.G, inp.diagonal)
        self.Tm = None
        if inp.dplr:
            # F_ij = G_{i-1,j}: the pair products up to the step before i (strictly lower).
            F_ = _shift_down(self.G, 2, 0.0)
            self.Qu = _pair_dot(inp.q, inp.u, self.G, True)
            self.Wk = _pair_dot(inp.w, inp.k, F_, True)
            self.Tm = torch.eye(inp.q.shape[2], dtype=F_.dtype, device=F_.device) + _pair_dot(inp.w, inp.u, F_, True)
            self.QuT = torch.linalg.solve_triangular(self.Tm, self.Qu, upper=False, left=False, unitriangular=True)
            self.CT = self.C - self.QuT @ self.Wk
        elif inp.householder:
            T = inp.q.shape[2]
            Kg = _pair_dot(inp.k, inp.k, self.G, inp.diagonal).tril(-1)
            eye = torch.eye(T, dtype=Kg.dtype, device=Kg.device)
            self.Tm = eye + inp.beta[..., None] * Kg
            # C Tm^{-1}: a right solve against the unit lower-triangular Tm.
            self.CT = torch.linalg.solve_triangular(self.Tm, self.C, upper=False, left=False, unitriangular=True)
        else:
            self.CT = self.C

    def scores(self) -> torch.Tensor:
        """s_ij = c q_i^T P_ij b_j k_j: [B, H, T, T], zero above the diagonal (outside the
        readout: c q_i^T b_j k_j, times G_ij for a linear readout)."""
        s = self.inp.scale * self.CT
        return s if self.inp.b is None else s * self.inp.b[:, :, None, :]


def quadratic_linear(
    inp: MixInputs, initial_state: LinearState | None, return_state: bool
) -> tuple[torch.Tensor, LinearState | None]:
    """Linear readout: y = (s @ V + initial-state terms) / eta. Returns y [B,H,T,d_v], state."""
    inp, back = framed(inp)
    parts = _Scores(inp)
    V = augmented_values(inp)
    out = parts.scores() @ V
    S0 = pack_state(inp, initial_state)
    G0 = None if inp.log_gate is None else _from_start(inp)
    W = None
    if S0 is not None:
        out = out + inp.scale * _through_start(inp.q, S0, G0, inp.diagonal)
        if inp.householder:
            W = _through_start(inp.k, S0, G0, inp.diagonal)
            out = out - inp.scale * parts.CT @ (inp.beta[..., None] * W)
        elif inp.dplr:
            # W0_i = w_i^T (G_{i-1,0} o S0): what the erase at step i reads from the entry state.
            W = _through_start(inp.w, S0, _shift_down(G0, 2, 1.0), True)
            out = out - inp.scale * parts.QuT @ W
    eta = None if inp.eta is None else inp.eta[..., None]
    y = finish_linear(inp, out, eta)
    if not return_state:
        return y, None
    S = _final_state(inp, parts, V, S0, G0, W)
    if back is not None:
        S = rotate(S, *back, dim=-2)
    return y, unpack_state(inp, S)


def _final_state(
    inp: MixInputs,
    parts: _Scores,
    V: torch.Tensor,
    S0: torch.Tensor | None,
    G0: torch.Tensor | None,
    W: torch.Tensor | None,
) -> torch.Tensor:
    """S_T = G_T0 o S0 + sum_j (G_Tj o k_j) u_j^T (u_j = b_j v_j without Householder factors;
    for 'dplr' plus sum_j (G_Tj o u_j) x_j^T with the erased rows x)."""
    U = V if inp.b is None else V * inp.b[..., None]
    last = None if parts.G is None else parts.G[:, :, -1]
    if last is not None and not inp.diagonal:
        last = last[..., None]
    S = None
    if inp.householder:
        if W is not None:
            U = U - inp.beta[..., None] * W
        U = torch.linalg.solve_triangular(parts.Tm, U, upper=False, unitriangular=True)
    elif inp.dplr:
        rhs = -(parts.Wk @ U) if W is None else -(parts.Wk @ U) - W
        X = torch.linalg.solve_triangular(parts.Tm, rhs, upper=False, unitriangular=True)
        S = (inp.u * last).transpose(-1, -2) @ X
    K = inp.k if last is None else inp.k * last
    S = K.transpose(-1, -2) @ U if S is None else S + K.transpose(-1, -2) @ U
    if S0 is not None:
        if G0 is None:
            S = S + S0
        else:
            g = G0[:, :, -1]
            S = S + (g[..., None] if inp.diagonal else g[..., None, None]) * S0
    return S


def quadratic_exp(inp: MixInputs) -> torch.Tensor:
    """Exp readout: y_i = sum_j exp(s_ij) v_j / eta_i with a row-max shift. Returns [B,H,T,d_v]."""
    s = _masked_scores(inp)
    m = s.max(dim=-1, keepdim=True).values.detach()
    e = (s - m).exp()
    eta = None if inp.eta is None else inp.eta[..., None]
    log_eta = exp_log_eta(inp, m, e.sum(dim=-1, keepdim=True).log(), eta)
    return (e @ inp.v) * (m - log_eta).exp()


def _masked_scores(inp: MixInputs) -> torch.Tensor:
    """Exp-readout scores [B, H, T, T], -inf above the diagonal (log decay added outside)."""
    inp, _ = framed(inp)
    T = inp.q.shape[2]
    upper = torch.ones(T, T, dtype=torch.bool, device=inp.q.device).triu(1)
    s = _Scores(inp).scores().masked_fill(upper, float("-inf"))
    return s + _pair_log_products(inp) if inp.outside else s


def coefficients(inp: MixInputs) -> torch.Tensor:
    """The mixing coefficients alpha_ij = phi(s_ij) / eta_i: [B, H, T, T], zero above the diagonal."""
    if inp.readout == "exp":
        s = _masked_scores(inp)
        m = s.max(dim=-1, keepdim=True).values
        e = (s - m).exp()
        eta = None if inp.eta is None else inp.eta[..., None]
        return e * (m - exp_log_eta(inp, m, e.sum(dim=-1, keepdim=True).log(), eta)).exp()
    s = _Scores(framed(inp)[0]).scores()
    eta = None if inp.eta is None else inp.eta[..., None]
    if inp.normalization in ("sum", "maxabs"):
        s = torch.cat([s, s.sum(dim=-1, keepdim=True)], dim=-1)
    return finish_linear(inp, s, eta)
