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
readout q_t^T S_t) runs on one [B, n, H, m] slice inside the loop (heads innermost, see
`_Scan`), so no [B, T, H, n, m] tensor is built but the states the backward pass needs (none
when no gradient is wanted: scoring keeps only the running state). Mamba's inputs arrive
compact and stay so: one q_t, k_t [n] shared by all heads, and the factored gate
log a_t[h, i] = Delta_t[h] r[h, i] (`mix`'s log_a_rate), multiplied out one slice at a time.
The backward pass runs the adjoint recurrence in reverse, one slice at a time,

    G_t = c q_t dy_t^T + a_{t+1} o G_{t+1}          (G_t = dL/dS_t),
    dL/dq_t = c S_t dy_t,  dL/dk_t = G_t w_t,  dL/dw_t = G_t^T k_t,
    dL/da_t = sum_cols(G_t o S_{t-1})  (times a_t for dL/dlog a_t; summed over n for scalar gates),
    dL/dS_0 = a_1 o G_1,

summing each over what its input shares (heads for a shared q/k; n for the factor Delta_t,
dL/dDelta_t[h] = sum_i dL/dlog a_t[h, i] r[h, i]; the batch and time for the rate,
dL/dr = sum_{b,t} dL/dlog a_t Delta_t). Values and gradients equal the recurrent form's
(tests/core/test_scan.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable

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


def _mul_sum(x_shape: torch.Size, y_shape: torch.Size, out_shape: torch.Size) -> Callable[..., torch.Tensor]:
    """f(x, y, out): out = x o y summed over every dim where `out` has size 1 and the product
    does not (the gradient of a broadcast operand; a plain product when there is none). Built
    once per scan: the shapes are those of every step."""
    shape = torch.broadcast_shapes(x_shape, y_shape)
    dims = [d for d, (o, p) in enumerate(zip(out_shape, shape)) if o == 1 and p != 1]
    if not dims:
        return lambda x, y, out: torch.mul(x, y, out=out)
    return lambda x, y, out: torch.sum(x * y, dim=dims, keepdim=True, out=out)


LOG2E = 1.0 / math.log(2.0)


class _Scan(torch.autograd.Function):
    """The scan on per-step layouts with the heads innermost: every per-step op then runs over
    contiguous [H, m] rows (with n innermost, as in [B, H, n, m], the state size n = 16 of a
    per-channel SSM would make each op a loop of 16-element rows).

    Time-major (dim 0) inputs: gate [T, B, n or 1, H, 1] (a_t, or log a_t when `log_space`;
    None for the identity), or with `rate` [n, H, 1] the factors [T, B, 1, H, 1] of the
    factored gate log a_t = factor_t o rate; q, k [T, B, n, H, 1] with size 1 where shared (by
    every step, the batch or all heads), w [T, B, 1, H, m], s0 [B, n, H, m]. Returns
    y [T, B, H, m] (y_t = c q_t^T S_t) and the final state [B, n, H, m]."""

    @staticmethod
    def forward(ctx, gate, log_space: bool, rate, q, k, w, s0, scale: float):
        T = w.shape[0]
        keep = any(ctx.needs_input_grad)
        states = s0.new_empty(T, *s0.shape) if keep else None
        # the gate values exp(log a_t) are kept for the backward pass (one write instead of a
        # second exp per step there)
        if keep and rate is not None:
            values = s0.new_empty(T, *s0.shape[:-1], 1)
        else:
            values = torch.empty_like(gate) if keep and log_space else None
        y = w.new_empty(T, w.shape[1], *w.shape[3:])
        q_t, k_t, w_t, y_t = _per_step(q, T), _per_step(k, T), w.unbind(0), y.unbind(0)
        slots = states.unbind(0) if keep else (None,) * T
        gates = () if gate is None else gate.unbind(0)
        kept = values.unbind(0) if values is not None else (None,) * T
        # exp(x) as 2^(x log2 e): exp2 is about 3x faster than exp on CPU (bench/bench_scan.py)
        rate2 = None if rate is None else rate * LOG2E
        s = s0
        for t in range(T):
            # S_t = k_t w_t^T + a_t o S_{t-1}, built in place in its slot (or a fresh slice)
            x = torch.mul(k_t[t], w_t[t], out=slots[t])
            if gate is None:
                s = x.add_(s)
            else:
                if rate is not None:  # a_t = exp(factor_t rate), one [B, n, H] slice at a time
                    a = torch.mul(gates[t], rate2, out=kept[t]).exp2_()
                elif log_space:
                    a = torch.mul(gates[t], LOG2E, out=kept[t]).exp2_()
                else:
                    a = gates[t]
                s = x.addcmul_(a, s)
            torch.sum(q_t[t] * s, dim=1, out=y_t[t])
        y.mul_(scale)
        ctx.log_space, ctx.scale = log_space, scale
        if keep:
            ctx.save_for_backward(gate if values is None else values, gate if rate is not None else None, rate,
                                  q, k, w, s0, states)
        # the final state leaves as its own tensor (not a view of the saved states or of s0)
        return y, s.clone() if keep or s is s0 else s

    @staticmethod
    def backward(ctx, dy, ds_final):
        # values: the gate values a_t (or None); factors, rate: the factored gate (or None)
        values, factors, rate, q, k, w, s0, states = ctx.saved_tensors
        want_gate, _, want_rate, want_q, want_k, want_w, want_s0, _ = ctx.needs_input_grad
        T = w.shape[0]
        dy = (dy * ctx.scale)[:, :, None]  # [T, B, 1, H, m]
        # every gradient time-major and contiguous: each step writes one contiguous slice
        grad_q, g_q, total_q = _grad_slots(q, T) if want_q else (None, None, None)
        grad_k, g_k, total_k = _grad_slots(k, T) if want_k else (None, None, None)
        grad_w = w.new_empty(w.shape) if want_w else None
        grad_gate = None
        if values is not None and (want_gate or want_rate):
            grad_gate = values.new_empty(factors.shape if rate is not None else values.shape)
        # sum over the batch of dL/dlog a_t o factor_t over the steps: the gradient of the rate
        rate_acc = values.new_zeros(values.shape[1:]) if rate is not None and want_rate else None
        # G_{T+1} carries the gradient of the returned final state; a_{T+1} = 1 for it
        G = ds_final
        a_next = None
        q_t, k_t, w_t, dy_t = _per_step(q, T), _per_step(k, T), w.unbind(0), dy.unbind(0)
        S = (s0, *states.unbind(0))  # S[t + 1] is S_t
        a_t = (None,) * T if values is None else values.unbind(0)
        f_t = (None,) * T if factors is None else factors.unbind(0)
        g_w, g_a = ((None,) * T if g is None else g.unbind(0) for g in (grad_w, grad_gate))
        state = s0.shape
        grad_of_q = _mul_sum(state, dy.shape[1:], q.shape[1:])
        grad_of_k = _mul_sum(state, w.shape[1:], k.shape[1:])
        grad_of_w = _mul_sum(state, k.shape[1:], w.shape[1:])
        if grad_gate is not None:
            grad_of_a = _mul_sum(state, state, values.shape[1:])
            grad_of_factor = _mul_sum(values.shape[1:], rate.shape, factors.shape[1:]) if rate is not None else None
            ga_buffer = values.new_empty(values.shape[1:])
        # G_t is built in one of two buffers while G_{t+1} is read from the other
        buffers = (s0.new_empty(state), s0.new_empty(state))
        for t in range(T - 1, -1, -1):
            direct = torch.mul(q_t[t], dy_t[t], out=buffers[t % 2])
            G = direct.add_(G) if a_next is None else direct.addcmul_(a_next, G)
            if want_q:
                grad_of_q(S[t + 1], dy_t[t], g_q[t])
                if total_q is not None:
                    total_q.add_(g_q[t])
            if want_k:
                grad_of_k(G, w_t[t], g_k[t])
                if total_k is not None:
                    total_k.add_(g_k[t])
            if want_w:
                grad_of_w(G, k_t[t], g_w[t])
            if grad_gate is not None:
                # dL/da_t = sum over the value columns (and n, for a scalar gate) of G_t o S_{t-1}
                ga = grad_of_a(G, S[t], ga_buffer)
                if rate is not None:  # dL/dlog a_t, then through log a_t = factor_t o rate
                    ga.mul_(a_t[t])
                    grad_of_factor(ga, rate, g_a[t])
                    if rate_acc is not None:
                        rate_acc.addcmul_(ga, f_t[t])
                elif ctx.log_space:
                    torch.mul(ga, a_t[t], out=g_a[t])
                else:
                    g_a[t].copy_(ga)
            a_next = a_t[t]
        grad_s0 = None
        if want_s0:
            grad_s0 = G.clone() if a_next is None else a_next * G
        grad_rate = rate_acc.sum(dim=0) if rate_acc is not None else None
        return grad_gate if want_gate else None, None, grad_rate, grad_q, grad_k, grad_w, grad_s0, None


def _per_step(x: torch.Tensor, T: int) -> tuple[torch.Tensor, ...]:
    """The T per-step slices of a time-major x [T or 1, ...] (1: the same for every step)."""
    return x.unbind(0) if x.shape[0] == T else (x[0],) * T


def _grad_slots(x: torch.Tensor, T: int) -> tuple[torch.Tensor, tuple[torch.Tensor, ...], torch.Tensor | None]:
    """The gradient of a time-major input x [T or 1, ...], the slices its steps write, and for
    an x shared by every step the total that each step's slice is added into."""
    if x.shape[0] == T:
        grad = x.new_empty(x.shape)
        return grad, grad.unbind(0), None
    grad = x.new_zeros(x.shape)
    return grad, (x.new_empty(x.shape[1:]),) * T, grad[0]


def _steps(x: torch.Tensor, *dims: int, broadcast: bool = False) -> torch.Tensor:
    """x permuted to a per-step layout in contiguous memory. A broadcast view (zero strides,
    e.g. a static query expanded over the batch and the steps) is copied in its shared part
    only: that part keeps size 1 where the scan broadcasts it itself (`broadcast`), else it is
    expanded again, so what is shared is never copied T B times."""
    view = x.permute(*dims)
    shared = [d for d, (size, stride) in enumerate(zip(view.shape, view.stride())) if stride == 0 and size > 1]
    if not shared:
        return view.contiguous()
    base = view[tuple(slice(0, 1) if d in shared else slice(None) for d in range(view.dim()))].contiguous()
    return base if broadcast else base.expand(view.shape)


def scan_linear(inp: MixInputs, initial_state: LinearState | None, return_state: bool) -> tuple[torch.Tensor, LinearState | None]:
    """Linear readout with a gated or identity transition. Returns y [B, H, T, d_v] and the
    final state (if asked)."""
    B, H, T, n, _ = inp.shape
    V = augmented_values(inp)
    w = V if inp.b is None else V * inp.b[..., None]  # [B, H, T, m]: b_t folded into the values
    # nonnegative gates are scanned from their exact logs; signed ones from their values
    log_space = inp.log_a is not None
    gate = inp.log_a if log_space else inp.a
    rate = None if inp.log_a_rate is None else inp.log_a_rate.t()[..., None].contiguous()  # [n, H, 1]
    if gate is not None:  # [B, H, T, n] -> [T, B, n, H, 1]; [B, H, T] -> [T, B, 1, H, 1]
        gate = _steps(gate, 2, 0, 3, 1)[..., None] if gate.dim() == 4 else _steps(gate, 2, 0, 1)[:, :, None, :, None]
    q, k = (_steps(x, 2, 0, 3, 1, broadcast=True)[..., None] for x in (inp.q, inp.k))  # [T, B, n, H, 1] or size 1
    s0 = pack_state(inp, initial_state)
    m = w.shape[-1]
    s0 = inp.q.new_zeros(B, n, H, m) if s0 is None else s0.permute(0, 2, 1, 3).contiguous()
    y, final = _Scan.apply(gate, log_space, rate, q, k, _steps(w, 2, 0, 1, 3)[:, :, None], s0, inp.scale)
    eta = None if inp.eta is None else inp.eta[..., None]
    final = final.permute(0, 2, 1, 3)  # [B, H, n, m]
    return finish_linear(inp, y.permute(1, 2, 0, 3), eta), (unpack_state(inp, final) if return_state else None)
