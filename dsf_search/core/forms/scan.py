"""The scan form: the linear recurrence of a gated (scalar or diagonal) transition as an
elementwise scan over time, with a hand-written backward pass.

Without a Householder part, A_t = diag(a_t) acts on every column of the state separately:

    S_t = a_t o S_{t-1} + (b_t k_t) v_t^T    (S_t [n, m] per head, a_t broadcast over columns),
    y_t = c S_t^T q_t / eta_t,

so the state update is elementwise: one multiply-add on [B, H, n, m] per step. For the
per-channel SSMs (Mamba/S6, S4D, RG-LRU, qLSTM: hundreds of heads of value width 1) this is
the whole recurrence, and the chunked form's small matrix products at d_v = 1 cost far more
than the arithmetic. Autograd through a Python loop would record every step; here the forward
loop keeps only the states (time-major [T, B, H, n, m]) and the backward pass runs the adjoint
recurrence in reverse,

    G_t = dL/dS_t (direct) + a_{t+1} o G_{t+1},   dL/dx_t = G_t,   dL/da_t = G_t o S_{t-1},

with x_t = (b_t k_t) v_t^T. Values and gradients equal the recurrent form's (tests/core).
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


class _Scan(torch.autograd.Function):
    """S_t = a_t o S_{t-1} + x_t over t (dim 0); a, x [T, ...] (a may be an expanded view), s0 [...]."""

    @staticmethod
    def forward(ctx, a: torch.Tensor, x: torch.Tensor, s0: torch.Tensor) -> torch.Tensor:
        states = torch.empty_like(x)
        s = s0
        for t in range(x.shape[0]):
            s = torch.addcmul(x[t], a[t], s, out=states[t])
        ctx.save_for_backward(a, states, s0)
        return states

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        a, states, s0 = ctx.saved_tensors
        T = grad.shape[0]
        want_a = ctx.needs_input_grad[0]
        grad_x = torch.empty_like(grad)
        grad_a = torch.empty(a.shape, dtype=grad.dtype, device=grad.device) if want_a else None
        g = grad[T - 1]
        for t in range(T - 1, -1, -1):
            if t < T - 1:
                g = torch.addcmul(grad[t], a[t + 1], g)
            grad_x[t] = g
            if want_a:
                torch.mul(g, states[t - 1] if t > 0 else s0, out=grad_a[t])
        return grad_a, grad_x, a[0] * g


def scan_linear(inp: MixInputs, initial_state: LinearState | None, return_state: bool) -> tuple[torch.Tensor, LinearState | None]:
    """Linear readout with a gated or identity transition. Returns y [B, H, T, d_v] and the
    final state (if asked)."""
    B, H, T, n, _ = inp.shape

    def time_major(t: torch.Tensor) -> torch.Tensor:  # [B, H, T, ...] -> [T, B, H, ...]
        return t.movedim(2, 0)

    V = time_major(augmented_values(inp))  # [T, B, H, m]
    key = time_major(inp.k if inp.b is None else inp.k * inp.b[..., None])  # [T, B, H, n]
    # contiguous in time-major order, so each step of the loop reads one dense slice
    x = (key[..., :, None] * V[..., None, :]).contiguous()
    if inp.gate is None:
        a = x.new_ones(()).expand(x.shape)
    else:
        g = inp.gate if inp.diagonal else inp.gate[..., None]  # [B, H, T, n or 1]
        a = time_major(g)[..., None].expand(x.shape)
    s0 = pack_state(inp, initial_state)
    if s0 is None:
        s0 = x.new_zeros(x.shape[1:])
    states = _Scan.apply(a, x, s0)  # [T, B, H, n, m]
    out = inp.scale * (time_major(inp.q)[..., None] * states).sum(-2).movedim(0, 2)  # [B, H, T, m]
    eta = None if inp.eta is None else inp.eta[..., None]
    return finish_linear(inp, out, eta), (unpack_state(inp, states[-1]) if return_state else None)
