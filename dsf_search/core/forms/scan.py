"""The scan form: the linear recurrence of a gated (scalar or diagonal) transition as an
elementwise scan over time, fused with its injection and readout, with a hand-written backward.

Without a Householder part, A_t = diag(a_t) acts on every column of the state separately:

    S_t = a_t o S_{t-1} + k_t w_t^T    (S_t [n, m] per head, a_t broadcast over columns,
                                        w_t = b_t v_t, k_t [n], w_t [m]),
    y_t = c S_t^T q_t / eta_t,

so each step is one multiply-add on [B, H, n, m]. For the per-channel SSMs (Mamba/S6, S4D,
RG-LRU, qLSTM: hundreds of heads of value width 1) this is the whole recurrence, and the
chunked form's small matrix products at d_v = 1 cost far more than the arithmetic.

Everything per step (the gate a_t = exp(log a_t), the outer product k_t w_t^T, the update, the
readout q_t^T S_t) runs on one [B, H, n, m] slice inside the loop, so no [B, T, H, n, m]
tensor is built but the states the backward pass needs (none when no gradient is wanted:
scoring keeps only the running state). The backward pass runs the adjoint recurrence in
reverse, one slice at a time,

    G_t = c q_t dy_t^T + a_{t+1} o G_{t+1}          (G_t = dL/dS_t),
    dL/dq_t = c S_t dy_t,  dL/dk_t = G_t w_t,  dL/dw_t = G_t^T k_t,
    dL/da_t = sum_cols(G_t o S_{t-1})  (times a_t for dL/dlog a_t; summed over n for scalar gates),
    dL/dS_0 = a_1 o G_1,

writing each gradient into a tensor laid out like its input. Values and gradients equal the
recurrent form's (tests/core/test_scan.py).
"""

from __future__ import annotations

import torch

from dsf_search.core.forms.inputs import MixInputs
from dsf_search.core.forms.readout import LinearState, augmented_values, finish_linear, pack_state, unpack_state


def scan_unsupported(inp: MixInputs) -> str | None:
    """Why the scan form cannot run these inputs, or None."""
    if inp.readout != "linear":
        return f"readout {inp.readout!r} (it needs the linear readout)"
    if inp.householder or inp.dplr:
        return f"transition {inp.transition!r} (no Householder or low-rank part: the update must be elementwise)"
    if inp.theta is not None:
        return "theta (rotations mix state pairs: the update must be elementwise)"
    return None


def _dot_last(x: torch.Tensor, y: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """out = sum over the last dim of x o y (broadcast); a plain product when that dim is 1."""
    if x.shape[-1] == 1 and y.shape[-1] == 1:
        return torch.mul(x[..., 0], y[..., 0], out=out)
    return torch.sum(x * y, dim=-1, out=out)


class _Scan(torch.autograd.Function):
    """Time-major (dim 0) inputs: gate [T, B, H, n or 1] (a_t, or log a_t when `log_space`;
    None for the identity), q, k [T, B, H, n], w [T, B, H, m], s0 [B, H, n, m].
    Returns y [T, B, H, m] (y_t = c q_t^T S_t) and the final state [B, H, n, m]."""

    @staticmethod
    def forward(ctx, gate, log_space: bool, q, k, w, s0, scale: float):
        T = q.shape[0]
        keep = any(ctx.needs_input_grad)
        states = s0.new_empty(T, *s0.shape) if keep else None
        # the gate values exp(log a_t) are kept for the backward pass (one write instead of a
        # second exp per step there)
        values = torch.empty_like(gate) if keep and log_space else None
        y = q.new_empty(w.shape)
        # per-step views made once (indexing inside the loop costs more than the small ops)
        q_t, k_t, w_t, y_t = q[..., None].unbind(0), k[..., None].unbind(0), w[..., None, :].unbind(0), y.unbind(0)
        slots = states.unbind(0) if keep else (None,) * T
        gates = () if gate is None else gate.unbind(0)
        kept = values.unbind(0) if values is not None else (None,) * T
        s = s0
        for t in range(T):
            # S_t = k_t w_t^T + a_t o S_{t-1}, built in place in its slot (or a fresh slice)
            x = torch.mul(k_t[t], w_t[t], out=slots[t])
            if gate is None:
                s = x.add_(s)
            else:
                a = torch.exp(gates[t], out=kept[t]) if log_space else gates[t]
                s = x.addcmul_(a[..., None], s)
            torch.sum(q_t[t] * s, dim=-2, out=y_t[t])
        y.mul_(scale)
        ctx.log_space, ctx.scale = log_space, scale
        if keep:
            ctx.save_for_backward(gate if values is None else values, q, k, w, s0, states)
        # the final state leaves as its own tensor (not a view of the saved states or of s0)
        return y, s.clone() if keep or s is s0 else s

    @staticmethod
    def backward(ctx, dy, ds_final):
        values, q, k, w, s0, states = ctx.saved_tensors  # values: the gate values a_t (or None)
        want_gate, _, want_q, want_k, want_w, want_s0, _ = ctx.needs_input_grad
        T = q.shape[0]
        dy = dy * ctx.scale
        grad_gate = torch.empty_like(values) if want_gate else None
        grad_q = torch.empty_like(q) if want_q else None
        grad_k = torch.empty_like(k) if want_k else None
        grad_w = torch.empty_like(w) if want_w else None
        # G_{T+1} carries the gradient of the returned final state; a_{T+1} = 1 for it
        G = ds_final
        a_next = None
        q_t, k_t, w_t, dy_t = q[..., None].unbind(0), k[..., None].unbind(0), w[..., None, :].unbind(0), dy[..., None, :].unbind(0)
        S = (s0, *states.unbind(0))  # S[t + 1] is S_t
        a_t = (None,) * T if values is None else values[..., None].unbind(0)
        g_q, g_k, g_w, g_a = ((None,) * T if g is None else g.unbind(0) for g in (grad_q, grad_k, grad_w, grad_gate))
        for t in range(T - 1, -1, -1):
            direct = q_t[t] * dy_t[t]
            G = direct.add_(G) if a_next is None else direct.addcmul_(a_next, G)
            if want_q:
                _dot_last(S[t + 1], dy_t[t], g_q[t])
            if want_k:
                _dot_last(G, w_t[t], g_k[t])
            if want_w:
                torch.sum(G * k_t[t], dim=-2, out=g_w[t])
            if values is None:
                continue
            if want_gate:
                ga = _dot_last(G, S[t], torch.empty(G.shape[:-1], dtype=G.dtype, device=G.device))
                if values.shape[-1] == 1:
                    ga = ga.sum(dim=-1, keepdim=True)
                torch.mul(ga, a_t[t][..., 0], out=g_a[t]) if ctx.log_space else g_a[t].copy_(ga)
            a_next = a_t[t]
        grad_s0 = None
        if want_s0:
            grad_s0 = G if a_next is None else a_next * G
        return grad_gate, None, grad_q, grad_k, grad_w, grad_s0, None


def scan_linear(inp: MixInputs, initial_state: LinearState | None, return_state: bool) -> tuple[torch.Tensor, LinearState | None]:
    """Linear readout with a gated or identity transition. Returns y [B, H, T, d_v] and the
    final state (if asked)."""
    B, H, T, n, _ = inp.shape

    def time_major(t: torch.Tensor) -> torch.Tensor:  # [B, H, T, ...] -> [T, B, H, ...]
        return t.movedim(2, 0)

    V = augmented_values(inp)
    w = V if inp.b is None else V * inp.b[..., None]  # [B, H, T, m]: b_t folded into the values
    # nonnegative gates are scanned from their exact logs; signed ones from their values
    log_space = inp.log_a is not None
    gate = inp.log_a if log_space else inp.a
    if gate is not None:
        gate = gate if inp.diagonal else gate[..., None]  # [B, H, T, n or 1]
        gate = time_major(gate)
    s0 = pack_state(inp, initial_state)
    if s0 is None:
        s0 = inp.q.new_zeros(B, H, n, w.shape[-1])
    y, final = _Scan.apply(gate, log_space, time_major(inp.q), time_major(inp.k), time_major(w), s0, inp.scale)
    eta = None if inp.eta is None else inp.eta[..., None]
    return finish_linear(inp, y.movedim(0, 2), eta), (unpack_state(inp, final) if return_state else None)
