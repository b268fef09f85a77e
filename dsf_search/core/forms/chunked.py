"""The chunked form: chunkwise-parallel evaluation of the linear-readout recurrence.

Equation (per head): S_t = A_t S_{t-1} + b_t k_t v_t^T,  y_t = c S_t^T q_t / eta_t,
A_t = (I - beta_t k_t k_t^T) diag(a_t).

Time is cut into chunks of C steps. Inside one chunk (local steps 1..C, state S_0 on entry) let
G_tj = diag(a_{j+1} ... a_t) (G_tt = I) and Gamma_t = G_t0. Writing
    S_t = Gamma_t S_0 + sum_{j<=t} (G_tj k_j) u_j^T,
the pseudo-values u_t solve the unit lower-triangular (delta-rule) system
    u_t + beta_t sum_{j<t} (k_t^T G_tj k_j) u_j = b_t v_t - beta_t S_0^T (Gamma_t k_t),
so with Tm = I + diag(beta) strict_lower(K_ij = k_i^T G_ij k_j) the chunk's Householder factors
are one triangular solve away (the WY / UT representation): U = U0 - W S_0 with
    U0 = Tm^{-1} diag(b) V,   W = Tm^{-1} diag(beta) (Gamma o K).
With P_tj = q_t^T G_tj k_j (j <= t) a chunk's outputs and exit state are
    y = c [P U0 + (Gamma o Q - P W) S_0],    S_C = M S_0 + R,
    M = Gamma_C - K_end^T W,   R = K_end^T U0,   K_end,j = G_Cj k_j.
Without a Householder part Tm = I and W = 0, so M = Gamma_C is diagonal.

Every per-chunk quantity (P, K, Tm^{-1}, M, R, the output operator) is computed for all
chunks in batched ops; only S <- M S + R runs as a loop over chunks. Memory is
O(T (C + n log C)) per head, never O(T^2).

Gates stay in log space inside a chunk and every factor is a product of gates over a segment,
|factor| <= 1, so nothing can overflow whatever the gate values (no exp(+cumsum) ratios):
* cumulative sums restart at each chunk; Gamma_t and G_Ct are prefix / suffix sums of log|a|;
* scalar gates: P and K use the [C, C] segment sums of log|a|;
* diagonal gates: per-channel pair factors G_ij,d would be a [C, C, n] tensor per chunk.
  Instead the chunk is halved recursively (`_halving_levels`): a pair across the two halves
  of a block factors through the last step p of the left half, G_ij = G_ip G_pj, each factor
  a product over one half (<= 1). So each level is one small matmul per block, O(C^2 n) work
  and O(C n log C) memory per chunk in all, exact for any gates, with a hand-written
  backward (`_DiagonalPairs`);
* signed gates: the sign of G_tj per channel is sigma_t sigma_j, with sigma_t = (-1)^(number
  of negative gates in the chunk up to t); it is folded into q and k, magnitudes use log|a|.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from dsf_search.core.forms.inputs import MIN_GATE, MixInputs
from dsf_search.core.forms.quadratic import _segment_cumsum
from dsf_search.core.forms.readout import (
    LinearState,
    augmented_values,
    finish_linear,
    pack_state,
    unpack_state,
)
from dsf_search.core.forms.rotation import rotate, to_frame

# log|a| is floored here (the floor the signed path uses) so that an exactly-zero gate given
# as log_a = -inf cannot produce inf - inf or 0 * inf inside the chunk factors.
LOG_MIN_GATE = math.log(MIN_GATE)


def chunked_linear(
    inp: MixInputs, initial_state: LinearState | None, return_state: bool, chunk_size: int
) -> tuple[torch.Tensor, LinearState | None]:
    """Linear readout in chunks of `chunk_size` steps. Returns y [B, H, T, d_v] and the state.

    T need not be a multiple of the chunk size: the tail chunk is padded with steps that have
    k = 0, a = 1, beta = 0 (the identity transition, no injection), which leave S unchanged.
    """
    B, H, T, n, _ = inp.shape
    C = min(chunk_size, T)
    N = -(-T // C)
    pad = N * C - T

    def chunks(x: torch.Tensor) -> torch.Tensor:
        """[B, H, T, ...] -> contiguous [B, H, N, C, ...], zero-padded at the end."""
        if pad:
            x = F.pad(x, (0, 0) * (x.dim() - 3) + (0, pad))
        return x.contiguous().unflatten(2, (N, C))

    V = augmented_values(inp)
    if inp.b is not None:
        V = V * inp.b[..., None]
    U0 = chunks(V)
    q, k = chunks(inp.q), chunks(inp.k)
    rot = None
    if inp.theta is not None:
        # The rotating frame of each chunk (rotation.py), with angles summed from the chunk's
        # start so they stay small; the state is rotated back by the chunk's total angle.
        q, k, total = to_frame(q, k, chunks(inp.theta))
        rot = (total.cos()[..., None], total.sin()[..., None])
    if inp.dplr:
        direct, op, R, M, g = _dplr_terms(inp, q, k, U0, chunks)
    else:
        direct, op, R, M, g = _delta_terms(inp, q, k, U0, chunks)

    S0 = pack_state(inp, initial_state)
    if S0 is None:
        S0 = V.new_zeros(B, H, n, V.shape[-1])
    starts, S_end = _pass_states(S0, R, M, g, rot)

    out = (inp.scale * (direct + op @ starts)).flatten(2, 3)
    if pad:
        out = out[:, :, :T]
    eta = None if inp.eta is None else inp.eta[..., None]
    return finish_linear(inp, out, eta), (unpack_state(inp, S_end) if return_state else None)


def _delta_terms(inp: MixInputs, q: torch.Tensor, k: torch.Tensor, U0: torch.Tensor, chunks):
    """Per-chunk terms for gated (Householder) transitions: the output from inside the chunk
    [.., C, m], the operator on the entry state [.., C, n], R [.., n, m], M [.., n, n] or None,
    and g (see the module docstring)."""
    n = q.shape[-1]
    C = q.shape[-2]
    f = _chunk_products(inp, q, k, chunks)
    W = None
    if inp.householder:
        beta = chunks(inp.beta)[..., None]
        T_inv = _unit_lower_inverse(torch.eye(C, dtype=f.P.dtype, device=f.P.device) + beta * f.Kk)
        U0, W = T_inv @ U0, T_inv @ (beta * f.k_start)

    k_end_t = f.k_end.transpose(-1, -2)
    R = k_end_t @ U0
    M = None
    if W is not None:
        if f.g is None:
            through = torch.ones(n, dtype=W.dtype, device=W.device)
        else:
            through = f.g.expand(*f.g.shape[:-1], n)
        M = torch.diag_embed(through) - k_end_t @ W
    op = f.q_start if W is None else f.q_start - f.P @ W
    return f.P @ U0, op, R, M, f.g


def _dplr_terms(inp: MixInputs, q: torch.Tensor, k: torch.Tensor, BV: torch.Tensor, chunks):
    """Per-chunk terms (as `_delta_terms`) for A_t = diag(a_t) - u_t w_t^T.

    In a chunk with entry state S_0: S_t = Gamma_t S_0 + sum_{j<=t} G_tj (k_j bv_j^T + u_j x_j^T)
    with the erased rows x_t = -S_{t-1}^T w_t. With F_tj = G_{t-1,j} and w_start_t = Gamma_{t-1} w_t:
        (I + Wu) X = -Wk BV - w_start S_0,   Wu_tj = w_t^T F_tj u_j, Wk_tj = w_t^T F_tj k_j (j < t),
    so X = X0 - Wx S_0 (X0 = -Tw^{-1} Wk BV, Wx = Tw^{-1} w_start) and, with Pk, Pu the pairs of q
    with k and u, y = c [Pk BV + Pu X0 + (Gamma o Q - Pu Wx) S_0],
    S_C = (Gamma_C - U_end^T Wx) S_0 + K_end^T BV + U_end^T X0.
    F_tj is G_{s,j} at s = t - 1: the pairs of w_{s+1} (placed at step s) with k and u, one row down.
    All four pair sets go through one `_DiagonalPairs` call, sharing the gate factors.
    """
    C = q.shape[-2]
    u, w = chunks(inp.u), chunks(inp.w)
    w_next = F.pad(w[..., 1:, :], (0, 0, 0, 1))
    lg = chunks(inp.log_gate.clamp_min(LOG_MIN_GATE))
    sigma_end = None
    if inp.signed:
        neg = chunks((inp.gate < 0).to(lg.dtype))
        sigma = 1.0 - 2.0 * torch.remainder(neg.cumsum(dim=-2), 2.0)
        q, k, u, w_next = q * sigma, k * sigma, u * sigma, w_next * sigma
        sigma_end = sigma[..., -1:, :]
    Pk, Pu, Wk, Wu, q_start, w_start, k_end, u_end, g = _DiagonalPairs.apply(lg, inp.signed, 2, q, w_next, k, u)
    Wk, Wu = (F.pad(x[..., :-1, :], (0, 0, 1, 0)) for x in (Wk, Wu))
    w_start = torch.cat([w[..., :1, :], w_start[..., :-1, :]], dim=-2)
    if sigma_end is not None:
        k_end, u_end, g = k_end * sigma_end, u_end * sigma_end, g * sigma_end[..., 0, :]
    T_inv = _unit_lower_inverse(torch.eye(C, dtype=Wu.dtype, device=Wu.device) + Wu)
    # X0 and Wx share their left factors, so each product runs once on [-X0 | Wx] (split, not
    # sliced: the backward of a split is one concatenation)
    m = BV.shape[-1]
    XW = T_inv @ torch.cat([Wk @ BV, w_start], dim=-1)
    u_part, q_part = (x.split([m, x.shape[-1] - m], dim=-1) for x in (u_end.transpose(-1, -2) @ XW, Pu @ XW))
    R = k_end.transpose(-1, -2) @ BV - u_part[0]
    M = torch.diag_embed(g) - u_part[1]
    return Pk @ BV - q_part[0], q_start - q_part[1], R, M, g


@dataclass
class _Products:
    """The gate-dependent products of every chunk ([B, H, N] leading dims, signs included).

    P [.., C, C]: q_t^T G_tj k_j (j <= t).  Kk [.., C, C]: k_t^T G_tj k_j (j < t), Householder only.
    q_start, k_start [.., C, n]: Gamma_t q_t, Gamma_t k_t (k_start Householder only).
    k_end [.., C, n]: G_Cj k_j.  g [.., n] or [.., 1]: the diagonal of Gamma_C (None: identity).
    """

    P: torch.Tensor
    Kk: torch.Tensor | None
    q_start: torch.Tensor
    k_start: torch.Tensor | None
    k_end: torch.Tensor
    g: torch.Tensor | None


def _chunk_products(
    inp: MixInputs, q: torch.Tensor, k: torch.Tensor, chunks: Callable[[torch.Tensor], torch.Tensor]
) -> _Products:
    """Gate products inside each chunk for q, k [B, H, N, C, n] (see `_Products`)."""
    hh = inp.householder
    if inp.log_gate is None:
        Kk = (k @ k.transpose(-1, -2)).tril(-1) if hh else None
        return _Products((q @ k.transpose(-1, -2)).tril(), Kk, q, k if hh else None, k, None)

    lg = chunks(inp.log_gate.clamp_min(LOG_MIN_GATE))
    if not inp.diagonal:
        lg = lg[..., None]
    sigma_end = None
    if inp.signed:
        neg = chunks((inp.gate < 0).to(lg.dtype))
        if not inp.diagonal:
            neg = neg[..., None]
        sigma = 1.0 - 2.0 * torch.remainder(neg.cumsum(dim=-2), 2.0)
        q, k = q * sigma, k * sigma
        sigma_end = sigma[..., -1:, :]

    if inp.diagonal:
        if hh:
            P, Kk, q_start, k_start, k_end, g = _DiagonalPairs.apply(lg, inp.signed, 2, q, k, k)
            Kk = Kk.tril(-1)
        else:
            P, q_start, k_end, g = _DiagonalPairs.apply(lg, inp.signed, 1, q, k)
            Kk = k_start = None
    else:
        decay = _scalar_decay(lg[..., 0])
        gamma = lg.cumsum(dim=-2).exp()
        P = (q @ k.transpose(-1, -2)) * decay
        Kk = ((k @ k.transpose(-1, -2)) * decay).tril(-1) if hh else None
        q_start = q * gamma
        k_start = k * gamma if hh else None
        k_end = k * _exclusive_suffix(lg).exp()
        g = gamma[..., -1, :]
    if sigma_end is not None:
        k_end = k_end * sigma_end
        g = g * sigma_end[..., 0, :]
    return _Products(P, Kk, q_start, k_start, k_end, g)


# Up to this chunk size the scalar segment sums are one matmul with a [C * C, C] 0/1 matrix
# (2x faster fwd+bwd than masked cumsums at C = 64); beyond it that matrix grows too large.
SEGMENT_MATMUL_MAX_C = 128


def _scalar_decay(lg: torch.Tensor) -> torch.Tensor:
    """exp(sum_{j<t<=i} lg_t) for j <= i, 0 above the diagonal: lg [.., C] -> [.., C, C].

    The segment sums are sums over masks, never L_i - L_j, so both the value and the
    gradient (through the same 0/1 weights) keep their relative accuracy for tiny gates.
    """
    C = lg.shape[-1]
    idx = torch.arange(C, device=lg.device)
    i, j = idx[:, None], idx[None, :]
    if C <= SEGMENT_MATMUL_MAX_C:
        spans = ((j[..., None] < idx) & (idx <= i[..., None])).to(lg.dtype)
        seg = (lg @ spans.flatten(0, 1).T).unflatten(-1, (C, C))
    else:
        seg = _segment_cumsum(lg)
    return seg.masked_fill(j > i, float("-inf")).exp()


# Diagonal blocks up to this size are inverted by a batched triangular solve, larger ones by
# halving, which moves most of the work into matmuls: fwd+bwd of Tm^{-1} then two matmuls was
# about 1.5x faster on CPU than one batched solve against the [C, d_v + 1 + n] right-hand side.
INVERSE_BASE = 16


def _unit_lower_inverse(T: torch.Tensor) -> torch.Tensor:
    """Inverse of unit lower-triangular matrices T [.., s, s] (the UT transform of a chunk).

    [[A, 0], [B, D]]^{-1} = [[A^{-1}, 0], [-D^{-1} B A^{-1}, D^{-1}]], recursively.
    """
    s = T.shape[-1]
    if s <= INVERSE_BASE:
        eye = torch.eye(s, dtype=T.dtype, device=T.device).expand(T.shape)
        return torch.linalg.solve_triangular(T, eye, upper=False, unitriangular=True)
    h = s // 2
    A_inv = _unit_lower_inverse(T[..., :h, :h])
    D_inv = _unit_lower_inverse(T[..., h:, h:])
    lower = -(D_inv @ (T[..., h:, :h] @ A_inv))
    top = F.pad(A_inv, (0, s - h))
    return torch.cat([top, torch.cat([lower, D_inv], dim=-1)], dim=-2)


def _pass_states(
    S0: torch.Tensor,
    R: torch.Tensor,
    M: torch.Tensor | None,
    g: torch.Tensor | None,
    rot: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Entry state of every chunk [B, H, N, n, m] and the exit state of the last [B, H, n, m].

    S_{c+1} = Rot_c (M_c S_c + R_c) with M_c dense (M [B, H, N, n, n]), else diagonal (g
    [B, H, N, n] or [B, H, N, 1]), else the identity (both None); Rot_c the rotation of the
    chunk's total angle (rot: cos, sin [B, H, N, n // 2, 1]) or the identity.
    """
    # Unbind once: indexing chunk c inside the loop would make autograd scatter each chunk's
    # gradient into a zero tensor of the full [B, H, N, ...] shape, O(N^2) work in all.
    if M is not None:
        steps = M.unbind(dim=2)
    elif g is not None:
        steps = g[..., None].unbind(dim=2)
    else:
        steps = (None,) * R.shape[2]
    turns = zip(rot[0].unbind(dim=2), rot[1].unbind(dim=2)) if rot is not None else [None] * R.shape[2]
    starts = []
    S = S0
    for step, R_c, turn in zip(steps, R.unbind(dim=2), turns):
        starts.append(S)
        if step is None:
            S = S + R_c
        elif M is not None:
            S = torch.baddbmm(R_c.flatten(0, 1), step.flatten(0, 1), S.flatten(0, 1)).view_as(S)
        else:
            S = torch.addcmul(R_c, step, S)
        if turn is not None:
            S = rotate(S, *turn, dim=-2)
    return torch.stack(starts, dim=2), S


class _DiagonalPairs(torch.autograd.Function):
    """All products of per-channel gates inside the chunks for R row sets and K column sets
    sharing one gate sequence, with an analytic backward.

    Inputs: lg [.., C, n] = log|a|; precise (bool); R; then the row sets x_1..x_R and the column
    sets k_1..k_K, each [.., C, n] (signs folded in). Outputs, one flat tuple: the pair matrices
    P_rc [.., C, C], (P_rc)_ij = sum_d x_r,id k_c,jd G_ij,d for j <= i (0 above), row-major over
    (r, c); then x_r o Gamma (R of them, Gamma_t = G_t0); then k_c o G_C. (K of them); then
    g = |Gamma_C| [.., n]. The halving levels and the scaled halves of every set are built once
    and shared by all R x K pairs. Autograd through the halving levels would keep and replay
    every intermediate of every level; the backward reuses the level factors.

    Gate gradient: d/d lg_t of a product of gates over a segment is that product when the
    segment contains t. Summed per segment end (fast): every output depends on lg only through
    the in-chunk cumulative sums L_t, so dL_t = sum_r x_r o dx_r - sum_c k_c o dk_c + ... and
    dlg_s = sum_{t>=s} dL_t, one reverse cumulative sum; its error is eps times the gradient's
    scale. Summed per factor (precise): each product is added only to the steps it spans (a
    partial sum per halving level), so dlg_t ~ a_t * O(1) keeps its relative accuracy however
    small a_t is. Signed gates need that: the chain rule through log|a| divides dlg by a
    (`precise` is set for them).
    """

    @staticmethod
    def forward(ctx, lg, precise, n_rows, *sets):
        rows, cols = sets[:n_rows], sets[n_rows:]
        C = lg.shape[-2]
        extra = _power_of_two(C) - C
        gamma = lg.cumsum(dim=-2).exp()
        to_end = _exclusive_suffix(lg).exp()
        levels = _halving_levels(lg)
        # Pairs run on chunks padded to a power of two; the scaled halves are kept for backward.
        rows_p, cols_p = [_pad_steps(x, extra) for x in rows], [_pad_steps(k, extra) for k in cols]
        right = [_scaled_halves(x, levels, 1) for x in rows_p]
        left = [_scaled_halves(k, levels, 0) for k in cols_p]
        pairs = tuple(
            _pairs_forward(x, k, xr, kl)[..., :C, :C]
            for x, xr in zip(rows_p, right)
            for k, kl in zip(cols_p, left)
        )
        ends = tuple(k * to_end for k in cols)
        out = pairs + tuple(x * gamma for x in rows) + ends + (gamma[..., -1, :],)
        ctx.save_for_backward(gamma, to_end, *sets)
        ctx.levels, ctx.precise, ctx.n_rows = levels, precise, n_rows
        ctx.halves = (right, left)
        ctx.set_materialize_grads(False)
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, *grads):
        gamma, to_end, *sets = ctx.saved_tensors
        R, levels, precise = ctx.n_rows, ctx.levels, ctx.precise
        rows, cols = sets[:R], sets[R:]
        K = len(cols)
        d_pairs = [grads[r * K : (r + 1) * K] for r in range(R)]
        d_starts, d_ends, dg = grads[R * K : R * K + R], grads[R * K + R : R * K + R + K], grads[-1]
        right, left = ctx.halves
        C = gamma.shape[-2]
        extra = _power_of_two(C) - C
        rows_p, cols_p = [_pad_steps(x, extra) for x in rows], [_pad_steps(k, extra) for k in cols]
        dlg = _pad_steps(torch.zeros_like(gamma), extra) if precise else None
        d_rows, d_cols = _pairs_backward(rows_p, cols_p, right, left, levels, d_pairs, dlg)
        # `up_to` collects per-step terms of products over the steps s <= t (they reach dlg_s
        # summed over t >= s); a pair (i, j) spans j < s <= i: + at i, - at j.
        up_to = torch.zeros_like(gamma)
        if not precise:
            for x, dx in zip(rows, d_rows):
                up_to.addcmul_(x, dx)
            for k, dk in zip(cols, d_cols):
                up_to.addcmul_(k, dk, value=-1.0)
        for x, dx, d_start in zip(rows, d_rows, d_starts):
            if d_start is not None:
                start = d_start * gamma
                dx += start
                up_to.addcmul_(start, x)
        if dg is not None:
            up_to[..., -1, :] += dg * gamma[..., -1, :]
        # k_end_j = G_Cj k_j spans the steps s > j.
        after = torch.zeros_like(gamma)
        for k, dk, d_end in zip(cols, d_cols, d_ends):
            if d_end is not None:
                end = d_end * to_end
                dk += end
                after.addcmul_(end, k)
        if precise:
            dlg = dlg[..., :C, :] + _reverse_cumsum(up_to) + _exclusive_prefix(after)
        else:
            up_to -= after
            up_to[..., -1, :] += after.sum(dim=-2)
            dlg = _reverse_cumsum(up_to)
        return (dlg, None, None, *d_rows, *d_cols)


def _halving_levels(lg: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Decay factors of the recursive halving of a chunk, for per-channel gates lg [.., C, n].

    The chunk (padded to a power of two Cp with a = 1 steps) is split into halves, each half
    again, down to single steps. At the level with halves of s steps, a pair (i in a right
    half, j in the left half of the same block) factors through p, the last step of the left
    half:
        G_ij = G_ip G_pj,   G_ip = prod_{p<t<=i} |a_t|,   G_pj = prod_{j<t<=p} |a_t|,
    both products over one half only, so both factors are <= 1: nothing can overflow and
    there is no ratio of long cumulative products. Every pair j < i falls in exactly one
    level. The products of one level are those of the level below times one block total.
    Returns, per level from s = 1 up, the factors (G_ip for the right halves, G_pj for the
    left halves), each [.., Cp / 2s, s, n]. Runs without autograd (it updates in place).
    """
    C = lg.shape[-2]
    Cp = _power_of_two(C)
    # Inclusive prefix and exclusive suffix products inside blocks of s steps.
    prefix = _pad_steps(lg, Cp - C).exp()
    suffix = torch.ones_like(prefix)
    levels = []
    s = 1
    while s < Cp:
        pre = prefix.unflatten(-2, (Cp // (2 * s), 2, s))
        suf = suffix.unflatten(-2, (Cp // (2 * s), 2, s))
        levels.append((pre[..., 1, :, :].clone(), suf[..., 0, :, :].clone()))
        suf[..., 0, :, :] *= pre[..., 1, -1:, :]
        pre[..., 1, :, :] *= pre[..., 0, -1:, :]
        s *= 2
    return levels


def _scaled_halves(
    x: torch.Tensor, levels: list[tuple[torch.Tensor, torch.Tensor]], side: int
) -> list[torch.Tensor]:
    """Per halving level, x_R o G_ip (side 1) or x_L o G_pj (side 0): [.., Cp / 2s, s, n]."""
    halves = []
    for into_right, out_of_left in levels:
        factor = into_right if side == 1 else out_of_left
        nb, s = factor.shape[-3:-1]
        halves.append(_half(x, nb, s, side) * factor)
    return halves


def _pairs_forward(
    x: torch.Tensor, k: torch.Tensor, x_right: list[torch.Tensor], k_left: list[torch.Tensor]
) -> torch.Tensor:
    """P_ij = sum_d x_id k_jd G_ij,d for j <= i, 0 above: [.., Cp, Cp] for x, k [.., Cp, n].

    The diagonal is x_i . k_i; each halving level fills the blocks (right half rows, left
    half columns) with (x_R o G_ip) (k_L o G_pj)^T (`_scaled_halves`).
    """
    Cp = x.shape[-2]
    out = x.new_zeros(*x.shape[:-2], Cp, Cp)
    out.diagonal(dim1=-2, dim2=-1).copy_((x * k).sum(dim=-1))
    for xr, kl in zip(x_right, k_left):
        nb, s = xr.shape[-3:-1]
        _blocks(out, nb, s).copy_(_matmul(xr, kl.transpose(-1, -2)).movedim(-3, -1))
    return out


def _pairs_backward(
    rows: list[torch.Tensor],
    cols: list[torch.Tensor],
    right: list[list[torch.Tensor]],
    left: list[list[torch.Tensor]],
    levels: list[tuple[torch.Tensor, torch.Tensor]],
    d_pairs: list[tuple[torch.Tensor | None, ...]],
    dlg: torch.Tensor | None,
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Gradients of `_pairs_forward` for every row set x_r and column set k_c [.., Cp, n] (padded
    to Cp steps; `right`, `left` their scaled halves per level), given d_pairs[r][c] [.., C, C]
    (None: no gradient); returns them cut to C steps and adds the log-gate gradient, summed per
    factor, into dlg [.., Cp, n] unless dlg is None.

    At each level, G_ip spans the steps p < t <= i of the right half and G_pj the steps
    j < t <= p of the left half: a partial sum inside each half per factor.
    """
    Cp = rows[0].shape[-2]
    pairs = [(r, c, dP) for r, row in enumerate(d_pairs) for c, dP in enumerate(row) if dP is not None]
    C = pairs[0][2].shape[-1] if pairs else Cp
    dx = [torch.zeros_like(x) for x in rows]
    dk = [torch.zeros_like(k) for k in cols]
    padded = []
    for r, c, dP in pairs:
        dP = (F.pad(dP, (0, Cp - C, 0, Cp - C)) if Cp != C else dP).contiguous()
        diag = dP.diagonal(dim1=-2, dim2=-1)[..., None]
        dx[r].addcmul_(diag, cols[c])
        dk[c].addcmul_(diag, rows[r])
        padded.append((r, c, dP))
    for level, (into_right, out_of_left) in enumerate(levels):
        nb, s = into_right.shape[-3:-1]
        d_xr: list[torch.Tensor | None] = [None] * len(rows)
        d_kl: list[torch.Tensor | None] = [None] * len(cols)
        for r, c, dP in padded:
            d_block = _blocks(dP, nb, s).movedim(-1, -3).contiguous()
            a = _matmul(d_block, left[c][level])
            b = _matmul(d_block.transpose(-1, -2), right[r][level])
            d_xr[r] = a if d_xr[r] is None else d_xr[r].add_(a)
            d_kl[c] = b if d_kl[c] is None else d_kl[c].add_(b)
        spans_right = spans_left = None
        for r, d in enumerate(d_xr):
            if d is not None:
                _half(dx[r], nb, s, 1).addcmul_(d, into_right)
                if dlg is not None:
                    part = d.mul_(right[r][level])
                    spans_right = part if spans_right is None else spans_right.add_(part)
        for c, d in enumerate(d_kl):
            if d is not None:
                _half(dk[c], nb, s, 0).addcmul_(d, out_of_left)
                if dlg is not None and s > 1:
                    part = d.mul_(left[c][level])
                    spans_left = part if spans_left is None else spans_left.add_(part)
        if spans_right is not None:
            _half(dlg, nb, s, 1).add_(_reverse_cumsum(spans_right))
        if spans_left is not None:
            _half(dlg, nb, s, 0).add_(_exclusive_prefix(spans_left))
    return [d[..., :C, :] for d in dx], [d[..., :C, :] for d in dk]


def _matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """a @ b; the blocks of the lowest halving levels go elementwise (rank-1 updates for a
    contraction over 1 or 2 steps, a dot product for 1 x 1 blocks), where a batched matmul of
    such tiny matrices is several times slower on CPU."""
    if a.shape[-1] <= 2:
        out = a[..., :, :1] * b[..., :1, :]
        for m in range(1, a.shape[-1]):
            out.addcmul_(a[..., :, m : m + 1], b[..., m : m + 1, :])
        return out
    if a.shape[-2] == 1 and b.shape[-1] == 1:
        return (a * b.transpose(-1, -2)).sum(dim=-1, keepdim=True)
    return a @ b


def _half(x: torch.Tensor, nb: int, s: int, side: int) -> torch.Tensor:
    """View of the left (side 0) or right (side 1) halves of blocks of 2s steps: [.., nb, s, n]."""
    return x.unflatten(-2, (nb, 2, s))[..., side, :, :]


def _blocks(P: torch.Tensor, nb: int, s: int) -> torch.Tensor:
    """View of P [.., Cp, Cp] at the rows of right halves x the columns of the same block's
    left half: [.., s, s, nb], element [i, j, b] = P[b 2s + s + i, b 2s + j]."""
    grid = P.unflatten(-1, (nb, 2, s)).unflatten(-4, (nb, 2, s))
    return grid.diagonal(dim1=-6, dim2=-3)[..., 1, :, 0, :, :]


def _power_of_two(C: int) -> int:
    return 1 << (C - 1).bit_length()


def _pad_steps(x: torch.Tensor, extra: int) -> torch.Tensor:
    """Append `extra` zero steps along dim -2 (for log gates: a = 1)."""
    return F.pad(x, (0, 0, 0, extra)) if extra else x


def _exclusive_suffix(x: torch.Tensor) -> torch.Tensor:
    """out_j = sum_{t > j} x_t along dim -2."""
    return _partial_sums(x, "after")


def _exclusive_prefix(x: torch.Tensor) -> torch.Tensor:
    """out_j = sum_{t < j} x_t along dim -2."""
    return _partial_sums(x, "before")


def _reverse_cumsum(x: torch.Tensor) -> torch.Tensor:
    """out_j = sum_{t >= j} x_t along dim -2."""
    return _partial_sums(x, "from")


def _partial_sums(x: torch.Tensor, which: str) -> torch.Tensor:
    """Partial sums along dim -2 ('after': t > j, 'before': t < j, 'from': t >= j).

    Each is a product with a 0/1 matrix, never a difference of running sums, so terms outside
    the range are left out exactly and a tiny partial sum keeps its relative accuracy. The
    matmul is also several times faster on CPU than flip + cumsum + flip along this dimension.
    """
    s = x.shape[-2]
    ones = torch.ones(s, s, dtype=x.dtype, device=x.device)
    weights = {"after": ones.triu(1), "before": ones.tril(-1), "from": ones.triu()}[which]
    return torch.matmul(weights, x)
