"""The recurrent form: the definition of the mixing op, one time step after another.

Linear readout (finite state, per head S in R^{n x d_v}):
    S_t = A_t S_{t-1} + b_t k_t v_t^T,    y_t = c S_t^T q_t / eta_t
Exp readout (no finite state: every impulse response x^{(j)} is kept and evolved):
    x^{(j)}_t = A_t x^{(j)}_{t-1} (j < t),  x^{(t)}_t = b_t k_t,
    y_t = sum_{j<=t} exp(c q_t^T x^{(j)}_t) v_j / eta_t
with A_t = (I - beta_t k_t k_t^T) diag(a_t) R(theta_t) (each part present only for its
transitions; R rotates consecutive state pairs, see rotation.py), or A_t = diag(a_t) - u_t w_t^T
for transition 'dplr'.
Decay outside the readout (scalar gates): the cached keys are not evolved; instead each keeps
its log decay log prod_{t=j+1..i} a_t, added to its score: alpha_ij = exp(s_ij) G_ij / eta_i.
For a linear readout the two placements are the same recurrence.
"""

from __future__ import annotations

import torch

from dsf_search.core.forms.inputs import MixInputs
from dsf_search.core.forms.rotation import rotate
from dsf_search.core.forms.readout import (
    LinearState,
    augmented_values,
    exp_log_eta,
    finish_linear,
    pack_state,
    unpack_state,
)

ExpState = tuple[torch.Tensor, torch.Tensor]


class Steps:
    """The per-step slices of the inputs, taken once: indexing x[:, :, t] inside the time loop
    would make the backward pass O(T^2) (each index scatters into a full-size gradient)."""

    def __init__(self, inp: MixInputs):
        def unbind(x: torch.Tensor | None) -> list | None:
            return None if x is None else x.unbind(2)

        self.q, self.k, self.v = unbind(inp.q), unbind(inp.k), unbind(inp.v)
        self.gate, self.beta, self.b, self.eta = unbind(inp.gate), unbind(inp.beta), unbind(inp.b), unbind(inp.eta)
        self.u, self.w = unbind(inp.u), unbind(inp.w)
        self.log_gate = unbind(inp.log_gate)
        self.cos = self.sin = None
        if inp.theta is not None:
            self.cos, self.sin = unbind(inp.theta.cos()[..., None]), unbind(inp.theta.sin()[..., None])


def apply_transition(inp: MixInputs, steps: Steps, t: int, X: torch.Tensor) -> torch.Tensor:
    """A_t X for X [B, H, n, m] (columns are state vectors): rotation, gate, then Householder;
    for 'dplr' a_t o X - u_t (w_t^T X)."""
    if inp.dplr:
        low_rank = steps.u[t][..., :, None] * torch.einsum("bhn,bhnm->bhm", steps.w[t], X)[..., None, :]
        return steps.gate[t][..., :, None] * X - low_rank
    if steps.cos is not None:
        X = rotate(X, steps.cos[t], steps.sin[t], dim=-2)
    # Outside the readout the gates multiply the exp scores instead (`recurrent_exp`).
    if steps.gate is not None and not (inp.outside and inp.readout == "exp"):
        g = steps.gate[t]
        X = X * (g[..., :, None] if inp.diagonal else g[..., None, None])
    if inp.householder:
        k = steps.k[t]
        proj = torch.einsum("bhn,bhnm->bhm", k, X)
        X = X - steps.beta[t][..., None, None] * k[..., :, None] * proj[..., None, :]
    return X


def _injected_key(steps: Steps, t: int) -> torch.Tensor:
    k = steps.k[t]
    return k if steps.b is None else k * steps.b[t][..., None]


def recurrent_linear(
    inp: MixInputs, initial_state: LinearState | None, return_state: bool
) -> tuple[torch.Tensor, LinearState | None]:
    """Linear readout. Returns y [B, H, T, d_v] and the final state (if asked)."""
    B, H, T, n, _ = inp.shape
    V_aug = augmented_values(inp)
    V = V_aug.unbind(2)
    steps = Steps(inp)
    S = pack_state(inp, initial_state)
    if S is None:
        S = V_aug.new_zeros(B, H, n, V_aug.shape[-1])
    outs = []
    for t in range(T):
        S = apply_transition(inp, steps, t, S) + _injected_key(steps, t)[..., :, None] * V[t][..., None, :]
        outs.append(inp.scale * torch.einsum("bhn,bhnd->bhd", steps.q[t], S))
    out = torch.stack(outs, dim=2)
    eta = None if inp.eta is None else inp.eta[..., None]
    return finish_linear(inp, out, eta), (unpack_state(inp, S) if return_state else None)


def recurrent_exp(
    inp: MixInputs, initial_state: ExpState | None, return_state: bool
) -> tuple[torch.Tensor, ExpState | None]:
    """Exp readout over an evolving cache of impulse responses.

    The state is the cache (keys [B, H, t, n], values [B, H, t, d_v]): keys are the evolved
    x^{(j)}, already multiplied by b_j. Returns y [B, H, T, d_v] and the final cache (if asked).
    With decay outside the readout the state is the triple (keys, values, log decay [B, H, t]).
    """
    B, H, T, n, d_v = inp.shape
    log_decay = inp.q.new_zeros(B, H, 0) if inp.outside else None
    if initial_state is None:
        keys = inp.q.new_zeros(B, H, n, 0)
        values = inp.v.new_zeros(B, H, 0, d_v)
    else:
        if inp.outside:
            if not (isinstance(initial_state, (tuple, list)) and len(initial_state) == 3):
                raise ValueError(
                    "mix: with decay_placement 'outside' the exp-readout state is the triple "
                    "(keys [B,H,t,n], values [B,H,t,d_v], log decay [B,H,t])"
                )
            k0, v0, log_decay = initial_state
            if tuple(log_decay.shape) != tuple(k0.shape[:3]):
                raise ValueError(f"mix: log decay must have shape {list(k0.shape[:3])}, got {list(log_decay.shape)}")
        else:
            k0, v0 = initial_state
        if k0.shape[:2] != (B, H) or k0.shape[-1] != n or v0.shape[:3] != k0.shape[:3] or v0.shape[-1] != d_v:
            raise ValueError(
                f"mix: exp-readout state must be (keys [B,H,t,n], values [B,H,t,d_v]) with B,H,n,d_v = "
                f"{B},{H},{n},{d_v}; got {list(k0.shape)} and {list(v0.shape)}"
            )
        keys, values = k0.transpose(-1, -2), v0
    steps = Steps(inp)
    ys = []
    for t in range(T):
        keys = torch.cat([apply_transition(inp, steps, t, keys), _injected_key(steps, t)[..., None]], dim=-1)
        values = torch.cat([values, steps.v[t][:, :, None]], dim=2)
        s = inp.scale * torch.einsum("bhn,bhnj->bhj", steps.q[t], keys)
        if log_decay is not None:
            log_decay = torch.cat([log_decay + steps.log_gate[t][..., None], log_decay.new_zeros(B, H, 1)], dim=-1)
            s = s + log_decay
        m = s.max(dim=-1, keepdim=True).values.detach()
        e = (s - m).exp()
        log_sum_e = e.sum(dim=-1, keepdim=True).log()
        eta = None if steps.eta is None else steps.eta[t][..., None]
        log_eta = exp_log_eta(inp, m, log_sum_e, eta)
        ys.append(torch.einsum("bhj,bhjd->bhd", e, values) * (m - log_eta).exp())
    y = torch.stack(ys, dim=2)
    if not return_state:
        return y, None
    cache = (keys.transpose(-1, -2), values)
    return y, (cache + (log_decay,) if log_decay is not None else cache)
